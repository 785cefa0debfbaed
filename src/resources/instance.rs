//! The web server instance and the AMI it boots from.
//!
//! Found by this tool's tags before anything is launched (`table::observe`
//! and [`split`], then `launch`: apart, so that deploy looks up the image and
//! the subnet only when it has to launch);
//! the launch carries a deterministic client token, so a retry after a dropped
//! connection cannot start a second instance. Waits are this tool's own bounded
//! polling loops.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::{ec2_filter, ec2_tag_filters, ec2_tag_spec, Deleted};
use crate::aws::{
    after_create, is_code, poll_until, retry_not_yet, unless_not_found, AwsError, Check, Ctx,
};
use crate::plan::{base64, Plan, FINGERPRINT_KEY, ROLE_KEY, TEMPLATE_KEY};

/// Role tag value of the web instance.
pub const ROLE_WEB: &str = "web";

/// The chosen machine image.
#[derive(Debug, Clone)]
pub struct Image {
    /// AMI id.
    pub id: String,
    /// AMI name.
    pub name: String,
    /// Root device name, for the encrypted root volume mapping.
    pub root_device: String,
}

/// An instance of this deployment.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// State name (pending, running, ...).
    pub state: String,
    /// Public IPv4 address, once it has one.
    pub public_ip: Option<String>,
    /// The fingerprint tag: what it was launched to run.
    pub fingerprint: Option<String>,
    /// Availability zone.
    pub zone: String,
    /// Its tags.
    pub tags: super::Tags,
    /// When it was launched (Unix seconds).
    pub launched: Option<i64>,
    /// Instance type (what it costs, whatever deploy.toml says now).
    pub instance_type: String,
    /// Why it is in its state, when AWS says (e.g. a stop's reason).
    pub state_reason: Option<String>,
    /// The template it was launched to serve (its `SiteTemplate` tag).
    pub template: Option<String>,
}

fn to_instance(i: &ec2t::Instance) -> Instance {
    Instance {
        id: i.instance_id().unwrap_or_default().to_string(),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        public_ip: i.public_ip_address().map(str::to_string),
        fingerprint: i
            .tags()
            .iter()
            .find(|t| t.key() == Some(FINGERPRINT_KEY))
            .and_then(|t| t.value())
            .map(str::to_string),
        zone: i
            .placement()
            .and_then(|p| p.availability_zone())
            .unwrap_or_default()
            .to_string(),
        tags: super::ec2_pairs(i.tags()),
        launched: i.launch_time().map(|t| t.secs()),
        instance_type: i
            .instance_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        template: i
            .tags()
            .iter()
            .find(|t| t.key() == Some(TEMPLATE_KEY))
            .and_then(|t| t.value())
            .map(str::to_string),
        state_reason: i
            .state_reason()
            .and_then(|r| r.message())
            .map(str::to_string)
            .or_else(|| {
                i.state_transition_reason()
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
            }),
    }
}

/// The newest available image matching the plan's name filter, owner and the
/// instance type's architecture; ties broken by name, then id.
pub async fn find_image(ctx: &Ctx, plan: &Plan) -> Result<Image> {
    let out = ctx
        .ec2
        .describe_images()
        .owners(&plan.ami_owner)
        .filters(ec2_filter("name", &plan.ami_name_filter))
        .filters(ec2_filter("state", "available"))
        .filters(ec2_filter("architecture", plan.architecture))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to look up machine images")?;
    let best = out
        .images()
        .iter()
        .filter(|i| i.image_id().is_some())
        .max_by(|a, b| {
            (a.creation_date(), a.name(), a.image_id()).cmp(&(
                b.creation_date(),
                b.name(),
                b.image_id(),
            ))
        });
    let Some(img) = best else {
        bail!(
            "no available {} image named {:?} owned by {} in {}: check instance.ami_name_filter \
             and instance.type in deploy.toml",
            plan.architecture,
            plan.ami_name_filter,
            plan.ami_owner,
            ctx.region
        );
    };
    Ok(Image {
        id: img.image_id().unwrap_or_default().to_string(),
        name: img.name().unwrap_or_default().to_string(),
        root_device: img.root_device_name().unwrap_or("/dev/xvda").to_string(),
    })
}

/// This deployment's live (pending or running) web instances, oldest first.
pub async fn find_all(ctx: &Ctx, plan: &Plan, states: &[&str]) -> Result<Vec<Instance>> {
    let mut filters = ec2_tag_filters(plan);
    filters.push(ec2_filter(&format!("tag:{ROLE_KEY}"), ROLE_WEB));
    filters.push(
        ec2t::Filter::builder()
            .name("instance-state-name")
            .set_values(Some(states.iter().map(|s| s.to_string()).collect()))
            .build(),
    );
    let mut found: Vec<(Option<aws_sdk_ec2::primitives::DateTime>, Instance)> = Vec::new();
    let mut pages = ctx
        .ec2
        .describe_instances()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(AwsError::from)
            .context("failed to look up this deployment's instances")?;
        for r in page.reservations() {
            for i in r.instances() {
                found.push((i.launch_time().copied(), to_instance(i)));
            }
        }
    }
    found.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    Ok(found.into_iter().map(|(_, i)| i).collect())
}

/// States in which an instance counts as this deployment's server.
pub const LIVE: &[&str] = &["pending", "running"];
/// States of an instance someone stopped: deploy starts it again (when it runs
/// the current template) or replaces it (when it runs an older one).
pub const STOPPED: &[&str] = &["stopping", "stopped"];
/// States cleanup terminates.
pub const NOT_TERMINATED: &[&str] = &["pending", "running", "stopping", "stopped", "shutting-down"];

/// Whether an instance in this state needs StartInstances to serve again.
pub fn is_stopped(i: &Instance) -> bool {
    STOPPED.contains(&i.state.as_str())
}

/// This deployment's instances that are or can be serving (live or stopped),
/// among those found: the one running this plan's fingerprint, if any (a live
/// one preferred over a stopped one), and the others (an earlier template's, or
/// a crashed run's). Others than live or stopped ones are ignored.
pub fn split<'a>(
    plan: &Plan,
    all: impl Iterator<Item = &'a Instance>,
) -> (Option<&'a Instance>, Vec<&'a Instance>) {
    let mut all: Vec<&Instance> = all
        .filter(|i| LIVE.contains(&i.state.as_str()) || is_stopped(i))
        .collect();
    // Live before stopped; otherwise oldest first, as found.
    all.sort_by_key(|i| is_stopped(i));
    let mut current = None;
    let mut others = Vec::new();
    for i in all {
        if current.is_none() && i.fingerprint.as_deref() == Some(plan.fingerprint.as_str()) {
            current = Some(i);
        } else {
            others.push(i);
        }
    }
    (current, others)
}

/// Starts a stopped instance of the current template (waiting out `stopping`,
/// which StartInstances refuses with IncorrectInstanceState).
pub async fn start(ctx: &Ctx, id: &str, limit: Duration) -> Result<()> {
    retry_not_yet(
        ctx.poll,
        &format!("start instance {id}"),
        limit,
        |_| false,
        |e, _| tracing::debug!(error = %e, "instance not startable yet"),
        || async {
            ctx.ec2
                .start_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to start instance {id}"))
        },
    )
    .await?;
    Ok(())
}

/// What the launch needs from earlier steps.
pub struct LaunchInputs<'a> {
    /// The image.
    pub image: &'a Image,
    /// Subnet.
    pub subnet_id: &'a str,
    /// Instance security group.
    pub security_group_id: &'a str,
    /// Key pair name.
    pub key_name: &'a str,
    /// Key pair id (part of the client token).
    pub key_pair_id: &'a str,
    /// Whether this run created the security group (it may not be visible yet).
    pub fresh_group: bool,
    /// Whether this run imported the key pair (it may not be visible yet).
    pub fresh_key: bool,
    /// Ask for a public IPv4 address on the instance (its subnet does not give one).
    pub public_ip: bool,
}

/// How many times a launch token that AWS answered with a dead instance is
/// salted and tried again (templates A -> B -> A -> B ... within a day).
const MAX_TOKEN_SALTS: usize = 5;

/// Launches the instance (callers look for it first: `table::observe`, then
/// [`split`]).
///
/// The client token is derived from everything the launch is made of. When AWS
/// answers it with an instance that is not live (an earlier run's, since
/// terminated or stopped: client tokens outlive instances) or with
/// `IdempotentParameterMismatch`, the token is salted with that answer and the
/// launch tried again; the chain is deterministic, so a retry or a re-run
/// follows it to the same instance.
pub async fn launch(ctx: &Ctx, plan: &Plan, inputs: &LaunchInputs<'_>) -> Result<Instance> {
    let mut salts: Vec<String> = Vec::new();
    loop {
        let mut parts = vec![inputs.key_pair_id, &inputs.image.id, inputs.subnet_id];
        parts.extend(salts.iter().map(String::as_str));
        let token = plan.client_token(&parts);
        let fresh = inputs.fresh_group || inputs.fresh_key;
        let res = after_create(ctx.poll, fresh, "launch", || run(ctx, plan, inputs, &token)).await;
        // The answer to a token seen before repeats the first launch's answer,
        // so its state may be stale: read the instance's state now.
        let res = match res {
            Ok(mut inst) if LIVE.contains(&inst.state.as_str()) => {
                if let Some(now) = state_now(ctx, &inst.id).await? {
                    inst.state = now;
                }
                Ok(inst)
            }
            other => other,
        };
        let salt = match res {
            Ok(inst) if LIVE.contains(&inst.state.as_str()) => return Ok(inst),
            Ok(inst) => {
                tracing::debug!(token, id = %inst.id, state = %inst.state,
                    "the client token belongs to an earlier launch; salting it");
                inst.id
            }
            Err(e) if is_code(&e, "IdempotentParameterMismatch") => {
                tracing::debug!(token, "client token used with other parameters; salting it");
                "mismatch".to_string()
            }
            Err(e) => return Err(e),
        };
        if salts.len() >= MAX_TOKEN_SALTS {
            bail!(
                "AWS answered {} launches in a row with instances of earlier runs ({}); run \
                 cleanup, then deploy again",
                salts.len() + 1,
                salts.join(", ")
            );
        }
        salts.push(salt);
    }
}

/// The instance's state now, or `None` when DescribeInstances does not know it
/// yet (a launch moments ago).
async fn state_now(ctx: &Ctx, id: &str) -> Result<Option<String>> {
    Ok(describe_one(ctx, id).await?.map(|i| i.state))
}

/// The instances with these ids, in that order (those AWS does not know yet
/// left out).
pub async fn describe_ids(ctx: &Ctx, ids: &[String]) -> Result<Vec<Instance>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let res = ctx
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(AwsError::from);
    let found: Vec<Instance> = unless_not_found(res, || "failed to describe instances".into())?
        .map(|o| {
            o.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .map(to_instance)
                .collect()
        })
        .unwrap_or_default();
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|i| i.id == *id).cloned())
        .collect())
}

/// One instance by id; `None` while DescribeInstances does not know it yet.
async fn describe_one(ctx: &Ctx, id: &str) -> Result<Option<Instance>> {
    Ok(describe_ids(ctx, &[id.to_string()])
        .await?
        .into_iter()
        .next())
}

async fn run(ctx: &Ctx, plan: &Plan, inputs: &LaunchInputs<'_>, token: &str) -> Result<Instance> {
    let mut req = ctx
        .ec2
        .run_instances()
        .image_id(&inputs.image.id)
        .instance_type(ec2t::InstanceType::from(plan.instance_type.as_str()))
        .min_count(1)
        .max_count(1)
        .key_name(inputs.key_name)
        .subnet_id(inputs.subnet_id)
        .security_group_ids(inputs.security_group_id)
        .client_token(token)
        .user_data(base64(plan.user_data.as_bytes()))
        .metadata_options(
            ec2t::InstanceMetadataOptionsRequest::builder()
                .http_tokens(ec2t::HttpTokensState::Required)
                .http_endpoint(ec2t::InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .block_device_mappings(
            ec2t::BlockDeviceMapping::builder()
                .device_name(&inputs.image.root_device)
                .ebs(
                    ec2t::EbsBlockDevice::builder()
                        .volume_size(plan.root_volume_gb)
                        .volume_type(ec2t::VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(ec2_tag_spec(
            plan,
            ec2t::ResourceType::Instance,
            &[
                ("Name", &plan.instance_name),
                (ROLE_KEY, ROLE_WEB),
                (FINGERPRINT_KEY, &plan.fingerprint),
                (TEMPLATE_KEY, &plan.template),
            ],
        ))
        .tag_specifications(ec2_tag_spec(
            plan,
            ec2t::ResourceType::Volume,
            &[("Name", &plan.instance_name)],
        ));
    if plan.burstable() {
        req = req.credit_specification(credit_standard());
    }
    if inputs.public_ip {
        // A subnet that does not map public addresses itself (vpc_id set): ask
        // for one on the instance's interface. Groups then go on the interface.
        req = req
            .set_subnet_id(None)
            .set_security_group_ids(None)
            .network_interfaces(
                ec2t::InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(inputs.subnet_id)
                    .groups(inputs.security_group_id)
                    .associate_public_ip_address(true)
                    .delete_on_termination(true)
                    .build(),
            );
    }
    let out = req
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to launch instance {}", plan.instance_name))?;
    let Some(inst) = out.instances().first() else {
        bail!("RunInstances returned no instance");
    };
    Ok(to_instance(inst))
}

/// `standard` CPU credits: a T instance is throttled to its baseline when its
/// credits run out instead of billing surplus credits (the `unlimited` default).
pub fn credit_standard() -> ec2t::CreditSpecificationRequest {
    ec2t::CreditSpecificationRequest::builder()
        .cpu_credits("standard")
        .build()
}

/// Waits until the instance is running (and has its public address, if any).
pub async fn wait_running(
    ctx: &Ctx,
    id: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Instance> {
    poll_until(
        ctx.poll,
        &format!("instance {id} to run"),
        limit,
        on_wait,
        || async {
            // Right after a launch, DescribeInstances may not know the id yet.
            let Some(inst) = describe_one(ctx, id).await? else {
                return Ok(Check::Waiting("not visible yet".into()));
            };
            match inst.state.as_str() {
                "running" => Ok(Check::Done(inst)),
                "pending" => Ok(Check::Waiting("pending".into())),
                other => bail!(
                    "instance {id} is {other} instead of starting; its console output \
                 (`aws ec2 get-console-output --instance-id {id}`) may say why"
                ),
            }
        },
    )
    .await
}

/// Terminates the given instances.
pub async fn terminate(ctx: &Ctx, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    ctx.ec2
        .terminate_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to terminate {}", ids.join(", ")))?;
    Ok(())
}

/// Waits until none of the given instances is left short of `terminated`.
pub async fn wait_terminated(
    ctx: &Ctx,
    ids: &[String],
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    poll_until(
        ctx.poll,
        "instances to terminate",
        limit,
        on_wait,
        || async {
            let left: Vec<String> = describe_ids(ctx, ids)
                .await?
                .into_iter()
                .filter(|i| i.state != "terminated")
                .map(|i| format!("{} {}", i.id, i.state))
                .collect();
            if left.is_empty() {
                Ok(Check::Done(()))
            } else {
                Ok(Check::Waiting(left.join(", ")))
            }
        },
    )
    .await
}

/// Terminates every instance of this deployment and waits for them to go.
pub async fn delete(
    ctx: &Ctx,
    plan: &Plan,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Deleted> {
    let found = find_all(ctx, plan, NOT_TERMINATED).await?;
    if found.is_empty() {
        return Ok(Deleted::Absent);
    }
    // Those already shutting down need no call, only waiting for.
    let ids: Vec<String> = found
        .iter()
        .filter(|i| i.state != "shutting-down")
        .map(|i| i.id.clone())
        .collect();
    terminate(ctx, &ids).await?;
    let all: Vec<String> = found.into_iter().map(|i| i.id).collect();
    wait_terminated(ctx, &all, limit, on_wait).await?;
    Ok(if ids.is_empty() {
        Deleted::Absent
    } else {
        Deleted::Deleted
    })
}
