//! Deploy's graph: each kind's step applies its action from the decision,
//! through the kind's module, once the kinds it depends on are done
//! ([`Kind::depends_on`]). What only becomes known while applying (the ids of
//! what was made a moment ago, the zones the load balancer was given) flows
//! forward in [`Known`], the way Terraform's "known after apply" does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::aws::Ctx;
use crate::graph::{self, OnFailure, Step};
use crate::observe::Observed;
use crate::progress::{self, Progress};
use crate::resources::autoscaling::{self, Roll};
use crate::resources::distribution::{self, Distribution};
use crate::resources::domain::{self, Certificate};
use crate::resources::expiry::{self, Servers as ExpiryServers};
use crate::resources::instance::{self, Instance};
use crate::resources::keypair::{self, KeyPair};
use crate::resources::launchtemplate::{self, LaunchTemplate};
use crate::resources::loadbalancer::{self, LoadBalancer};
use crate::resources::secgroup::{self, Group};
use crate::resources::targetgroup::{self, TargetGroup};
use crate::resources::{bucket, listener, profile, Verb};
use crate::spec::Specs;
use crate::table::{Decision, Ids, Kind, Servers};

/// What becomes known while applying, each set by its kind's step.
#[derive(Default)]
pub struct Known {
    /// The key pair.
    pub key: OnceLock<KeyPair>,
    /// The load balancer's group.
    pub lb_group: OnceLock<Group>,
    /// The web group.
    pub web_group: OnceLock<Group>,
    /// The target group.
    pub target_group: OnceLock<TargetGroup>,
    /// The load balancer as made or found (with the zones it was given).
    pub load_balancer: OnceLock<LoadBalancer>,
    /// The load balancer once active.
    pub active: OnceLock<LoadBalancer>,
    /// The listener's ARN.
    pub listener: OnceLock<String>,
    /// The CloudFront distribution, deployed (`[https]`).
    pub distribution: OnceLock<Distribution>,
    /// The certificate for `[https] domain`, issued.
    pub certificate: OnceLock<Certificate>,
    /// The launch template (`count > 1`).
    pub template: OnceLock<LaunchTemplate>,
    /// A roll of the group under way (`count > 1`).
    pub roll: OnceLock<Option<Roll>>,
    /// When the group was created or updated (its launches since then).
    pub fleet_since: OnceLock<std::time::SystemTime>,
    /// Hours the web servers this run retired ran (kept on the load balancer).
    pub retired_hours: Mutex<f64>,
    /// The kinds whose step finished.
    pub done: Mutex<Vec<Kind>>,
    /// The serving instance as launched, started or kept (`count = 1`).
    pub instance: OnceLock<Instance>,
    /// The web servers running and registered (their group's, or the one).
    pub servers: OnceLock<Vec<Instance>>,
    /// Whether the expiry role was made just now.
    pub fresh_role: OnceLock<bool>,
    /// Whether the web servers' instance profile was made just now (EC2 may
    /// not know it for some seconds).
    pub fresh_profile: OnceLock<bool>,
    /// Schedules written so far (the expiry's progress line ends with both).
    schedules: std::sync::atomic::AtomicUsize,
    /// Notes for the summary (a zone AWS refused...).
    pub notes: Mutex<Vec<String>>,
    steps: Mutex<BTreeMap<&'static str, Arc<progress::Step>>>,
}

impl Known {
    /// The ids of what was made or kept, for the summary's rows.
    pub fn ids(&self) -> Ids {
        let mut ids = Ids::new();
        let mut put = |k: Kind, v: Option<String>| {
            if let Some(v) = v {
                ids.insert(k, v);
            }
        };
        put(Kind::KeyPair, self.key.get().map(|k| k.id.clone()));
        put(Kind::LbGroup, self.lb_group.get().map(|g| g.id.clone()));
        put(Kind::WebGroup, self.web_group.get().map(|g| g.id.clone()));
        put(
            Kind::TargetGroup,
            self.target_group.get().map(|t| t.arn.clone()),
        );
        put(
            Kind::LoadBalancer,
            self.load_balancer.get().map(|l| l.arn.clone()),
        );
        put(Kind::Listener, self.listener.get().cloned());
        put(
            Kind::Distribution,
            self.distribution.get().map(|d| d.id.clone()),
        );
        put(
            Kind::Certificate,
            self.certificate.get().map(|c| c.arn.clone()),
        );
        put(
            Kind::LaunchTemplate,
            self.template.get().map(|t| t.id.clone()),
        );
        put(Kind::Instance, self.instance.get().map(|i| i.id.clone()));
        put(Kind::Target, self.instance.get().map(|i| i.id.clone()));
        ids
    }

    /// The site's URL: the distribution's (HTTPS) when there is one, else the
    /// load balancer `lb`'s on the listener's `port`.
    pub fn site_url(&self, lb: &LoadBalancer, port: u16) -> String {
        crate::site::site_url(self.distribution.get(), &lb.dns_name, port)
    }

    /// The URL the site proof fetches ([`crate::site::proof_url`]).
    pub fn proof_url(&self, lb: &LoadBalancer, port: u16) -> String {
        crate::site::proof_url(self.distribution.get(), &lb.dns_name, port)
    }

    /// The progress line `name`: the one a step before opened, or a new one
    /// (a wait that spans two steps shows as one line).
    fn step(&self, progress: &Progress, name: &'static str) -> Arc<progress::Step> {
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        steps
            .entry(name)
            .or_insert_with(|| Arc::new(progress.step(name)))
            .clone()
    }

    /// Ends the progress line `name` with `r`'s outcome.
    fn finish<T>(
        &self,
        name: &'static str,
        r: Result<T>,
        msg: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        let step = self
            .steps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        if let Some(s) = step {
            match &r {
                Ok(v) => s.done(&msg(v)),
                Err(e) => s.fail(&format!("{e:#}")),
            }
        }
        r
    }
}

/// A value a dependency's step set (its step is done before this one starts).
fn dep<T>(cell: &OnceLock<T>, what: &str) -> Result<T>
where
    T: Clone,
{
    cell.get()
        .cloned()
        .with_context(|| format!("{what} is not known"))
}

/// Everything the steps read.
pub struct Inputs<'a> {
    /// Clients.
    pub ctx: &'a Ctx,
    /// The specs.
    pub specs: &'a Specs,
    /// What was observed.
    pub seen: &'a Observed,
    /// The decision.
    pub decision: &'a Decision,
    /// Progress display.
    pub progress: &'a Progress,
    /// Longest wait for an instance to run or the load balancer to be active.
    pub wait_limit: Duration,
}

/// What a failure elsewhere (or an interrupt) does to a kind's step: a wait
/// is dropped; a creation under way finishes; the expiry's parts still run
/// once what they need exists, so nothing made is left without an expiry.
pub fn on_failure(kind: Kind) -> OnFailure {
    match kind {
        Kind::Listener | Kind::Target | Kind::Distribution | Kind::Certificate => OnFailure::Cancel,
        Kind::ExpiryRole | Kind::ScheduleGroup | Kind::LbSchedule | Kind::ServersSchedule => {
            OnFailure::Start
        }
        _ => OnFailure::Finish,
    }
}

/// Applies the decision: every kind's step in dependency order, independent
/// ones at once, until done, a failure, or `interrupt`.
pub async fn run(
    i: &Inputs<'_>,
    known: &Known,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let steps: Vec<Step<'_, Kind>> = Kind::ALL
        .into_iter()
        .map(|kind| {
            Step::new(kind, kind.depends_on(), move || step(i, known, kind))
                .on_failure(on_failure(kind))
        })
        .collect();
    graph::run(steps, interrupt).await.map(|_| ())
}

async fn step(i: &Inputs<'_>, k: &Known, kind: Kind) -> Result<()> {
    let r = step_of(i, k, kind).await;
    if r.is_ok() {
        k.done.lock().unwrap_or_else(|e| e.into_inner()).push(kind);
    }
    r
}

async fn step_of(i: &Inputs<'_>, k: &Known, kind: Kind) -> Result<()> {
    match kind {
        Kind::KeyPair => key_pair(i, k).await,
        Kind::Bucket => content(i, k).await,
        Kind::Profile => instance_profile(i, k).await,
        Kind::LbGroup | Kind::WebGroup => group(i, k, kind).await,
        Kind::TargetGroup => target_group(i, k).await,
        Kind::LoadBalancer => load_balancer(i, k).await,
        Kind::Listener => listener_and_wait(i, k).await,
        Kind::Distribution => distribution(i, k).await,
        Kind::Certificate => certificate(i, k).await,
        Kind::DnsRecords => records(i, k).await,
        Kind::LaunchTemplate => template(i, k).await,
        Kind::AutoScalingGroup => fleet(i, k).await,
        Kind::Instance => single(i, k).await,
        Kind::Target => targets(i, k).await,
        Kind::ExpiryRole => {
            let fresh = expiry::apply_role(i.ctx, &i.specs.expiry, &i.decision.expiry.role).await?;
            let _ = k.fresh_role.set(fresh);
            Ok(())
        }
        Kind::ScheduleGroup => {
            expiry::apply_group(i.ctx, &i.specs.expiry, &i.decision.expiry.group).await
        }
        Kind::LbSchedule | Kind::ServersSchedule => schedule(i, k, kind).await,
    }
}

async fn key_pair(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let s = k.step(i.progress, "key pair");
    s.set("working");
    let d = &i.decision.key;
    let r = keypair::apply(i.ctx, &i.specs.key, d, i.seen.key.ours()).await;
    let key = k.finish("key pair", r, |key| {
        format!("{} {}", d.verb().done(), key.name)
    })?;
    let _ = k.key.set(key);
    Ok(())
}

/// The folder's content (`[site]`): the bucket made if missing, the content
/// uploaded if not there yet.
async fn content(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let d = &i.decision.bucket;
    let Some(w) = d
        .work()
        .filter(|w| w.create || w.private || w.lifecycle || w.upload)
    else {
        return Ok(());
    };
    let s = k.step(i.progress, "site content");
    let spec = &i.specs.bucket;
    s.set(match w.upload {
        true => "uploading",
        false => "bucket",
    });
    let r = bucket::apply(i.ctx, spec, d).await;
    k.finish("site content", r, |()| {
        let verb = d.verb().unwrap_or(Verb::Keep).done();
        format!("{verb} {}: {}", spec.bucket, d.detail(spec))
    })
}

/// The web servers' instance profile (`[site]`).
async fn instance_profile(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let d = &i.decision.profile;
    if !matches!(d, profile::Action::Make { .. }) {
        return Ok(());
    }
    let spec = &i.specs.profile;
    let s = k.step(i.progress, "instance profile");
    s.set("working");
    let r = profile::apply(i.ctx, spec, i.seen.profile.ours()).await;
    let made = k.finish("instance profile", r, |_| {
        format!("{} {}", d.verb().unwrap_or(Verb::Keep).done(), spec.name)
    })?;
    let _ = k.fresh_profile.set(made);
    Ok(())
}

async fn group(i: &Inputs<'_>, k: &Known, kind: Kind) -> Result<()> {
    let (name, spec, action, found, cell) = match kind {
        Kind::LbGroup => (
            "lb security group",
            &i.specs.lb_group,
            &i.decision.lb_group,
            &i.seen.lb_group,
            &k.lb_group,
        ),
        _ => (
            "web security group",
            &i.specs.web_group,
            &i.decision.web_group,
            &i.seen.web_group,
            &k.web_group,
        ),
    };
    let s = k.step(i.progress, name);
    s.set("working");
    let vpc = i.seen.vpc.as_deref().unwrap_or_default();
    let lb_group = k.lb_group.get().map(|g| g.id.clone());
    // The load balancer's old listener port closes after the listener moves.
    let defer = kind == Kind::LbGroup;
    let r = secgroup::apply(
        i.ctx,
        spec,
        action,
        found.ours(),
        vpc,
        lb_group.as_deref(),
        defer,
    )
    .await;
    let g = k.finish(name, r, |g| format!("{} {}", action.verb().done(), g.id))?;
    let _ = cell.set(g);
    Ok(())
}

async fn target_group(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let s = k.step(i.progress, "target group");
    s.set("working");
    let d = &i.decision.target_group;
    let vpc = i.seen.vpc.as_deref().unwrap_or_default();
    let r = targetgroup::apply(
        i.ctx,
        &i.specs.target_group,
        d,
        i.seen.target_group.ours(),
        vpc,
    )
    .await;
    let tg = k.finish("target group", r, |t| {
        format!("{} {}", d.verb().done(), t.name)
    })?;
    let _ = k.target_group.set(tg);
    Ok(())
}

async fn load_balancer(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let s = k.step(i.progress, "load balancer");
    s.set("looking for it");
    let d = &i.decision.load_balancer;
    let group = dep(&k.lb_group, "the load balancer's group")?;
    let fresh = i.decision.lb_group.verb() == Verb::Create;
    let found = i.seen.load_balancer.ours();
    let r = loadbalancer::apply(i.ctx, &i.specs.load_balancer, d, found, &group.id, fresh).await;
    let (lb, notes) = match r {
        Ok(v) => v,
        Err(e) => return k.finish("load balancer", Err(e), |_: &()| String::new()),
    };
    s.set(&format!(
        "{} {}, adding the listener",
        d.verb().done(),
        lb.name
    ));
    k.notes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(notes);
    let _ = k.load_balancer.set(lb);
    Ok(())
}

/// The listener, then the wait for the load balancer to be active (on the
/// load balancer's progress line: it provisions meanwhile).
async fn listener_and_wait(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let lb = dep(&k.load_balancer, "the load balancer")?;
    let tg = dep(&k.target_group, "the target group")?;
    let d = &i.decision.listener;
    let s = k.step(i.progress, "load balancer");
    let r = async {
        let kept = i
            .seen
            .listeners
            .iter()
            .find(|l| l.port == i.specs.listener.port);
        let secret = &i.decision.secret;
        let arn = listener::apply(i.ctx, &i.specs.listener, d, kept, &lb.arn, &tg.arn, secret)
            .await
            .with_context(|| format!("on load balancer {}", lb.name))?;
        let group = dep(&k.lb_group, "the load balancer's security group")?;
        secgroup::revoke_stale(i.ctx, &group, &i.decision.lb_group).await?;
        let active =
            loadbalancer::wait_active(i.ctx, &lb, i.wait_limit, |st, t| s.waiting(st, t)).await?;
        Ok::<_, anyhow::Error>((arn, active))
    }
    .await;
    let verb = i.decision.load_balancer.verb().done();
    let (arn, active) = k.finish("load balancer", r, |(_, lb)| {
        let zones: Vec<&str> = lb.zones.iter().map(|z| z.name.as_str()).collect();
        format!("{verb} {} active in {}", lb.name, zones.join(", "))
    })?;
    let _ = k.listener.set(arn);
    let _ = k.active.set(active);
    Ok(())
}

/// The CloudFront distribution in front of the load balancer, made as soon
/// as the load balancer's DNS name is known (it deploys to the edge while the
/// load balancer provisions and the web servers boot), waited for until
/// deployed: the listener is gated after that. With `[https]` off it goes
/// once the load balancer is proven to serve alone (`crate::rollout`).
async fn distribution(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let d = &i.decision.distribution;
    if matches!(d, distribution::Action::None | distribution::Action::Delete) {
        return Ok(());
    }
    let lb = dep(&k.load_balancer, "the load balancer")?;
    let s = k.step(i.progress, "https");
    s.set(match d {
        distribution::Action::Create => "creating the CloudFront distribution",
        _ => "CloudFront distribution",
    });
    let found = i.seen.distribution.ours();
    let r = distribution::apply(
        i.ctx,
        &i.specs.distribution,
        d,
        found,
        distribution::Origin {
            dns: &lb.dns_name,
            secret: &i.decision.secret,
            certificate: k.certificate.get().map(|c| c.arn.as_str()),
        },
        i.wait_limit,
        |st, t| s.waiting(st, t),
    )
    .await;
    let verb = d.verb().done();
    let made = k.finish("https", r, |d| match d {
        Some(d) => format!("{verb} {} ({}), deployed", d.id, d.url()),
        None => format!("{verb} the CloudFront distribution"),
    })?;
    if let Some(made) = made {
        let _ = k.distribution.set(made);
    }
    Ok(())
}

/// The certificate for `[https] domain`: requested, its validation record
/// written, waited for until issued (the distribution is made with it).
async fn certificate(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let d = &i.decision.domain.cert;
    if *d == domain::Cert::None {
        return Ok(());
    }
    let s = k.step(i.progress, "certificate");
    s.set(match d {
        domain::Cert::Request => "requesting the certificate",
        _ => "certificate",
    });
    let zone = i.seen.domain.zone.as_ref();
    let r = domain::apply_certificate(i.ctx, &i.specs.domain, d, zone, i.wait_limit, |st, t| {
        s.waiting(st, t)
    })
    .await;
    let verb = d.verb().done();
    let made = k.finish("certificate", r, |c| match c {
        Some(c) => format!("{verb} {} for {}, issued", c.arn, c.domain),
        None => String::new(),
    })?;
    if let Some(c) = made {
        let _ = k.certificate.set(c);
    }
    Ok(())
}

/// The A and AAAA alias records of `[https] domain`, once the distribution
/// answers on it; waited for until every Route 53 name server has them.
async fn records(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let a = &i.decision.domain;
    let d = &a.dns;
    if *d == domain::Dns::None && a.old.is_empty() {
        return Ok(());
    }
    let cdn = k
        .distribution
        .get()
        .or(i.seen.distribution.ours())
        .map(|c| c.domain.clone())
        .unwrap_or_default();
    let s = k.step(i.progress, "DNS records");
    s.set("writing");
    let zone = i.seen.domain.zone.as_ref();
    let r = domain::apply_records(
        i.ctx,
        &i.specs.domain,
        a,
        zone,
        &cdn,
        i.wait_limit,
        |st, t| s.waiting(st, t),
    )
    .await;
    let verb = d.verb().done();
    k.finish("DNS records", r, |()| {
        format!("{verb} {}", d.detail(&i.specs.domain, &i.seen.domain))
    })
}

/// Where new web servers go: the load balancer's zones that offer the type.
fn server_subnets(
    i: &Inputs<'_>,
    lb: &LoadBalancer,
) -> Result<Vec<crate::resources::network::Subnet>> {
    i.seen
        .places
        .as_ref()
        .context("no subnets were looked up")?
        .for_servers(&lb.zones)
}

async fn template(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let Servers::Fleet { template: d, .. } = &i.decision.servers else {
        return Ok(());
    };
    let s = k.step(i.progress, "web servers");
    s.set("launch template");
    let r = async {
        let web = dep(&k.web_group, "the web group")?;
        let key = dep(&k.key, "the key pair")?;
        let public_ip = i
            .seen
            .places
            .as_ref()
            .is_some_and(|p| !p.subnets.iter().all(|s| s.maps_public_ip));
        let inputs = launchtemplate::TemplateInputs {
            security_group_id: &web.id,
            key_name: &key.name,
            public_ip,
        };
        let found = i.seen.launch_template.ours();
        launchtemplate::apply(i.ctx, &i.specs.template, d, found, &inputs).await
    }
    .await;
    match r {
        Ok(lt) => {
            let _ = k.template.set(lt);
            Ok(())
        }
        Err(e) => k.finish("web servers", Err(e), |_: &()| String::new()),
    }
}

async fn fleet(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let Servers::Fleet { group: d, .. } = &i.decision.servers else {
        return Ok(());
    };
    let s = k.step(i.progress, "web servers");
    s.set("Auto Scaling group");
    let r = async {
        let lt = dep(&k.template, "the launch template")?;
        let tg = dep(&k.target_group, "the target group")?;
        let lb = dep(&k.load_balancer, "the load balancer")?;
        let subnets = match d {
            autoscaling::Action::Create => server_subnets(i, &lb)?,
            _ => Vec::new(),
        };
        let inputs = autoscaling::Inputs {
            template: &lt,
            subnets: &subnets,
            target_group: &tg,
            lb_arn: &lb.arn,
        };
        let _ = k.fleet_since.set(std::time::SystemTime::now());
        autoscaling::apply(i.ctx, &i.specs.fleet, d, i.seen.fleet.ours(), &inputs).await
    }
    .await;
    match r {
        Ok(roll) => {
            let _ = k.roll.set(roll);
            Ok(())
        }
        Err(e) => k.finish("web servers", Err(e), |_: &()| String::new()),
    }
}

async fn single(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let Servers::Single { single: d, .. } = &i.decision.servers else {
        return Ok(());
    };
    let s = k.step(i.progress, "instance");
    let r = async {
        let lb = dep(&k.load_balancer, "the load balancer")?;
        let web = dep(&k.web_group, "the web group")?;
        let key = dep(&k.key, "the key pair")?;
        let subnets = match &d.action {
            instance::Action::Launch(_) => server_subnets(i, &lb)?,
            _ => Vec::new(),
        };
        if let Some(c) = &d.current {
            if d.action == instance::Action::Start {
                s.set(&format!("{} is {}, starting it", c.id, c.state.as_str()));
            }
        }
        let fresh = i.decision.web_group.verb() == Verb::Create
            || matches!(i.decision.key.verb(), Verb::Create | Verb::Replace)
            || k.fresh_profile.get() == Some(&true);
        let inputs = || {
            let image = match &d.action {
                instance::Action::Launch(image) => image,
                _ => anyhow::bail!("no image to launch from"),
            };
            s.set("launching");
            Ok(instance::LaunchInputs {
                image,
                subnet: subnets.first().context("no subnet for the instance")?,
                security_group_id: &web.id,
                key_name: &key.name,
                key_pair_id: &key.id,
                fresh,
            })
        };
        instance::apply(i.ctx, &i.specs.launch, d, inputs, i.wait_limit).await
    }
    .await;
    match r {
        Ok(inst) => {
            s.set(&format!(
                "{} {}, waiting for it to run",
                d.verb().done(),
                inst.id
            ));
            let _ = k.instance.set(inst);
            Ok(())
        }
        Err(e) => k.finish("instance", Err(e), |_: &()| String::new()),
    }
}

/// The web servers running and registered: the instance waited for and
/// registered, or the group's instances waited for until in service (and
/// their tags brought into line).
async fn targets(i: &Inputs<'_>, k: &Known) -> Result<()> {
    let tg = dep(&k.target_group, "the target group")?;
    match &i.decision.servers {
        Servers::Single { register, .. } => {
            let s = k.step(i.progress, "instance");
            let r = async {
                let inst = dep(&k.instance, "the instance")?;
                let running = match inst.state {
                    instance::State::Running => inst,
                    _ => {
                        instance::wait_running(i.ctx, &inst.id, i.wait_limit, |st, t| {
                            s.waiting(st, t)
                        })
                        .await?
                    }
                };
                if *register {
                    s.set("registering in the target group");
                    targetgroup::register(i.ctx, &tg, &running.id, i.wait_limit).await?;
                }
                Ok::<_, anyhow::Error>(running)
            }
            .await;
            let running = k.finish("instance", r, |r| format!("{} running", r.id))?;
            let _ = k.servers.set(vec![running]);
        }
        Servers::Fleet { members, group, .. } => {
            let s = k.step(i.progress, "web servers");
            let r = async {
                let settled = *group == autoscaling::Action::Keep
                    && members.len() == i.specs.count
                    && members
                        .iter()
                        .all(|(m, _)| m.state == instance::State::Running);
                let ids: Vec<String> = match settled {
                    true => members.iter().map(|(m, _)| m.id.clone()).collect(),
                    false => {
                        s.set("waiting for the instances to be in service");
                        let lt = dep(&k.template, "the launch template")?;
                        let since = k
                            .fleet_since
                            .get()
                            .copied()
                            .unwrap_or_else(std::time::SystemTime::now);
                        let ready = autoscaling::wait_ready(
                            i.ctx,
                            &i.specs.fleet,
                            &lt.version.to_string(),
                            since,
                            i.wait_limit,
                            |st, t| s.waiting(st, t),
                        )
                        .await;
                        match (ready, k.roll.get()) {
                            (Ok(ready), _) => ready.into_iter().map(|m| m.id).collect(),
                            (Err(e), Some(Some(roll))) => return Err(unroll(i, k, roll, e).await),
                            (Err(e), _) => return Err(e),
                        }
                    }
                };
                // The group's tags reach new instances; those kept follow
                // deploy.toml's [tags] here.
                for (m, drift) in members {
                    drift.apply(i.ctx, crate::tags::Tagger::Ec2(&m.id)).await?;
                }
                instance::describe_ids(i.ctx, &ids).await
            }
            .await;
            let servers = k.finish("web servers", r, |m| {
                let each: Vec<String> =
                    m.iter().map(|m| format!("{} ({})", m.id, m.zone)).collect();
                format!("{} in service: {}", m.len(), each.join(", "))
            })?;
            let _ = k.servers.set(servers);
        }
    }
    Ok(())
}

/// A roll whose new instances did not come into service: undone, so the old
/// keep serving at the old version; the error says so (or that undoing failed
/// too).
async fn unroll(i: &Inputs<'_>, k: &Known, roll: &Roll, e: anyhow::Error) -> anyhow::Error {
    match autoscaling::undo_roll(i.ctx, &i.specs.fleet, roll).await {
        Ok(new) => {
            record_retired(i, k, &new).await;
            let retired = match new.is_empty() {
                true => String::new(),
                false => format!(", {} retired", new.join(", ")),
            };
            e.context(format!(
                "the roll was undone: {} is back on its previous launch template version and {} \
                 still serve{retired}",
                i.specs.fleet.name,
                roll.old.join(", "),
            ))
        }
        Err(u) => e.context(format!(
            "undoing the roll of {} failed too ({u:#}); run deploy again",
            i.specs.fleet.name
        )),
    }
}

/// The web servers the expiry removes now: the serving instance and those it
/// replaces until they are retired (so nothing is left without an expiry if
/// the run stops in between), or the group.
pub fn expiring_servers(i: &Inputs<'_>, k: &Known) -> Result<ExpiryServers> {
    Ok(match &i.decision.servers {
        Servers::Fleet { .. } => ExpiryServers::Group(i.specs.fleet.name.clone()),
        Servers::Single { single, .. } => {
            let inst = dep(&k.instance, "the instance")?;
            let ids = std::iter::once(inst.id)
                .chain(single.retire.iter().map(|r| r.id.clone()))
                .collect();
            ExpiryServers::Instances(ids)
        }
    })
}

async fn schedule(i: &Inputs<'_>, k: &Known, kind: Kind) -> Result<()> {
    let e = &i.decision.expiry;
    let (action, name) = match kind {
        Kind::LbSchedule => (&e.lb, &i.specs.expiry.lb_schedule),
        _ => (&e.servers, &i.specs.expiry.servers_schedule),
    };
    let Some(at) = e.at else {
        // `off`: the schedule group goes, and its schedules with it.
        if kind == Kind::LbSchedule && e.group == expiry::Action::Delete {
            k.step(i.progress, "expiry").done("off: schedules deleted");
        }
        return Ok(());
    };
    let target = match kind {
        Kind::LbSchedule => expiry::lb_target(
            &i.specs.expiry,
            &dep(&k.load_balancer, "the load balancer")?.arn,
        ),
        _ => expiry::servers_target(&i.specs.expiry, &expiring_servers(i, k)?),
    };
    let fresh = k.fresh_role.get().copied().unwrap_or(false);
    let s = k.step(i.progress, "expiry");
    s.set(&format!("writing {name}"));
    let r = expiry::apply_schedule(i.ctx, &i.specs.expiry, name, action, at, target, fresh).await;
    let written = k
        .schedules
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    match (r, written) {
        (Err(e), _) => k.finish("expiry", Err(e), |_: &()| String::new()),
        (Ok(()), 2) => k.finish("expiry", Ok(()), |_| format!("at {}", expiry::when(at))),
        (Ok(()), _) => Ok(()),
    }
}

/// Adds the hours the web servers `ids` ran (retired now) to the load
/// balancer's record, so "cost so far" keeps counting them. A failure to
/// write it is only logged: the deploy itself succeeded.
pub async fn record_retired(i: &Inputs<'_>, k: &Known, ids: &[String]) {
    let launched = |id: &String| {
        i.seen
            .instances
            .iter()
            .chain(k.servers.get().into_iter().flatten())
            .find(|x| &x.id == id)
            .and_then(|x| x.launched)
    };
    let hours: f64 = ids
        .iter()
        .map(|id| crate::cost::hours_since(launched(id)))
        .sum();
    let Some(lb) = k.load_balancer.get() else {
        return;
    };
    if hours <= 0.0 {
        return;
    }
    let before = i
        .seen
        .load_balancer
        .ours()
        .map_or(0.0, |l| l.retired_hours());
    let total = {
        let mut mine = k.retired_hours.lock().unwrap_or_else(|e| e.into_inner());
        *mine += hours;
        before + *mine
    };
    if let Err(e) = crate::resources::loadbalancer::set_retired_hours(i.ctx, &lb.arn, total).await {
        tracing::warn!("could not record the retired web servers' hours: {e:#}");
    }
}
