//! The caller's public IPv4 address, for the SSH rule: asked of a public-IP
//! service (with a timeout and one fallback), validated as a public IPv4 address
//! and turned into a /32. When detection fails the caller gets `None` and adds no
//! SSH rule: SSH is never opened to the world.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::config::SshCidr;
use crate::plan::Plan;

/// The CIDR the SSH rule should allow, or `None` when it could not be detected
/// (the reason is returned for the warning).
pub async fn ssh_cidr(plan: &Plan) -> std::result::Result<String, String> {
    match &plan.ssh_cidr {
        SshCidr::Fixed(c) => Ok(c.clone()),
        SshCidr::Auto => detect(&plan.ip_services, Duration::from_secs(plan.ip_timeout_secs))
            .await
            .map(|ip| format!("{ip}/32"))
            .map_err(|e| format!("{e:#}")),
    }
}

/// Asks each service in turn; the first valid answer wins.
pub async fn detect(services: &[String], timeout: Duration) -> Result<Ipv4Addr> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .context("failed to build HTTP client")?;
    let mut errors = Vec::new();
    for url in services {
        match ask(&client, url).await {
            Ok(ip) => return Ok(ip),
            Err(e) => errors.push(format!("{url}: {e:#}")),
        }
    }
    bail!(
        "could not detect this machine's public IP ({})",
        errors.join("; ")
    )
}

async fn ask(client: &reqwest::Client, url: &str) -> Result<Ipv4Addr> {
    let resp = client.get(url).send().await?.error_for_status()?;
    let body = resp.text().await?;
    parse_ip(&body)
}

/// Parses a service's answer: one IPv4 address, surrounding white space allowed.
pub fn parse_ip(body: &str) -> Result<Ipv4Addr> {
    let text = body.trim();
    let ip: Ipv4Addr = text
        .parse()
        .with_context(|| format!("answer is not an IPv4 address: {:?}", truncate(text)))?;
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() {
        bail!("answer {ip} is not a usable host address");
    }
    Ok(ip)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_answers() {
        assert_eq!(
            parse_ip("203.0.113.7\n").unwrap(),
            Ipv4Addr::new(203, 0, 113, 7)
        );
        assert!(parse_ip("<html>").is_err());
        assert!(parse_ip("2001:db8::1").is_err());
        assert!(parse_ip("0.0.0.0").is_err());
        assert!(parse_ip("203.0.113.7 1.2.3.4").is_err());
    }
}
