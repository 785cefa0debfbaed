//! The site check: after the listener exists, wait (bounded) for the instance
//! to be healthy in the target group, then for the URL to answer HTTP 200.
//! `resolve` sends the URL's host to another address (tests point it at a local
//! server; a learner behind a DNS that is slow to learn the new name can too).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::aws::{poll_until, Check, Ctx, Poll};
use crate::resources::targetgroup::{self, TargetGroup};

/// Waits until `instance_id` is `healthy` in the target group.
pub async fn wait_healthy(
    ctx: &Ctx,
    tg: &TargetGroup,
    instance_id: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    poll_until(
        ctx.poll,
        &format!("{instance_id} to pass the health check of {}", tg.name),
        limit,
        on_wait,
        || async {
            let targets = targetgroup::targets(ctx, tg).await?;
            let state = targets
                .iter()
                .find(|(id, _)| id == instance_id)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| "not registered".into());
            Ok(if state == "healthy" {
                Check::Done(())
            } else {
                Check::Waiting(format!("target {state}"))
            })
        },
    )
    .await
}

/// Waits until `url` answers HTTP 200.
pub async fn wait_http_ok(
    poll: Poll,
    url: &str,
    resolve: Option<SocketAddr>,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<u16> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::limited(3));
    if let Some(addr) = resolve {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .context("the site URL has no host")?;
        builder = builder.resolve(&host, addr);
    }
    let client = builder.build().context("failed to build HTTP client")?;
    poll_until(
        poll,
        &format!("{url} to answer HTTP 200"),
        limit,
        on_wait,
        || async {
            Ok(match client.get(url).send().await {
                Ok(r) if r.status() == reqwest::StatusCode::OK => Check::Done(200),
                Ok(r) => Check::Waiting(format!("HTTP {}", r.status().as_u16())),
                Err(e) if e.is_timeout() => Check::Waiting("no answer (timeout)".into()),
                Err(e) if e.is_connect() => {
                    Check::Waiting("connection refused or unreachable".into())
                }
                Err(e) => Check::Waiting(format!("request failed: {e}")),
            })
        },
    )
    .await
}
