//! What exists of a deployment right now: the resource table observed
//! ([`crate::observe`]: tags and names, no local state), for `status`,
//! `cleanup --plan`, and after an interrupted run to say what is there and how
//! to remove it. A same-named resource without this tool's tags is not part of
//! the deployment and is not listed.

use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Observed, Purpose};
use crate::spec::Specs;
use crate::table::{self, Kind, Row};

/// The observed rows as lines for stderr.
pub fn to_text(rows: &[Row], errors: &[String]) -> String {
    let mut s = String::new();
    if rows.is_empty() && errors.is_empty() {
        s.push_str("nothing of this deployment exists in AWS\n");
    }
    for r in rows {
        let detail = if r.detail.is_empty() {
            r.short_id().to_string()
        } else {
            format!("{} {}", r.short_id(), r.detail)
        };
        s.push_str(&format!("  {:<15} {:<28} {}\n", r.kind, r.name, detail));
    }
    for e in errors {
        s.push_str(&format!("  could not check: {e}\n"));
    }
    s
}

/// A registered target and its health.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    /// Instance id.
    pub id: String,
    /// `initial`, `healthy`, `unhealthy`, `draining`, `unused`...
    pub state: String,
    /// AWS's reason code, when it gives one.
    pub reason: Option<String>,
}

/// A web server as status shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    /// Instance id.
    pub id: String,
    /// pending, running, stopped...
    pub state: String,
    /// Availability zone.
    pub zone: String,
    /// Public IPv4 address, if any.
    pub public_ip: Option<String>,
    /// The template it was launched to serve (`<id>_<slug>`).
    pub template: Option<String>,
    /// The SSH command, when it has a public address and the key is here.
    pub ssh_command: Option<String>,
}

/// What the deployment costs per hour as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct CostNow {
    /// US dollars per hour (`None`: the instance type is not in the table).
    pub per_hour: Option<f64>,
}

/// The deployment as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// What exists: the table's rows.
    pub resources: Vec<Row>,
    /// The site URL, when the load balancer exists.
    pub url: Option<String>,
    /// Load balancer state (provisioning, active...).
    pub load_balancer_state: Option<String>,
    /// The web servers.
    pub instances: Vec<InstanceReport>,
    /// Registered targets and their health.
    pub targets: Vec<TargetReport>,
    /// Hours since its oldest load balancer or web server was created.
    pub age_hours: Option<f64>,
    /// What it costs per hour as it stands.
    pub cost: CostNow,
    /// What the deployment has cost since it was created (from what exists).
    pub cost_so_far: Option<crate::cost::SoFar>,
    /// When the expiry schedules fire (UTC, RFC 3339), if they exist.
    pub expires_at: Option<String>,
    /// The same, for the text.
    #[serde(skip)]
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
    /// Look-ups that failed.
    pub errors: Vec<String>,
}

/// What exists, with the load balancer's state, the targets' health and the URL.
pub async fn status(ctx: &Ctx, specs: &Specs) -> Status {
    from_observed(ctx, specs, observe(ctx, specs, Purpose::View).await)
}

/// The instance type of what runs (what is priced, whatever deploy.toml says
/// now).
fn running_type<'a>(specs: &'a Specs, seen: &'a Observed) -> &'a str {
    seen.instances
        .iter()
        .filter(|i| i.is_live())
        .map(|i| i.instance_type.as_str())
        .find(|t| !t.is_empty())
        .unwrap_or(&specs.launch.instance_type)
}

/// What the observed deployment costs per hour as it stands (`None`: its
/// instance type is not in the price table).
pub fn cost_now(specs: &Specs, seen: &Observed) -> Option<f64> {
    let lb_zones = seen.load_balancer.ours().map(|l| l.zones.len().max(1));
    let live = seen.instances.iter().filter(|i| i.is_live()).count();
    crate::cost::per_hour_now(
        running_type(specs, seen),
        specs.launch.root_volume_gb,
        lb_zones,
        live,
    )
    .ok()
    .flatten()
}

/// The status of what was observed.
pub fn from_observed(ctx: &Ctx, specs: &Specs, seen: Observed) -> Status {
    let lb = seen.load_balancer.ours();
    let port = seen
        .listeners
        .first()
        .map(|l| l.port)
        .unwrap_or(specs.listener.port);
    let (url, load_balancer_state) = match lb {
        Some(l) => (
            Some(crate::site::site_url(
                seen.distribution.ours(),
                &l.dns_name,
                port,
            )),
            Some(l.state.as_str().to_string()),
        ),
        None => (None, None),
    };
    let live: Vec<&crate::resources::instance::Instance> =
        seen.instances.iter().filter(|i| i.is_live()).collect();
    let server_hours: Vec<f64> = live
        .iter()
        .map(|i| crate::cost::hours_since(i.launched))
        .collect();
    let expires = seen.expiry.at();
    let created: Vec<Option<i64>> = lb
        .map(|l| l.created)
        .into_iter()
        .chain(live.iter().map(|i| i.launched))
        .collect();
    let age_hours = created
        .iter()
        .flatten()
        .min()
        .map(|c| crate::cost::hours_since(Some(*c)));
    let pem = &specs.key.pem;
    let ssh = |ip: &String| {
        (!pem.as_os_str().is_empty() && pem.is_file()).then(|| {
            let pem = crate::shell::quote(&pem.display().to_string());
            format!("ssh -i {pem} ec2-user@{ip}")
        })
    };
    Status {
        deployment: specs.name.clone(),
        region: ctx.region.clone(),
        resources: table::existing(specs, &seen),
        url,
        load_balancer_state,
        instances: seen
            .instances
            .iter()
            .map(|i| InstanceReport {
                id: i.id.clone(),
                state: i.state.as_str().to_string(),
                zone: i.zone.clone(),
                public_ip: i.public_ip.clone(),
                template: i.template.clone(),
                ssh_command: i.public_ip.as_ref().and_then(ssh),
            })
            .collect(),
        targets: seen
            .targets
            .iter()
            .map(|t| TargetReport {
                id: t.id.clone(),
                state: t.state.as_str().to_string(),
                reason: t.reason.clone(),
            })
            .collect(),
        age_hours,
        cost: CostNow {
            per_hour: cost_now(specs, &seen),
        },
        cost_so_far: lb.and_then(|l| {
            crate::cost::so_far(
                running_type(specs, &seen),
                specs.launch.root_volume_gb,
                l.zones.len().max(1),
                crate::cost::hours_since(l.created),
                &server_hours,
                l.retired_hours(),
            )
            .ok()
        }),
        expires_at: expires.map(crate::resources::expiry::rfc3339),
        expires,
        errors: seen.errors,
    }
}

impl Status {
    /// One line: name, region, age, cost now and so far.
    pub fn headline(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = self.age_hours {
            parts.push(format!("up {h:.1} hours"));
        }
        match self.cost.per_hour {
            Some(c) => parts.push(format!("about ${c:.3}/hour now")),
            None => {
                parts.push("cost per hour unknown (instance type not in the price table)".into())
            }
        }
        if let Some(d) = self.cost_so_far.as_ref().and_then(|c| c.dollars) {
            parts.push(format!("about ${d:.2} so far"));
        }
        format!(
            "{} in {}: {}\n",
            self.deployment,
            self.region,
            parts.join(", ")
        )
    }

    /// What the load balancer's state means for the site: active with no
    /// healthy target answers nothing.
    fn site_state(&self) -> String {
        let lb = self.load_balancer_state.as_deref().unwrap_or("unknown");
        let healthy = self.targets.iter().filter(|t| t.state == "healthy").count();
        match (lb, self.targets.len(), healthy) {
            ("active", 0, _) => {
                "load balancer active, but no web server is registered: the site cannot answer"
                    .to_string()
            }
            ("active", n, 0) => format!(
                "load balancer active, but none of its {n} web server(s) is healthy yet: the \
                 site cannot answer"
            ),
            ("active", n, h) => format!("load balancer active, {h} of {n} web server(s) healthy"),
            (other, _, _) => format!("load balancer {other}"),
        }
    }

    /// The human-readable form.
    pub fn to_text(&self) -> String {
        let mut s = format!("Deployment {} in {}\n", self.deployment, self.region);
        s.push_str(&to_text(&self.resources, &self.errors));
        if let Some(u) = &self.url {
            s.push_str(&format!("Site: {u} ({})\n", self.site_state()));
        }
        let cdn = Kind::Distribution.label();
        if self.load_balancer_state.is_none() && self.resources.iter().any(|r| r.kind == cdn) {
            let domain = [Kind::Certificate, Kind::DnsRecords]
                .iter()
                .any(|k| self.resources.iter().any(|r| r.kind == k.label()));
            let extra = match domain {
                true => " (and the domain's certificate and records, also free)",
                false => "",
            };
            s.push_str(&format!(
                "Left: the CloudFront distribution{extra}, with no load balancer behind it: it \
                 costs nothing (the expiry cannot delete a distribution); cleanup removes it\n",
            ));
        }
        for i in &self.instances {
            s.push_str(&format!(
                "Server: {} {} in {}{}{}\n",
                i.id,
                i.state,
                i.zone,
                i.public_ip
                    .as_ref()
                    .map(|ip| format!(", {ip}"))
                    .unwrap_or_default(),
                i.template
                    .as_ref()
                    .map(|t| format!(", template {t}"))
                    .unwrap_or_default()
            ));
            if let Some(c) = &i.ssh_command {
                s.push_str(&format!("  SSH: {c}\n"));
            }
        }
        if let Some(c) = self.cost.per_hour {
            s.push_str(&format!("Cost now: about ${c:.3}/hour\n"));
        }
        if let Some(c) = &self.cost_so_far {
            s.push_str(&format!("Cost so far: {}\n", c.to_line()));
        }
        if let Some(e) = self.expires {
            s.push_str(&format!(
                "Expires: {}\n",
                crate::resources::expiry::describe(e)
            ));
        }
        s
    }
}
