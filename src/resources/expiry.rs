//! Expiry: one-time EventBridge Scheduler schedules that delete the load
//! balancer and the web servers (terminate the instance, or delete the Auto
//! Scaling group with its instances) at `expires_after` from the last deploy.
//! What is left then (groups, target group, key pair) costs nothing, and
//! cleanup removes it as usual.
//!
//! - The schedules live in a schedule group named after the deployment
//!   (`sitedeploy-<name>`), which carries the tool's tags (schedules themselves
//!   cannot be tagged). They delete themselves after they run
//!   (`ActionAfterCompletion: DELETE`).
//! - Every deploy rewrites them: the current load balancer and instance ids,
//!   and the time counted again from now.
//! - They run under the role `sitedeploy-expiry-<region>`, made once per region
//!   (so removing it with a region's last deployment never breaks another
//!   region's), trusted by scheduler.amazonaws.com for this account only, and
//!   allowed only to delete load balancers and Auto Scaling groups and terminate
//!   instances that carry `ManagedBy=sitedeploy`.
//! - Cleanup deletes the schedule group first, so nothing fires later against a
//!   new deployment of the same name, and the role with the region's last
//!   group.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_scheduler::types as sch;
use chrono::{DateTime, Utc};

use super::Deleted;
use crate::aws::{AwsError, Ctx};
use crate::config::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;

/// Prefix of every schedule group this tool makes.
pub const GROUP_PREFIX: &str = "sitedeploy-";

/// The role the schedules run under, one per region.
pub fn role_name(region: &str) -> String {
    format!("sitedeploy-expiry-{region}")
}

/// Name of the schedule that deletes the load balancer.
pub fn lb_schedule(plan: &Plan) -> String {
    format!("{}-load-balancer", plan.name)
}

/// Name of the schedule that removes the web servers.
pub fn servers_schedule(plan: &Plan) -> String {
    format!("{}-web-servers", plan.name)
}

/// What the web servers schedule removes.
#[derive(Debug, Clone)]
pub enum Servers {
    /// Terminate these instances (`count = 1`).
    Instances(Vec<String>),
    /// Delete this Auto Scaling group with its instances (`count > 1`).
    Group(String),
}

/// The two schedules' targets: (schedule name, universal target ARN, input).
pub fn targets(plan: &Plan, lb_arn: &str, servers: &Servers) -> Vec<(String, String, String)> {
    let servers = match servers {
        Servers::Instances(ids) => (
            "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances",
            serde_json::json!({ "InstanceIds": ids }),
        ),
        Servers::Group(name) => (
            "arn:aws:scheduler:::aws-sdk:autoscaling:deleteAutoScalingGroup",
            serde_json::json!({ "AutoScalingGroupName": name, "ForceDelete": true }),
        ),
    };
    vec![
        (
            lb_schedule(plan),
            "arn:aws:scheduler:::aws-sdk:elasticloadbalancingv2:deleteLoadBalancer".into(),
            serde_json::json!({ "LoadBalancerArn": lb_arn }).to_string(),
        ),
        (
            servers_schedule(plan),
            servers.0.into(),
            servers.1.to_string(),
        ),
    ]
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

/// The expiry as the summary and status say it: local time, and how to keep
/// the site.
pub fn describe(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&chrono::Local);
    format!(
        "{} (the load balancer and web servers are deleted then; run deploy again to \
         push it back, or set expires_after = \"off\" in deploy.toml)",
        local.format("%Y-%m-%d %H:%M %Z")
    )
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

const ROLE_POLICY_NAME: &str = "expire-sitedeploy-resources";

/// The role's ARN, making the role first when it is missing; `true` when made now.
async fn ensure_role(ctx: &Ctx, account: &str) -> Result<(String, bool)> {
    let name = role_name(&ctx.region);
    match ctx.iam.get_role().role_name(&name).send().await {
        Ok(out) => {
            if let Some(arn) = out.role().map(|r| r.arn()) {
                return Ok((arn.to_string(), false));
            }
        }
        Err(e) => {
            let e = AwsError::from(e);
            if e.code.as_deref() != Some("NoSuchEntity") {
                return Err(anyhow::Error::new(e).context(format!("failed to look up role {name}")));
            }
        }
    }
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build();
    let out = ctx
        .iam
        .create_role()
        .role_name(&name)
        .description("sitedeploy: lets EventBridge Scheduler expire this tool's deployments")
        .assume_role_policy_document(trust_policy(account))
        .tags(tag(MANAGED_BY_KEY, MANAGED_BY_VALUE).context("role tag")?)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to create role {name}"))?;
    ctx.iam
        .put_role_policy()
        .role_name(&name)
        .policy_name(ROLE_POLICY_NAME)
        .policy_document(role_policy())
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to give role {name} its policy"))?;
    let arn = out
        .role()
        .map(|r| r.arn().to_string())
        .context("CreateRole returned no role")?;
    Ok((arn, true))
}

async fn ensure_group(ctx: &Ctx, plan: &Plan) -> Result<()> {
    let tags = plan
        .tag_pairs()
        .map(|(k, v)| sch::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .context("schedule group tags")?;
    let res = ctx
        .scheduler
        .create_schedule_group()
        .name(&plan.schedule_group)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(()),
        Err(e) if e.code.as_deref() == Some("ConflictException") => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "failed to create schedule group {}",
            plan.schedule_group
        ))),
    }
}

/// The role and the schedule group the schedules need, made when missing:
/// the role's ARN, and whether the role was made just now. Needs nothing of the
/// deployment, so deploy makes it while the rest is created.
pub async fn prepare(ctx: &Ctx, plan: &Plan, account: &str) -> Result<(String, bool)> {
    let ((role_arn, fresh), ()) =
        tokio::try_join!(ensure_role(ctx, account), ensure_group(ctx, plan))?;
    Ok((role_arn, fresh))
}

/// Writes one schedule for `expires_at`: replaced when `known` (observed
/// before), else created; each falls back to the other. `fresh_role`: the role
/// was made moments ago and IAM may not let Scheduler use it yet, so
/// Scheduler's refusal is retried for a minute.
async fn write_one(
    ctx: &Ctx,
    plan: &Plan,
    (role_arn, fresh_role): (&str, bool),
    expires_at: DateTime<Utc>,
    (name, arn, input): &(String, String, String),
    known: bool,
) -> Result<()> {
    let target = sch::Target::builder()
        .arn(arn)
        .role_arn(role_arn)
        .input(input)
        .build()
        .context("schedule target")?;
    let window = sch::FlexibleTimeWindow::builder()
        .mode(sch::FlexibleTimeWindowMode::Off)
        .build()
        .context("schedule window")?;
    let description = format!("sitedeploy: expire deployment {}", plan.name);
    let mut update = known;
    let mut waited = Duration::ZERO;
    loop {
        // CreateSchedule and UpdateSchedule take the same fields (and have
        // different builder types).
        macro_rules! send {
            ($builder:expr) => {
                $builder
                    .name(name)
                    .group_name(&plan.schedule_group)
                    .schedule_expression(at(expires_at))
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
        let res = if update {
            send!(ctx.scheduler.update_schedule())
        } else {
            send!(ctx.scheduler.create_schedule())
        };
        match res {
            Ok(()) => return Ok(()),
            // Gone since it was observed (it ran), or made meanwhile.
            Err(e) if update && e.code.as_deref() == Some("ResourceNotFoundException") => {
                update = false
            }
            Err(e) if !update && e.code.as_deref() == Some("ConflictException") => update = true,
            Err(e)
                if fresh_role
                    && e.code.as_deref() == Some("ValidationException")
                    && waited < Duration::from_secs(60) =>
            {
                tracing::debug!(error = %e, "the new role is not usable yet");
                tokio::time::sleep(Duration::from_secs(2)).await;
                waited += Duration::from_secs(2);
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to write expiry schedule {name}")))
            }
        }
    }
}

/// Writes both schedules for `expires_at`, at once.
pub async fn write(
    ctx: &Ctx,
    plan: &Plan,
    role: (&str, bool),
    expires_at: DateTime<Utc>,
    lb_arn: &str,
    servers: &Servers,
    known: bool,
) -> Result<()> {
    let t = targets(plan, lb_arn, servers);
    tokio::try_join!(
        write_one(ctx, plan, role, expires_at, &t[0], known),
        write_one(ctx, plan, role, expires_at, &t[1], known),
    )?;
    Ok(())
}

/// When the schedules of `plan.expires_after` from now would fire.
pub fn expires_at(plan: &Plan) -> Option<DateTime<Utc>> {
    let after = plan.expires_after?;
    let t = Utc::now() + chrono::Duration::from_std(after).ok()?;
    // Whole seconds, as `at(...)` says it.
    DateTime::from_timestamp(t.timestamp(), 0)
}

/// When the deployment expires and the role its schedule runs under, if a
/// schedule says so.
pub async fn read(ctx: &Ctx, plan: &Plan) -> Result<Option<(DateTime<Utc>, String)>> {
    let res = ctx
        .scheduler
        .get_schedule()
        .name(lb_schedule(plan))
        .group_name(&plan.schedule_group)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(out.schedule_expression().and_then(parse_at).map(|t| {
            let role = out.target().map(|t| t.role_arn().to_string());
            (t, role.unwrap_or_default())
        })),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context("failed to read the expiry schedule")),
    }
}

/// Deletes the deployment's schedule group (and its schedules): `off`.
pub async fn delete_schedules(ctx: &Ctx, plan: &Plan) -> Result<Deleted> {
    let res = ctx
        .scheduler
        .delete_schedule_group()
        .name(&plan.schedule_group)
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if e.code.as_deref() == Some("ResourceNotFoundException") => Ok(Deleted::Absent),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "failed to delete schedule group {}",
            plan.schedule_group
        ))),
    }
}

/// After [`delete_schedules`]: the region's role, if no other deployment of
/// this region has schedules (cleanup runs it beside its other steps).
pub async fn delete_role_if_unused(ctx: &Ctx, plan: &Plan) -> Result<Deleted> {
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
        .any(|g| g.name() != Some(plan.schedule_group.as_str()));
    if in_use {
        return Ok(Deleted::Absent);
    }
    let name = role_name(&ctx.region);
    let res = ctx
        .iam
        .delete_role_policy()
        .role_name(&name)
        .policy_name(ROLE_POLICY_NAME)
        .send()
        .await
        .map_err(AwsError::from);
    if let Err(e) = res {
        if e.code.as_deref() == Some("NoSuchEntity") {
            return Ok(Deleted::Absent);
        }
        return Err(anyhow::Error::new(e).context(format!("failed to empty role {name}")));
    }
    ctx.iam
        .delete_role()
        .role_name(&name)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to delete role {name}"))?;
    Ok(Deleted::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
