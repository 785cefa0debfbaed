//! What exists of a deployment, read once with this tool's tags and names:
//! the one observation every command works from (deploy and `--plan` decide
//! on it, status prints it, cleanup deletes what it lists).
//!
//! ```text
//! round 1, at once: key pair | both security groups (one call) | instances
//!                   | target group | load balancer | the expiry
//!                   | the CloudFront distribution (by its comment, then tags)
//!                   | (deploy, [https]) CloudFront's managed prefix list
//!                   | (count > 1) launch template | Auto Scaling group
//!                   | (deploy) VPC | public IP | the local .pem
//!                   | the content bucket | the instance profile
//! round 2, at once: the target group's targets | the load balancer's listeners
//!                   | (an instance a group launched) launch template | group
//!                   | (deploy, something to launch) image | (deploy, something
//!                     to place in a zone) subnets and the zones offering the type
//!                   | ([https] domain, or the distribution's) certificates,
//!                     hosted zone, then the records at the domain
//! round 3:          the tags of the target group, load balancer and listeners
//!                   (one call)
//! ```

use anyhow::Result;

use crate::aws::Ctx;
use crate::resources::autoscaling::Group;
use crate::resources::distribution::{self, Distribution};
use crate::resources::instance::{self, Image, Instance};
use crate::resources::keypair::{self, KeyPair, Local};
use crate::resources::launchtemplate::{self, LaunchTemplate};
use crate::resources::listener::{self, Listener};
use crate::resources::loadbalancer::{self, LoadBalancer};
use crate::resources::network::{self, Places};
use crate::resources::secgroup::{self, GroupState};
use crate::resources::targetgroup::{self, Health, TargetGroup};
use crate::resources::{autoscaling, bucket, domain, expiry, profile, publicip, Seen};
use crate::spec::Specs;

/// Who observes: deploy (and its `--plan`) read the local key, the network,
/// the deployer's address and, when something is to be made, the image and
/// placement; the views read AWS only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// deploy and `deploy --plan`.
    Deploy,
    /// status, cleanup, the Ctrl-C report.
    View,
}

/// What exists of the deployment.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The key pair.
    pub key: Seen<KeyPair>,
    /// The region's content bucket and this deployment's objects in it.
    pub bucket: Seen<bucket::Found>,
    /// The web servers' instance profile (`[site]`).
    pub profile: Seen<profile::Found>,
    /// The local .pem (deploy only).
    pub local_key: Local,
    /// The load balancer's group.
    pub lb_group: Seen<GroupState>,
    /// The web group.
    pub web_group: Seen<GroupState>,
    /// The target group.
    pub target_group: Seen<TargetGroup>,
    /// Its targets and their health.
    pub targets: Vec<Health>,
    /// The load balancer.
    pub load_balancer: Seen<LoadBalancer>,
    /// Its listeners.
    pub listeners: Vec<Listener>,
    /// Every web server not terminated, oldest first (a group's too).
    pub instances: Vec<Instance>,
    /// The launch template.
    pub launch_template: Seen<LaunchTemplate>,
    /// The Auto Scaling group.
    pub fleet: Seen<Group>,
    /// The expiry's role, group and schedules.
    pub expiry: expiry::Found,
    /// The CloudFront distribution.
    pub distribution: Seen<Distribution>,
    /// The domain's certificates, zone and records (`[https] domain`, or the
    /// one the distribution answers on).
    pub domain: domain::Found,
    /// CloudFront's managed prefix list's id (deploy, `[https]`).
    pub cloudfront_list: Option<String>,
    /// A new secret for the distribution's header, should it need one (drawn
    /// here, so that deciding stays pure).
    pub spare_secret: distribution::Secret,
    /// The VPC deploy.toml asks for (deploy only).
    pub vpc: Option<String>,
    /// The SSH rule's source, or why it could not be detected (deploy only).
    pub ssh_cidr: Option<std::result::Result<String, String>>,
    /// The image a launch would use (deploy, when something is to launch).
    pub image: Option<Image>,
    /// Where new things may go (deploy, when something is to be placed).
    pub places: Option<Places>,
    /// Look-ups that failed.
    pub errors: Vec<String>,
}

fn keep<T: Default>(r: Result<T>, errors: &mut Vec<String>) -> T {
    r.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        T::default()
    })
}

fn seen<T>(r: Result<Seen<T>>, errors: &mut Vec<String>) -> Seen<T> {
    r.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        Seen::Absent
    })
}

/// Observes the deployment (see the module's rounds).
pub async fn observe(ctx: &Ctx, s: &Specs, purpose: Purpose) -> Observed {
    let deploy = purpose == Purpose::Deploy;
    let fleet_now = s.count > 1;
    let group_names = [s.lb_group.name.as_str(), s.web_group.name.as_str()];
    let (key, groups, insts, tg, lb, expiry, cdn, pl, fleet, vpc, ssh, local, (content, prof)) = tokio::join!(
        keypair::observe(ctx, &s.key),
        secgroup::observe(ctx, &group_names),
        instance::observe(ctx, &s.launch.owner),
        targetgroup::describe(ctx, &s.target_group),
        loadbalancer::describe(ctx, &s.load_balancer),
        expiry::observe(ctx, &s.expiry),
        distribution::observe(ctx, &s.distribution),
        async {
            match deploy && s.distribution.wanted {
                true => secgroup::cloudfront_prefix_list(ctx).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match fleet_now {
                true => Some(fleet_lookups(ctx, s).await),
                false => None,
            }
        },
        async {
            match deploy {
                true => network::vpc(ctx, &s.network).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match deploy {
                true => Some(publicip::ssh_cidr(&s.ssh).await),
                false => None,
            }
        },
        async {
            match deploy {
                true => keypair::read_local(&s.key.pem),
                false => Ok(Local::Missing),
            }
        },
        async {
            tokio::join!(
                bucket::observe(ctx, &s.bucket),
                profile::observe(ctx, &s.profile)
            )
        },
    );
    let mut errors = Vec::new();
    let instances = keep(insts, &mut errors);
    let groups = keep(groups, &mut errors);
    let vpc = keep(vpc, &mut errors);
    let key = seen(key, &mut errors);
    let local_key = local.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        Local::Missing
    });
    let expiry = expiry.unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        expiry::Found {
            role: expiry::RoleState::Ready,
            group: expiry::GroupState::Absent,
            lb: None,
            servers: None,
        }
    });
    let (tg, lb) = (keep(tg, &mut errors), keep(lb, &mut errors));
    let mut o = Observed {
        key,
        bucket: seen(content, &mut errors),
        profile: seen(prof, &mut errors),
        local_key,
        lb_group: secgroup::classify(&s.lb_group, &groups, vpc.as_deref()),
        web_group: secgroup::classify(&s.web_group, &groups, vpc.as_deref()),
        target_group: Seen::Absent,
        targets: Vec::new(),
        load_balancer: Seen::Absent,
        listeners: Vec::new(),
        instances,
        launch_template: Seen::Absent,
        fleet: Seen::Absent,
        expiry,
        distribution: seen(cdn, &mut errors),
        spare_secret: distribution::Secret::random(),
        domain: domain::Found::default(),
        cloudfront_list: keep(pl, &mut errors),
        vpc,
        ssh_cidr: ssh,
        image: None,
        places: None,
        errors,
    };
    let hint = o
        .distribution
        .ours()
        .and_then(|d| d.aliases.first().cloned());
    let ((), dom) = tokio::join!(
        second_round(ctx, s, purpose, fleet, tg, lb, &mut o),
        domain::observe(ctx, &s.domain, hint.as_deref()),
    );
    o.domain = dom.unwrap_or_else(|e| {
        o.errors.push(format!("{e:#}"));
        domain::Found {
            failed: true,
            ..Default::default()
        }
    });
    o
}

/// The launch template's and the Auto Scaling group's look-ups.
type FleetLookups = (Result<Seen<LaunchTemplate>>, Result<Seen<Group>>);

async fn fleet_lookups(ctx: &Ctx, s: &Specs) -> FleetLookups {
    tokio::join!(
        launchtemplate::observe(ctx, &s.template),
        autoscaling::observe(ctx, &s.fleet)
    )
}

/// Rounds 2 and 3: what depends on round 1.
async fn second_round(
    ctx: &Ctx,
    s: &Specs,
    purpose: Purpose,
    fleet: Option<FleetLookups>,
    tg: Option<TargetGroup>,
    lb: Option<LoadBalancer>,
    o: &mut Observed,
) {
    // A group of an earlier count > 1 deploy shows itself by its instances.
    let fleet_later = fleet.is_none() && o.instances.iter().any(Instance::in_fleet);
    // With count > 1 the template's fingerprint says whether to launch, so its
    // look-up comes first; with count = 1 the instances say.
    let (lt, group) = match fleet {
        Some((lt, g)) => (seen(lt, &mut o.errors), seen(g, &mut o.errors)),
        None => (Seen::Absent, Seen::Absent),
    };
    let launching = match s.count {
        1 => instance::split(&s.launch.fingerprint, &o.instances)
            .0
            .is_none(),
        _ => lt
            .ours()
            .is_none_or(|t| t.fingerprint != s.launch.fingerprint),
    };
    let placing = launching || lb.is_none() || (s.count > 1 && group.ours().is_none());
    let deploy = purpose == Purpose::Deploy && o.vpc.is_some();
    let (health, listeners, later, image, places) = tokio::join!(
        async {
            match &tg {
                Some(t) => targetgroup::health(ctx, t).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &lb {
                Some(l) => listener::observe(ctx, l).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match fleet_later {
                true => Some(fleet_lookups(ctx, s).await),
                false => None,
            }
        },
        async {
            match deploy && launching {
                true => instance::find_image(ctx, &s.launch).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match (deploy && placing, &o.vpc) {
                (true, Some(vpc)) => network::places(ctx, &s.network, vpc).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    o.targets = keep(health, &mut o.errors);
    let listeners = keep(listeners, &mut o.errors);
    o.image = keep(image, &mut o.errors);
    o.places = keep(places, &mut o.errors);
    let (lt, group) = match later {
        Some((lt, g)) => (seen(lt, &mut o.errors), seen(g, &mut o.errors)),
        None => (lt, group),
    };
    o.launch_template = lt;
    o.fleet = group;
    tags_round(ctx, s, tg, lb, listeners, o).await;
}

/// Round 3: one DescribeTags for the target group, the load balancer and its
/// listeners, which says whether each is ours.
async fn tags_round(
    ctx: &Ctx,
    s: &Specs,
    tg: Option<TargetGroup>,
    lb: Option<LoadBalancer>,
    mut listeners: Vec<Listener>,
    o: &mut Observed,
) {
    let arns: Vec<String> = tg
        .iter()
        .map(|t| t.arn.clone())
        .chain(lb.iter().map(|l| l.arn.clone()))
        .chain(listeners.iter().map(|l| l.arn.clone()))
        .collect();
    let tags = match crate::tags::elb_tags_of(ctx, &arns).await {
        Ok(t) => t,
        Err(e) => {
            o.errors.push(format!("{e:#}"));
            return;
        }
    };
    let with_tags = |arn: &str| tags.get(arn).cloned().unwrap_or_default();
    o.target_group = targetgroup::classify(
        &s.target_group,
        tg.map(|mut t| {
            t.tags = with_tags(&t.arn);
            t
        }),
    );
    o.load_balancer = loadbalancer::classify(
        &s.load_balancer,
        lb.map(|mut l| {
            l.tags = with_tags(&l.arn);
            l
        }),
    );
    for l in &mut listeners {
        l.tags = with_tags(&l.arn);
    }
    // A foreign load balancer's listeners and a foreign target group's
    // targets are not the deployment's.
    if o.load_balancer.ours().is_some() {
        o.listeners = listeners;
    }
    if o.target_group.ours().is_none() {
        o.targets.clear();
    }
}

impl Observed {
    /// The single instances (not a group's) that serve or can serve: the one
    /// running the spec's fingerprint, and the others.
    pub fn serving(&self, s: &Specs) -> (Option<&Instance>, Vec<&Instance>) {
        instance::split(&s.launch.fingerprint, &self.instances)
    }

    /// Every single instance (not a group's) that is live or stopped.
    pub fn singles(&self, s: &Specs) -> Vec<&Instance> {
        let (current, others) = self.serving(s);
        current.into_iter().chain(others).collect()
    }
}
