//! After the graph: the site proven on the new web servers, then what they
//! take the place of retired (the decision's delete and replace rows), or, when
//! the proof fails, the new ones undone so the old keep serving.
//!
//! ```text
//! prove (site::prove): every new web server healthy, and (unless
//!       --no-site-check) its marker seen through the load balancer
//!   ok:     instances of an earlier template (or a crashed run), or the single
//!           instances a group replaces: deregistered, drained, terminated;
//!           a roll: the old members retired; back at count = 1: the group
//!           and its template deleted; the expiry names what now serves
//!   failed: the cause and the failing server's boot output; in a
//!           replacement the new servers go and the expiry names the old again
//! ```

use anyhow::{Context, Result};

use crate::apply::{Inputs, Known};
use crate::resources::expiry::{self, Servers as ExpiryServers};
use crate::resources::{
    autoscaling, bucket, distribution, domain, instance, launchtemplate, profile, targetgroup,
};
use crate::site::Proof;
use crate::table::Servers;

/// Options of the proof.
#[derive(Debug, Clone)]
pub struct ProofOptions {
    /// Prove the content through the load balancer (`false`: healthy targets
    /// are enough).
    pub site_check: bool,
    /// Longest wait for the proof.
    pub limit: std::time::Duration,
    /// Send the site check to this address instead of the load balancer's.
    pub resolve: Option<std::net::SocketAddr>,
    /// How long a new web server may fail its health checks after its launch.
    pub boot_grace: std::time::Duration,
}

/// What the rollout did.
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    /// What the proof saw, when it ran.
    pub proof: Option<Proof>,
    /// The web servers retired (deregistered and terminated).
    pub replaced: Vec<String>,
}

/// What the new web servers take the place of.
struct Old {
    /// Instances still serving that go once the new are proven.
    instances: Vec<String>,
    /// Single instances retired by deregistering and terminating them (not a
    /// group's own members, which the group retires).
    singles: Vec<String>,
    /// A roll of the group under way.
    roll: Option<autoscaling::Roll>,
    /// The group of an earlier `count > 1` (deleted, with its template).
    old_fleet: bool,
    /// A group made by this deploy beside single instances.
    new_fleet: bool,
}

fn old(i: &Inputs<'_>, k: &Known) -> Old {
    match &i.decision.servers {
        Servers::Single {
            single,
            old_group,
            old_template,
            ..
        } => {
            let singles: Vec<String> = single.retire.iter().map(|r| r.id.clone()).collect();
            Old {
                instances: singles.clone(),
                singles,
                roll: None,
                old_fleet: old_group.is_some() || old_template.is_some(),
                new_fleet: false,
            }
        }
        Servers::Fleet { singles, group, .. } => {
            let roll = k.roll.get().cloned().flatten();
            let singles: Vec<String> = singles.iter().map(|s| s.id.clone()).collect();
            let mut instances = singles.clone();
            instances.extend(roll.iter().flat_map(|r| r.old.clone()));
            Old {
                instances,
                singles,
                roll,
                old_fleet: false,
                new_fleet: *group == autoscaling::Action::Create,
            }
        }
    }
}

/// Proves the site on the new web servers, then retires the old (or undoes
/// the new when the proof fails).
pub async fn run(i: &Inputs<'_>, k: &Known, opts: &ProofOptions) -> Result<Rollout> {
    let old = old(i, k);
    let servers = k.servers.get().context("no web server")?;
    let ids: Vec<String> = servers.iter().map(|m| m.id.clone()).collect();
    let mut out = Rollout::default();
    if opts.site_check || !old.instances.is_empty() || old.old_fleet {
        match prove(i, k, opts, &ids, &old).await {
            Ok(p) => out.proof = Some(p),
            Err(e) => return Err(failed(i, k, &ids, &old, e).await),
        }
    }
    retire(i, k, &old).await?;
    let mut gone = old.instances.clone();
    match &i.decision.servers {
        Servers::Single {
            old_group: Some(g), ..
        } => gone.extend(g.members.iter().map(|m| m.id.clone())),
        Servers::Fleet {
            group: autoscaling::Action::Update(c),
            ..
        } => gone.extend(c.shrink.iter().cloned()),
        _ => {}
    }
    crate::apply::record_retired(i, k, &gone).await;
    out.replaced = old.instances;
    Ok(out)
}

async fn prove(
    i: &Inputs<'_>,
    k: &Known,
    opts: &ProofOptions,
    ids: &[String],
    old: &Old,
) -> Result<Proof> {
    let lb = k.active.get().context("the load balancer is not known")?;
    let tg = k
        .target_group
        .get()
        .context("the target group is not known")?;
    let url = crate::site::check_url(&k.proof_url(lb, i.specs.listener.port), opts.resolve);
    let s = i.progress.step("site");
    s.set("waiting for the health check");
    let watch = crate::site::Watch {
        ctx: i.ctx,
        marker: i.specs.marker.clone(),
        tg,
        current: ids,
        old: &old.instances,
        url: &url,
        resolve: opts.resolve,
        limit: opts.limit,
        boot_grace: opts.boot_grace,
        check_site: opts.site_check,
    };
    let r = crate::site::prove(&watch, |st, t| s.waiting(st, t)).await;
    match &r {
        Ok(p) if !opts.site_check => s.done(&format!("{} healthy", ids.join(", "))),
        Ok(p) if p.template.is_empty() => s.done(&format!("{url} answers HTTP 200")),
        Ok(p) => s.done(&format!(
            "{} serves template {}",
            ids.join(", "),
            p.template
        )),
        Err(e) => s.fail(&format!("{e:#}")),
    }
    r
}

/// The new web servers are proven: what they take the place of goes.
async fn retire(i: &Inputs<'_>, k: &Known, old: &Old) -> Result<()> {
    let ctx = i.ctx;
    if let Some(roll) = &old.roll {
        let s = i.progress.step("old instances");
        s.set(&format!("retiring {} from the group", roll.old.join(", ")));
        let r = autoscaling::roll_finish(ctx, &i.specs.fleet, roll).await;
        finish(&s, r, |_| {
            format!(
                "{} retired (the group drains, then terminates them)",
                roll.old.join(", ")
            )
        })?;
    }
    if !old.singles.is_empty() {
        let tg = k
            .target_group
            .get()
            .context("the target group is not known")?;
        let others = &old.singles;
        let s = i.progress.step("old instances");
        let r = async {
            s.set(&format!("deregistering {}", others.join(", ")));
            targetgroup::deregister(ctx, tg, others).await?;
            s.set(&format!("draining {}", others.join(", ")));
            targetgroup::wait_drained(ctx, tg, others, i.wait_limit, |st, t| s.waiting(st, t))
                .await?;
            s.set(&format!("terminating {}", others.join(", ")));
            instance::terminate(ctx, others).await
        }
        .await;
        finish(&s, r, |_| {
            format!("drained and terminated {}", others.join(", "))
        })?;
        // The expiry named them too while they served: now only what serves.
        if let Servers::Single { .. } = &i.decision.servers {
            point_expiry(i, k, ExpiryServers::Instances(vec![served(k)?])).await?;
        }
    }
    if old.old_fleet {
        let s = i.progress.step("Auto Scaling group");
        s.set("deleting it and its instances (count = 1)");
        let r = remove_old_fleet(i, |st, t| s.waiting(st, t)).await;
        finish(&s, r, |_| "deleted; one instance serves".to_string())?;
    }
    // `[https] enabled = false`: the load balancer serves again (proven), so
    // the distribution goes: disabled, deployed so, deleted (minutes on AWS).
    if let (distribution::Action::Delete, Some(d)) =
        (&i.decision.distribution, i.seen.distribution.ours())
    {
        let s = i.progress.step("https");
        s.set("disabling the CloudFront distribution");
        let r = distribution::delete(ctx, d, i.wait_limit, |st, t| s.waiting(st, t)).await;
        finish(&s, r, |_| {
            format!("deleted the CloudFront distribution {}", d.id)
        })?;
    }
    retire_certificates(i, k).await;
    retire_content(i).await
}

/// The deployment's earlier content, now that no web server reads it: moved
/// to `_retired/`, where the bucket's lifecycle rule deletes it a day later
/// (without `[site]`: all of it, and the instance profile is deleted).
async fn retire_content(i: &Inputs<'_>) -> Result<()> {
    let spec = &i.specs.bucket;
    let retire = i
        .decision
        .bucket
        .work()
        .map(|w| &w.retire[..])
        .unwrap_or_default();
    if !retire.is_empty() {
        let s = i.progress.step("site content");
        s.set("retiring earlier content");
        let r = bucket::retire(i.ctx, spec, retire).await;
        finish(&s, r, |()| {
            format!(
                "moved {} to {}: the bucket's lifecycle rule deletes it a day later",
                retire.join(", "),
                bucket::RETIRED_PREFIX
            )
        })?;
    }
    if i.decision.profile == profile::Action::Delete {
        let s = i.progress.step("instance profile");
        s.set("deleting (no [site] any more)");
        let r = profile::delete(i.ctx, &i.specs.profile, &i.seen.profile).await;
        finish(&s, r, |_| format!("deleted {}", i.specs.profile.name))?;
    }
    Ok(())
}

/// How long deploy retries a certificate CloudFront still holds (it stays
/// "in use" for a while after its distribution let it go); after that it is
/// left for the next deploy or cleanup (a public certificate costs nothing).
const CERT_RETRY: std::time::Duration = std::time::Duration::from_secs(120);

/// Certificates no longer used (an earlier domain's, a failed one, the
/// domain removed) go once the distribution no longer names them; one still
/// in use is left, with a note.
async fn retire_certificates(i: &Inputs<'_>, k: &Known) {
    for c in &i.decision.domain.stale {
        let s = i.progress.step("certificate");
        s.set(&format!("deleting {} ({})", c.arn, c.domain));
        let limit = CERT_RETRY.min(i.wait_limit);
        let r = domain::delete_certificate(i.ctx, c, limit, |e, t| s.refused(e, t)).await;
        match r {
            Ok(_) => s.done(&format!("deleted {} ({})", c.arn, c.domain)),
            Err(e) => {
                s.done(&format!("left {}: still in use", c.arn));
                k.notes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!(
                        "certificate {} ({}) is no longer used but CloudFront still held it: the \
                     next deploy or cleanup deletes it (it costs nothing): {e:#}",
                        c.arn, c.domain
                    ));
            }
        }
    }
}

fn served(k: &Known) -> Result<String> {
    Ok(k.instance
        .get()
        .context("the instance is not known")?
        .id
        .clone())
}

/// Back at `count = 1`: the group of an earlier deploy and its template go.
async fn remove_old_fleet(
    i: &Inputs<'_>,
    on_wait: impl FnMut(&str, std::time::Duration),
) -> Result<()> {
    let Servers::Single {
        old_group,
        old_template,
        ..
    } = &i.decision.servers
    else {
        return Ok(());
    };
    if old_group.is_some() {
        autoscaling::delete(i.ctx, &i.specs.fleet, i.wait_limit, on_wait).await?;
    }
    if let Some(lt) = old_template {
        launchtemplate::delete(i.ctx, lt).await?;
    }
    Ok(())
}

/// Rewrites the web servers' schedule to name `servers` (when the expiry is on).
async fn point_expiry(i: &Inputs<'_>, k: &Known, servers: ExpiryServers) -> Result<()> {
    let Some(at) = i.decision.expiry.at else {
        return Ok(());
    };
    let spec = &i.specs.expiry;
    let fresh = k.fresh_role.get().copied().unwrap_or(false);
    let target = expiry::servers_target(spec, &servers);
    let name = &spec.servers_schedule;
    expiry::apply_schedule(
        i.ctx,
        spec,
        name,
        &expiry::Action::Update,
        at,
        target,
        fresh,
    )
    .await
}

fn finish<T>(s: &crate::progress::Step, r: Result<T>, msg: impl FnOnce(&T) -> String) -> Result<T> {
    match &r {
        Ok(v) => s.done(&msg(v)),
        Err(e) => s.fail(&format!("{e:#}")),
    }
    r
}

/// The site check failed: the cause and the failing web server's last boot
/// output; in a replacement (old web servers still serving), the new ones are
/// undone so the old keep the site up, and the expiry names the old again.
async fn failed(
    i: &Inputs<'_>,
    k: &Known,
    new: &[String],
    old: &Old,
    e: anyhow::Error,
) -> anyhow::Error {
    let ctx = i.ctx;
    let failure = e.downcast_ref::<crate::site::SiteFailure>();
    // A failure between here and the load balancer: no boot output says
    // anything about it.
    let who = match failure.is_some_and(|f| f.network) {
        true => None,
        false => failure
            .and_then(|f| f.instance.clone())
            .filter(|id| new.contains(id))
            .or_else(|| new.first().cloned()),
    };
    let mut msg = format!("the site check failed: {e:#}");
    if let Some(id) = &who {
        match crate::console::output(ctx, id).await {
            Ok(text) if !text.trim().is_empty() => msg.push_str(&format!(
                "\n\nLast 30 lines of {id}'s boot output (all of it: `logs`):\n{}",
                crate::console::tail(&text, 30)
            )),
            Ok(_) => msg.push_str(&format!("\n\n{id} has no boot output yet.")),
            Err(c) => msg.push_str(&format!("\n\n(could not read {id}'s boot output: {c:#})")),
        }
    }
    let template = &i.specs.launch.template;
    if old.instances.is_empty() {
        msg.push_str(&format!(
            "\n\nThe deployment is left as it is (see `status`); fix the cause and run deploy \
             again, or remove it with cleanup. Template: {template}."
        ));
        return anyhow::anyhow!(msg);
    }
    let s = i.progress.step("rollback");
    let r = undo(i, k, new, old, &s).await;
    if r.is_ok() {
        crate::apply::record_retired(i, k, new).await;
    }
    match r {
        Ok(()) => {
            s.done(&format!(
                "{} removed; {} still serve the previous site",
                new.join(", "),
                old.instances.join(", ")
            ));
            msg.push_str(&format!(
                "\n\nThe new web server(s) {} were deregistered and terminated; {} still \
                 serve the previous site. Template {template} was not deployed.",
                new.join(", "),
                old.instances.join(", "),
            ));
        }
        Err(r) => {
            s.fail(&format!("{r:#}"));
            msg.push_str(&format!(
                "\n\nRemoving the new web server(s) failed too: {r:#}. Run deploy again."
            ));
        }
    }
    anyhow::anyhow!(msg)
}

/// Undoes the new web servers: a roll back to the group's previous version,
/// a group made by this deploy deleted, or single instances deregistered and
/// terminated; the expiry names the old single instances again.
async fn undo(
    i: &Inputs<'_>,
    k: &Known,
    new: &[String],
    old: &Old,
    s: &crate::progress::Step,
) -> Result<()> {
    let ctx = i.ctx;
    match (&old.roll, old.new_fleet) {
        (Some(roll), _) => {
            s.set(&format!(
                "{} back on its previous version; retiring {}",
                i.specs.fleet.name,
                new.join(", ")
            ));
            autoscaling::roll_back(ctx, &i.specs.fleet, roll, new).await?;
        }
        (None, true) => {
            s.set(&format!(
                "deleting {} and its instances",
                i.specs.fleet.name
            ));
            autoscaling::delete(ctx, &i.specs.fleet, i.wait_limit, |st, t| s.waiting(st, t))
                .await?;
            if let Some(lt) = k.template.get() {
                launchtemplate::delete(ctx, lt).await?;
            }
        }
        (None, false) => {
            let tg = k
                .target_group
                .get()
                .context("the target group is not known")?;
            s.set(&format!("deregistering {}", new.join(", ")));
            targetgroup::deregister(ctx, tg, new).await?;
            s.set(&format!("terminating {}", new.join(", ")));
            instance::terminate(ctx, new).await?;
        }
    }
    if !old.singles.is_empty() {
        let back = ExpiryServers::Instances(old.singles.clone());
        point_expiry(i, k, back).await.map_err(|x| {
            anyhow::anyhow!(
                "the expiry schedule could not be pointed back at {}: {x:#}; run deploy again",
                old.singles.join(", ")
            )
        })?;
    }
    Ok(())
}
