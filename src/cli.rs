//! The command lines of `deploy` and `cleanup`: flags parsed into plain structs,
//! logging set up, the library called, and the one place that prints the error
//! and picks the exit code (0 success, 1 failure, 2 bad config or usage).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::aws::{Ctx, Identity, SdkOptions};
use crate::config::{self, ConfigError};
use crate::output::{self, Command, FailureKind};
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
    /// Download a tooplate.com template (its number and name, e.g.
    /// 2137_barista_cafe) into a new folder (default: site) to edit, and stop.
    #[arg(long, value_names = ["TEMPLATE", "DIR"], num_args = 1..=2)]
    pub init_site: Option<Vec<String>>,
    /// The template zip's URL for --init-site (default: tooplate.com's).
    #[arg(long, requires = "init_site", value_name = "URL")]
    pub template_url: Option<String>,
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
    about = "Print each web server's boot output (EC2 console output), without SSH"
)]
pub struct LogsArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub by_name: ByName,
    /// Keep printing new lines until every web server has finished booting.
    #[arg(long, short = 'f', conflicts_with = "json")]
    pub follow: bool,
    /// With --follow: the longest to follow, in seconds.
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub timeout: u64,
}

/// Parses the command line of `bin`, with an example of itself in `--help`
/// as the user runs it (through cargo, or the binary: [`command`]).
/// A usage error with `--json` on the command line is the JSON's error object
/// too (on stdout; clap's message stays on stderr).
fn parse<T: clap::Parser>(bin: &str, example: &str, note: &str) -> T {
    let help = format!("Example:\n  {}    {note}", command(bin, example));
    let matches = T::command()
        .after_help(help)
        .try_get_matches()
        .and_then(|m| T::from_arg_matches(&m));
    match matches {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            let args: Vec<String> = std::env::args().collect();
            let has = |flag: &str| args.iter().any(|a| a == flag);
            let usage = !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
            if usage && has("--json") {
                let command = match (bin, has("--plan"), has("--all-regions")) {
                    ("deploy", true, _) => Command::DeployPlan,
                    ("deploy", false, _) => Command::Deploy,
                    ("cleanup", true, _) => Command::CleanupPlan,
                    ("cleanup", false, _) => Command::Cleanup,
                    ("status", _, true) => Command::StatusAllRegions,
                    ("status", _, false) => Command::Status,
                    _ => Command::Logs,
                };
                let rendered = e.render().to_string();
                let message = rendered
                    .lines()
                    .next()
                    .unwrap_or("invalid command line")
                    .trim_start_matches("error: ")
                    .to_string();
                let text = output::error_json(command, &message, FailureKind::Usage, 2, None);
                println!("{text}");
            }
            e.exit()
        }
    }
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

/// The exit code, after the error (on stderr; with `--json`, also as the
/// JSON's error object on stdout, so a failed command prints valid JSON too).
fn exit(r: std::result::Result<(), Failure>, json: Option<Command>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let message = format!("{:#}", f.error);
            let _ = writeln!(std::io::stderr(), "error: {message}");
            let printed = f.error.downcast_ref::<Printed>().is_some();
            if let (Some(command), false) = (json, printed) {
                let kind = match f.code {
                    2 => FailureKind::Usage,
                    130 => FailureKind::Interrupted,
                    _ => FailureKind::Failed,
                };
                let aws = f
                    .error
                    .downcast_ref::<Reported>()
                    .and_then(|r| r.aws_code.as_deref())
                    .or_else(|| crate::aws::code(&f.error));
                let text = output::error_json(command, &message, kind, f.code, aws);
                let _ = writeln!(std::io::stdout(), "{text}");
            }
            ExitCode::from(f.code)
        }
    }
}

/// Prints a command's result: its JSON (with `--json`) or its text, on stdout.
fn emit<T: serde::Serialize>(
    json: bool,
    command: Command,
    caller: Option<&Identity>,
    body: &T,
    text: impl FnOnce() -> String,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", output::to_json(command, caller, body)?)?;
    } else {
        write!(out, "{}", text())?;
    }
    Ok(())
}

/// Like [`emit`], for a result that is also a failure (`failed`: why, then):
/// with `--json` one document, the result with `ok: false` and the error;
/// the error returned is not printed as JSON again.
fn emit_outcome<T: serde::Serialize>(
    json: bool,
    command: Command,
    caller: Option<&Identity>,
    body: &T,
    text: impl FnOnce() -> String,
    failed: Option<String>,
) -> Result<()> {
    let Some(why) = failed else {
        return emit(json, command, caller, body, text);
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            output::to_json_failed(command, caller, body, &why)?
        )?;
    } else {
        write!(out, "{}", text())?;
    }
    Err(Printed(why).into())
}

/// A failure said in full (the error, what changed, what exists), keeping
/// the AWS code of its cause for the JSON.
#[derive(Debug)]
struct Reported {
    text: String,
    aws_code: Option<String>,
}

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Reported {}

/// A failure whose JSON was printed with the result ([`emit_outcome`]).
#[derive(Debug)]
struct Printed(String);

impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Printed {}

fn init_logging(verbose: u8, progress: &Progress) {
    let default = match verbose {
        // aws-config warns about every provider it tries; the one line that
        // matters is the error this tool prints itself.
        0 => "warn,aws_config=error,aws_runtime=error",
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

/// The deployment of the config file; `folder`: whether its `[site]` folder
/// is read (deploy reads it; the other commands work without it).
async fn load(common: &Common, progress: &Progress, folder: config::SiteFolder) -> Result<Loaded> {
    let config = config::load_with(&common.config, folder)?;
    // What the plan refuses (the user data's placeholders and size) is the
    // config's problem too: exit 2, before any call.
    let plan = Plan::new(&config).map_err(|e| ConfigError {
        problems: vec![format!("{e:#}")],
    })?;
    let ctx = Ctx::new(&SdkOptions {
        region: common.region.clone().or_else(|| config.region.clone()),
        profile: common.profile.clone(),
        fallback_region: None,
    })
    .await?;
    // One call before anything else, so a credentials problem is one sentence.
    let identity = crate::preflight::identity(&ctx).await?;
    progress.note(&identity.line(&ctx.region));
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
async fn load_either(common: &Common, by_name: &ByName, progress: &Progress) -> Result<Loaded> {
    match &by_name.name {
        Some(name) => load_by_name(common, name, progress).await,
        None => load(common, progress, config::SiteFolder::Skip).await,
    }
}

/// A deployment known by its name (`--name`): found by its tags in the region
/// of `--region` or the standard chain, without deploy.toml.
async fn load_by_name(common: &Common, name: &str, progress: &Progress) -> Result<Loaded> {
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
    progress.note(&identity.line(&ctx.region));
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
    let args: DeployArgs = parse(
        "deploy",
        "--plan",
        "(what deploy would do; then run it without --plan)",
    );
    let progress = Progress::new(false);
    init_logging(args.common.verbose, &progress);
    if let Some(v) = &args.init_site {
        // No AWS and no deploy.toml: a folder of one's own to start from.
        let dir = std::path::PathBuf::from(v.get(1).map_or("site", String::as_str));
        let r = (|| {
            let made = runtime()?.block_on(crate::initsite::init_site(
                &v[0],
                &dir,
                args.template_url.as_deref(),
            ))?;
            print!("{}", made.to_text(&v[0]));
            Ok::<_, anyhow::Error>(())
        })();
        return exit(r.map_err(Failure::from), None);
    }
    exit(
        (|| {
            let rt = runtime()?;
            rt.block_on(async {
            let mut l = load(&args.common, &progress, config::SiteFolder::Pack).await?;
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
                let next = command("deploy", &l.selector);
                let plan = crate::preview::deploy(&l.ctx, &specs, &progress, next).await?;
                return emit(args.common.json, Command::DeployPlan, Some(&l.identity), &plan, || {
                    plan.to_text()
                });
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
                    progress.close();
                    let changed = match e.downcast_ref::<deploy::Began>() {
                        Some(b) if !b.changed.is_empty() => {
                            format!("\n\nThis run changed:\n  {}", b.changed.join("\n  "))
                        }
                        _ => String::new(),
                    };
                    let exists = what_exists(&l, "deploy").await;
                    return Err(Reported {
                        text: format!("{e:#}{changed}\n\n{exists}"),
                        aws_code: crate::aws::code(&e).map(str::to_string),
                    }
                    .into());
                }
                Err(e) => return Err(e),
            };
            let cleanup = command("cleanup", &format!("{} --yes", l.selector));
            emit(args.common.json, Command::Deploy, Some(&l.identity), &summary, || {
                format!("\n{}", summary.to_text(&cleanup))
            })
        })?;
            Ok(())
        })(),
        json_of(
            args.common.json,
            if args.plan {
                Command::DeployPlan
            } else {
                Command::Deploy
            },
        ),
    )
}

/// The command whose JSON a failure prints, with `--json`.
fn json_of(json: bool, command: Command) -> Option<Command> {
    json.then_some(command)
}

/// Entry point of the `cleanup` binary.
pub fn cleanup_main() -> ExitCode {
    let args: CleanupArgs = parse(
        "cleanup",
        "--yes",
        "(without deploy.toml: cleanup --region eu-west-1 --name barista --yes)",
    );
    let progress = Progress::new(false);
    init_logging(args.common.verbose, &progress);
    exit(
        (|| {
            let rt = runtime()?;
            rt.block_on(async {
                let l = load_either(&args.common, &args.by_name, &progress).await?;
                if args.plan {
                    let plan = crate::preview::cleanup(&l.ctx, &l.specs(false)).await?;
                    return emit(
                        args.common.json,
                        Command::CleanupPlan,
                        Some(&l.identity),
                        &plan,
                        || plan.to_text(),
                    );
                }
                if !args.yes {
                    // What goes, before asking (the .pem included).
                    let plan = crate::preview::cleanup(&l.ctx, &l.specs(false)).await?;
                    // Nothing to delete needs no answer: cleanup reports it.
                    if !plan.resources.is_empty() {
                        eprint!("{}", plan.to_text());
                        confirm(&plan)?;
                    }
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
                if report.totals.delete == 0 && report.failures().is_empty() {
                    others_named(&l, &args.by_name).await?;
                }
                let failed = report.failures().len();
                let why = (failed > 0).then(|| {
                    format!(
                        "cleanup of {} is incomplete: {failed} step(s) failed",
                        l.plan.name
                    )
                });
                emit_outcome(
                    args.common.json,
                    Command::Cleanup,
                    Some(&l.identity),
                    &report,
                    || format!("\n{}", report.to_text()),
                    why,
                )
            })?;
            Ok(())
        })(),
        json_of(
            args.common.json,
            if args.plan {
                Command::CleanupPlan
            } else {
                Command::Cleanup
            },
        ),
    )
}

/// Entry point of the `status` binary.
pub fn status_main() -> ExitCode {
    let args: StatusArgs = parse(
        "status",
        "--all-regions",
        "(every deployment in every region)",
    );
    let progress = Progress::new(true);
    init_logging(args.common.verbose, &progress);
    exit(
        (|| {
            let rt = runtime()?;
            rt.block_on(async {
                if args.all_regions {
                    return all_regions(&args, &progress).await;
                }
                let l = load_either(&args.common, &args.by_name, &progress).await?;
                let st = crate::status::status(&l.ctx, &l.specs(false)).await;
                let why = (!st.errors.is_empty())
                    .then(|| format!("could not read everything: {}", st.errors.join("; ")));
                emit_outcome(
                    args.common.json,
                    Command::Status,
                    Some(&l.identity),
                    &st,
                    || st.to_text(),
                    why,
                )
            })?;
            Ok(())
        })(),
        json_of(
            args.common.json,
            if args.all_regions {
                Command::StatusAllRegions
            } else {
                Command::Status
            },
        ),
    )
}

/// Entry point of the `logs` binary.
pub fn logs_main() -> ExitCode {
    let args: LogsArgs = parse(
        "logs",
        "--follow",
        "(each web server's boot output as it comes)",
    );
    let progress = Progress::new(true);
    init_logging(args.common.verbose, &progress);
    exit(
        (|| {
            let rt = runtime()?;
            rt.block_on(async {
                let l = load_either(&args.common, &args.by_name, &progress).await?;
                let follow = args
                    .follow
                    .then(|| std::time::Duration::from_secs(args.timeout));
                let json = args.common.json.then_some(&l.identity);
                let run = crate::console::print_logs(&l.ctx, &l.plan.owner, follow, json);
                match until_interrupted(run).await {
                    Some(r) => r,
                    None => {
                        Err(Interrupted(format!("logs of {} was interrupted", l.plan.name)).into())
                    }
                }
            })?;
            Ok(())
        })(),
        json_of(args.common.json, Command::Logs),
    )
}

/// `status --all-regions`.
async fn all_regions(args: &StatusArgs, progress: &Progress) -> Result<()> {
    let ctx = Ctx::new(&SdkOptions {
        region: args.common.region.clone(),
        profile: args.common.profile.clone(),
        // Any region answers DescribeRegions for the account.
        fallback_region: Some("us-east-1".into()),
    })
    .await?;
    let who = crate::preflight::identity(&ctx).await?;
    progress.note(&format!("{} (every enabled region)", who.line(&ctx.region)));
    let found =
        crate::regions::everywhere(&ctx, &who, std::time::Duration::from_secs(args.timeout))
            .await?;
    let why = (!found.errors.is_empty()).then(|| {
        format!(
            "could not check {} region(s): {}",
            found.errors.len(),
            found.errors.join("; ")
        )
    });
    emit_outcome(
        args.common.json,
        Command::StatusAllRegions,
        Some(&who),
        &found,
        || found.to_text(),
        why,
    )
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
    progress.close();
    tokio::spawn(async {
        stop_signal().await;
        let _ = writeln!(std::io::stderr(), "\ninterrupted again: exiting now");
        std::process::exit(130);
    });
    progress.println(&format!(
        "interrupted: {what} ends here; looking up what exists (Ctrl-C again to exit now)"
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

/// `--name` found nothing: the deployments that do exist in the region (a
/// misspelt name), on stderr.
async fn others_named(l: &Loaded, by_name: &ByName) -> Result<()> {
    let Some(name) = &by_name.name else {
        return Ok(());
    };
    let names = crate::regions::names_in(&l.ctx).await.unwrap_or_default();
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n != name)
        .collect();
    let listed = match others.is_empty() {
        true => "none".to_string(),
        false => others.join(", "),
    };
    eprintln!(
        "no deployment named {name} in {}; deployments there: {listed} (`{}` lists every region)",
        l.ctx.region,
        command("status", "--all-regions")
    );
    Ok(())
}

fn confirm(plan: &crate::preview::CleanupPlan) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes".into(),
        )
        .into());
    }
    let files = match plan.local_files.len() {
        0 => String::new(),
        n => format!(" and {n} local file"),
    };
    eprint!(
        "Delete these {} resources{files} of deployment {} in {}? [y/N] ",
        plan.resources.len(),
        plan.deployment,
        plan.region
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(UsageError("cancelled: nothing was deleted".into()).into())
    }
}
