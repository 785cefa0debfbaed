//! What exists of a deployment right now, found the way cleanup finds it (tags
//! and names, no local state): for `status`, `cleanup --plan`, and after an
//! interrupted run to say what is there and how to remove it. A same-named
//! resource without this tool's tags is not part of the deployment and is not
//! listed.

use anyhow::Result;
use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::Plan;
use crate::resources::loadbalancer::{self, LoadBalancer};
use crate::resources::targetgroup::{self, TargetGroup};
use crate::resources::{instance, is_foreign, keypair, secgroup};

/// One resource that exists.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// Kind, e.g. "instance".
    pub kind: &'static str,
    /// Name or id.
    pub name: String,
    /// State or detail.
    pub detail: String,
}

/// What a scan found.
pub struct Scan {
    /// Every resource of the deployment that exists, in deploy order.
    pub found: Vec<Found>,
    /// Look-ups that failed, reported rather than dropped.
    pub errors: Vec<String>,
    /// The load balancer, when it exists (for its state and URL).
    pub load_balancer: Option<LoadBalancer>,
    /// The target group, when it exists (for its targets' health).
    pub target_group: Option<TargetGroup>,
}

/// Looks up every resource of the deployment at once.
pub async fn scan(ctx: &Ctx, plan: &Plan) -> Scan {
    let (key, lb_sg, web_sg, insts, tg, lb) = tokio::join!(
        keypair::find(ctx, plan),
        secgroup::find(ctx, plan, None, &plan.lb_sg_name),
        secgroup::find(ctx, plan, None, &plan.web_sg_name),
        instance::find_all(ctx, plan, instance::NOT_TERMINATED),
        targetgroup::find(ctx, plan),
        loadbalancer::find(ctx, plan),
    );
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut note = |r: Result<Option<Found>>| match r {
        Ok(Some(f)) => found.push(f),
        Ok(None) => {}
        // Same name, not this tool's tags: not part of this deployment.
        Err(e) if is_foreign(&e) => {}
        Err(e) => errors.push(format!("{e:#}")),
    };
    note(key.map(|k| {
        k.map(|k| Found {
            kind: "key pair",
            name: k.name,
            detail: k.id,
        })
    }));
    for (g, name) in [(lb_sg, &plan.lb_sg_name), (web_sg, &plan.web_sg_name)] {
        note(g.map(|g| {
            g.map(|g| Found {
                kind: "security group",
                name: name.clone(),
                detail: g.id,
            })
        }));
    }
    match insts {
        Ok(list) => {
            for i in list {
                note(Ok(Some(Found {
                    kind: "instance",
                    name: i.id,
                    detail: i.state,
                })));
            }
        }
        Err(e) => note(Err(e)),
    }
    let target_group = tg.unwrap_or_else(|e| {
        note(Err(e));
        None
    });
    if let Some(t) = &target_group {
        note(Ok(Some(Found {
            kind: "target group",
            name: t.name.clone(),
            detail: t.arn.clone(),
        })));
    }
    let load_balancer = lb.unwrap_or_else(|e| {
        note(Err(e));
        None
    });
    if let Some(l) = &load_balancer {
        note(Ok(Some(Found {
            kind: "load balancer",
            name: l.name.clone(),
            detail: format!("{} {}", l.state, l.dns_name),
        })));
    }
    Scan {
        found,
        errors,
        load_balancer,
        target_group,
    }
}

/// The scan as lines for stderr.
pub fn to_text(found: &[Found], errors: &[String]) -> String {
    let mut s = String::new();
    if found.is_empty() && errors.is_empty() {
        s.push_str("nothing of this deployment exists in AWS\n");
    }
    for f in found {
        s.push_str(&format!("  {:<15} {:<28} {}\n", f.kind, f.name, f.detail));
    }
    for e in errors {
        s.push_str(&format!("  could not check: {e}\n"));
    }
    s
}

/// The deployment as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// What exists.
    pub resources: Vec<Found>,
    /// The site URL, when the load balancer exists.
    pub url: Option<String>,
    /// Load balancer state (provisioning, active...).
    pub load_balancer_state: Option<String>,
    /// Registered targets and their health: `(instance id, state)`.
    pub targets: Vec<(String, String)>,
    /// Look-ups that failed.
    pub errors: Vec<String>,
}

/// What exists, with the load balancer's state, the targets' health and the URL.
pub async fn status(ctx: &Ctx, plan: &Plan) -> Status {
    let Scan {
        found: resources,
        mut errors,
        load_balancer,
        target_group,
    } = scan(ctx, plan).await;
    let (url, load_balancer_state) = match load_balancer {
        Some(l) => (Some(plan.site_url(&l.dns_name)), Some(l.state)),
        None => (None, None),
    };
    let targets = match target_group {
        Some(t) => match targetgroup::targets(ctx, &t).await {
            Ok(list) => list,
            Err(e) => {
                errors.push(format!("{e:#}"));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    Status {
        deployment: plan.name.clone(),
        region: ctx.region.clone(),
        resources,
        url,
        load_balancer_state,
        targets,
        errors,
    }
}

impl Status {
    /// The human-readable form.
    pub fn to_text(&self) -> String {
        let mut s = format!("Deployment {} in {}\n", self.deployment, self.region);
        s.push_str(&to_text(&self.resources, &self.errors));
        if let Some(u) = &self.url {
            s.push_str(&format!(
                "Site: {u} (load balancer {})\n",
                self.load_balancer_state.as_deref().unwrap_or("unknown")
            ));
        }
        for (id, health) in &self.targets {
            s.push_str(&format!("Target {id}: {health}\n"));
        }
        s
    }
}
