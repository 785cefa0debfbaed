//! What deploy prints at the end: the URL, the SSH command of every web
//! server, every resource with what was done to it (the decision's rows, the
//! action applied), the expiry and the cost.

use serde::Serialize;

use crate::output::Entry;
use crate::resources::Verb;

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
    /// The SSH command, when it has a public address.
    pub ssh_command: Option<String>,
}

/// What the site check saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiteReport {
    /// Whether the site was checked (`--no-site-check`: not).
    pub checked: bool,
    /// HTTP status the site's page answered, when it was requested.
    pub status: Option<u16>,
    /// The template the web servers' markers say is live.
    pub live_template: Option<String>,
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
    /// Every web server: id, zone, public IP, target health, SSH command.
    pub instances: Vec<ServerReport>,
    /// The CIDR SSH is open to, or `None` when detection failed.
    pub ssh_cidr: Option<String>,
    /// Every resource and what was done (the plan's rows, applied).
    pub resources: Vec<Entry>,
    /// How many rows each action has.
    pub totals: crate::output::Totals,
    /// Instances of an earlier template taken out of service and terminated.
    pub replaced: Vec<String>,
    /// What the site check saw.
    pub site: SiteReport,
    /// When the load balancer and web servers are deleted (UTC, RFC 3339), or
    /// `None` with `expires_after = "off"`.
    pub expires_at: Option<String>,
    /// The same, for the text.
    #[serde(skip)]
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
    /// What the expiry leaves (`[site]`: the content and the instance
    /// profile), in words; empty when it leaves nothing that costs.
    pub left_after_expiry: String,
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
        for (n, i) in self.instances.iter().enumerate() {
            let label = if n == 0 { "Servers:" } else { "" };
            let ip = i
                .public_ip
                .as_ref()
                .map(|ip| format!(" {ip}"))
                .unwrap_or_default();
            s.push_str(&format!(
                "{label:<9} {} ({}{ip}, {})\n",
                i.id, i.zone, i.health
            ));
        }
        for (n, i) in self.instances.iter().enumerate() {
            let label = if n == 0 { "SSH:" } else { "" };
            match (&i.ssh_command, &self.ssh_cidr) {
                (Some(c), Some(_)) => s.push_str(&format!("{label:<9} {c}\n")),
                (Some(c), None) => {
                    s.push_str(&format!("{label:<9} {c}  (no SSH rule: see warnings)\n"))
                }
                (None, _) => s.push_str(&format!("{label:<9} {} has no public IP\n", i.id)),
            }
        }
        s.push_str("\nResources:\n");
        for r in &self.resources {
            // ARNs shortened to their resource part (the JSON keeps them whole).
            let changed = r.action != Verb::Keep && !r.row.detail.is_empty();
            s.push_str(&format!(
                "  {:<15} {:<28} {:<8} {}{}\n",
                r.row.kind,
                r.row.name,
                r.action.done(),
                r.row.short_id(),
                if changed {
                    format!(" ({})", r.row.detail)
                } else {
                    String::new()
                }
            ));
        }
        s.push_str(&format!("  ({})\n", self.totals.to_past_line()));
        for w in &self.warnings {
            s.push_str(&format!("\nwarning: {w}\n"));
        }
        if !self.replaced.is_empty() {
            s.push_str(&format!(
                "\nReplaced (deregistered and terminated): {}\n",
                self.replaced.join(", ")
            ));
        }
        match (self.site.status, &self.site.live_template) {
            (Some(code), Some(t)) => s.push_str(&format!(
                "\nLive: template {t} on every web server (their markers say so); the site answered HTTP {code}.\n"
            )),
            (Some(code), None) => s.push_str(&format!("\nThe site answered HTTP {code}.\n")),
            (None, _) => s.push_str(
                "\nThe site was not checked; it may take a minute or two to answer while the \
                 instance installs the template.\n",
            ),
        }
        match self.expires.map(crate::resources::expiry::describe) {
            Some(e) => {
                s.push_str(&format!("Expires:  {e}\n"));
                if !self.left_after_expiry.is_empty() {
                    s.push_str(&format!(
                        "          Left then: {}\n",
                        self.left_after_expiry
                    ));
                }
            }
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
