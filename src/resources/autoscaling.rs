//! The Auto Scaling group that runs the web servers when `count > 1`: AWS's own
//! fleet engine keeps `count` instances from the launch template in the load
//! balancer's zones, registers them in the target group, and replaces one the
//! load balancer's health check finds dead.
//!
//! A template change is rolled through the group's own APIs (moto has no
//! instance refresh, and these calls behave the same on AWS): with
//! `AZRebalance` suspended, the group is raised to old + new instances on the
//! new launch template version in one update, the new ones (told from the old
//! by the version Auto Scaling reports per instance) are waited for until they
//! are in service and proven through the load balancer, and only then is each
//! old one terminated with the capacity decremented (the group deregisters it
//! and waits out the deregistration delay first). So the registered, healthy
//! capacity never drops below `count`.

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use aws_sdk_autoscaling::types as asgt;

pub use super::instance::GROUP_TAG;
use super::launchtemplate::LaunchTemplate;
use super::network::Subnet;
use super::targetgroup::TargetGroup;
use super::{Deleted, Seen, Verb};
use crate::aws::{code, poll_until, retry_not_yet, AwsError, Check, Ctx, VISIBILITY_LIMIT};
use crate::plan::{Plan, FINGERPRINT_KEY, TEMPLATE_KEY};
use crate::tags::{Owner, TagDrift, Tags};

/// What deploy.toml asks of the group.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its name.
    pub name: String,
    /// Web servers it keeps.
    pub count: usize,
    /// Most web servers under load (target tracking), when set.
    pub max: Option<usize>,
    /// The scaling policy's name.
    pub policy: String,
    /// The tags it propagates to what it launches, besides the owner's.
    pub instance_tags: Vec<(String, String)>,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The group of `plan`, launching `launch`.
    pub fn new(plan: &Plan, launch: &super::instance::Spec) -> Spec {
        Spec {
            name: plan.asg_name.clone(),
            count: plan.count,
            max: plan.max,
            policy: format!("{}-requests", plan.name),
            instance_tags: launch
                .instance_tags()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            owner: plan.owner.clone(),
        }
    }

    /// The group's size limits: `count` instances, up to `max` with target
    /// tracking.
    pub fn limits(&self) -> (i32, i32) {
        let count = self.count as i32;
        (
            count,
            self.max.map(|m| m as i32).unwrap_or(count).max(count),
        )
    }
}

/// One instance of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Instance id.
    pub id: String,
    /// Availability zone.
    pub zone: String,
    /// Pending, InService, Terminating...
    pub state: asgt::LifecycleState,
    /// The launch template version it was launched from, as Auto Scaling
    /// reports it per instance (its propagated tags may say otherwise after a
    /// resize and a roll in one run).
    pub version: String,
}

/// The group as found.
#[derive(Debug, Clone)]
pub struct Group {
    /// Name.
    pub name: String,
    /// Desired capacity.
    pub desired: i32,
    /// Minimum size.
    pub min: i32,
    /// Maximum size.
    pub max: i32,
    /// The launch template version new instances get.
    pub version: String,
    /// The launch template it launches from.
    pub template_id: String,
    /// Its instances.
    pub members: Vec<Member>,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// The target groups it registers its instances in.
    pub target_groups: Vec<String>,
    /// Its tags.
    pub tags: Tags,
    /// Its suspended processes (a roll suspends `AZRebalance`).
    pub suspended: Vec<String>,
}

/// The process a roll suspends: its rebalancing launches and terminations
/// could replace a proven instance with an unproven one (EC2 Auto Scaling
/// User Guide, "Suspend and resume processes").
pub const REBALANCE: &str = "AZRebalance";

impl Member {
    fn leaving(&self) -> bool {
        self.state.as_str().starts_with("Terminating")
    }
}

fn to_group(g: &asgt::AutoScalingGroup) -> Group {
    let version_of = |lt: Option<&asgt::LaunchTemplateSpecification>| {
        lt.and_then(|l| l.version()).unwrap_or_default().to_string()
    };
    Group {
        name: g.auto_scaling_group_name().unwrap_or_default().to_string(),
        desired: g.desired_capacity().unwrap_or(0),
        min: g.min_size().unwrap_or(0),
        max: g.max_size().unwrap_or(0),
        version: version_of(g.launch_template()),
        template_id: g
            .launch_template()
            .and_then(|l| l.launch_template_id())
            .unwrap_or_default()
            .to_string(),
        members: g
            .instances()
            .iter()
            .map(|i| Member {
                id: i.instance_id().unwrap_or_default().to_string(),
                zone: i.availability_zone().unwrap_or_default().to_string(),
                state: i
                    .lifecycle_state()
                    .cloned()
                    .unwrap_or(asgt::LifecycleState::Pending),
                version: version_of(i.launch_template()),
            })
            .collect(),
        subnets: g
            .vpc_zone_identifier()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        target_groups: g.target_group_arns().to_vec(),
        tags: g
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        suspended: g
            .suspended_processes()
            .iter()
            .filter_map(|p| p.process_name().map(str::to_string))
            .collect(),
    }
}

/// The spec's group: ours, another's, or none.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<Group>> {
    let out = ctx
        .asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&spec.name)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up Auto Scaling group {}", spec.name))?;
    let Some(g) = out
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(spec.name.as_str()))
    else {
        return Ok(Seen::Absent);
    };
    let group = to_group(g);
    if !spec.owner.owns(&group.tags) {
        return Ok(Seen::Foreign(spec.owner.foreign(
            "Auto Scaling group",
            &spec.name,
            "Rename the deployment (name in deploy.toml).",
        )));
    }
    Ok(Seen::Ours(group))
}

/// The group as it is now (for waits).
async fn now(ctx: &Ctx, spec: &Spec) -> Result<Group> {
    let Seen::Ours(g) = observe(ctx, spec).await? else {
        bail!("Auto Scaling group {} disappeared", spec.name);
    };
    Ok(g)
}

/// How the group differs from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Its size limits `(min, max)` when they change (and, without `max`, its
    /// desired capacity: with `max` that is the scaling policy's).
    pub size: Option<(i32, i32)>,
    /// It launches from another version than the template's default (its
    /// members already run that version: no roll).
    pub version: bool,
    /// Its tags.
    pub tags: TagDrift,
    /// Members of another launch template version than the one it should run
    /// (all, for a new version): new ones launch beside them, and they go once
    /// the new are proven.
    pub roll: Vec<String>,
    /// Members beyond a smaller `count` (no roll): retired by this tool,
    /// deregistered and drained, from the most crowded zones, so the plan
    /// names them and the rest stay balanced.
    pub shrink: Vec<String>,
    /// It is not attached to the target group (a target group made anew
    /// beside it): attach it, so its instances are registered.
    pub attach: bool,
    /// `AZRebalance` is still suspended (a roll that stopped half-way): resume it.
    pub resume: bool,
}

/// What deploy does with the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it (in the load balancer's zones, known when it exists).
    Create,
    /// It is as wanted.
    Keep,
    /// Its size, version, tags or instances change.
    Update(Changes),
    /// It goes (`count = 1`), once the single instance serves.
    Delete,
    /// Deploy stops.
    Stop(String),
}

/// Decides the group for `count > 1`; `version`: the launch template version
/// it should run (`None`: a new version is made, which every member is rolled
/// onto); `tg_arn`: the target group's ARN when it exists as ours (`None`:
/// made by this deploy).
pub fn decide(
    spec: &Spec,
    seen: &Seen<Group>,
    version: Option<&str>,
    tg_arn: Option<&str>,
) -> Action {
    let g = match seen {
        Seen::Absent => return Action::Create,
        Seen::Foreign(why) => return Action::Stop(why.clone()),
        Seen::Ours(g) => g,
    };
    let (min, max) = spec.limits();
    let desired_off = match spec.max {
        // The scaling policy owns the desired capacity within the limits.
        Some(_) => g.desired < min || g.desired > max,
        None => g.desired != min,
    };
    let size = (desired_off || g.min != min || g.max != max).then_some((min, max));
    let roll: Vec<String> = g
        .members
        .iter()
        .filter(|m| !m.leaving())
        .filter(|m| version.is_none_or(|v| m.version != v))
        .map(|m| m.id.clone())
        .collect();
    let attach = tg_arn.is_none_or(|arn| !g.target_groups.iter().any(|t| t == arn));
    // With `max`, members above `count` are the scaling policy's.
    let shrink = match roll.is_empty() && spec.max.is_none() {
        true => beyond(g, spec.count),
        false => Vec::new(),
    };
    let c = Changes {
        size,
        // A new version (None), or another than the group's, with no member
        // to roll: the group is switched to it alone.
        version: roll.is_empty() && version.is_none_or(|v| g.version != v),
        tags: spec.owner.drift(&g.tags),
        attach,
        resume: roll.is_empty() && g.suspended.iter().any(|p| p == REBALANCE),
        roll,
        shrink,
    };
    if c.size.is_none()
        && !c.version
        && c.tags.is_empty()
        && c.roll.is_empty()
        && !c.attach
        && !c.resume
    {
        Action::Keep
    } else {
        Action::Update(c)
    }
}

/// The members a group of `count` no longer needs: one at a time from the
/// zone with the most, the last listed there (ties: the zone listed last).
fn beyond(g: &Group, count: usize) -> Vec<String> {
    let mut left: Vec<&Member> = g.members.iter().filter(|m| !m.leaving()).collect();
    let mut out = Vec::new();
    while left.len() > count {
        let in_zone = |z: &str| left.iter().filter(|m| m.zone == z).count();
        let Some(pick) = left
            .iter()
            .enumerate()
            .max_by_key(|(n, m)| (in_zone(&m.zone), *n))
            .map(|(n, _)| n)
        else {
            break;
        };
        out.push(left.remove(pick).id.clone());
    }
    out
}

impl Action {
    /// How many instances the group launches: `count` for a new group or a
    /// roll, the difference for a group grown without a roll.
    pub fn launches(&self, spec: &Spec, found: Option<&Group>) -> usize {
        let live = |g: &Group| g.members.iter().filter(|m| !m.leaving()).count();
        match (self, found) {
            (Action::Create, _) => spec.count,
            // Members already on the version the group runs stay; the roll
            // launches the rest.
            (Action::Update(c), Some(g)) if !c.roll.is_empty() => {
                let staying = g
                    .members
                    .iter()
                    .filter(|m| !m.leaving() && !c.roll.contains(&m.id))
                    .count();
                spec.count.saturating_sub(staying)
            }
            (Action::Update(c), None) if !c.roll.is_empty() => spec.count,
            (Action::Update(c), Some(g)) if c.size.is_some() => spec.count.saturating_sub(live(g)),
            _ => 0,
        }
    }

    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Update(_) => Verb::Update,
            Action::Delete => Verb::Delete,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it; `found` the group observed.
    pub fn detail(
        &self,
        spec: &Spec,
        found: Option<&Group>,
        zones: usize,
        instance_type: &str,
    ) -> String {
        match self {
            Action::Create => format!("{} x {instance_type} in {zones} zones", spec.count),
            Action::Keep => String::new(),
            Action::Update(c) => {
                let mut out = Vec::new();
                if let (Some((min, max)), Some(g)) = (c.size, found) {
                    if spec.max.is_none() && g.desired != min {
                        out.push(format!("capacity {} -> {min}", g.desired));
                    } else if g.min != min {
                        out.push(format!("minimum {} -> {min}", g.min));
                    }
                    if g.max != max {
                        out.push(format!("maximum {} -> {max}", g.max));
                    }
                }
                if let (true, Some(g)) = (c.version, found) {
                    out.push(format!(
                        "launch template version {} -> the default",
                        g.version
                    ));
                }
                if c.resume {
                    out.push(format!("resume {REBALANCE} (a roll stopped half-way)"));
                }
                if c.attach {
                    out.push("attach to the target group".to_string());
                }
                if !c.shrink.is_empty() {
                    out.push(format!("retire {}", c.shrink.join(", ")));
                }
                if !c.roll.is_empty() {
                    out.push(format!(
                        "roll: {} new before {} go",
                        spec.count,
                        c.roll.join(", ")
                    ));
                }
                out.extend(c.tags.describe());
                out.join("; ")
            }
            Action::Delete => "count = 1: one instance takes the place of the group".into(),
            Action::Stop(why) => why.clone(),
        }
    }
}

/// The group's tags: the owner's, and the instance tags it puts on what it
/// launches (Name, Role, the fingerprint, the template).
fn tags(spec: &Spec) -> Vec<asgt::Tag> {
    spec.owner
        .pairs()
        .chain(
            spec.instance_tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map(|(k, v)| tag(spec, k, v))
        .collect()
}

fn tag(spec: &Spec, key: &str, value: &str) -> asgt::Tag {
    asgt::Tag::builder()
        .resource_id(&spec.name)
        .resource_type("auto-scaling-group")
        .key(key)
        .value(value)
        .propagate_at_launch(true)
        .build()
}

fn template(lt: &LaunchTemplate) -> asgt::LaunchTemplateSpecification {
    asgt::LaunchTemplateSpecification::builder()
        .launch_template_id(&lt.id)
        .version(lt.version.to_string())
        .build()
}

/// What the group's apply needs from the steps before it.
pub struct Inputs<'a> {
    /// The launch template (its default version).
    pub template: &'a LaunchTemplate,
    /// Where a new group runs: the load balancer's zones.
    pub subnets: &'a [Subnet],
    /// The target group.
    pub target_group: &'a TargetGroup,
    /// The load balancer's ARN (for the scaling policy).
    pub lb_arn: &'a str,
}

/// Applies the decision (not `Delete`, which comes after the site is proven):
/// creates the group, or resizes, retags and starts its roll (the new
/// instances launch beside the old; [`wait_ready`] waits for them). Returns
/// the roll under way, if any.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&Group>,
    inputs: &Inputs<'_>,
) -> Result<Option<Roll>> {
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => Ok(None),
        Action::Delete => bail!("{} goes after the site is proven", spec.name),
        Action::Create => {
            create(ctx, spec, inputs).await?;
            scaling(ctx, spec, inputs.lb_arn, inputs.target_group).await?;
            Ok(None)
        }
        Action::Update(c) => {
            let g = found.context("no Auto Scaling group was observed")?;
            retag(ctx, spec, &c.tags).await?;
            if c.attach {
                attach(ctx, spec, &inputs.target_group.arn).await?;
            }
            let roll = if c.roll.is_empty() {
                if !c.shrink.is_empty() {
                    // The minimum first (retiring below it is refused), then
                    // the chosen members with the capacity decremented.
                    update(ctx, spec, None, Size::Min).await?;
                    retire(ctx, &c.shrink).await?;
                }
                if c.size.is_some() || c.version {
                    let lt = c.version.then_some(inputs.template);
                    update(ctx, spec, lt, Size::Limits).await?;
                }
                if c.resume {
                    processes(ctx, spec, false).await?;
                }
                None
            } else {
                Some(roll_start(ctx, spec, g, &c.roll, inputs.template).await?)
            };
            scaling(ctx, spec, inputs.lb_arn, inputs.target_group).await?;
            Ok(roll)
        }
    }
}

/// Whether Auto Scaling refused a launch template because what it names (the
/// template, its key pair or security group, made moments ago) is not visible
/// to it yet: "You must use a valid fully-formed launch template. ...".
fn template_not_visible(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<AwsError>())
        .any(|e| {
            e.code.as_deref() == Some("ValidationError")
                && (e.message.contains("fully-formed launch template")
                    || e.message.contains("does not exist"))
        })
}

async fn create(ctx: &Ctx, spec: &Spec, inputs: &Inputs<'_>) -> Result<()> {
    retry_not_yet(
        ctx.poll,
        &format!("create Auto Scaling group {}", spec.name),
        VISIBILITY_LIMIT,
        template_not_visible,
        |e, _| tracing::debug!(error = %e, "launch template not visible to Auto Scaling yet"),
        || create_once(ctx, spec, inputs),
    )
    .await
}

async fn create_once(ctx: &Ctx, spec: &Spec, inputs: &Inputs<'_>) -> Result<()> {
    let (min, max) = spec.limits();
    let subnets: Vec<&str> = inputs.subnets.iter().map(|s| s.id.as_str()).collect();
    let res = ctx
        .asg
        .create_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .launch_template(template(inputs.template))
        .min_size(min)
        .max_size(max)
        .desired_capacity(min)
        .vpc_zone_identifier(subnets.join(","))
        .target_group_arns(&inputs.target_group.arn)
        .health_check_type("ELB")
        .health_check_grace_period(HEALTH_GRACE_SECS)
        .set_tags(Some(tags(spec)))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(()),
        // A retried create whose first attempt took effect.
        Err(e) if e.code.as_deref() == Some("AlreadyExists") => Ok(()),
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("failed to create Auto Scaling group {}", spec.name))),
    }
}

async fn attach(ctx: &Ctx, spec: &Spec, tg_arn: &str) -> Result<()> {
    ctx.asg
        .attach_load_balancer_target_groups()
        .auto_scaling_group_name(&spec.name)
        .target_group_arns(tg_arn)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to attach {} to the target group", spec.name))?;
    Ok(())
}

async fn retag(ctx: &Ctx, spec: &Spec, drift: &TagDrift) -> Result<()> {
    if !drift.set.is_empty() {
        ctx.asg
            .create_or_update_tags()
            .set_tags(Some(
                drift.set.iter().map(|(k, v)| tag(spec, k, v)).collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to tag {}", spec.name))?;
    }
    if !drift.remove.is_empty() {
        ctx.asg
            .delete_tags()
            .set_tags(Some(
                drift.remove.iter().map(|k| tag(spec, k, "")).collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to remove tags from {}", spec.name))?;
    }
    Ok(())
}

/// The size an [`update`] gives the group.
#[derive(Debug, Clone, Copy)]
enum Size {
    /// The spec's limits; without `max`, desired = `count` too (with it, Auto
    /// Scaling keeps the desired capacity within the limits and the scaling
    /// policy owns it).
    Limits,
    /// A roll: `desired` instances (old + new), the maximum raised to fit.
    Roll { desired: i32 },
    /// The spec's minimum alone (before members are retired).
    Min,
}

/// One UpdateAutoScalingGroup: its size, and with `lt` the template version it
/// launches from (so a resize and a new version take effect together: what
/// it launches for the resize runs the new version).
async fn update(ctx: &Ctx, spec: &Spec, lt: Option<&LaunchTemplate>, size: Size) -> Result<()> {
    // A new template version may name what Auto Scaling cannot see yet (an
    // instance profile made moments ago): refused as not fully formed.
    let limit = match lt {
        Some(_) => VISIBILITY_LIMIT,
        None => std::time::Duration::ZERO,
    };
    retry_not_yet(
        ctx.poll,
        &format!("update Auto Scaling group {}", spec.name),
        limit,
        |e| lt.is_some() && template_not_visible(e),
        |e, _| tracing::debug!(error = %e, "launch template not usable by Auto Scaling yet"),
        || update_once(ctx, spec, lt, size),
    )
    .await
}

async fn update_once(
    ctx: &Ctx,
    spec: &Spec,
    lt: Option<&LaunchTemplate>,
    size: Size,
) -> Result<()> {
    let (min, max) = spec.limits();
    let req = ctx
        .asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .set_launch_template(lt.map(template));
    let req = match size {
        Size::Limits => req
            .min_size(min)
            .max_size(max)
            .set_desired_capacity(spec.max.is_none().then_some(min)),
        // The new minimum too: retiring the old ones with the capacity
        // decremented must not go below it (a smaller `count`).
        Size::Roll { desired } => req
            .min_size(min)
            .max_size(desired.max(max))
            .desired_capacity(desired),
        Size::Min => req.min_size(min),
    };
    req.send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to update Auto Scaling group {}", spec.name))?;
    Ok(())
}

/// Suspends (`suspend`) or resumes the group's [`REBALANCE`].
async fn processes(ctx: &Ctx, spec: &Spec, suspend: bool) -> Result<()> {
    let failed = || {
        let verb = if suspend { "suspend" } else { "resume" };
        format!("failed to {verb} {REBALANCE} of {}", spec.name)
    };
    if suspend {
        ctx.asg
            .suspend_processes()
            .auto_scaling_group_name(&spec.name)
            .scaling_processes(REBALANCE)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(failed)?;
    } else {
        ctx.asg
            .resume_processes()
            .auto_scaling_group_name(&spec.name)
            .scaling_processes(REBALANCE)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(failed)?;
    }
    Ok(())
}

/// Why Auto Scaling cannot launch the group's instances, when its activities
/// since `since` say so for good ([`settled_failure`]: a new account's vCPU
/// quota at once, a zone out of capacity once retries have not cured it),
/// which it would otherwise retry silently while a wait times out.
async fn launch_failure(ctx: &Ctx, spec: &Spec, since: SystemTime) -> Result<Option<String>> {
    let out = ctx
        .asg
        .describe_scaling_activities()
        .auto_scaling_group_name(&spec.name)
        .max_records(10)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read the scaling activities of {}", spec.name))?;
    let since = aws_sdk_autoscaling::primitives::DateTime::from(since);
    let now = aws_sdk_autoscaling::primitives::DateTime::from(SystemTime::now());
    Ok(settled_failure(out.activities(), since.secs(), now.secs()))
}

/// Causes a retry cannot cure: a quota, a parameter or a permission.
const PERMANENT: &[&str] = &[
    "vCPU",
    "VcpuLimitExceeded",
    "InstanceLimitExceeded",
    "not supported",
    "Unsupported",
    "InvalidParameter",
    "not authorized",
];

/// How long Auto Scaling's retries of a failing launch (another zone, more
/// capacity later) are given before the failure counts.
const RETRIED_FOR_SECS: i64 = 120;

/// The failure to report from the group's activities (newest first; those
/// still in progress come first, as AWS lists them) since `since`: a failed
/// launch for a cause a retry cannot cure, or failures still the newest word
/// `RETRIED_FOR_SECS` after the first (a zone out of capacity is retried in
/// another, and may succeed).
fn settled_failure(activities: &[asgt::Activity], since: i64, now: i64) -> Option<String> {
    let recent: Vec<&asgt::Activity> = activities
        .iter()
        .filter(|a| a.start_time().is_some_and(|t| t.secs() >= since))
        .collect();
    let failed = |a: &asgt::Activity| {
        matches!(
            a.status_code(),
            Some(asgt::ScalingActivityStatusCode::Failed)
                | Some(asgt::ScalingActivityStatusCode::Cancelled)
        )
    };
    let why = |a: &asgt::Activity| {
        a.status_message()
            .or(a.description())
            .unwrap_or("a launch failed")
            .to_string()
    };
    // The newest activity that has ended.
    let last = recent
        .iter()
        .find(|a| a.status_code() != Some(&asgt::ScalingActivityStatusCode::InProgress))?;
    if !failed(last) {
        return None;
    }
    if PERMANENT.iter().any(|p| why(last).contains(p)) {
        return Some(why(last));
    }
    let first = recent
        .iter()
        .filter(|a| failed(a))
        .filter_map(|a| a.start_time().map(|t| t.secs()))
        .min()?;
    (now - first >= RETRIED_FOR_SECS).then(|| why(last))
}

/// Seconds after launch before the group acts on the load balancer's health
/// check: the boot script installs the web server and the template in about a
/// minute.
pub const HEALTH_GRACE_SECS: i32 = 180;

/// Waits until `count` instances launched from `version` of the launch
/// template are in service; returns them. A launch Auto Scaling reports
/// failed after `since` (the group's create or update) for good
/// ([`settled_failure`]) ends the wait with its reason.
pub async fn wait_ready(
    ctx: &Ctx,
    spec: &Spec,
    version: &str,
    since: SystemTime,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Vec<Member>> {
    let want = spec.count;
    poll_until(
        ctx.poll,
        &format!("{want} instances of {} to be in service", spec.name),
        limit,
        on_wait,
        || async {
            let g = now(ctx, spec).await?;
            let ready: Vec<Member> = g
                .members
                .iter()
                .filter(|m| m.version == version && m.state == asgt::LifecycleState::InService)
                .cloned()
                .collect();
            if ready.len() >= want {
                return Ok(Check::Done(ready));
            }
            if let Some(why) = launch_failure(ctx, spec, since).await? {
                bail!(
                    "Auto Scaling group {} could not launch its instances ({} of {want} in \
                     service): {why}",
                    spec.name,
                    ready.len()
                );
            }
            Ok(Check::Waiting(format!("{} of {want} ready", ready.len())))
        },
    )
    .await
}

/// A roll under way: the group runs the new version beside the old instances.
#[derive(Debug, Clone)]
pub struct Roll {
    /// The old instances, still in service.
    pub old: Vec<String>,
    /// The launch template version the group ran before.
    pub version: String,
    /// The launch template's id.
    pub template_id: String,
    /// The old instances' fingerprint and template (the group's tags before).
    pub old_tags: Vec<(String, String)>,
}

/// Starts rolling the group onto `lt`'s version: [`REBALANCE`] suspended,
/// then in one update the new version and the capacity raised by the old
/// instances' number, so `count` new ones launch beside them (then
/// [`wait_ready`] waits for them, the site check proves them, and
/// [`roll_finish`] retires the old, or [`roll_back`] the new).
async fn roll_start(
    ctx: &Ctx,
    spec: &Spec,
    g: &Group,
    old: &[String],
    lt: &LaunchTemplate,
) -> Result<Roll> {
    let old_tags: Vec<(String, String)> = g
        .tags
        .iter()
        .filter(|(k, _)| k == FINGERPRINT_KEY || k == TEMPLATE_KEY)
        .cloned()
        .collect();
    processes(ctx, spec, true).await?;
    // New instances carry the new fingerprint (the launch template's tags say
    // so too; the group's propagated tag wins where they differ).
    ctx.asg
        .create_or_update_tags()
        .set_tags(Some(
            spec.instance_tags
                .iter()
                .filter(|(k, _)| k == FINGERPRINT_KEY || k == TEMPLATE_KEY)
                .map(|(k, v)| tag(spec, k, v))
                .collect(),
        ))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to tag Auto Scaling group {}", g.name))?;
    let desired = old.len() as i32 + spec.limits().0;
    update(ctx, spec, Some(lt), Size::Roll { desired }).await?;
    Ok(Roll {
        old: old.to_vec(),
        version: g.version.clone(),
        // The template it ran before (a template made anew has another id).
        template_id: match g.template_id.is_empty() {
            true => lt.id.clone(),
            false => g.template_id.clone(),
        },
        old_tags,
    })
}

/// Takes `ids` out of the group and terminates them, decrementing its
/// capacity (the group deregisters them from the target group and waits for
/// their draining first). One already gone is skipped.
async fn retire(ctx: &Ctx, ids: &[String]) -> Result<()> {
    for id in ids {
        let res = ctx
            .asg
            .terminate_instance_in_auto_scaling_group()
            .instance_id(id)
            .should_decrement_desired_capacity(true)
            .send()
            .await
            .map_err(AwsError::from);
        match res {
            Ok(_) => {}
            // Already gone from the group (terminated meanwhile): "No managed
            // instance found for instance ID".
            Err(e)
                if e.code.as_deref() == Some("ValidationError")
                    && e.message.contains("No managed instance found") => {}
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("failed to retire {id}")));
            }
        }
    }
    Ok(())
}

/// The new instances serve: the old ones retired, the size set back,
/// [`REBALANCE`] resumed.
pub async fn roll_finish(ctx: &Ctx, spec: &Spec, roll: &Roll) -> Result<()> {
    retire(ctx, &roll.old).await?;
    update(ctx, spec, None, Size::Limits).await?;
    processes(ctx, spec, false).await
}

/// The new instances failed: the group back on its previous version and tags,
/// the new instances (`new`) retired, the size set back, [`REBALANCE`]
/// resumed; the old keep serving.
pub async fn roll_back(ctx: &Ctx, spec: &Spec, roll: &Roll, new: &[String]) -> Result<()> {
    // The previous version, and the capacity of what runs now (old and new):
    // launches still pending (a quota) stop, so retiring the new ones with the
    // capacity decremented leaves exactly the old.
    let running = (roll.old.len() + new.len()) as i32;
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .launch_template(
            asgt::LaunchTemplateSpecification::builder()
                .launch_template_id(&roll.template_id)
                .version(&roll.version)
                .build(),
        )
        .desired_capacity(running)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set {} back", spec.name))?;
    if !roll.old_tags.is_empty() {
        ctx.asg
            .create_or_update_tags()
            .set_tags(Some(
                roll.old_tags.iter().map(|(k, v)| tag(spec, k, v)).collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to tag {} back", spec.name))?;
    }
    retire(ctx, new).await?;
    update(ctx, spec, None, Size::Limits).await?;
    processes(ctx, spec, false).await
}

/// A roll whose new instances never came into service (a launch Auto Scaling
/// reports failed, a timeout): rolled back as [`roll_back`] does, the new
/// members being those of the group not in `roll.old`. Returns them.
pub async fn undo_roll(ctx: &Ctx, spec: &Spec, roll: &Roll) -> Result<Vec<String>> {
    let g = now(ctx, spec).await?;
    let new: Vec<String> = g
        .members
        .iter()
        .filter(|m| !m.leaving() && !roll.old.contains(&m.id))
        .map(|m| m.id.clone())
        .collect();
    roll_back(ctx, spec, roll, &new).await?;
    Ok(new)
}

/// With `max`: target tracking on the load balancer's request count per target;
/// without it, no policy (one left by an earlier `max` is deleted).
async fn scaling(ctx: &Ctx, spec: &Spec, lb_arn: &str, tg: &TargetGroup) -> Result<()> {
    if spec.max.unwrap_or(spec.count) <= spec.count {
        // No `max` (any more): no policy. Absent is fine.
        let res = ctx
            .asg
            .delete_policy()
            .auto_scaling_group_name(&spec.name)
            .policy_name(&spec.policy)
            .send()
            .await
            .map_err(AwsError::from);
        if let Err(e) = res {
            if e.code.as_deref() != Some("ValidationError") {
                return Err(anyhow::Error::new(e).context(format!(
                    "failed to remove the scaling policy of {}",
                    spec.name
                )));
            }
        }
        return Ok(());
    }
    // "app/<lb>/<id>/targetgroup/<tg>/<id>", from the two ARNs.
    let lb = lb_arn
        .split_once("loadbalancer/")
        .map(|x| x.1)
        .unwrap_or_default();
    let tgp = tg.arn.rsplit(':').next().unwrap_or_default();
    ctx.asg
        .put_scaling_policy()
        .auto_scaling_group_name(&spec.name)
        .policy_name(&spec.policy)
        .policy_type("TargetTrackingScaling")
        .target_tracking_configuration(
            asgt::TargetTrackingConfiguration::builder()
                .predefined_metric_specification(
                    asgt::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(asgt::MetricType::AlbRequestCountPerTarget)
                        .resource_label(format!("{lb}/{tgp}"))
                        .build(),
                )
                .target_value(REQUESTS_PER_TARGET)
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set the scaling policy of {}", spec.name))?;
    Ok(())
}

/// Requests per target per minute that target tracking aims at: a static
/// site's instance serves far more, so this only adds instances under real load.
pub const REQUESTS_PER_TARGET: f64 = 1000.0;

/// Deletes the group (as observed) with its instances and waits until it is
/// gone (its instances hold the web group).
pub async fn delete(
    ctx: &Ctx,
    spec: &Spec,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Deleted> {
    let res = ctx
        .asg
        .delete_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .force_delete(true)
        .send()
        .await
        .map_err(AwsError::from);
    if let Err(e) = res {
        let e = anyhow::Error::new(e);
        // "already being deleted" is fine; wait below.
        if !matches!(
            code(&e),
            Some("ResourceInUse") | Some("ScalingActivityInProgress")
        ) {
            return Err(e.context(format!("failed to delete {}", spec.name)));
        }
    }
    poll_until(
        ctx.poll,
        &format!("Auto Scaling group {} to be deleted", spec.name),
        limit,
        on_wait,
        || async {
            match observe(ctx, spec).await? {
                Seen::Ours(g) => Ok(Check::Waiting(format!(
                    "deleting, {} instances left",
                    g.members.len()
                ))),
                _ => Ok(Check::Done(())),
            }
        },
    )
    .await?;
    Ok(Deleted::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(status: asgt::ScalingActivityStatusCode, at: i64, msg: &str) -> asgt::Activity {
        asgt::Activity::builder()
            .activity_id(format!("a{at}"))
            .auto_scaling_group_name("g")
            .cause("c")
            .start_time(aws_sdk_autoscaling::primitives::DateTime::from_secs(at))
            .status_code(status)
            .status_message(msg)
            .build()
    }

    #[test]
    fn a_quota_fails_at_once_and_a_capacity_shortage_only_once_retries_did_not_cure_it() {
        use asgt::ScalingActivityStatusCode as S;
        let vcpu = "You have requested more vCPU capacity than your current vCPU limit of 4 allows";
        let quota = [activity(S::Failed, 100, vcpu)];
        assert_eq!(settled_failure(&quota, 90, 101).as_deref(), Some(vcpu));
        // Before `since`: an earlier run's.
        assert_eq!(settled_failure(&quota, 110, 111), None);
        let short = "InsufficientInstanceCapacity in us-east-1a";
        let once = [activity(S::Failed, 100, short)];
        assert_eq!(
            settled_failure(&once, 90, 150),
            None,
            "retried in another zone"
        );
        assert_eq!(settled_failure(&once, 90, 230).as_deref(), Some(short));
        // A retry in progress or that succeeded: no failure.
        let retrying = [
            activity(S::InProgress, 160, ""),
            activity(S::Failed, 100, short),
        ];
        assert_eq!(settled_failure(&retrying, 90, 230).as_deref(), Some(short));
        let cured = [
            activity(S::Successful, 160, "ok"),
            activity(S::Failed, 100, short),
        ];
        assert_eq!(settled_failure(&cured, 90, 300), None);
    }
}
