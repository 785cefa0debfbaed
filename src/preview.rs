//! `--plan`: what `deploy` or `cleanup` would do, read from the account, with
//! nothing created, changed or deleted. Deploy's plan is observe + decide,
//! the same observation and the same decision deploy then applies
//! ([`crate::table::decide`]); cleanup's is what the observation lists.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Purpose};
use crate::output::{Entry, Totals};
use crate::progress::Progress;
use crate::resources::Verb;
use crate::spec::Specs;
use crate::table::{self, Ids};

/// What the deployment costs per hour once the plan is applied, and now.
#[derive(Debug, Clone, Serialize)]
pub struct CostChange {
    /// US dollars per hour once deployed (`None`: the instance type is not
    /// in the price table).
    pub per_hour: Option<f64>,
    /// US dollars per hour of what exists now.
    pub per_hour_now: Option<f64>,
}

/// What deploy would do.
#[derive(Debug, Clone, Serialize)]
pub struct DeployPlan {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// Every resource and what deploy would do to it.
    pub resources: Vec<Entry>,
    /// How many rows each action has.
    pub totals: Totals,
    /// The cost per hour before and after.
    pub cost: CostChange,
    /// The command that applies the plan.
    pub next: String,
    /// Warnings (a template that could not be checked from here).
    pub warnings: Vec<String>,
}

/// What deploy would do; `next` is the command that applies it.
pub async fn deploy(
    ctx: &Ctx,
    specs: &Specs,
    progress: &Progress,
    next: String,
) -> Result<DeployPlan> {
    let seen = crate::deploy::look_up(ctx, specs, progress).await?;
    let decision = table::decide(specs, &seen, chrono::Utc::now());
    // The checks deploy makes before creating anything: a plan that cannot
    // work is not a clean plan.
    let warnings = match decision.stops(specs, &seen).is_empty() {
        true => crate::deploy::preflight(ctx, specs, &seen, &decision, progress).await?,
        false => Vec::new(),
    };
    let resources: Vec<Entry> = decision
        .rows(specs, &seen, &Ids::new())
        .into_iter()
        .map(|p| Entry::new(p.row, p.verb))
        .collect();
    let launch = &specs.launch;
    let after = crate::cost::estimate(
        &launch.instance_type,
        launch.root_volume_gb,
        specs.load_balancer.zones,
        specs.count,
        specs.distribution.wanted,
    )?;
    Ok(DeployPlan {
        deployment: specs.name.clone(),
        region: ctx.region.clone(),
        totals: Totals::of(&resources),
        resources,
        cost: CostChange {
            per_hour: after.per_hour,
            per_hour_now: crate::status::cost_now(specs, &seen),
        },
        next,
        warnings,
    })
}

impl DeployPlan {
    /// The plan as text: every row, the totals, the cost change, the next step.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "deploy would, for {} in {}:\n{}",
            self.deployment,
            self.region,
            rows_text(&self.resources)
        );
        s.push_str(&format!(
            "{} resources: {}\n",
            self.resources.len(),
            self.totals.to_line()
        ));
        let dollars = |c: Option<f64>| match c {
            Some(c) => format!("${c:.3}/hour"),
            None => "unknown (instance type not in the price table)".to_string(),
        };
        s.push_str(&format!(
            "Cost: {} now -> about {} once deployed\n",
            dollars(self.cost.per_hour_now),
            dollars(self.cost.per_hour)
        ));
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        if self.totals.stop > 0 {
            s.push_str("Deploy would stop before creating anything: see the stop rows.\n");
        } else if self.totals
            == (Totals {
                keep: self.totals.keep,
                ..Totals::default()
            })
        {
            s.push_str("Nothing to change.\n");
        } else {
            s.push_str(&format!("Apply it with: {}\n", self.next));
        }
        s
    }
}

/// A local file cleanup deletes.
#[derive(Debug, Clone, Serialize)]
pub struct LocalFile {
    /// Its path.
    pub path: String,
    /// `delete`.
    pub action: Verb,
    /// Why it is deleted.
    pub detail: String,
}

/// What cleanup would delete.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupPlan {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// Every resource found, each to delete.
    pub resources: Vec<Entry>,
    /// Local files deleted with them (the key pair's .pem).
    pub local_files: Vec<LocalFile>,
    /// How many rows each action has.
    pub totals: Totals,
}

/// The local files cleanup deletes with the deployment: the key pair's .pem,
/// with the key pair (`key_pair`: it exists as this deployment's), when the
/// file is here (found by name, `--name`, there is none).
pub fn local_files(specs: &Specs, key_pair: bool) -> Vec<LocalFile> {
    let pem = &specs.key.pem;
    match !key_pair || pem.as_os_str().is_empty() || !pem.is_file() {
        true => Vec::new(),
        false => vec![LocalFile {
            path: pem.display().to_string(),
            action: Verb::Delete,
            detail: format!("the private key of key pair {}", specs.key.name),
        }],
    }
}

/// What cleanup would delete: every row status shows, and the .pem.
pub async fn cleanup(ctx: &Ctx, specs: &Specs) -> Result<CleanupPlan> {
    let seen = observe(ctx, specs, Purpose::View).await;
    if !seen.errors.is_empty() {
        bail!("could not read everything: {}", seen.errors.join("; "));
    }
    let resources: Vec<Entry> = table::existing(specs, &seen)
        .into_iter()
        .map(|row| Entry::new(row, Verb::Delete))
        .collect();
    Ok(CleanupPlan {
        deployment: specs.name.clone(),
        region: ctx.region.clone(),
        totals: Totals::of(&resources),
        local_files: local_files(specs, seen.key.ours().is_some()),
        resources,
    })
}

impl CleanupPlan {
    /// The plan as text: what goes, counted, the .pem included.
    pub fn to_text(&self) -> String {
        if self.resources.is_empty() {
            return format!(
                "Nothing to delete: no resource of deployment {} was found in {}.\n",
                self.deployment, self.region
            );
        }
        let mut s = format!(
            "cleanup would delete, for {} in {}:\n{}",
            self.deployment,
            self.region,
            rows_text(&self.resources)
        );
        for f in &self.local_files {
            s.push_str(&format!(
                "  {:<8} {:<15} {}\n",
                f.action.word(),
                "local file",
                f.path
            ));
        }
        s.push_str(&format!(
            "{} resources{}\n",
            self.resources.len(),
            match self.local_files.len() {
                0 => String::new(),
                n => format!(" and {n} local file"),
            }
        ));
        s
    }
}

/// The rows as a table: action, kind, name, id and what changes.
pub fn rows_text(rows: &[Entry]) -> String {
    let mut s = String::new();
    for r in rows {
        let id = match r.row.id.is_empty() {
            true => "(new)",
            false => r.row.short_id(),
        };
        s.push_str(&format!(
            "  {:<8} {:<15} {:<28} {}{}\n",
            r.action.word(),
            r.row.kind,
            r.row.name,
            id,
            match r.row.detail.is_empty() {
                true => String::new(),
                false => format!("  {}", r.row.detail),
            }
        ));
    }
    s
}
