//! The cleanup graph, deploy's in reverse. Everything is found by this tool's
//! tags and the deployment's names, so cleanup needs no local state. Every step
//! is attempted and every failure reported:
//!
//! ```text
//! observe the table (the report's rows; the load balancer and groups found once)
//! expiry schedules (and the region's role, with its last deployment)
//! drop the web group's rule referencing the lb group
//! listener
//! load balancer -> gone -> its interfaces gone -> lb group
//!   | Auto Scaling group -> gone -> instances -> terminated -> launch template, web group
//!   | target group | key pair + .pem
//! ```

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::Plan;
use crate::progress::Progress;
use crate::resources::loadbalancer::{self, LoadBalancer};
use crate::resources::{
    autoscaling, expiry, instance, keypair, launchtemplate, secgroup, targetgroup, Deleted,
};
use crate::table::{self, Kind, Row, Seen};

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
    /// `deleted`, `absent`, `left alone: ...` or `failed`.
    pub result: &'static str,
    /// The error, for a failed step.
    pub error: Option<String>,
}

/// What cleanup did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Every resource found, and any a step deleted or failed on besides.
    pub resources: Vec<RowReport>,
}

fn result_of(r: &Result<Deleted>) -> (&'static str, Option<String>) {
    match r {
        Ok(Deleted::Deleted) => ("deleted", None),
        Ok(Deleted::Absent) => ("absent", None),
        Ok(Deleted::Foreign) => ("left alone: not created by this tool", None),
        Err(e) => ("failed", Some(format!("{e:#}"))),
    }
}

impl Report {
    /// The failed rows.
    pub fn failures(&self) -> Vec<&RowReport> {
        self.resources
            .iter()
            .filter(|s| s.result == "failed")
            .collect()
    }

    /// Whether anything was deleted.
    pub fn deleted_any(&self) -> bool {
        self.resources.iter().any(|s| s.result == "deleted")
    }

    /// The report: each observed row with its kind's step result; a step that
    /// deleted, left alone or failed on something not observed adds its row.
    fn new(plan: &Plan, rows: Vec<Row>, steps: &[(Kind, &Result<Deleted>)]) -> Report {
        let mut resources: Vec<RowReport> = rows
            .into_iter()
            .map(|row| {
                let step = steps
                    .iter()
                    .find(|(k, _)| k.label() == row.kind && k.name(plan) == row.name)
                    .or_else(|| steps.iter().find(|(k, _)| k.label() == row.kind));
                let (result, error) = step.map(|(_, r)| result_of(r)).unwrap_or(("absent", None));
                RowReport { row, result, error }
            })
            .collect();
        for (kind, r) in steps {
            let (result, error) = result_of(r);
            let seen = resources
                .iter()
                .any(|x| x.row.kind == kind.label() && x.row.name == kind.name(plan));
            // A target has no step of its own: it goes with its instance.
            if result != "absent" && !seen && *kind != Kind::Target {
                resources.push(RowReport {
                    row: Row::new(*kind, kind.name(plan), ""),
                    result,
                    error,
                });
            }
        }
        Report { resources }
    }

    /// The human-readable report.
    pub fn to_text(&self, deployment: &str) -> String {
        let mut s = String::new();
        let foreign = self
            .resources
            .iter()
            .any(|s| s.result.starts_with("left alone"));
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

async fn tracked(
    progress: &Progress,
    name: &str,
    fut: impl std::future::Future<Output = Result<Deleted>>,
) -> Result<Deleted> {
    let step = progress.step(name);
    step.set("looking for it");
    let r = fut.await;
    finish(&step, &r);
    r
}

/// Deletes every resource of the deployment; returns what happened to each.
pub async fn run(ctx: &Ctx, plan: &Plan, opts: &CleanupOptions, progress: &Progress) -> Report {
    // The table, observed once: the report's rows, and the load balancer and
    // groups for the steps (looked up again only if the observation failed).
    let seen = table::observe(ctx, plan).await;
    let complete = seen.errors.is_empty();
    let rows = seen.rows(Some(plan));

    // The expiry schedules first, so none fires later against a new
    // deployment of the same name; the role with the region's last ones.
    let schedules = tracked(
        progress,
        "expiry schedules",
        expiry::delete_schedules(ctx, plan),
    )
    .await;

    // The listener goes first; meanwhile the web group's rule that references the
    // load balancer's group is dropped, so each group can go as soon as its own
    // holder is gone.
    let (lb_found, refs) = tokio::join!(
        async {
            match &seen.load_balancer {
                _ if !complete => loadbalancer::find_for_delete(ctx, plan).await,
                Seen::Present(l) => Ok(Ok(l.clone())),
                Seen::Foreign(_) => Ok(Err(Deleted::Foreign)),
                Seen::Absent => Ok(Err(Deleted::Absent)),
            }
        },
        async {
            let (web, lbg) = if complete {
                (
                    seen.web_group.present().map(|g| g.group.clone()),
                    seen.lb_group.present().map(|g| g.group.clone()),
                )
            } else {
                tokio::try_join!(
                    secgroup::find(ctx, plan, None, &plan.web_sg_name),
                    secgroup::find(ctx, plan, None, &plan.lb_sg_name),
                )?
            };
            if let (Some(w), Some(l)) = (web, lbg) {
                secgroup::revoke_references(ctx, &w, &l).await?;
            }
            Ok::<_, anyhow::Error>(())
        }
    );
    if let Err(e) = refs {
        tracing::warn!("could not remove the load balancer rule from the web group: {e:#}");
    }
    let listeners = tracked(progress, "listener", async {
        match lb_or_report(&lb_found) {
            Ok(lb) => loadbalancer::delete_listeners(ctx, lb).await,
            Err(r) => r,
        }
    })
    .await;

    // A group whose holder failed to go gets one attempt, not the long retry.
    let limit_after = |holder: &Result<Deleted>| {
        if holder.is_ok() {
            opts.sg_limit
        } else {
            Duration::ZERO
        }
    };
    let ((lb, lb_sg), (fleet, inst, lt, web_sg), tg, key, role) = tokio::join!(
        async {
            let step = progress.step("load balancer");
            step.set("looking for it");
            let lb = match lb_or_report(&lb_found) {
                Ok(lb) => {
                    loadbalancer::delete(ctx, lb, opts.wait_limit, |st, t| step.waiting(st, t))
                        .await
                }
                Err(r) => r,
            };
            finish(&step, &lb);
            let sg = delete_group(ctx, plan, progress, &plan.lb_sg_name, limit_after(&lb)).await;
            (lb, sg)
        },
        async {
            // The group first (it would replace what is terminated under it),
            // then every instance left, then the launch template.
            let step = progress.step("Auto Scaling group");
            step.set("looking for it");
            let fleet =
                autoscaling::delete(ctx, plan, opts.wait_limit, |st, t| step.waiting(st, t)).await;
            finish(&step, &fleet);
            let step = progress.step("instance");
            step.set("looking for it");
            let inst =
                instance::delete(ctx, plan, opts.wait_limit, |st, t| step.waiting(st, t)).await;
            finish(&step, &inst);
            let lt = tracked(
                progress,
                "launch template",
                launchtemplate::delete(ctx, plan),
            )
            .await;
            let holders = match (&fleet, &inst) {
                (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("{e:#}")),
                _ => Ok(Deleted::Deleted),
            };
            let sg = delete_group(
                ctx,
                plan,
                progress,
                &plan.web_sg_name,
                limit_after(&holders),
            )
            .await;
            (fleet, inst, lt, sg)
        },
        tracked(
            progress,
            "target group",
            targetgroup::delete(ctx, plan, opts.wait_limit)
        ),
        tracked(progress, "key pair", keypair::delete(ctx, plan)),
        async {
            // The region's role, with its last schedules (after them).
            match &schedules {
                Ok(_) => expiry::delete_role_if_unused(ctx, plan).await,
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            }
        },
    );
    let expiry = match (&schedules, &role) {
        (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("{e:#}")),
        (Ok(d), _) => Ok(*d),
    };
    // A group's instances go with the group: they count as deleted by it.
    let servers = match (&fleet, &inst) {
        (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("{e:#}")),
        (Ok(Deleted::Deleted), _) | (_, Ok(Deleted::Deleted)) => Ok(Deleted::Deleted),
        (_, Ok(d)) => Ok(*d),
    };
    Report::new(
        plan,
        rows,
        &[
            (Kind::KeyPair, &key),
            (Kind::LbGroup, &lb_sg),
            (Kind::WebGroup, &web_sg),
            (Kind::TargetGroup, &tg),
            (Kind::LaunchTemplate, &lt),
            (Kind::AutoScalingGroup, &fleet),
            (Kind::Instance, &servers),
            (Kind::Target, &servers),
            (Kind::LoadBalancer, &lb),
            (Kind::Listener, &listeners),
            (Kind::Expiry, &expiry),
        ],
    )
}

/// The load balancer to act on, or what its step reports instead (absent, not
/// ours, or the look-up's error).
fn lb_or_report(
    found: &Result<Result<LoadBalancer, Deleted>>,
) -> std::result::Result<&LoadBalancer, Result<Deleted>> {
    match found {
        Ok(Ok(lb)) => Ok(lb),
        Ok(Err(d)) => Err(Ok(*d)),
        Err(e) => Err(Err(anyhow::anyhow!("{e:#}"))),
    }
}

async fn delete_group(
    ctx: &Ctx,
    plan: &Plan,
    progress: &Progress,
    name: &str,
    limit: Duration,
) -> Result<Deleted> {
    let step = progress.step(&format!("group {name}"));
    step.set("looking for it");
    let r = secgroup::delete(ctx, plan, name, limit, |e, t| {
        step.waiting(&short_code(e), t)
    })
    .await;
    finish(&step, &r);
    r
}

fn finish(step: &crate::progress::Step, r: &Result<Deleted>) {
    match r {
        Ok(Deleted::Deleted) => step.done("deleted"),
        Ok(Deleted::Absent) => step.done("nothing to delete"),
        Ok(Deleted::Foreign) => step.done("left alone: same name, not created by this tool"),
        Err(e) => step.fail(&format!("{e:#}")),
    }
}

fn short_code(e: &anyhow::Error) -> String {
    format!(
        "{} (still in use), retrying",
        crate::aws::code(e).unwrap_or("refused")
    )
}
