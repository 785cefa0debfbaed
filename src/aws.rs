//! AWS plumbing: SDK configuration (region, profile, endpoint, retries), the one
//! error type every SDK failure becomes, the named predicates callers branch on,
//! and the bounded polling loop every wait uses.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

use anyhow::{bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Clients and settings shared by every resource module.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// EC2 client.
    pub ec2: aws_sdk_ec2::Client,
    /// Elastic Load Balancing v2 client.
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// STS client (who am I).
    pub sts: aws_sdk_sts::Client,
    /// Auto Scaling client (the web servers when `count > 1`).
    pub asg: aws_sdk_autoscaling::Client,
    /// EventBridge Scheduler client (the expiry schedules).
    pub scheduler: aws_sdk_scheduler::Client,
    /// IAM client (the role the expiry schedules run under).
    pub iam: aws_sdk_iam::Client,
    /// Resource Groups Tagging API client (finding deployments by their tags).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// CloudFront client (global: it signs for us-east-1).
    pub cloudfront: aws_sdk_cloudfront::Client,
    /// ACM client in us-east-1 (CloudFront takes certificates from there
    /// only; `[https] domain`).
    pub acm: aws_sdk_acm::Client,
    /// Route 53 client (global: it signs for us-east-1).
    pub route53: aws_sdk_route53::Client,
    /// S3 client (the site's content, `[site]`).
    pub s3: aws_sdk_s3::Client,
    /// The SDK configuration the clients were made from (for other regions).
    pub conf: aws_config::SdkConfig,
    /// The region in use.
    pub region: String,
    /// How polling loops pace themselves.
    pub poll: Poll,
    /// Where the credentials come from, in words ("profile dev (SSO)",
    /// "environment variables"...).
    pub credentials: String,
}

/// Who is calling AWS (STS GetCallerIdentity), and with which credentials.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Identity {
    /// AWS account id.
    pub account: String,
    /// Caller ARN (user or role).
    pub arn: String,
    /// Where the credentials came from ([`Ctx::credentials`]).
    pub credentials: String,
}

/// The partition of an ARN (`aws`, `aws-cn`...); `aws` when it names none.
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

impl Identity {
    /// The caller's partition.
    pub fn partition(&self) -> &str {
        partition_of(&self.arn)
    }

    /// The line every command prints before it acts.
    pub fn line(&self, region: &str) -> String {
        format!(
            "account {} in {region} as {} (credentials: {})",
            self.account, self.arn, self.credentials
        )
    }
}

/// Pace of the polling loops: start at `initial`, keep it for `fast_for`, then
/// grow by half each time up to `max`.
#[derive(Clone, Copy, Debug)]
pub struct Poll {
    /// First interval.
    pub initial: Duration,
    /// How long the first interval is kept.
    pub fast_for: Duration,
    /// Longest interval.
    pub max: Duration,
}

impl Default for Poll {
    fn default() -> Self {
        Poll {
            initial: Duration::from_millis(500),
            fast_for: Duration::from_secs(30),
            max: Duration::from_secs(10),
        }
    }
}

impl Poll {
    /// The interval to sleep after `elapsed` time with the previous interval `prev`.
    pub fn next(&self, elapsed: Duration, prev: Duration) -> Duration {
        if elapsed < self.fast_for {
            self.initial
        } else {
            (prev.mul_f64(1.5)).clamp(self.initial, self.max)
        }
    }
}

/// Where the SDK configuration comes from, beyond the standard chain.
#[derive(Clone, Debug, Default)]
pub struct SdkOptions {
    /// Region override (flag), else the config file's, else the standard chain.
    pub region: Option<String>,
    /// Named profile.
    pub profile: Option<String>,
    /// Region when neither the override nor the standard chain gives one
    /// (`status --all-regions` only needs a region to ask for the others).
    pub fallback_region: Option<String>,
}

impl Ctx {
    /// Builds the clients from the standard AWS chain (environment, profile, SSO,
    /// instance role). `AWS_ENDPOINT_URL` points every client at an emulator.
    /// Throttling and transient errors are retried by the SDK in standard mode
    /// (exponential backoff with jitter, 5 attempts); standard rather than adaptive
    /// because this tool makes few calls and adaptive's client-side rate limiter
    /// would only add latency to them.
    pub async fn new(opts: &SdkOptions) -> Result<Ctx> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(r) = &opts.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        // The AWS CLI's order: --profile, then keys in the environment, then
        // AWS_PROFILE; a profile named but not defined is an error.
        let choice = profiles::chosen(opts.profile.as_deref());
        let known = match &choice {
            Some(c) => Some(profiles::check(c).await?),
            None => None,
        };
        if let Some(c) = &choice {
            loader = loader.profile_name(&c.name);
        }
        let mut conf = loader.load().await;
        if let (None, Some(r)) = (conf.region(), &opts.fallback_region) {
            conf = conf
                .to_builder()
                .region(aws_config::Region::new(r.clone()))
                .build();
        }
        let Some(region) = conf.region().map(|r| r.to_string()) else {
            bail!(
                "no AWS region: set region in deploy.toml, pass --region, or set AWS_REGION \
                 (or `region` in your AWS profile)"
            );
        };
        let credentials = match &choice {
            Some(c) if c.from_flag || !profiles::env_keys() => {
                conf = profiles::only(conf, c);
                let kind = known.as_deref().unwrap_or("no credential settings");
                format!("profile {} ({kind})", c.name)
            }
            Some(c) => format!(
                "environment variables (AWS_ACCESS_KEY_ID; they come before AWS_PROFILE={}, as \
                 for the AWS CLI: use --profile to choose the profile)",
                c.name
            ),
            None if profiles::env_keys() => "environment variables (AWS_ACCESS_KEY_ID)".into(),
            None => "the default chain (profile default, SSO, container or instance role)".into(),
        };
        check_credentials(&conf, choice.as_ref().map(|c| c.name.as_str())).await?;
        let mut ctx = Ctx::from_config(&conf, &region, Poll::default());
        ctx.credentials = credentials;
        Ok(ctx)
    }

    /// The clients of an SDK configuration already loaded (tests give one with
    /// a replaying HTTP client).
    pub fn from_config(conf: &aws_config::SdkConfig, region: &str, poll: Poll) -> Ctx {
        Ctx {
            ec2: aws_sdk_ec2::Client::new(conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(conf),
            sts: aws_sdk_sts::Client::new(conf),
            asg: aws_sdk_autoscaling::Client::new(conf),
            scheduler: aws_sdk_scheduler::Client::new(conf),
            iam: aws_sdk_iam::Client::new(conf),
            tagging: aws_sdk_resourcegroupstagging::Client::new(conf),
            cloudfront: aws_sdk_cloudfront::Client::from_conf(
                aws_sdk_cloudfront::config::Builder::from(conf)
                    .region(aws_config::Region::from_static("us-east-1"))
                    .build(),
            ),
            acm: aws_sdk_acm::Client::from_conf(
                aws_sdk_acm::config::Builder::from(conf)
                    .region(aws_config::Region::from_static("us-east-1"))
                    .build(),
            ),
            route53: aws_sdk_route53::Client::from_conf(
                aws_sdk_route53::config::Builder::from(conf)
                    .region(aws_config::Region::from_static("us-east-1"))
                    .build(),
            ),
            // Path-style addressing only against an endpoint of one's own (a
            // local stand-in has no per-bucket host names); AWS gets the
            // virtual-hosted style it recommends.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(conf)
                    .force_path_style(conf.endpoint_url().is_some())
                    .build(),
            ),
            conf: conf.clone(),
            region: region.to_string(),
            poll,
            credentials: String::new(),
        }
    }

    /// The same credentials and settings in another region.
    pub fn in_region(&self, region: &str) -> Ctx {
        let conf = self
            .conf
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build();
        let mut ctx = Ctx::from_config(&conf, region, self.poll);
        ctx.credentials = self.credentials.clone();
        ctx
    }
}

/// Loads the credentials once, before any call, so that a missing or broken
/// sign-in is one plain sentence with its fix instead of the same SDK error from
/// every concurrent call. The SDK's own detail goes to the debug log (`-v`).
async fn check_credentials(conf: &aws_config::SdkConfig, profile: Option<&str>) -> Result<()> {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = conf.credentials_provider() else {
        bail!("{}", no_credentials_message(profile));
    };
    let err = match provider.provide_credentials().await {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    tracing::debug!(error = %DisplayErrorContext(&err), "credentials could not be loaded");
    let detail = error_chain(&err);
    let lower = detail.to_ascii_lowercase();
    let fixes = SIGN_IN_FIXES;
    match (&err, profile) {
        // The profile itself is defined (checked before): a profile it names
        // (source_profile) is not, or it has no credential settings.
        (_, Some(p)) if lower.contains("was not defined") || lower.contains("could not find") => {
            bail!(
                "AWS profile {p} refers to a profile that is not defined ({}): fix its \
                 source_profile in ~/.aws/config",
                last_cause(&detail)
            )
        }
        (CredentialsError::CredentialsNotLoaded(_), Some(p)) => {
            bail!(
                "AWS profile {p} gives no credentials (no keys, SSO, credential_process or role \
                 in it): set it up with `aws configure --profile {p}` (or `aws configure sso`), or \
                 choose another profile with --profile or AWS_PROFILE"
            )
        }
        _ if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) => {
            bail!(
                "the AWS SSO sign-in has expired or was never made: run `aws sso login{}`",
                profile
                    .map(|p| format!(" --profile {p}"))
                    .unwrap_or_default()
            )
        }
        (CredentialsError::CredentialsNotLoaded(_), _) => {
            bail!("{}", no_credentials_message(profile))
        }
        (CredentialsError::ProviderTimedOut(_), _) => bail!(
            "loading the AWS credentials timed out (a credential_process or SSO sign-in that \
             did not answer); {fixes}"
        ),
        _ => bail!(
            "could not load the AWS credentials: {}; {fixes}",
            last_cause(&detail)
        ),
    }
}

/// Which named profile is used, as the AWS CLI decides: `--profile` first, then
/// keys in the environment, then `AWS_PROFILE` ("Configuration settings and
/// precedence", AWS CLI User Guide); a named profile must be defined.
mod profiles {
    use anyhow::{bail, Result};
    use aws_config::profile::{Profile, ProfileFileCredentialsProvider};
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};

    /// The profile the user named.
    pub struct Choice {
        /// Its name.
        pub name: String,
        /// Named by `--profile` (else by `AWS_PROFILE`).
        pub from_flag: bool,
    }

    /// `--profile`, else a non-blank `AWS_PROFILE`.
    pub fn chosen(flag: Option<&str>) -> Option<Choice> {
        if let Some(p) = flag {
            return Some(Choice {
                name: p.to_string(),
                from_flag: true,
            });
        }
        match std::env::var("AWS_PROFILE") {
            Ok(p) if !p.trim().is_empty() => Some(Choice {
                name: p,
                from_flag: false,
            }),
            _ => None,
        }
    }

    /// Access keys in the environment (as the SDK's environment provider
    /// reads them: a blank value is unset).
    pub fn env_keys() -> bool {
        let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
        set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
    }

    /// The profile's kind of credentials, in words; an error naming the files
    /// read and the profiles they define when it is not defined.
    pub async fn check(c: &Choice) -> Result<String> {
        check_in(c, &Fs::real(), &Env::real()).await
    }

    pub(super) async fn check_in(c: &Choice, fs: &Fs, env: &Env) -> Result<String> {
        let set = aws_config::profile::load(fs, env, &EnvConfigFiles::default(), None).await?;
        if let Some(p) = set.get_profile(&c.name) {
            return Ok(kind(p).to_string());
        }
        let mut known: Vec<&str> = set.profiles().collect();
        known.sort_unstable();
        let file = |var: &str, default: &str| {
            env.get(var)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        bail!(
            "AWS profile {} ({}) is not defined in {} or {}; defined: {}. Create it with `aws \
             configure --profile {}` (or `aws configure sso`), or name another one",
            c.name,
            if c.from_flag {
                "--profile"
            } else {
                "AWS_PROFILE"
            },
            file("AWS_CONFIG_FILE", "~/.aws/config"),
            file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
            c.name
        )
    }

    fn kind(p: &Profile) -> &'static str {
        let has = |k: &str| p.get(k).is_some();
        if has("web_identity_token_file") {
            "web identity"
        } else if has("role_arn") {
            "an assumed role"
        } else if has("sso_session") || has("sso_start_url") {
            "IAM Identity Center (SSO)"
        } else if has("login_session") {
            "a console sign-in"
        } else if has("credential_process") {
            "credential_process"
        } else if has("aws_access_key_id") {
            "access keys"
        } else {
            "no credential settings"
        }
    }

    /// The configuration with credentials from the profile alone (no
    /// environment keys in front of it, no fall-through to another source).
    pub fn only(conf: aws_config::SdkConfig, c: &Choice) -> aws_config::SdkConfig {
        let pc = aws_config::provider_config::ProviderConfig::without_region()
            .with_region(conf.region().cloned());
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&pc)
            .profile_name(&c.name)
            .build();
        conf.to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build()
    }
}

/// What to do about credentials, said the same way everywhere.
pub const SIGN_IN_FIXES: &str = "configure access keys with `aws configure`, choose a profile \
    with AWS_PROFILE or --profile, or sign in with `aws sso login` (or `aws login`)";

fn no_credentials_message(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!("profile {p} gives no AWS credentials: {SIGN_IN_FIXES}"),
        None => format!("no AWS credentials found: {SIGN_IN_FIXES}"),
    }
}

/// An error and its sources, each said once, joined with ": " (never the
/// SDK's Debug structures).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut src = err.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

/// The innermost cause of an [`error_chain`] text.
pub fn last_cause(chain: &str) -> &str {
    chain.rsplit(": ").next().unwrap_or(chain)
}

/// An AWS failure: the error code AWS returned (when it returned one) and its
/// message, never the SDK's bare "service error".
#[derive(Debug, Clone)]
pub struct AwsError {
    /// AWS error code such as `InvalidGroup.Duplicate`; `None` for transport errors.
    pub code: Option<String>,
    /// What AWS or the transport said.
    pub message: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{c}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for AwsError {}

impl<E, R> From<SdkError<E, R>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        match err.code() {
            Some(code) => AwsError {
                code: Some(code.to_string()),
                message: err.message().unwrap_or("(no message)").to_string(),
            },
            None => AwsError {
                code: None,
                message: error_chain(&err),
            },
        }
    }
}

/// The AWS error code inside an error chain, if any.
pub fn code(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .find_map(|e| e.downcast_ref::<AwsError>())
        .and_then(|e| e.code.as_deref())
}

/// Whether the error carries AWS error code `code`.
pub fn is_code(err: &anyhow::Error, wanted: &str) -> bool {
    code(err) == Some(wanted)
}

/// "Not found" codes, for describes by id or name and deletes of absent things.
pub fn is_not_found(err: &anyhow::Error) -> bool {
    code(err).is_some_and(|c| {
        c.ends_with(".NotFound")
            || c.ends_with("NotFound")
            || c == "InvalidGroup.NotFound"
            || c == "InvalidKeyPair.NotFound"
    })
}

/// An SDK call's result with AWS's "not found" turned into `Ok(None)` and any
/// other error given `context`: the shape of every describe-by-name and every
/// delete of something that may already be gone.
pub fn unless_not_found<T>(
    r: std::result::Result<T, AwsError>,
    context: impl FnOnce() -> String,
) -> Result<Option<T>> {
    unless_gone(r, is_not_found, context)
}

/// [`unless_not_found`] for a service whose "not found" is its own code
/// (`gone`: CloudFront's NoSuchDistribution, ACM's ResourceNotFoundException).
pub fn unless_gone<T>(
    r: std::result::Result<T, AwsError>,
    gone: impl Fn(&anyhow::Error) -> bool,
    context: impl FnOnce() -> String,
) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let e = anyhow::Error::new(e);
            if gone(&e) {
                Ok(None)
            } else {
                Err(e.context(context()))
            }
        }
    }
}

/// Access denied (IAM's answer; for a resource the policy lets this tool read
/// only when it is its own, "not ours").
pub fn is_access_denied(err: &anyhow::Error) -> bool {
    code(err).is_some_and(|c| c.starts_with("AccessDenied"))
}

/// "Already exists" codes.
pub fn is_duplicate(err: &anyhow::Error) -> bool {
    code(err).is_some_and(|c| {
        c.ends_with(".Duplicate")
            || c == "InvalidPermission.Duplicate"
            || c.starts_with("Duplicate")
    })
}

/// AWS saying "not yet": a dependency still holds the resource.
pub fn is_not_yet(err: &anyhow::Error) -> bool {
    code(err).is_some_and(|c| {
        matches!(
            c,
            "DependencyViolation" | "ResourceInUse" | "InvalidTarget" | "IncorrectInstanceState"
        )
    })
}

/// What a polling check reports.
pub enum Check<T> {
    /// Done, with the value.
    Done(T),
    /// Not yet; the text says the state seen, for progress and the timeout message.
    Waiting(String),
}

/// Polls `check` until it reports `Done`, at the pace of `poll`, for at most
/// `limit`. `on_wait` is told each state seen. The timeout error says what was
/// waited for, for how long, and the last state seen.
pub async fn poll_until<T, F, Fut>(
    poll: Poll,
    what: &str,
    limit: Duration,
    mut on_wait: impl FnMut(&str, Duration),
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>>>,
{
    let start = Instant::now();
    let mut interval = poll.initial;
    loop {
        match check().await? {
            Check::Done(v) => return Ok(v),
            Check::Waiting(state) => {
                let elapsed = start.elapsed();
                if elapsed >= limit {
                    bail!(
                        "gave up waiting for {what} after {}s (last state: {state})",
                        elapsed.as_secs()
                    );
                }
                on_wait(&state, elapsed);
                interval = poll.next(elapsed, interval);
                tokio::time::sleep(interval.min(limit.saturating_sub(elapsed))).await;
            }
        }
    }
}

/// A backon backoff at the polling pace ([`Poll`]): the same intervals as
/// [`poll_until`], measured on the wall clock from its creation, and none once
/// `limit` has passed (so the last refusal is returned).
#[derive(Debug)]
pub struct PollBackoff {
    poll: Poll,
    start: Instant,
    limit: Duration,
    prev: Duration,
}

impl PollBackoff {
    /// A backoff that starts now and gives up after `limit`.
    pub fn new(poll: Poll, limit: Duration) -> PollBackoff {
        PollBackoff {
            poll,
            start: Instant::now(),
            limit,
            prev: poll.initial,
        }
    }
}

impl Iterator for PollBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let elapsed = self.start.elapsed();
        if elapsed >= self.limit {
            return None;
        }
        self.prev = self.poll.next(elapsed, self.prev);
        Some(self.prev.min(self.limit - elapsed))
    }
}

/// Retries `op` while AWS answers "not yet" (see [`is_not_yet`]) or `extra`
/// matches, at the polling pace (every 0.5 s for the first 30 s, then growing),
/// for at most `limit`; `on_retry` hears each refusal and the time spent so far.
/// The pace is the polling pace because a refusal ends when something else
/// (an interface, an instance) goes, and that is what a poll would see.
pub async fn retry_not_yet<T, F, Fut>(
    poll: Poll,
    what: &str,
    limit: Duration,
    extra: impl Fn(&anyhow::Error) -> bool,
    mut on_retry: impl FnMut(&anyhow::Error, Duration),
    op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    use backon::Retryable;
    let start = Instant::now();
    let retryable = |e: &anyhow::Error| is_not_yet(e) || extra(e);
    op.retry(PollBackoff::new(poll, limit))
        .when(retryable)
        .notify(|e, _| on_retry(e, start.elapsed()))
        .await
        .map_err(|e| {
            if retryable(&e) {
                e.context(format!(
                    "{what}: still refused after {}s",
                    start.elapsed().as_secs()
                ))
            } else {
                e
            }
        })
}

/// How long a resource this run created may still be unknown to other EC2 and
/// ELB calls (AWS's "eventual consistency" page: typically seconds, "up to a
/// few minutes" is the outer bound; a minute covers what it describes as usual).
pub const VISIBILITY_LIMIT: Duration = Duration::from_secs(60);

/// "Not found" answers about a resource that was created moments ago and is not
/// visible everywhere yet (EC2's eventual consistency; S3's NoSuchBucket right
/// after CreateBucket).
pub fn is_not_visible_yet(err: &anyhow::Error) -> bool {
    // An instance profile made moments ago: EC2 answers that its name is
    // invalid until IAM's change reaches it (seconds).
    let profile_not_yet = err.chain().any(|e| {
        e.downcast_ref::<AwsError>().is_some_and(|a| {
            a.code.as_deref() == Some("InvalidParameterValue")
                && a.message.contains("Invalid IAM Instance Profile")
        })
    });
    profile_not_yet
        || code(err).is_some_and(|c| {
            matches!(
                c,
                "InvalidGroup.NotFound"
                    | "InvalidKeyPair.NotFound"
                    | "InvalidInstanceID.NotFound"
                    | "InvalidSecurityGroup"
                    | "NoSuchBucket"
            )
        })
}

/// Runs `op`, and when `fresh` (this run created what it refers to) treats
/// [`is_not_visible_yet`] answers as "not yet" for [`VISIBILITY_LIMIT`].
pub async fn after_create<T, F, Fut>(poll: Poll, fresh: bool, what: &str, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    use backon::Retryable;
    let limit = if fresh {
        VISIBILITY_LIMIT
    } else {
        Duration::ZERO
    };
    op.retry(PollBackoff::new(poll, limit))
        .when(|e| fresh && is_not_visible_yet(e))
        .notify(|e, _| tracing::debug!(error = %e, "{what}: not visible yet, retrying"))
        .await
}

/// How long a role made moments ago may stay unknown to IAM's other calls
/// and to Scheduler (IAM is eventually consistent; AWS gives no figure).
const IAM_SETTLE: Duration = Duration::from_secs(60);

/// Retries `op` while `not_yet` says its refusal is IAM's eventual
/// consistency, every 2 s for at most [`IAM_SETTLE`].
pub async fn settling<T, F, Fut>(
    what: &str,
    not_yet: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let start = tokio::time::Instant::now();
    loop {
        match op().await {
            Err(e) if not_yet(&e) && start.elapsed() < IAM_SETTLE => {
                tracing::debug!(error = %e, "{what}: not usable yet, retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_named_profile_must_be_defined_in_either_file() {
        use aws_types::os_shim_internal::{Env, Fs};
        let fs = Fs::from_slice(&[
            (
                "/h/.aws/config",
                "[profile dev]\nregion = eu-west-1\nsso_session = corp\n",
            ),
            (
                "/h/.aws/credentials",
                "[ci]\naws_access_key_id = A\naws_secret_access_key = B\n",
            ),
        ]);
        let env = Env::from_slice(&[("HOME", "/h")]);
        let choice = |name: &str| profiles::Choice {
            name: name.into(),
            from_flag: true,
        };
        let dev = profiles::check_in(&choice("dev"), &fs, &env).await.unwrap();
        assert_eq!(dev, "IAM Identity Center (SSO)");
        let ci = profiles::check_in(&choice("ci"), &fs, &env).await.unwrap();
        assert_eq!(ci, "access keys");
        let e = profiles::check_in(&choice("prod"), &fs, &env)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("AWS profile prod (--profile) is not defined"),
            "{e}"
        );
        assert!(e.contains("defined: ci, dev"), "{e}");
    }

    fn err(code: &str) -> anyhow::Error {
        anyhow::Error::new(AwsError {
            code: Some(code.into()),
            message: "m".into(),
        })
        .context("failed to do a thing")
    }

    #[test]
    fn predicates_see_through_context() {
        assert!(is_code(&err("DependencyViolation"), "DependencyViolation"));
        assert!(is_not_yet(&err("DependencyViolation")));
        assert!(is_not_yet(&err("ResourceInUse")));
        assert!(!is_not_yet(&err("InvalidGroup.NotFound")));
        assert!(is_not_found(&err("InvalidGroup.NotFound")));
        assert!(is_not_found(&err("LoadBalancerNotFound")));
        assert!(is_not_found(&err("InvalidInstanceID.NotFound")));
        assert!(is_duplicate(&err("InvalidGroup.Duplicate")));
        assert!(is_duplicate(&err("InvalidPermission.Duplicate")));
        assert!(is_duplicate(&err("DuplicateLoadBalancerName")));
        assert!(!is_duplicate(&err("Throttling")));
        assert!(code(&anyhow::anyhow!("plain")).is_none());
    }

    #[test]
    fn display_has_code_and_message() {
        let e = AwsError {
            code: Some("UnauthorizedOperation".into()),
            message: "You are not authorized".into(),
        };
        assert_eq!(
            e.to_string(),
            "UnauthorizedOperation: You are not authorized"
        );
    }

    #[test]
    fn poll_pace_grows_after_fast_phase() {
        let p = Poll::default();
        assert_eq!(
            p.next(Duration::from_secs(5), p.initial),
            Duration::from_millis(500)
        );
        let later = p.next(Duration::from_secs(40), Duration::from_secs(4));
        assert_eq!(later, Duration::from_secs(6));
        assert_eq!(
            p.next(Duration::from_secs(400), Duration::from_secs(9)),
            Duration::from_secs(10)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_not_yet_retries_then_succeeds_and_gives_up() {
        let mut n = 0;
        let t0 = Instant::now();
        let v = retry_not_yet(
            Poll::default(),
            "delete",
            Duration::from_secs(60),
            |_| false,
            |_, _| {},
            || {
                n += 1;
                let fail = n < 3;
                async move {
                    if fail {
                        Err(err("DependencyViolation"))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(v, 3);
        // Two refusals cost two polling intervals (0.5 s each), not a backoff
        // that grows towards 15 s.
        assert_eq!(t0.elapsed(), Duration::from_secs(1));

        let e = retry_not_yet(
            Poll::default(),
            "delete sg",
            Duration::from_secs(20),
            |_| false,
            |_, _| {},
            || async { Err::<(), _>(err("DependencyViolation")) },
        )
        .await
        .unwrap_err();
        assert!(format!("{e:#}").contains("still refused after"), "{e:#}");

        let e = retry_not_yet(
            Poll::default(),
            "x",
            Duration::from_secs(20),
            |_| false,
            |_, _| {},
            || async { Err::<(), _>(err("UnauthorizedOperation")) },
        )
        .await
        .unwrap_err();
        assert!(is_code(&e, "UnauthorizedOperation"));
    }

    #[tokio::test(start_paused = true)]
    async fn fresh_resources_get_a_minute_to_become_visible() {
        let mut n = 0;
        let t0 = Instant::now();
        let v = after_create(Poll::default(), true, "authorize", || {
            n += 1;
            let fail = n < 4;
            async move {
                if fail {
                    Err(err("InvalidGroup.NotFound"))
                } else {
                    Ok(n)
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(v, 4);
        assert_eq!(t0.elapsed(), Duration::from_millis(1500));

        // Not created by this run: "not found" is an answer, not a delay.
        let mut calls = 0;
        let e = after_create(Poll::default(), false, "authorize", || {
            calls += 1;
            async { Err::<(), _>(err("InvalidGroup.NotFound")) }
        })
        .await
        .unwrap_err();
        assert!(is_code(&e, "InvalidGroup.NotFound"));
        assert_eq!(calls, 1);

        // Fresh, but never visible: given up after the limit.
        let t0 = Instant::now();
        let e = after_create(Poll::default(), true, "run", || async {
            Err::<(), _>(err("InvalidKeyPair.NotFound"))
        })
        .await
        .unwrap_err();
        assert!(is_code(&e, "InvalidKeyPair.NotFound"));
        assert!(
            t0.elapsed() >= VISIBILITY_LIMIT
                && t0.elapsed() < VISIBILITY_LIMIT + Duration::from_secs(11)
        );
    }
}
