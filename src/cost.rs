//! The hourly cost of a running deployment, from the price table in
//! `config/pricing.toml` (built in; it carries its date and region).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

const TABLE: &str = include_str!("../config/pricing.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    date: String,
    region: String,
    instance: BTreeMap<String, f64>,
    other: Other,
}

impl Table {
    fn load() -> Result<Table> {
        toml::from_str(TABLE).context("config/pricing.toml is malformed")
    }

    /// The load balancer with one public IPv4 address per zone, per hour.
    fn lb_hourly(&self, zones: usize) -> f64 {
        self.other.load_balancer
            + self.other.load_balancer_lcu
            + self.other.public_ipv4 * zones as f64
    }

    /// One web server (instance, its public IPv4 address, its volume), per
    /// hour; `None` when the instance type is not in the table.
    fn server_hourly(&self, instance_type: &str, volume_gib: i32) -> Option<f64> {
        self.instance.get(instance_type).map(|p| {
            p + self.other.public_ipv4 + self.other.gp3_gib_month * f64::from(volume_gib) / 730.0
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Other {
    load_balancer: f64,
    load_balancer_lcu: f64,
    public_ipv4: f64,
    gp3_gib_month: f64,
    /// CloudFront per hour at a learner's traffic (its always-free tier).
    cloudfront: f64,
}

/// One part of an estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// What it is (`t3.micro`, `3 public IPv4`...).
    pub item: String,
    /// US dollars per hour.
    pub per_hour: f64,
}

/// The estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// Total US dollars per hour, when the instance type is in the table.
    pub per_hour: Option<f64>,
    /// The parts.
    pub parts: Vec<Part>,
    /// Date of the prices.
    pub prices_of: String,
    /// Region of the prices.
    pub prices_region: String,
    /// What is missing from the table, if anything.
    pub note: Option<String>,
}

/// Cost per hour of `count` instances of `instance_type`, each with a
/// `volume_gib` root volume and a public IPv4 address, behind a load balancer in
/// `zones` zones (one public IPv4 address each); `https`: behind a CloudFront
/// distribution too.
pub fn estimate(
    instance_type: &str,
    volume_gib: i32,
    zones: usize,
    count: usize,
    https: bool,
) -> Result<Estimate> {
    let t = Table::load()?;
    let ips = count + zones;
    let n = count as f64;
    let times = |what: String| {
        if count > 1 {
            format!("{count} x {what}")
        } else {
            what
        }
    };
    let part = |item: String, per_hour: f64| Part { item, per_hour };
    let mut parts = vec![
        part(
            "load balancer".to_string(),
            t.other.load_balancer + t.other.load_balancer_lcu,
        ),
        part(
            format!("{ips} public IPv4"),
            t.other.public_ipv4 * ips as f64,
        ),
        part(
            times(format!("{volume_gib} GiB gp3")),
            n * t.other.gp3_gib_month * f64::from(volume_gib) / 730.0,
        ),
    ];
    if https {
        parts.push(part(
            "CloudFront (always-free tier: 1 TB out, 10 million requests a month)".into(),
            t.other.cloudfront,
        ));
    }
    let (per_hour, note) = match t.instance.get(instance_type) {
        Some(p) => {
            parts.insert(0, part(times(instance_type.to_string()), n * *p));
            (Some(parts.iter().map(|p| p.per_hour).sum()), None)
        }
        None => (
            None,
            Some(format!(
                "{instance_type} is not in config/pricing.toml; see the EC2 pricing page"
            )),
        ),
    };
    Ok(Estimate {
        per_hour,
        parts,
        prices_of: t.date,
        prices_region: t.region,
        note,
    })
}

/// What the deployment has cost since it was created: the load balancer and
/// its zones' addresses since `lb_hours` ago, each web server (instance,
/// volume, address) since its own launch (`server_hours`), and the hours web
/// servers already retired ran (`retired_hours`, kept on the load balancer).
/// `None` when the instance type is not in the table.
pub fn so_far(
    instance_type: &str,
    volume_gib: i32,
    zones: usize,
    lb_hours: f64,
    server_hours: &[f64],
    retired_hours: f64,
) -> Result<SoFar> {
    let t = Table::load()?;
    let lb = t.lb_hourly(zones) * lb_hours.max(0.0);
    let per_server = t.server_hourly(instance_type, volume_gib);
    let ran: f64 = server_hours.iter().map(|h| h.max(0.0)).sum::<f64>() + retired_hours.max(0.0);
    let dollars = per_server.map(|p| lb + p * ran);
    Ok(SoFar {
        dollars,
        hours: lb_hours.max(server_hours.iter().copied().fold(0.0, f64::max)),
        prices_of: t.date,
        prices_region: t.region,
    })
}

/// What the deployment costs per hour as it stands: the load balancer and its
/// zones' addresses when it exists (`lb_zones`), and `servers` web servers
/// (instance, volume, address). `None` when the instance type is not in the table.
pub fn per_hour_now(
    instance_type: &str,
    volume_gib: i32,
    lb_zones: Option<usize>,
    servers: usize,
) -> Result<Option<f64>> {
    let t = Table::load()?;
    let lb = lb_zones.map_or(0.0, |z| t.lb_hourly(z));
    if servers == 0 {
        return Ok(Some(lb));
    }
    Ok(t.server_hourly(instance_type, volume_gib)
        .map(|p| lb + servers as f64 * p))
}

/// Hours since `created` (Unix seconds), 0 when unknown.
pub fn hours_since(created: Option<i64>) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    created
        .map(|c| (now - c).max(0) as f64 / 3600.0)
        .unwrap_or(0.0)
}

/// The cost so far.
#[derive(Debug, Clone, Serialize)]
pub struct SoFar {
    /// US dollars, when the instance type is in the table.
    pub dollars: Option<f64>,
    /// Hours since the oldest part was created.
    pub hours: f64,
    /// Date of the prices.
    pub prices_of: String,
    /// Region of the prices.
    pub prices_region: String,
}

impl SoFar {
    /// One line for the summary and status.
    pub fn to_line(&self) -> String {
        match self.dollars {
            Some(d) => format!(
                "about ${d:.2} in {:.1} hours ({} prices of {})",
                self.hours, self.prices_region, self.prices_of
            ),
            None => format!(
                "unknown: the instance type is not in config/pricing.toml ({:.1} hours)",
                self.hours
            ),
        }
    }
}

impl Estimate {
    /// One line for the summary.
    pub fn to_line(&self) -> String {
        let parts = self
            .parts
            .iter()
            .map(|p| format!("{} ${:.4}", p.item, p.per_hour))
            .collect::<Vec<_>>()
            .join(", ");
        match self.per_hour {
            Some(total) => format!(
                "about ${total:.3}/hour, ${:.2}/day ({parts}; {} prices of {})",
                total * 24.0,
                self.prices_region,
                self.prices_of
            ),
            None => format!(
                "{} ({parts} per hour; {} prices of {})",
                self.note.as_deref().unwrap_or(""),
                self.prices_region,
                self.prices_of
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_stack_costs_about_six_cents_an_hour() {
        let e = estimate("t3.micro", 8, 2, 1, false).unwrap();
        let total = e.per_hour.unwrap();
        // 0.0104 + 0.0305 + 3 * 0.005 + 8 * 0.08 / 730
        assert!((total - 0.056777).abs() < 0.0001, "{total}");
        assert!(e.to_line().contains("about $0.057/hour"), "{}", e.to_line());
        assert!(e.to_line().contains("2026-11-01"));
    }

    #[test]
    fn https_adds_cloudfront_at_its_free_tier() {
        let plain = estimate("t3.micro", 8, 2, 1, false).unwrap();
        let e = estimate("t3.micro", 8, 2, 1, true).unwrap();
        assert_eq!(e.parts.len(), plain.parts.len() + 1);
        assert!(
            e.to_line().contains("CloudFront (always-free tier"),
            "{}",
            e.to_line()
        );
        assert_eq!(e.per_hour, plain.per_hour);
    }

    #[test]
    fn three_web_servers_multiply_the_instance_parts() {
        let e = estimate("t3.micro", 8, 2, 3, false).unwrap();
        let total = e.per_hour.unwrap();
        // 3 * 0.0104 + 0.0305 + 5 * 0.005 + 3 * 8 * 0.08 / 730
        assert!((total - 0.089330).abs() < 0.0001, "{total}");
        assert!(
            e.to_line().contains("3 x t3.micro $0.0312"),
            "{}",
            e.to_line()
        );
    }

    #[test]
    fn cost_now_counts_what_exists() {
        let full = per_hour_now("t3.micro", 8, Some(2), 1).unwrap().unwrap();
        let e = estimate("t3.micro", 8, 2, 1, false)
            .unwrap()
            .per_hour
            .unwrap();
        assert!((full - e).abs() < 1e-12, "{full} vs {e}");
        // After the expiry: groups, target group and key pair cost nothing.
        assert_eq!(per_hour_now("t3.micro", 8, None, 0).unwrap(), Some(0.0));
        // The load balancer alone (its instances gone): 0.0305 + 2 x 0.005.
        let lb = per_hour_now("t3.micro", 8, Some(2), 0).unwrap().unwrap();
        assert!((lb - 0.0405).abs() < 1e-12, "{lb}");
        assert_eq!(per_hour_now("x9.huge", 8, Some(2), 1).unwrap(), None);
    }

    #[test]
    fn cost_so_far_counts_each_part_from_its_creation() {
        // Load balancer 10 h (0.0305 + 2 x 0.005 an hour), one server 4 h
        // (0.0104 + 0.005 + 8 x 0.08 / 730 an hour).
        let s = so_far("t3.micro", 8, 2, 10.0, &[4.0], 0.0).unwrap();
        let want = 10.0 * 0.0405 + 4.0 * (0.0104 + 0.005 + 0.64 / 730.0);
        assert!((s.dollars.unwrap() - want).abs() < 1e-9, "{s:?}");
        // A web server retired after 6 h still counts: the cost so far never
        // goes down when one is replaced.
        let after = so_far("t3.micro", 8, 2, 10.0, &[4.0], 6.0).unwrap();
        let more = 6.0 * (0.0104 + 0.005 + 0.64 / 730.0);
        assert!(
            (after.dollars.unwrap() - want - more).abs() < 1e-9,
            "{after:?}"
        );
        assert_eq!(s.hours, 10.0);
        assert!(
            s.to_line().starts_with("about $0.47 in 10.0 hours"),
            "{}",
            s.to_line()
        );
        assert!(so_far("x9.huge", 8, 2, 1.0, &[1.0], 0.0)
            .unwrap()
            .dollars
            .is_none());
    }

    #[test]
    fn unknown_type_says_so() {
        let e = estimate("x9.huge", 8, 2, 1, false).unwrap();
        assert!(e.per_hour.is_none());
        assert!(e
            .to_line()
            .contains("x9.huge is not in config/pricing.toml"));
    }
}
