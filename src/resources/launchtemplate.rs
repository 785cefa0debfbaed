//! The launch template of the web servers when `count > 1` (the Auto Scaling
//! group launches from it), made of the same launch spec as a single instance
//! ([`instance::Spec`]: image, type, user data, IMDSv2, encrypted gp3 root
//! volume, standard CPU credits, key pair, web group, tags). Each version's
//! description carries the spec's fingerprint; a template change adds a
//! version and makes it the default.

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::instance::{self, Image};
use super::{Deleted, Seen, Verb};
use crate::aws::{unless_not_found, AwsError, Ctx};
use crate::plan::{base64, Plan};
use crate::tags::{ec2_filter, TagDrift, Tagger, Tags};

/// What deploy.toml asks of the launch template.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its name.
    pub name: String,
    /// What it launches.
    pub launch: instance::Spec,
}

impl Spec {
    /// The launch template of `plan`, launching `launch`.
    pub fn new(plan: &Plan, launch: &instance::Spec) -> Spec {
        Spec {
            name: plan.lt_name.clone(),
            launch: launch.clone(),
        }
    }
}

/// A launch template and its default version.
#[derive(Debug, Clone)]
pub struct LaunchTemplate {
    /// Id (`lt-...`).
    pub id: String,
    /// Name.
    pub name: String,
    /// The default version's number.
    pub version: i64,
    /// The fingerprint the default version was made for.
    pub fingerprint: String,
    /// Its tags.
    pub tags: Tags,
}

/// What to put in a version besides the spec.
pub struct TemplateInputs<'a> {
    /// The web group.
    pub security_group_id: &'a str,
    /// The key pair.
    pub key_name: &'a str,
    /// Ask for a public IPv4 address (the subnets do not give one).
    pub public_ip: bool,
}

/// EC2's answer to CreateLaunchTemplate with a name in use.
const ALREADY_EXISTS: &str = "InvalidLaunchTemplateName.AlreadyExistsException";

fn description(spec: &Spec) -> String {
    format!("sitedeploy {}", spec.launch.fingerprint)
}

/// The spec's launch template with its default version: ours, another's, or
/// none.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<LaunchTemplate>> {
    let out = ctx
        .ec2
        .describe_launch_templates()
        .filters(ec2_filter("launch-template-name", &spec.name))
        .send()
        .await
        .map_err(AwsError::from);
    let Some(out) = unless_not_found(out, || {
        format!("failed to look up launch template {}", spec.name)
    })?
    else {
        return Ok(Seen::Absent);
    };
    let Some(lt) = out
        .launch_templates()
        .iter()
        .find(|t| t.launch_template_name() == Some(spec.name.as_str()))
    else {
        return Ok(Seen::Absent);
    };
    let tags = crate::tags::ec2_pairs(lt.tags());
    if !spec.launch.owner.owns(&tags) {
        return Ok(Seen::Foreign(spec.launch.owner.foreign(
            "launch template",
            &spec.name,
            "Rename the deployment (name in deploy.toml).",
        )));
    }
    let id = lt.launch_template_id().unwrap_or_default().to_string();
    let version = lt.default_version_number().unwrap_or(1);
    let versions = ctx
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(&id)
        .versions(version.to_string())
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read launch template {}", spec.name))?;
    let fingerprint = versions
        .launch_template_versions()
        .first()
        .and_then(|v| v.version_description())
        .and_then(|d| d.strip_prefix("sitedeploy "))
        .unwrap_or_default()
        .to_string();
    Ok(Seen::Ours(LaunchTemplate {
        id,
        name: spec.name.clone(),
        version,
        fingerprint,
        tags,
    }))
}

/// What deploy does with the launch template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it from this image.
    Create(Image),
    /// Its default version runs the spec's fingerprint.
    Keep,
    /// As `Keep`; its tags follow deploy.toml.
    Retag(TagDrift),
    /// A new default version from this image (the template changed); tags too.
    NewVersion(Image, TagDrift),
    /// It goes (`count = 1`: one instance takes the place of the group), once
    /// the instance serves.
    Delete,
    /// Deploy stops.
    Stop(String),
}

/// Decides the launch template for `count > 1`; `image` is the image a new
/// version would use (looked up whenever one is needed).
pub fn decide(spec: &Spec, seen: &Seen<LaunchTemplate>, image: Option<&Image>) -> Action {
    let no_image = || Action::Stop("no machine image was looked up for the launch template".into());
    match seen {
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Absent => image.map_or_else(no_image, |i| Action::Create(i.clone())),
        Seen::Ours(lt) => {
            let tags = spec.launch.owner.drift(&lt.tags);
            match (lt.fingerprint == spec.launch.fingerprint, image) {
                (true, _) if tags.is_empty() => Action::Keep,
                (true, _) => Action::Retag(tags),
                (false, Some(i)) => Action::NewVersion(i.clone(), tags),
                (false, None) => no_image(),
            }
        }
    }
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create(_) => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Retag(_) | Action::NewVersion(..) => Verb::Update,
            Action::Delete => Verb::Delete,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it; `found` the template observed, `running`
    /// the web servers it replaces.
    pub fn detail(
        &self,
        spec: &Spec,
        found: Option<&LaunchTemplate>,
        running: &[instance::Instance],
    ) -> String {
        match self {
            Action::Create(image) => format!("{} from {}", spec.launch.instance_type, image.id),
            Action::Keep => String::new(),
            Action::Retag(d) => d.describe().join("; "),
            Action::NewVersion(image, d) => {
                let next = found.map(|l| l.version + 1).unwrap_or(1);
                let mut lines = vec![format!(
                    "{}version {next} from {} for the changed template",
                    instance::template_change(&spec.launch, running),
                    image.id
                )];
                lines.extend(d.describe());
                lines.join("; ")
            }
            Action::Delete => "count = 1: one instance takes the place of the group".into(),
            Action::Stop(why) => why.clone(),
        }
    }
}

/// Applies the decision (not `Delete`, which comes after the site is proven:
/// [`delete`]); `found` the template observed.
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&LaunchTemplate>,
    inputs: &TemplateInputs<'_>,
) -> Result<LaunchTemplate> {
    let found = || found.cloned().context("no launch template was observed");
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => found(),
        Action::Retag(drift) => {
            let lt = found()?;
            drift.apply(ctx, Tagger::Ec2(&lt.id)).await?;
            Ok(lt)
        }
        Action::NewVersion(image, drift) => {
            let lt = found()?;
            drift.apply(ctx, Tagger::Ec2(&lt.id)).await?;
            new_version(ctx, spec, lt, image, inputs).await
        }
        Action::Create(image) => create(ctx, spec, image, inputs).await,
        Action::Delete => bail!(
            "launch template {} goes after the site is proven",
            spec.name
        ),
    }
}

async fn new_version(
    ctx: &Ctx,
    spec: &Spec,
    lt: LaunchTemplate,
    image: &Image,
    inputs: &TemplateInputs<'_>,
) -> Result<LaunchTemplate> {
    let out = ctx
        .ec2
        .create_launch_template_version()
        .launch_template_id(&lt.id)
        .version_description(description(spec))
        .launch_template_data(data(spec, image, inputs))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to add a version to {}", lt.name))?;
    let version = out
        .launch_template_version()
        .and_then(|v| v.version_number())
        .context("CreateLaunchTemplateVersion returned no version")?;
    ctx.ec2
        .modify_launch_template()
        .launch_template_id(&lt.id)
        .default_version(version.to_string())
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| {
            format!(
                "failed to make version {version} of {} the default",
                lt.name
            )
        })?;
    Ok(LaunchTemplate {
        version,
        fingerprint: spec.launch.fingerprint.clone(),
        ..lt
    })
}

/// CreateLaunchTemplate. EC2 answers a name in use with
/// `InvalidLaunchTemplateName.AlreadyExistsException`: a retried create whose
/// first attempt took effect (its answer lost) is found and used when it is
/// this deployment's and made for this fingerprint.
async fn create(
    ctx: &Ctx,
    spec: &Spec,
    image: &Image,
    inputs: &TemplateInputs<'_>,
) -> Result<LaunchTemplate> {
    let res = ctx
        .ec2
        .create_launch_template()
        .launch_template_name(&spec.name)
        .version_description(description(spec))
        .launch_template_data(data(spec, image, inputs))
        .tag_specifications(
            spec.launch
                .owner
                .ec2_spec(ec2t::ResourceType::LaunchTemplate, &[]),
        )
        .send()
        .await
        .map_err(AwsError::from);
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            if e.code.as_deref() == Some(ALREADY_EXISTS) {
                if let Seen::Ours(lt) = observe(ctx, spec).await? {
                    if lt.fingerprint == spec.launch.fingerprint {
                        return Ok(lt);
                    }
                }
            }
            return Err(anyhow::Error::new(e)
                .context(format!("failed to create launch template {}", spec.name)));
        }
    };
    let Some(lt) = out.launch_template() else {
        bail!("CreateLaunchTemplate returned no template");
    };
    Ok(LaunchTemplate {
        id: lt.launch_template_id().unwrap_or_default().to_string(),
        name: spec.name.clone(),
        version: lt.default_version_number().unwrap_or(1),
        fingerprint: spec.launch.fingerprint.clone(),
        tags: spec.launch.owner.owned(),
    })
}

fn data(
    spec: &Spec,
    image: &Image,
    inputs: &TemplateInputs<'_>,
) -> ec2t::RequestLaunchTemplateData {
    let launch = &spec.launch;
    let tagged = |kind: ec2t::ResourceType, extra: &[(&str, &str)]| {
        let s = launch.owner.ec2_spec(kind.clone(), extra);
        ec2t::LaunchTemplateTagSpecificationRequest::builder()
            .resource_type(kind)
            .set_tags(Some(s.tags().to_vec()))
            .build()
    };
    let mut b = ec2t::RequestLaunchTemplateData::builder()
        .image_id(&image.id)
        .instance_type(ec2t::InstanceType::from(launch.instance_type.as_str()))
        .key_name(inputs.key_name)
        .user_data(base64(launch.user_data.as_bytes()))
        .metadata_options(
            ec2t::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(ec2t::LaunchTemplateHttpTokensState::Required)
                .http_endpoint(ec2t::LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .block_device_mappings(
            ec2t::LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(&image.root_device)
                .ebs(
                    ec2t::LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(launch.root_volume_gb)
                        .volume_type(ec2t::VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(tagged(
            ec2t::ResourceType::Instance,
            &launch.instance_tags(),
        ))
        .tag_specifications(tagged(
            ec2t::ResourceType::Volume,
            &[("Name", launch.name.as_str())],
        ));
    if launch.burstable() {
        b = b.credit_specification(super::instance::credit_standard());
    }
    if let Some(p) = &launch.profile {
        b = b.iam_instance_profile(
            ec2t::LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .name(p)
                .build(),
        );
    }
    if inputs.public_ip {
        b = b.network_interfaces(
            ec2t::LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .device_index(0)
                .associate_public_ip_address(true)
                .groups(inputs.security_group_id)
                .delete_on_termination(true)
                .build(),
        );
    } else {
        b = b.security_group_ids(inputs.security_group_id);
    }
    b.build()
}

/// Deletes the launch template (as observed), every version.
pub async fn delete(ctx: &Ctx, lt: &LaunchTemplate) -> Result<Deleted> {
    let res = ctx
        .ec2
        .delete_launch_template()
        .launch_template_id(&lt.id)
        .send()
        .await
        .map_err(AwsError::from);
    Ok(
        match unless_not_found(res, || {
            format!("failed to delete launch template {}", lt.name)
        })? {
            Some(_) => Deleted::Deleted,
            None => Deleted::Absent,
        },
    )
}
