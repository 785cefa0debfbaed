//! Expiry: one-time EventBridge Scheduler schedules that delete the load
//! balancer and the web servers (terminate the instance, or delete the Auto
//! Scaling group with its instances) at `expires_after` from the last deploy.
//! What is left then (groups, target group, key pair) costs nothing, and
//! cleanup removes it as usual.
//!
//! - The schedules live in a schedule group named after the deployment
//!   (`sitedeploy-<name>`), which carries the tool's tags (schedules themselves
//!   cannot be tagged; Scheduler refuses an empty tag value, so a tag without a
//!   value is left off). They delete themselves after they run
//!   (`ActionAfterCompletion: DELETE`).
//! - Each schedule is written as soon as what it deletes exists, and every
//!   deploy writes them again: the current ids, the time counted from now.
//! - They run under the role `sitedeploy-expiry-<region>`, made once per region
//!   (so removing it with a region's last deployment never breaks another
//!   region's), trusted by scheduler.amazonaws.com for this account only, and
//!   allowed only to delete load balancers and Auto Scaling groups and terminate
//!   instances that carry `ManagedBy=sitedeploy`. Its inline policy is read by
//!   every observation and put back when it is missing or differs (a role left
//!   half-made by a killed run is repaired).
//! - Cleanup deletes the schedule group first, so nothing fires later against a
//!   new deployment of the same name, and the role with the region's last
//!   group.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_scheduler::types as sch;
use chrono::{DateTime, Utc};

use super::{Deleted, Verb};
use crate::aws::{settling, AwsError, Ctx};
use crate::config::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;
use crate::resources::role::{self, same_policy};
use crate::tags::iam_tag;
use crate::tags::Owner;

/// Prefix of every schedule group this tool makes.
pub const GROUP_PREFIX: &str = "sitedeploy-";

const ROLE_POLICY_NAME: &str = "expire-sitedeploy-resources";

/// What deploy.toml asks of the expiry.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How long after this deploy the costly parts go (`None`: `off`).
    pub after: Option<Duration>,
    /// The schedule group.
    pub group: String,
    /// The role's name (one per region).
    pub role: String,
    /// The role's ARN.
    pub role_arn: String,
    /// The account (the role's trust policy names it).
    pub account: String,
    /// The partition of the universal targets' ARNs (`aws`, `aws-cn`...).
    pub partition: String,
    /// The schedule that deletes the load balancer.
    pub lb_schedule: String,
    /// The schedule that removes the web servers.
    pub servers_schedule: String,
    /// The deployment's name.
    pub deployment: String,
    /// The schedule group's tags.
    pub owner: Owner,
}

impl Spec {
    /// The expiry of `plan` in `region`, for the caller `caller_arn` of
    /// `account` (the partition comes from the caller's ARN).
    pub fn new(plan: &Plan, region: &str, account: &str, caller_arn: &str) -> Spec {
        let partition = crate::aws::partition_of(caller_arn).to_string();
        let role = format!("sitedeploy-expiry-{region}");
        Spec {
            after: plan.expires_after,
            group: plan.schedule_group.clone(),
            role_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
            role,
            account: account.to_string(),
            partition,
            lb_schedule: format!("{}-load-balancer", plan.name),
            servers_schedule: format!("{}-web-servers", plan.name),
            deployment: plan.name.clone(),
            owner: plan.owner.clone(),
        }
    }
}

/// What the web servers schedule removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Servers {
    /// Terminate these instances (`count = 1`).
    Instances(Vec<String>),
    /// Delete this Auto Scaling group with its instances (`count > 1`).
    Group(String),
}

/// One schedule as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// When it fires.
    pub at: DateTime<Utc>,
    /// The role it runs under.
    pub role_arn: String,
}

/// The schedule group's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// No group of that name.
    Absent,
    /// It exists.
    Active,
    /// It is being deleted (with its schedules); a new one of the name can
    /// be made once it is gone.
    Deleting,
}

/// The role's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleState {
    /// No role.
    Missing,
    /// The role without its inline policy (a run that stopped between
    /// CreateRole and PutRolePolicy): Scheduler could assume it, and its
    /// schedules would fail with AccessDenied.
    NoPolicy,
    /// It has this tool's policy.
    Ready,
    /// Its inline policy is not this tool's (an earlier version's, or edited).
    PolicyDiffers,
}

/// What exists of the expiry.
#[derive(Debug, Clone)]
pub struct Found {
    /// The region's role.
    pub role: RoleState,
    /// The schedule group.
    pub group: GroupState,
    /// The load balancer's schedule.
    pub lb: Option<Schedule>,
    /// The web servers' schedule.
    pub servers: Option<Schedule>,
}

impl Found {
    /// When the deployment expires, if a schedule says so (the earlier one).
    pub fn at(&self) -> Option<DateTime<Utc>> {
        [&self.lb, &self.servers]
            .into_iter()
            .flatten()
            .map(|s| s.at)
            .min()
    }
}

/// Reads the role's policy, the schedules and (when no schedule is there) the
/// group's state, at once.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Found> {
    let (role, lb, servers) = tokio::try_join!(
        role_state(ctx, spec),
        read(ctx, spec, &spec.lb_schedule),
        read(ctx, spec, &spec.servers_schedule),
    )?;
    let group = if lb.is_some() || servers.is_some() {
        GroupState::Active
    } else {
        group_state(ctx, &spec.group).await?
    };
    Ok(Found {
        role,
        group,
        lb,
        servers,
    })
}

async fn read(ctx: &Ctx, spec: &Spec, name: &str) -> Result<Option<Schedule>> {
    let res = ctx
        .scheduler
        .get_schedule()
        .name(name)
        .group_name(&spec.group)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(out
            .schedule_expression()
            .and_then(parse_at)
            .map(|at| Schedule {
                at,
                role_arn: out
                    .target()
                    .map(|t| t.role_arn().to_string())
                    .unwrap_or_default(),
            })),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to read schedule {name}"))),
    }
}

async fn group_state(ctx: &Ctx, group: &str) -> Result<GroupState> {
    let res = ctx
        .scheduler
        .get_schedule_group()
        .name(group)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(match out.state() {
            Some(sch::ScheduleGroupState::Deleting) => GroupState::Deleting,
            _ => GroupState::Active,
        }),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(GroupState::Absent),
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("failed to read schedule group {group}")))
        }
    }
}

async fn role_state(ctx: &Ctx, spec: &Spec) -> Result<RoleState> {
    let res = ctx
        .iam
        .get_role_policy()
        .role_name(&spec.role)
        .policy_name(ROLE_POLICY_NAME)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(if same_policy(out.policy_document(), &role_policy()) {
            RoleState::Ready
        } else {
            RoleState::PolicyDiffers
        }),
        // The role or its policy is missing: GetRole tells which (only then,
        // so a deploy of a ready role makes one call).
        Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {
            let role = ctx
                .iam
                .get_role()
                .role_name(&spec.role)
                .send()
                .await
                .map_err(AwsError::from);
            match role {
                Ok(_) => Ok(RoleState::NoPolicy),
                Err(e) if e.code.as_deref() == Some("NoSuchEntity") => Ok(RoleState::Missing),
                Err(e) => {
                    Err(anyhow::Error::new(e).context(format!("failed to read role {}", spec.role)))
                }
            }
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to read role {}", spec.role))),
    }
}

/// What deploy does with the role, the group and one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it (the role: CreateRole, then its policy; the group: after a
    /// deleted one of the name is gone).
    Create,
    /// It is as wanted.
    Keep,
    /// Rewrite it (the role: its policy; a schedule: at the new time, with
    /// the current ids).
    Update,
    /// Delete it (`off`).
    Delete,
    /// Nothing: it is not wanted and does not exist.
    None,
}

impl Action {
    /// The plan's verb (`None` has no row).
    pub fn verb(&self) -> Option<Verb> {
        match self {
            Action::Create => Some(Verb::Create),
            Action::Keep => Some(Verb::Keep),
            Action::Update => Some(Verb::Update),
            Action::Delete => Some(Verb::Delete),
            Action::None => None,
        }
    }
}

/// The decisions of the expiry's four parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The region's role.
    pub role: Action,
    /// The schedule group.
    pub group: Action,
    /// The load balancer's schedule.
    pub lb: Action,
    /// The web servers' schedule.
    pub servers: Action,
    /// When the schedules fire, counted from now (`None`: off).
    pub at: Option<DateTime<Utc>>,
}

/// Decides the expiry: with `expires_after` every schedule is written again
/// (the time counted from now); with `off` the group goes with its schedules
/// (the role stays for the region's other deployments; cleanup removes it).
pub fn decide(spec: &Spec, found: &Found, now: DateTime<Utc>) -> Decision {
    let Some(at) = spec.after.and_then(|a| expires_at(now, a)) else {
        let gone = |exists: bool| if exists { Action::Delete } else { Action::None };
        return Decision {
            role: match found.role {
                RoleState::Missing => Action::None,
                _ => Action::Keep,
            },
            group: gone(found.group == GroupState::Active),
            lb: gone(found.lb.is_some()),
            servers: gone(found.servers.is_some()),
            at: None,
        };
    };
    let schedule = |s: &Option<Schedule>| match s {
        Some(_) => Action::Update,
        None => Action::Create,
    };
    Decision {
        role: match found.role {
            RoleState::Missing => Action::Create,
            RoleState::NoPolicy | RoleState::PolicyDiffers => Action::Update,
            RoleState::Ready => Action::Keep,
        },
        group: match found.group {
            GroupState::Active => Action::Keep,
            GroupState::Absent | GroupState::Deleting => Action::Create,
        },
        lb: schedule(&found.lb),
        servers: schedule(&found.servers),
        at: Some(at),
    }
}

/// When schedules written `now` fire: `after` later, in whole seconds (as
/// `at(...)` says it).
pub fn expires_at(now: DateTime<Utc>, after: Duration) -> Option<DateTime<Utc>> {
    let t = now + chrono::Duration::from_std(after).ok()?;
    DateTime::from_timestamp(t.timestamp(), 0)
}

/// `at(...)` for a time, as Scheduler wants it (with the UTC time zone).
pub fn at(t: DateTime<Utc>) -> String {
    format!("at({})", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// The time of an `at(...)` expression in UTC.
pub fn parse_at(expr: &str) -> Option<DateTime<Utc>> {
    let inner = expr.strip_prefix("at(")?.strip_suffix(')')?;
    chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// The expiry as the summary and status say it: the time ([`when`]), how
/// long until then, and how to keep the site.
pub fn describe(t: DateTime<Utc>) -> String {
    let left = (t - Utc::now()).num_minutes().max(0);
    format!(
        "{}, in {} h {:02} min (the load balancer and web servers are deleted then, and what \
         is left costs nothing; run deploy again to push it back, or set expires_after = \
         \"off\" in deploy.toml)",
        when(t),
        left / 60,
        left % 60
    )
}

/// The expiry time as every text view writes it: `2026-12-01 06:08 UTC`.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The expiry time as every JSON gives it: RFC 3339, UTC, whole seconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn trust_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "scheduler.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": account } }
        }]
    })
    .to_string()
}

/// What the schedules may do: delete and terminate this tool's resources only.
pub fn role_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ExpireOnlyThisToolsResources",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:DeleteLoadBalancer",
                "ec2:TerminateInstances",
                "autoscaling:DeleteAutoScalingGroup"
            ],
            "Resource": "*",
            "Condition": { "StringEquals": { format!("aws:ResourceTag/{MANAGED_BY_KEY}"): MANAGED_BY_VALUE } }
        }]
    })
    .to_string()
}

/// Applies the role's decision. Returns whether it was made now (Scheduler
/// may not be able to assume it yet).
pub async fn apply_role(ctx: &Ctx, spec: &Spec, action: &Action) -> Result<bool> {
    let name = &spec.role;
    match action {
        Action::Keep | Action::None => return Ok(false),
        Action::Delete => bail!("the expiry role is deleted by cleanup only"),
        Action::Create => {
            role::create(
                ctx,
                name,
                "sitedeploy: lets EventBridge Scheduler expire this tool's deployments",
                trust_policy(&spec.account),
                vec![iam_tag(MANAGED_BY_KEY, MANAGED_BY_VALUE)?],
            )
            .await?;
        }
        Action::Update => {}
    }
    role::put_policy(ctx, name, ROLE_POLICY_NAME, role_policy()).await?;
    Ok(*action == Action::Create)
}

/// How long cleanup's deletion of a group of the same name may take before
/// deploy gives up waiting to make it again.
const GROUP_DELETING_LIMIT: Duration = Duration::from_secs(120);

/// Applies the group's decision: `Create` waits out a group of the name that
/// is still being deleted (cleanup just before), then makes it.
pub async fn apply_group(ctx: &Ctx, spec: &Spec, action: &Action) -> Result<()> {
    match action {
        Action::Keep | Action::None | Action::Update => Ok(()),
        Action::Delete => delete_group(ctx, &spec.group).await.map(|_| ()),
        Action::Create => {
            let start = tokio::time::Instant::now();
            loop {
                match create_group(ctx, spec).await? {
                    GroupState::Active | GroupState::Absent => return Ok(()),
                    GroupState::Deleting if start.elapsed() < GROUP_DELETING_LIMIT => {
                        tokio::time::sleep(ctx.poll.initial.max(Duration::from_millis(500))).await
                    }
                    GroupState::Deleting => bail!(
                        "schedule group {} is still being deleted after {} s; run deploy again \
                         in a minute",
                        spec.group,
                        start.elapsed().as_secs()
                    ),
                }
            }
        }
    }
}

/// CreateScheduleGroup; on a conflict, the state of the group of that name
/// (`Active`: made already; `Deleting`: wait and try again).
async fn create_group(ctx: &Ctx, spec: &Spec) -> Result<GroupState> {
    // Scheduler refuses a tag without a value (1-256 characters).
    let tags = spec
        .owner
        .pairs()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| sch::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .context("schedule group tags")?;
    let res = ctx
        .scheduler
        .create_schedule_group()
        .name(&spec.group)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(GroupState::Active),
        Err(e) if e.code.as_deref() == Some("ConflictException") => {
            group_state(ctx, &spec.group).await
        }
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("failed to create schedule group {}", spec.group))),
    }
}

/// The universal target of the load balancer's schedule: (ARN, input).
pub fn lb_target(spec: &Spec, lb_arn: &str) -> (String, String) {
    (
        format!(
            "arn:{}:scheduler:::aws-sdk:elasticloadbalancingv2:deleteLoadBalancer",
            spec.partition
        ),
        serde_json::json!({ "LoadBalancerArn": lb_arn }).to_string(),
    )
}

/// The universal target of the web servers' schedule: (ARN, input).
pub fn servers_target(spec: &Spec, servers: &Servers) -> (String, String) {
    let p = &spec.partition;
    match servers {
        Servers::Instances(ids) => (
            format!("arn:{p}:scheduler:::aws-sdk:ec2:terminateInstances"),
            serde_json::json!({ "InstanceIds": ids }).to_string(),
        ),
        Servers::Group(name) => (
            format!("arn:{p}:scheduler:::aws-sdk:autoscaling:deleteAutoScalingGroup"),
            serde_json::json!({ "AutoScalingGroupName": name, "ForceDelete": true }).to_string(),
        ),
    }
}

/// Applies one schedule's decision: written for `at` with this target
/// (`Create` or `Update`; each falls back to the other once, for a schedule
/// made or run since it was observed). `fresh_role`: the role was made
/// moments ago and Scheduler may refuse it for a while.
pub async fn apply_schedule(
    ctx: &Ctx,
    spec: &Spec,
    name: &str,
    action: &Action,
    at_time: DateTime<Utc>,
    (arn, input): (String, String),
    fresh_role: bool,
) -> Result<()> {
    let mut update = match action {
        Action::Create => false,
        Action::Update => true,
        // `off`: the group goes, and its schedules with it.
        Action::Keep | Action::Delete | Action::None => return Ok(()),
    };
    let target = sch::Target::builder()
        .arn(arn)
        .role_arn(&spec.role_arn)
        .input(input)
        .build()
        .context("schedule target")?;
    let window = sch::FlexibleTimeWindow::builder()
        .mode(sch::FlexibleTimeWindowMode::Off)
        .build()
        .context("schedule window")?;
    let description = format!("sitedeploy: expire deployment {}", spec.deployment);
    let mut fell_back = false;
    loop {
        // CreateSchedule and UpdateSchedule take the same fields (and have
        // different builder types).
        macro_rules! send {
            ($builder:expr) => {
                $builder
                    .name(name)
                    .group_name(&spec.group)
                    .schedule_expression(at(at_time))
                    .schedule_expression_timezone("UTC")
                    .flexible_time_window(window.clone())
                    .target(target.clone())
                    .action_after_completion(sch::ActionAfterCompletion::Delete)
                    .description(&description)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(AwsError::from)
            };
        }
        let res = settling(
            "write the schedule",
            |e| fresh_role && e.code.as_deref() == Some("ValidationException"),
            || async {
                if update {
                    send!(ctx.scheduler.update_schedule())
                } else {
                    send!(ctx.scheduler.create_schedule())
                }
            },
        )
        .await;
        let code = res.as_ref().err().and_then(|e| e.code.clone());
        match (res, code.as_deref()) {
            (Ok(()), _) => return Ok(()),
            // Gone since it was observed (it ran), or made meanwhile: once.
            (Err(_), Some("ResourceNotFoundException")) if update && !fell_back => update = false,
            (Err(_), Some("ConflictException")) if !update && !fell_back => update = true,
            (Err(e), _) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to write expiry schedule {name}")))
            }
        }
        fell_back = true;
    }
}

/// Deletes a schedule group (and its schedules); absent is fine.
pub async fn delete_group(ctx: &Ctx, group: &str) -> Result<Deleted> {
    let res = ctx
        .scheduler
        .delete_schedule_group()
        .name(group)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(Deleted::Absent),
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("failed to delete schedule group {group}")))
        }
    }
}

/// After [`delete_group`]: the region's role, if no other deployment of
/// this region has schedules (cleanup runs it beside its other steps). A role
/// whose inline policy is already gone (a half-made one) is deleted too.
pub async fn delete_role_if_unused(ctx: &Ctx, spec: &Spec) -> Result<Deleted> {
    let others = ctx
        .scheduler
        .list_schedule_groups()
        .name_prefix(GROUP_PREFIX)
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to list schedule groups")?;
    let in_use = others
        .schedule_groups()
        .iter()
        .any(|g| g.name() != Some(spec.group.as_str()));
    if in_use {
        return Ok(Deleted::Kept);
    }
    let name = &spec.role;
    let res = ctx
        .iam
        .delete_role_policy()
        .role_name(name)
        .policy_name(ROLE_POLICY_NAME)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => {}
        // The policy is gone already (or the role is): DeleteRole says which.
        Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {}
        Err(e) => return Err(anyhow::Error::new(e).context(format!("failed to empty role {name}"))),
    }
    let res = ctx
        .iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if e.code.as_deref() == Some("NoSuchEntity") => Ok(Deleted::Absent),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to delete role {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_in_the_callers_partition() {
        let plan = crate::plan::test_plan("p", "");
        let s = Spec::new(
            &plan,
            "cn-north-1",
            "123456789012",
            "arn:aws-cn:iam::123456789012:user/ann",
        );
        assert_eq!(s.partition, "aws-cn");
        assert_eq!(
            s.role_arn,
            "arn:aws-cn:iam::123456789012:role/sitedeploy-expiry-cn-north-1"
        );
        assert_eq!(
            lb_target(&s, "arn:aws-cn:elasticloadbalancing:x").0,
            "arn:aws-cn:scheduler:::aws-sdk:elasticloadbalancingv2:deleteLoadBalancer"
        );
        assert!(servers_target(&s, &Servers::Group("g".into()))
            .0
            .starts_with("arn:aws-cn:scheduler:::aws-sdk:autoscaling:"));
        let gov = Spec::new(
            &plan,
            "us-gov-west-1",
            "1",
            "arn:aws-us-gov:sts::1:assumed-role/r/s",
        );
        assert_eq!(gov.partition, "aws-us-gov");
    }

    #[test]
    fn at_expressions_round_trip() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T17:05:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(at(t), "at(2026-11-23T17:05:09)");
        assert_eq!(parse_at(&at(t)), Some(t));
        assert_eq!(parse_at("rate(1 hour)"), None);
    }

    #[test]
    fn the_role_may_only_remove_this_tools_resources() {
        let p: serde_json::Value = serde_json::from_str(&role_policy()).unwrap();
        let st = &p["Statement"][0];
        assert_eq!(
            st["Condition"]["StringEquals"]["aws:ResourceTag/ManagedBy"],
            "sitedeploy"
        );
        assert_eq!(st["Action"].as_array().unwrap().len(), 3);
        let t: serde_json::Value = serde_json::from_str(&trust_policy("123456789012")).unwrap();
        assert_eq!(
            t["Statement"][0]["Principal"]["Service"],
            "scheduler.amazonaws.com"
        );
        assert_eq!(
            t["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
    }

    #[test]
    fn iam_policy_documents_are_compared_decoded() {
        let wanted = role_policy();
        let encoded: String = wanted
            .bytes()
            .map(|b| match b {
                b'{' | b'}' | b'"' | b':' | b',' | b'/' | b' ' => format!("%{b:02X}"),
                _ => (b as char).to_string(),
            })
            .collect();
        assert!(same_policy(&encoded, &wanted));
        assert!(same_policy(&wanted, &wanted));
        assert!(!same_policy(&encoded.replace("Terminate", "Stop"), &wanted));
        assert!(!same_policy("", &wanted));
    }
}
