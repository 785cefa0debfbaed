//! The CloudFront distribution in front of the load balancer (`[https]`):
//! an `https://dxxxx.cloudfront.net/` URL on CloudFront's own certificate,
//! HTTP redirected to HTTPS, HTTP/2 and HTTP/3, IPv6, every request passed to
//! the load balancer (the managed CachingDisabled policy: no page is ever
//! served stale), with a secret header CloudFront adds on the way.
//!
//! CloudFront is global: the client signs for us-east-1 whatever the region.
//! A distribution has no name; this deployment's is the one whose comment is
//! [`Spec::comment`] (the deployment and its region) and whose tags are this
//! tool's. It is found with ListDistributions, which reads what was written
//! a moment ago (the tagging API may lag behind a create by minutes).
//!
//! Every change (create, update, disable) is `InProgress` at the edge for
//! minutes before it is `Deployed`; an update or a delete must carry the
//! ETag of the configuration it replaces, and a delete is refused until a
//! disable has been deployed.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_cloudfront::types as cft;

use super::{Deleted, Seen, Verb};
use crate::aws::{code, is_access_denied, poll_until, unless_gone, AwsError, Check, Ctx};
use crate::plan::Plan;
use crate::tags::{Owner, TagDrift, Tagger, Tags};

/// The header CloudFront adds to every request it sends to the load balancer.
pub const SECRET_HEADER: &str = "X-Origin-Verify";
/// The origin's id in the distribution's configuration.
const ORIGIN_ID: &str = "load-balancer";
/// CloudFront's managed cache policy CachingDisabled (every request reaches
/// the origin; TTLs 0).
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// CloudFront's managed origin request policy AllViewer (headers, cookies and
/// query strings go to the origin as the visitor sent them).
const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";

/// What deploy.toml asks of the distribution.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `[https] enabled`.
    pub wanted: bool,
    /// Its name in the views.
    pub name: String,
    /// The comment that marks it as this deployment's (names are per region;
    /// CloudFront is not).
    pub comment: String,
    /// The load balancer's listener port (the origin's HTTP port).
    pub port: u16,
    /// `[https] domain`: its alternate domain name.
    pub domain: Option<String>,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The distribution of `plan` deployed in `region`.
    pub fn new(plan: &Plan, region: &str) -> Spec {
        Spec {
            wanted: plan.https,
            name: format!("{}-cdn", plan.name),
            comment: comment(&plan.name, region),
            port: plan.listener_port,
            domain: plan.domain.clone(),
            owner: plan.owner.clone(),
        }
    }
}

/// The comment that marks deployment `name` of `region`'s distribution.
fn comment(name: &str, region: &str) -> String {
    format!("sitedeploy {name} in {region}")
}

/// The (deployment, region) a [`comment`] names.
fn named_by(comment: &str) -> Option<(&str, &str)> {
    comment.strip_prefix("sitedeploy ")?.split_once(" in ")
}

/// The secret header's value: random, kept in the distribution's
/// configuration, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A new one: 32 random bytes as 64 lowercase hex digits (the load
    /// balancer compares header values without regard to case, and takes at
    /// most 128 characters).
    pub fn random() -> Secret {
        use ssh_key::rand_core::RngCore;
        let mut b = [0u8; 32];
        ssh_key::rand_core::OsRng.fill_bytes(&mut b);
        Secret(b.iter().map(|x| format!("{x:02x}")).collect())
    }

    /// The value, for the request that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A distribution as found.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Id (`E…`).
    pub id: String,
    /// ARN.
    pub arn: String,
    /// `dxxxx.cloudfront.net`.
    pub domain: String,
    /// Its last change reached every edge location (`Deployed`).
    pub deployed: bool,
    /// It serves requests.
    pub enabled: bool,
    /// The origin's domain (the load balancer's DNS name).
    pub origin: String,
    /// The origin's HTTP port (the listener's).
    pub port: u16,
    /// The secret header's value, when the origin has it.
    pub secret: Option<Secret>,
    /// Its alternate domain names (`[https] domain`).
    pub aliases: Vec<String>,
    /// The ACM certificate it shows for them.
    pub certificate: Option<String>,
    /// The ETag of the configuration as read (what a delete must carry).
    pub etag: String,
    /// Its tags.
    pub tags: Tags,
}

impl Distribution {
    /// Its HTTPS URL: on its alternate domain name when it has one.
    pub fn url(&self) -> String {
        format!("https://{}/", self.aliases.first().unwrap_or(&self.domain))
    }

    /// Its URL on its own `dxxxx.cloudfront.net` name (the site proof goes
    /// there: a resolver that cached the domain's absence before its records
    /// existed would make a sound deploy look broken).
    pub fn edge_url(&self) -> String {
        format!("https://{}/", self.domain)
    }

    /// Its state in words.
    pub fn state(&self) -> &'static str {
        match (self.enabled, self.deployed) {
            (true, true) => "deployed",
            (true, false) => "deploying",
            (false, true) => "disabled",
            (false, false) => "disabling",
        }
    }
}

/// The distribution whose comment is the spec's: ours, another's, or none.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<Distribution>> {
    let candidates: Vec<(String, String)> = list(ctx)
        .await?
        .into_iter()
        .filter(|(c, _, _)| *c == spec.comment)
        .map(|(_, id, arn)| (id, arn))
        .collect();
    let mut foreign = None;
    for (id, arn) in candidates {
        // The policy lets this tool read the tags of its own distributions
        // only: one it may not read is not its own.
        let tags = match tags_of(ctx, &arn).await {
            Ok(t) => t,
            Err(e) if is_access_denied(&e) => Vec::new(),
            Err(e) => return Err(e),
        };
        if !spec.owner.owns(&tags) {
            foreign = Some(id);
            continue;
        }
        if let Some(d) = get(ctx, &id, tags).await? {
            return Ok(Seen::Ours(d));
        }
    }
    Ok(match foreign {
        Some(id) => Seen::Foreign(format!(
            "CloudFront distribution {id} has this deployment's comment ({:?}) but not this \
             tool's tags (ManagedBy=sitedeploy, Deployment={}); it is left alone. Rename the \
             deployment (name in deploy.toml).",
            spec.comment, spec.owner.deployment
        )),
        None => Seen::Absent,
    })
}

/// Every deployment a distribution names in its comment, by region (a
/// distribution is global: `status --all-regions` learns its region here).
pub async fn deployments(
    ctx: &Ctx,
) -> Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for (comment, _, _) in list(ctx).await? {
        if let Some((name, region)) = named_by(&comment) {
            if crate::config::is_deployment_name(name) {
                out.entry(region.to_string())
                    .or_default()
                    .insert(name.to_string());
            }
        }
    }
    Ok(out)
}

/// Every distribution's (comment, id, ARN), all pages.
async fn list(ctx: &Ctx) -> Result<Vec<(String, String, String)>> {
    let mut marker: Option<String> = None;
    let mut all = Vec::new();
    loop {
        let out = ctx
            .cloudfront
            .list_distributions()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(AwsError::from)
            .context("failed to list the CloudFront distributions")?;
        let Some(list) = out.distribution_list() else {
            break;
        };
        all.extend(list.items().iter().map(|d| {
            (
                d.comment().to_string(),
                d.id().to_string(),
                d.arn().to_string(),
            )
        }));
        match (list.is_truncated(), list.next_marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(all)
}

async fn tags_of(ctx: &Ctx, arn: &str) -> Result<Tags> {
    let out = ctx
        .cloudfront
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read the tags of {arn}"))?;
    Ok(crate::tags::cloudfront_pairs(out.tags()))
}

fn is_gone(e: &anyhow::Error) -> bool {
    code(e) == Some("NoSuchDistribution")
}

/// GetDistribution: the distribution as it is now (`None`: gone).
async fn get(ctx: &Ctx, id: &str, tags: Tags) -> Result<Option<Distribution>> {
    let res = ctx
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(AwsError::from);
    let Some(out) = unless_gone(res, is_gone, || {
        format!("failed to read CloudFront distribution {id}")
    })?
    else {
        return Ok(None);
    };
    let d = out
        .distribution()
        .with_context(|| format!("CloudFront distribution {id}: no distribution in the answer"))?;
    let cfg = d.distribution_config();
    let origin = cfg
        .and_then(|c| c.origins())
        .and_then(|o| o.items().first());
    Ok(Some(Distribution {
        id: d.id().to_string(),
        arn: d.arn().to_string(),
        domain: d.domain_name().to_string(),
        deployed: d.status() == "Deployed",
        enabled: cfg.is_some_and(|c| c.enabled()),
        origin: origin
            .map(|o| o.domain_name().to_string())
            .unwrap_or_default(),
        port: origin
            .and_then(|o| o.custom_origin_config())
            .and_then(|c| u16::try_from(c.http_port()).ok())
            .unwrap_or(0),
        secret: origin.and_then(secret_of),
        aliases: cfg
            .and_then(|c| c.aliases())
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        certificate: cfg
            .and_then(|c| c.viewer_certificate())
            .and_then(|v| v.acm_certificate_arn())
            .map(str::to_string),
        etag: out.e_tag().unwrap_or_default().to_string(),
        tags,
    }))
}

fn secret_of(o: &cft::Origin) -> Option<Secret> {
    o.custom_headers()?
        .items()
        .iter()
        .find(|h| h.header_name().eq_ignore_ascii_case(SECRET_HEADER))
        .map(|h| Secret(h.header_value().to_string()))
}

/// What deploy does with the distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `[https]` is off and there is none: nothing, and no row.
    None,
    /// Create it in front of the load balancer.
    Create,
    /// It is as wanted (deploy waits until it is deployed).
    Keep,
    /// Its configuration is written again (the reasons; none: it stays)
    /// and its tags follow deploy.toml's.
    Update {
        /// Why the configuration is written again.
        why: Vec<String>,
        /// Its tag changes.
        tags: TagDrift,
    },
    /// `[https]` is off: disable it, wait, delete it.
    Delete,
    /// Deploy stops.
    Stop(String),
}

/// Decides what to do with the distribution; `lb_dns`: the DNS name of the
/// load balancer deploy keeps (`None`: a new one is made); `cert`: the ARN of
/// the certificate for `[https] domain` (`None`: a new one is requested).
pub fn decide(
    spec: &Spec,
    seen: &Seen<Distribution>,
    lb_dns: Option<&str>,
    cert: Option<&str>,
) -> Action {
    match (seen, spec.wanted) {
        (Seen::Absent, false) | (Seen::Foreign(_), false) => Action::None,
        (Seen::Absent, true) => Action::Create,
        (Seen::Foreign(why), true) => Action::Stop(why.clone()),
        (Seen::Ours(_), false) => Action::Delete,
        (Seen::Ours(d), true) => {
            let mut why = Vec::new();
            if !d.enabled {
                why.push("enable it".to_string());
            }
            match lb_dns {
                Some(dns) if dns == d.origin => {}
                Some(dns) => why.push(format!("origin {} -> {dns}", d.origin)),
                None => why.push(format!("origin {} -> the new load balancer", d.origin)),
            }
            if d.port != spec.port {
                why.push(format!("origin port {} -> {}", d.port, spec.port));
            }
            if d.secret.is_none() {
                why.push(format!("add the {SECRET_HEADER} header"));
            }
            match (&spec.domain, d.aliases.first()) {
                (Some(want), Some(has)) if want == has => {}
                (Some(want), _) => why.push(format!("answer on {want}")),
                (None, Some(has)) => why.push(format!("no longer on {has}")),
                (None, None) => {}
            }
            if spec.domain.is_some() && cert != d.certificate.as_deref() {
                why.push(match cert {
                    Some(c) => format!("certificate {}", c.rsplit('/').next().unwrap_or(c)),
                    None => "the new certificate".to_string(),
                });
            }
            let tags = spec.owner.drift(&d.tags);
            match why.is_empty() && tags.is_empty() {
                true => Action::Keep,
                false => Action::Update { why, tags },
            }
        }
    }
}

impl Action {
    /// The plan's verb (`None` has no row).
    pub fn verb(&self) -> Verb {
        match self {
            Action::None | Action::Keep => Verb::Keep,
            Action::Create => Verb::Create,
            Action::Update { .. } => Verb::Update,
            Action::Delete => Verb::Delete,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self) -> String {
        match self {
            Action::None | Action::Keep => String::new(),
            Action::Create => "HTTPS in front of the load balancer".into(),
            Action::Update { why, tags } => {
                let all: Vec<String> = why.iter().cloned().chain(tags.describe()).collect();
                all.join("; ")
            }
            Action::Delete => {
                "[https] is off: disabled and deleted once the load balancer serves alone".into()
            }
            Action::Stop(why) => why.clone(),
        }
    }
}

/// The configuration deploy writes: the load balancer `origin` as the one
/// origin over HTTP with the secret header, HTTPS to visitors.
fn config(spec: &Spec, origin: Origin<'_>, caller_ref: &str) -> Result<cft::DistributionConfig> {
    let certificate = origin.certificate;
    let header = cft::OriginCustomHeader::builder()
        .header_name(SECRET_HEADER)
        .header_value(origin.secret.expose())
        .build()?;
    let origin = cft::Origin::builder()
        .id(ORIGIN_ID)
        .domain_name(origin.dns)
        .custom_headers(
            cft::CustomHeaders::builder()
                .quantity(1)
                .items(header)
                .build()?,
        )
        .custom_origin_config(
            cft::CustomOriginConfig::builder()
                .http_port(i32::from(spec.port))
                .https_port(443)
                .origin_protocol_policy(cft::OriginProtocolPolicy::HttpOnly)
                .build()?,
        )
        .build()?;
    let behavior = cft::DefaultCacheBehavior::builder()
        .target_origin_id(ORIGIN_ID)
        .viewer_protocol_policy(cft::ViewerProtocolPolicy::RedirectToHttps)
        .cache_policy_id(CACHING_DISABLED)
        .origin_request_policy_id(ALL_VIEWER)
        .compress(true)
        .build()?;
    // With a domain: its certificate, SNI only (dedicated IPs cost $600 a
    // month), TLS 1.2 or newer (CloudFront's recommended policy).
    let (aliases, viewer) = match (&spec.domain, certificate) {
        (Some(d), Some(arn)) => (
            cft::Aliases::builder().quantity(1).items(d).build()?,
            cft::ViewerCertificate::builder()
                .acm_certificate_arn(arn)
                .ssl_support_method(cft::SslSupportMethod::SniOnly)
                .minimum_protocol_version(cft::MinimumProtocolVersion::TlSv122021)
                .build(),
        ),
        _ => (
            cft::Aliases::builder().quantity(0).build()?,
            cft::ViewerCertificate::builder()
                .cloud_front_default_certificate(true)
                .build(),
        ),
    };
    Ok(cft::DistributionConfig::builder()
        .caller_reference(caller_ref)
        .aliases(aliases)
        .comment(&spec.comment)
        .enabled(true)
        .origins(cft::Origins::builder().quantity(1).items(origin).build()?)
        .default_cache_behavior(behavior)
        .http_version(cft::HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .viewer_certificate(viewer)
        .build()?)
}

/// What the distribution sends its requests to.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The load balancer's DNS name.
    pub dns: &'a str,
    /// The header's value.
    pub secret: &'a Secret,
    /// The ACM certificate for `[https] domain`.
    pub certificate: Option<&'a str>,
}

/// Applies the decision with the load balancer `origin`, then waits
/// (at most `limit`) until the distribution is deployed; `None` when there is
/// none (off). `on_wait` is told each state seen.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&Distribution>,
    origin: Origin<'_>,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Option<Distribution>> {
    let found = || found.cloned().context("no distribution was observed");
    let d = match action {
        // Deleted once the load balancer is proven to serve alone
        // (`crate::rollout`), not here.
        Action::None | Action::Delete => return Ok(None),
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => found()?,
        Action::Create => create(ctx, spec, origin).await?,
        Action::Update { why, tags } => {
            let d = found()?;
            if !why.is_empty() {
                write(ctx, &d.id, |cfg| {
                    config(spec, origin, cfg.caller_reference())
                })
                .await?;
            }
            tags.apply(ctx, Tagger::CloudFront(&d.arn)).await?;
            d
        }
    };
    wait_deployed(ctx, &d, limit, on_wait).await.map(Some)
}

/// CreateDistributionWithTags (one request: it is never untagged).
async fn create(ctx: &Ctx, spec: &Spec, origin: Origin<'_>) -> Result<Distribution> {
    // A fresh reference: AWS refuses one it has seen, whatever the config.
    let caller_ref = format!(
        "sitedeploy-{}-{}",
        spec.owner.deployment,
        Secret::random().0
    );
    let tags = spec
        .owner
        .pairs()
        .map(|(k, v)| cft::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let out = ctx
        .cloudfront
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            cft::DistributionConfigWithTags::builder()
                .distribution_config(config(spec, origin, &caller_ref)?)
                .tags(cft::Tags::builder().set_items(Some(tags)).build())
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to create the CloudFront distribution")?;
    let d = out
        .distribution()
        .context("CreateDistributionWithTags answered without a distribution")?;
    Ok(Distribution {
        id: d.id().to_string(),
        arn: d.arn().to_string(),
        domain: d.domain_name().to_string(),
        deployed: d.status() == "Deployed",
        enabled: true,
        origin: origin.dns.to_string(),
        port: spec.port,
        secret: Some(origin.secret.clone()),
        aliases: match origin.certificate {
            Some(_) => spec.domain.iter().cloned().collect(),
            None => Vec::new(),
        },
        certificate: origin.certificate.map(str::to_string),
        etag: out.e_tag().unwrap_or_default().to_string(),
        tags: spec.owner.owned(),
    })
}

/// Reads the configuration with its ETag, writes `change(config)` with that
/// ETag; a write that lost a race (`PreconditionFailed`: the ETag is stale)
/// reads again.
async fn write(
    ctx: &Ctx,
    id: &str,
    change: impl Fn(&cft::DistributionConfig) -> Result<cft::DistributionConfig>,
) -> Result<()> {
    for _ in 0..3 {
        let out = ctx
            .cloudfront
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to read CloudFront distribution {id}"))?;
        let cfg = out
            .distribution_config()
            .with_context(|| format!("CloudFront distribution {id}: no configuration"))?;
        let res = ctx
            .cloudfront
            .update_distribution()
            .id(id)
            .if_match(out.e_tag().unwrap_or_default())
            .distribution_config(change(cfg)?)
            .send()
            .await
            .map_err(AwsError::from);
        match res {
            Ok(_) => return Ok(()),
            Err(e) => {
                let e = anyhow::Error::new(e);
                if code(&e) != Some("PreconditionFailed") {
                    return Err(e.context(format!("failed to update CloudFront distribution {id}")));
                }
                tracing::debug!(id, "the distribution changed meanwhile; reading it again");
            }
        }
    }
    bail!("CloudFront distribution {id} kept changing while it was being updated")
}

/// Waits until the distribution's last change is deployed.
async fn wait_deployed(
    ctx: &Ctx,
    d: &Distribution,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Distribution> {
    poll_until(
        ctx.poll,
        &format!("CloudFront distribution {} to be deployed", d.id),
        limit,
        on_wait,
        || async {
            let Some(now) = get(ctx, &d.id, d.tags.clone()).await? else {
                bail!("CloudFront distribution {} disappeared", d.id);
            };
            Ok(match now.deployed {
                true => Check::Done(now),
                false => Check::Waiting(now.state().to_string()),
            })
        },
    )
    .await
}

/// Deletes the distribution: disables it (unless it is), waits until the
/// disable is deployed, deletes it with the ETag it has then. A cleanup
/// that stopped part-way resumes at whichever step it reached.
pub async fn delete(
    ctx: &Ctx,
    d: &Distribution,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Deleted> {
    let Some(now) = get(ctx, &d.id, d.tags.clone()).await? else {
        return Ok(Deleted::Absent);
    };
    if now.enabled {
        write(ctx, &d.id, |cfg| {
            let mut off = cfg.clone();
            off.enabled = false;
            Ok(off)
        })
        .await?;
    }
    let off = Distribution {
        enabled: false,
        ..now
    };
    // The wait's last read carries the ETag the delete needs; a stale one
    // (changed meanwhile) is read again.
    let mut now = wait_deployed(ctx, &off, limit, on_wait).await?;
    for _ in 0..3 {
        let res = ctx
            .cloudfront
            .delete_distribution()
            .id(&d.id)
            .if_match(&now.etag)
            .send()
            .await
            .map_err(AwsError::from);
        let e = match res {
            Ok(_) => return Ok(Deleted::Deleted),
            Err(e) => anyhow::Error::new(e),
        };
        if is_gone(&e) {
            return Ok(Deleted::Absent);
        }
        if code(&e) != Some("PreconditionFailed") {
            return Err(e.context(format!("failed to delete CloudFront distribution {}", d.id)));
        }
        match get(ctx, &d.id, d.tags.clone()).await? {
            Some(again) => now = again,
            None => return Ok(Deleted::Absent),
        }
    }
    bail!(
        "CloudFront distribution {} kept changing while it was being deleted",
        d.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(wanted: bool) -> Spec {
        Spec {
            wanted,
            name: "site-cdn".into(),
            comment: "sitedeploy site in us-east-1".into(),
            port: 80,
            domain: None,
            owner: Owner::new("site", &Default::default()),
        }
    }

    fn found(origin: &str, enabled: bool, secret: bool) -> Seen<Distribution> {
        Seen::Ours(Distribution {
            id: "E1".into(),
            arn: "arn:aws:cloudfront::1:distribution/E1".into(),
            domain: "d1.cloudfront.net".into(),
            deployed: true,
            enabled,
            origin: origin.into(),
            port: 80,
            secret: secret.then(Secret::random),
            aliases: Vec::new(),
            certificate: None,
            etag: "E1TAG".into(),
            tags: spec(true).owner.owned(),
        })
    }

    #[test]
    fn each_state_and_wish_has_its_action() {
        let lb = Some("lb.example");
        assert_eq!(decide(&spec(false), &Seen::Absent, lb, None), Action::None);
        assert_eq!(decide(&spec(true), &Seen::Absent, lb, None), Action::Create);
        assert_eq!(
            decide(&spec(false), &found("lb.example", true, true), lb, None),
            Action::Delete
        );
        assert_eq!(
            decide(&spec(true), &found("lb.example", true, true), lb, None),
            Action::Keep
        );
        let Action::Update { why, .. } =
            decide(&spec(true), &found("old.example", false, false), None, None)
        else {
            panic!("not an update");
        };
        assert_eq!(why.len(), 3, "{why:?}");
        let foreign = Seen::Foreign("not ours".into());
        assert_eq!(decide(&spec(false), &foreign, lb, None), Action::None);
        assert!(matches!(
            decide(&spec(true), &foreign, lb, None),
            Action::Stop(_)
        ));
    }

    #[test]
    fn the_comment_names_the_deployment_and_its_region() {
        let c = comment("site", "eu-west-1");
        assert_eq!(named_by(&c), Some(("site", "eu-west-1")));
        assert_eq!(named_by("someone else's"), None);
    }

    #[test]
    fn the_secret_is_random_hex_and_never_shown() {
        let (a, b) = (Secret::random(), Secret::random());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(a
            .expose()
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn the_configuration_redirects_to_https_and_caches_nothing() {
        let secret = Secret::random();
        let origin = Origin {
            dns: "lb.example",
            secret: &secret,
            certificate: None,
        };
        let cfg = config(&spec(true), origin, "ref").unwrap();
        let b = cfg.default_cache_behavior().unwrap();
        assert_eq!(
            b.viewer_protocol_policy(),
            &cft::ViewerProtocolPolicy::RedirectToHttps
        );
        assert_eq!(b.cache_policy_id(), Some(CACHING_DISABLED));
        assert_eq!(cfg.http_version(), Some(&cft::HttpVersion::Http2and3));
        assert_eq!(cfg.is_ipv6_enabled(), Some(true));
        let o = &cfg.origins().unwrap().items()[0];
        assert_eq!(o.domain_name(), "lb.example");
        assert!(secret_of(o).is_some());
    }
}
