//! The web server instance (`count = 1`) and the launch both shapes share:
//! the image, type, user data, IMDSv2, encrypted gp3 root volume, standard CPU
//! credits and tags ([`Spec`]; the launch template of `count > 1` is made of the
//! same spec).
//!
//! The instances are observed by this tool's tags; the decision keeps the one
//! running this deploy's fingerprint, starts it when someone stopped it, or
//! launches a new one beside the others, which go once the new one is proven.
//! The launch carries a deterministic client token, so a retry after a dropped
//! connection cannot start a second instance. Waits are bounded polling loops.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;
pub use aws_sdk_ec2::types::InstanceStateName as State;

use super::network::Subnet;
use super::Verb;
use crate::aws::{after_create, is_code, poll_until, retry_not_yet, AwsError, Check, Ctx};
use crate::plan::{base64, fnv1a, Plan, FINGERPRINT_KEY, ROLE_KEY, TEMPLATE_KEY};
use crate::tags::{ec2_filter, Owner, TagDrift, Tags};

/// Role tag value of the web instance.
pub const ROLE_WEB: &str = "web";

/// The tag AWS puts on every instance an Auto Scaling group launches.
pub const GROUP_TAG: &str = "aws:autoscaling:groupName";

/// What a web server is launched from: the same for the single instance and
/// for the launch template of a group.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The instances' Name tag.
    pub name: String,
    /// Instance type.
    pub instance_type: String,
    /// CPU architecture the type needs (`x86_64` or `arm64`).
    pub architecture: &'static str,
    /// AMI name filter.
    pub ami_name_filter: String,
    /// AMI owner.
    pub ami_owner: String,
    /// Root volume size, GiB.
    pub root_volume_gb: i32,
    /// Rendered user data (plain text; base64 is applied at launch).
    pub user_data: String,
    /// The instance profile it runs with (`[site]`: it reads the content).
    pub profile: Option<String>,
    /// Fingerprint of what it runs.
    pub fingerprint: String,
    /// The tooplate template, `<id>_<slug>`.
    pub template: String,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The web servers of `plan`, booting with `user_data` (the plan's, with
    /// the account's bucket and region filled in) and `profile`.
    pub fn new(plan: &Plan, user_data: String, profile: Option<String>) -> Spec {
        Spec {
            name: plan.instance_name.clone(),
            instance_type: plan.instance_type.clone(),
            architecture: plan.architecture,
            ami_name_filter: plan.ami_name_filter.clone(),
            ami_owner: plan.ami_owner.clone(),
            root_volume_gb: plan.root_volume_gb,
            user_data,
            profile,
            fingerprint: plan.fingerprint.clone(),
            template: plan.template.clone(),
            owner: plan.owner.clone(),
        }
    }

    /// Whether the type is burstable (T family), whose CPU credit mode this
    /// tool sets to `standard` (AWS launches T3/T4g in `unlimited`, which bills
    /// surplus credits).
    pub fn burstable(&self) -> bool {
        self.instance_type.starts_with('t')
    }

    /// The tags a web server carries besides the owner's.
    pub fn instance_tags(&self) -> [(&str, &str); 4] {
        [
            ("Name", self.name.as_str()),
            (ROLE_KEY, ROLE_WEB),
            (FINGERPRINT_KEY, self.fingerprint.as_str()),
            (TEMPLATE_KEY, self.template.as_str()),
        ]
    }

    /// The client token for RunInstances: the same for a retry of the same
    /// launch, different when anything the launch is made of changes: the key
    /// pair (a new deployment after cleanup), the fingerprint (template,
    /// type...), the image or the subnet. `launch` is those ids plus, after AWS
    /// answered a token with an instance that is no longer live, that
    /// instance's id, so templates A -> B -> A never get an earlier run's
    /// terminated instance back. At most 64 ASCII characters.
    pub fn client_token(&self, launch: &[&str]) -> String {
        let name = &self.owner.deployment;
        let mut text = format!("{name}\n{}", self.fingerprint);
        for part in launch {
            text.push('\n');
            text.push_str(part);
        }
        let h = fnv1a(text.as_bytes());
        format!("sd-{}-{h:016x}", &name[..name.len().min(40)])
    }
}

/// The chosen machine image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// AMI id.
    pub id: String,
    /// AMI name.
    pub name: String,
    /// Root device name, for the encrypted root volume mapping.
    pub root_device: String,
}

/// An instance of this deployment.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// Pending, running, stopped...
    pub state: State,
    /// Public IPv4 address, once it has one.
    pub public_ip: Option<String>,
    /// The fingerprint tag: what it was launched to run.
    pub fingerprint: Option<String>,
    /// Availability zone.
    pub zone: String,
    /// Its tags.
    pub tags: Tags,
    /// When it was launched (Unix seconds).
    pub launched: Option<i64>,
    /// Instance type (what it costs, whatever deploy.toml says now).
    pub instance_type: String,
    /// Why it is in its state, when AWS says (e.g. a stop's reason).
    pub state_reason: Option<String>,
    /// The template it was launched to serve (its `SiteTemplate` tag).
    pub template: Option<String>,
}

impl Instance {
    /// Pending or running: it counts as serving or about to.
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Pending | State::Running)
    }

    /// Stopping or stopped: someone stopped it; StartInstances brings it back.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopping | State::Stopped)
    }

    /// Whether an Auto Scaling group launched it (AWS tags it so).
    pub fn in_fleet(&self) -> bool {
        self.tags.iter().any(|(k, _)| k == GROUP_TAG)
    }

    /// Its Name tag.
    pub fn name_tag(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == "Name")
            .map(|(_, v)| v.as_str())
    }
}

fn tag<'a>(i: &'a ec2t::Instance, key: &str) -> Option<&'a str> {
    i.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

fn to_instance(i: &ec2t::Instance) -> Instance {
    Instance {
        id: i.instance_id().unwrap_or_default().to_string(),
        state: i
            .state()
            .and_then(|s| s.name())
            .cloned()
            .unwrap_or(State::Pending),
        public_ip: i.public_ip_address().map(str::to_string),
        fingerprint: tag(i, FINGERPRINT_KEY).map(str::to_string),
        zone: i
            .placement()
            .and_then(|p| p.availability_zone())
            .unwrap_or_default()
            .to_string(),
        tags: crate::tags::ec2_pairs(i.tags()),
        launched: i.launch_time().map(|t| t.secs()),
        instance_type: i
            .instance_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        template: tag(i, TEMPLATE_KEY).map(str::to_string),
        state_reason: i
            .state_reason()
            .and_then(|r| r.message())
            .map(str::to_string)
            .or_else(|| {
                i.state_transition_reason()
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
            }),
    }
}

/// The newest available image matching the spec's name filter, owner and the
/// instance type's architecture; ties broken by name, then id.
pub async fn find_image(ctx: &Ctx, spec: &Spec) -> Result<Image> {
    let out = ctx
        .ec2
        .describe_images()
        .owners(&spec.ami_owner)
        .filters(ec2_filter("name", &spec.ami_name_filter))
        .filters(ec2_filter("state", "available"))
        .filters(ec2_filter("architecture", spec.architecture))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to look up machine images")?;
    let best = out
        .images()
        .iter()
        .filter(|i| i.image_id().is_some())
        .max_by(|a, b| {
            (a.creation_date(), a.name(), a.image_id()).cmp(&(
                b.creation_date(),
                b.name(),
                b.image_id(),
            ))
        });
    let Some(img) = best else {
        bail!(
            "no available {} image named {:?} owned by {} in {}: check instance.ami_name_filter \
             and instance.type in deploy.toml",
            spec.architecture,
            spec.ami_name_filter,
            spec.ami_owner,
            ctx.region
        );
    };
    Ok(Image {
        id: img.image_id().unwrap_or_default().to_string(),
        name: img.name().unwrap_or_default().to_string(),
        root_device: img.root_device_name().unwrap_or("/dev/xvda").to_string(),
    })
}

/// States cleanup terminates, and in which an instance is this deployment's.
pub const NOT_TERMINATED: &[&str] = &["pending", "running", "stopping", "stopped", "shutting-down"];

/// This deployment's web servers not terminated (the group's too), oldest first.
pub async fn observe(ctx: &Ctx, owner: &Owner) -> Result<Vec<Instance>> {
    let mut filters = owner.ec2_filters();
    filters.push(ec2_filter(&format!("tag:{ROLE_KEY}"), ROLE_WEB));
    filters.push(
        ec2t::Filter::builder()
            .name("instance-state-name")
            .set_values(Some(NOT_TERMINATED.iter().map(|s| s.to_string()).collect()))
            .build(),
    );
    let mut found: Vec<(Option<aws_sdk_ec2::primitives::DateTime>, Instance)> = Vec::new();
    let mut pages = ctx
        .ec2
        .describe_instances()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(AwsError::from)
            .context("failed to look up this deployment's instances")?;
        for r in page.reservations() {
            for i in r.instances() {
                found.push((i.launch_time().copied(), to_instance(i)));
            }
        }
    }
    found.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    Ok(found.into_iter().map(|(_, i)| i).collect())
}

/// This deployment's single instances (not a group's) that serve or can serve
/// (live or stopped): the one running `fingerprint`, if any (a live one
/// preferred over a stopped one), and the others (an earlier template's, or a
/// crashed run's).
pub fn split<'a>(
    fingerprint: &str,
    all: &'a [Instance],
) -> (Option<&'a Instance>, Vec<&'a Instance>) {
    let mut all: Vec<&Instance> = all
        .iter()
        .filter(|i| !i.in_fleet() && (i.is_live() || i.is_stopped()))
        .collect();
    // Live before stopped; otherwise oldest first, as found.
    all.sort_by_key(|i| i.is_stopped());
    let mut current = None;
    let mut others = Vec::new();
    for i in all {
        if current.is_none() && i.fingerprint.as_deref() == Some(fingerprint) {
            current = Some(i);
        } else {
            others.push(i);
        }
    }
    (current, others)
}

/// What deploy does with the single web server (`count = 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Launch one from this image (beside the others, if any).
    Launch(Image),
    /// The one running this deploy's fingerprint is kept as it is.
    Keep,
    /// It is kept; its tags follow deploy.toml.
    Retag(TagDrift),
    /// Someone stopped it: start it again (same template already installed).
    Start,
    /// Deploy stops.
    Stop(String),
}

/// The single web server's decision: the serving one (when it exists), what
/// is done to it, and the others, which go once it is proven.
#[derive(Debug, Clone)]
pub struct Single {
    /// The instance running this deploy's fingerprint, when there is one.
    pub current: Option<Instance>,
    /// What is done to it, or a launch.
    pub action: Action,
    /// The others (an earlier template's, a crashed run's): deregistered,
    /// drained and terminated once the current one is proven.
    pub retire: Vec<Instance>,
}

/// Decides the single web server from the instances observed; `image` is the
/// image a launch would use (looked up whenever there is no current one).
pub fn decide(spec: &Spec, instances: &[Instance], image: Option<&Image>) -> Single {
    let (current, others) = split(&spec.fingerprint, instances);
    let action = match (current, image) {
        (Some(c), _) if c.is_stopped() => Action::Start,
        (Some(c), _) => {
            let drift = spec.owner.drift(&c.tags);
            if drift.is_empty() {
                Action::Keep
            } else {
                Action::Retag(drift)
            }
        }
        (None, Some(image)) => Action::Launch(image.clone()),
        (None, None) => Action::Stop("no machine image was looked up for the launch".into()),
    };
    Single {
        current: current.cloned(),
        action,
        retire: others.into_iter().cloned().collect(),
    }
}

impl Single {
    /// The plan's verb: a new instance beside others replaces them.
    pub fn verb(&self) -> Verb {
        match (&self.action, self.retire.is_empty()) {
            (Action::Stop(_), _) => Verb::Stop,
            (_, false) => Verb::Replace,
            (Action::Launch(_), true) => Verb::Create,
            (Action::Keep, true) => Verb::Keep,
            (Action::Retag(_) | Action::Start, true) => Verb::Update,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self, spec: &Spec) -> String {
        let retire: Vec<&str> = self.retire.iter().map(|i| i.id.as_str()).collect();
        let what = match &self.action {
            Action::Launch(image) => format!("{} from {}", spec.instance_type, image.id),
            Action::Keep => String::new(),
            Action::Retag(d) => d.describe().join("; "),
            Action::Start => {
                let c = self.current.as_ref();
                format!(
                    "{} is {}: start it",
                    c.map(|c| c.id.as_str()).unwrap_or("?"),
                    c.map(|c| c.state.as_str()).unwrap_or("stopped")
                )
            }
            Action::Stop(why) => return why.clone(),
        };
        if retire.is_empty() {
            return what;
        }
        let who = self
            .current
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or(spec.instance_type.clone());
        let changed = template_change(spec, &self.retire);
        [
            format!("{changed}{who} takes the place of {}", retire.join(", ")),
            what,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// "template A -> B: " when the web servers being replaced serve another
/// template than the spec's (their `SiteTemplate` tag), else nothing.
pub fn template_change(spec: &Spec, old: &[Instance]) -> String {
    let mut was: Vec<&str> = old
        .iter()
        .filter_map(|i| i.template.as_deref())
        .filter(|t| *t != spec.template)
        .collect();
    was.sort_unstable();
    was.dedup();
    if was.is_empty() {
        String::new()
    } else {
        format!("template {} -> {}: ", was.join(", "), spec.template)
    }
}

/// What a launch needs from the steps before it.
pub struct LaunchInputs<'a> {
    /// The image.
    pub image: &'a Image,
    /// The subnet (in a zone the load balancer serves).
    pub subnet: &'a Subnet,
    /// The web group's id.
    pub security_group_id: &'a str,
    /// Key pair name.
    pub key_name: &'a str,
    /// Key pair id (part of the client token).
    pub key_pair_id: &'a str,
    /// Whether this run created the group or the key pair (they may not be
    /// visible to RunInstances yet).
    pub fresh: bool,
}

/// Applies the decision: launches, starts or retags. Returns the serving
/// instance (a new one is `pending`).
pub async fn apply<'a>(
    ctx: &Ctx,
    spec: &Spec,
    single: &Single,
    launch_inputs: impl FnOnce() -> Result<LaunchInputs<'a>>,
    limit: Duration,
) -> Result<Instance> {
    let current = || single.current.clone().context("no instance was observed");
    match &single.action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => current(),
        Action::Retag(drift) => {
            let c = current()?;
            drift.apply(ctx, crate::tags::Tagger::Ec2(&c.id)).await?;
            Ok(c)
        }
        Action::Start => {
            let c = current()?;
            start(ctx, &c.id, limit).await?;
            Ok(c)
        }
        Action::Launch(_) => launch(ctx, spec, &launch_inputs()?).await,
    }
}

/// Starts a stopped instance of the current template (waiting out `stopping`,
/// which StartInstances refuses with IncorrectInstanceState).
pub async fn start(ctx: &Ctx, id: &str, limit: Duration) -> Result<()> {
    retry_not_yet(
        ctx.poll,
        &format!("start instance {id}"),
        limit,
        |_| false,
        |e, _| tracing::debug!(error = %e, "instance not startable yet"),
        || async {
            ctx.ec2
                .start_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to start instance {id}"))
        },
    )
    .await?;
    Ok(())
}

/// How many times a launch token that AWS answered with a dead instance is
/// salted and tried again (templates A -> B -> A -> B ... within a day).
const MAX_TOKEN_SALTS: usize = 5;

/// Launches one instance (the decision said so: none runs this deploy's
/// fingerprint).
///
/// The client token is derived from everything the launch is made of. When AWS
/// answers it with an instance that is not live (an earlier run's, since
/// terminated or stopped: client tokens outlive instances) or with
/// `IdempotentParameterMismatch`, the token is salted with that answer and the
/// launch tried again; the chain is deterministic, so a retry or a re-run
/// follows it to the same instance.
pub async fn launch(ctx: &Ctx, spec: &Spec, inputs: &LaunchInputs<'_>) -> Result<Instance> {
    let mut salts: Vec<String> = Vec::new();
    loop {
        let mut parts = vec![inputs.key_pair_id, &inputs.image.id, &inputs.subnet.id];
        parts.extend(salts.iter().map(String::as_str));
        let token = spec.client_token(&parts);
        let res = after_create(ctx.poll, inputs.fresh, "launch", || {
            run(ctx, spec, inputs, &token)
        })
        .await;
        // The answer to a token seen before repeats the first launch's answer,
        // so its state may be stale: read the instance's state now.
        let res = match res {
            Ok(mut inst) if inst.is_live() => {
                if let Some(now) = state_now(ctx, &inst.id).await? {
                    inst.state = now;
                }
                Ok(inst)
            }
            other => other,
        };
        let salt = match res {
            Ok(inst) if inst.is_live() => return Ok(inst),
            Ok(inst) => {
                tracing::debug!(token, id = %inst.id, state = %inst.state.as_str(),
                    "the client token belongs to an earlier launch; salting it");
                inst.id
            }
            Err(e) if is_code(&e, "IdempotentParameterMismatch") => {
                tracing::debug!(token, "client token used with other parameters; salting it");
                "mismatch".to_string()
            }
            Err(e) => return Err(e),
        };
        if salts.len() >= MAX_TOKEN_SALTS {
            bail!(
                "AWS answered {} launches in a row with instances of earlier runs ({}); run \
                 cleanup, then deploy again",
                salts.len() + 1,
                salts.join(", ")
            );
        }
        salts.push(salt);
    }
}

/// The instance's state now, or `None` when DescribeInstances does not know it
/// yet (a launch moments ago).
async fn state_now(ctx: &Ctx, id: &str) -> Result<Option<State>> {
    Ok(describe_one(ctx, id).await?.map(|i| i.state))
}

/// The instances with these ids, in that order (those AWS does not know yet
/// left out). At most 200 ids (AWS's limit on a filter's values; a deployment
/// has at most a few dozen).
pub async fn describe_ids(ctx: &Ctx, ids: &[String]) -> Result<Vec<Instance>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // A filter, not InstanceIds: AWS fails the whole call when one id is not
    // visible yet (a launch moments ago); a filter leaves it out.
    let out = ctx
        .ec2
        .describe_instances()
        .filters(
            ec2t::Filter::builder()
                .name("instance-id")
                .set_values(Some(ids.to_vec()))
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to describe instances")?;
    let found: Vec<Instance> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(to_instance)
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|i| i.id == *id).cloned())
        .collect())
}

/// One instance by id; `None` while DescribeInstances does not know it yet.
async fn describe_one(ctx: &Ctx, id: &str) -> Result<Option<Instance>> {
    Ok(describe_ids(ctx, &[id.to_string()])
        .await?
        .into_iter()
        .next())
}

async fn run(ctx: &Ctx, spec: &Spec, inputs: &LaunchInputs<'_>, token: &str) -> Result<Instance> {
    let mut req = ctx
        .ec2
        .run_instances()
        .image_id(&inputs.image.id)
        .instance_type(ec2t::InstanceType::from(spec.instance_type.as_str()))
        .min_count(1)
        .max_count(1)
        .key_name(inputs.key_name)
        .subnet_id(&inputs.subnet.id)
        .security_group_ids(inputs.security_group_id)
        .client_token(token)
        .user_data(base64(spec.user_data.as_bytes()))
        .metadata_options(
            ec2t::InstanceMetadataOptionsRequest::builder()
                .http_tokens(ec2t::HttpTokensState::Required)
                .http_endpoint(ec2t::InstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .block_device_mappings(
            ec2t::BlockDeviceMapping::builder()
                .device_name(&inputs.image.root_device)
                .ebs(
                    ec2t::EbsBlockDevice::builder()
                        .volume_size(spec.root_volume_gb)
                        .volume_type(ec2t::VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(
            spec.owner
                .ec2_spec(ec2t::ResourceType::Instance, &spec.instance_tags()),
        )
        .tag_specifications(
            spec.owner
                .ec2_spec(ec2t::ResourceType::Volume, &[("Name", &spec.name)]),
        );
    if spec.burstable() {
        req = req.credit_specification(credit_standard());
    }
    if let Some(p) = &spec.profile {
        req = req.iam_instance_profile(
            ec2t::IamInstanceProfileSpecification::builder()
                .name(p)
                .build(),
        );
    }
    if !inputs.subnet.maps_public_ip {
        // A subnet that does not map public addresses itself (vpc_id set): ask
        // for one on the instance's interface. Groups then go on the interface.
        req = req
            .set_subnet_id(None)
            .set_security_group_ids(None)
            .network_interfaces(
                ec2t::InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(&inputs.subnet.id)
                    .groups(inputs.security_group_id)
                    .associate_public_ip_address(true)
                    .delete_on_termination(true)
                    .build(),
            );
    }
    let out = req
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to launch instance {}", spec.name))?;
    let Some(inst) = out.instances().first() else {
        bail!("RunInstances returned no instance");
    };
    Ok(to_instance(inst))
}

/// `standard` CPU credits: a T instance is throttled to its baseline when its
/// credits run out instead of billing surplus credits (the `unlimited` default).
pub fn credit_standard() -> ec2t::CreditSpecificationRequest {
    ec2t::CreditSpecificationRequest::builder()
        .cpu_credits("standard")
        .build()
}

/// Waits until the instance is running (and has its public address, if any).
pub async fn wait_running(
    ctx: &Ctx,
    id: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<Instance> {
    poll_until(
        ctx.poll,
        &format!("instance {id} to run"),
        limit,
        on_wait,
        || async {
            // Right after a launch, DescribeInstances may not know the id yet.
            let Some(inst) = describe_one(ctx, id).await? else {
                return Ok(Check::Waiting("not visible yet".into()));
            };
            match &inst.state {
                State::Running => Ok(Check::Done(inst)),
                State::Pending => Ok(Check::Waiting("pending".into())),
                other => bail!(
                    "instance {id} is {} instead of starting; its console output \
                 (`aws ec2 get-console-output --instance-id {id}`) may say why",
                    other.as_str()
                ),
            }
        },
    )
    .await
}

/// Terminates the given instances.
pub async fn terminate(ctx: &Ctx, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    ctx.ec2
        .terminate_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to terminate {}", ids.join(", ")))?;
    Ok(())
}

/// Waits until none of the given instances is left short of `terminated`.
pub async fn wait_terminated(
    ctx: &Ctx,
    ids: &[String],
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    poll_until(
        ctx.poll,
        "instances to terminate",
        limit,
        on_wait,
        || async {
            let left: Vec<String> = describe_ids(ctx, ids)
                .await?
                .into_iter()
                .filter(|i| i.state != State::Terminated)
                .map(|i| format!("{} {}", i.id, i.state.as_str()))
                .collect();
            if left.is_empty() {
                Ok(Check::Done(()))
            } else {
                Ok(Check::Waiting(left.join(", ")))
            }
        },
    )
    .await
}

/// Terminates these instances (as observed) and waits for them to go.
pub async fn delete(
    ctx: &Ctx,
    found: &[Instance],
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<super::Deleted> {
    if found.is_empty() {
        return Ok(super::Deleted::Absent);
    }
    // Those already shutting down need no call, only waiting for.
    let ids: Vec<String> = found
        .iter()
        .filter(|i| i.state != State::ShuttingDown)
        .map(|i| i.id.clone())
        .collect();
    terminate(ctx, &ids).await?;
    let all: Vec<String> = found.iter().map(|i| i.id.clone()).collect();
    wait_terminated(ctx, &all, limit, on_wait).await?;
    Ok(if ids.is_empty() {
        super::Deleted::Absent
    } else {
        super::Deleted::Deleted
    })
}
