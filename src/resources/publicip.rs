//! The caller's public IPv4 address, for the SSH rule: asked of a public-IP
//! service (with a timeout and one fallback), validated as a public IPv4 address
//! and turned into a /32. When detection fails the caller gets `None` and adds no
//! SSH rule: SSH is never opened to the world.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::config::SshCidr;
use crate::plan::Plan;

/// What deploy.toml asks of the SSH rule's source.
#[derive(Debug, Clone)]
pub struct Spec {
    /// A fixed CIDR, or `auto`.
    pub cidr: SshCidr,
    /// Public-IP services, in order.
    pub services: Vec<String>,
    /// Each request's timeout.
    pub timeout: Duration,
}

impl Spec {
    /// The SSH source of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            cidr: plan.ssh_cidr.clone(),
            services: plan.ip_services.clone(),
            timeout: Duration::from_secs(plan.ip_timeout_secs),
        }
    }
}

/// The CIDR the SSH rule should allow, or why it could not be detected (for
/// the warning; no SSH rule is added then).
pub async fn ssh_cidr(spec: &Spec) -> std::result::Result<String, String> {
    match &spec.cidr {
        SshCidr::Fixed(c) => Ok(c.clone()),
        SshCidr::Auto => detect(&spec.services, spec.timeout)
            .await
            .map(|ip| format!("{ip}/32"))
            .map_err(|e| format!("{e:#}")),
    }
}

/// Asks every service at once; the first valid answer wins, so a service that
/// hangs costs at most one timeout, and only when no other answers.
pub async fn detect(services: &[String], timeout: Duration) -> Result<Ipv4Addr> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .context("failed to build HTTP client")?;
    let mut asks = tokio::task::JoinSet::new();
    for (i, url) in services.iter().enumerate() {
        let (client, url) = (client.clone(), url.clone());
        asks.spawn(async move { (i, url.clone(), ask(&client, &url).await) });
    }
    let mut errors = Vec::new();
    while let Some(joined) = asks.join_next().await {
        match joined {
            Ok((_, _, Ok(ip))) => return Ok(ip),
            Ok((i, url, Err(e))) => {
                // The host and the innermost cause; the whole chain for -v.
                tracing::debug!(%url, error = %format!("{e:#}"), "public-IP service failed");
                let host = reqwest::Url::parse(&url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or(url);
                let why = format!("{e:#}");
                errors.push((i, format!("{host}: {}", crate::aws::last_cause(&why))))
            }
            Err(e) => errors.push((usize::MAX, format!("look-up task failed: {e}"))),
        }
    }
    errors.sort();
    bail!(
        "could not detect this machine's public IP ({})",
        errors
            .into_iter()
            .map(|(_, e)| e)
            .collect::<Vec<_>>()
            .join("; ")
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A local HTTP server that answers `body` after `delay`, or never when `None`.
    async fn server(body: &'static str, delay: Option<Duration>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let Some(d) = delay else {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    };
                    tokio::time::sleep(d).await;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn a_hanging_service_costs_no_timeout_when_the_other_answers() {
        let hang = server("", None).await;
        let good = server("198.51.100.9\n", Some(Duration::from_millis(50))).await;
        let t0 = std::time::Instant::now();
        let ip = detect(&[hang.clone(), good.clone()], Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(ip, Ipv4Addr::new(198, 51, 100, 9));
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());

        // An invalid first answer does not win over a valid later one.
        let junk = server("<html>", Some(Duration::ZERO)).await;
        let ip = detect(&[junk, good], Duration::from_secs(3)).await.unwrap();
        assert_eq!(ip, Ipv4Addr::new(198, 51, 100, 9));

        // Both hanging: one timeout in all, not two.
        let hang2 = server("", None).await;
        let t0 = std::time::Instant::now();
        let e = detect(&[hang, hang2], Duration::from_secs(1))
            .await
            .unwrap_err();
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_millis(1900),
            "{took:?}"
        );
        assert!(format!("{e:#}").contains("could not detect"), "{e:#}");
    }

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
