//! What deploy prints at the end: the URL, the SSH command, every resource
//! with what was done to it (the decision's rows, the action applied), the
//! web servers, the expiry and the cost.

use serde::Serialize;

use crate::resources::Verb;
use crate::table::Row;

/// One resource in the summary: the table's row and what deploy did.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceReport {
    /// The resource, as every view names it.
    #[serde(flatten)]
    pub row: Row,
    /// What deploy did: the row's action, applied.
    #[serde(serialize_with = "applied")]
    pub outcome: Verb,
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
    /// The human-readable summary; `cleanup` is the command that removes it
    /// all, as the user runs the tool ([`crate::shell::command`]).
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
            let changed = r.outcome != Verb::Keep && !r.row.detail.is_empty();
            s.push_str(&format!(
                "  {:<15} {:<28} {:<8} {}{}\n",
                r.row.kind,
                r.row.name,
                r.outcome.done(),
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

fn applied<S: serde::Serializer>(v: &Verb, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match v {
        Verb::Keep => "existing",
        other => other.done(),
    })
}
