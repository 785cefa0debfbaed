//! The site check: after the listener exists, wait (bounded) for the new web
//! servers to be healthy in the target group, then prove through the load
//! balancer that each of them serves the site this deploy asked for: its marker
//! (`/sitedeploy.json`, written by the boot script) says `installed` with the
//! current fingerprint. What AWS reports is watched meanwhile, so a failure
//! ends the wait as soon as it is certain ([`prove`]).
//! `resolve` sends the URL's host to another address (tests point it at a local
//! server; a learner behind a DNS that is slow to learn the new name can too).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::aws::{poll_until, Check, Ctx};
use crate::resources::distribution::Distribution;
use crate::resources::targetgroup::{self, TargetGroup};

/// What the boot script publishes next to the site.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Marker {
    /// Deployment name.
    pub deployment: String,
    /// The fingerprint of the user data that wrote it.
    pub fingerprint: String,
    /// The template, `<id>_<slug>`.
    pub template: String,
    /// The instance that wrote it (`unknown` when cloud-init did not say).
    pub instance: String,
    /// `installed`, or `fallback`.
    pub result: String,
    /// Why the fallback page is served.
    #[serde(default)]
    pub reason: String,
}

/// One answer to a request for the marker through the load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A marker.
    Marker(Marker),
    /// The web server answered without one: why (HTTP 404, Apache's test page...).
    NoMarker(String),
    /// No answer a web server gave: the load balancer could not be reached,
    /// or answered for itself (5xx).
    Nothing(Miss),
}

/// Why a request got no answer from a web server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The name has no address (yet: a new load balancer's DNS name takes a
    /// few minutes to be known everywhere).
    Dns,
    /// The address refused the connection: nothing listens on that port.
    Refused,
    /// No answer within the client's timeout: something drops the traffic.
    Timeout,
    /// The TLS handshake failed.
    Tls(String),
    /// The load balancer itself answered with this 5xx status.
    Status(u16),
    /// Anything else, as the HTTP client said it.
    Other(String),
}

impl Miss {
    /// What was tried and what failed, in one clause.
    pub fn what(&self, url: &str) -> String {
        let u = reqwest::Url::parse(url).ok();
        let host = u.as_ref().and_then(|u| u.host_str()).unwrap_or("the site");
        let port = u
            .as_ref()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(80);
        match self {
            Miss::Dns => format!("DNS has no address for {host}"),
            Miss::Refused => format!("{host} refused the connection on port {port}"),
            Miss::Timeout => format!("no answer from {host} on port {port} within 5 s"),
            Miss::Tls(e) => format!("the TLS handshake with {host} failed ({e})"),
            Miss::Status(s) => format!("the load balancer answered HTTP {s} for {url}"),
            Miss::Other(e) => format!("the request to {url} failed ({e})"),
        }
    }

    /// What it means, and what to do.
    pub fn meaning(&self, port: u16) -> String {
        match self {
            Miss::Dns => "the load balancer's name is not known to this machine's DNS yet (a new \
                          name can take a few minutes); check again with `status`, or prove the \
                          site through an address with --site-address"
                .into(),
            Miss::Refused => format!(
                "nothing listens on port {port} there: the listener is on another port, or \
                 --site-address names the wrong port"
            ),
            Miss::Timeout => format!(
                "something drops the traffic: the load balancer's security group does not allow \
                 port {port} from this machine, or this network blocks outgoing port {port}"
            ),
            Miss::Tls(_) => "the certificate or the TLS settings do not match the name".into(),
            Miss::Status(_) => "the load balancer has no healthy web server to send the request \
                                to, though the target group says they are healthy"
                .into(),
            Miss::Other(_) => "the site cannot be reached from this machine".into(),
        }
    }

    /// How long the failure may last, with every web server healthy and the
    /// load balancer active, before it is certain: DNS learns a new name
    /// within minutes; an active load balancer whose listener exists answers
    /// at once, so a refusal or a drop that lasts 20 s (a timeout: three
    /// rounds of 5 s) will last; a 5xx for a healthy target group settles
    /// within its health check interval.
    pub fn certain_after(&self) -> Duration {
        match self {
            Miss::Dns => Duration::from_secs(300),
            Miss::Tls(_) => Duration::ZERO,
            _ => Duration::from_secs(20),
        }
    }

    fn same_kind(&self, other: &Miss) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// Apache's own page, served when httpd runs without the site.
fn is_apache_test_page(body: &str) -> bool {
    body.contains("Test Page for the HTTP Server") || body.contains("<h1>It works!</h1>")
}

/// Classifies one HTTP answer for the marker URL; `from_lb`: the load
/// balancer answered itself (`Server: awselb/2.0`), not a web server.
pub fn classify(status: u16, body: &str, from_lb: bool) -> Answer {
    if is_apache_test_page(body) {
        return Answer::NoMarker(
            "Apache's test page (httpd runs, but the site is not there)".into(),
        );
    }
    match status {
        200 => match serde_json::from_str::<Marker>(body) {
            Ok(m) => Answer::Marker(m),
            Err(_) => Answer::NoMarker("an answer that is not the marker".into()),
        },
        404 => Answer::NoMarker("HTTP 404: the boot script published no marker".into()),
        500..=599 if from_lb => Answer::Nothing(Miss::Status(status)),
        s => Answer::NoMarker(format!("HTTP {s}")),
    }
}

/// Why the site failed: the cause, and the instance it concerns when known.
#[derive(Debug)]
pub struct SiteFailure {
    /// What went wrong, in one sentence.
    pub reason: String,
    /// The web server it concerns.
    pub instance: Option<String>,
    /// It is between this machine and the load balancer, not in a web
    /// server (no boot output says anything about it).
    pub network: bool,
}

impl std::fmt::Display for SiteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SiteFailure {}

fn failure(reason: String, instance: Option<&str>) -> anyhow::Error {
    SiteFailure {
        reason,
        instance: instance.map(str::to_string),
        network: false,
    }
    .into()
}

/// What the marker of this deploy says: its deployment and fingerprint, and
/// whether the boot script publishes one (a script of one's own may not).
#[derive(Debug, Clone)]
pub struct Expected {
    /// The deployment's name.
    pub deployment: String,
    /// This deploy's fingerprint.
    pub fingerprint: String,
    /// Whether the user data publishes the marker.
    pub published: bool,
}

impl Expected {
    /// The marker of `plan`.
    pub fn new(plan: &crate::plan::Plan) -> Expected {
        Expected {
            deployment: plan.name.clone(),
            fingerprint: plan.fingerprint.clone(),
            published: plan.publishes_marker,
        }
    }
}

/// The site's URL: the distribution's (HTTPS, on `[https] domain` when it
/// has one) when it serves, else the load balancer `dns`'s on `port`.
pub fn site_url(cdn: Option<&Distribution>, dns: &str, port: u16) -> String {
    cdn.filter(|d| d.enabled)
        .map_or_else(|| url(dns, port), Distribution::url)
}

/// The URL the site proof fetches: [`site_url`], but the distribution's own
/// `dxxxx.cloudfront.net` name ([`Distribution::edge_url`]).
pub fn proof_url(cdn: Option<&Distribution>, dns: &str, port: u16) -> String {
    cdn.filter(|d| d.enabled)
        .map_or_else(|| url(dns, port), Distribution::edge_url)
}

/// The load balancer's URL.
pub fn url(dns: &str, port: u16) -> String {
    if port == 80 {
        format!("http://{dns}/")
    } else {
        format!("http://{dns}:{port}/")
    }
}

/// What the site check watches.
pub struct Watch<'a> {
    /// Clients.
    pub ctx: &'a Ctx,
    /// What this deploy's marker says.
    pub marker: Expected,
    /// The target group.
    pub tg: &'a TargetGroup,
    /// The web servers that must serve this deploy's site.
    pub current: &'a [String],
    /// Web servers still registered that they replace (their answers are not
    /// this deploy's and are let pass).
    pub old: &'a [String],
    /// The site's URL.
    pub url: &'a str,
    /// Where to send the URL's host instead of resolving it.
    pub resolve: Option<SocketAddr>,
    /// Longest wait in all.
    pub limit: Duration,
    /// How long a new web server may fail its health checks after its launch
    /// (it boots: cloud-init, dnf, the download) before that is a failure.
    pub boot_grace: Duration,
    /// Whether to prove the content through the load balancer (`false`:
    /// `--no-site-check`, healthy targets are enough).
    pub check_site: bool,
}

/// What the check proved.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Proof {
    /// The template the markers say is live (empty when not checked).
    pub template: String,
    /// The web servers whose marker was seen.
    pub instances: Vec<String>,
    /// HTTP status of the site's page, when it was requested.
    pub status: Option<u16>,
}

/// Waits until every current web server is healthy and (with `check_site`)
/// serves this deploy's site, and fails as soon as the outcome is certain:
/// a web server stopped or terminated, failing its status checks, a health
/// check answered with the wrong code, health checks still failing after the
/// boot grace, or a marker that says `fallback`, names an earlier fingerprint,
/// or is missing while every target is healthy.
pub async fn prove(w: &Watch<'_>, mut on_wait: impl FnMut(&str, Duration)) -> Result<Proof> {
    let client = http_client(w.url, w.resolve)?;
    // What earlier rounds saw (the check is a closure called once per round).
    let seen = std::sync::Mutex::new(Rounds::default());
    poll_until(
        w.ctx.poll,
        &format!("{} to serve this deploy's site", w.current.join(", ")),
        w.limit,
        &mut on_wait,
        || {
            let (client, seen) = (&client, &seen);
            async move {
                if let Some(waiting) = servers_waiting(w).await? {
                    // Not every web server is healthy: a miss now says
                    // nothing about the path to them.
                    seen.lock().unwrap_or_else(|e| e.into_inner()).missing = None;
                    return Ok(Check::Waiting(waiting));
                }
                if !w.check_site {
                    return Ok(Check::Done(Proof::default()));
                }
                if !w.marker.published {
                    // A user data script of one's own: the page answering 200 is all.
                    let miss = match get(client, w.url).await {
                        Ok((200, _, _)) => {
                            return Ok(Check::Done(Proof {
                                status: Some(200),
                                ..Default::default()
                            }))
                        }
                        Ok((s, _, true)) if s >= 500 => Some(Miss::Status(s)),
                        Ok((s, _, _)) => return Ok(Check::Waiting(format!("HTTP {s}"))),
                        Err(e) => Some(e),
                    };
                    let what = miss.as_ref().map(|m| m.what(w.url)).unwrap_or_default();
                    unreachable_for_long(w, w.url, seen, miss)?;
                    return Ok(Check::Waiting(what));
                }
                markers(w, client, seen).await
            }
        },
    )
    .await
}

/// What the marker rounds saw so far.
#[derive(Default)]
struct Rounds {
    /// The new web servers whose marker was seen.
    proven: Vec<String>,
    /// Rounds in which some answer had no marker while every target was healthy.
    without_marker: u32,
    /// The template the markers name.
    template: String,
    /// Since when every answer, with every web server healthy, has been the
    /// same kind of miss.
    missing: Option<(std::time::Instant, Miss)>,
}

/// Why the new web servers are not all healthy yet (`None`: they are), or the
/// failure, as soon as it is certain: stopped or terminated, failing EC2's
/// status checks, a health check answered with the wrong code, or still
/// failing after the boot grace.
async fn servers_waiting(w: &Watch<'_>) -> Result<Option<String>> {
    let (instances, health) = tokio::try_join!(
        crate::resources::instance::describe_ids(w.ctx, w.current),
        targetgroup::health(w.ctx, w.tg),
    )?;
    use crate::resources::instance::State;
    for i in &instances {
        if matches!(
            i.state,
            State::Stopping | State::Stopped | State::ShuttingDown | State::Terminated
        ) {
            let why = i
                .state_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            let msg = format!("web server {} is {}{why}", i.id, i.state.as_str());
            return Err(failure(msg, Some(&i.id)));
        }
    }
    if let Some(id) = impaired(w.ctx, w.current).await? {
        let msg = format!("web server {id} fails its EC2 status checks (impaired)");
        return Err(failure(msg, Some(&id)));
    }
    let mut waiting = Vec::new();
    for id in w.current {
        let h = health.iter().find(|h| &h.id == id);
        let state = h.map(|h| h.state.as_str()).unwrap_or("not registered");
        if state == "healthy" {
            continue;
        }
        let reason = h.and_then(|h| h.reason.clone()).unwrap_or_default();
        if state == "unhealthy" {
            let booted_for = instances
                .iter()
                .find(|i| &i.id == id)
                .map(|i| crate::cost::hours_since(i.launched) * 3600.0)
                .unwrap_or(0.0);
            if reason == "Target.ResponseCodeMismatch" || booted_for > w.boot_grace.as_secs_f64() {
                let detail = h
                    .and_then(|h| h.description.clone())
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                let msg = format!(
                    "web server {id} fails the load balancer's health check ({reason}{detail})"
                );
                return Err(failure(msg, Some(id)));
            }
        }
        match reason.is_empty() {
            true => waiting.push(format!("{id} {state}")),
            false => waiting.push(format!("{id} {state} ({reason})")),
        }
    }
    Ok((!waiting.is_empty()).then(|| format!("target {}", waiting.join(", "))))
}

/// One round of marker requests through the load balancer: enough for its
/// round robin to reach every registered target.
async fn markers(
    w: &Watch<'_>,
    client: &reqwest::Client,
    seen: &std::sync::Mutex<Rounds>,
) -> Result<Check<Proof>> {
    let marker_url = format!("{}{}", w.url, crate::plan::MARKER_PATH);
    let tries = 2 * (w.current.len() + w.old.len()) + 1;
    let mut seen_no_marker = None;
    let mut last = String::new();
    let mut answered = false;
    let mut miss = None;
    let lock = || seen.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..tries {
        let answer = match get(client, &marker_url).await {
            Ok((status, body, from_lb)) => classify(status, &body, from_lb),
            Err(e) => Answer::Nothing(e),
        };
        if !matches!(answer, Answer::Nothing(_)) {
            answered = true;
        }
        match answer {
            Answer::Marker(m) if w.old.contains(&m.instance) => {
                last = format!("{} (being replaced) still answers", m.instance);
                continue;
            }
            Answer::Marker(m) => {
                check_marker(w, &m)?;
                let mut s = lock();
                s.template = m.template.clone();
                if !s.proven.contains(&m.instance) {
                    s.proven.push(m.instance.clone());
                }
            }
            Answer::NoMarker(why) => seen_no_marker = Some(why),
            Answer::Nothing(m) => {
                last = m.what(&marker_url);
                miss = Some(m);
            }
        }
        let (proven, template) = {
            let s = lock();
            (s.proven.clone(), s.template.clone())
        };
        let all = w.current.iter().all(|id| proven.contains(id))
            || (w.current.len() == 1 && proven.iter().any(|p| p == "unknown"));
        if all {
            let status = get(client, w.url).await.ok().map(|(s, _, _)| s);
            return Ok(Check::Done(Proof {
                template,
                instances: proven,
                status,
            }));
        }
    }
    unreachable_for_long(w, &marker_url, seen, if answered { None } else { miss })?;
    if let Some(why) = seen_no_marker {
        // Every target is healthy; with no old one left, nothing but this
        // deploy's servers answers. Twice, to be certain.
        let rounds = {
            let mut s = lock();
            s.without_marker += 1;
            s.without_marker
        };
        if w.old.is_empty() && rounds >= 2 {
            return Err(failure(
                format!(
                    "the site answers without this deploy's marker: {why}; the boot script \
                     did not finish installing the site"
                ),
                w.current.first().map(String::as_str),
            ));
        }
        last = why;
    }
    let proven = lock()
        .proven
        .iter()
        .filter(|p| w.current.contains(p))
        .count();
    let last = if last.is_empty() {
        last
    } else {
        format!("; {last}")
    };
    Ok(Check::Waiting(format!(
        "{proven} of {} web servers proven{last}",
        w.current.len()
    )))
}

/// Every web server is healthy, yet no request of this round reached one:
/// the same kind of miss for longer than it can last is a failure, named
/// with what was tried and what it means (it concerns no web server: no boot
/// output is shown for it).
fn unreachable_for_long(
    w: &Watch<'_>,
    url: &str,
    seen: &std::sync::Mutex<Rounds>,
    miss: Option<Miss>,
) -> Result<()> {
    let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
    let Some(miss) = miss else {
        s.missing = None;
        return Ok(());
    };
    let since = match &s.missing {
        Some((t, m)) if m.same_kind(&miss) => *t,
        _ => std::time::Instant::now(),
    };
    s.missing = Some((since, miss.clone()));
    if since.elapsed() < miss.certain_after() {
        return Ok(());
    }
    let port = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(80);
    let via = w
        .resolve
        .map(|a| format!(" (sent to {a}, --site-address)"))
        .unwrap_or_default();
    Err(SiteFailure {
        reason: format!(
            "every web server is healthy, but the site cannot be reached from here: tried \
             {url}{via} for {} s; {}: {}",
            since.elapsed().as_secs(),
            miss.what(url),
            miss.meaning(port)
        ),
        instance: None,
        network: true,
    }
    .into())
}

/// A marker of a new web server: this deploy's, and `installed`.
fn check_marker(w: &Watch<'_>, m: &Marker) -> Result<()> {
    let who = Some(m.instance.as_str()).filter(|i| *i != "unknown");
    let expected = &w.marker;
    if m.fingerprint != expected.fingerprint || m.deployment != expected.deployment {
        return Err(failure(
            format!(
                "the site serves the marker of another deploy (fingerprint {} of {}, from {}), \
                 not this one's ({}): an old web server answers",
                m.fingerprint, m.deployment, m.instance, expected.fingerprint
            ),
            who,
        ));
    }
    if m.result != "installed" {
        return Err(failure(
            format!(
                "web server {} serves the fallback page: template {} could not be installed ({})",
                m.instance, m.template, m.reason
            ),
            who,
        ));
    }
    Ok(())
}

/// The first of `ids` whose instance or system status check is `impaired`.
async fn impaired(ctx: &Ctx, ids: &[String]) -> Result<Option<String>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let out = ctx
        .ec2
        .describe_instance_status()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(crate::aws::AwsError::from);
    let out = crate::aws::unless_not_found(out, || "failed to read the status checks".into())?;
    Ok(out.and_then(|o| {
        o.instance_statuses()
            .iter()
            .find(|s| {
                let bad = |x: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
                    x.and_then(|x| x.status())
                        .is_some_and(|s| s.as_str() == "impaired")
                };
                bad(s.instance_status()) || bad(s.system_status())
            })
            .and_then(|s| s.instance_id().map(str::to_string))
    }))
}

/// The URL the site check requests: the load balancer's, or with
/// `--site-address IP:PORT` the same name on that PORT (the client sends it
/// to the IP).
pub fn check_url(url: &str, resolve: Option<SocketAddr>) -> String {
    match resolve {
        Some(addr) => with_port(url, addr.port()),
        None => url.to_string(),
    }
}

/// `url` with its port set to `port`.
fn with_port(url: &str, port: u16) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_port(Some(port));
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

fn http_client(url: &str, resolve: Option<SocketAddr>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3));
    if let Some(addr) = resolve {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .context("the site URL has no host")?;
        builder = builder.resolve(&host, addr);
    }
    builder.build().context("failed to build HTTP client")
}

/// One GET: status, body (at most 64 KiB read) and whether the load
/// balancer answered itself, or why there was no answer.
async fn get(
    client: &reqwest::Client,
    url: &str,
) -> std::result::Result<(u16, String, bool), Miss> {
    match client.get(url).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let from_lb = r
                .headers()
                .get(reqwest::header::SERVER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("awselb"));
            let body = r.text().await.unwrap_or_default();
            Ok((status, body.chars().take(64 * 1024).collect(), from_lb))
        }
        Err(e) => Err(miss_of(&e)),
    }
}

/// What kind of miss a request error is, from its sources (the I/O error's
/// kind, the resolver's or the TLS library's message).
fn miss_of(e: &reqwest::Error) -> Miss {
    if e.is_timeout() {
        return Miss::Timeout;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Miss::Refused,
                std::io::ErrorKind::TimedOut => return Miss::Timeout,
                _ => {}
            }
        }
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push(' ');
        src = s.source();
    }
    if text.contains("dns error")
        || text.contains("failed to lookup")
        || text.contains("name or service not known")
    {
        Miss::Dns
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        Miss::Tls(crate::aws::last_cause(&crate::aws::error_chain(e)).to_string())
    } else if text.contains("connection refused") {
        Miss::Refused
    } else {
        Miss::Other(crate::aws::last_cause(&crate::aws::error_chain(e)).to_string())
    }
}
