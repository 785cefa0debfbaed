//! The Application Load Balancer: internet-facing, in the zones the placement
//! chose (a zone AWS refuses is dropped for the next one). AWS answers a
//! repeated CreateLoadBalancer of the same settings with the same load
//! balancer, so a retried create is not doubled. After deletion its network
//! interfaces linger for a while and keep its security group in use;
//! `wait_interfaces_gone` waits for them instead of hammering
//! DeleteSecurityGroup.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;
pub use aws_sdk_elasticloadbalancingv2::types::LoadBalancerStateEnum as State;

use super::network::{Subnet, Zone};
use super::{Deleted, Seen, Verb};
use crate::aws::{after_create, poll_until, unless_not_found, AwsError, Check, Ctx};
use crate::plan::Plan;
use crate::tags::{ec2_filter, Owner, TagDrift, Tagger, Tags};

/// What deploy.toml asks of the load balancer.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name.
    pub name: String,
    /// How many zones it spans.
    pub zones: usize,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The load balancer of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            name: plan.lb_name.clone(),
            zones: plan.lb_zones,
            owner: plan.owner.clone(),
        }
    }
}

/// A load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancer {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Public DNS name.
    pub dns_name: String,
    /// Provisioning, active, failed...
    pub state: State,
    /// The zones it spans (each adds a billed public IPv4 address): those AWS
    /// accepted, which the web servers then go to.
    pub zones: Vec<Zone>,
    /// Its VPC.
    pub vpc_id: String,
    /// Its tags.
    pub tags: Tags,
    /// When it was created (Unix seconds).
    pub created: Option<i64>,
}

/// The load balancer's tag that keeps the hours web servers it served ran
/// before they were retired: what they cost counts in "cost so far" after they
/// are gone (the only record that outlives them, on any machine).
pub const RETIRED_KEY: &str = "SitedeployRetiredHours";

impl LoadBalancer {
    /// Hours of retired web servers ([`RETIRED_KEY`]), 0 when none.
    pub fn retired_hours(&self) -> f64 {
        self.tags
            .iter()
            .find(|(k, _)| k == RETIRED_KEY)
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .filter(|h| h.is_finite() && *h >= 0.0)
            .unwrap_or(0.0)
    }
}

/// Sets [`RETIRED_KEY`] on load balancer `arn` to `hours`.
pub async fn set_retired_hours(ctx: &Ctx, arn: &str, hours: f64) -> Result<()> {
    let drift = crate::tags::TagDrift {
        set: vec![(RETIRED_KEY.to_string(), format!("{hours:.3}"))],
        remove: Vec::new(),
    };
    drift.apply(ctx, crate::tags::Tagger::Elb(arn)).await
}

fn to_lb(lb: &elbt::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
        state: lb
            .state()
            .and_then(|s| s.code())
            .cloned()
            .unwrap_or(State::Provisioning),
        zones: lb
            .availability_zones()
            .iter()
            .map(|z| Zone {
                name: z.zone_name().unwrap_or_default().to_string(),
                subnet: z.subnet_id().unwrap_or_default().to_string(),
            })
            .collect(),
        vpc_id: lb.vpc_id().unwrap_or_default().to_string(),
        tags: Vec::new(),
        created: lb.created_time().map(|t| t.secs()),
    }
}

/// The load balancer of the spec's name, ours or not (its tags are read with
/// the target group's, in one call, and put in by the caller).
pub async fn describe(ctx: &Ctx, spec: &Spec) -> Result<Option<LoadBalancer>> {
    let res = ctx
        .elb
        .describe_load_balancers()
        .names(&spec.name)
        .send()
        .await
        .map_err(AwsError::from);
    let out = unless_not_found(res, || {
        format!("failed to look up load balancer {}", spec.name)
    })?;
    Ok(out.and_then(|out| {
        out.load_balancers()
            .iter()
            .find(|l| l.load_balancer_name() == Some(spec.name.as_str()))
            .map(to_lb)
    }))
}

/// Ours, or another's, by its tags.
pub fn classify(spec: &Spec, found: Option<LoadBalancer>) -> Seen<LoadBalancer> {
    match found {
        None => Seen::Absent,
        Some(lb) if spec.owner.owns(&lb.tags) => Seen::Ours(lb),
        Some(_) => Seen::Foreign(spec.owner.foreign(
            "load balancer",
            &spec.name,
            "Rename the deployment (name in deploy.toml).",
        )),
    }
}

/// What deploy does with the load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it in the first `spec.zones` of these subnets (a refused zone
    /// gives way to the next).
    Create(Vec<Subnet>),
    /// It is as wanted.
    Keep,
    /// Its tags change.
    Retag(TagDrift),
    /// Deploy stops.
    Stop(String),
}

/// Decides what to do with the load balancer in VPC `vpc_id`; `candidates`
/// are the subnets a new one may use, most preferred first.
pub fn decide(
    spec: &Spec,
    seen: &Seen<LoadBalancer>,
    vpc_id: &str,
    candidates: &[Subnet],
) -> Action {
    match seen {
        Seen::Absent => Action::Create(candidates.to_vec()),
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Ours(lb) if lb.vpc_id != vpc_id => {
            Action::Stop(super::secgroup::moved_vpc(&spec.name, &lb.vpc_id, vpc_id))
        }
        Seen::Ours(lb) => {
            let drift = spec.owner.drift(&lb.tags);
            if drift.is_empty() {
                Action::Keep
            } else {
                Action::Retag(drift)
            }
        }
    }
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create(_) => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Retag(_) => Verb::Update,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self, spec: &Spec) -> String {
        match self {
            Action::Create(c) => format!(
                "in {}",
                c.iter()
                    .take(spec.zones)
                    .map(|s| s.zone.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::Keep => String::new(),
            Action::Retag(d) => d.describe().join("; "),
            Action::Stop(why) => why.clone(),
        }
    }
}

/// Applies the decision; `found` the load balancer observed, `group` its
/// security group (`fresh`: made by this run, maybe not visible everywhere
/// yet). Returns it (not waited for) and notes for the summary.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&LoadBalancer>,
    group: &str,
    fresh: bool,
) -> Result<(LoadBalancer, Vec<String>)> {
    let found = || found.cloned().context("no load balancer was observed");
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => Ok((found()?, Vec::new())),
        Action::Retag(drift) => {
            let lb = found()?;
            drift.apply(ctx, Tagger::Elb(&lb.arn)).await?;
            Ok((lb, Vec::new()))
        }
        Action::Create(candidates) => create(ctx, spec, candidates, group, fresh).await,
    }
}

/// CreateLoadBalancer in the first `spec.zones` candidates; a zone AWS refuses
/// ("cannot be associated with a load balancer") is dropped for the next
/// candidate, and the notes say so.
async fn create(
    ctx: &Ctx,
    spec: &Spec,
    candidates: &[Subnet],
    group: &str,
    fresh: bool,
) -> Result<(LoadBalancer, Vec<String>)> {
    let mut candidates: Vec<&Subnet> = candidates.iter().collect();
    let mut notes = Vec::new();
    loop {
        let chosen: Vec<&Subnet> = candidates.iter().take(spec.zones).copied().collect();
        let res = after_create(ctx.poll, fresh, "create load balancer", || async {
            ctx.elb
                .create_load_balancer()
                .name(&spec.name)
                .set_subnets(Some(chosen.iter().map(|s| s.id.clone()).collect()))
                .security_groups(group)
                .scheme(elbt::LoadBalancerSchemeEnum::InternetFacing)
                .r#type(elbt::LoadBalancerTypeEnum::Application)
                .ip_address_type(elbt::IpAddressType::Ipv4)
                .set_tags(Some(spec.owner.elb_tags()))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to create load balancer {}", spec.name))
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
                        .take(spec.zones)
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
        let mut lb = to_lb(lb);
        lb.tags = spec.owner.owned();
        return Ok((lb, notes));
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
    if lb.state == State::Active {
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
            match &now.state {
                State::Active => Ok(Check::Done(now)),
                State::Failed => bail!("load balancer {} failed to provision", lb.name),
                s => Ok(Check::Waiting(s.as_str().to_string())),
            }
        },
    )
    .await
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
                    Some(l) => Check::Waiting(format!("{} still listed", to_lb(l).state.as_str())),
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
