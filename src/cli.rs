//! The command lines of `deploy` and `cleanup`: flags parsed into plain structs,
//! logging set up, the library called, and the one place that prints the error
//! and picks the exit code (0 success, 1 failure, 2 bad config or usage).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::aws::{Ctx, Identity, SdkOptions};
use crate::config::{self, ConfigError};
use crate::plan::Plan;
use crate::progress::{LogWriter, Progress};
use crate::shell::command;
use crate::spec::Specs;
use crate::{cleanup, deploy};

/// Flags both commands share.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The deployment's config file.
    #[arg(long, default_value = "deploy.toml", value_name = "PATH")]
    pub config: PathBuf,
    /// AWS region (overrides deploy.toml and AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS named profile (as in ~/.aws/config).
    #[arg(long)]
    pub profile: Option<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// More log output on stderr (-v debug, -vv trace); RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `deploy`: stand up the website described by deploy.toml.
#[derive(Debug, Parser)]
#[command(
    name = "deploy",
    version,
    after_help = "Example:\n  cargo run --bin deploy -- --plan    (what deploy would do; then run it without --plan)",
    about = "Put a templated website on AWS: an EC2 instance behind an Application Load Balancer"
)]
pub struct DeployArgs {
    #[command(flatten)]
    pub common: Common,
    /// Delete and recreate the key pair when its .pem is not on this machine.
    #[arg(long)]
    pub replace_key_pair: bool,
    /// Show what deploy would create, keep, update or replace; change nothing.
    #[arg(long)]
    pub plan: bool,
    /// Do not wait for the target to be healthy and the site to answer HTTP 200.
    #[arg(long, env = "SITEDEPLOY_NO_SITE_CHECK", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_site_check: bool,
    /// Longest wait for the site check, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub site_timeout: u64,
    /// Check the site at this IP:PORT instead of the load balancer's address
    /// (the Host stays the load balancer's name).
    #[arg(long, value_name = "IP:PORT")]
    pub site_address: Option<std::net::SocketAddr>,
    /// How long a new web server may fail the load balancer's health checks
    /// after its launch (while it boots) before deploy calls it failed.
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub boot_grace: u64,
    /// When the load balancer and web servers are deleted by themselves,
    /// counted from this deploy: `30m`, `8h`, `2d` (15m to 30d) or `off`;
    /// overrides expires_after in deploy.toml (default 8h).
    #[arg(long, value_name = "DURATION", value_parser = parse_expires_after)]
    pub expires_after: Option<ExpiresAfter>,
}

/// `--expires-after`'s value: a duration, or `off`.
#[derive(Debug, Clone, Copy)]
pub struct ExpiresAfter(pub Option<std::time::Duration>);

fn parse_expires_after(s: &str) -> std::result::Result<ExpiresAfter, String> {
    crate::config::parse_expiry(s).map(ExpiresAfter)
}

/// `cleanup`: delete everything `deploy` created for this deployment.
#[derive(Debug, Parser)]
#[command(
    name = "cleanup",
    version,
    after_help = "Example:\n  cargo run --bin cleanup -- --yes    (without deploy.toml: cleanup --region eu-west-1 --name barista --yes)",
    about = "Delete every AWS resource deploy created for this deployment"
)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub common: Common,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to keep retrying a security group AWS still holds, in seconds.
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub sg_timeout: u64,
    /// List what cleanup would delete; delete nothing.
    #[arg(long)]
    pub plan: bool,
    #[command(flatten)]
    pub by_name: ByName,
}

/// `--name`: a deployment known by its name instead of its deploy.toml.
#[derive(Debug, clap::Args)]
pub struct ByName {
    /// The deployment of this name (in --region, or AWS_REGION), found by its
    /// tags, without reading deploy.toml (e.g. one `status --all-regions` listed).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub name: Option<String>,
}

/// `status`: what exists of this deployment, its state and health, the URL.
#[derive(Debug, Parser)]
#[command(
    name = "status",
    version,
    after_help = "Example:\n  cargo run --bin status -- --all-regions    (every deployment in every region)",
    about = "Show what exists of this deployment in AWS, its state and health, and the URL"
)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    /// Every deployment of this tool in every enabled region of the account:
    /// what exists, its age, cost and expiry (deploy.toml is not read).
    #[arg(long, conflicts_with_all = ["name", "config"])]
    pub all_regions: bool,
    #[command(flatten)]
    pub by_name: ByName,
    /// With --all-regions: the longest the whole look-up may take, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

/// `logs`: each web server's boot output, without SSH.
#[derive(Debug, Parser)]
#[command(
    name = "logs",
    version,
    after_help = "Example:\n  cargo run --bin logs -- --follow    (each web server's boot output as it comes)",
    about = "Print each web server's boot output (EC2 console output), without SSH"
)]
pub struct LogsArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub by_name: ByName,
    /// Keep printing new lines until every web server has finished booting.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// With --follow: the longest to follow, in seconds.
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub timeout: u64,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

/// A refusal to run as asked (exit code 2, like a bad flag).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        let usage = error.downcast_ref::<ConfigError>().is_some()
            || error.downcast_ref::<UsageError>().is_some();
        let code = if usage {
            2
        } else if error.downcast_ref::<Interrupted>().is_some() {
            130
        } else {
            1
        };
        Failure { code, error }
    }
}

fn exit(r: std::result::Result<(), Failure>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = writeln!(std::io::stderr(), "error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

fn init_logging(verbose: u8, progress: &Progress) {
    let default = match verbose {
        // aws-config warns about every provider it tries; the one line that
        // matters is the error this tool prints itself.
        0 => "warn,aws_config=error",
        1 => "warn,sitedeploy=debug",
        _ => "info,sitedeploy=trace",
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_string());
    // The SDK's wire-level logs may carry request bodies; keep them out whatever
    // RUST_LOG says, so no secret reaches a log line.
    let filter = format!("{filter},aws_smithy_runtime=info,aws_smithy_http=info,aws_sigv4=info,aws_smithy_runtime_api=info,hyper=info,hyper_util=info,h2=info,rustls=info");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(LogWriter(progress.clone()))
        .with_target(false)
        .try_init();
}

struct Loaded {
    plan: Plan,
    ctx: Ctx,
    identity: Identity,
    /// The flags that name this deployment (`--config PATH`, or `--region R
    /// --name N`), for the commands the messages suggest.
    selector: String,
}

async fn load(common: &Common) -> Result<Loaded> {
    let config = config::load(&common.config)?;
    let plan = Plan::new(&config)?;
    let ctx = Ctx::new(&SdkOptions {
        region: common.region.clone().or_else(|| config.region.clone()),
        profile: common.profile.clone(),
        fallback_region: None,
    })
    .await?;
    // One call before anything else, so a credentials problem is one sentence.
    let identity = crate::preflight::identity(&ctx).await?;
    Ok(Loaded {
        plan,
        ctx,
        identity,
        selector: format!(
            "--config {}",
            crate::shell::quote(&common.config.display().to_string())
        ),
    })
}

impl Loaded {
    /// Each kind's spec, for this deployment and caller.
    fn specs(&self, replace_key_pair: bool) -> Specs {
        Specs::new(
            &self.plan,
            &self.ctx.region,
            &self.identity,
            replace_key_pair,
        )
    }
}

/// The deployment of `--name` if given, else of the config file.
async fn load_either(common: &Common, by_name: &ByName) -> Result<Loaded> {
    match &by_name.name {
        Some(name) => load_by_name(common, name).await,
        None => load(common).await,
    }
}

/// A deployment known by its name (`--name`): found by its tags in the region
/// of `--region` or the standard chain, without deploy.toml.
async fn load_by_name(common: &Common, name: &str) -> Result<Loaded> {
    if !config::is_deployment_name(name) {
        return Err(UsageError(format!(
            "--name {name:?} is not a deployment name: 1-{} letters, digits and inner hyphens",
            config::MAX_NAME_LEN
        ))
        .into());
    }
    let ctx = Ctx::new(&SdkOptions {
        region: common.region.clone(),
        profile: common.profile.clone(),
        fallback_region: None,
    })
    .await?;
    let identity = crate::preflight::identity(&ctx).await?;
    let plan = crate::regions::plan_for(&ctx, name).await?;
    Ok(Loaded {
        selector: format!("--region {} --name {name}", ctx.region),
        plan,
        ctx,
        identity,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Entry point of the `deploy` binary.
pub fn deploy_main() -> ExitCode {
    let args = DeployArgs::parse();
    let progress = Progress::new(false);
    init_logging(args.common.verbose, &progress);
    exit((|| {
        let rt = runtime()?;
        rt.block_on(async {
            let mut l = load(&args.common).await?;
            if let Some(ExpiresAfter(e)) = args.expires_after {
                l.plan.expires_after = e;
            }
            tracing::debug!(deployment = %l.plan.name, region = %l.ctx.region, plan = args.plan, "deploy");
            progress.println(&format!(
                "{} {} {} {} from {}",
                if args.plan { "planning" } else { "deploying" },
                l.plan.name,
                if args.plan { "in" } else { "to" },
                l.ctx.region,
                args.common.config.display()
            ));
            if args.plan {
                let specs = l.specs(args.replace_key_pair);
                let rows = crate::preview::deploy(&l.ctx, &specs, &progress).await?;
                return print_rows(args.common.json, &rows, "deploy would:");
            }
            let stop = watch_signals(&progress);
            let opts = deploy::DeployOptions {
                replace_key_pair: args.replace_key_pair,
                site_check: !args.no_site_check,
                site_limit: std::time::Duration::from_secs(args.site_timeout),
                site_address: args.site_address,
                boot_grace: std::time::Duration::from_secs(args.boot_grace),
                interrupt: Some(stop.clone()),
                ..Default::default()
            };
            let summary = match deploy::run(&l.ctx, &l.plan, &l.identity, &opts, &progress).await {
                Ok(s) => s,
                Err(_) if *stop.borrow() => return Err(interrupted(&l, &progress, "deploy").await),
                Err(e) if e.downcast_ref::<deploy::Began>().is_some() => {
                    let exists = what_exists(&l, "deploy").await;
                    return Err(anyhow::anyhow!("{e:#}\n\n{exists}"));
                }
                Err(e) => return Err(e),
            };
            let mut out = std::io::stdout().lock();
            if args.common.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
            } else {
                write!(
                    out,
                    "\n{}",
                    summary.to_text(&command(
                        "cleanup",
                        &format!(
                            "--config {} --yes",
                            crate::shell::quote(&args.common.config.display().to_string())
                        )
                    ))
                )?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(())
    })())
}

/// Entry point of the `cleanup` binary.
pub fn cleanup_main() -> ExitCode {
    let args = CleanupArgs::parse();
    let progress = Progress::new(false);
    init_logging(args.common.verbose, &progress);
    exit((|| {
        let rt = runtime()?;
        rt.block_on(async {
            let l = load_either(&args.common, &args.by_name).await?;
            if args.plan {
                let rows = crate::preview::cleanup(&l.ctx, &l.specs(false)).await?;
                return print_rows(args.common.json, &rows, "cleanup would:");
            }
            if !args.yes {
                confirm(&l.plan.name, &l.ctx.region)?;
            }
            progress.println(&format!("cleaning up {} in {}", l.plan.name, l.ctx.region));
            let opts = cleanup::CleanupOptions {
                sg_limit: std::time::Duration::from_secs(args.sg_timeout),
                ..Default::default()
            };
            let specs = l.specs(false);
            let run = cleanup::run(&l.ctx, &specs, &opts, &progress);
            let Some(report) = until_interrupted(run).await else {
                return Err(interrupted(&l, &progress, "cleanup").await);
            };
            let mut out = std::io::stdout().lock();
            if args.common.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(out, "\n{}", report.to_text(&l.plan.name))?;
            }
            let failed = report.failures().len();
            if failed > 0 {
                bail!(
                    "cleanup of {} is incomplete: {failed} step(s) failed",
                    l.plan.name
                );
            }
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(())
    })())
}

/// Prints `--plan` rows as a table or JSON on stdout.
fn print_rows(json: bool, rows: &[crate::preview::Change], heading: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(rows)?)?;
    } else {
        write!(out, "{heading}\n{}", crate::preview::to_text(rows))?;
    }
    Ok(())
}

/// Entry point of the `status` binary.
pub fn status_main() -> ExitCode {
    let args = StatusArgs::parse();
    let progress = Progress::new(true);
    init_logging(args.common.verbose, &progress);
    exit((|| {
        let rt = runtime()?;
        rt.block_on(async {
            if args.all_regions {
                return all_regions(&args).await;
            }
            let l = load_either(&args.common, &args.by_name).await?;
            let st = crate::status::status(&l.ctx, &l.specs(false)).await;
            let mut out = std::io::stdout().lock();
            if args.common.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&st)?)?;
            } else {
                write!(out, "{}", st.to_text())?;
            }
            if !st.errors.is_empty() {
                bail!("could not read everything: {}", st.errors.join("; "));
            }
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(())
    })())
}

/// Entry point of the `logs` binary.
pub fn logs_main() -> ExitCode {
    let args = LogsArgs::parse();
    let progress = Progress::new(true);
    init_logging(args.common.verbose, &progress);
    exit((|| {
        let rt = runtime()?;
        rt.block_on(async {
            let l = load_either(&args.common, &args.by_name).await?;
            let follow = args
                .follow
                .then(|| std::time::Duration::from_secs(args.timeout));
            let run = crate::console::print_logs(&l.ctx, &l.plan.owner, follow, args.common.json);
            match until_interrupted(run).await {
                Some(r) => r,
                None => Ok(()),
            }
        })?;
        Ok(())
    })())
}

/// `status --all-regions`.
async fn all_regions(args: &StatusArgs) -> Result<()> {
    let ctx = Ctx::new(&SdkOptions {
        region: args.common.region.clone(),
        profile: args.common.profile.clone(),
        // Any region answers DescribeRegions for the account.
        fallback_region: Some("us-east-1".into()),
    })
    .await?;
    let who = crate::preflight::identity(&ctx).await?;
    let found =
        crate::regions::everywhere(&ctx, &who, std::time::Duration::from_secs(args.timeout))
            .await?;
    let mut out = std::io::stdout().lock();
    if args.common.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&found)?)?;
    } else {
        write!(out, "{}", found.to_text())?;
    }
    if !found.errors.is_empty() {
        bail!(
            "could not check {} region(s): {}",
            found.errors.len(),
            found.errors.join("; ")
        );
    }
    Ok(())
}

/// Ctrl-C or, on Unix, SIGTERM (what `kill` and service managers send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The first stop signal asks the run to stop (it finishes what is under
/// way and writes the expiry of what exists); the second exits at once (130).
fn watch_signals(progress: &Progress) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let progress = progress.clone();
    tokio::spawn(async move {
        stop_signal().await;
        let _ = tx.send(true);
        progress.println(
            "interrupted: finishing what is under way and the expiry of what exists \
             (Ctrl-C again to exit now)",
        );
        stop_signal().await;
        let _ = writeln!(std::io::stderr(), "\ninterrupted again: exiting now");
        std::process::exit(130);
    });
    rx
}

/// Runs `fut` unless a stop signal comes first; then the future is dropped,
/// which abandons its in-flight AWS calls (safe: everything is tagged when
/// created, so a re-run finds it all).
async fn until_interrupted<T>(fut: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::select! {
        v = fut => Some(v),
        _ = stop_signal() => None,
    }
}

/// After a stop signal: a second one exits at once; otherwise say what exists
/// (bounded look-up) and how to finish or remove it. Exit code 130.
async fn interrupted(l: &Loaded, progress: &Progress, what: &str) -> anyhow::Error {
    tokio::spawn(async {
        stop_signal().await;
        let _ = writeln!(std::io::stderr(), "\ninterrupted again: exiting now");
        std::process::exit(130);
    });
    progress.println(&format!(
        "interrupted: {what} stopped; looking up what exists (Ctrl-C again to exit now)"
    ));
    let msg = format!(
        "{what} of {} was interrupted.\n{}",
        l.plan.name,
        what_exists(l, what).await
    );
    Interrupted(msg).into()
}

/// What exists of the deployment now (a bounded look-up) and the commands
/// that finish or remove it.
async fn what_exists(l: &Loaded, what: &str) -> String {
    let specs = l.specs(false);
    let scan = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        crate::observe::observe(&l.ctx, &specs, crate::observe::Purpose::View),
    )
    .await;
    let mut msg = String::new();
    match scan {
        Ok(seen) => {
            msg.push_str("What exists now:\n");
            let rows = crate::table::existing(&specs, &seen);
            msg.push_str(&crate::status::to_text(&rows, &seen.errors));
        }
        Err(_) => msg.push_str("Could not look up what exists within 30 s.\n"),
    }
    let cleanup = command("cleanup", &format!("{} --yes", l.selector));
    if what == "deploy" {
        msg.push_str(&format!(
            "Run `{}` to finish, or `{cleanup}` to remove everything.",
            command("deploy", &l.selector)
        ));
    } else {
        msg.push_str(&format!("Run `{cleanup}` again to remove the rest."));
    }
    msg
}

/// The run was interrupted by Ctrl-C (exit code 130).
#[derive(Debug)]
struct Interrupted(String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

fn confirm(name: &str, region: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes".into(),
        )
        .into());
    }
    eprint!("Delete every AWS resource of deployment {name} in {region}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(UsageError("cancelled: nothing was deleted".into()).into())
    }
}
