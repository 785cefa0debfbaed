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

use anyhow::{Context, Result};
use aws_sdk_autoscaling::types as asgt;

use super::launchtemplate::LaunchTemplate;
use super::targetgroup::{self, TargetGroup};
use super::{foreign, is_foreign, Deleted, Ensured, Outcome};
use crate::aws::{code, poll_until, AwsError, Check, Ctx};
use crate::config::{DEPLOYMENT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::{Plan, FINGERPRINT_KEY, ROLE_KEY, TEMPLATE_KEY};

/// The tag AWS puts on every instance an Auto Scaling group launches.
pub const GROUP_TAG: &str = "aws:autoscaling:groupName";

/// One instance of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Instance id.
    pub id: String,
    /// Availability zone.
    pub zone: String,
    /// Lifecycle state (Pending, InService, Terminating...).
    pub state: String,
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
    /// Its tags.
    pub tags: super::Tags,
}

impl Group {
    /// Members launched for another fingerprint than the plan's (an earlier
    /// template), leaving or not.
    pub fn old_members(&self, plan: &Plan) -> Vec<&Member> {
        self.members
            .iter()
            .filter(|m| m.fingerprint != plan.fingerprint)
            .collect()
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
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
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

/// Finds the plan's group; an error when one of that name lacks this tool's tags.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<Group>> {
    let out = ctx
        .asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&plan.asg_name)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up Auto Scaling group {}", plan.asg_name))?;
    let Some(g) = out
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(plan.asg_name.as_str()))
    else {
        return Ok(None);
    };
    let mut group = to_group(g);
    // Which template each instance runs: its fingerprint tag (the group
    // propagates it; moto does not record the launch template version).
    let ids: Vec<String> = group.members.iter().map(|m| m.id.clone()).collect();
    for i in super::instance::describe_ids(ctx, &ids).await? {
        if let Some(m) = group.members.iter_mut().find(|m| m.id == i.id) {
            m.fingerprint = i.fingerprint.unwrap_or_default();
        }
    }
    let tag = |k: &str| {
        group
            .tags
            .iter()
            .find(|(tk, _)| tk == k)
            .map(|(_, v)| v.as_str())
    };
    if tag(MANAGED_BY_KEY) != Some(MANAGED_BY_VALUE) || tag(DEPLOYMENT_KEY) != Some(&plan.name) {
        return Err(foreign(
            "Auto Scaling group",
            &plan.asg_name,
            plan,
            "Rename the deployment (name in deploy.toml).",
        ));
    }
    Ok(Some(group))
}

/// The group's tags: the plan's, and the instance tags it puts on what it
/// launches (Name, Role, the fingerprint).
fn tags(plan: &Plan) -> Vec<asgt::Tag> {
    let instance = [
        ("Name", plan.instance_name.as_str()),
        (ROLE_KEY, super::instance::ROLE_WEB),
        (FINGERPRINT_KEY, plan.fingerprint.as_str()),
        (TEMPLATE_KEY, plan.template.as_str()),
    ];
    plan.tag_pairs()
        .chain(instance)
        .map(|(k, v)| tag(plan, k, v))
        .collect()
}

fn tag(plan: &Plan, key: &str, value: &str) -> asgt::Tag {
    asgt::Tag::builder()
        .resource_id(&plan.asg_name)
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

/// The group's size limits: `count` instances, up to `max` with target
/// tracking.
pub fn limits(plan: &Plan) -> (i32, i32) {
    let count = plan.count as i32;
    (
        count,
        plan.max.map(|m| m as i32).unwrap_or(count).max(count),
    )
}

/// How the group differs from the plan, one line each (the capacity; a new
/// launch template version rolls its instances, said by the template's row).
pub fn drift(g: &Group, plan: &Plan) -> Vec<String> {
    let (min, max) = limits(plan);
    let mut out = Vec::new();
    if g.desired != min || g.min != min {
        out.push(format!("capacity {} -> {min}", g.desired));
    }
    if g.max != max {
        out.push(format!("maximum {} -> {max}", g.max));
    }
    out
}

/// Makes sure the group exists, launches from `lt` and has the plan's size.
/// `subnets`: where a new group runs (the load balancer's zones). A new launch
/// template version is not applied here but by [`roll`].
pub async fn ensure(
    ctx: &Ctx,
    plan: &Plan,
    found: Option<Group>,
    lt: &LaunchTemplate,
    subnets: &[String],
    tg: &TargetGroup,
) -> Result<Ensured<Group>> {
    let (min, max) = limits(plan);
    if let Some(g) = found {
        let tags = super::tag_drift(&g.tags, plan);
        if !tags.set.is_empty() {
            ctx.asg
                .create_or_update_tags()
                .set_tags(Some(
                    tags.set.iter().map(|(k, v)| tag(plan, k, v)).collect(),
                ))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to tag {}", g.name))?;
        }
        if !tags.remove.is_empty() {
            ctx.asg
                .delete_tags()
                .set_tags(Some(tags.remove.iter().map(|k| tag(plan, k, "")).collect()))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to remove tags from {}", g.name))?;
        }
        if drift(&g, plan).is_empty() {
            let outcome = if tags.is_empty() {
                Outcome::Existing
            } else {
                Outcome::Updated
            };
            return Ok(Ensured::new(g, outcome));
        }
        ctx.asg
            .update_auto_scaling_group()
            .auto_scaling_group_name(&g.name)
            .min_size(min)
            .max_size(max.max(g.members.len() as i32))
            .desired_capacity(min)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to resize Auto Scaling group {}", g.name))?;
        return Ok(Ensured::new(
            Group {
                desired: min,
                min,
                max,
                ..g
            },
            Outcome::Updated,
        ));
    }
    let res = ctx
        .asg
        .create_auto_scaling_group()
        .auto_scaling_group_name(&plan.asg_name)
        .launch_template(template(lt))
        .min_size(min)
        .max_size(max)
        .desired_capacity(min)
        .vpc_zone_identifier(subnets.join(","))
        .target_group_arns(&tg.arn)
        .health_check_type("ELB")
        .health_check_grace_period(HEALTH_GRACE_SECS)
        .set_tags(Some(tags(plan)))
        .send()
        .await
        .map_err(AwsError::from);
    if let Err(e) = res {
        // A retried create whose first attempt took effect.
        if e.code.as_deref() != Some("AlreadyExists") {
            return Err(anyhow::Error::new(e).context(format!(
                "failed to create Auto Scaling group {}",
                plan.asg_name
            )));
        }
    }
    let g = find(ctx, plan)
        .await?
        .context("the new Auto Scaling group is not visible")?;
    Ok(Ensured::new(g, Outcome::Created))
}

/// Seconds after launch before the group acts on the load balancer's health
/// check: the boot script installs the web server and the template in about a
/// minute.
pub const HEALTH_GRACE_SECS: i32 = 180;

/// Waits until `count` instances of the plan's fingerprint are in service and,
/// with `healthy`, healthy in the target group; returns them.
pub async fn wait_ready(
    ctx: &Ctx,
    plan: &Plan,
    tg: &TargetGroup,
    healthy: bool,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Vec<Member>> {
    let want = plan.count;
    poll_until(
        ctx.poll,
        &format!("{want} instances of {} to be in service", plan.asg_name),
        limit,
        on_wait,
        || async {
            let g = find(ctx, plan)
                .await?
                .context("the Auto Scaling group disappeared")?;
            let good: Vec<String> = if healthy {
                targetgroup::targets(ctx, tg)
                    .await?
                    .into_iter()
                    .filter(|(_, h)| h == "healthy")
                    .map(|(id, _)| id)
                    .collect()
            } else {
                g.members.iter().map(|m| m.id.clone()).collect()
            };
            let ready: Vec<Member> = g
                .members
                .iter()
                .filter(|m| m.fingerprint == plan.fingerprint && m.state == "InService")
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
/// instances' number so `count` new ones launch beside them; returns once the
/// new are in service in the group (their health and site are proven by the
/// site check; then [`roll_finish`] retires the old, or [`roll_back`] the new).
pub async fn roll_start(
    ctx: &Ctx,
    plan: &Plan,
    g: &Group,
    lt: &LaunchTemplate,
    tg: &TargetGroup,
    limit: Duration,
    mut on_wait: impl FnMut(&str, Duration),
) -> Result<Roll> {
    let old_members: Vec<&Member> = g
        .old_members(plan)
        .into_iter()
        .filter(|m| !m.state.starts_with("Terminating"))
        .collect();
    let old: Vec<String> = old_members.iter().map(|m| m.id.clone()).collect();
    let old_tags: Vec<(String, String)> = g
        .tags
        .iter()
        .filter(|(k, _)| k == FINGERPRINT_KEY || k == TEMPLATE_KEY)
        .cloned()
        .collect();
    let (min, max) = limits(plan);
    let raised = old.len() as i32 + min;
    // New instances carry the new fingerprint (the launch template's tags say
    // so too; the group's propagated tag wins where they differ).
    ctx.asg
        .create_or_update_tags()
        .tags(tag(plan, FINGERPRINT_KEY, &plan.fingerprint))
        .tags(tag(plan, TEMPLATE_KEY, &plan.template))
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
    wait_ready(ctx, plan, tg, false, limit, &mut on_wait).await?;
    Ok(Roll {
        old,
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

async fn size_back(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let (min, max) = limits(plan);
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&plan.asg_name)
        .min_size(min)
        .max_size(max)
        .desired_capacity(min)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to size Auto Scaling group {}", plan.asg_name))?;
    Ok(())
}

/// The new instances serve: the old ones retired, the size set back.
pub async fn roll_finish(ctx: &Ctx, plan: &Plan, roll: &Roll) -> Result<()> {
    retire(ctx, &roll.old).await?;
    size_back(ctx, plan).await
}

/// The new instances failed: the group back on its previous version and tags,
/// the new instances (`new`) retired, the size set back; the old keep serving.
pub async fn roll_back(ctx: &Ctx, plan: &Plan, roll: &Roll, new: &[String]) -> Result<()> {
    ctx.asg
        .update_auto_scaling_group()
        .auto_scaling_group_name(&plan.asg_name)
        .launch_template(
            asgt::LaunchTemplateSpecification::builder()
                .launch_template_id(&roll.template_id)
                .version(&roll.version)
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set {} back", plan.asg_name))?;
    if !roll.old_tags.is_empty() {
        ctx.asg
            .create_or_update_tags()
            .set_tags(Some(
                roll.old_tags.iter().map(|(k, v)| tag(plan, k, v)).collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to tag {} back", plan.asg_name))?;
    }
    retire(ctx, new).await?;
    size_back(ctx, plan).await
}

/// With `max`: target tracking on the load balancer's request count per target;
/// without it, no policy (one left by an earlier `max` is deleted).
pub async fn ensure_scaling(ctx: &Ctx, plan: &Plan, lb_arn: &str, tg: &TargetGroup) -> Result<()> {
    if plan.max.unwrap_or(plan.count) <= plan.count {
        // No `max` (any more): no policy. Absent is fine.
        let res = ctx
            .asg
            .delete_policy()
            .auto_scaling_group_name(&plan.asg_name)
            .policy_name(format!("{}-requests", plan.name))
            .send()
            .await
            .map_err(AwsError::from);
        if let Err(e) = res {
            if e.code.as_deref() != Some("ValidationError") {
                return Err(anyhow::Error::new(e).context(format!(
                    "failed to remove the scaling policy of {}",
                    plan.asg_name
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
        .auto_scaling_group_name(&plan.asg_name)
        .policy_name(format!("{}-requests", plan.name))
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
        .with_context(|| format!("failed to set the scaling policy of {}", plan.asg_name))?;
    Ok(())
}

/// Requests per target per minute that target tracking aims at: a static
/// site's instance serves far more, so this only adds instances under real load.
pub const REQUESTS_PER_TARGET: f64 = 1000.0;

/// Deletes the group with its instances and waits until it is gone (its
/// instances hold the web group).
pub async fn delete(
    ctx: &Ctx,
    plan: &Plan,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Deleted> {
    match find(ctx, plan).await {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(Deleted::Absent),
        Err(e) if is_foreign(&e) => return Ok(Deleted::Foreign),
        Err(e) => return Err(e),
    }
    let res = ctx
        .asg
        .delete_auto_scaling_group()
        .auto_scaling_group_name(&plan.asg_name)
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
            return Err(e.context(format!("failed to delete {}", plan.asg_name)));
        }
    }
    poll_until(
        ctx.poll,
        &format!("Auto Scaling group {} to be deleted", plan.asg_name),
        limit,
        on_wait,
        || async {
            match find(ctx, plan).await? {
                None => Ok(Check::Done(())),
                Some(g) => Ok(Check::Waiting(format!(
                    "deleting, {} instances left",
                    g.members.len()
                ))),
            }
        },
    )
    .await?;
    Ok(Deleted::Deleted)
}
