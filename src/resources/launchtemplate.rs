//! The launch template of the web servers when `count > 1` (the Auto Scaling
//! group launches from it): the same choices as a single instance's launch
//! (image, type, user data, IMDSv2, encrypted gp3 root volume, standard CPU
//! credits, the key pair, the web group, the tags). Each version's description
//! carries the plan's fingerprint; a template change adds a version and makes it
//! the default.

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::instance::{Image, ROLE_WEB};
use super::{
    ec2_filter, ec2_is_ours, ec2_tag_spec, foreign, is_foreign, Deleted, Ensured, Outcome,
};
use crate::aws::{is_duplicate, unless_not_found, AwsError, Ctx};
use crate::plan::{base64, Plan, FINGERPRINT_KEY, ROLE_KEY, TEMPLATE_KEY};

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
    pub tags: super::Tags,
}

/// What to put in a version.
pub struct TemplateInputs<'a> {
    /// The image.
    pub image: &'a Image,
    /// The web group.
    pub security_group_id: &'a str,
    /// The key pair.
    pub key_name: &'a str,
    /// Ask for a public IPv4 address (the subnets do not give one).
    pub public_ip: bool,
}

fn description(plan: &Plan) -> String {
    format!("sitedeploy {}", plan.fingerprint)
}

/// Finds the plan's launch template with its default version; an error when
/// one of that name lacks this tool's tags.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<LaunchTemplate>> {
    let out = ctx
        .ec2
        .describe_launch_templates()
        .filters(ec2_filter("launch-template-name", &plan.lt_name))
        .send()
        .await
        .map_err(AwsError::from);
    let Some(out) = unless_not_found(out, || {
        format!("failed to look up launch template {}", plan.lt_name)
    })?
    else {
        return Ok(None);
    };
    let Some(lt) = out
        .launch_templates()
        .iter()
        .find(|t| t.launch_template_name() == Some(plan.lt_name.as_str()))
    else {
        return Ok(None);
    };
    if !ec2_is_ours(lt.tags(), plan) {
        return Err(foreign(
            "launch template",
            &plan.lt_name,
            plan,
            "Rename the deployment (name in deploy.toml).",
        ));
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
        .with_context(|| format!("failed to read launch template {}", plan.lt_name))?;
    let fingerprint = versions
        .launch_template_versions()
        .first()
        .and_then(|v| v.version_description())
        .and_then(|d| d.strip_prefix("sitedeploy "))
        .unwrap_or_default()
        .to_string();
    Ok(Some(LaunchTemplate {
        id,
        name: plan.lt_name.clone(),
        version,
        fingerprint,
        tags: super::ec2_pairs(lt.tags()),
    }))
}

fn data(plan: &Plan, inputs: &TemplateInputs<'_>) -> ec2t::RequestLaunchTemplateData {
    let instance_tags = [
        ("Name", plan.instance_name.as_str()),
        (ROLE_KEY, ROLE_WEB),
        (FINGERPRINT_KEY, plan.fingerprint.as_str()),
        (TEMPLATE_KEY, plan.template.as_str()),
    ];
    let spec = |kind: ec2t::ResourceType, extra: &[(&str, &str)]| {
        let s = ec2_tag_spec(plan, kind.clone(), extra);
        ec2t::LaunchTemplateTagSpecificationRequest::builder()
            .resource_type(kind)
            .set_tags(Some(s.tags().to_vec()))
            .build()
    };
    let mut b = ec2t::RequestLaunchTemplateData::builder()
        .image_id(&inputs.image.id)
        .instance_type(ec2t::InstanceType::from(plan.instance_type.as_str()))
        .key_name(inputs.key_name)
        .user_data(base64(plan.user_data.as_bytes()))
        .metadata_options(
            ec2t::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(ec2t::LaunchTemplateHttpTokensState::Required)
                .http_endpoint(ec2t::LaunchTemplateInstanceMetadataEndpointState::Enabled)
                .build(),
        )
        .block_device_mappings(
            ec2t::LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name(&inputs.image.root_device)
                .ebs(
                    ec2t::LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(plan.root_volume_gb)
                        .volume_type(ec2t::VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(spec(ec2t::ResourceType::Instance, &instance_tags))
        .tag_specifications(spec(
            ec2t::ResourceType::Volume,
            &[("Name", plan.instance_name.as_str())],
        ));
    if plan.burstable() {
        b = b.credit_specification(
            ec2t::CreditSpecificationRequest::builder()
                .cpu_credits("standard")
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

/// A template whose default version already runs the plan's fingerprint: only
/// its tags are brought into line.
pub async fn keep(ctx: &Ctx, plan: &Plan, lt: LaunchTemplate) -> Result<Ensured<LaunchTemplate>> {
    let drift = super::tag_drift(&lt.tags, plan);
    super::ec2_retag(ctx, &lt.id, &drift).await?;
    let outcome = if drift.is_empty() {
        Outcome::Existing
    } else {
        Outcome::Updated
    };
    Ok(Ensured::new(lt, outcome))
}

/// Makes sure the template exists and its default version runs the plan's
/// fingerprint: `Created`, `Existing`, or `Updated` (a new default version).
pub async fn ensure(
    ctx: &Ctx,
    plan: &Plan,
    found: Option<LaunchTemplate>,
    inputs: &TemplateInputs<'_>,
) -> Result<Ensured<LaunchTemplate>> {
    if let Some(lt) = found {
        if lt.fingerprint == plan.fingerprint {
            return keep(ctx, plan, lt).await;
        }
        let drift = super::tag_drift(&lt.tags, plan);
        super::ec2_retag(ctx, &lt.id, &drift).await?;
        let out = ctx
            .ec2
            .create_launch_template_version()
            .launch_template_id(&lt.id)
            .version_description(description(plan))
            .launch_template_data(data(plan, inputs))
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
        return Ok(Ensured::new(
            LaunchTemplate {
                version,
                fingerprint: plan.fingerprint.clone(),
                ..lt
            },
            Outcome::Updated,
        ));
    }
    let res = ctx
        .ec2
        .create_launch_template()
        .launch_template_name(&plan.lt_name)
        .version_description(description(plan))
        .launch_template_data(data(plan, inputs))
        .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::LaunchTemplate, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => {
            let Some(lt) = out.launch_template() else {
                bail!("CreateLaunchTemplate returned no template");
            };
            Ok(Ensured::new(
                LaunchTemplate {
                    id: lt.launch_template_id().unwrap_or_default().to_string(),
                    name: plan.lt_name.clone(),
                    version: lt.default_version_number().unwrap_or(1),
                    fingerprint: plan.fingerprint.clone(),
                    tags: plan.owned_tags(),
                },
                Outcome::Created,
            ))
        }
        Err(e) => {
            let e = anyhow::Error::new(e);
            // A retried create whose first attempt took effect.
            if is_duplicate(&e) {
                if let Some(lt) = find(ctx, plan).await? {
                    return Box::pin(ensure(ctx, plan, Some(lt), inputs)).await;
                }
            }
            Err(e.context(format!("failed to create launch template {}", plan.lt_name)))
        }
    }
}

/// Deletes this deployment's launch template (every version).
pub async fn delete(ctx: &Ctx, plan: &Plan) -> Result<Deleted> {
    let lt = match find(ctx, plan).await {
        Ok(Some(lt)) => lt,
        Ok(None) => return Ok(Deleted::Absent),
        Err(e) if is_foreign(&e) => return Ok(Deleted::Foreign),
        Err(e) => return Err(e),
    };
    let res = ctx
        .ec2
        .delete_launch_template()
        .launch_template_id(&lt.id)
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || {
        format!("failed to delete launch template {}", lt.name)
    })?;
    Ok(Deleted::Deleted)
}
