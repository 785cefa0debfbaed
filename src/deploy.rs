//! The deploy step graph. Stages run with `tokio::try_join!`; the values passed
//! from one stage to the next are the dependencies:
//!
//! ```text
//! stage 1: credentials | public IP | VPC + subnets | the table observed (look-ups only)
//!          -> table::decide: stop now for a foreign resource or a mismatched key
//! preflight (only when launching): AMI + instance subnet; dry runs if fresh
//! stage 2: key pair | load balancer's group | target group
//! stage 3: web group -> count = 1: instance -> running -> register
//!                       count > 1: launch template -> Auto Scaling group (roll) -> in service
//!        | load balancer -> listener -> active
//!        | the expiry's role and schedule group
//! stage 4: site healthy + HTTP 200 | what it replaces removed: old instances
//!          deregistered, terminated (or, back to count = 1, the group and template)
//!          -> the expiry schedules written (or removed, for `off`)
//! ```
//!
//! The web servers and the load balancer, the two slow creations, provision at
//! the same time. Each step applies its row of [`table::decide`] through its
//! kind's module, which brings what exists into line (rules, tags, the health
//! check, the listener's port, the group's size) with the same functions
//! `decide` describes them with.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::Plan;
use crate::progress::{Progress, Step};
use crate::resources::instance::{self, LaunchInputs};
use crate::resources::secgroup;
use crate::resources::{
    autoscaling, ec2_retag, expiry, keypair, launchtemplate, loadbalancer, network, publicip,
    tag_drift, targetgroup, Deleted, Ensured, Outcome,
};
use crate::table::{self, Kind, Row};

/// Options of one deploy run.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// Delete and recreate the key pair when its private key is missing here.
    pub replace_key_pair: bool,
    /// Longest wait for the instance to run and the load balancer to be active.
    pub wait_limit: Duration,
    /// Wait for the target to be healthy and the URL to answer 200.
    pub site_check: bool,
    /// Longest wait for the site check.
    pub site_limit: Duration,
    /// Send the site check to this address instead of the load balancer's.
    pub site_address: Option<std::net::SocketAddr>,
    /// Who is deploying, when already asked (else stage 1 asks STS).
    pub identity: Option<crate::preflight::Identity>,
    /// How long a new web server may fail its health checks after its launch.
    pub boot_grace: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            replace_key_pair: false,
            wait_limit: Duration::from_secs(15 * 60),
            site_check: true,
            site_limit: Duration::from_secs(10 * 60),
            site_address: None,
            identity: None,
            boot_grace: Duration::from_secs(180),
        }
    }
}

/// One resource in the summary: the table's row and what deploy did.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceReport {
    /// The resource, as every view names it.
    #[serde(flatten)]
    pub row: Row,
    /// What deploy did.
    pub outcome: Outcome,
}

/// One web server in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    /// Instance id.
    pub id: String,
    /// Availability zone.
    pub zone: String,
    /// Public IPv4 address, if any.
    pub public_ip: Option<String>,
    /// Target health in the target group.
    pub health: String,
}

/// What deploy prints at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// The site's URL.
    pub url: String,
    /// Load balancer DNS name.
    pub load_balancer_dns: String,
    /// Instance id.
    pub instance_id: String,
    /// Instance public IP, if it has one.
    pub public_ip: Option<String>,
    /// Every web server: id, zone, public IP, target health.
    pub instances: Vec<ServerReport>,
    /// SSH command, when the instance has a public IP.
    pub ssh_command: Option<String>,
    /// The CIDR SSH is open to, or `None` when detection failed.
    pub ssh_cidr: Option<String>,
    /// The AWS account.
    pub account: String,
    /// Every resource and what was done.
    pub resources: Vec<ResourceReport>,
    /// Instances of an earlier template taken out of service and terminated.
    pub replaced: Vec<String>,
    /// HTTP status the site answered, when it was checked.
    pub site_status: Option<u16>,
    /// The template the web servers' markers say is live, when checked.
    pub live_template: Option<String>,
    /// When the load balancer and web servers are deleted (UTC, RFC 3339), or
    /// `None` with `expires_after = "off"`.
    pub expires_at: Option<String>,
    /// The same in local time, with how to keep the site.
    pub expiry: Option<String>,
    /// What the running deployment costs per hour.
    pub cost: crate::cost::Estimate,
    /// What it has cost since it was created.
    pub cost_so_far: crate::cost::SoFar,
    /// Warnings (e.g. no SSH rule).
    pub warnings: Vec<String>,
}

impl Summary {
    /// Whether this run created or changed anything.
    pub fn changed(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.outcome != Outcome::Existing)
    }

    /// The human-readable summary; `cleanup` is the command that removes it
    /// all, as the user runs the tool ([`crate::cli::command`]).
    pub fn to_text(&self, cleanup: &str) -> String {
        let mut s = String::new();
        s.push_str(&format!("Site:     {}\n", self.url));
        s.push_str(&format!(
            "Instance: {}{}\n",
            self.instance_id,
            self.public_ip
                .as_ref()
                .map(|ip| format!(" ({ip})"))
                .unwrap_or_default()
        ));
        match &self.ssh_command {
            Some(c) if self.ssh_cidr.is_some() => s.push_str(&format!("SSH:      {c}\n")),
            Some(c) => s.push_str(&format!("SSH:      {c}  (no SSH rule: see warnings)\n")),
            None => s.push_str("SSH:      the instance has no public IP\n"),
        }
        s.push_str("\nResources:\n");
        for r in &self.resources {
            // ARNs shortened to their resource part (the JSON keeps them whole).
            let changed = r.outcome == Outcome::Updated && !r.row.detail.is_empty();
            s.push_str(&format!(
                "  {:<15} {:<28} {:<8} {}{}\n",
                r.row.kind,
                r.row.name,
                r.outcome.to_string(),
                r.row.short_id(),
                if changed {
                    format!(" ({})", r.row.detail)
                } else {
                    String::new()
                }
            ));
        }
        for w in &self.warnings {
            s.push_str(&format!("\nwarning: {w}\n"));
        }
        if !self.replaced.is_empty() {
            s.push_str(&format!(
                "\nReplaced (deregistered and terminated): {}\n",
                self.replaced.join(", ")
            ));
        }
        match (self.site_status, &self.live_template) {
            (Some(code), Some(t)) => s.push_str(&format!(
                "\nLive: template {t} on every web server (their markers say so); the site answered HTTP {code}.\n"
            )),
            (Some(code), None) => s.push_str(&format!("\nThe site answered HTTP {code}.\n")),
            (None, _) => s.push_str(
                "\nThe site was not checked; it may take a minute or two to answer while the \
                 instance installs the template.\n",
            ),
        }
        match &self.expiry {
            Some(e) => s.push_str(&format!("Expires:  {e}\n")),
            None => s.push_str("Expires:  never (expires_after = \"off\"): remember cleanup\n"),
        }
        s.push_str(&format!(
            "Running cost: {}\nCost so far: {}\nRemove everything with: {cleanup}\n",
            self.cost.to_line(),
            self.cost_so_far.to_line()
        ));
        s
    }
}

/// The summary's row of a kind: its id, what deploy did and, for an update,
/// what changed (the decision's words).
fn report(
    plan: &Plan,
    decisions: &[table::Decision],
    kind: Kind,
    id: &str,
    outcome: Outcome,
) -> ResourceReport {
    let detail = match decisions.iter().find(|d| d.kind == kind).map(|d| &d.action) {
        Some(table::Action::Update(changes)) if outcome == Outcome::Updated => changes.join("; "),
        _ => String::new(),
    };
    let mut row = Row::new(kind, kind.name(plan), id);
    row.detail = detail;
    ResourceReport { row, outcome }
}

/// Runs a step: shows it on the progress display and ends it with its outcome.
async fn step<T>(
    progress: &Progress,
    name: &str,
    fut: impl std::future::Future<Output = Result<(T, String)>>,
) -> Result<T> {
    let s = progress.step(name);
    s.set("working");
    finish(&s, fut.await, |(_, msg)| msg.clone()).map(|(v, _)| v)
}

/// Deploys the plan: every step finds before it creates.
pub async fn run(
    ctx: &Ctx,
    plan: &Plan,
    opts: &DeployOptions,
    progress: &Progress,
) -> Result<Summary> {
    let mut warnings = Vec::new();

    // Stage 1: independent lookups; nothing is created yet.
    let (identity, ssh_cidr, net, seen) = tokio::try_join!(
        step(progress, "credentials", async {
            let id = match &opts.identity {
                Some(id) => id.clone(),
                None => crate::preflight::identity(ctx).await?,
            };
            let msg = format!("account {} as {} in {}", id.account, id.arn, ctx.region);
            Ok((id, msg))
        }),
        step(progress, "public IP", async {
            let r = publicip::ssh_cidr(plan).await;
            let msg = match &r {
                Ok(c) => format!("SSH allowed from {c}"),
                Err(_) => "not detected: no SSH rule will be added".to_string(),
            };
            Ok((r, msg))
        }),
        step(progress, "network", async {
            let n = network::find(ctx, plan).await?;
            let msg = format!("{} ({} usable zones)", n.vpc_id, n.subnets.len());
            Ok((n, msg))
        }),
        async { Ok(table::observe_for_deploy(ctx, plan).await) },
    )?;
    if let Some(e) = seen.errors.first() {
        anyhow::bail!("{e}");
    }
    // The same decision `--plan` shows; deploy stops before creating anything
    // when a row says stop (a same-named resource not made by this tool, a key
    // pair that does not match its .pem).
    let key_action = match (&seen.key, seen.key.present()) {
        (table::Seen::Foreign(_), _) => keypair::KeyAction::Keep,
        (_, found) => keypair::decide(plan, found, opts.replace_key_pair)?,
    };
    let decisions = table::decide(
        plan,
        &seen,
        &table::Wanted {
            ssh_cidr: ssh_cidr.as_ref().ok().cloned(),
            key: key_action,
            image: None,
        },
    );
    let stops = table::stops(&decisions);
    if !stops.is_empty() {
        anyhow::bail!("{}", stops.join("\n"));
    }
    let found_key = seen.key.present().cloned();
    let found_tg = seen.target_group.present().cloned();
    let found_lb = seen.load_balancer.present().cloned();
    let (current, others) = {
        let (c, o) = seen.serving(plan);
        (c.cloned(), o.into_iter().cloned().collect::<Vec<_>>())
    };

    // Placement (only when something is to be created in a zone): the
    // instance's subnet and the load balancer's zones. Preflight of a fresh
    // deployment (no key pair yet): dry runs of the creations, before creating
    // anything.
    let fresh = found_key.is_none();
    // An image is needed for a launch, or for a launch template's new version.
    let launching = match (plan.count > 1, seen.launch_template.present()) {
        (false, _) => current.is_none(),
        (true, Some(lt)) => lt.fingerprint != plan.fingerprint,
        (true, None) => true,
    };
    let new_fleet = plan.count > 1 && seen.fleet.present().is_none();
    let placed = if fresh || launching || new_fleet || found_lb.is_none() {
        let s = progress.step("machine image");
        let r = async {
            let (image, placement) = tokio::try_join!(
                async {
                    if fresh || launching {
                        instance::find_image(ctx, plan).await.map(Some)
                    } else {
                        Ok(None)
                    }
                },
                network::place(ctx, plan, &net),
            )?;
            if let (true, Some(image)) = (fresh, &image) {
                s.set("checking permissions (dry runs)");
                crate::preflight::dry_runs(ctx, plan, &net.vpc_id, image, &placement.instance)
                    .await?;
            }
            Ok::<_, anyhow::Error>((image, placement))
        }
        .await;
        Some(finish(&s, r, |(image, p)| match image {
            Some(image) => format!(
                "{} ({}), instance in {}",
                image.id, image.name, p.instance.zone
            ),
            None => format!("load balancer from {}", p.instance.zone),
        })?)
    } else {
        None
    };

    let ssh_cidr = match ssh_cidr {
        Ok(c) => Some(c),
        Err(why) => {
            warnings.push(format!(
                "{why}; the instance has no SSH rule. Set ssh.cidr in deploy.toml to your \
                 address as a /32 and deploy again to allow SSH"
            ));
            None
        }
    };

    // Stage 2: key pair, the load balancer's group (the load balancer waits for
    // it) and the target group.
    let (key, lb_sg, tg) = tokio::try_join!(
        step(progress, "key pair", async {
            let k = keypair::ensure_found(ctx, plan, found_key, opts.replace_key_pair).await?;
            let msg = format!("{} {}", k.outcome, k.value.name);
            Ok((k, msg))
        }),
        step(progress, "lb security group", async {
            let g = secgroup::ensure(
                ctx,
                plan,
                &net.vpc_id,
                &plan.lb_sg_name,
                &format!("{} load balancer (sitedeploy)", plan.name),
                &table::lb_rules(plan),
                Some(seen.lb_group.present().cloned()),
            )
            .await?;
            let msg = format!("{} {}", g.outcome, g.value.id);
            Ok((g, msg))
        }),
        step(progress, "target group", async {
            let tg = targetgroup::ensure_found(ctx, plan, &net.vpc_id, found_tg).await?;
            let msg = format!("{} {}", tg.outcome, tg.value.name);
            Ok((tg, msg))
        }),
    )?;

    // Stage 3: the two slow creations at once; the instance's group on the way.
    let ((web_sg, servers), (lb, listener, lb_notes), expiry_role) = tokio::try_join!(
        async {
            let web_sg = step(progress, "web security group", async {
                let g = secgroup::ensure(
                    ctx,
                    plan,
                    &net.vpc_id,
                    &plan.web_sg_name,
                    &format!("{} web server (sitedeploy)", plan.name),
                    &table::web_rules(&lb_sg.value.id, ssh_cidr.as_deref()),
                    Some(seen.web_group.present().cloned()),
                )
                .await?;
                let msg = format!("{} {}", g.outcome, g.value.id);
                Ok((g, msg))
            })
            .await?;
            if plan.count > 1 {
                let parts = Parts {
                    seen: &seen,
                    placed: placed.as_ref(),
                    web_sg: &web_sg,
                    key: &key,
                    tg: &tg,
                };
                let f = fleet_servers(ctx, plan, opts, progress, &parts).await?;
                return Ok::<_, anyhow::Error>((web_sg, f));
            }
            let s = progress.step("instance");
            let r = async {
                let inst = match current {
                    Some(i) if instance::is_stopped(&i) => {
                        // Someone stopped it: start it again (same instance, same
                        // template already installed), rather than replace it.
                        s.set(&format!("{} is {}, starting it", i.id, i.state));
                        instance::start(ctx, &i.id, opts.wait_limit).await?;
                        Ensured::new(i, Outcome::Updated)
                    }
                    Some(i) => {
                        let drift = tag_drift(&i.tags, plan);
                        ec2_retag(ctx, &i.id, &drift).await?;
                        let outcome = if drift.is_empty() {
                            Outcome::Existing
                        } else {
                            Outcome::Updated
                        };
                        Ensured::new(i, outcome)
                    }
                    None => {
                        let (image, placement) = placed.as_ref().context("no placement")?;
                        let image = image.as_ref().context("no image")?;
                        s.set("launching");
                        let i = instance::launch(
                            ctx,
                            plan,
                            &LaunchInputs {
                                image,
                                subnet_id: &placement.instance.id,
                                security_group_id: &web_sg.value.id,
                                key_name: &key.value.name,
                                key_pair_id: &key.value.id,
                                fresh_group: web_sg.outcome == Outcome::Created,
                                fresh_key: key.outcome == Outcome::Created,
                                public_ip: !placement.instance.maps_public_ip,
                            },
                        )
                        .await?;
                        Ensured::new(i, Outcome::Created)
                    }
                };
                s.set(&format!(
                    "{} {}, waiting for it to run",
                    inst.outcome, inst.value.id
                ));
                let running = if inst.value.state == "running" {
                    inst.value.clone()
                } else {
                    instance::wait_running(ctx, &inst.value.id, opts.wait_limit, |st, t| {
                        s.waiting(st, t)
                    })
                    .await?
                };
                s.set("registering in the target group");
                let registered = targetgroup::register(
                    ctx,
                    &tg.value,
                    &running.id,
                    opts.wait_limit,
                    Some(&seen.targets),
                )
                .await?;
                Ok::<_, anyhow::Error>((inst, running, registered))
            }
            .await;
            let (inst, running, registered) = finish(&s, r, |(inst, running, _)| {
                format!("{} {} running", inst.outcome, running.id)
            })?;
            let servers = Servers {
                outcome: inst.outcome,
                registered,
                members: vec![running],
                launch_template: None,
                fleet: None,
                roll: None,
            };
            Ok::<_, anyhow::Error>((web_sg, servers))
        },
        async {
            let s = progress.step("load balancer");
            let r = async {
                s.set("looking for it");
                let candidates = placed
                    .as_ref()
                    .map(|(_, p)| p.lb_candidates.as_slice())
                    .unwrap_or_default();
                let (lb, notes) = loadbalancer::ensure_found(
                    ctx,
                    plan,
                    candidates,
                    &lb_sg.value.id,
                    found_lb,
                    lb_sg.outcome == Outcome::Created,
                )
                .await?;
                s.set(&format!(
                    "{} {}, adding the listener",
                    lb.outcome, lb.value.name
                ));
                let listener = loadbalancer::ensure_listener(
                    ctx,
                    plan,
                    &lb.value,
                    &tg.value.arn,
                    Some(seen.listeners.clone()),
                )
                .await
                .with_context(|| format!("on load balancer {}", lb.value.name))?;
                let active = loadbalancer::wait_active(ctx, &lb.value, opts.wait_limit, |st, t| {
                    s.waiting(st, t)
                })
                .await?;
                Ok::<_, anyhow::Error>((Ensured::new(active, lb.outcome), listener, notes))
            }
            .await;
            finish(&s, r, |(lb, _, _)| {
                format!(
                    "{} {} active in {}",
                    lb.outcome,
                    lb.value.name,
                    lb.value.zones.join(", ")
                )
            })
        },
        // The expiry's role and schedule group need nothing of the rest: made
        // while the load balancer provisions.
        async {
            match (plan.expires_after, &seen.expiry_role) {
                // Schedules exist: their group does, and so does their role.
                (Some(_), Some(role)) if !role.is_empty() => Ok(Some((role.clone(), false))),
                (Some(_), _) => expiry::prepare(ctx, plan, &identity.account)
                    .await
                    .map(Some),
                (None, _) => Ok(None),
            }
        },
    )?;
    warnings.extend(lb_notes);

    let url = plan.site_url(&lb.value.dns_name);

    // Expiry: the schedules name what now serves, at expires_after from now
    // (or go, for `off`).
    let servers_target = if plan.count > 1 {
        expiry::Servers::Group(plan.asg_name.clone())
    } else {
        expiry::Servers::Instances(servers.members.iter().map(|m| m.id.clone()).collect())
    };
    let expires_at = step(progress, "expiry", async {
        let t = match (&expiry_role, expiry::expires_at(plan)) {
            (Some((role, fresh)), Some(t)) => {
                expiry::write(
                    ctx,
                    plan,
                    (role, *fresh),
                    t,
                    &lb.value.arn,
                    &servers_target,
                    seen.expiry.is_some(),
                )
                .await?;
                Some(t)
            }
            _ => {
                if seen.expiry.is_some() {
                    expiry::delete_schedules(ctx, plan).await?;
                }
                None
            }
        };
        let msg = match t {
            Some(t) => format!("at {}", t.format("%Y-%m-%d %H:%M UTC")),
            None => "off".to_string(),
        };
        Ok((t, msg))
    })
    .await?;
    let expiry_outcome = match (expires_at, seen.expiry) {
        (Some(_), None) => Some(Outcome::Created),
        (Some(_), Some(_)) => Some(Outcome::Existing),
        (None, Some(_)) => Some(Outcome::Deleted),
        (None, None) => None,
    };

    // With `max`: target tracking once the group and the load balancer exist
    // (set again whenever the group changed; PutScalingPolicy overwrites).
    if let Some(g) = &servers.fleet {
        if g.outcome != Outcome::Existing {
            autoscaling::ensure_scaling(ctx, plan, &lb.value.arn, &tg.value).await?;
        }
    }

    // Stage 4: the site in service, then what it takes the place of taken out:
    // instances of an earlier template (or of a crashed run) deregistered, then
    // terminated; with count > 1 the single instances, with count = 1 the group.
    let first = servers.members.first().context("no web server")?.clone();
    let ids: Vec<String> = servers.members.iter().map(|m| m.id.clone()).collect();
    let others: Vec<String> = if plan.count > 1 {
        seen.singles(plan)
            .into_iter()
            .map(|i| i.id.clone())
            .collect()
    } else {
        others
            .into_iter()
            .map(|i| i.id)
            .filter(|id| *id != first.id)
            .collect()
    };
    let old_fleet = plan.count == 1
        && (seen.fleet.present().is_some() || seen.launch_template.present().is_some());
    // Everything still serving that this deploy replaces.
    let mut replacing = others.clone();
    if let Some(r) = &servers.roll {
        replacing.extend(r.old.iter().cloned());
    }
    let mut site_status = None;
    let mut live_template = None;
    if opts.site_check || !replacing.is_empty() || old_fleet {
        let s = progress.step("site");
        s.set("waiting for the health check");
        let watch = crate::site::Watch {
            ctx,
            plan,
            tg: &tg.value,
            current: &ids,
            old: &replacing,
            url: &url,
            resolve: opts.site_address,
            limit: opts.site_limit,
            boot_grace: opts.boot_grace,
            check_site: opts.site_check,
        };
        let r = crate::site::prove(&watch, |st, t| s.waiting(st, t)).await;
        match r {
            Ok(proof) => {
                s.done(&if opts.site_check {
                    if proof.template.is_empty() {
                        format!("{url} answers HTTP 200")
                    } else {
                        format!("{} serves template {}", ids.join(", "), proof.template)
                    }
                } else {
                    format!("{} healthy", ids.join(", "))
                });
                site_status = proof.status;
                live_template = Some(proof.template).filter(|t| !t.is_empty());
            }
            Err(e) => {
                s.fail(&format!("{e:#}"));
                let undo = match (&servers.roll, &servers.fleet) {
                    (Some(r), _) => Undo::Roll(r),
                    (None, Some(f)) if f.outcome == Outcome::Created => Undo::NewFleet,
                    _ => Undo::Instances,
                };
                let err = site_failed(
                    ctx, plan, &tg.value, &ids, &replacing, undo, e, opts, progress,
                )
                .await;
                // The old web servers serve again: the expiry names them.
                if let (false, Some((role, _)), Some(t)) =
                    (others.is_empty(), &expiry_role, expires_at)
                {
                    let back = expiry::Servers::Instances(others.clone());
                    if let Err(x) =
                        expiry::write(ctx, plan, (role, false), t, &lb.value.arn, &back, true).await
                    {
                        return Err(err.context(format!(
                            "the expiry schedule could not be pointed back at {}: {x:#}; run \
                             deploy again",
                            others.join(", ")
                        )));
                    }
                }
                return Err(err);
            }
        }
    }
    if let Some(roll) = &servers.roll {
        let s = progress.step("old instances");
        s.set(&format!("retiring {} from the group", roll.old.join(", ")));
        let r = autoscaling::roll_finish(ctx, plan, roll).await;
        finish(&s, r, |_| {
            format!(
                "{} retired (the group drains, then terminates them)",
                roll.old.join(", ")
            )
        })?;
    }
    if !others.is_empty() {
        let s = progress.step("old instances");
        let r = async {
            s.set(&format!("deregistering {}", others.join(", ")));
            targetgroup::deregister(ctx, &tg.value, &others).await?;
            s.set(&format!("draining {}", others.join(", ")));
            targetgroup::wait_drained(ctx, &tg.value, &others, opts.wait_limit, |st, t| {
                s.waiting(st, t)
            })
            .await?;
            s.set(&format!("terminating {}", others.join(", ")));
            instance::terminate(ctx, &others).await
        }
        .await;
        finish(&s, r, |_| {
            format!("drained and terminated {}", others.join(", "))
        })?;
    }
    let mut removed = Vec::new();
    if old_fleet {
        let s = progress.step("Auto Scaling group");
        let r = async {
            s.set("deleting it and its instances (count = 1)");
            let g =
                autoscaling::delete(ctx, plan, opts.wait_limit, |st, t| s.waiting(st, t)).await?;
            let lt = launchtemplate::delete(ctx, plan).await?;
            Ok::<_, anyhow::Error>((g, lt))
        }
        .await;
        let (g, lt) = finish(&s, r, |_| "deleted; one instance serves".to_string())?;
        if lt == Deleted::Deleted {
            removed.push(report(
                plan,
                &decisions,
                Kind::LaunchTemplate,
                "",
                Outcome::Deleted,
            ));
        }
        if g == Deleted::Deleted {
            removed.push(report(
                plan,
                &decisions,
                Kind::AutoScalingGroup,
                "",
                Outcome::Deleted,
            ));
        }
    }
    let replaced = replacing;
    let inst_outcome = if replaced.is_empty() {
        servers.outcome
    } else {
        Outcome::Replaced
    };

    let registered_outcome = if servers.registered == Outcome::Existing {
        Outcome::Existing
    } else {
        Outcome::Updated
    };
    let d = &decisions;
    let mut resources = vec![
        report(plan, d, Kind::KeyPair, &key.value.id, key.outcome),
        report(plan, d, Kind::LbGroup, &lb_sg.value.id, lb_sg.outcome),
        report(plan, d, Kind::WebGroup, &web_sg.value.id, web_sg.outcome),
        report(plan, d, Kind::TargetGroup, &tg.value.arn, tg.outcome),
    ];
    if let Some(lt) = &servers.launch_template {
        resources.push(report(
            plan,
            d,
            Kind::LaunchTemplate,
            &lt.value.id,
            lt.outcome,
        ));
    }
    if let Some(g) = &servers.fleet {
        resources.push(report(
            plan,
            d,
            Kind::AutoScalingGroup,
            &g.value.name,
            g.outcome,
        ));
    }
    for m in &servers.members {
        resources.push(report(plan, d, Kind::Instance, &m.id, inst_outcome));
    }
    for m in &servers.members {
        resources.push(report(plan, d, Kind::Target, &m.id, registered_outcome));
    }
    resources.extend(removed);
    resources.push(report(
        plan,
        d,
        Kind::LoadBalancer,
        &lb.value.arn,
        lb.outcome,
    ));
    resources.push(report(
        plan,
        d,
        Kind::Listener,
        &listener.value.arn,
        listener.outcome,
    ));
    if let Some(o) = expiry_outcome {
        let id = if o == Outcome::Deleted {
            String::new()
        } else {
            plan.schedule_group.clone()
        };
        resources.push(report(plan, d, Kind::Expiry, &id, o));
    }
    let ssh_command = first.public_ip.as_ref().map(|ip| {
        format!(
            "ssh -i {} ec2-user@{ip}",
            shell_quote(&plan.pem_path.display().to_string())
        )
    });
    // Target health for the summary: as observed when nothing was registered
    // or removed since, else read again.
    let lb_zones = if lb.value.zones.is_empty() {
        plan.lb_zones
    } else {
        lb.value.zones.len()
    };
    let health = if servers.registered == Outcome::Existing && replaced.is_empty() {
        seen.targets.clone()
    } else {
        targetgroup::targets(ctx, &tg.value)
            .await
            .unwrap_or_default()
    };
    let instances = servers
        .members
        .iter()
        .map(|m| ServerReport {
            id: m.id.clone(),
            zone: m.zone.clone(),
            public_ip: m.public_ip.clone(),
            health: health
                .iter()
                .find(|(id, _)| *id == m.id)
                .map(|(_, h)| h.clone())
                .unwrap_or_else(|| "unregistered".into()),
        })
        .collect();
    Ok(Summary {
        deployment: plan.name.clone(),
        region: ctx.region.clone(),
        url,
        load_balancer_dns: lb.value.dns_name.clone(),
        instance_id: first.id.clone(),
        public_ip: first.public_ip.clone(),
        instances,
        ssh_command,
        ssh_cidr,
        account: identity.account.clone(),
        resources,
        replaced,
        site_status,
        live_template,
        expires_at: expires_at.map(|t| t.to_rfc3339()),
        expiry: expires_at.map(expiry::describe),
        cost: crate::cost::estimate(
            &plan.instance_type,
            plan.root_volume_gb,
            lb_zones,
            plan.count,
        )?,
        cost_so_far: crate::cost::so_far(
            &plan.instance_type,
            plan.root_volume_gb,
            lb_zones,
            crate::cost::hours_since(lb.value.created),
            &servers
                .members
                .iter()
                .map(|m| crate::cost::hours_since(m.launched))
                .collect::<Vec<_>>(),
        )?,
        warnings,
    })
}

/// The web servers stage 3 leaves serving.
struct Servers {
    /// What was done to the instance(s).
    outcome: Outcome,
    /// Whether they had to be registered.
    registered: Outcome,
    /// The serving instances (one, or the group's).
    members: Vec<instance::Instance>,
    /// The launch template (count > 1).
    launch_template: Option<Ensured<launchtemplate::LaunchTemplate>>,
    /// The Auto Scaling group (count > 1).
    fleet: Option<Ensured<autoscaling::Group>>,
    /// A roll under way: new group instances beside the old ones, which the
    /// site check decides between.
    roll: Option<autoscaling::Roll>,
}

/// What the fleet is built from.
struct Parts<'a> {
    seen: &'a table::Observed,
    placed: Option<&'a (Option<instance::Image>, network::Placement)>,
    web_sg: &'a Ensured<secgroup::Group>,
    key: &'a Ensured<keypair::KeyPair>,
    tg: &'a Ensured<targetgroup::TargetGroup>,
}

/// count > 1: the launch template (a new version for a new template), the Auto
/// Scaling group in the load balancer's zones, registered in the target group;
/// a template change rolled with full capacity kept (see `autoscaling::roll`).
async fn fleet_servers(
    ctx: &Ctx,
    plan: &Plan,
    opts: &DeployOptions,
    progress: &Progress,
    p: &Parts<'_>,
) -> Result<Servers> {
    let s = progress.step("web servers");
    let r = async {
        let found_lt = p.seen.launch_template.present().cloned();
        let lt = match (&found_lt, p.placed) {
            (Some(lt), _) if lt.fingerprint == plan.fingerprint => {
                launchtemplate::keep(ctx, plan, lt.clone()).await?
            }
            (_, Some((Some(image), placement))) => {
                s.set("launch template");
                let inputs = launchtemplate::TemplateInputs {
                    image,
                    security_group_id: &p.web_sg.value.id,
                    key_name: &p.key.value.name,
                    public_ip: !placement.instance.maps_public_ip,
                };
                launchtemplate::ensure(ctx, plan, found_lt, &inputs).await?
            }
            _ => anyhow::bail!("no image for the launch template"),
        };
        let subnets: Vec<String> = match (p.seen.fleet.present(), p.placed) {
            (Some(g), _) => g.subnets.clone(),
            (None, Some((_, placement))) => placement
                .lb_candidates
                .iter()
                .take(plan.lb_zones)
                .map(|z| z.id.clone())
                .collect(),
            (None, None) => anyhow::bail!("no subnets for the Auto Scaling group"),
        };
        s.set("Auto Scaling group");
        let g = autoscaling::ensure(
            ctx,
            plan,
            p.seen.fleet.present().cloned(),
            &lt.value,
            &subnets,
            &p.tg.value,
        )
        .await?;
        let roll = if g.value.old_members(plan).is_empty() {
            None
        } else {
            s.set("rolling: new instances first");
            Some(
                autoscaling::roll_start(
                    ctx,
                    plan,
                    &g.value,
                    &lt.value,
                    &p.tg.value,
                    opts.wait_limit,
                    |st, t| s.waiting(st, t),
                )
                .await?,
            )
        };
        // Nothing changed and every instance already serves: no wait.
        let settled = g.outcome == Outcome::Existing
            && roll.is_none()
            && g.value.members.len() == plan.count
            && g.value
                .members
                .iter()
                .all(|m| m.state == "InService" && m.fingerprint == plan.fingerprint);
        let members = if settled {
            g.value.members.clone()
        } else {
            s.set("waiting for the instances to be in service");
            autoscaling::wait_ready(ctx, plan, &p.tg.value, false, opts.wait_limit, |st, t| {
                s.waiting(st, t)
            })
            .await?
        };
        let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
        let members = instance::describe_ids(ctx, &ids).await?;
        // The group's tags reach new instances; those already running follow
        // deploy.toml's [tags] here.
        let mut retagged = false;
        for m in &members {
            let drift = tag_drift(&m.tags, plan);
            ec2_retag(ctx, &m.id, &drift).await?;
            retagged |= !drift.is_empty();
        }
        let registered = if ids
            .iter()
            .all(|id| p.seen.targets.iter().any(|(t, _)| t == id))
        {
            Outcome::Existing
        } else {
            Outcome::Created
        };
        let outcome = if g.outcome == Outcome::Created {
            Outcome::Created
        } else if registered == Outcome::Existing && roll.is_none() && !retagged {
            Outcome::Existing
        } else {
            Outcome::Updated
        };
        Ok(Servers {
            outcome,
            registered,
            members,
            launch_template: Some(lt),
            fleet: Some(g),
            roll,
        })
    }
    .await;
    finish(&s, r, |f| {
        format!(
            "{} in service: {}",
            f.members.len(),
            f.members
                .iter()
                .map(|m| format!("{} ({})", m.id, m.zone))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The site check failed: the cause and the failing web server's last boot
/// output; in a replacement (old web servers still serving), the new ones are
/// deregistered and terminated so the old keep the site up.
/// What undoes the new web servers after a failed site check.
enum Undo<'a> {
    /// Single instances: deregistered and terminated.
    Instances,
    /// A roll of the group: back to its previous version, the new retired.
    Roll(&'a autoscaling::Roll),
    /// A group made by this deploy beside single instances: deleted.
    NewFleet,
}

#[allow(clippy::too_many_arguments)]
async fn site_failed(
    ctx: &Ctx,
    plan: &Plan,
    tg: &crate::resources::targetgroup::TargetGroup,
    new: &[String],
    old: &[String],
    undo: Undo<'_>,
    e: anyhow::Error,
    opts: &DeployOptions,
    progress: &Progress,
) -> anyhow::Error {
    let who = e
        .downcast_ref::<crate::site::SiteFailure>()
        .and_then(|f| f.instance.clone())
        .filter(|i| new.contains(i))
        .or_else(|| new.first().cloned());
    let mut msg = format!("the site check failed: {e:#}");
    if let Some(id) = &who {
        match crate::console::output(ctx, id).await {
            Ok(text) if !text.trim().is_empty() => msg.push_str(&format!(
                "\n\nLast 30 lines of {id}'s boot output (all of it: `logs`):\n{}",
                crate::console::tail(&text, 30)
            )),
            Ok(_) => msg.push_str(&format!("\n\n{id} has no boot output yet.")),
            Err(c) => msg.push_str(&format!("\n\n(could not read {id}'s boot output: {c:#})")),
        }
    }
    if old.is_empty() {
        msg.push_str(&format!(
            "\n\nThe deployment is left as it is (see `status`); fix the cause and run deploy \
             again, or remove it with cleanup. Template: {}.",
            plan.template
        ));
        return anyhow::anyhow!(msg);
    }
    let s = progress.step("rollback");
    let r = async {
        match undo {
            Undo::Instances => {
                s.set(&format!("deregistering {}", new.join(", ")));
                targetgroup::deregister(ctx, tg, new).await?;
                s.set(&format!("terminating {}", new.join(", ")));
                instance::terminate(ctx, new).await
            }
            Undo::Roll(roll) => {
                s.set(&format!(
                    "{} back on its previous version; retiring {}",
                    plan.asg_name,
                    new.join(", ")
                ));
                autoscaling::roll_back(ctx, plan, roll, new).await
            }
            Undo::NewFleet => {
                s.set(&format!("deleting {} and its instances", plan.asg_name));
                autoscaling::delete(ctx, plan, opts.wait_limit, |st, t| s.waiting(st, t)).await?;
                launchtemplate::delete(ctx, plan).await.map(|_| ())
            }
        }
    }
    .await;
    match r {
        Ok(()) => {
            s.done(&format!(
                "{} removed; {} still serve the previous site",
                new.join(", "),
                old.join(", ")
            ));
            msg.push_str(&format!(
                "\n\nThe new web server(s) {} were deregistered and terminated; {} still \
                 serve the previous site. Template {} was not deployed.",
                new.join(", "),
                old.join(", "),
                plan.template
            ));
        }
        Err(r) => {
            s.fail(&format!("{r:#}"));
            msg.push_str(&format!(
                "\n\nRemoving the new web server(s) failed too: {r:#}. Run deploy again."
            ));
        }
    }
    anyhow::anyhow!(msg)
}

fn finish<T>(s: &Step, r: Result<T>, msg: impl FnOnce(&T) -> String) -> Result<T> {
    match &r {
        Ok(v) => s.done(&msg(v)),
        Err(e) => s.fail(&format!("{e:#}")),
    }
    r
}

/// Quotes a word for this platform's shell when it needs it (see [`quote_for`]).
pub fn shell_quote(s: &str) -> String {
    quote_for(s, cfg!(windows))
}

/// Quotes a word for a command line: POSIX shells get single quotes (a quote
/// inside closed, escaped, reopened); on Windows (PowerShell and cmd alike)
/// double quotes, which neither shell expands inside a path (a path cannot
/// hold `"`).
pub fn quote_for(s: &str, windows: bool) -> String {
    let plain = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '@')
            || (windows && c == '\\')
    };
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else if windows {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(quote_for("/home/me/k.pem", false), "/home/me/k.pem");
        assert_eq!(quote_for("/my keys/k.pem", false), "'/my keys/k.pem'");
        assert_eq!(quote_for("it's", false), "'it'\\''s'");
        // Windows: backslashes are plain; spaces and the rest get double quotes.
        assert_eq!(quote_for(r"C:\Users\me\k.pem", true), r"C:\Users\me\k.pem");
        assert_eq!(
            quote_for(r"C:\Users\Jo Doe\k.pem", true),
            r#""C:\Users\Jo Doe\k.pem""#
        );
        assert_eq!(quote_for("it's", true), "\"it's\"");
        assert_eq!(shell_quote("a b"), quote_for("a b", cfg!(windows)));
    }
}
