//! The Application Load Balancer and its HTTP listener.
//!
//! Both are found before anything is created (moto, unlike AWS, would create a
//! second load balancer with the same name or a second listener on the same
//! port). After deletion the load balancer's network interfaces linger for a
//! while and keep its security group in use; `wait_interfaces_gone` waits for
//! them instead of hammering DeleteSecurityGroup.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;

use super::network::Subnet;
use super::{
    ec2_filter, elb_is_ours, elb_retag, elb_tags, elb_tags_of, foreign, is_foreign, tag_drift,
    Deleted, Ensured, Outcome, TagDrift,
};
use crate::aws::{after_create, poll_until, unless_not_found, AwsError, Check, Ctx};
use crate::plan::Plan;

/// A load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Public DNS name.
    pub dns_name: String,
    /// State code (provisioning, active, ...).
    pub state: String,
    /// The availability zones it spans (each adds a billed public IPv4 address).
    pub zones: Vec<String>,
    /// Its tags (read by [`find`]).
    pub tags: super::Tags,
    /// When it was created (Unix seconds).
    pub created: Option<i64>,
}

fn to_lb(lb: &elbt::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        state: lb
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        zones: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.zone_name())
            .map(str::to_string)
            .collect(),
        tags: Vec::new(),
        created: lb.created_time().map(|t| t.secs()),
    }
}

async fn describe(ctx: &Ctx, plan: &Plan) -> Result<Option<LoadBalancer>> {
    let res = ctx
        .elb
        .describe_load_balancers()
        .names(&plan.lb_name)
        .send()
        .await
        .map_err(AwsError::from);
    let out = unless_not_found(res, || {
        format!("failed to look up load balancer {}", plan.lb_name)
    })?;
    Ok(out.and_then(|out| {
        out.load_balancers()
            .iter()
            .find(|l| l.load_balancer_name() == Some(plan.lb_name.as_str()))
            .map(to_lb)
    }))
}

/// Finds the load balancer named in the plan; an error when one exists without
/// this tool's tags.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<LoadBalancer>> {
    let Some(mut lb) = describe(ctx, plan).await? else {
        return Ok(None);
    };
    let tags = elb_tags_of(ctx, &lb.arn).await?;
    lb.tags = super::elb_pairs(&tags);
    if !elb_is_ours(&tags, plan) {
        return Err(foreign(
            "load balancer",
            &plan.lb_name,
            plan,
            "Rename the deployment (name in deploy.toml).",
        ));
    }
    Ok(Some(lb))
}

/// [`find`] for cleanup, looked up once for the listener and load balancer steps:
/// ours, or what to report instead (absent, or same-named but not ours).
pub async fn find_for_delete(ctx: &Ctx, plan: &Plan) -> Result<Result<LoadBalancer, Deleted>> {
    match find(ctx, plan).await {
        Ok(Some(lb)) => Ok(Ok(lb)),
        Ok(None) => Ok(Err(Deleted::Absent)),
        Err(e) if is_foreign(&e) => Ok(Err(Deleted::Foreign)),
        Err(e) => Err(e),
    }
}

/// Creates the internet-facing load balancer unless [`find`] found it (deploy
/// looks everything up first, in parallel); not waited for. It spans the first
/// `plan.lb_zones` of `candidates`; a zone AWS refuses ("cannot be associated
/// with a load balancer") is dropped for the next candidate, and the returned
/// notes say so. `fresh_group`: this run created the security group, which AWS
/// may not know everywhere yet.
pub async fn ensure_found(
    ctx: &Ctx,
    plan: &Plan,
    candidates: &[Subnet],
    security_group_id: &str,
    found: Option<LoadBalancer>,
    fresh_group: bool,
) -> Result<(Ensured<LoadBalancer>, Vec<String>)> {
    if let Some(lb) = found {
        let drift = tag_drift(&lb.tags, plan);
        elb_retag(ctx, &lb.arn, &drift).await?;
        let outcome = if drift.is_empty() {
            Outcome::Existing
        } else {
            Outcome::Updated
        };
        return Ok((Ensured::new(lb, outcome), Vec::new()));
    }
    let mut candidates: Vec<&Subnet> = candidates.iter().collect();
    let mut notes = Vec::new();
    loop {
        let chosen: Vec<&Subnet> = candidates.iter().take(plan.lb_zones).copied().collect();
        let res = after_create(ctx.poll, fresh_group, "create load balancer", || async {
            ctx.elb
                .create_load_balancer()
                .name(&plan.lb_name)
                .set_subnets(Some(chosen.iter().map(|s| s.id.clone()).collect()))
                .security_groups(security_group_id)
                .scheme(elbt::LoadBalancerSchemeEnum::InternetFacing)
                .r#type(elbt::LoadBalancerTypeEnum::Application)
                .ip_address_type(elbt::IpAddressType::Ipv4)
                .set_tags(Some(elb_tags(plan)))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to create load balancer {}", plan.lb_name))
        })
        .await;
        let out = match res {
            Ok(out) => out,
            Err(e) => {
                let refused = refused_zones(&e, &chosen);
                if refused.is_empty() {
                    return Err(e);
                }
                candidates.retain(|s| !refused.contains(&s.zone));
                if candidates.len() < 2 {
                    return Err(e.context(format!(
                        "AWS refused zone(s) {} for the load balancer and fewer than two \
                         zones are left",
                        refused.join(", ")
                    )));
                }
                notes.push(format!(
                    "AWS refused the load balancer in {} (\"cannot be associated with a load \
                     balancer\"); it uses {} instead",
                    refused.join(", "),
                    candidates
                        .iter()
                        .take(plan.lb_zones)
                        .map(|s| s.zone.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            }
        };
        let Some(lb) = out.load_balancers().first() else {
            bail!("CreateLoadBalancer returned no load balancer");
        };
        return Ok((Ensured::new(to_lb(lb), Outcome::Created), notes));
    }
}

/// The zones among `chosen` that an error says cannot take a load balancer:
/// "The following Availability Zones us-west-1a cannot be associated with a
/// load balancer. Please try a different Availability Zone."
fn refused_zones(e: &anyhow::Error, chosen: &[&Subnet]) -> Vec<String> {
    let text = format!("{e:#}");
    if !text.contains("cannot be associated with a load balancer") {
        return Vec::new();
    }
    chosen
        .iter()
        .filter(|s| text.contains(&s.zone) || text.contains(&s.id))
        .map(|s| s.zone.clone())
        .collect()
}

/// Waits until the load balancer is active.
pub async fn wait_active(
    ctx: &Ctx,
    lb: &LoadBalancer,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<LoadBalancer> {
    if lb.state == "active" {
        return Ok(lb.clone());
    }
    poll_until(
        ctx.poll,
        &format!("load balancer {} to become active", lb.name),
        limit,
        on_wait,
        || async {
            let out = ctx
                .elb
                .describe_load_balancers()
                .load_balancer_arns(&lb.arn)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to describe load balancer {}", lb.name))?;
            let Some(now) = out.load_balancers().first().map(to_lb) else {
                bail!("load balancer {} disappeared while starting", lb.name);
            };
            match now.state.as_str() {
                "active" => Ok(Check::Done(now)),
                "failed" => bail!("load balancer {} failed to provision", lb.name),
                s => Ok(Check::Waiting(s.to_string())),
            }
        },
    )
    .await
}

/// A listener.
#[derive(Debug, Clone)]
pub struct Listener {
    /// ARN.
    pub arn: String,
    /// Port.
    pub port: u16,
}

async fn listeners(ctx: &Ctx, lb: &LoadBalancer) -> Result<Vec<elbt::Listener>> {
    let out = ctx
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb.arn)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to list the listeners of {}", lb.name))?;
    Ok(out.listeners().to_vec())
}

fn forward_to(tg_arn: &str) -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build()
}

fn forwards_to(l: &elbt::Listener) -> Option<&str> {
    l.default_actions()
        .iter()
        .find(|a| a.r#type() == Some(&elbt::ActionTypeEnum::Forward))
        .and_then(|a| a.target_group_arn())
}

/// A listener as found.
#[derive(Debug, Clone)]
pub struct ListenerState {
    /// ARN.
    pub arn: String,
    /// Port.
    pub port: u16,
    /// The target group it forwards to.
    pub forwards_to: Option<String>,
    /// Its tags.
    pub tags: super::Tags,
}

/// The load balancer's listeners, with their tags (one DescribeTags call).
pub async fn observe_listeners(ctx: &Ctx, lb: &LoadBalancer) -> Result<Vec<ListenerState>> {
    let found = listeners(ctx, lb).await?;
    let arns: Vec<String> = found
        .iter()
        .filter_map(|l| l.listener_arn().map(str::to_string))
        .collect();
    let tags = if arns.is_empty() {
        Vec::new()
    } else {
        ctx.elb
            .describe_tags()
            .set_resource_arns(Some(arns))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to read the tags of the listeners of {}", lb.name))?
            .tag_descriptions()
            .to_vec()
    };
    Ok(found
        .iter()
        .map(|l| {
            let arn = l.listener_arn().unwrap_or_default().to_string();
            ListenerState {
                port: l.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
                forwards_to: forwards_to(l).map(str::to_string),
                tags: tags
                    .iter()
                    .find(|d| d.resource_arn() == Some(arn.as_str()))
                    .map(|d| super::elb_pairs(d.tags()))
                    .unwrap_or_default(),
                arn,
            }
        })
        .collect())
}

/// What to do with the listeners: one HTTP listener on the plan's port that
/// forwards to the target group. A listener on another port (the port changed
/// in deploy.toml) is deleted after the new one is in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerChanges {
    /// The listener on the plan's port, when there is one.
    pub keep: Option<String>,
    /// It forwards elsewhere: point it at the target group.
    pub repoint: bool,
    /// Listeners on other ports, to delete: `(ARN, port)`.
    pub delete: Vec<(String, u16)>,
    /// The kept listener's tag changes.
    pub tags: TagDrift,
}

impl ListenerChanges {
    /// One line per change (a new listener is a creation, not a change).
    pub fn describe(&self, plan: &Plan) -> Vec<String> {
        let mut out = Vec::new();
        for (_, port) in &self.delete {
            out.push(format!("port {port} -> {}", plan.listener_port));
        }
        if self.repoint {
            out.push(format!("forward to {}", plan.tg_name));
        }
        out.extend(self.tags.describe());
        out
    }

    /// Whether anything changes besides a creation.
    pub fn changes(&self) -> bool {
        self.repoint || !self.delete.is_empty() || !self.tags.is_empty()
    }
}

/// Decides what to do with the listeners found; `tg_arn` is the target group's
/// ARN when it exists.
pub fn listener_changes(
    found: &[ListenerState],
    plan: &Plan,
    tg_arn: Option<&str>,
) -> ListenerChanges {
    let wanted = found.iter().find(|l| l.port == plan.listener_port);
    ListenerChanges {
        keep: wanted.map(|l| l.arn.clone()),
        repoint: wanted.is_some_and(|l| tg_arn.is_none() || l.forwards_to.as_deref() != tg_arn),
        delete: found
            .iter()
            .filter(|l| l.port != plan.listener_port)
            .map(|l| (l.arn.clone(), l.port))
            .collect(),
        tags: wanted.map(|l| tag_drift(&l.tags, plan)).unwrap_or_default(),
    }
}

/// Makes sure an HTTP listener on the plan's port forwards to the target group;
/// then deletes listeners on other ports (so the site is never without one).
/// `observed`: the listeners as [`observe_listeners`] found them, when they were
/// looked up already.
pub async fn ensure_listener(
    ctx: &Ctx,
    plan: &Plan,
    lb: &LoadBalancer,
    tg_arn: &str,
    observed: Option<Vec<ListenerState>>,
) -> Result<Ensured<Listener>> {
    let port = i32::from(plan.listener_port);
    let found = match observed {
        Some(l) => l,
        None => observe_listeners(ctx, lb).await?,
    };
    let changes = listener_changes(&found, plan, Some(tg_arn));
    let (arn, created) = match &changes.keep {
        Some(arn) => {
            if changes.repoint {
                ctx.elb
                    .modify_listener()
                    .listener_arn(arn)
                    .default_actions(forward_to(tg_arn))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| {
                        format!("failed to point the listener on port {port} at the target group")
                    })?;
            }
            elb_retag(ctx, arn, &changes.tags).await?;
            (arn.clone(), false)
        }
        None => {
            let out = ctx
                .elb
                .create_listener()
                .load_balancer_arn(&lb.arn)
                .protocol(elbt::ProtocolEnum::Http)
                .port(port)
                .default_actions(forward_to(tg_arn))
                .set_tags(Some(elb_tags(plan)))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to create the listener on port {port}"))?;
            let Some(arn) = out.listeners().first().and_then(|l| l.listener_arn()) else {
                bail!("CreateListener returned no listener");
            };
            (arn.to_string(), true)
        }
    };
    for (old, old_port) in &changes.delete {
        let res = ctx
            .elb
            .delete_listener()
            .listener_arn(old)
            .send()
            .await
            .map_err(AwsError::from);
        unless_not_found(res, || {
            format!("failed to delete the listener on port {old_port}")
        })?;
    }
    let outcome = match (created, changes.changes()) {
        (true, false) => Outcome::Created,
        (_, true) => Outcome::Updated,
        (false, false) => Outcome::Existing,
    };
    Ok(Ensured::new(
        Listener {
            arn,
            port: plan.listener_port,
        },
        outcome,
    ))
}

/// Deletes every listener of the load balancer.
pub async fn delete_listeners(ctx: &Ctx, lb: &LoadBalancer) -> Result<Deleted> {
    let ls = listeners(ctx, lb).await?;
    if ls.is_empty() {
        return Ok(Deleted::Absent);
    }
    for l in ls {
        let arn = l.listener_arn().unwrap_or_default();
        let res = ctx
            .elb
            .delete_listener()
            .listener_arn(arn)
            .send()
            .await
            .map_err(AwsError::from);
        unless_not_found(res, || format!("failed to delete listener {arn}"))?;
    }
    Ok(Deleted::Deleted)
}

/// Deletes the load balancer, waits until it is gone, then waits for its network
/// interfaces to go (they keep its security group in use).
pub async fn delete(
    ctx: &Ctx,
    lb: &LoadBalancer,
    limit: Duration,
    mut on_wait: impl FnMut(&str, Duration),
) -> Result<Deleted> {
    let res = ctx
        .elb
        .delete_load_balancer()
        .load_balancer_arn(&lb.arn)
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || {
        format!("failed to delete load balancer {}", lb.name)
    })?;
    poll_until(
        ctx.poll,
        &format!("load balancer {} to be deleted", lb.name),
        limit,
        &mut on_wait,
        || async {
            let res = ctx
                .elb
                .describe_load_balancers()
                .load_balancer_arns(&lb.arn)
                .send()
                .await
                .map_err(AwsError::from);
            let out = unless_not_found(res, || {
                format!("failed to describe load balancer {}", lb.name)
            })?;
            Ok(
                match out.as_ref().and_then(|o| o.load_balancers().first()) {
                    None => Check::Done(()),
                    Some(l) => Check::Waiting(format!("{} still listed", to_lb(l).state)),
                },
            )
        },
    )
    .await?;
    wait_interfaces_gone(ctx, lb, limit, on_wait).await?;
    Ok(Deleted::Deleted)
}

/// The description AWS gives an ALB's network interfaces: `ELB app/<name>/<id>`.
pub fn interface_description(lb_arn: &str) -> Option<String> {
    lb_arn
        .split_once(":loadbalancer/")
        .map(|(_, rest)| format!("ELB {rest}"))
}

/// Waits until no network interface of the (deleted) load balancer is left.
pub async fn wait_interfaces_gone(
    ctx: &Ctx,
    lb: &LoadBalancer,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    let Some(desc) = interface_description(&lb.arn) else {
        return Ok(());
    };
    poll_until(
        ctx.poll,
        &format!("the network interfaces of {} to be released", lb.name),
        limit,
        on_wait,
        || async {
            let out = ctx
                .ec2
                .describe_network_interfaces()
                .filters(ec2_filter("description", &desc))
                .send()
                .await
                .map_err(AwsError::from)
                .context("failed to list network interfaces")?;
            let n = out.network_interfaces().len();
            Ok(if n == 0 {
                Check::Done(())
            } else {
                Check::Waiting(format!("{n} network interface(s) still attached"))
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_zones_are_read_from_the_message() {
        let sn = |z: &str| Subnet {
            zone: z.into(),
            id: format!("subnet-{z}"),
            maps_public_ip: true,
        };
        let (a, e) = (sn("us-east-1a"), sn("us-east-1e"));
        let err = anyhow::Error::new(AwsError {
            code: Some("InvalidConfigurationRequest".into()),
            message: "The following Availability Zones us-east-1e cannot be associated with a \
                      load balancer. Please try a different Availability Zone."
                .into(),
        });
        assert_eq!(refused_zones(&err, &[&a, &e]), ["us-east-1e"]);
        let other = anyhow::Error::new(AwsError {
            code: Some("InvalidConfigurationRequest".into()),
            message: "A load balancer cannot be attached to multiple subnets in the same \
                      Availability Zone us-east-1e"
                .into(),
        });
        assert!(refused_zones(&other, &[&a, &e]).is_empty());
    }

    #[test]
    fn interface_description_from_arn() {
        assert_eq!(
            interface_description(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/barista-alb/50dc6c495c0c9188"
            )
            .as_deref(),
            Some("ELB app/barista-alb/50dc6c495c0c9188")
        );
        assert_eq!(interface_description("nonsense"), None);
    }
}
