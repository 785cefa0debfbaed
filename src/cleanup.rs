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
//! ```

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Observed, Purpose};
use crate::progress::{Progress, Step};
use crate::resources::{
    autoscaling, expiry, instance, keypair, launchtemplate, listener, loadbalancer, secgroup,
    targetgroup, Deleted, Seen,
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

/// What happened to one resource: the table's row (as status showed it before
/// cleanup) and its step's result.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    /// The resource, as every view names it.
    #[serde(flatten)]
    pub row: Row,
    /// What its step did.
    pub result: Outcome,
    /// The error, for a failed step.
    pub error: Option<String>,
}

/// What cleanup did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Every resource found, and any a step deleted or failed on besides.
    pub resources: Vec<RowReport>,
}

/// What a step did to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// It is gone.
    #[serde(rename = "deleted")]
    Deleted,
    /// It was not there.
    #[serde(rename = "absent")]
    Absent,
    /// Same name, not this tool's tags: left alone.
    #[serde(rename = "left alone: not created by this tool")]
    LeftAlone,
    /// The region's role, used by other deployments: kept.
    #[serde(rename = "kept: other deployments in this region use it")]
    Kept,
    /// The step failed; it may still be there.
    #[serde(rename = "failed")]
    Failed,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Deleted => "deleted",
            Outcome::Absent => "absent",
            Outcome::LeftAlone => "left alone: not created by this tool",
            Outcome::Kept => "kept: other deployments in this region use it",
            Outcome::Failed => "failed",
        })
    }
}

fn result_of(r: &Result<Deleted>) -> (Outcome, Option<String>) {
    match r {
        Ok(Deleted::Deleted) => (Outcome::Deleted, None),
        Ok(Deleted::Absent) => (Outcome::Absent, None),
        Ok(Deleted::Foreign) => (Outcome::LeftAlone, None),
        Ok(Deleted::Kept) => (Outcome::Kept, None),
        Err(e) => (Outcome::Failed, Some(format!("{e:#}"))),
    }
}

/// Each kind's step result.
type Steps = Vec<(Kind, Result<Deleted>)>;

impl Report {
    /// The failed rows.
    pub fn failures(&self) -> Vec<&RowReport> {
        self.resources
            .iter()
            .filter(|s| s.result == Outcome::Failed)
            .collect()
    }

    /// Whether anything was deleted.
    pub fn deleted_any(&self) -> bool {
        self.resources.iter().any(|s| s.result == Outcome::Deleted)
    }

    /// The report: each observed row with its kind's step result; a step that
    /// deleted, left alone or failed on something not observed (the region's
    /// role), or a look-up that failed, adds its own row.
    fn new(s: &Specs, rows: Vec<(Kind, Row)>, steps: &Steps, lookups: &[String]) -> Report {
        let mut resources: Vec<RowReport> = rows
            .into_iter()
            .map(|(kind, row)| {
                let step = steps.iter().find(|(k, _)| *k == kind);
                let (result, error) = step
                    .map(|(_, r)| result_of(r))
                    .unwrap_or((Outcome::Absent, None));
                RowReport { row, result, error }
            })
            .collect();
        for (kind, r) in steps {
            let (result, error) = result_of(r);
            let listed = resources
                .iter()
                .any(|x| x.row.kind == kind.label() && x.row.name == kind.name(s));
            // A target has no step of its own: it goes with its instance.
            if result != Outcome::Absent && !listed && *kind != Kind::Target {
                let row = Row::new(*kind, kind.name(s), "");
                resources.push(RowReport { row, result, error });
            }
        }
        for e in lookups {
            resources.push(RowReport {
                row: Row {
                    kind: "look-up",
                    name: s.name.clone(),
                    id: String::new(),
                    detail: String::new(),
                },
                result: Outcome::Failed,
                error: Some(e.clone()),
            });
        }
        Report { resources }
    }

    /// The human-readable report.
    pub fn to_text(&self, deployment: &str) -> String {
        let mut s = String::new();
        let foreign = self
            .resources
            .iter()
            .any(|s| s.result == Outcome::LeftAlone);
        if !self.deleted_any() && self.failures().is_empty() && !foreign {
            s.push_str(&format!(
                "Nothing to delete: no resource of deployment {deployment} was found.\n"
            ));
            return s;
        }
        for r in &self.resources {
            s.push_str(&format!(
                "  {:<15} {:<28} {:<24} {}\n",
                r.row.kind,
                r.row.name,
                r.row.short_id(),
                r.result
            ));
        }
        let failures = self.failures();
        if failures.is_empty() {
            s.push_str(&format!("Deployment {deployment} is gone.\n"));
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
    let ((lb, lb_sg), (fleet, inst, lt, web_sg), tg, key, role) = tokio::join!(
        c.load_balancer(),
        c.servers(),
        c.tracked("target group", async {
            match seen.target_group.ours() {
                Some(tg) => targetgroup::delete(ctx, tg, opts.wait_limit).await,
                None => Ok(absent_or_foreign(&seen.target_group)),
            }
        }),
        c.tracked("key pair", async {
            match seen.key.ours() {
                Some(k) => keypair::delete(ctx, &s.key, k).await,
                None => Ok(Deleted::Absent),
            }
        }),
        async {
            match &schedules {
                Ok(_) => expiry::delete_role_if_unused(ctx, &s.expiry).await,
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            }
        },
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
        (Kind::LbGroup, lb_sg),
        (Kind::WebGroup, web_sg),
        (Kind::TargetGroup, tg),
        (Kind::LoadBalancer, lb),
        (Kind::Listener, listeners),
        (Kind::LaunchTemplate, lt),
        (Kind::AutoScalingGroup, fleet),
        (Kind::Instance, again(&servers)),
        (Kind::Target, servers),
        (Kind::ExpiryRole, role),
        (Kind::LbSchedule, schedule(&seen.expiry.lb)),
        (Kind::ServersSchedule, schedule(&seen.expiry.servers)),
        (Kind::ScheduleGroup, schedules),
    ];
    Report::new(s, rows, &steps, &seen.errors)
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

    /// The group first (it would replace what is terminated under it), then
    /// every instance left, then the launch template and the web group.
    async fn servers(
        &self,
    ) -> (
        Result<Deleted>,
        Result<Deleted>,
        Result<Deleted>,
        Result<Deleted>,
    ) {
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
        finish(&step, &inst);
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
        let r = secgroup::delete(self.ctx, &g.group, limit, |e, t| {
            step.waiting(&short_code(e), t)
        })
        .await;
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

fn short_code(e: &anyhow::Error) -> String {
    format!(
        "{} (still in use), retrying",
        crate::aws::code(e).unwrap_or("refused")
    )
}
