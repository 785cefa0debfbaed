//! Deploy: observe once, decide once, apply exactly the decision, prove the
//! site, say what was done.
//!
//! ```text
//! observe (crate::observe)   every look-up at once: what exists, the VPC, the
//!                            deployer's address, the .pem; the image and the
//!                            subnets when something is to be made
//! decide  (crate::table)     each kind's action; stop here for a resource not
//!                            made by this tool, a key pair that does not match
//!                            its .pem, a VPC change
//! preflight                  dry runs of the creations, for a fresh deployment
//! apply   (crate::apply)     the graph: each kind's step once its dependencies
//!                            are done; the web servers and the load balancer,
//!                            the two slow creations, provision at the same time
//! rollout (crate::rollout)   the site proven, what it replaces retired (or the
//!                            new undone when the proof fails)
//! summary (crate::summary)   the decision's rows with the ids made, the cost
//! ```

use std::time::Duration;

use anyhow::Result;

use crate::apply::{Inputs, Known};
use crate::aws::{Ctx, Identity};
use crate::observe::{observe, Observed, Purpose};
use crate::output::{Entry, Totals};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::resources::{expiry, Verb};
use crate::rollout::{ProofOptions, Rollout};
use crate::spec::Specs;
use crate::summary::{ServerReport, SiteReport, Summary};
use crate::table::{self, Decision, Kind};

/// Options of one deploy run.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// Delete and recreate the key pair when its private key is missing here.
    pub replace_key_pair: bool,
    /// Longest wait for the instance to run and the load balancer to be active.
    pub wait_limit: Duration,
    /// Wait for the target to be healthy and the URL to answer 200.
    pub site_check: bool,
    /// Longest wait for the site check.
    pub site_limit: Duration,
    /// Send the site check to this address instead of the load balancer's.
    pub site_address: Option<std::net::SocketAddr>,
    /// How long a new web server may fail its health checks after its launch.
    pub boot_grace: Duration,
    /// Set to `true` to stop (Ctrl-C, SIGTERM): what is under way finishes,
    /// the expiry of what exists is written, nothing else starts.
    pub interrupt: Option<tokio::sync::watch::Receiver<bool>>,
}

/// A deploy failed after it began to create or change things (the error
/// says what went wrong, `changed` what this run had done; the caller says
/// what exists now).
#[derive(Debug)]
pub struct Began {
    /// What went wrong.
    pub error: anyhow::Error,
    /// The rows this run applied before it stopped ("created load balancer
    /// barista-alb"), in table order.
    pub changed: Vec<String>,
}

impl std::fmt::Display for Began {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The outermost message; the rest of the chain is its source.
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Began {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The decision's rows whose kind's step finished, that changed something.
fn applied(i: &Inputs<'_>, k: &Known) -> Vec<String> {
    let done = k.done.lock().unwrap_or_else(|e| e.into_inner()).clone();
    i.decision
        .rows(i.specs, i.seen, &k.ids())
        .into_iter()
        .filter(|p| done.contains(&p.kind) && !matches!(p.verb, Verb::Keep | Verb::Stop))
        .map(|p| {
            let id = match p.row.id.is_empty() {
                true => String::new(),
                false => format!(" {}", p.row.short_id()),
            };
            format!("{} {} {}{id}", p.verb.done(), p.row.kind, p.row.name)
        })
        .collect()
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            replace_key_pair: false,
            wait_limit: Duration::from_secs(15 * 60),
            site_check: true,
            site_limit: Duration::from_secs(10 * 60),
            site_address: None,
            boot_grace: Duration::from_secs(180),
            interrupt: None,
        }
    }
}

/// Resolves once `interrupt` is set (never without one).
async fn interrupted(interrupt: Option<tokio::sync::watch::Receiver<bool>>) {
    match interrupt {
        Some(mut rx) => {
            if rx.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await
            }
        }
        None => std::future::pending().await,
    }
}

/// Deploys the plan, as `who`.
pub async fn run(
    ctx: &Ctx,
    plan: &Plan,
    who: &Identity,
    opts: &DeployOptions,
    progress: &Progress,
) -> Result<Summary> {
    let specs = Specs::new(plan, &ctx.region, who, opts.replace_key_pair);
    let seen = look_up(ctx, &specs, progress).await?;
    let decision = table::decide(&specs, &seen, chrono::Utc::now());
    let stops = decision.stops(&specs, &seen);
    if !stops.is_empty() {
        anyhow::bail!("{}", stops.join("\n"));
    }
    let warnings = preflight(ctx, &specs, &seen, &decision, progress).await?;
    let inputs = Inputs {
        ctx,
        specs: &specs,
        seen: &seen,
        decision: &decision,
        progress,
        wait_limit: opts.wait_limit,
    };
    let known = Known::default();
    let stop = || interrupted(opts.interrupt.clone());
    let began = |error: anyhow::Error| {
        let changed = applied(&inputs, &known);
        anyhow::Error::new(Began { error, changed })
    };
    crate::apply::run(&inputs, &known, stop())
        .await
        .map_err(began)?;
    let proof = ProofOptions {
        site_check: opts.site_check,
        limit: opts.site_limit,
        resolve: opts.site_address,
        boot_grace: opts.boot_grace,
    };
    let rollout = tokio::select! {
        r = crate::rollout::run(&inputs, &known, &proof) => r.map_err(began)?,
        () = stop() => return Err(began(crate::graph::Interrupted.into())),
    };
    let mut summary = summary(&inputs, &known, rollout).await?;
    summary.warnings.extend(warnings);
    Ok(summary)
}

/// The observation (and, for `--plan`, the decision) with progress lines.
pub async fn look_up(ctx: &Ctx, specs: &Specs, progress: &Progress) -> Result<Observed> {
    let s = progress.step("looking up");
    s.set("what exists, the network, your public IP");
    let seen = observe(ctx, specs, Purpose::Deploy).await;
    if let Some(e) = seen.errors.first() {
        s.fail(e);
        anyhow::bail!("{e}");
    }
    let mut found = vec![format!("{}", seen.vpc.as_deref().unwrap_or("no VPC"))];
    match &seen.ssh_cidr {
        Some(Ok(c)) => found.push(format!("SSH from {c}")),
        _ => found.push("your public IP not detected: no SSH rule will be added".into()),
    }
    if let Some(image) = &seen.image {
        found.push(format!("image {} ({})", image.id, image.name));
    }
    s.done(&found.join(", "));
    Ok(seen)
}

/// Before anything is created: the template a new web server would download
/// exists (a warning when it cannot be checked from here), and, for a fresh
/// deployment (no key pair yet), the dry runs of the creations, so a missing
/// permission is said first. `--plan` runs the same checks. Returns the
/// warnings.
pub async fn preflight(
    ctx: &Ctx,
    specs: &Specs,
    seen: &Observed,
    decision: &Decision,
    progress: &Progress,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    // SITEDEPLOY_NO_TEMPLATE_CHECK=true: not checked (tests reach no internet).
    let off = std::env::var("SITEDEPLOY_NO_TEMPLATE_CHECK")
        .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    if let (true, false, Some(url)) = (decision.launches(), off, &specs.template_url) {
        let s = progress.step("template");
        s.set(&format!("checking {url}"));
        let check = crate::preflight::check_template(url).await;
        match crate::preflight::template_verdict(&specs.launch.template, url, &check) {
            Ok(None) => s.done(&format!("{} exists", specs.launch.template)),
            Ok(Some(w)) => {
                s.done("not checked here");
                warnings.push(w);
            }
            Err(e) => {
                s.fail(&format!("{e:#}"));
                return Err(e);
            }
        }
    }
    dry_runs(ctx, specs, seen, decision, progress).await?;
    Ok(warnings)
}

/// A fresh deployment (no key pair yet): dry runs of the creations.
async fn dry_runs(
    ctx: &Ctx,
    specs: &Specs,
    seen: &Observed,
    decision: &Decision,
    progress: &Progress,
) -> Result<()> {
    let (Some(image), Some(places), Some(vpc)) = (&seen.image, &seen.places, &seen.vpc) else {
        return Ok(());
    };
    if seen.key.exists() || decision.key.verb() != Verb::Create {
        return Ok(());
    }
    let Some(subnet) = places.lb_candidates().into_iter().next() else {
        return Ok(());
    };
    let s = progress.step("permissions");
    s.set("dry runs of the creations");
    let r = crate::preflight::dry_runs(ctx, specs, vpc, image, &subnet).await;
    match &r {
        Ok(()) => s.done("allowed"),
        Err(e) => s.fail(&format!("{e:#}")),
    }
    r
}

async fn summary(i: &Inputs<'_>, k: &Known, rollout: Rollout) -> Result<Summary> {
    let (specs, seen) = (i.specs, i.seen);
    let lb = k
        .active
        .get()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no load balancer"))?;
    let servers = k.servers.get().cloned().unwrap_or_default();
    if servers.is_empty() {
        anyhow::bail!("no web server");
    }
    let ssh_cidr = seen.ssh_cidr.clone().and_then(|r| r.ok());
    let mut warnings: Vec<String> = k.notes.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(Err(why)) = &seen.ssh_cidr {
        warnings.push(format!(
            "{why}; the instance has no SSH rule. Set ssh.cidr in deploy.toml to your address \
             as a /32 and deploy again to allow SSH"
        ));
    }
    // The expiry's parts are named by the spec: each exists now (or was
    // deleted, for `off`).
    let mut ids = k.ids();
    for kind in [
        Kind::ExpiryRole,
        Kind::ScheduleGroup,
        Kind::LbSchedule,
        Kind::ServersSchedule,
    ] {
        let id = match kind {
            Kind::ExpiryRole => specs.expiry.role_arn.clone(),
            _ => kind.name(specs),
        };
        ids.insert(kind, id);
    }
    let mut resources: Vec<Entry> = i
        .decision
        .rows(specs, seen, &ids)
        .into_iter()
        .map(|p| Entry::new(p.row, p.verb))
        .collect();
    // What a group launched is known by id only now: its rows, planned
    // without one, get the new instances' ids in turn.
    let mut launched = servers
        .iter()
        .filter(|m| !seen.instances.iter().any(|i| i.id == m.id));
    let mut targets = launched.clone();
    for r in resources.iter_mut().filter(|r| r.row.id.is_empty()) {
        let next = match r.row.kind {
            k if k == Kind::Instance.label() => launched.next(),
            k if k == Kind::Target.label() => targets.next(),
            _ => None,
        };
        if let Some(m) = next {
            r.row.id = m.id.clone();
            if r.row.kind == Kind::Instance.label() {
                r.row.detail = format!("{} in {}", r.row.detail, m.zone);
            }
        }
    }
    // Target health as observed when every server was registered then and
    // none was replaced since, else read again.
    let as_seen = rollout.replaced.is_empty()
        && servers
            .iter()
            .all(|m| seen.targets.iter().any(|t| t.id == m.id));
    let health = match (as_seen, k.target_group.get()) {
        (false, Some(tg)) => crate::resources::targetgroup::health(i.ctx, tg)
            .await
            .unwrap_or_default(),
        _ => seen.targets.clone(),
    };
    let pem = crate::shell::quote(&specs.key.pem.display().to_string());
    let instances = servers
        .iter()
        .map(|m| ServerReport {
            id: m.id.clone(),
            zone: m.zone.clone(),
            public_ip: m.public_ip.clone(),
            health: health
                .iter()
                .find(|h| h.id == m.id)
                .map(|h| h.state.as_str().to_string())
                .unwrap_or_else(|| "unregistered".into()),
            ssh_command: m
                .public_ip
                .as_ref()
                .map(|ip| format!("ssh -i {pem} ec2-user@{ip}")),
        })
        .collect();
    let zones = lb.zones.len().max(1);
    let launch = &specs.launch;
    let expires_at = i.decision.expiry.at;
    let proof = rollout.proof.unwrap_or_default();
    let totals = Totals::of(&resources);
    let retired_hours = seen.load_balancer.ours().map_or(0.0, |l| l.retired_hours())
        + *k.retired_hours.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Summary {
        deployment: specs.name.clone(),
        region: i.ctx.region.clone(),
        url: k.site_url(&lb, specs.listener.port),
        load_balancer_dns: lb.dns_name.clone(),
        instances,
        ssh_cidr,
        resources,
        totals,
        replaced: rollout.replaced,
        site: SiteReport {
            checked: proof.status.is_some() || !proof.template.is_empty(),
            status: proof.status,
            live_template: Some(proof.template).filter(|t| !t.is_empty()),
        },
        expires_at: expires_at.map(expiry::rfc3339),
        expires: expires_at,
        left_after_expiry: specs
            .bucket
            .left_after_expiry(&specs.profile.name)
            .unwrap_or_default(),
        cost: crate::cost::estimate(
            &launch.instance_type,
            launch.root_volume_gb,
            zones,
            specs.count,
            specs.distribution.wanted,
        )?,
        cost_so_far: crate::cost::so_far(
            &launch.instance_type,
            launch.root_volume_gb,
            zones,
            crate::cost::hours_since(lb.created),
            &servers
                .iter()
                .map(|m| crate::cost::hours_since(m.launched))
                .collect::<Vec<_>>(),
            retired_hours,
        )?,
        warnings,
    })
}
