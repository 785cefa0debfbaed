//! The Auto Scaling group that runs the web servers when `count > 1`: AWS's own
//! fleet engine keeps `count` instances from the launch template in the load
//! balancer's zones, registers them in the target group, and replaces one the
//! load balancer's health check finds dead.
//!
//! A template change is rolled through the group's own APIs (moto has no
//! instance refresh, and these calls behave the same on AWS): the group is
//! raised to old + new instances on the new launch template version, the new
//! ones are waited for until they are in service and healthy in the target
//! group, and only then is each old one terminated with the capacity decremented
//! (the group deregisters it and waits out the deregistration delay first). So
//! the registered, healthy capacity never drops below `count`.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_autoscaling::types as asgt;

use super::instance::Instance;
pub use super::instance::GROUP_TAG;
use super::launchtemplate::LaunchTemplate;
use super::network::Subnet;
use super::targetgroup::{self, TargetGroup, TargetHealthStateEnum};
use super::{Deleted, Seen, Verb};
use crate::aws::{code, poll_until, AwsError, Check, Ctx};
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
    /// The group of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        let launch = super::instance::Spec::new(plan);
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

    fn fingerprint(&self) -> &str {
        self.instance_tags
            .iter()
            .find(|(k, _)| k == FINGERPRINT_KEY)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
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
    /// The fingerprint it was launched to run (its `SiteFingerprint` tag).
    pub fingerprint: String,
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
    /// Its instances.
    pub members: Vec<Member>,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// The target groups it registers its instances in.
    pub target_groups: Vec<String>,
    /// Its tags.
    pub tags: Tags,
}

impl Group {
    /// Members launched for another fingerprint than `fingerprint` (an
    /// earlier template) and not already leaving.
    pub fn old_members(&self, fingerprint: &str) -> Vec<&Member> {
        self.members
            .iter()
            .filter(|m| m.fingerprint != fingerprint)
            .filter(|m| !m.state.as_str().starts_with("Terminating"))
            .collect()
    }

    /// Its members' fingerprints, from the instances observed (the group
    /// propagates the tag to what it launches).
    pub fn with_fingerprints(mut self, instances: &[Instance]) -> Group {
        for m in &mut self.members {
            if let Some(i) = instances.iter().find(|i| i.id == m.id) {
                m.fingerprint = i.fingerprint.clone().unwrap_or_default();
            }
        }
        self
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
                fingerprint: String::new(),
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
    }
}

/// The spec's group: ours, another's, or none (its members' fingerprints are
/// not read here: [`Group::with_fingerprints`]).
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

/// The group as it is now, with its members' fingerprints (for waits).
async fn now(ctx: &Ctx, spec: &Spec) -> Result<Group> {
    let Seen::Ours(g) = observe(ctx, spec).await? else {
        bail!("Auto Scaling group {} disappeared", spec.name);
    };
    let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
    let instances = super::instance::describe_ids(ctx, &ids).await?;
    Ok(g.with_fingerprints(&instances))
}

/// How the group differs from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Its size (min = desired = count, max): `(min, max)` when it changes.
    pub size: Option<(i32, i32)>,
    /// Its tags.
    pub tags: TagDrift,
    /// Members of an earlier template (or all, for a new template version):
    /// new ones launch beside them, and they go once the new are proven.
    pub roll: Vec<String>,
    /// It is not attached to the target group (a target group made anew
    /// beside it): attach it, so its instances are registered.
    pub attach: bool,
}

/// What deploy does with the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it (in the load balancer's zones, known when it exists).
    Create,
    /// It is as wanted.
    Keep,
    /// Its size, tags or instances change.
    Update(Changes),
    /// It goes (`count = 1`), once the single instance serves.
    Delete,
    /// Deploy stops.
    Stop(String),
}

/// Decides the group for `count > 1`; `new_version`: the launch template gets
/// a new version, which every member is rolled onto; `tg_arn`: the target
/// group's ARN when it exists as ours (`None`: made by this deploy).
pub fn decide(spec: &Spec, seen: &Seen<Group>, new_version: bool, tg_arn: Option<&str>) -> Action {
    let g = match seen {
        Seen::Absent => return Action::Create,
        Seen::Foreign(why) => return Action::Stop(why.clone()),
        Seen::Ours(g) => g,
    };
    let (min, max) = spec.limits();
    let size = (g.desired != min || g.min != min || g.max != max).then_some((min, max));
    let roll: Vec<String> = g
        .members
        .iter()
        .filter(|m| !m.state.as_str().starts_with("Terminating"))
        .filter(|m| new_version || m.fingerprint != spec.fingerprint())
        .map(|m| m.id.clone())
        .collect();
    let attach = tg_arn.is_none_or(|arn| !g.target_groups.iter().any(|t| t == arn));
    let c = Changes {
        size,
        tags: spec.owner.drift(&g.tags),
        roll,
        attach,
    };
    if c.size.is_none() && c.tags.is_empty() && c.roll.is_empty() && !c.attach {
        Action::Keep
    } else {
        Action::Update(c)
    }
}

impl Action {
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
                    if g.desired != min || g.min != min {
                        out.push(format!("capacity {} -> {min}", g.desired));
                    }
                    if g.max != max {
                        out.push(format!("maximum {} -> {max}", g.max));
                    }
                }
                if c.attach {
                    out.push("attach to the target group".to_string());
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
                if let Some((min, max)) = c.size {
                    resize(ctx, spec, min, max.max(g.members.len() as i32)).await?;
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

async fn create(ctx: &Ctx, spec: &Spec, inputs: &Inputs<'_>) -> Result<()> {
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

async fn resize(ctx: &Ctx, spec: &Spec, min: i32, max: i32) -> Result<()> {
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .min_size(min)
        .max_size(max)
        .desired_capacity(min)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to size Auto Scaling group {}", spec.name))?;
    Ok(())
}

/// Seconds after launch before the group acts on the load balancer's health
/// check: the boot script installs the web server and the template in about a
/// minute.
pub const HEALTH_GRACE_SECS: i32 = 180;

/// Waits until `count` instances of the spec's fingerprint are in service and,
/// with `healthy`, healthy in the target group; returns them.
pub async fn wait_ready(
    ctx: &Ctx,
    spec: &Spec,
    tg: &TargetGroup,
    healthy: bool,
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
            let good: Vec<String> = if healthy {
                targetgroup::health(ctx, tg)
                    .await?
                    .into_iter()
                    .filter(|h| h.state == TargetHealthStateEnum::Healthy)
                    .map(|h| h.id)
                    .collect()
            } else {
                g.members.iter().map(|m| m.id.clone()).collect()
            };
            let ready: Vec<Member> = g
                .members
                .iter()
                .filter(|m| {
                    m.fingerprint == spec.fingerprint()
                        && m.state == asgt::LifecycleState::InService
                })
                .filter(|m| good.contains(&m.id))
                .cloned()
                .collect();
            if ready.len() >= want {
                Ok(Check::Done(ready))
            } else {
                Ok(Check::Waiting(format!("{} of {want} ready", ready.len())))
            }
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

/// Starts rolling the group onto `lt`'s version: capacity raised by the old
/// instances' number so `count` new ones launch beside them (then
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
    let (min, max) = spec.limits();
    let raised = old.len() as i32 + min;
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
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&g.name)
        .launch_template(template(lt))
        .max_size(raised.max(max))
        .desired_capacity(raised)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to update Auto Scaling group {}", g.name))?;
    Ok(Roll {
        old: old.to_vec(),
        version: g.version.clone(),
        template_id: lt.id.clone(),
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
        if let Err(e) = res {
            // Already gone from the group (terminated meanwhile).
            if e.code.as_deref() != Some("ValidationError") {
                return Err(anyhow::Error::new(e).context(format!("failed to retire {id}")));
            }
        }
    }
    Ok(())
}

async fn size_back(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let (min, max) = spec.limits();
    resize(ctx, spec, min, max).await
}

/// The new instances serve: the old ones retired, the size set back.
pub async fn roll_finish(ctx: &Ctx, spec: &Spec, roll: &Roll) -> Result<()> {
    retire(ctx, &roll.old).await?;
    size_back(ctx, spec).await
}

/// The new instances failed: the group back on its previous version and tags,
/// the new instances (`new`) retired, the size set back; the old keep serving.
pub async fn roll_back(ctx: &Ctx, spec: &Spec, roll: &Roll, new: &[String]) -> Result<()> {
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&spec.name)
        .launch_template(
            asgt::LaunchTemplateSpecification::builder()
                .launch_template_id(&roll.template_id)
                .version(&roll.version)
                .build(),
        )
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
    size_back(ctx, spec).await
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
