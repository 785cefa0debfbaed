//! What exists of a deployment right now: the resource table observed
//! ([`crate::observe`]: tags and names, no local state), for `status`,
//! `cleanup --plan`, and after an interrupted run to say what is there and how
//! to remove it. A same-named resource without this tool's tags is not part of
//! the deployment and is not listed.

use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Observed, Purpose};
use crate::spec::Specs;
use crate::table::{self, Row};

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
    /// Registered targets and their health: `(instance id, state)`.
    pub targets: Vec<(String, String)>,
    /// Hours since its oldest load balancer or web server was created.
    pub age_hours: Option<f64>,
    /// What it costs per hour as it stands (US dollars; `None` when the
    /// instance type is not in the price table).
    pub cost_per_hour: Option<f64>,
    /// What the deployment has cost since it was created (from what exists).
    pub cost_so_far: Option<crate::cost::SoFar>,
    /// When the expiry schedules fire (UTC, RFC 3339), if they exist.
    pub expires_at: Option<String>,
    /// The same in local time, with how to keep the site.
    pub expiry: Option<String>,
    /// Look-ups that failed.
    pub errors: Vec<String>,
}

/// What exists, with the load balancer's state, the targets' health and the URL.
pub async fn status(ctx: &Ctx, specs: &Specs) -> Status {
    from_observed(ctx, specs, observe(ctx, specs, Purpose::View).await)
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
            Some(crate::site::url(&l.dns_name, port)),
            Some(l.state.as_str().to_string()),
        ),
        None => (None, None),
    };
    let live: Vec<&crate::resources::instance::Instance> =
        seen.instances.iter().filter(|i| i.is_live()).collect();
    // What runs is priced, whatever deploy.toml says now.
    let launch = &specs.launch;
    let instance_type = live
        .first()
        .map(|i| i.instance_type.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or(&launch.instance_type);
    let server_hours: Vec<f64> = live
        .iter()
        .map(|i| crate::cost::hours_since(i.launched))
        .collect();
    let lb_zones = lb.map(|l| l.zones.len().max(1));
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
    Status {
        deployment: specs.name.clone(),
        region: ctx.region.clone(),
        resources: table::existing(specs, &seen),
        url,
        load_balancer_state,
        targets: seen
            .targets
            .iter()
            .map(|t| (t.id.clone(), t.state.as_str().to_string()))
            .collect(),
        age_hours,
        cost_per_hour: crate::cost::per_hour_now(
            instance_type,
            launch.root_volume_gb,
            lb_zones,
            live.len(),
        )
        .ok()
        .flatten(),
        cost_so_far: lb.and_then(|l| {
            crate::cost::so_far(
                instance_type,
                launch.root_volume_gb,
                l.zones.len().max(1),
                crate::cost::hours_since(l.created),
                &server_hours,
            )
            .ok()
        }),
        expires_at: expires.map(|t| t.to_rfc3339()),
        expiry: expires.map(crate::resources::expiry::describe),
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
        match self.cost_per_hour {
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
        if let Some(c) = self.cost_per_hour {
            s.push_str(&format!("Cost now: about ${c:.3}/hour\n"));
        }
        if let Some(c) = &self.cost_so_far {
            s.push_str(&format!("Cost so far: {}\n", c.to_line()));
        }
        if let Some(e) = &self.expiry {
            s.push_str(&format!("Expires: {e}\n"));
        }
        s
    }
}
