//! The load balancer's HTTP listener: one, on deploy.toml's port, forwarding
//! to the target group. A port change creates the listener on the new port
//! before the old one is deleted, so the site is never without one.
//!
//! With `[https]` the listener is gated (AWS's "Restrict access to
//! Application Load Balancers"): its default action answers a fixed 403, and
//! one rule (priority [`GATE_PRIORITY`]) forwards the requests that carry the
//! CloudFront distribution's secret header. The rule is made before the
//! default turns to 403, and the default forwards again before the rule goes,
//! so the site is never shut by its own change.

use anyhow::{bail, Context, Result};
use aws_sdk_elasticloadbalancingv2::types as elbt;

use super::distribution::{Secret, SECRET_HEADER};
use super::loadbalancer::LoadBalancer;
use super::{Deleted, Verb};
use crate::aws::{unless_not_found, AwsError, Ctx};
use crate::plan::Plan;
use crate::tags::{Owner, TagDrift, Tagger, Tags};

/// The listener's name in the views (its port is in the detail, so a port
/// change reads as an update of the same listener).
pub const NAME: &str = "HTTP";

/// The gate rule's priority (1 is evaluated first).
pub const GATE_PRIORITY: i32 = 1;

/// What the load balancer answers a request that did not come through the
/// distribution.
pub const DENIED: &str = "Forbidden: this site is served through its CloudFront (https://) URL.";

/// What deploy.toml asks of the listener.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its port.
    pub port: u16,
    /// Gated: only requests with the distribution's header reach the site.
    pub gated: bool,
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
            gated: plan.https,
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
    /// The target group its default action forwards to.
    pub forwards_to: Option<String>,
    /// Its default action answers a fixed 403.
    pub denies: bool,
    /// The gate rule, when it has one.
    pub gate: Option<Gate>,
    /// Its tags (read with the load balancer's).
    pub tags: Tags,
}

/// The listener rule that lets the distribution's requests through.
#[derive(Clone, PartialEq, Eq)]
pub struct Gate {
    /// ARN.
    pub arn: String,
    /// The header values it admits (the secret; never printed).
    pub values: Vec<String>,
    /// The target group it forwards to.
    pub forwards_to: Option<String>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("arn", &self.arn)
            .field("forwards_to", &self.forwards_to)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// Whether it admits exactly `secret` and forwards to `tg_arn`.
    fn is(&self, secret: &Secret, tg_arn: Option<&str>) -> bool {
        self.values.len() == 1
            && self.values[0] == secret.expose()
            && tg_arn.is_some()
            && self.forwards_to.as_deref() == tg_arn
    }
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
    let mut found: Vec<Listener> = out
        .listeners()
        .iter()
        .map(|l| Listener {
            arn: l.listener_arn().unwrap_or_default().to_string(),
            port: l.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
            forwards_to: forwarded(l.default_actions()),
            denies: l
                .default_actions()
                .iter()
                .any(|a| a.r#type() == Some(&elbt::ActionTypeEnum::FixedResponse)),
            gate: None,
            tags: Vec::new(),
        })
        .collect();
    let gates =
        futures_util::future::try_join_all(found.iter().map(|l| gate_of(ctx, &l.arn))).await?;
    for (l, g) in found.iter_mut().zip(gates) {
        l.gate = g;
    }
    Ok(found)
}

fn forwarded(actions: &[elbt::Action]) -> Option<String> {
    actions
        .iter()
        .find(|a| a.r#type() == Some(&elbt::ActionTypeEnum::Forward))
        .and_then(|a| a.target_group_arn())
        .map(str::to_string)
}

/// The listener's gate rule: the one whose condition is the secret header.
async fn gate_of(ctx: &Ctx, listener_arn: &str) -> Result<Option<Gate>> {
    let out = ctx
        .elb
        .describe_rules()
        .listener_arn(listener_arn)
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to read the listener's rules")?;
    Ok(out.rules().iter().find_map(|r| {
        let header = r.conditions().iter().find_map(|c| {
            let h = c.http_header_config()?;
            h.http_header_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(SECRET_HEADER))
                .then(|| h.values().to_vec())
        })?;
        Some(Gate {
            arn: r.rule_arn()?.to_string(),
            values: header,
            forwards_to: forwarded(r.actions()),
        })
    }))
}

fn forward_to(tg_arn: &str) -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build()
}

fn deny() -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            elbt::FixedResponseActionConfig::builder()
                .status_code("403")
                .content_type("text/plain")
                .message_body(DENIED)
                .build(),
        )
        .build()
}

/// The listener's default action: forward, or (gated) the fixed 403.
fn default_action(spec: &Spec, tg_arn: &str) -> elbt::Action {
    match spec.gated {
        true => deny(),
        false => forward_to(tg_arn),
    }
}

fn gate_condition(secret: &Secret) -> elbt::RuleCondition {
    elbt::RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            elbt::HttpHeaderConditionConfig::builder()
                .http_header_name(SECRET_HEADER)
                .values(secret.expose())
                .build(),
        )
        .build()
}

/// What changes of the gate rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GateChange {
    /// Nothing.
    #[default]
    Keep,
    /// Make it (gated, none yet).
    Create,
    /// Write its header value and target again (ARN).
    Rewrite(String),
    /// Delete it (not gated any more; ARN).
    Delete(String),
}

/// How the listeners differ from the one wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The listener on the wanted port, when there is one.
    pub keep: Option<String>,
    /// Its default action is not the one wanted (it forwards elsewhere, the
    /// target group is new, or the gate opens or closes): set it.
    pub repoint: bool,
    /// The gate rule.
    pub gate: GateChange,
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
        match &self.gate {
            GateChange::Create => out.push(format!("forward only with the {SECRET_HEADER} header")),
            GateChange::Rewrite(_) => out.push(format!("the {SECRET_HEADER} rule rewritten")),
            GateChange::Delete(_) => out.push(format!("the {SECRET_HEADER} rule deleted")),
            GateChange::Keep => {}
        }
        if self.repoint {
            out.push(match spec.gated {
                true => "otherwise 403".to_string(),
                false => format!("forward to {}", spec.target_group),
            });
        }
        out.extend(self.tags.describe());
        out
    }

    fn any(&self) -> bool {
        self.repoint
            || self.gate != GateChange::Keep
            || !self.delete.is_empty()
            || !self.tags.is_empty()
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
/// exists as ours; `secret` the distribution's header value (gated).
pub fn decide(
    spec: &Spec,
    found: Option<&[Listener]>,
    tg_arn: Option<&str>,
    secret: &Secret,
) -> Action {
    let Some(found) = found else {
        return Action::Create;
    };
    let wanted = found.iter().find(|l| l.port == spec.port);
    let default_differs = |l: &Listener| match spec.gated {
        true => !l.denies,
        false => tg_arn.is_none() || l.forwards_to.as_deref() != tg_arn,
    };
    let gate = match (wanted.and_then(|l| l.gate.as_ref()), spec.gated) {
        (None, true) => GateChange::Create,
        (Some(g), true) if !g.is(secret, tg_arn) => GateChange::Rewrite(g.arn.clone()),
        (Some(g), false) => GateChange::Delete(g.arn.clone()),
        _ => GateChange::Keep,
    };
    let c = Changes {
        keep: wanted.map(|l| l.arn.clone()),
        repoint: wanted.is_some_and(default_differs),
        gate: match wanted {
            Some(_) => gate,
            None => GateChange::Keep,
        },
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
            Action::Create if spec.gated => format!(
                "port {}, forwarding only with the {SECRET_HEADER} header, otherwise 403",
                spec.port
            ),
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
/// `kept` is the observed listener on the wanted port (for `Keep`); `secret`
/// the gate's header value. Returns the listener's ARN.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    kept: Option<&Listener>,
    lb_arn: &str,
    tg_arn: &str,
    secret: &Secret,
) -> Result<String> {
    let port = i32::from(spec.port);
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => Ok(kept.context("no listener was observed")?.arn.clone()),
        Action::Create => create(ctx, spec, lb_arn, tg_arn, secret).await,
        Action::Update(c) => {
            let arn = match &c.keep {
                Some(arn) => {
                    // The gate first when it closes the door, last when it opens it.
                    match &c.gate {
                        GateChange::Create => add_gate(ctx, spec, arn, tg_arn, secret).await?,
                        GateChange::Rewrite(rule) => {
                            ctx.elb
                                .modify_rule()
                                .rule_arn(rule)
                                .conditions(gate_condition(secret))
                                .actions(forward_to(tg_arn))
                                .send()
                                .await
                                .map_err(AwsError::from)
                                .context("failed to rewrite the listener's header rule")?;
                        }
                        GateChange::Keep | GateChange::Delete(_) => {}
                    }
                    if c.repoint {
                        ctx.elb
                            .modify_listener()
                            .listener_arn(arn)
                            .default_actions(default_action(spec, tg_arn))
                            .send()
                            .await
                            .map_err(AwsError::from)
                            .with_context(|| {
                                format!("failed to set the default action of the listener on port {port}")
                            })?;
                    }
                    if let GateChange::Delete(rule) = &c.gate {
                        let res = ctx
                            .elb
                            .delete_rule()
                            .rule_arn(rule)
                            .send()
                            .await
                            .map_err(AwsError::from);
                        unless_not_found(res, || {
                            "failed to delete the listener's header rule".into()
                        })?;
                    }
                    c.tags.apply(ctx, Tagger::Elb(arn)).await?;
                    arn.clone()
                }
                None => create(ctx, spec, lb_arn, tg_arn, secret).await?,
            };
            for (old, old_port) in &c.delete {
                delete_one(ctx, old, *old_port).await?;
            }
            Ok(arn)
        }
    }
}

/// CreateListener, then (gated) its gate rule.
async fn create(
    ctx: &Ctx,
    spec: &Spec,
    lb_arn: &str,
    tg_arn: &str,
    secret: &Secret,
) -> Result<String> {
    let port = i32::from(spec.port);
    let out = ctx
        .elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .protocol(elbt::ProtocolEnum::Http)
        .port(port)
        .default_actions(default_action(spec, tg_arn))
        .set_tags(Some(spec.owner.elb_tags()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to create the listener on port {port}"))?;
    let arn = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .map(str::to_string)
        .context("CreateListener returned no listener")?;
    if spec.gated {
        add_gate(ctx, spec, &arn, tg_arn, secret).await?;
    }
    Ok(arn)
}

/// CreateRule: forward the requests that carry the secret header.
async fn add_gate(
    ctx: &Ctx,
    spec: &Spec,
    listener_arn: &str,
    tg_arn: &str,
    secret: &Secret,
) -> Result<()> {
    ctx.elb
        .create_rule()
        .listener_arn(listener_arn)
        .set_tags(Some(spec.owner.elb_tags()))
        .priority(GATE_PRIORITY)
        .conditions(gate_condition(secret))
        .actions(forward_to(tg_arn))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to add the listener's header rule")?;
    Ok(())
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
