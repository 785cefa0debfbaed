//! An instance's boot output (EC2 GetConsoleOutput): what the boot script
//! printed, readable without SSH. Deploy shows its last lines when a web server
//! fails; `logs` prints it all, and follows it while the instance boots.

use anyhow::{Context, Result};

use crate::aws::{AwsError, Ctx};

/// The boot script's own last lines (userdata/install-template.sh): the boot
/// is over once one of them is printed.
pub const BOOT_DONE: &[&str] = &["sitedeploy: done", "sitedeploy: httpd did not start"];

/// cloud-init's last line, printed once every stage ran (the boot script
/// runs in the last, "modules:final"): a user-data script of one's own, which
/// prints none of [`BOOT_DONE`], is over then.
pub const CLOUD_INIT_FINISHED: &str = "finished at";

/// The instance's latest console output, decoded. `Latest` (the most recent
/// output, not what EC2 last captured) is only for instances on the Nitro
/// system; an older type (t2...) refuses it, and gets the captured output.
/// Empty when there is none yet.
pub async fn output(ctx: &Ctx, instance_id: &str) -> Result<String> {
    let ask = |latest: bool| async move {
        let mut req = ctx.ec2.get_console_output().instance_id(instance_id);
        if latest {
            req = req.latest(true);
        }
        req.send().await.map_err(AwsError::from)
    };
    let out = match ask(true).await {
        Ok(out) => Ok(out),
        // AWS does not document the code of that refusal: any refusal is
        // followed by the plain request, whose answer then stands.
        Err(e) if e.code.is_some() => {
            tracing::debug!(error = %e, "no latest console output on this type; the captured one");
            ask(false).await
        }
        Err(e) => Err(e),
    }
    .with_context(|| format!("failed to read the console output of {instance_id}"))?;
    let Some(b64) = out.output() else {
        return Ok(String::new());
    };
    let bytes = crate::plan::base64_decode(b64)
        .with_context(|| format!("the console output of {instance_id} is not base64"))?;
    Ok(clean(&String::from_utf8_lossy(&bytes)))
}

/// Whether the output shows the boot finished: the boot script's own last
/// line, or (a script of one's own) cloud-init's final "Cloud-init v. ...
/// finished at" line; not the earlier stages' "Cloud-init v. ... running"
/// lines, which come before the script runs.
pub fn boot_done(text: &str) -> bool {
    text.lines().any(|l| {
        BOOT_DONE.iter().any(|m| l.contains(m))
            || (l.contains("Cloud-init v. ") && l.contains(CLOUD_INIT_FINISHED))
    })
}

/// The last `n` lines.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Terminal escapes and carriage returns removed, secrets masked: private key
/// blocks, AWS access key ids and secret keys, and `password`/`token`/`secret`
/// assignments. A console can print what a boot script echoes.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for raw in text.lines() {
        let line = strip_escapes(raw);
        if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
            in_key = true;
            out.push_str("[private key removed]\n");
            continue;
        }
        if in_key {
            if line.contains("-----END") {
                in_key = false;
            }
            continue;
        }
        out.push_str(&mask_secrets(&line));
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// ANSI/VT100 escape sequences (CSI, OSC, two-character) and other control
/// characters except tab removed.
fn strip_escapes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // CSI: parameters and intermediates up to a final byte @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ESC \
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn mask_secrets(line: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut mask_next = false;
    for w in line.split(' ') {
        if mask_next && !w.is_empty() {
            words.push("[removed]".into());
            mask_next = false;
            continue;
        }
        let lower = w.to_ascii_lowercase();
        let secretish = [
            "password",
            "passwd",
            "secret",
            "token",
            "aws_secret_access_key",
        ]
        .iter()
        .any(|k| lower.contains(k));
        if let Some((k, v)) = w.split_once(['=', ':']) {
            if (secretish && !v.is_empty()) || is_access_key_id(v) {
                let sep = &w[k.len()..k.len() + 1];
                words.push(format!("{k}{sep}[removed]"));
                continue;
            }
            if secretish && v.is_empty() {
                mask_next = true;
            }
        }
        if is_access_key_id(w) {
            words.push("[removed]".into());
            continue;
        }
        words.push(w.to_string());
    }
    words.join(" ")
}

/// `AKIA`/`ASIA` and 16 more upper-case letters or digits.
fn is_access_key_id(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    w.len() == 20
        && (w.starts_with("AKIA") || w.starts_with("ASIA"))
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// One web server's boot output, as `logs --json` gives it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BootOutput {
    /// Instance id.
    pub id: String,
    /// pending, running...
    pub state: String,
    /// Availability zone.
    pub zone: String,
    /// Its console output, cleaned ([`clean`]).
    pub output: String,
}

/// What `logs --json` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Logs {
    /// Deployment name.
    pub deployment: String,
    /// Region.
    pub region: String,
    /// Each web server's boot output.
    pub instances: Vec<BootOutput>,
}

/// Prints the boot output of every web server of the deployment (stdout),
/// each under a header; with `follow`, polls for new lines until every one
/// has finished booting or `follow` has passed. `json` (the caller): one
/// object with each instance's whole output (no following).
pub async fn print_logs(
    ctx: &Ctx,
    owner: &crate::tags::Owner,
    follow: Option<std::time::Duration>,
    json: Option<&crate::aws::Identity>,
) -> Result<()> {
    use std::io::Write;
    let servers = crate::resources::instance::observe(ctx, owner).await?;
    if let Some(caller) = json {
        let mut instances = Vec::new();
        for s in &servers {
            instances.push(BootOutput {
                id: s.id.clone(),
                state: s.state.as_str().to_string(),
                zone: s.zone.clone(),
                output: output(ctx, &s.id).await?,
            });
        }
        let logs = Logs {
            deployment: owner.deployment.clone(),
            region: ctx.region.clone(),
            instances,
        };
        let text = crate::output::to_json(crate::output::Command::Logs, Some(caller), &logs)?;
        println!("{text}");
        if servers.is_empty() {
            eprintln!(
                "no web server of {} exists in {}: nothing to show",
                owner.deployment, ctx.region
            );
        }
        return Ok(());
    }
    if servers.is_empty() {
        eprintln!(
            "no web server of {} exists in {}: nothing to show",
            owner.deployment, ctx.region
        );
        return Ok(());
    }
    let start = std::time::Instant::now();
    let mut printed: Vec<usize> = vec![0; servers.len()];
    let mut headed: Vec<bool> = vec![false; servers.len()];
    loop {
        let mut done = true;
        for (n, s) in servers.iter().enumerate() {
            let text = output(ctx, &s.id).await?;
            let lines: Vec<&str> = text.lines().collect();
            let mut out = std::io::stdout().lock();
            if !headed[n] && (follow.is_none() || !lines.is_empty()) {
                headed[n] = true;
                writeln!(out, "==> {} ({}, {}) <==", s.id, s.state.as_str(), s.zone)?;
                if lines.is_empty() {
                    writeln!(out, "(no boot output yet)")?;
                }
            }
            // The console keeps the latest output: new lines are those past
            // what was printed (a shorter answer starts again from the top).
            let from = if lines.len() < printed[n] {
                0
            } else {
                printed[n]
            };
            for l in &lines[from..] {
                if servers.len() > 1 && follow.is_some() {
                    writeln!(out, "{}: {l}", s.id)?;
                } else {
                    writeln!(out, "{l}")?;
                }
            }
            out.flush()?;
            printed[n] = lines.len();
            if !boot_done(&text) {
                done = false;
            }
        }
        let Some(limit) = follow else {
            return Ok(());
        };
        if done {
            eprintln!("every web server has finished booting");
            return Ok(());
        }
        if start.elapsed() >= limit {
            anyhow::bail!(
                "stopped following after {} s: a web server is still booting",
                limit.as_secs()
            );
        }
        tokio::time::sleep(ctx.poll.initial.max(std::time::Duration::from_secs(1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_secrets_are_removed() {
        let text = "\u{1b}[32m[  OK  ]\u{1b}[0m Started httpd.\r\n\
                    \u{1b}]0;title\u{7}cloud-init: hi\n\
                    export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n\
                    key AKIAABCDEFGHIJKLMNOP here\n\
                    password=hunter2 and token: abc\n\
                    -----BEGIN OPENSSH PRIVATE KEY-----\n\
                    b3BlbnNzaC1rZXktdjEAAAAA\n\
                    -----END OPENSSH PRIVATE KEY-----\n\
                    sitedeploy: done\n";
        let c = clean(text);
        assert!(!c.contains('\u{1b}') && !c.contains('\r'), "{c:?}");
        assert!(c.contains("[  OK  ] Started httpd."), "{c}");
        assert!(c.contains("cloud-init: hi"), "{c}");
        assert!(!c.contains("AKIAABCDEFGHIJKLMNOP"), "{c}");
        assert!(!c.contains("hunter2") && !c.contains("abc"), "{c}");
        assert!(c.contains("password=[removed]"), "{c}");
        assert!(!c.contains("b3BlbnNzaC1rZXktdjEAAAAA"), "{c}");
        assert!(c.contains("[private key removed]"), "{c}");
        assert!(boot_done(&c));
        assert_eq!(tail(&c, 1), "sitedeploy: done");
        assert!(!boot_done("sitedeploy: installing"));
        // cloud-init's earlier stages print "Cloud-init v." before the script runs.
        let early = "Cloud-init v. 22.2.2 running 'init' at Mon, 30 Nov 2026 10:00:01 +0000.\n\
                     Cloud-init v. 22.2.2 running 'modules:config' at Mon, 30 Nov 2026 10:00:09 +0000.\n";
        assert!(!boot_done(early), "the script has not run yet");
        let over = format!("{early}Cloud-init v. 22.2.2 finished at Mon, 30 Nov 2026 10:01:30 +0000. Up 92.05 seconds\n");
        assert!(boot_done(&over));
    }
}
