//! The deployment as one table of resources, and the one decision every
//! command works from:
//!
//! ```text
//! Specs::new(plan)              -> each kind's spec             (crate::spec)
//! observe(ctx, specs)           -> Observed                     (crate::observe)
//! decide(specs, observed, now)  -> Decision: each kind's typed action (pure)
//! Decision::rows                -> the rows `--plan`, the summary and the Ctrl-C
//!                                  report print; Observed rows: status, cleanup
//! ```
//!
//! `--plan` is observe + decide. Deploy is observe + decide + apply
//! (`crate::deploy`), where each kind's module receives its action from this
//! decision and does exactly that: the plan cannot disagree with the deploy
//! that follows it (`tests/plan_apply.rs` checks it over generated worlds).
//!
//! The kinds, in dependency order ([`Kind::depends_on`]; deploy's graph runs a
//! kind once its dependencies are done, cleanup goes in reverse):
//!
//! ```text
//! key pair    load balancer's group    target group   expiry role   schedule group
//!    |         /          \                 |  |           |              |
//!    |   web group     load balancer -------+  |           |              |
//!    |    /   \          /   |    \            |           |              |
//! instance  launch template  |   listener -----+           |              |
//!    |         \             |                             |              |
//!    |      Auto Scaling group (count > 1) ----------------+-- schedules -+
//!    +-- target (instance + target group)
//! ```
//!
//! Adding a kind: a [`Kind`] variant (label, name, dependencies), its spec in
//! `crate::spec`, its look-up in `crate::observe`, its action in [`Decision`]
//! with its rows, its step in deploy's graph (`crate::deploy::apply`) and its
//! deletion in `crate::cleanup`; the kind's own module in `src/resources/`
//! holds the rest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::observe::Observed;
use crate::resources::autoscaling::{self, Group};
use crate::resources::instance::{self, Instance};
use crate::resources::launchtemplate::{self, LaunchTemplate};
use crate::resources::{
    bucket, distribution, domain, expiry, keypair, listener, loadbalancer, profile, secgroup,
    targetgroup, Verb,
};
use crate::spec::Specs;
use crate::tags::TagDrift;

/// The kinds of resource a deployment has, in dependency order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// The EC2 key pair (and the .pem beside it).
    KeyPair,
    /// The load balancer's security group.
    LbGroup,
    /// The web servers' security group.
    WebGroup,
    /// The target group.
    TargetGroup,
    /// The load balancer.
    LoadBalancer,
    /// The S3 bucket holding a folder's content, and the content (`[site]`).
    Bucket,
    /// The web servers' instance profile and its role (`[site]`).
    Profile,
    /// The ACM certificate for `[https] domain`.
    Certificate,
    /// The CloudFront distribution in front of it (`[https]`).
    Distribution,
    /// The Route 53 records that send `[https] domain` to it.
    DnsRecords,
    /// Its HTTP listener.
    Listener,
    /// The web servers' launch template (`count > 1`).
    LaunchTemplate,
    /// The Auto Scaling group that runs them (`count > 1`).
    AutoScalingGroup,
    /// A web server.
    Instance,
    /// A web server registered in the target group.
    Target,
    /// The region's role the expiry schedules run under.
    ExpiryRole,
    /// The schedule group that holds the deployment's expiry schedules.
    ScheduleGroup,
    /// The schedule that deletes the load balancer.
    LbSchedule,
    /// The schedule that removes the web servers.
    ServersSchedule,
}

impl Kind {
    /// Every kind, in dependency order (cleanup goes in reverse).
    pub const ALL: [Kind; 19] = [
        Kind::KeyPair,
        Kind::LbGroup,
        Kind::WebGroup,
        Kind::TargetGroup,
        Kind::LoadBalancer,
        Kind::Bucket,
        Kind::Profile,
        Kind::Certificate,
        Kind::Distribution,
        Kind::DnsRecords,
        Kind::Listener,
        Kind::LaunchTemplate,
        Kind::AutoScalingGroup,
        Kind::Instance,
        Kind::Target,
        Kind::ExpiryRole,
        Kind::ScheduleGroup,
        Kind::LbSchedule,
        Kind::ServersSchedule,
    ];

    /// What every view calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::KeyPair => "key pair",
            Kind::Bucket => "bucket",
            Kind::Profile => "instance profile",
            Kind::LbGroup | Kind::WebGroup => "security group",
            Kind::TargetGroup => "target group",
            Kind::LoadBalancer => "load balancer",
            Kind::Listener => "listener",
            Kind::Distribution => "distribution",
            Kind::Certificate => "certificate",
            Kind::DnsRecords => "DNS records",
            Kind::LaunchTemplate => "launch template",
            Kind::AutoScalingGroup => "Auto Scaling group",
            Kind::Instance => "instance",
            Kind::Target => "target",
            Kind::ExpiryRole => "role",
            Kind::ScheduleGroup => "schedule group",
            Kind::LbSchedule | Kind::ServersSchedule => "schedule",
        }
    }

    /// What it needs before it can be made: its step in deploy's graph starts
    /// once these are done. The web servers need the load balancer because
    /// they go to the zones it was given (its creation returns them at once;
    /// it provisions while they boot).
    pub fn depends_on(self) -> &'static [Kind] {
        match self {
            Kind::KeyPair
            | Kind::Bucket
            | Kind::Profile
            | Kind::LbGroup
            | Kind::TargetGroup
            | Kind::ExpiryRole
            | Kind::ScheduleGroup
            | Kind::Certificate => &[],
            Kind::WebGroup | Kind::LoadBalancer => &[Kind::LbGroup],
            // With a domain, the distribution is made with its certificate
            // (CloudFront refuses an alias no issued certificate covers).
            Kind::Distribution => &[Kind::LoadBalancer, Kind::Certificate],
            Kind::DnsRecords => &[Kind::Distribution],
            // The listener is gated only once the distribution is deployed
            // (a live site's load balancer is never shut before it), and not
            // at all when the distribution cannot be made.
            Kind::Listener => &[Kind::LoadBalancer, Kind::TargetGroup, Kind::Distribution],
            // A web server fetches the content at boot, with the profile.
            Kind::LaunchTemplate => &[Kind::KeyPair, Kind::WebGroup, Kind::Bucket, Kind::Profile],
            Kind::AutoScalingGroup => {
                &[Kind::LaunchTemplate, Kind::TargetGroup, Kind::LoadBalancer]
            }
            Kind::Instance => &[
                Kind::KeyPair,
                Kind::WebGroup,
                Kind::LoadBalancer,
                Kind::Bucket,
                Kind::Profile,
            ],
            Kind::Target => &[Kind::Instance, Kind::AutoScalingGroup, Kind::TargetGroup],
            Kind::LbSchedule => &[Kind::LoadBalancer, Kind::ExpiryRole, Kind::ScheduleGroup],
            Kind::ServersSchedule => &[
                Kind::Instance,
                Kind::AutoScalingGroup,
                Kind::ExpiryRole,
                Kind::ScheduleGroup,
            ],
        }
    }

    /// The resource's name in every view.
    pub fn name(self, s: &Specs) -> String {
        match self {
            Kind::KeyPair => s.key.name.clone(),
            Kind::Bucket => s.bucket.bucket.clone(),
            Kind::Profile => s.profile.name.clone(),
            Kind::LbGroup => s.lb_group.name.clone(),
            Kind::WebGroup => s.web_group.name.clone(),
            Kind::TargetGroup => s.target_group.name.clone(),
            Kind::LoadBalancer => s.load_balancer.name.clone(),
            Kind::Listener => listener::NAME.to_string(),
            Kind::Distribution => s.distribution.name.clone(),
            Kind::Certificate => s.domain.cert_name.clone(),
            Kind::DnsRecords => s.domain.records_name.clone(),
            Kind::LaunchTemplate => s.template.name.clone(),
            Kind::AutoScalingGroup => s.fleet.name.clone(),
            Kind::Instance | Kind::Target => s.launch.name.clone(),
            Kind::ExpiryRole => s.expiry.role.clone(),
            Kind::ScheduleGroup => s.expiry.group.clone(),
            Kind::LbSchedule => s.expiry.lb_schedule.clone(),
            Kind::ServersSchedule => s.expiry.servers_schedule.clone(),
        }
    }
}

/// One resource as every view shows it: status, `--plan`, deploy's summary and
/// cleanup's report print the same rows for the same deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Kind, e.g. "security group".
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// AWS id or ARN (empty when it does not exist yet: `null` in JSON).
    #[serde(serialize_with = "crate::output::empty_as_null")]
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

    /// The row with this detail.
    pub fn detail(mut self, d: impl Into<String>) -> Row {
        self.detail = d.into();
        self
    }

    /// The id as a table shows it: an ARN shortened to its resource part.
    pub fn short_id(&self) -> &str {
        self.id.rsplit(':').next().unwrap_or(&self.id)
    }
}

/// One row of the decision: the resource and what deploy does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Which kind.
    pub kind: Kind,
    /// The resource (the detail says what changes).
    pub row: Row,
    /// What deploy does.
    pub verb: Verb,
}

/// What deploy does with the web servers (one value per run: its variants'
/// sizes do not matter).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Servers {
    /// `count = 1`: one instance.
    Single {
        /// The instance: kept, started, retagged or launched; the others go
        /// once it is proven.
        single: instance::Single,
        /// It is not registered in the target group yet.
        register: bool,
        /// A launch template of an earlier `count > 1`, deleted once the
        /// instance serves.
        old_template: Option<LaunchTemplate>,
        /// Its Auto Scaling group, deleted (with its instances) likewise.
        old_group: Option<Group>,
    },
    /// `count > 1`: the Auto Scaling group.
    Fleet {
        /// The launch template.
        template: launchtemplate::Action,
        /// The group.
        group: autoscaling::Action,
        /// The group's members kept, and their tag changes.
        members: Vec<(Instance, TagDrift)>,
        /// Members retired: rolled out (once the new ones are proven) or
        /// beyond a smaller `count`.
        rolled: Vec<Instance>,
        /// Single instances of an earlier `count = 1`: they go once the group
        /// serves.
        singles: Vec<Instance>,
    },
}

/// What deploy does with every resource: each kind's typed action.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The key pair.
    pub key: keypair::Action,
    /// The bucket and the content (`[site]`).
    pub bucket: bucket::Action,
    /// The instance profile (`[site]`).
    pub profile: profile::Action,
    /// The load balancer's group.
    pub lb_group: secgroup::Action,
    /// The web group.
    pub web_group: secgroup::Action,
    /// The target group.
    pub target_group: targetgroup::Action,
    /// The load balancer.
    pub load_balancer: loadbalancer::Action,
    /// The listener.
    pub listener: listener::Action,
    /// The CloudFront distribution.
    pub distribution: distribution::Action,
    /// The value of the distribution's header (and the listener's gate): the
    /// distribution's own, or a new one.
    pub secret: distribution::Secret,
    /// The domain's certificate and records (`[https] domain`).
    pub domain: domain::Action,
    /// The web servers.
    pub servers: Servers,
    /// The expiry's role, group and schedules.
    pub expiry: expiry::Decision,
}

/// Decides what deploy does with each resource, from what was observed (with
/// [`crate::observe::Purpose::Deploy`]) and the time now (the expiry counts
/// from it). Pure.
pub fn decide(s: &Specs, o: &Observed, now: DateTime<Utc>) -> Decision {
    let vpc = o.vpc.as_deref().unwrap_or_default();
    let ssh = o
        .ssh_cidr
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(String::as_str);
    let lb_group_id = o.lb_group.ours().map(|g| g.group.id.as_str());
    let web_rules = secgroup::web_rules(lb_group_id, ssh);
    let candidates = o
        .places
        .as_ref()
        .map(|p| p.lb_candidates())
        .unwrap_or_default();
    let load_balancer = loadbalancer::decide(&s.load_balancer, &o.load_balancer, vpc, &candidates);
    let secret = o
        .distribution
        .ours()
        .and_then(|d| d.secret.clone())
        .unwrap_or_else(|| o.spare_secret.clone());
    let domain = domain::decide(&s.domain, &o.domain, o.distribution.ours());
    let listener = match &load_balancer {
        loadbalancer::Action::Stop(why) => listener::Action::Stop(why.clone()),
        _ => listener::decide(
            &s.listener,
            o.load_balancer.ours().map(|_| o.listeners.as_slice()),
            o.target_group.ours().map(|t| t.arn.as_str()),
            &secret,
        ),
    };
    Decision {
        key: keypair::decide(&s.key, &o.key, &o.local_key),
        bucket: bucket::decide(&s.bucket, &o.bucket),
        profile: profile::decide(&s.profile, &o.profile),
        lb_group: secgroup::decide(
            &s.lb_group,
            &o.lb_group,
            vpc,
            &secgroup::gated_lb_rules(&s.lb_rules, o.cloudfront_list.as_deref()),
        ),
        web_group: secgroup::decide(&s.web_group, &o.web_group, vpc, &web_rules),
        target_group: targetgroup::decide(&s.target_group, &o.target_group, vpc),
        distribution: distribution::decide(
            &s.distribution,
            &o.distribution,
            match &load_balancer {
                loadbalancer::Action::Create(_) => None,
                _ => o.load_balancer.ours().map(|l| l.dns_name.as_str()),
            },
            domain.cert.kept().map(|c| c.arn.as_str()),
        ),
        domain,
        load_balancer,
        listener,
        secret,
        servers: match s.count {
            1 => decide_single(s, o),
            _ => decide_fleet(s, o),
        },
        expiry: expiry::decide(&s.expiry, &o.expiry, now),
    }
}

fn decide_single(s: &Specs, o: &Observed) -> Servers {
    let single = instance::decide(&s.launch, &o.instances, o.image.as_ref());
    let registered = single
        .current
        .as_ref()
        .is_some_and(|c| o.targets.iter().any(|t| t.id == c.id));
    Servers::Single {
        register: !registered && !matches!(single.action, instance::Action::Stop(_)),
        single,
        old_template: o.launch_template.ours().cloned(),
        old_group: o.fleet.ours().cloned(),
    }
}

fn decide_fleet(s: &Specs, o: &Observed) -> Servers {
    let template = launchtemplate::decide(&s.template, &o.launch_template, o.image.as_ref());
    // The version the group should run: the template's default, unless a new
    // one is made (or the template itself).
    let version = match &template {
        launchtemplate::Action::Keep | launchtemplate::Action::Retag(_) => {
            o.launch_template.ours().map(|t| t.version.to_string())
        }
        _ => None,
    };
    let tg = o.target_group.ours().map(|t| t.arn.as_str());
    let group = autoscaling::decide(&s.fleet, &o.fleet, version.as_deref(), tg);
    let rolled_ids: Vec<String> = match &group {
        autoscaling::Action::Update(c) => c.roll.iter().chain(&c.shrink).cloned().collect(),
        _ => Vec::new(),
    };
    let member = |id: &str| o.instances.iter().find(|i| i.id == id);
    let ids: Vec<&str> = o
        .fleet
        .ours()
        .map(|g| g.members.iter().map(|m| m.id.as_str()).collect())
        .unwrap_or_default();
    let rolled = ids
        .iter()
        .filter(|id| rolled_ids.iter().any(|r| r == *id))
        .filter_map(|id| member(id).cloned())
        .collect();
    let members = ids
        .iter()
        .filter(|id| !rolled_ids.iter().any(|r| r == *id))
        .filter_map(|id| member(id))
        .map(|i| (i.clone(), s.launch.owner.drift(&i.tags)))
        .collect();
    Servers::Fleet {
        template,
        group,
        members,
        rolled,
        singles: o.singles(s).into_iter().cloned().collect(),
    }
}

/// The ids of what deploy made or kept, by kind (what only becomes known
/// while applying), for the summary's rows.
pub type Ids = BTreeMap<Kind, String>;

impl Decision {
    /// Why deploy must stop before creating anything, if it must.
    pub fn stops(&self, s: &Specs, o: &Observed) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self.rows(s, o, &Ids::new()) {
            if p.verb == Verb::Stop && !out.contains(&p.row.detail) {
                out.push(p.row.detail);
            }
        }
        out
    }

    /// Whether a web server is launched from the template: a new instance,
    /// or a new launch template (version).
    pub fn launches(&self) -> bool {
        match &self.servers {
            Servers::Single { single, .. } => {
                matches!(single.action, instance::Action::Launch(_))
            }
            Servers::Fleet { template, .. } => matches!(
                template,
                launchtemplate::Action::Create(_) | launchtemplate::Action::NewVersion(..)
            ),
        }
    }

    /// The rows: one per resource the decision touches or keeps, in table
    /// order; `ids` fills in what was made after applying.
    pub fn rows(&self, s: &Specs, o: &Observed, ids: &Ids) -> Vec<Planned> {
        let group_id =
            |g: &crate::resources::Seen<secgroup::GroupState>| g.ours().map(|g| g.group.id.clone());
        let tg = o.target_group.ours();
        let listener = self.listener.kept().map(str::to_string).or_else(|| {
            let on_port = o.listeners.iter().find(|l| l.port == s.listener.port);
            on_port.map(|l| l.arn.clone())
        });
        let simple = [
            (
                Kind::KeyPair,
                o.key.ours().map(|k| k.id.clone()),
                self.key.verb(),
                self.key.detail(&s.key),
            ),
            (
                Kind::LbGroup,
                group_id(&o.lb_group),
                self.lb_group.verb(),
                self.lb_group.detail(),
            ),
            (
                Kind::WebGroup,
                group_id(&o.web_group),
                self.web_group.verb(),
                self.web_group.detail(),
            ),
            (
                Kind::TargetGroup,
                tg.map(|t| t.arn.clone()),
                self.target_group.verb(),
                self.target_group.detail(&s.target_group, tg),
            ),
            (
                Kind::LoadBalancer,
                o.load_balancer.ours().map(|l| l.arn.clone()),
                self.load_balancer.verb(),
                self.load_balancer.detail(&s.load_balancer),
            ),
        ];
        let listener_row = (
            Kind::Listener,
            listener,
            self.listener.verb(),
            self.listener.detail(&s.listener),
        );
        let mut out: Vec<Planned> = simple
            .into_iter()
            .map(|(kind, id, verb, detail)| {
                let id = ids.get(&kind).cloned().or(id).unwrap_or_default();
                Planned {
                    kind,
                    row: Row::new(kind, kind.name(s), id).detail(detail),
                    verb,
                }
            })
            .collect();
        let mut add = |kind: Kind, seen: Option<String>, verb: Verb, detail: String| {
            let id = ids.get(&kind).cloned().or(seen).unwrap_or_default();
            out.push(Planned {
                kind,
                row: Row::new(kind, kind.name(s), id).detail(detail),
                verb,
            });
        };
        if let Some(verb) = self.bucket.verb() {
            let detail = self.bucket.detail(&s.bucket);
            add(
                Kind::Bucket,
                o.bucket.ours().map(|_| s.bucket.bucket.clone()),
                verb,
                detail,
            );
        }
        if let Some(verb) = self.profile.verb() {
            let seen = o.profile.ours().map(|p| p.arn.clone());
            add(Kind::Profile, seen, verb, self.profile.detail());
        }
        let (dom, found) = (&self.domain, &o.domain);
        if dom.cert != domain::Cert::None {
            let seen = dom.cert.kept().map(|c| c.arn.clone());
            let detail = dom.cert.detail(&s.domain, found);
            add(Kind::Certificate, seen, dom.cert.verb(), detail);
        }
        if self.distribution != distribution::Action::None {
            let seen = o.distribution.ours().map(|d| d.id.clone());
            let (verb, detail) = (self.distribution.verb(), self.distribution.detail());
            add(Kind::Distribution, seen, verb, detail);
        }
        if dom.dns != domain::Dns::None {
            let seen = found.zone.as_ref().map(|z| z.id.clone());
            let detail = dom.dns.detail(&s.domain, found);
            add(Kind::DnsRecords, seen, dom.dns.verb(), detail);
        }
        for r in &dom.old {
            let detail = format!("the domain changed: {}", r.describe());
            out.push(Planned {
                kind: Kind::DnsRecords,
                row: Row::new(Kind::DnsRecords, &s.domain.records_name, &r.zone.id).detail(detail),
                verb: Verb::Delete,
            });
        }
        for c in &dom.stale {
            let detail = format!("no longer used ({} {})", c.domain, c.status.to_lowercase());
            out.push(Planned {
                kind: Kind::Certificate,
                row: Row::new(Kind::Certificate, &s.domain.cert_name, &c.arn).detail(detail),
                verb: Verb::Delete,
            });
        }
        let (kind, id, verb, detail) = listener_row;
        let id = ids.get(&kind).cloned().or(id).unwrap_or_default();
        out.push(Planned {
            kind,
            row: Row::new(kind, kind.name(s), id).detail(detail),
            verb,
        });
        self.server_rows(s, o, ids, &mut out);
        self.expiry_rows(s, ids, &mut out);
        out
    }

    fn server_rows(&self, s: &Specs, o: &Observed, ids: &Ids, out: &mut Vec<Planned>) {
        let row = |kind: Kind, id: &str, verb: Verb, detail: String| Planned {
            kind,
            row: Row::new(kind, kind.name(s), id).detail(detail),
            verb,
        };
        let known = |kind: Kind, id: Option<&str>| -> String {
            ids.get(&kind)
                .cloned()
                .or(id.map(str::to_string))
                .unwrap_or_default()
        };
        match &self.servers {
            Servers::Single {
                single,
                register,
                old_template,
                old_group,
            } => {
                if let Some(lt) = old_template {
                    let d = launchtemplate::Action::Delete.detail(&s.template, None, &[]);
                    out.push(row(Kind::LaunchTemplate, &lt.id, Verb::Delete, d));
                }
                if let Some(g) = old_group {
                    let d = autoscaling::Action::Delete.detail(&s.fleet, None, 0, "");
                    out.push(row(Kind::AutoScalingGroup, &g.name, Verb::Delete, d));
                }
                let current = single.current.as_ref().map(|c| c.id.as_str());
                let id = known(Kind::Instance, current);
                out.push(row(
                    Kind::Instance,
                    &id,
                    single.verb(),
                    single.detail(&s.launch),
                ));
                let (verb, detail) = match register {
                    true => (Verb::Create, format!("register in {}", s.target_group.name)),
                    false => (Verb::Keep, health_of(o, &id)),
                };
                out.push(row(Kind::Target, &id, verb, detail));
            }
            Servers::Fleet {
                template,
                group,
                members,
                rolled,
                singles,
            } => {
                let lt = o.launch_template.ours();
                let running: Vec<Instance> = rolled.clone();
                let id = known(Kind::LaunchTemplate, lt.map(|l| l.id.as_str()));
                let d = template.detail(&s.template, lt, &running);
                out.push(row(Kind::LaunchTemplate, &id, template.verb(), d));
                let g = o.fleet.ours();
                let zones = s.load_balancer.zones;
                let d = group.detail(&s.fleet, g, zones, &s.launch.instance_type);
                out.push(row(Kind::AutoScalingGroup, &s.fleet.name, group.verb(), d));
                for (i, drift) in members {
                    let d = match drift.is_empty() {
                        true => format!("{} in {}", i.state.as_str(), i.zone),
                        false => drift.describe().join("; "),
                    };
                    out.push(row(
                        Kind::Instance,
                        &i.id,
                        Verb::keep_or_update(!drift.is_empty()),
                        d,
                    ));
                    let d = match o.targets.iter().any(|t| t.id == i.id) {
                        true => health_of(o, &i.id),
                        false => format!("registered by {}", s.fleet.name),
                    };
                    out.push(row(Kind::Target, &i.id, Verb::Keep, d));
                }
                // What the group launches: known by id only once it did.
                for _ in 0..group.launches(&s.fleet, g) {
                    let d = format!("launched by {}", s.fleet.name);
                    out.push(row(Kind::Instance, "", Verb::Create, d));
                    let d = format!("registered by {}", s.fleet.name);
                    out.push(row(Kind::Target, "", Verb::Create, d));
                }
                let shrunk = |id: &str| match group {
                    autoscaling::Action::Update(c) => c.shrink.iter().any(|x| x == id),
                    _ => false,
                };
                for i in rolled {
                    let d = match shrunk(&i.id) {
                        true => format!("count = {}: the group keeps {}", s.count, s.count),
                        false => "the new template's instances take its place".to_string(),
                    };
                    out.push(row(Kind::Instance, &i.id, Verb::Delete, d));
                    let d = format!("deregistered from {}", s.target_group.name);
                    out.push(row(Kind::Target, &i.id, Verb::Delete, d));
                }
                for i in singles {
                    let d = format!("{} takes its place", s.fleet.name);
                    out.push(row(Kind::Instance, &i.id, Verb::Delete, d));
                    if o.targets.iter().any(|t| t.id == i.id) {
                        let d = format!("deregistered from {}", s.target_group.name);
                        out.push(row(Kind::Target, &i.id, Verb::Delete, d));
                    }
                }
            }
        }
    }

    fn expiry_rows(&self, s: &Specs, ids: &Ids, out: &mut Vec<Planned>) {
        let e = &self.expiry;
        let at = e.at.map(|t| format!("at {}", expiry::when(t)));
        let parts = [
            (Kind::ExpiryRole, &e.role, String::new()),
            (Kind::ScheduleGroup, &e.group, String::new()),
            (Kind::LbSchedule, &e.lb, at.clone().unwrap_or_default()),
            (Kind::ServersSchedule, &e.servers, at.unwrap_or_default()),
        ];
        for (kind, action, detail) in parts {
            let Some(verb) = action.verb() else { continue };
            let id = ids
                .get(&kind)
                .cloned()
                .unwrap_or_else(|| match (verb, kind) {
                    (Verb::Create, _) => String::new(),
                    (_, Kind::ExpiryRole) => s.expiry.role_arn.clone(),
                    _ => kind.name(s),
                });
            let detail = match (kind, verb) {
                (Kind::ExpiryRole, Verb::Create) => "made once per region".to_string(),
                (Kind::ExpiryRole, Verb::Update) => "its policy put back".to_string(),
                (_, Verb::Delete) => "expires_after = \"off\"".to_string(),
                _ => detail,
            };
            out.push(Planned {
                kind,
                row: Row::new(kind, kind.name(s), id).detail(detail),
                verb,
            });
        }
    }
}

fn health_of(o: &Observed, id: &str) -> String {
    o.targets
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.state.as_str().to_string())
        .unwrap_or_default()
}

/// What exists, as rows in table order (status, `cleanup --plan`, the
/// Ctrl-C report).
pub fn existing(s: &Specs, o: &Observed) -> Vec<Row> {
    existing_by_kind(s, o).into_iter().map(|(_, r)| r).collect()
}

/// [`existing`] with each row's kind (cleanup's report).
pub fn existing_by_kind(s: &Specs, o: &Observed) -> Vec<(Kind, Row)> {
    let mut rows = Vec::new();
    let mut add = |k: Kind, name: &str, id: &str, detail: String| {
        rows.push((k, Row::new(k, name, id).detail(detail)));
    };
    if let Some(k) = o.key.ours() {
        add(Kind::KeyPair, &k.name, &k.id, String::new());
    }
    // The region's shared bucket is this deployment's to show when its
    // content is there or wanted.
    let shown = o
        .bucket
        .ours()
        .filter(|b| !b.keys.is_empty() || !b.retired.is_empty() || s.bucket.content.is_some());
    if let Some(b) = shown {
        let d = format!(
            "{} object(s) under {}, {} retired (shared by the region's deployments)",
            b.keys.len(),
            s.bucket.prefix,
            b.retired.len()
        );
        add(Kind::Bucket, &s.bucket.bucket, &s.bucket.bucket, d);
    }
    if let Some(p) = o.profile.ours() {
        let d = p.missing().join(", ");
        add(Kind::Profile, &s.profile.name, &p.arn, d);
    }
    for (kind, g) in [(Kind::LbGroup, &o.lb_group), (Kind::WebGroup, &o.web_group)] {
        if let Some(g) = g.ours() {
            add(kind, &g.group.name, &g.group.id, String::new());
        }
    }
    if let Some(t) = o.target_group.ours() {
        let d = format!("health check {}", t.health_check_path);
        add(Kind::TargetGroup, &t.name, &t.arn, d);
    }
    if let Some(l) = o.load_balancer.ours() {
        let d = format!("{} {}", l.state.as_str(), l.dns_name);
        add(Kind::LoadBalancer, &l.name, &l.arn, d);
    }
    for c in &o.domain.certificates {
        let detail = format!("{} {}", c.domain, c.status.to_lowercase());
        add(Kind::Certificate, &s.domain.cert_name, &c.arn, detail);
    }
    if let Some(d) = o.distribution.ours() {
        let detail = format!("{} {}", d.state(), d.url());
        add(Kind::Distribution, &s.distribution.name, &d.id, detail);
    }
    let cdn = o.distribution.ours().map(|d| d.domain.as_str());
    for r in o.domain.ours(cdn) {
        add(
            Kind::DnsRecords,
            &s.domain.records_name,
            &r.zone.id,
            r.describe(),
        );
    }
    for l in &o.listeners {
        let to = l
            .forwards_to
            .as_deref()
            .map(|a| a.rsplit(':').next().unwrap_or(a));
        let d = format!("port {} -> {}", l.port, to.unwrap_or("nothing"));
        add(Kind::Listener, listener::NAME, &l.arn, d);
    }
    if let Some(lt) = o.launch_template.ours() {
        add(
            Kind::LaunchTemplate,
            &lt.name,
            &lt.id,
            format!("version {}", lt.version),
        );
    }
    if let Some(g) = o.fleet.ours() {
        let d = format!("{} instances, {} wanted", g.members.len(), g.desired);
        add(Kind::AutoScalingGroup, &g.name, &g.name, d);
    }
    let name = |i: &Instance| {
        i.name_tag()
            .map(str::to_string)
            .unwrap_or(s.launch.name.clone())
    };
    for i in &o.instances {
        let d = format!("{} in {}", i.state.as_str(), i.zone);
        add(Kind::Instance, &name(i), &i.id, d);
    }
    for t in &o.targets {
        let n = o.instances.iter().find(|i| i.id == t.id).map(name);
        let n = n.unwrap_or(s.launch.name.clone());
        add(Kind::Target, &n, &t.id, t.state.as_str().to_string());
    }
    let e = &o.expiry;
    if e.role != expiry::RoleState::Missing {
        let role = &s.expiry.role;
        add(
            Kind::ExpiryRole,
            role,
            &s.expiry.role_arn,
            "shared by the region's deployments".into(),
        );
    }
    if e.group != expiry::GroupState::Absent {
        let d = match e.group {
            expiry::GroupState::Deleting => "being deleted",
            _ => "",
        };
        let group = &s.expiry.group;
        add(Kind::ScheduleGroup, group, group, d.to_string());
    }
    for (kind, found) in [
        (Kind::LbSchedule, &e.lb),
        (Kind::ServersSchedule, &e.servers),
    ] {
        if let Some(sched) = found {
            let d = format!("at {}", expiry::when(sched.at));
            add(kind, &kind.name(s), &kind.name(s), d);
        }
    }
    rows
}

/// `8h`, `30m`, `2d` as deploy.toml writes them.
pub fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86400) {
        format!("{}d", s / 86400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else {
        format!("{}m", s / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::distribution::Distribution;
    use crate::resources::instance::{Image, State};
    use crate::resources::keypair::{KeyPair, Local};
    use crate::resources::listener::Listener;
    use crate::resources::loadbalancer::{LoadBalancer, State as LbState};
    use crate::resources::network::{Places, Subnet, Zone};
    use crate::resources::secgroup::{Group, GroupState, Rule};
    use crate::resources::targetgroup::{Health, TargetGroup, TargetHealthStateEnum};
    use crate::resources::Seen;

    fn specs(extra: &str) -> Specs {
        let plan = crate::plan::test_plan("t", extra);
        let who = crate::aws::Identity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/me".into(),
            credentials: "test".into(),
        };
        Specs::new(&plan, "us-east-1", &who, false)
    }

    fn places() -> Places {
        Places {
            subnets: ["a", "b"]
                .iter()
                .map(|z| Subnet {
                    zone: format!("us-east-1{z}"),
                    id: format!("subnet-{z}"),
                    maps_public_ip: true,
                })
                .collect(),
            offered: vec!["us-east-1a".into(), "us-east-1b".into()],
        }
    }

    /// An account where nothing of the deployment exists.
    fn nothing() -> Observed {
        Observed {
            key: Seen::Absent,
            bucket: Seen::Absent,
            profile: Seen::Absent,
            local_key: Local::Missing,
            lb_group: Seen::Absent,
            web_group: Seen::Absent,
            target_group: Seen::Absent,
            targets: Vec::new(),
            load_balancer: Seen::Absent,
            listeners: Vec::new(),
            instances: Vec::new(),
            launch_template: Seen::Absent,
            fleet: Seen::Absent,
            distribution: Seen::Absent,
            domain: Default::default(),
            spare_secret: crate::resources::distribution::Secret::random(),
            cloudfront_list: None,
            expiry: expiry::Found {
                role: expiry::RoleState::Missing,
                group: expiry::GroupState::Absent,
                lb: None,
                servers: None,
            },
            vpc: Some("vpc-1".into()),
            ssh_cidr: Some(Ok("203.0.113.7/32".into())),
            image: Some(Image {
                id: "ami-1".into(),
                name: "al2023".into(),
                root_device: "/dev/xvda".into(),
            }),
            places: Some(places()),
            errors: Vec::new(),
        }
    }

    fn group(s: &Specs, name: &str, id: &str, rules: Vec<Rule>) -> Seen<GroupState> {
        Seen::Ours(GroupState {
            group: Group {
                id: id.into(),
                name: name.into(),
            },
            vpc_id: "vpc-1".into(),
            rules,
            tags: s.launch.owner.owned(),
        })
    }

    /// Everything as a deploy of `s` leaves it.
    fn deployed(s: &Specs) -> Observed {
        let owned = s.launch.owner.owned();
        let mut tags = owned.clone();
        tags.extend(
            s.launch
                .instance_tags()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let secret = crate::resources::distribution::Secret::random();
        let schedule = Some(expiry::Schedule {
            at: chrono::Utc::now(),
            role_arn: s.expiry.role_arn.clone(),
        });
        Observed {
            key: Seen::Ours(KeyPair {
                name: s.key.name.clone(),
                id: "key-1".into(),
                fingerprint: "x".into(),
                tags: owned.clone(),
            }),
            local_key: Local::Other,
            lb_group: group(
                s,
                &s.lb_group.name,
                "sg-lb",
                secgroup::gated_lb_rules(&s.lb_rules, Some("pl-cf")),
            ),
            web_group: group(
                s,
                &s.web_group.name,
                "sg-web",
                secgroup::web_rules(Some("sg-lb"), Some("203.0.113.7/32")),
            ),
            target_group: Seen::Ours(TargetGroup {
                arn: "arn:tg".into(),
                name: s.target_group.name.clone(),
                health_check_path: s.target_group.health_check_path.clone(),
                vpc_id: "vpc-1".into(),
                tags: owned.clone(),
            }),
            targets: vec![Health {
                id: "i-1".into(),
                state: TargetHealthStateEnum::Healthy,
                reason: None,
                description: None,
            }],
            load_balancer: Seen::Ours(LoadBalancer {
                arn: "arn:lb".into(),
                name: s.load_balancer.name.clone(),
                dns_name: "lb.example".into(),
                state: LbState::Active,
                zones: vec![Zone {
                    name: "us-east-1a".into(),
                    subnet: "subnet-a".into(),
                }],
                vpc_id: "vpc-1".into(),
                tags: owned.clone(),
                created: None,
            }),
            listeners: vec![Listener {
                arn: "arn:listener".into(),
                port: s.listener.port,
                forwards_to: None,
                denies: true,
                gate: Some(listener::Gate {
                    arn: "arn:rule".into(),
                    values: vec![secret.expose().to_string()],
                    forwards_to: Some("arn:tg".into()),
                }),
                tags: owned.clone(),
            }],
            instances: vec![Instance {
                id: "i-1".into(),
                state: State::Running,
                public_ip: None,
                fingerprint: Some(s.launch.fingerprint.clone()),
                zone: "us-east-1a".into(),
                tags,
                launched: None,
                instance_type: "t3.micro".into(),
                state_reason: None,
                template: Some(s.launch.template.clone()),
            }],
            distribution: Seen::Ours(Distribution {
                id: "E1".into(),
                arn: "arn:aws:cloudfront::123456789012:distribution/E1".into(),
                domain: "d1.cloudfront.net".into(),
                deployed: true,
                enabled: true,
                origin: "lb.example".into(),
                port: s.listener.port,
                secret: Some(secret),
                aliases: Vec::new(),
                certificate: None,
                etag: "E1TAG".into(),
                tags: owned.clone(),
            }),
            cloudfront_list: Some("pl-cf".into()),
            expiry: expiry::Found {
                role: expiry::RoleState::Ready,
                group: expiry::GroupState::Active,
                lb: schedule.clone(),
                servers: schedule,
            },
            image: None,
            places: None,
            ..nothing()
        }
    }

    fn verbs(d: &Decision, s: &Specs, o: &Observed) -> Vec<(Kind, Verb)> {
        d.rows(s, o, &Ids::new())
            .into_iter()
            .map(|p| (p.kind, p.verb))
            .collect()
    }

    #[test]
    fn an_empty_account_creates_every_kind_in_dependency_order() {
        let s = specs("[https]\nenabled = true\ndomain = \"www.example.com\"\n");
        let mut o = nothing();
        o.domain.domain = Some("www.example.com".into());
        o.domain.zone = Some(crate::resources::domain::Zone {
            id: "Z1".into(),
            name: "example.com".into(),
        });
        let d = decide(&s, &o, chrono::Utc::now());
        let rows = verbs(&d, &s, &o);
        let kinds: Vec<Kind> = rows.iter().map(|(k, _)| *k).collect();
        let single: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| {
                !matches!(
                    k,
                    Kind::LaunchTemplate | Kind::AutoScalingGroup | Kind::Bucket | Kind::Profile
                )
            })
            .collect();
        assert_eq!(kinds, single);
        for (i, k) in kinds.iter().enumerate() {
            for dep in k.depends_on().iter().filter(|d| kinds.contains(d)) {
                assert!(kinds[..i].contains(dep), "{k:?} before {dep:?}");
            }
        }
        assert!(rows.iter().all(|(_, v)| *v == Verb::Create), "{rows:?}");
    }

    #[test]
    fn a_deployed_stack_is_kept_and_only_the_expiry_moves() {
        let s = specs("");
        let o = deployed(&s);
        let d = decide(&s, &o, chrono::Utc::now());
        for (kind, verb) in verbs(&d, &s, &o) {
            let want = match kind {
                Kind::LbSchedule | Kind::ServersSchedule => Verb::Update,
                _ => Verb::Keep,
            };
            assert_eq!(verb, want, "{kind:?}");
        }
        assert!(d.stops(&s, &o).is_empty());
    }

    #[test]
    fn drift_is_an_update_that_says_what_differs() {
        let s = specs(
            "[load_balancer]\nport = 8080\nhealth_check_path = \"/ok\"\n[tags]\nOwner = \"ann\"",
        );
        let mut o = deployed(&specs("[tags]\nProject = \"x\""));
        // A rule a person added by hand to the lb group.
        if let Seen::Ours(g) = &mut o.lb_group {
            g.rules.push(Rule::Cidr {
                port: 22,
                cidr: "192.0.2.0/24".into(),
                description: "bastion".into(),
            });
        }
        let d = decide(&s, &o, chrono::Utc::now());
        let rows = d.rows(&s, &o, &Ids::new());
        let row = |k: Kind| rows.iter().find(|p| p.kind == k).unwrap();
        let lb_sg = &row(Kind::LbGroup).row.detail;
        for part in [
            "allow tcp 8080 from pl-cf (CloudFront)",
            "revoke tcp 80 from pl-cf (CloudFront)",
            "tag Owner=ann",
            "untag Project",
            "kept (added by hand): tcp 22 from 192.0.2.0/24",
        ] {
            assert!(lb_sg.contains(part), "{part} not in {lb_sg}");
        }
        assert_eq!(
            row(Kind::TargetGroup).row.detail,
            "health check / -> /ok; tag Owner=ann; untag Project"
        );
        assert!(row(Kind::Listener)
            .row
            .detail
            .starts_with("port 80 -> 8080"));
        // Same fingerprint (the test user data has no tags in it): retagged.
        assert_eq!(row(Kind::Instance).verb, Verb::Update);
    }

    #[test]
    fn foreign_resources_a_mismatched_key_and_another_vpc_stop_deploy() {
        let s = specs("");
        let mut o = deployed(&s);
        o.load_balancer = Seen::Foreign("not ours".into());
        o.local_key = Local::Missing;
        o.vpc = Some("vpc-2".into());
        let d = decide(&s, &o, chrono::Utc::now());
        let stops = d.stops(&s, &o);
        assert!(stops.iter().any(|w| w.contains("not here")), "{stops:?}");
        assert!(stops.iter().any(|w| w == "not ours"), "{stops:?}");
        // The groups and the target group live in vpc-1: deploy does not
        // make new ones in vpc-2 beside them.
        assert!(
            stops
                .iter()
                .any(|w| w.contains("t-lb-sg lives in vpc-1") && w.contains("vpc-2")),
            "{stops:?}"
        );
    }

    #[test]
    fn an_earlier_templates_instance_is_replaced_and_a_stopped_one_started() {
        let s = specs("");
        let mut o = deployed(&s);
        o.instances[0].fingerprint = Some("old".into());
        o.instances[0].template = Some("2121_wave_cafe".into());
        o.image = Some(nothing().image.unwrap());
        let d = decide(&s, &o, chrono::Utc::now());
        let rows = d.rows(&s, &o, &Ids::new());
        let inst = rows.iter().find(|p| p.kind == Kind::Instance).unwrap();
        assert_eq!(inst.verb, Verb::Replace);
        assert_eq!(
            inst.row.detail,
            format!(
                "template 2121_wave_cafe -> {}: t3.micro takes the place of i-1; t3.micro from ami-1",
                s.launch.template
            )
        );
        let target = rows.iter().find(|p| p.kind == Kind::Target).unwrap();
        assert_eq!(target.verb, Verb::Create, "the new instance is registered");

        let mut o = deployed(&s);
        o.instances[0].state = State::Stopped;
        let d = decide(&s, &o, chrono::Utc::now());
        let inst = d.rows(&s, &o, &Ids::new());
        let inst = inst.iter().find(|p| p.kind == Kind::Instance).unwrap();
        assert_eq!(inst.verb, Verb::Update);
        assert_eq!(inst.row.detail, "i-1 is stopped: start it");
    }
}
