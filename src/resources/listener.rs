//! The load balancer's HTTP listener: one, on deploy.toml's port, forwarding
//! to the target group. A port change creates the listener on the new port
//! before the old one is deleted, so the site is never without one.

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;

use super::loadbalancer::LoadBalancer;
use super::{Deleted, Verb};
use crate::aws::{unless_not_found, AwsError, Ctx};
use crate::plan::Plan;
use crate::tags::{Owner, TagDrift, Tagger, Tags};

/// The listener's name in the views (its port is in the detail, so a port
/// change reads as an update of the same listener).
pub const NAME: &str = "HTTP";

/// What deploy.toml asks of the listener.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its port.
    pub port: u16,
    /// The target group's name (for the plan's words).
    pub target_group: String,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The listener of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            port: plan.listener_port,
            target_group: plan.tg_name.clone(),
            owner: plan.owner.clone(),
        }
    }
}

/// A listener as found.
#[derive(Debug, Clone)]
pub struct Listener {
    /// ARN.
    pub arn: String,
    /// Port.
    pub port: u16,
    /// The target group it forwards to.
    pub forwards_to: Option<String>,
    /// Its tags (read with the load balancer's).
    pub tags: Tags,
}

/// The load balancer's listeners (their tags are read with the load
/// balancer's, in one call, and put in by the caller).
pub async fn observe(ctx: &Ctx, lb: &LoadBalancer) -> Result<Vec<Listener>> {
    let out = ctx
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb.arn)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to list the listeners of {}", lb.name))?;
    Ok(out
        .listeners()
        .iter()
        .map(|l| Listener {
            arn: l.listener_arn().unwrap_or_default().to_string(),
            port: l.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
            forwards_to: l
                .default_actions()
                .iter()
                .find(|a| a.r#type() == Some(&elbt::ActionTypeEnum::Forward))
                .and_then(|a| a.target_group_arn())
                .map(str::to_string),
            tags: Vec::new(),
        })
        .collect())
}

fn forward_to(tg_arn: &str) -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build()
}

/// How the listeners differ from the one wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The listener on the wanted port, when there is one.
    pub keep: Option<String>,
    /// It forwards elsewhere (or the target group is new): point it at the
    /// target group.
    pub repoint: bool,
    /// Listeners on other ports, to delete once the wanted one exists:
    /// `(ARN, port)`.
    pub delete: Vec<(String, u16)>,
    /// The kept listener's tag changes.
    pub tags: TagDrift,
}

impl Changes {
    /// One line per change (a new listener is a creation, not a change).
    pub fn describe(&self, spec: &Spec) -> Vec<String> {
        let mut out = Vec::new();
        for (_, port) in &self.delete {
            out.push(format!("port {port} -> {}", spec.port));
        }
        if self.repoint {
            out.push(format!("forward to {}", spec.target_group));
        }
        out.extend(self.tags.describe());
        out
    }

    fn any(&self) -> bool {
        self.repoint || !self.delete.is_empty() || !self.tags.is_empty()
    }
}

/// What deploy does with the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it (the load balancer is new, or has no listener).
    Create,
    /// It is as wanted.
    Keep,
    /// A new port (create, then delete the old), another target group, tags.
    Update(Changes),
    /// Deploy stops.
    Stop(String),
}

/// Decides what to do with the listeners found on an observed load balancer
/// (`None`: it is to be created); `tg_arn` is the target group's ARN when it
/// exists as ours.
pub fn decide(spec: &Spec, found: Option<&[Listener]>, tg_arn: Option<&str>) -> Action {
    let Some(found) = found else {
        return Action::Create;
    };
    let wanted = found.iter().find(|l| l.port == spec.port);
    let c = Changes {
        keep: wanted.map(|l| l.arn.clone()),
        repoint: wanted.is_some_and(|l| tg_arn.is_none() || l.forwards_to.as_deref() != tg_arn),
        delete: found
            .iter()
            .filter(|l| l.port != spec.port)
            .map(|l| (l.arn.clone(), l.port))
            .collect(),
        tags: wanted
            .map(|l| spec.owner.drift(&l.tags))
            .unwrap_or_default(),
    };
    match (&c.keep, c.any()) {
        (_, true) => Action::Update(c),
        (None, false) => Action::Create,
        (Some(_), false) => Action::Keep,
    }
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Update(_) => Verb::Update,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self, spec: &Spec) -> String {
        match self {
            Action::Create => format!("port {}", spec.port),
            Action::Keep => String::new(),
            Action::Update(c) => c.describe(spec).join("; "),
            Action::Stop(why) => why.clone(),
        }
    }

    /// The observed listener this action keeps, if any.
    pub fn kept(&self) -> Option<&str> {
        match self {
            Action::Update(c) => c.keep.as_deref(),
            _ => None,
        }
    }
}

/// Applies the decision on load balancer `lb_arn`, forwarding to `tg_arn`;
/// `kept` is the observed listener on the wanted port (for `Keep`). Returns
/// the listener's ARN.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    kept: Option<&Listener>,
    lb_arn: &str,
    tg_arn: &str,
) -> Result<String> {
    let port = i32::from(spec.port);
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => Ok(kept.context("no listener was observed")?.arn.clone()),
        Action::Create => create(ctx, spec, lb_arn, tg_arn).await,
        Action::Update(c) => {
            let arn = match &c.keep {
                Some(arn) => {
                    if c.repoint {
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
                    c.tags.apply(ctx, Tagger::Elb(arn)).await?;
                    arn.clone()
                }
                None => create(ctx, spec, lb_arn, tg_arn).await?,
            };
            for (old, old_port) in &c.delete {
                delete_one(ctx, old, *old_port).await?;
            }
            Ok(arn)
        }
    }
}

async fn create(ctx: &Ctx, spec: &Spec, lb_arn: &str, tg_arn: &str) -> Result<String> {
    let port = i32::from(spec.port);
    let out = ctx
        .elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .protocol(elbt::ProtocolEnum::Http)
        .port(port)
        .default_actions(forward_to(tg_arn))
        .set_tags(Some(spec.owner.elb_tags()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to create the listener on port {port}"))?;
    out.listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .map(str::to_string)
        .context("CreateListener returned no listener")
}

async fn delete_one(ctx: &Ctx, arn: &str, port: u16) -> Result<()> {
    let res = ctx
        .elb
        .delete_listener()
        .listener_arn(arn)
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || {
        format!("failed to delete the listener on port {port}")
    })?;
    Ok(())
}

/// Deletes these listeners (as observed).
pub async fn delete(ctx: &Ctx, listeners: &[Listener]) -> Result<Deleted> {
    if listeners.is_empty() {
        return Ok(Deleted::Absent);
    }
    for l in listeners {
        delete_one(ctx, &l.arn, l.port).await?;
    }
    Ok(Deleted::Deleted)
}
