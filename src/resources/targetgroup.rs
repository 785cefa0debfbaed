//! The target group: HTTP to the instance on port 80, with the configured health
//! check, and the instance registered in it. Found by name and checked for this
//! tool's tags; one without them is never used or deleted.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;

use super::{
    elb_is_ours, elb_retag, elb_tags, elb_tags_of, foreign, is_foreign, tag_drift, Deleted,
    Ensured, Outcome, TagDrift,
};
use crate::aws::{
    is_code, is_duplicate, is_not_found, retry_not_yet, unless_not_found, AwsError, Ctx,
};
use crate::plan::{Plan, WEB_PORT};

/// A target group.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Health-check path.
    pub health_check_path: String,
    /// Its tags.
    pub tags: super::Tags,
}

/// Finds the target group named in the plan. `Ok(None)` when absent; an error
/// when one exists without this tool's tags.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<TargetGroup>> {
    let res = ctx
        .elb
        .describe_target_groups()
        .names(&plan.tg_name)
        .send()
        .await
        .map_err(AwsError::from);
    let Some(out) = unless_not_found(res, || {
        format!("failed to look up target group {}", plan.tg_name)
    })?
    else {
        return Ok(None);
    };
    let Some(tg) = out
        .target_groups()
        .iter()
        .find(|t| t.target_group_name() == Some(plan.tg_name.as_str()))
    else {
        return Ok(None);
    };
    let Some(arn) = tg.target_group_arn() else {
        return Ok(None);
    };
    let tags = elb_tags_of(ctx, arn).await?;
    if !elb_is_ours(&tags, plan) {
        return Err(foreign(
            "target group",
            &plan.tg_name,
            plan,
            "Rename the deployment (name in deploy.toml).",
        ));
    }
    Ok(Some(TargetGroup {
        arn: arn.to_string(),
        name: plan.tg_name.clone(),
        health_check_path: tg.health_check_path().unwrap_or_default().to_string(),
        tags: super::elb_pairs(&tags),
    }))
}

/// Creates the target group in `vpc_id` unless [`find`] found it (deploy looks
/// everything up first, in parallel).
pub async fn ensure_found(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: &str,
    found: Option<TargetGroup>,
) -> Result<Ensured<TargetGroup>> {
    if let Some(tg) = found {
        return bring_into_line(ctx, plan, tg).await;
    }
    let out = ctx
        .elb
        .create_target_group()
        .name(&plan.tg_name)
        .protocol(elbt::ProtocolEnum::Http)
        .port(i32::from(WEB_PORT))
        .vpc_id(vpc_id)
        .target_type(elbt::TargetTypeEnum::Instance)
        .health_check_protocol(elbt::ProtocolEnum::Http)
        .health_check_path(&plan.health_check_path)
        .health_check_interval_seconds(HEALTH_INTERVAL_S)
        .health_check_timeout_seconds(HEALTH_TIMEOUT_S)
        .healthy_threshold_count(HEALTHY_THRESHOLD)
        .unhealthy_threshold_count(UNHEALTHY_THRESHOLD)
        .matcher(elbt::Matcher::builder().http_code("200").build())
        .set_tags(Some(elb_tags(plan)))
        .send()
        .await
        .map_err(AwsError::from);
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            let e = anyhow::Error::new(e);
            // A retried create whose first attempt took effect: find it.
            if is_duplicate(&e) {
                if let Some(tg) = find(ctx, plan).await? {
                    return Ok(Ensured::new(tg, Outcome::Created));
                }
            }
            return Err(e.context(format!("failed to create target group {}", plan.tg_name)));
        }
    };
    let Some(arn) = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
    else {
        bail!("CreateTargetGroup returned no target group");
    };
    set_deregistration_delay(ctx, &plan.tg_name, arn).await?;
    Ok(Ensured::new(
        TargetGroup {
            arn: arn.to_string(),
            name: plan.tg_name.clone(),
            health_check_path: plan.health_check_path.clone(),
            tags: plan.owned_tags(),
        },
        Outcome::Created,
    ))
}

/// Seconds between health checks: ALB's shortest.
pub const HEALTH_INTERVAL_S: i32 = 5;
/// A check fails when the page takes longer than this (under the interval; a
/// static page answers in milliseconds).
pub const HEALTH_TIMEOUT_S: i32 = 4;
/// Consecutive passes that put a target in service: ALB's fewest.
pub const HEALTHY_THRESHOLD: i32 = 2;
/// Consecutive failures that take it out.
pub const UNHEALTHY_THRESHOLD: i32 = 2;
/// How long a deregistered target drains (AWS's default is 300 s): a static
/// site's requests last milliseconds, so 15 s lets every one in flight finish.
pub const DEREGISTRATION_DELAY_S: u64 = 15;

/// Sets the target group's deregistration delay (CreateTargetGroup takes no
/// attributes).
async fn set_deregistration_delay(ctx: &Ctx, name: &str, arn: &str) -> Result<()> {
    ctx.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            elbt::TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value(DEREGISTRATION_DELAY_S.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set the deregistration delay of {name}"))?;
    Ok(())
}

/// A target's health as the load balancer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Instance id.
    pub id: String,
    /// `initial`, `healthy`, `unhealthy`, `draining`, `unused`...
    pub state: String,
    /// The reason code (`Target.Timeout`, `Target.ResponseCodeMismatch`, ...).
    pub reason: Option<String>,
    /// AWS's description of the reason.
    pub description: Option<String>,
}

/// Every registered target's health, with the reason codes.
pub async fn health(ctx: &Ctx, tg: &TargetGroup) -> Result<Vec<Health>> {
    let out = ctx
        .elb
        .describe_target_health()
        .target_group_arn(&tg.arn)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read the targets of {}", tg.name))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let h = d.target_health();
            Some(Health {
                id: d.target()?.id()?.to_string(),
                state: h
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
                description: h.and_then(|h| h.description()).map(str::to_string),
            })
        })
        .collect())
}

/// How an existing target group differs from the plan: the health-check path
/// (changed in place with ModifyTargetGroup) and the tags.
pub fn drift(tg: &TargetGroup, plan: &Plan) -> (Option<String>, TagDrift) {
    let path =
        (tg.health_check_path != plan.health_check_path).then(|| plan.health_check_path.clone());
    (path, tag_drift(&tg.tags, plan))
}

/// The changes [`drift`] finds, one line each.
pub fn describe_drift(tg: &TargetGroup, plan: &Plan) -> Vec<String> {
    let (path, tags) = drift(tg, plan);
    path.map(|p| format!("health check {} -> {p}", tg.health_check_path))
        .into_iter()
        .chain(tags.describe())
        .collect()
}

async fn bring_into_line(
    ctx: &Ctx,
    plan: &Plan,
    mut tg: TargetGroup,
) -> Result<Ensured<TargetGroup>> {
    let (path, tags) = drift(&tg, plan);
    if let Some(p) = &path {
        ctx.elb
            .modify_target_group()
            .target_group_arn(&tg.arn)
            .health_check_path(p)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to change the health check of {}", tg.name))?;
        tg.health_check_path = p.clone();
    }
    elb_retag(ctx, &tg.arn, &tags).await?;
    let outcome = if path.is_none() && tags.is_empty() {
        Outcome::Existing
    } else {
        Outcome::Updated
    };
    Ok(Ensured::new(tg, outcome))
}

/// The instance ids registered in the target group, with their health state.
pub async fn targets(ctx: &Ctx, tg: &TargetGroup) -> Result<Vec<(String, String)>> {
    Ok(health(ctx, tg)
        .await?
        .into_iter()
        .map(|h| (h.id, h.state))
        .collect())
}

/// Waits until none of `ids` is registered or draining (a deregistered target
/// drains for the deregistration delay, then is gone).
pub async fn wait_drained(
    ctx: &Ctx,
    tg: &TargetGroup,
    ids: &[String],
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    crate::aws::poll_until(
        ctx.poll,
        &format!("{} to drain from {}", ids.join(", "), tg.name),
        limit,
        on_wait,
        || async {
            let left: Vec<String> = health(ctx, tg)
                .await?
                .into_iter()
                .filter(|h| ids.contains(&h.id))
                .map(|h| format!("{} {}", h.id, h.state))
                .collect();
            Ok(if left.is_empty() {
                crate::aws::Check::Done(())
            } else {
                crate::aws::Check::Waiting(left.join(", "))
            })
        },
    )
    .await
}

/// Registers the instance unless it already is; retries while AWS answers
/// `InvalidTarget` (an instance that is not running yet).
pub async fn register(
    ctx: &Ctx,
    tg: &TargetGroup,
    instance_id: &str,
    limit: Duration,
    observed: Option<&[(String, String)]>,
) -> Result<Outcome> {
    let registered = match observed {
        Some(t) => t.iter().any(|(id, _)| id == instance_id),
        None => targets(ctx, tg)
            .await?
            .iter()
            .any(|(id, _)| id == instance_id),
    };
    if registered {
        return Ok(Outcome::Existing);
    }
    retry_not_yet(
        ctx.poll,
        &format!("register {instance_id} in {}", tg.name),
        limit,
        |_| false,
        |e, _| tracing::debug!(error = %e, "target not accepted yet"),
        || async {
            ctx.elb
                .register_targets()
                .target_group_arn(&tg.arn)
                .targets(
                    elbt::TargetDescription::builder()
                        .id(instance_id)
                        .port(i32::from(WEB_PORT))
                        .build(),
                )
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to register {instance_id} in {}", tg.name))
        },
    )
    .await?;
    Ok(Outcome::Created)
}

/// Takes instances out of the target group (absent ones are fine).
pub async fn deregister(ctx: &Ctx, tg: &TargetGroup, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let targets = ids
        .iter()
        .map(|id| {
            elbt::TargetDescription::builder()
                .id(id)
                .port(i32::from(WEB_PORT))
                .build()
        })
        .collect();
    let res = ctx
        .elb
        .deregister_targets()
        .target_group_arn(&tg.arn)
        .set_targets(Some(targets))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = anyhow::Error::new(e);
            if is_code(&e, "InvalidTarget") {
                Ok(())
            } else {
                Err(e.context(format!(
                    "failed to deregister {} from {}",
                    ids.join(", "),
                    tg.name
                )))
            }
        }
    }
}

/// Deletes the target group, retrying while it is still in use by a listener
/// that is being deleted.
pub async fn delete(ctx: &Ctx, plan: &Plan, limit: Duration) -> Result<Deleted> {
    let tg = match find(ctx, plan).await {
        Ok(Some(tg)) => tg,
        Ok(None) => return Ok(Deleted::Absent),
        Err(e) if is_foreign(&e) => return Ok(Deleted::Foreign),
        Err(e) => return Err(e),
    };
    let res = retry_not_yet(
        ctx.poll,
        &format!("delete target group {}", tg.name),
        limit,
        |_| false,
        |e, _| tracing::debug!(error = %e, "target group still in use"),
        || async {
            ctx.elb
                .delete_target_group()
                .target_group_arn(&tg.arn)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to delete target group {}", tg.name))
        },
    )
    .await;
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if is_not_found(&e) => Ok(Deleted::Deleted),
        Err(e) => Err(e),
    }
}
