//! Checks before anything is created: whose credentials these are (STS
//! GetCallerIdentity), and, for a fresh deployment, whether EC2 would allow the
//! creations (dry runs of CreateKeyPair, CreateSecurityGroup and RunInstances).
//! Every failure is said in plain words with the fix.

use anyhow::{bail, Result};
use aws_sdk_ec2::types as ec2t;
use serde::Serialize;

use crate::aws::{code, AwsError, Ctx};
use crate::plan::Plan;
use crate::resources::ec2_tag_spec;
use crate::resources::instance::Image;

/// Who is deploying.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// AWS account id.
    pub account: String,
    /// Caller ARN (user or role).
    pub arn: String,
}

/// Codes that mean the credentials themselves are wrong.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidAccessKeyId",
];

/// Asks STS who the credentials belong to.
pub async fn identity(ctx: &Ctx) -> Result<Identity> {
    let res = ctx
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        }),
        Err(e) => {
            let fix = "configure credentials with `aws configure`, choose a profile with \
                       AWS_PROFILE or --profile, or sign in with `aws sso login`";
            match e.code.as_deref() {
                Some(c) if BAD_CREDENTIALS.contains(&c) => {
                    bail!("AWS rejected the credentials ({e}); {fix}")
                }
                Some(_) => bail!("could not confirm the AWS credentials ({e}); {fix}"),
                None => bail!("no usable AWS credentials ({e}); {fix}"),
            }
        }
    }
}

/// Whether a dry run says the call would be allowed.
fn dry_run_verdict(what: &str, permission: &str, r: Result<(), AwsError>) -> Result<()> {
    let e = match r {
        Ok(()) => return Ok(()),
        Err(e) => anyhow::Error::new(e),
    };
    match code(&e) {
        Some("DryRunOperation") => Ok(()),
        Some("UnauthorizedOperation") | Some("AccessDenied") => bail!(
            "these credentials may not {what} (missing IAM permission {permission}); attach \
             config/iam-policy.json to the user or role you deploy with"
        ),
        _ => Err(e.context(format!("dry run of {what} failed"))),
    }
}

/// Dry runs of the creations a fresh deployment makes.
pub async fn dry_runs(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: &str,
    image: &Image,
    subnet: &str,
) -> Result<()> {
    let key = async {
        ctx.ec2
            .create_key_pair()
            .key_name(&plan.key_name)
            .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::KeyPair, &[]))
            .dry_run(true)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from)
    };
    let sg = async {
        ctx.ec2
            .create_security_group()
            .group_name(&plan.lb_sg_name)
            .description("dry run")
            .vpc_id(vpc_id)
            .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::SecurityGroup, &[]))
            .dry_run(true)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from)
    };
    let run = async {
        ctx.ec2
            .run_instances()
            .image_id(&image.id)
            .instance_type(ec2t::InstanceType::from(plan.instance_type.as_str()))
            .subnet_id(subnet)
            .min_count(1)
            .max_count(1)
            .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::Instance, &[]))
            .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::Volume, &[]))
            .dry_run(true)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from)
    };
    let (k, s, r) = tokio::join!(key, sg, run);
    dry_run_verdict("create key pairs", "ec2:CreateKeyPair", k)?;
    dry_run_verdict("create security groups", "ec2:CreateSecurityGroup", s)?;
    dry_run_verdict("launch instances", "ec2:RunInstances", r)?;
    Ok(())
}
