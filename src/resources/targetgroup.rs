//! The target group: HTTP to the instance on port 80, with the configured health
//! check, and the instance registered in it. Found by name and checked for this
//! tool's tags; one without them is never used or deleted.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;
pub use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use super::{Deleted, Seen, Verb};
use crate::aws::{is_code, is_not_found, retry_not_yet, unless_not_found, AwsError, Ctx};
use crate::plan::{Plan, WEB_PORT};
use crate::tags::{Owner, TagDrift, Tagger, Tags};

/// What deploy.toml asks of the target group.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name.
    pub name: String,
    /// Health-check path.
    pub health_check_path: String,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The target group of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            name: plan.tg_name.clone(),
            health_check_path: plan.health_check_path.clone(),
            owner: plan.owner.clone(),
        }
    }
}

/// A target group.
#[derive(Debug, Clone)]
pub struct TargetGroup {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Health-check path.
    pub health_check_path: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its tags.
    pub tags: Tags,
}

/// The target group of the spec's name, ours or not (its tags are read with
/// the load balancer's, in one call, and put in by the caller).
pub async fn describe(ctx: &Ctx, spec: &Spec) -> Result<Option<TargetGroup>> {
    let res = ctx
        .elb
        .describe_target_groups()
        .names(&spec.name)
        .send()
        .await
        .map_err(AwsError::from);
    let out = unless_not_found(res, || {
        format!("failed to look up target group {}", spec.name)
    })?;
    Ok(out.and_then(|out| {
        out.target_groups()
            .iter()
            .find(|t| t.target_group_name() == Some(spec.name.as_str()))
            .and_then(|tg| {
                Some(TargetGroup {
                    arn: tg.target_group_arn()?.to_string(),
                    name: spec.name.clone(),
                    health_check_path: tg.health_check_path().unwrap_or_default().to_string(),
                    vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
                    tags: Vec::new(),
                })
            })
    }))
}

/// Ours, or another's, by its tags.
pub fn classify(spec: &Spec, found: Option<TargetGroup>) -> Seen<TargetGroup> {
    match found {
        None => Seen::Absent,
        Some(tg) if spec.owner.owns(&tg.tags) => Seen::Ours(tg),
        Some(_) => Seen::Foreign(spec.owner.foreign(
            "target group",
            &spec.name,
            "Rename the deployment (name in deploy.toml).",
        )),
    }
}

/// What deploy does with the target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it.
    Create,
    /// It is as wanted.
    Keep,
    /// Its health-check path (ModifyTargetGroup) and tags change.
    Update {
        /// The new health-check path, when it changes.
        path: Option<String>,
        /// Its tags.
        tags: TagDrift,
    },
    /// Deploy stops.
    Stop(String),
}

/// Decides what to do with the target group, in VPC `vpc_id`.
pub fn decide(spec: &Spec, seen: &Seen<TargetGroup>, vpc_id: &str) -> Action {
    match seen {
        Seen::Absent => Action::Create,
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Ours(tg) if tg.vpc_id != vpc_id => {
            Action::Stop(super::secgroup::moved_vpc(&spec.name, &tg.vpc_id, vpc_id))
        }
        Seen::Ours(tg) => {
            let path = (tg.health_check_path != spec.health_check_path)
                .then(|| spec.health_check_path.clone());
            let tags = spec.owner.drift(&tg.tags);
            if path.is_none() && tags.is_empty() {
                Action::Keep
            } else {
                Action::Update { path, tags }
            }
        }
    }
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Update { .. } => Verb::Update,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it; `found` the group observed.
    pub fn detail(&self, spec: &Spec, found: Option<&TargetGroup>) -> String {
        match self {
            Action::Create => format!("health check {}", spec.health_check_path),
            Action::Keep => String::new(),
            Action::Update { path, tags } => path
                .iter()
                .map(|p| {
                    let was = found.map(|t| t.health_check_path.as_str()).unwrap_or("?");
                    format!("health check {was} -> {p}")
                })
                .chain(tags.describe())
                .collect::<Vec<_>>()
                .join("; "),
            Action::Stop(why) => why.clone(),
        }
    }
}

/// Applies the decision in `vpc_id`; `found` is the group observed.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&TargetGroup>,
    vpc_id: &str,
) -> Result<TargetGroup> {
    let found = || found.cloned().context("no target group was observed");
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => found(),
        Action::Update { path, tags } => {
            let mut tg = found()?;
            if let Some(p) = path {
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
            tags.apply(ctx, Tagger::Elb(&tg.arn)).await?;
            Ok(tg)
        }
        Action::Create => create(ctx, spec, vpc_id).await,
    }
}

/// CreateTargetGroup with this tool's health checks, then its deregistration
/// delay. AWS answers a repeated create of the same settings with the same
/// group (so a retried create is found, not doubled).
async fn create(ctx: &Ctx, spec: &Spec, vpc_id: &str) -> Result<TargetGroup> {
    let out = ctx
        .elb
        .create_target_group()
        .name(&spec.name)
        .protocol(elbt::ProtocolEnum::Http)
        .port(i32::from(WEB_PORT))
        .vpc_id(vpc_id)
        .target_type(elbt::TargetTypeEnum::Instance)
        .health_check_protocol(elbt::ProtocolEnum::Http)
        .health_check_path(&spec.health_check_path)
        .health_check_interval_seconds(HEALTH_INTERVAL_S)
        .health_check_timeout_seconds(HEALTH_TIMEOUT_S)
        .healthy_threshold_count(HEALTHY_THRESHOLD)
        .unhealthy_threshold_count(UNHEALTHY_THRESHOLD)
        .matcher(elbt::Matcher::builder().http_code("200").build())
        .set_tags(Some(spec.owner.elb_tags()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to create target group {}", spec.name))?;
    let Some(arn) = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
    else {
        bail!("CreateTargetGroup returned no target group");
    };
    set_deregistration_delay(ctx, &spec.name, arn).await?;
    Ok(TargetGroup {
        arn: arn.to_string(),
        name: spec.name.clone(),
        health_check_path: spec.health_check_path.clone(),
        vpc_id: vpc_id.to_string(),
        tags: spec.owner.owned(),
    })
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
    pub state: TargetHealthStateEnum,
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
                    .cloned()
                    .unwrap_or(TargetHealthStateEnum::Unavailable),
                reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
                description: h.and_then(|h| h.description()).map(str::to_string),
            })
        })
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

/// Registers the instance (registering one twice is harmless); retries while
/// AWS answers `InvalidTarget` (an instance that is not running yet).
pub async fn register(
    ctx: &Ctx,
    tg: &TargetGroup,
    instance_id: &str,
    limit: Duration,
) -> Result<()> {
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
    Ok(())
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

/// Deletes the target group (as observed), retrying while it is still in use
/// by a listener that is being deleted.
pub async fn delete(ctx: &Ctx, tg: &TargetGroup, limit: Duration) -> Result<Deleted> {
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
        Err(e) if is_not_found(&e) => Ok(Deleted::Absent),
        Err(e) => Err(e),
    }
}
