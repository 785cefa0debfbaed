//! The cleanup graph, deploy's in reverse. Everything is found by this tool's
//! tags and the deployment's names (one observation, the same as status's),
//! so cleanup needs no local state. Every step is attempted and every failure
//! reported:
//!
//! ```text
//! observe (the report's rows, and what each step deletes)
//! schedule group (its schedules with it), then the region's role if unused
//! drop the web group's rule that references the lb group | listeners
//! load balancer -> gone -> its interfaces gone -> lb group (retried)
//!   | Auto Scaling group -> gone -> instances -> terminated -> launch template,
//!     web group (retried)
//!   | target group | key pair + .pem
//!   | DNS records -> CloudFront distribution: disabled -> deployed -> deleted
//!     -> certificates (retried while CloudFront still holds them)
//! ```

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Observed, Purpose};
use crate::output::{Entry, Totals};
use crate::preview::LocalFile;
use crate::progress::{Progress, Step};
use crate::resources::{
    autoscaling, bucket, distribution, domain, expiry, instance, keypair, launchtemplate, listener,
    loadbalancer, profile, secgroup, targetgroup, Deleted, Seen, Verb,
};
use crate::spec::Specs;
use crate::table::{self, Kind, Row};

/// Options of one cleanup run.
#[derive(Debug, Clone)]
pub struct CleanupOptions {
    /// How long to keep retrying a security group AWS still holds.
    pub sg_limit: Duration,
    /// Longest wait for the load balancer and instances to go.
    pub wait_limit: Duration,
}

impl Default for CleanupOptions {
    fn default() -> Self {
        CleanupOptions {
            sg_limit: Duration::from_secs(15 * 60),
            wait_limit: Duration::from_secs(15 * 60),
        }
    }
}

/// What cleanup did: every resource found (and any a step deleted or failed
/// on besides) with the action applied, in the vocabulary of every view
/// (`delete`; `keep` for what it leaves), and the local files it deleted.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// Every resource and what cleanup did to it; `error` says why a step
    /// failed (what it names may still be there).
    pub resources: Vec<Entry>,
    /// Local files deleted with the key pair (its .pem).
    pub local_files: Vec<LocalFile>,
    /// How many rows each action has.
    pub totals: Totals,
    /// Whether every step succeeded: nothing of the deployment is left.
    pub complete: bool,
}

/// A step's result as a row: its action, a note, and the error.
fn applied(r: &Result<Deleted>) -> Option<(Verb, &'static str, Option<String>)> {
    match r {
        Ok(Deleted::Deleted) => Some((Verb::Delete, "", None)),
        Ok(Deleted::Absent) => None,
        Ok(Deleted::Foreign) => Some((Verb::Keep, "left alone: not created by this tool", None)),
        Ok(Deleted::Kept) => Some((Verb::Keep, "other deployments in this region use it", None)),
        Err(e) => Some((Verb::Delete, "", Some(format!("{e:#}")))),
    }
}

/// Each kind's step result.
type Steps = Vec<(Kind, Result<Deleted>)>;

/// The web servers' steps: the group, the instances, the launch template, the
/// web group.
type Servers = (
    Result<Deleted>,
    Result<Deleted>,
    Result<Deleted>,
    Result<Deleted>,
);

impl Report {
    /// The failed rows.
    pub fn failures(&self) -> Vec<&Entry> {
        self.resources
            .iter()
            .filter(|s| s.error.is_some())
            .collect()
    }

    /// The report: each observed row with its kind's step result (a row whose
    /// step found it already gone says so); a step that deleted, left alone
    /// or failed on something not observed (the region's role), or a look-up
    /// that failed, adds its own row.
    fn new(
        s: &Specs,
        region: &str,
        rows: Vec<(Kind, Row)>,
        steps: &Steps,
        lookups: &[String],
        local_files: Vec<LocalFile>,
    ) -> Report {
        let step_of = |kind: Kind| steps.iter().find(|(k, _)| *k == kind).map(|(_, r)| r);
        let mut resources: Vec<Entry> = rows
            .into_iter()
            .map(|(kind, mut row)| {
                let (action, note, error) = match step_of(kind).map(applied) {
                    Some(Some(x)) => x,
                    _ => (Verb::Delete, "already gone", None),
                };
                if !note.is_empty() {
                    row.detail = note.to_string();
                }
                Entry { row, action, error }
            })
            .collect();
        for (kind, r) in steps {
            let listed = resources
                .iter()
                .any(|x| x.row.kind == kind.label() && x.row.name == kind.name(s));
            // A target has no step of its own: it goes with its instance.
            // Nor is a role kept for other deployments news, unless listed.
            if listed || *kind == Kind::Target || matches!(r, Ok(Deleted::Kept)) {
                continue;
            }
            if let Some((action, note, error)) = applied(r) {
                let row = Row::new(*kind, kind.name(s), "").detail(note);
                resources.push(Entry { row, action, error });
            }
        }
        for e in lookups {
            resources.push(Entry {
                row: Row {
                    kind: "look-up",
                    name: s.name.clone(),
                    id: String::new(),
                    detail: String::new(),
                },
                action: Verb::Keep,
                error: Some(e.clone()),
            });
        }
        let totals = Totals::of(&resources);
        let complete = resources.iter().all(|r| r.error.is_none());
        Report {
            deployment: s.name.clone(),
            region: region.to_string(),
            resources,
            local_files,
            totals,
            complete,
        }
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if self.resources.is_empty() {
            s.push_str(&format!(
                "Nothing to delete: no resource of deployment {} was found in {}.\n",
                self.deployment, self.region
            ));
            return s;
        }
        for r in &self.resources {
            let what = match &r.error {
                Some(_) => "failed".to_string(),
                None => r.action.done().to_string(),
            };
            s.push_str(&format!(
                "  {:<15} {:<28} {:<24} {}{}\n",
                r.row.kind,
                r.row.name,
                r.row.short_id(),
                what,
                match r.row.detail.is_empty() {
                    true => String::new(),
                    false => format!(" ({})", r.row.detail),
                }
            ));
        }
        for f in &self.local_files {
            s.push_str(&format!("  {:<15} {:<28} deleted\n", "local file", f.path));
        }
        s.push_str(&format!("  ({})\n", self.totals.to_past_line()));
        let failures = self.failures();
        if failures.is_empty() && self.totals.delete == 0 {
            s.push_str(&format!(
                "Nothing to delete: no resource of deployment {} was found in {}.\n",
                self.deployment, self.region
            ));
        } else if failures.is_empty() {
            s.push_str(&format!("Deployment {} is gone.\n", self.deployment));
        } else {
            s.push_str(&format!(
                "\n{} step(s) failed; what they name is still there:\n",
                failures.len()
            ));
            for f in failures {
                s.push_str(&format!(
                    "  {} {}: {}\n",
                    f.row.kind,
                    f.row.name,
                    f.error.as_deref().unwrap_or("")
                ));
            }
            s.push_str("Run cleanup again once the cause is fixed.\n");
        }
        s
    }
}

/// Deletes every resource of the deployment; returns what happened to each.
pub async fn run(ctx: &Ctx, s: &Specs, opts: &CleanupOptions, progress: &Progress) -> Report {
    let seen = observe(ctx, s, Purpose::View).await;
    let rows = table::existing_by_kind(s, &seen);
    let pem = crate::preview::local_files(s, seen.key.ours().is_some());
    let c = Cleanup {
        ctx,
        s,
        seen: &seen,
        opts,
        progress,
    };

    // The expiry schedules first, so none fires later against a new
    // deployment of the same name; the role with the region's last ones.
    let schedules = c
        .tracked(
            "expiry schedules",
            expiry::delete_group(ctx, &s.expiry.group),
        )
        .await;
    // Meanwhile the web group's rule that references the load balancer's
    // group goes, so each group can go as soon as its own holder is gone.
    let (refs, listeners) = tokio::join!(
        c.drop_references(),
        c.tracked("listener", async {
            match seen.load_balancer.ours() {
                Some(_) => listener::delete(ctx, &seen.listeners).await,
                None => Ok(absent_or_foreign(&seen.load_balancer)),
            }
        })
    );
    if let Err(e) = refs {
        tracing::warn!("could not remove the load balancer rule from the web group: {e:#}");
    }
    let ((lb, lb_sg), ((fleet, inst, lt, web_sg), content, prof), tg, key, role, (dns, cdn, certs)) = tokio::join!(
        c.load_balancer(),
        c.servers_then_content(),
        c.tracked("target group", async {
            match seen.target_group.ours() {
                Some(tg) => targetgroup::delete(ctx, tg, opts.wait_limit).await,
                None => Ok(absent_or_foreign(&seen.target_group)),
            }
        }),
        async {
            let step = progress.step("key pair");
            step.set("deleting");
            let r = match seen.key.ours() {
                Some(k) => keypair::delete(ctx, &s.key, k).await,
                None => Ok(Deleted::Absent),
            };
            match (&r, pem.first()) {
                (Ok(Deleted::Deleted), Some(f)) => step.done(&format!("deleted, and {}", f.path)),
                _ => finish(&step, &r),
            }
            r
        },
        async {
            match &schedules {
                Ok(_) => expiry::delete_role_if_unused(ctx, &s.expiry).await,
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            }
        },
        c.https(),
    );
    // A group's instances go with the group: they count as deleted by it.
    let servers = match (&fleet, &inst) {
        (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("{e:#}")),
        (Ok(Deleted::Deleted), _) | (_, Ok(Deleted::Deleted)) => Ok(Deleted::Deleted),
        (_, Ok(d)) => Ok(*d),
    };
    let again = |r: &Result<Deleted>| match r {
        Ok(d) => Ok(*d),
        Err(e) => Err(anyhow::anyhow!("{e:#}")),
    };
    // A schedule goes with its group.
    let schedule = |found: &Option<expiry::Schedule>| match (&schedules, found) {
        (Err(e), _) => Err(anyhow::anyhow!("{e:#}")),
        (Ok(_), Some(_)) => Ok(Deleted::Deleted),
        (Ok(_), None) => Ok(Deleted::Absent),
    };
    let steps: Steps = vec![
        (Kind::KeyPair, key),
        (Kind::Bucket, content),
        (Kind::Profile, prof),
        (Kind::LbGroup, lb_sg),
        (Kind::WebGroup, web_sg),
        (Kind::TargetGroup, tg),
        (Kind::LoadBalancer, lb),
        (Kind::Listener, listeners),
        (Kind::DnsRecords, dns),
        (Kind::Distribution, cdn),
        (Kind::Certificate, certs),
        (Kind::LaunchTemplate, lt),
        (Kind::AutoScalingGroup, fleet),
        (Kind::Instance, again(&servers)),
        (Kind::Target, servers),
        (Kind::ExpiryRole, role),
        (Kind::LbSchedule, schedule(&seen.expiry.lb)),
        (Kind::ServersSchedule, schedule(&seen.expiry.servers)),
        (Kind::ScheduleGroup, schedules),
    ];
    let key_deleted = steps
        .iter()
        .any(|(k, r)| *k == Kind::KeyPair && matches!(r, Ok(Deleted::Deleted)));
    let local = if key_deleted { pem } else { Vec::new() };
    Report::new(s, &ctx.region, rows, &steps, &seen.errors, local)
}

fn absent_or_foreign<T>(seen: &Seen<T>) -> Deleted {
    match seen {
        Seen::Foreign(_) => Deleted::Foreign,
        _ => Deleted::Absent,
    }
}

/// What every step of one cleanup shares.
struct Cleanup<'a> {
    ctx: &'a Ctx,
    s: &'a Specs,
    seen: &'a Observed,
    opts: &'a CleanupOptions,
    progress: &'a Progress,
}

impl Cleanup<'_> {
    async fn tracked(
        &self,
        name: &str,
        fut: impl std::future::Future<Output = Result<Deleted>>,
    ) -> Result<Deleted> {
        let step = self.progress.step(name);
        step.set("deleting");
        let r = fut.await;
        finish(&step, &r);
        r
    }

    async fn drop_references(&self) -> Result<()> {
        match (self.seen.web_group.ours(), self.seen.lb_group.ours()) {
            (Some(web), Some(lb)) => secgroup::revoke_references(self.ctx, web, &lb.group).await,
            _ => Ok(()),
        }
    }

    /// The load balancer (waiting until it and its interfaces are gone), then
    /// its group.
    async fn load_balancer(&self) -> (Result<Deleted>, Result<Deleted>) {
        let step = self.progress.step("load balancer");
        step.set("deleting");
        let lb = match self.seen.load_balancer.ours() {
            Some(lb) => {
                let w = |st: &str, t| step.waiting(st, t);
                loadbalancer::delete(self.ctx, lb, self.opts.wait_limit, w).await
            }
            None => Ok(absent_or_foreign(&self.seen.load_balancer)),
        };
        finish(&step, &lb);
        let sg = self
            .group(&self.seen.lb_group, limit_after(self.opts, &lb))
            .await;
        (lb, sg)
    }

    /// The domain's records (they name the distribution: found only while
    /// it is there), the distribution, then the certificates it used.
    async fn https(&self) -> (Result<Deleted>, Result<Deleted>, Result<Deleted>) {
        let (ctx, found) = (self.ctx, &self.seen.domain);
        let cdn_name = self.seen.distribution.ours().map(|d| d.domain.as_str());
        let dns = match found.ours(cdn_name).is_empty() && !found.failed {
            true => Ok(Deleted::Absent),
            false => {
                let r = domain::delete_records(ctx, found, cdn_name);
                self.tracked("DNS records", r).await
            }
        };
        // Records pointing at a deleted distribution could never be proven
        // ours again: the distribution stays until they are gone.
        let cdn = match &dns {
            Ok(_) => self.distribution().await,
            Err(e) if self.seen.distribution.ours().is_some() => Err(anyhow::anyhow!(
                "left until its DNS records are deleted (they point at it): {e:#}"
            )),
            Err(_) => Ok(absent_or_foreign(&self.seen.distribution)),
        };
        if found.certificates.is_empty() {
            return (dns, cdn, Ok(Deleted::Absent));
        }
        let step = self.progress.step("certificate");
        if let Err(e) = &cdn {
            let r = Err(anyhow::anyhow!(
                "left: the distribution that uses it is still there ({e:#})"
            ));
            finish(&step, &r);
            return (dns, cdn, r);
        }
        step.set("deleting (CloudFront holds it a while after the distribution)");
        let mut certs = Ok(Deleted::Absent);
        for c in &found.certificates {
            let w = |e: &anyhow::Error, t| step.refused(e, t);
            match domain::delete_certificate(ctx, c, self.opts.wait_limit, w).await {
                Ok(Deleted::Deleted) if certs.is_ok() => certs = Ok(Deleted::Deleted),
                Ok(_) => {}
                Err(e) => certs = Err(e),
            }
        }
        finish(&step, &certs);
        (dns, cdn, certs)
    }

    /// The CloudFront distribution: disabled, deployed so, then deleted
    /// (minutes on AWS; alongside the other deletions).
    async fn distribution(&self) -> Result<Deleted> {
        let seen = &self.seen.distribution;
        let Some(d) = seen.ours() else {
            return Ok(absent_or_foreign(seen));
        };
        let step = self.progress.step("distribution");
        step.set(match d.enabled {
            true => "disabling",
            false => "waiting for the disable to deploy",
        });
        let w = |st: &str, t| step.waiting(st, t);
        let r = distribution::delete(self.ctx, d, self.opts.wait_limit, w).await;
        finish(&step, &r);
        r
    }

    /// The web servers ([`Cleanup::servers`]), then what they read at boot
    /// (`[site]`: the content and the instance profile), only once they are
    /// gone: a group left behind would launch servers that need them.
    async fn servers_then_content(&self) -> (Servers, Result<Deleted>, Result<Deleted>) {
        let (ctx, s, seen) = (self.ctx, self.s, self.seen);
        let servers = self.servers().await;
        // A look-up that failed may have hidden a group or an instance.
        let failed = [&servers.0, &servers.1]
            .into_iter()
            .find_map(|r| r.as_ref().err().map(|e| format!("{e:#}")))
            .or_else(|| {
                seen.errors
                    .first()
                    .map(|e| format!("a look-up failed: {e}"))
            });
        if let Some(e) = failed {
            let why = format!("kept while web servers may still read it ({e})");
            return (
                servers,
                Err(anyhow::anyhow!("{why}")),
                Err(anyhow::anyhow!("{why}")),
            );
        }
        let (content, prof) = tokio::join!(
            self.tracked("site content", bucket::delete(ctx, &s.bucket, &seen.bucket)),
            self.tracked(
                "instance profile",
                profile::delete(ctx, &s.profile, &seen.profile)
            ),
        );
        (servers, content, prof)
    }

    /// The group first (it would replace what is terminated under it), then
    /// every instance left, then the launch template and the web group.
    async fn servers(&self) -> Servers {
        let (ctx, seen, limit) = (self.ctx, self.seen, self.opts.wait_limit);
        let step = self.progress.step("Auto Scaling group");
        step.set("deleting");
        let fleet = match seen.fleet.ours() {
            Some(_) => {
                autoscaling::delete(ctx, &self.s.fleet, limit, |st, t| step.waiting(st, t)).await
            }
            None => Ok(absent_or_foreign(&seen.fleet)),
        };
        finish(&step, &fleet);
        let step = self.progress.step("instance");
        step.set("deleting");
        // The group's own instances went with it.
        let gone_with_group = matches!(fleet, Ok(Deleted::Deleted));
        let left: Vec<instance::Instance> = seen
            .instances
            .iter()
            .filter(|i| !(gone_with_group && i.in_fleet()))
            .cloned()
            .collect();
        let inst = instance::delete(ctx, &left, limit, |st, t| step.waiting(st, t)).await;
        let with_group = seen.instances.len() - left.len();
        match (&inst, with_group) {
            (Ok(Deleted::Absent), n) if n > 0 => {
                step.done(&format!("{n} deleted with the Auto Scaling group"))
            }
            _ => finish(&step, &inst),
        }
        let lt = self
            .tracked("launch template", async {
                match seen.launch_template.ours() {
                    Some(lt) => launchtemplate::delete(ctx, lt).await,
                    None => Ok(absent_or_foreign(&seen.launch_template)),
                }
            })
            .await;
        let holders = match (&fleet, &inst) {
            (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("{e:#}")),
            _ => Ok(Deleted::Deleted),
        };
        let sg = self
            .group(&seen.web_group, limit_after(self.opts, &holders))
            .await;
        (fleet, inst, lt, sg)
    }

    async fn group(&self, g: &Seen<secgroup::GroupState>, limit: Duration) -> Result<Deleted> {
        let Some(g) = g.ours() else {
            return Ok(Deleted::Absent);
        };
        let step = self.progress.step(&format!("group {}", g.group.name));
        step.set("deleting");
        let r = secgroup::delete(self.ctx, &g.group, limit, |e, t| step.refused(e, t)).await;
        finish(&step, &r);
        r
    }
}

/// A group whose holder failed to go gets one attempt, not the long retry.
fn limit_after(opts: &CleanupOptions, holder: &Result<Deleted>) -> Duration {
    if holder.is_ok() {
        opts.sg_limit
    } else {
        Duration::ZERO
    }
}

fn finish(step: &Step, r: &Result<Deleted>) {
    match r {
        Ok(Deleted::Deleted) => step.done("deleted"),
        Ok(Deleted::Absent) => step.done("nothing to delete"),
        Ok(Deleted::Foreign) => step.done("left alone: same name, not created by this tool"),
        Ok(Deleted::Kept) => step.done("kept: other deployments in this region use it"),
        Err(e) => step.fail(&format!("{e:#}")),
    }
}
