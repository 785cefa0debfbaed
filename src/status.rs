//! What exists of a deployment right now: the resource table observed
//! ([`crate::table::observe`]: tags and names, no local state), for `status`,
//! `cleanup --plan`, and after an interrupted run to say what is there and how
//! to remove it. A same-named resource without this tool's tags is not part of
//! the deployment and is not listed.

use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::Plan;
use crate::table::{self, Observed, Row};

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
pub async fn status(ctx: &Ctx, plan: &Plan) -> Status {
    from_observed(ctx, plan, table::observe(ctx, plan).await)
}

fn from_observed(ctx: &Ctx, plan: &Plan, seen: Observed) -> Status {
    let (url, load_balancer_state) = match seen.load_balancer.present() {
        Some(l) => (Some(plan.site_url(&l.dns_name)), Some(l.state.clone())),
        None => (None, None),
    };
    Status {
        deployment: plan.name.clone(),
        region: ctx.region.clone(),
        resources: seen.rows(Some(plan)),
        url,
        load_balancer_state,
        targets: seen.targets.clone(),
        cost_so_far: seen.load_balancer.present().and_then(|l| {
            let servers: Vec<f64> = seen
                .instances
                .iter()
                .filter(|i| crate::resources::instance::LIVE.contains(&i.state.as_str()))
                .map(|i| crate::cost::hours_since(i.launched))
                .collect();
            crate::cost::so_far(
                &plan.instance_type,
                plan.root_volume_gb,
                l.zones.len().max(1),
                crate::cost::hours_since(l.created),
                &servers,
            )
            .ok()
        }),
        expires_at: seen.expiry.map(|t| t.to_rfc3339()),
        expiry: seen.expiry.map(crate::resources::expiry::describe),
        errors: seen.errors,
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
        if let Some(c) = &self.cost_so_far {
            s.push_str(&format!("Cost so far: {}\n", c.to_line()));
        }
        if let Some(e) = &self.expiry {
            s.push_str(&format!("Expires: {e}\n"));
        }
        s
    }
}
