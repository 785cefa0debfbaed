//! The deployment as one table of resources. Every command works from it:
//!
//! ```text
//! observe(ctx, plan)             -> Observed      status, cleanup --plan, Ctrl-C, deploy's stage 1
//! decide(plan, &observed, want)  -> Vec<Decision> deploy --plan, and deploy before it applies
//! Observed::rows / Decision::row -> Row           the same rows in every view
//! ```
//!
//! The kinds, in dependency order (each after what it depends on):
//!
//! ```text
//! key pair      load balancer's group     target group
//!    \              |        \                 |
//!     \        web group      load balancer    |
//!      \       /    \              \           |
//!       instance    launch template -> Auto Scaling group (count > 1)
//!          \                       \           |
//!           +---------------------- target (instance + target group)
//!                                    listener (load balancer + target group)
//! ```
//!
//! With `count = 1` the web server is one instance; with `count > 1` an Auto
//! Scaling group runs them from the launch template. Going from one shape to the
//! other, the new shape serves before the old one is removed.
//!
//! `decide` is pure: a function of the plan, what was observed and what deploy
//! wants (the SSH address, the key pair decision, the image), so `--plan` and
//! deploy cannot disagree. Deploy applies through each kind's module, which
//! computes its changes with the same functions (`secgroup::rule_changes`,
//! `tag_drift`, `targetgroup::drift`, `loadbalancer::listener_changes`).
//!
//! Adding a kind: a variant of [`Kind`] (label, dependencies), its look-up in
//! [`observe`], its rows in [`Observed::rows`], its decision in [`decide`], and
//! the kind's own module with find / ensure / delete.

use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::{Plan, WEB_PORT};
use crate::resources::autoscaling::{self, Group as Fleet};
use crate::resources::expiry;
use crate::resources::instance::{self, Instance};
use crate::resources::keypair::{self, KeyAction, KeyPair};
use crate::resources::launchtemplate::{self, LaunchTemplate};
use crate::resources::loadbalancer::{self, ListenerState, LoadBalancer};
use crate::resources::secgroup::{self, GroupState, Rule};
use crate::resources::targetgroup::{self, TargetGroup};
use crate::resources::{is_foreign, tag_drift};

/// The kinds of resource a deployment has, in dependency order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    /// The EC2 key pair (and the .pem beside it).
    KeyPair,
    /// The load balancer's security group.
    LbGroup,
    /// The web servers' security group.
    WebGroup,
    /// The target group.
    TargetGroup,
    /// The web servers' launch template (`count > 1`).
    LaunchTemplate,
    /// The Auto Scaling group that runs them (`count > 1`).
    AutoScalingGroup,
    /// A web server.
    Instance,
    /// A web server registered in the target group.
    Target,
    /// The load balancer.
    LoadBalancer,
    /// The HTTP listener.
    Listener,
    /// The schedules that delete the load balancer and the web servers at the
    /// expiry (`expires_after`).
    Expiry,
}

impl Kind {
    /// Every kind, in dependency order (cleanup goes in reverse).
    pub const ALL: [Kind; 11] = [
        Kind::KeyPair,
        Kind::LbGroup,
        Kind::WebGroup,
        Kind::TargetGroup,
        Kind::LaunchTemplate,
        Kind::AutoScalingGroup,
        Kind::Instance,
        Kind::Target,
        Kind::LoadBalancer,
        Kind::Listener,
        Kind::Expiry,
    ];

    /// What every view calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::KeyPair => "key pair",
            Kind::LbGroup | Kind::WebGroup => "security group",
            Kind::TargetGroup => "target group",
            Kind::LaunchTemplate => "launch template",
            Kind::AutoScalingGroup => "Auto Scaling group",
            Kind::Instance => "instance",
            Kind::Target => "target",
            Kind::LoadBalancer => "load balancer",
            Kind::Listener => "listener",
            Kind::Expiry => "expiry",
        }
    }

    /// What it needs before it can be made.
    pub fn depends_on(self) -> &'static [Kind] {
        match self {
            Kind::KeyPair | Kind::LbGroup | Kind::TargetGroup => &[],
            Kind::WebGroup => &[Kind::LbGroup],
            Kind::LaunchTemplate => &[Kind::KeyPair, Kind::WebGroup],
            Kind::AutoScalingGroup => &[Kind::LaunchTemplate, Kind::TargetGroup],
            Kind::Instance => &[Kind::KeyPair, Kind::WebGroup],
            Kind::Target => &[Kind::Instance, Kind::TargetGroup],
            Kind::LoadBalancer => &[Kind::LbGroup],
            Kind::Listener => &[Kind::LoadBalancer, Kind::TargetGroup],
            Kind::Expiry => &[Kind::LoadBalancer, Kind::Instance, Kind::AutoScalingGroup],
        }
    }

    /// The resource's name in every view.
    pub fn name(self, plan: &Plan) -> String {
        match self {
            Kind::KeyPair => plan.key_name.clone(),
            Kind::LbGroup => plan.lb_sg_name.clone(),
            Kind::WebGroup => plan.web_sg_name.clone(),
            Kind::TargetGroup => plan.tg_name.clone(),
            Kind::LaunchTemplate => plan.lt_name.clone(),
            Kind::AutoScalingGroup => plan.asg_name.clone(),
            Kind::Instance | Kind::Target => plan.instance_name.clone(),
            Kind::LoadBalancer => plan.lb_name.clone(),
            Kind::Listener => LISTENER_NAME.to_string(),
            Kind::Expiry => plan.schedule_group.clone(),
        }
    }
}

/// The listener's name in the views (its port is in the detail, so a port
/// change reads as an update of the same listener).
pub const LISTENER_NAME: &str = "HTTP";

/// One resource as every view shows it: status, `--plan`, deploy's summary and
/// cleanup's report print the same rows for the same deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Kind, e.g. "security group".
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// AWS id or ARN (empty when it does not exist yet).
    pub id: String,
    /// State, or what changes and why.
    pub detail: String,
}

impl Row {
    /// A row of `kind`.
    pub fn new(kind: Kind, name: impl Into<String>, id: impl Into<String>) -> Row {
        Row {
            kind: kind.label(),
            name: name.into(),
            id: id.into(),
            detail: String::new(),
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Row {
        self.detail = d.into();
        self
    }

    /// The id as a table shows it: an ARN shortened to its resource part.
    pub fn short_id(&self) -> &str {
        self.id.rsplit(':').next().unwrap_or(&self.id)
    }
}

/// One look-up's result.
#[derive(Debug, Clone)]
pub enum Seen<T> {
    /// Nothing of that name.
    Absent,
    /// Same name, not this tool's tags: deploy stops, cleanup leaves it.
    Foreign(String),
    /// This deployment's.
    Present(T),
}

impl<T> Seen<T> {
    /// The resource, when it is this deployment's.
    pub fn present(&self) -> Option<&T> {
        match self {
            Seen::Present(t) => Some(t),
            _ => None,
        }
    }

    fn from(r: anyhow::Result<Option<T>>, errors: &mut Vec<String>) -> Seen<T> {
        match r {
            Ok(Some(t)) => Seen::Present(t),
            Ok(None) => Seen::Absent,
            Err(e) if is_foreign(&e) => Seen::Foreign(format!("{e:#}")),
            Err(e) => {
                errors.push(format!("{e:#}"));
                Seen::Absent
            }
        }
    }
}

/// What exists of the deployment, read with this tool's tags and names only.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The key pair.
    pub key: Seen<KeyPair>,
    /// The load balancer's group.
    pub lb_group: Seen<GroupState>,
    /// The web group.
    pub web_group: Seen<GroupState>,
    /// The target group.
    pub target_group: Seen<TargetGroup>,
    /// The launch template.
    pub launch_template: Seen<LaunchTemplate>,
    /// The Auto Scaling group.
    pub fleet: Seen<Fleet>,
    /// Every instance not terminated, oldest first (the group's too).
    pub instances: Vec<Instance>,
    /// The target group's targets and their health.
    pub targets: Vec<(String, String)>,
    /// The load balancer.
    pub load_balancer: Seen<LoadBalancer>,
    /// Its listeners.
    pub listeners: Vec<ListenerState>,
    /// When the expiry schedules fire, if they exist.
    pub expiry: Option<chrono::DateTime<chrono::Utc>>,
    /// The role they run under.
    pub expiry_role: Option<String>,
    /// Look-ups that failed.
    pub errors: Vec<String>,
}

/// Looks up every resource of the deployment: the independent look-ups at
/// once, then the targets and listeners of what was found. For status,
/// cleanup and the Ctrl-C report.
pub async fn observe(ctx: &Ctx, plan: &Plan) -> Observed {
    observe_with(ctx, plan, true).await
}

/// [`observe`] for deploy and its `--plan`: with `count = 1` the launch
/// template and the Auto Scaling group are looked up only when an instance
/// says a group launched it (two calls fewer on every single-instance run).
pub async fn observe_for_deploy(ctx: &Ctx, plan: &Plan) -> Observed {
    observe_with(ctx, plan, plan.count > 1).await
}

async fn observe_with(ctx: &Ctx, plan: &Plan, fleet_too: bool) -> Observed {
    let fleet_lookups = || async {
        tokio::join!(
            launchtemplate::find(ctx, plan),
            autoscaling::find(ctx, plan)
        )
    };
    let (key, lb_group, web_group, insts, tg, lb, fleet_found, expiry) = tokio::join!(
        keypair::find_any(ctx, plan),
        secgroup::observe(ctx, plan, &plan.lb_sg_name),
        secgroup::observe(ctx, plan, &plan.web_sg_name),
        instance::find_all(ctx, plan, instance::NOT_TERMINATED),
        targetgroup::find(ctx, plan),
        loadbalancer::find(ctx, plan),
        async {
            if fleet_too {
                Some(fleet_lookups().await)
            } else {
                None
            }
        },
        expiry::read(ctx, plan),
    );
    let mut errors = Vec::new();
    let key = match key {
        Ok(Some(k)) if !k.ours => Seen::Foreign(format!("{:#}", keypair::not_ours(plan))),
        other => Seen::from(other, &mut errors),
    };
    let lb_group = Seen::from(lb_group, &mut errors);
    let web_group = Seen::from(web_group, &mut errors);
    let instances = insts.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        Vec::new()
    });
    // A group of an earlier count > 1 deploy shows itself by its instances.
    let (lt, fleet) = match fleet_found {
        Some(found) => found,
        None if instances.iter().any(in_fleet) => fleet_lookups().await,
        None => (Ok(None), Ok(None)),
    };
    let (expiry, expiry_role) = match expiry {
        Ok(Some((t, role))) => (Some(t), Some(role)),
        Ok(None) => (None, None),
        Err(e) => {
            errors.push(format!("{e:#}"));
            (None, None)
        }
    };
    let target_group = Seen::from(tg, &mut errors);
    let load_balancer = Seen::from(lb, &mut errors);
    let launch_template = Seen::from(lt, &mut errors);
    let fleet = Seen::from(fleet, &mut errors);
    let (targets, listeners) = tokio::join!(
        async {
            match target_group.present() {
                Some(t) => targetgroup::targets(ctx, t).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match load_balancer.present() {
                Some(l) => loadbalancer::observe_listeners(ctx, l).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let targets = targets.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        Vec::new()
    });
    let listeners = listeners.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        Vec::new()
    });
    Observed {
        key,
        lb_group,
        web_group,
        target_group,
        launch_template,
        fleet,
        instances,
        targets,
        load_balancer,
        listeners,
        expiry,
        expiry_role,
        errors,
    }
}

impl Observed {
    /// Whether nothing of the deployment exists (and nothing failed to be read).
    pub fn is_empty(&self) -> bool {
        self.rows(None).is_empty() && self.errors.is_empty()
    }

    /// The deployment's resources that exist, in table order; with a plan, the
    /// names are the plan's (status and cleanup have one), else what AWS says.
    pub fn rows(&self, plan: Option<&Plan>) -> Vec<Row> {
        let mut rows = Vec::new();
        let named = |k: Kind, fallback: &str| plan.map(|p| k.name(p)).unwrap_or(fallback.into());
        if let Some(k) = self.key.present() {
            rows.push(Row::new(Kind::KeyPair, &k.name, &k.id));
        }
        for (kind, g) in [
            (Kind::LbGroup, &self.lb_group),
            (Kind::WebGroup, &self.web_group),
        ] {
            if let Some(g) = g.present() {
                rows.push(Row::new(kind, &g.group.name, &g.group.id));
            }
        }
        if let Some(t) = self.target_group.present() {
            rows.push(
                Row::new(Kind::TargetGroup, &t.name, &t.arn)
                    .detail(format!("health check {}", t.health_check_path)),
            );
        }
        if let Some(lt) = self.launch_template.present() {
            rows.push(
                Row::new(Kind::LaunchTemplate, &lt.name, &lt.id)
                    .detail(format!("version {}", lt.version)),
            );
        }
        if let Some(g) = self.fleet.present() {
            rows.push(
                Row::new(Kind::AutoScalingGroup, &g.name, &g.name).detail(format!(
                    "{} instances, {} wanted",
                    g.members.len(),
                    g.desired
                )),
            );
        }
        for i in &self.instances {
            let name = name_tag(i).unwrap_or_else(|| named(Kind::Instance, &i.id));
            rows.push(
                Row::new(Kind::Instance, name, &i.id).detail(format!("{} in {}", i.state, i.zone)),
            );
        }
        for (id, health) in &self.targets {
            let name = self
                .instances
                .iter()
                .find(|i| i.id == *id)
                .and_then(name_tag)
                .unwrap_or_else(|| named(Kind::Target, id));
            rows.push(Row::new(Kind::Target, name, id).detail(health));
        }
        if let Some(l) = self.load_balancer.present() {
            rows.push(
                Row::new(Kind::LoadBalancer, &l.name, &l.arn)
                    .detail(format!("{} {}", l.state, l.dns_name)),
            );
        }
        for l in &self.listeners {
            rows.push(
                Row::new(Kind::Listener, LISTENER_NAME, &l.arn).detail(format!(
                    "port {} -> {}",
                    l.port,
                    l.forwards_to
                        .as_deref()
                        .map(|a| a.rsplit(':').next().unwrap_or(a))
                        .unwrap_or("nothing")
                )),
            );
        }
        if let (Some(t), Some(p)) = (self.expiry, plan) {
            rows.push(
                Row::new(Kind::Expiry, &p.schedule_group, &p.schedule_group)
                    .detail(format!("at {}", t.format("%Y-%m-%d %H:%M UTC"))),
            );
        }
        rows
    }

    /// This deployment's single instances (not the group's) that serve or can
    /// serve (live or stopped): the one running the plan's fingerprint, if any,
    /// and the others.
    pub fn serving(&self, plan: &Plan) -> (Option<&Instance>, Vec<&Instance>) {
        instance::split(plan, self.instances.iter().filter(|i| !in_fleet(i)))
    }

    /// The single instances a fleet takes the place of (`count > 1`): every
    /// live or stopped one that is not the group's.
    pub fn singles(&self, plan: &Plan) -> Vec<&Instance> {
        let (current, others) = self.serving(plan);
        current.into_iter().chain(others).collect()
    }
}

/// Whether an Auto Scaling group launched the instance (AWS tags it so).
pub fn in_fleet(i: &Instance) -> bool {
    i.tags.iter().any(|(k, _)| k == autoscaling::GROUP_TAG)
}

impl Observed {}

fn name_tag(i: &Instance) -> Option<String> {
    i.tags
        .iter()
        .find(|(k, _)| k == "Name")
        .map(|(_, v)| v.clone())
}

/// What deploy does with a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It is missing: create it.
    Create,
    /// It exists as wanted.
    Keep,
    /// It exists; these things change in place.
    Update(Vec<String>),
    /// A new one takes its place, for this reason.
    Replace(String),
    /// It goes, for this reason (the other shape of web servers took over).
    Delete(String),
    /// Deploy stops here, for this reason (a resource not made by this tool,
    /// a key pair that does not match its .pem).
    Stop(String),
}

impl Action {
    /// The word `--plan` prints.
    pub fn word(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Keep => "exists",
            Action::Update(_) => "update",
            Action::Replace(_) => "replace",
            Action::Delete(_) => "delete",
            Action::Stop(_) => "stop",
        }
    }

    fn keep_or_update(changes: Vec<String>) -> Action {
        if changes.is_empty() {
            Action::Keep
        } else {
            Action::Update(changes)
        }
    }
}

/// What deploy wants besides the plan: the SSH source it detected, its key pair
/// decision (which reads the local .pem) and the image a launch would use.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The SSH rule's source, when detected or configured.
    pub ssh_cidr: Option<String>,
    /// The key pair decision.
    pub key: KeyAction,
    /// The image a new instance would boot, when looked up.
    pub image: Option<String>,
}

/// One resource and what deploy does with it.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Which resource.
    pub kind: Kind,
    /// Its row (the detail says what changes, or what is there).
    pub row: Row,
    /// What deploy does.
    pub action: Action,
}

/// The lb group's rules, as deploy wants them.
pub fn lb_rules(plan: &Plan) -> Vec<Rule> {
    plan.lb_rules
        .iter()
        .map(|r| Rule::Cidr {
            port: r.port,
            cidr: r.cidr.clone(),
            description: r.description.to_string(),
        })
        .collect()
}

/// The web group's rules, as deploy wants them.
pub fn web_rules(lb_group_id: &str, ssh_cidr: Option<&str>) -> Vec<Rule> {
    let mut rules = vec![Rule::Group {
        port: WEB_PORT,
        group_id: lb_group_id.to_string(),
        description: crate::plan::LB_TO_WEB_DESCRIPTION.into(),
    }];
    if let Some(c) = ssh_cidr {
        rules.push(Rule::Cidr {
            port: 22,
            cidr: c.to_string(),
            description: crate::plan::SSH_RULE_DESCRIPTION.into(),
        });
    }
    rules
}

fn group_decision(
    kind: Kind,
    plan: &Plan,
    seen: &Seen<GroupState>,
    wanted: Option<Vec<Rule>>,
) -> Decision {
    let name = kind.name(plan);
    let (id, action, mut detail) = match seen {
        Seen::Absent => (String::new(), Action::Create, String::new()),
        Seen::Foreign(why) => (String::new(), Action::Stop(why.clone()), String::new()),
        Seen::Present(g) => {
            let mut changes = Vec::new();
            let mut by_hand = Vec::new();
            match &wanted {
                Some(w) => {
                    let c = secgroup::rule_changes(&g.rules, w);
                    changes.extend(c.describe());
                    by_hand = c.by_hand;
                }
                // The rules reference a group that is not there yet.
                None => changes.push(format!(
                    "allow tcp {WEB_PORT} from the new {}",
                    plan.lb_sg_name
                )),
            }
            changes.extend(tag_drift(&g.tags, plan).describe());
            let kept = by_hand
                .iter()
                .map(|r| format!("kept (added by hand): {r}"))
                .collect::<Vec<_>>()
                .join("; ");
            (g.group.id.clone(), Action::keep_or_update(changes), kept)
        }
    };
    if let Action::Update(c) = &action {
        detail = [c.join("; "), detail]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    } else if detail.is_empty() {
        detail = id.clone();
    }
    decision(kind, name, id, action, detail)
}

fn decision(kind: Kind, name: String, id: String, action: Action, detail: String) -> Decision {
    let detail = match &action {
        Action::Replace(why) | Action::Delete(why) | Action::Stop(why) if detail.is_empty() => {
            why.clone()
        }
        _ => detail,
    };
    Decision {
        kind,
        row: Row::new(kind, name, id).detail(detail),
        action,
    }
}

/// What deploy does with each resource: pure, so `--plan` and deploy agree.
pub fn decide(plan: &Plan, seen: &Observed, wanted: &Wanted) -> Vec<Decision> {
    let mut out = Vec::new();

    // Key pair: keypair::decide's answer, plus its tags.
    let key = seen.key.present();
    let key_id = key.map(|k| k.id.clone()).unwrap_or_default();
    let (action, detail) = match (&wanted.key, &seen.key) {
        (_, Seen::Foreign(why)) => (Action::Stop(why.clone()), String::new()),
        (KeyAction::Create, _) => (Action::Create, String::new()),
        (KeyAction::ImportExisting(_), _) => (
            Action::Create,
            format!("imported from {}", plan.pem_path.display()),
        ),
        (KeyAction::Keep, _) => {
            let tags = key.map(|k| tag_drift(&k.tags, plan).describe());
            let a = Action::keep_or_update(tags.unwrap_or_default());
            let d = match &a {
                Action::Update(c) => c.join("; "),
                _ => key_id.clone(),
            };
            (a, d)
        }
        (KeyAction::Replace, _) => (
            Action::Replace("--replace-key-pair: a new key pair and .pem".into()),
            String::new(),
        ),
        (KeyAction::Stop(why), _) => (Action::Stop(why.clone()), String::new()),
    };
    out.push(decision(
        Kind::KeyPair,
        plan.key_name.clone(),
        key_id,
        action,
        detail,
    ));

    // The groups: rules (this tool's only) and tags.
    out.push(group_decision(
        Kind::LbGroup,
        plan,
        &seen.lb_group,
        Some(lb_rules(plan)),
    ));
    let web_wanted = seen
        .lb_group
        .present()
        .map(|g| web_rules(&g.group.id, wanted.ssh_cidr.as_deref()));
    out.push(group_decision(
        Kind::WebGroup,
        plan,
        &seen.web_group,
        web_wanted,
    ));

    // Target group: health-check path and tags.
    let tg = seen.target_group.present();
    out.push(match &seen.target_group {
        Seen::Absent => decision(
            Kind::TargetGroup,
            plan.tg_name.clone(),
            String::new(),
            Action::Create,
            format!("health check {}", plan.health_check_path),
        ),
        Seen::Foreign(why) => decision(
            Kind::TargetGroup,
            plan.tg_name.clone(),
            String::new(),
            Action::Stop(why.clone()),
            String::new(),
        ),
        Seen::Present(t) => {
            let a = Action::keep_or_update(targetgroup::describe_drift(t, plan));
            let d = match &a {
                Action::Update(c) => c.join("; "),
                _ => t.arn.clone(),
            };
            decision(Kind::TargetGroup, t.name.clone(), t.arn.clone(), a, d)
        }
    });

    // The web servers: one instance, or the fleet.
    if plan.count > 1 {
        out.extend(decide_fleet(plan, seen));
    } else {
        out.extend(decide_single(plan, seen, wanted));
    }

    // Load balancer: tags. Listener: port, target and tags.
    let (lb_decision, listener) = match &seen.load_balancer {
        Seen::Absent => (
            decision(
                Kind::LoadBalancer,
                plan.lb_name.clone(),
                String::new(),
                Action::Create,
                format!("in {} zones", plan.lb_zones),
            ),
            decision(
                Kind::Listener,
                LISTENER_NAME.into(),
                String::new(),
                Action::Create,
                format!("port {}", plan.listener_port),
            ),
        ),
        Seen::Foreign(why) => (
            decision(
                Kind::LoadBalancer,
                plan.lb_name.clone(),
                String::new(),
                Action::Stop(why.clone()),
                String::new(),
            ),
            decision(
                Kind::Listener,
                LISTENER_NAME.into(),
                String::new(),
                Action::Stop(why.clone()),
                String::new(),
            ),
        ),
        Seen::Present(l) => {
            let a = Action::keep_or_update(tag_drift(&l.tags, plan).describe());
            let d = match &a {
                Action::Update(c) => c.join("; "),
                _ => l.dns_name.clone(),
            };
            let lb = decision(Kind::LoadBalancer, l.name.clone(), l.arn.clone(), a, d);
            let c =
                loadbalancer::listener_changes(&seen.listeners, plan, tg.map(|t| t.arn.as_str()));
            let (a, d) = match (&c.keep, c.changes()) {
                (_, true) => {
                    let lines = c.describe(plan);
                    (Action::Update(lines.clone()), lines.join("; "))
                }
                (None, false) => (Action::Create, format!("port {}", plan.listener_port)),
                (Some(arn), false) => (Action::Keep, arn.clone()),
            };
            let id = c.keep.clone().unwrap_or_default();
            (lb, decision(Kind::Listener, LISTENER_NAME.into(), id, a, d))
        }
    };
    out.push(lb_decision);
    out.push(listener);

    // Expiry: made, or its time moved (every deploy counts it again from
    // now: that is keeping it, not a change), or removed for `off`.
    let group = plan.schedule_group.clone();
    match (plan.expires_after, seen.expiry) {
        (Some(after), None) => out.push(decision(
            Kind::Expiry,
            group.clone(),
            String::new(),
            Action::Create,
            format!("in {}", human(after)),
        )),
        (Some(after), Some(t)) => out.push(decision(
            Kind::Expiry,
            group.clone(),
            group,
            Action::Keep,
            format!(
                "moves from {} to {} from now",
                t.format("%Y-%m-%d %H:%M UTC"),
                human(after)
            ),
        )),
        (None, Some(_)) => out.push(decision(
            Kind::Expiry,
            group.clone(),
            group,
            Action::Delete("expires_after = \"off\"".into()),
            String::new(),
        )),
        (None, None) => {}
    }
    out
}

/// `8h`, `30m`, `2d` as deploy.toml writes them.
fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86400) {
        format!("{}d", s / 86400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else {
        format!("{}m", s / 60)
    }
}

/// "template A -> B: " when the web servers being replaced serve another
/// template than the plan's (their `SiteTemplate` tag), else nothing.
fn template_change(plan: &Plan, old: &[&Instance]) -> String {
    let mut was: Vec<&str> = old
        .iter()
        .filter_map(|i| i.template.as_deref())
        .filter(|t| *t != plan.template)
        .collect();
    was.sort_unstable();
    was.dedup();
    if was.is_empty() {
        String::new()
    } else {
        format!("template {} -> {}: ", was.join(", "), plan.template)
    }
}

/// One instance: keep, start, launch, or replace an earlier template's; a
/// fleet of an earlier `count > 1` goes once it serves.
fn decide_single(plan: &Plan, seen: &Observed, wanted: &Wanted) -> Vec<Decision> {
    let mut out = Vec::new();
    let (current, others) = seen.serving(plan);
    let other_ids: Vec<&str> = others.iter().map(|i| i.id.as_str()).collect();
    let id = current.map(|c| c.id.clone()).unwrap_or_default();
    let (action, detail) = match (current, other_ids.is_empty()) {
        (Some(c), true) if instance::is_stopped(c) => (
            Action::Update(vec![format!("{} is {}: start it", c.id, c.state)]),
            String::new(),
        ),
        (Some(c), true) => {
            let a = Action::keep_or_update(tag_drift(&c.tags, plan).describe());
            let d = match &a {
                Action::Update(ch) => ch.join("; "),
                _ => c.id.clone(),
            };
            (a, d)
        }
        (None, true) => (
            Action::Create,
            match &wanted.image {
                Some(image) => format!("{} from {image}", plan.instance_type),
                None => plan.instance_type.clone(),
            },
        ),
        (_, false) => (
            Action::Replace(format!(
                "{}{} takes the place of {}",
                template_change(plan, &others),
                plan.instance_type,
                other_ids.join(", ")
            )),
            String::new(),
        ),
    };
    out.push(decision(
        Kind::Instance,
        plan.instance_name.clone(),
        id.clone(),
        action,
        detail,
    ));
    let registered = current.is_some_and(|c| seen.targets.iter().any(|(t, _)| *t == c.id));
    out.push(decision(
        Kind::Target,
        plan.instance_name.clone(),
        id.clone(),
        if registered {
            Action::Keep
        } else {
            Action::Update(vec![format!("register in {}", plan.tg_name)])
        },
        id,
    ));
    let why = "count = 1: one instance takes the place of the group";
    if let Some(lt) = seen.launch_template.present() {
        out.push(decision(
            Kind::LaunchTemplate,
            lt.name.clone(),
            lt.id.clone(),
            Action::Delete(why.into()),
            String::new(),
        ));
    }
    if let Some(g) = seen.fleet.present() {
        out.push(decision(
            Kind::AutoScalingGroup,
            g.name.clone(),
            g.name.clone(),
            Action::Delete(why.into()),
            String::new(),
        ));
    }
    out
}

/// `count > 1`: the launch template (a new version for a new template), the
/// group (its capacity; instances of an earlier version rolled), its instances
/// and targets; single instances of an earlier `count = 1` go once it serves.
fn decide_fleet(plan: &Plan, seen: &Observed) -> Vec<Decision> {
    let mut out = Vec::new();
    let (lt_action, new_version) = match &seen.launch_template {
        Seen::Absent => (Action::Create, true),
        Seen::Foreign(why) => (Action::Stop(why.clone()), false),
        Seen::Present(lt) => {
            let changed = lt.fingerprint != plan.fingerprint;
            let mut changes = tag_drift(&lt.tags, plan).describe();
            if changed {
                let running: Vec<&Instance> = seen.instances.iter().collect();
                changes.insert(
                    0,
                    format!(
                        "{}version {} for the changed template",
                        template_change(plan, &running),
                        lt.version + 1
                    ),
                );
            }
            (Action::keep_or_update(changes), changed)
        }
    };
    let lt = seen.launch_template.present();
    let lt_detail = match &lt_action {
        Action::Update(c) => c.join("; "),
        _ => lt
            .map(|l| format!("version {}", l.version))
            .unwrap_or_default(),
    };
    out.push(decision(
        Kind::LaunchTemplate,
        plan.lt_name.clone(),
        lt.map(|l| l.id.clone()).unwrap_or_default(),
        lt_action,
        lt_detail,
    ));
    let (action, detail) = match &seen.fleet {
        Seen::Absent => (
            Action::Create,
            format!(
                "{} x {} in {} zones",
                plan.count, plan.instance_type, plan.lb_zones
            ),
        ),
        Seen::Foreign(why) => (Action::Stop(why.clone()), String::new()),
        Seen::Present(g) => {
            let mut changes = autoscaling::drift(g, plan);
            let old: Vec<&str> = g
                .members
                .iter()
                .filter(|m| new_version || m.fingerprint != plan.fingerprint)
                .map(|m| m.id.as_str())
                .collect();
            if !old.is_empty() {
                changes.push(format!(
                    "roll: {} new before {} go",
                    plan.count,
                    old.join(", ")
                ));
            }
            changes.extend(tag_drift(&g.tags, plan).describe());
            let a = Action::keep_or_update(changes);
            let d = match &a {
                Action::Update(c) => c.join("; "),
                _ => format!("{} instances", g.members.len()),
            };
            (a, d)
        }
    };
    out.push(decision(
        Kind::AutoScalingGroup,
        plan.asg_name.clone(),
        seen.fleet
            .present()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        action,
        detail,
    ));
    if let Some(g) = seen.fleet.present() {
        for m in &g.members {
            let tags = seen
                .instances
                .iter()
                .find(|i| i.id == m.id)
                .map(|i| tag_drift(&i.tags, plan).describe())
                .unwrap_or_default();
            let a = Action::keep_or_update(tags);
            let d = match &a {
                Action::Update(c) => c.join("; "),
                _ => format!("{} in {}", m.state, m.zone),
            };
            out.push(decision(
                Kind::Instance,
                plan.instance_name.clone(),
                m.id.clone(),
                a,
                d,
            ));
        }
        for m in &g.members {
            let registered = seen.targets.iter().find(|(t, _)| *t == m.id);
            out.push(decision(
                Kind::Target,
                plan.instance_name.clone(),
                m.id.clone(),
                match registered {
                    Some(_) => Action::Keep,
                    None => Action::Update(vec![format!("registered by {}", plan.asg_name)]),
                },
                registered.map(|(_, h)| h.clone()).unwrap_or_default(),
            ));
        }
    }
    for i in seen.singles(plan) {
        out.push(decision(
            Kind::Instance,
            plan.instance_name.clone(),
            i.id.clone(),
            Action::Delete(format!("{} takes its place", plan.asg_name)),
            String::new(),
        ));
    }
    out
}

/// The reasons deploy must stop, from a set of decisions.
pub fn stops(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|d| match &d.action {
            Action::Stop(why) => Some(why.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra: &str) -> Plan {
        crate::plan::test_plan("t", extra)
    }

    fn tags(plan: &Plan) -> Vec<(String, String)> {
        plan.owned_tags()
    }

    fn nothing() -> Observed {
        Observed {
            key: Seen::Absent,
            lb_group: Seen::Absent,
            web_group: Seen::Absent,
            target_group: Seen::Absent,
            instances: Vec::new(),
            targets: Vec::new(),
            load_balancer: Seen::Absent,
            listeners: Vec::new(),
            launch_template: Seen::Absent,
            fleet: Seen::Absent,
            expiry: None,
            expiry_role: None,
            errors: Vec::new(),
        }
    }

    fn group(plan: &Plan, name: &str, id: &str, rules: Vec<Rule>) -> Seen<GroupState> {
        Seen::Present(GroupState {
            group: secgroup::Group {
                id: id.into(),
                name: name.into(),
            },
            vpc_id: "vpc-1".into(),
            rules,
            tags: tags(plan),
        })
    }

    /// Everything as a deploy of `p` leaves it.
    fn deployed(p: &Plan) -> Observed {
        Observed {
            key: Seen::Present(KeyPair {
                name: p.key_name.clone(),
                id: "key-1".into(),
                ours: true,
                fingerprint: "x".into(),
                tags: tags(p),
            }),
            lb_group: group(p, &p.lb_sg_name, "sg-lb", lb_rules(p)),
            web_group: group(
                p,
                &p.web_sg_name,
                "sg-web",
                web_rules("sg-lb", Some("203.0.113.7/32")),
            ),
            target_group: Seen::Present(TargetGroup {
                arn: "arn:tg".into(),
                name: p.tg_name.clone(),
                health_check_path: p.health_check_path.clone(),
                tags: tags(p),
            }),
            instances: vec![Instance {
                id: "i-1".into(),
                state: "running".into(),
                public_ip: None,
                fingerprint: Some(p.fingerprint.clone()),
                zone: "us-east-1a".into(),
                tags: tags(p),
                launched: None,
                instance_type: "t3.micro".into(),
                state_reason: None,
                template: Some(p.template.clone()),
            }],
            targets: vec![("i-1".into(), "healthy".into())],
            load_balancer: Seen::Present(LoadBalancer {
                arn: "arn:lb".into(),
                name: p.lb_name.clone(),
                dns_name: "lb.example".into(),
                state: "active".into(),
                zones: vec![],
                tags: tags(p),
                created: None,
            }),
            listeners: vec![ListenerState {
                arn: "arn:listener".into(),
                port: p.listener_port,
                forwards_to: Some("arn:tg".into()),
                tags: tags(p),
            }],
            launch_template: Seen::Absent,
            fleet: Seen::Absent,
            expiry: Some(chrono::Utc::now()),
            expiry_role: Some("arn:aws:iam::123456789012:role/r".into()),
            errors: Vec::new(),
        }
    }

    fn want() -> Wanted {
        Wanted {
            ssh_cidr: Some("203.0.113.7/32".into()),
            key: KeyAction::Keep,
            image: None,
        }
    }

    fn actions(d: &[Decision]) -> Vec<(Kind, &str)> {
        d.iter().map(|d| (d.kind, d.action.word())).collect()
    }

    #[test]
    fn an_empty_account_creates_every_kind_in_dependency_order() {
        let p = plan("");
        let w = Wanted {
            key: KeyAction::Create,
            ..want()
        };
        let d = decide(&p, &nothing(), &w);
        let kinds: Vec<Kind> = d.iter().map(|d| d.kind).collect();
        let single: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| !matches!(k, Kind::LaunchTemplate | Kind::AutoScalingGroup))
            .collect();
        assert_eq!(kinds, single);
        for (i, k) in kinds.iter().enumerate() {
            // Each dependency this shape has (one instance: no group) first.
            for dep in k.depends_on().iter().filter(|d| kinds.contains(d)) {
                assert!(kinds[..i].contains(dep), "{k:?} before {dep:?}");
            }
        }
        assert!(d
            .iter()
            .all(|d| matches!(d.action, Action::Create | Action::Update(_))));
    }

    #[test]
    fn a_deployed_stack_is_kept_as_it_is() {
        let p = plan("");
        let d = decide(&p, &deployed(&p), &want());
        assert!(d.iter().all(|d| d.action == Action::Keep), "{d:#?}");
        assert_eq!(
            d.iter().map(|d| d.row.name.as_str()).collect::<Vec<_>>(),
            [
                "t-key",
                "t-lb-sg",
                "t-web-sg",
                "t-tg",
                "t-web",
                "t-web",
                "t-alb",
                "HTTP",
                "sitedeploy-t"
            ]
        );
    }

    #[test]
    fn drift_is_an_update_that_says_what_differs() {
        let p = plan(
            "[load_balancer]\nport = 8080\nhealth_check_path = \"/ok\"\n[tags]\nOwner = \"ann\"",
        );
        let before = plan("[tags]\nProject = \"x\"");
        let mut seen = deployed(&before);
        // A rule a person added by hand to the lb group.
        if let Seen::Present(g) = &mut seen.lb_group {
            g.rules.push(Rule::Cidr {
                port: 22,
                cidr: "192.0.2.0/24".into(),
                description: "bastion".into(),
            });
        }
        let d = decide(&p, &seen, &want());
        let by_kind = |k: Kind| d.iter().find(|d| d.kind == k).unwrap();
        let lb_sg = by_kind(Kind::LbGroup);
        let Action::Update(c) = &lb_sg.action else {
            panic!("{lb_sg:?}")
        };
        assert!(
            c.contains(&"allow tcp 8080 from 0.0.0.0/0".to_string()),
            "{c:?}"
        );
        assert!(
            c.contains(&"revoke tcp 80 from 0.0.0.0/0".to_string()),
            "{c:?}"
        );
        assert!(c.contains(&"tag Owner=ann".to_string()), "{c:?}");
        assert!(c.contains(&"untag Project".to_string()), "{c:?}");
        assert!(
            lb_sg
                .row
                .detail
                .contains("kept (added by hand): tcp 22 from 192.0.2.0/24"),
            "{}",
            lb_sg.row.detail
        );
        assert_eq!(
            by_kind(Kind::TargetGroup).action,
            Action::Update(vec![
                "health check / -> /ok".into(),
                "tag Owner=ann".into(),
                "untag Project".into()
            ])
        );
        let Action::Update(c) = &by_kind(Kind::Listener).action else {
            panic!()
        };
        assert_eq!(c[0], "port 80 -> 8080");
        // The instance is replaced for its own reasons only (user data unchanged
        // here), but its tags follow.
        assert_eq!(by_kind(Kind::Instance).action.word(), "update");
    }

    #[test]
    fn foreign_resources_and_a_mismatched_key_stop_deploy() {
        let p = plan("");
        let mut seen = deployed(&p);
        seen.load_balancer = Seen::Foreign("not ours".into());
        let w = Wanted {
            key: KeyAction::Stop("wrong .pem".into()),
            ..want()
        };
        let d = decide(&p, &seen, &w);
        assert_eq!(stops(&d), ["wrong .pem", "not ours", "not ours"]);
    }

    #[test]
    fn an_earlier_templates_instance_is_replaced_and_a_stopped_one_started() {
        let p = plan("");
        let mut seen = deployed(&p);
        seen.instances[0].fingerprint = Some("old".into());
        let d = decide(&p, &seen, &want());
        let inst = d.iter().find(|d| d.kind == Kind::Instance).unwrap();
        assert_eq!(
            inst.action,
            Action::Replace("t3.micro takes the place of i-1".into())
        );
        // Another template: the plan says which way.
        seen.instances[0].template = Some("2121_wave_cafe".into());
        let d = decide(&p, &seen, &want());
        let inst = d.iter().find(|d| d.kind == Kind::Instance).unwrap();
        assert_eq!(
            inst.action,
            Action::Replace(format!(
                "template 2121_wave_cafe -> {}: t3.micro takes the place of i-1",
                p.template
            ))
        );

        let mut seen = deployed(&p);
        seen.instances[0].state = "stopped".into();
        let d = decide(&p, &seen, &want());
        assert_eq!(
            actions(&d)[4],
            (Kind::Instance, "update"),
            "a stopped instance of the current template is started"
        );
    }

    #[test]
    fn status_rows_name_what_decide_names() {
        let p = plan("");
        let seen = deployed(&p);
        let status: Vec<(&str, String)> = seen
            .rows(Some(&p))
            .into_iter()
            .map(|r| (r.kind, r.name))
            .collect();
        let decided: Vec<(&str, String)> = decide(&p, &seen, &want())
            .into_iter()
            .map(|d| (d.row.kind, d.row.name))
            .collect();
        // The instance's Name tag is not in these test tags: status falls back
        // to the plan's name, as deploy does.
        assert_eq!(status, decided);
    }
}
