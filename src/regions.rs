//! Every deployment of this tool in every enabled region (`status
//! --all-regions`), and a deployment known only by its name and region
//! (`status --name`, `cleanup --name`): no deploy.toml needed.
//!
//! ```text
//! DescribeRegions (enabled regions only)
//!   -> per region, at most CONCURRENCY at once, all within one deadline:
//!        GetResources (Resource Groups Tagging API) tagged ManagedBy=sitedeploy
//!          -> the Deployment tag values
//!        per deployment: its key pair's name by its tags, then the resource
//!        table observed as `status` does (what exists, cost, expiry)
//! ```
//!
//! The tagging API also returns resources deleted within about the last hour
//! (a terminated instance keeps its tags for a while); a deployment whose table
//! then shows nothing is not listed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use serde::Serialize;

use crate::aws::{AwsError, Ctx, Identity};
use crate::config::{Config, DEPLOYMENT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;
use crate::resources::keypair;
use crate::status::Status;

/// How many regions are looked at at once.
pub const CONCURRENCY: usize = 8;

/// What `status --all-regions` found.
#[derive(Debug, Clone, Serialize)]
pub struct Everywhere {
    /// The enabled regions, all checked (or named in `errors`).
    pub regions: Vec<String>,
    /// Every deployment found, by region then name.
    pub deployments: Vec<Status>,
    /// Regions that could not be checked, with why.
    pub errors: Vec<String>,
    /// How long the look-up took, seconds.
    pub seconds: f64,
}

/// The plan of deployment `name` as found in the region of `ctx`: the key
/// pair's name comes from its tags (deploy.toml chose it).
pub async fn plan_for(ctx: &Ctx, name: &str) -> Result<Plan> {
    let key = keypair::name_by_tags(ctx, name).await?.unwrap_or_default();
    Plan::new(&Config::found(name, &key))
}

/// The names of this tool's deployments with something tagged in the region.
pub async fn names_in(ctx: &Ctx) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .tagging
            .get_resources()
            .tag_filters(
                TagFilter::builder()
                    .key(MANAGED_BY_KEY)
                    .values(MANAGED_BY_VALUE)
                    .build(),
            )
            .resources_per_page(100)
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to list tagged resources in {}", ctx.region))?;
        // A global resource (a CloudFront distribution: no region in its
        // ARN) is listed in every region; it is found by its comment instead.
        let regional = out
            .resource_tag_mapping_list()
            .iter()
            .filter(|r| r.resource_arn().and_then(|a| a.split(':').nth(3)) != Some(""));
        for r in regional {
            names.extend(
                r.tags()
                    .iter()
                    .filter(|t| t.key() == DEPLOYMENT_KEY)
                    .map(|t| t.value().to_string())
                    .filter(|v| crate::config::is_deployment_name(v)),
            );
        }
        match out.pagination_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(names)
}

/// The enabled regions of the account (DescribeRegions leaves out the opt-in
/// regions not enabled).
pub async fn enabled(ctx: &Ctx) -> Result<Vec<String>> {
    let out = ctx
        .ec2
        .describe_regions()
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to list the account's regions")?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

/// Every deployment in the region of `ctx`; `global`: the names that only
/// a global resource (a distribution) says are there.
async fn in_region(ctx: &Ctx, who: &Identity, global: BTreeSet<String>) -> Result<Vec<Status>> {
    let mut found = Vec::new();
    let mut names = names_in(ctx).await?;
    names.extend(global);
    for name in names {
        let plan = plan_for(ctx, &name).await?;
        let specs = crate::spec::Specs::new(&plan, &ctx.region, who, false);
        let st = crate::status::status(ctx, &specs).await;
        if !st.resources.is_empty() || !st.errors.is_empty() {
            found.push(st);
        }
    }
    Ok(found)
}

/// Every deployment in every enabled region, within `limit` in all.
pub async fn everywhere(ctx: &Ctx, who: &Identity, limit: Duration) -> Result<Everywhere> {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    let regions = tokio::time::timeout_at(deadline, enabled(ctx))
        .await
        .map_err(|_| anyhow::anyhow!("no answer to DescribeRegions within {limit:?}"))??;
    let mut global = crate::resources::distribution::deployments(ctx)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("could not list the CloudFront distributions: {e:#}");
            Default::default()
        });
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for region in &regions {
        let ctx = ctx.in_region(region);
        let permits = permits.clone();
        let region = region.clone();
        let who = who.clone();
        let global = global.remove(region.as_str()).unwrap_or_default();
        tasks.spawn(async move {
            let work = async {
                let _permit = permits.acquire().await?;
                in_region(&ctx, &who, global).await
            };
            let r = match tokio::time::timeout_at(deadline, work).await {
                Ok(r) => r,
                Err(_) => Err(anyhow::anyhow!("no answer within {} s", limit.as_secs())),
            };
            (region, r)
        });
    }
    let mut deployments = Vec::new();
    let mut errors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((_, Ok(found))) => deployments.extend(found),
            Ok((region, Err(e))) => errors.push(format!("{region}: {e:#}")),
            Err(e) => errors.push(format!("a region's look-up failed: {e}")),
        }
    }
    deployments.sort_by(|a, b| (&a.region, &a.deployment).cmp(&(&b.region, &b.deployment)));
    errors.sort();
    Ok(Everywhere {
        regions,
        deployments,
        errors,
        seconds: start.elapsed().as_secs_f64(),
    })
}

impl Everywhere {
    /// The human-readable form.
    pub fn to_text(&self) -> String {
        let checked = format!(
            "{} regions checked in {:.1} s",
            self.regions.len() - self.errors.len().min(self.regions.len()),
            self.seconds
        );
        let mut s = String::new();
        if self.deployments.is_empty() && self.errors.is_empty() {
            s.push_str(&format!(
                "nothing of sitedeploy is running in any region ({checked})\n"
            ));
        } else if self.deployments.is_empty() {
            s.push_str(&format!(
                "nothing of sitedeploy found in the regions that answered ({checked})\n"
            ));
        } else {
            s.push_str(&format!(
                "{} deployment(s) of sitedeploy ({checked}):\n",
                self.deployments.len()
            ));
        }
        for d in &self.deployments {
            s.push('\n');
            s.push_str(&d.headline());
            s.push_str(&crate::status::to_text(&d.resources, &d.errors));
            if let Some(u) = &d.url {
                s.push_str(&format!("  site: {u}\n"));
            }
            if let Some(e) = d.expires {
                s.push_str(&format!(
                    "  expires: {}\n",
                    crate::resources::expiry::describe(e)
                ));
            }
            s.push_str(&format!(
                "  remove: {}\n",
                crate::shell::command(
                    "cleanup",
                    &format!("--region {} --name {} --yes", d.region, d.deployment)
                )
            ));
        }
        for e in &self.errors {
            s.push_str(&format!("could not check {e}\n"));
        }
        s
    }
}
