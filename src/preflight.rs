//! Checks before anything is created: whose credentials these are (STS
//! GetCallerIdentity), and, for a fresh deployment, whether EC2 would allow the
//! creations (dry runs of ImportKeyPair, CreateSecurityGroup and RunInstances).
//! Every failure is said in plain words with the fix.

use anyhow::{bail, Result};
use aws_sdk_ec2::types as ec2t;

pub use crate::aws::Identity;
use crate::aws::{code, last_cause, AwsError, Ctx, SIGN_IN_FIXES};
use crate::resources::instance::Image;
use crate::resources::network::Subnet;
use crate::spec::Specs;

/// Codes that mean the credentials themselves are wrong.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidAccessKeyId",
];

/// Codes that mean temporary credentials have run out.
const EXPIRED: &[&str] = &["ExpiredToken", "ExpiredTokenException", "RequestExpired"];

/// Asks STS who the credentials belong to (a call every principal may make).
/// Every failure is one plain sentence with its fix.
pub async fn identity(ctx: &Ctx) -> Result<Identity> {
    let res = ctx
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(AwsError::from);
    let e = match res {
        Ok(out) => {
            return Ok(Identity {
                account: out.account().unwrap_or_default().to_string(),
                arn: out.arn().unwrap_or_default().to_string(),
            })
        }
        Err(e) => e,
    };
    tracing::debug!(error = %e, "GetCallerIdentity failed");
    let fix = SIGN_IN_FIXES;
    match e.code.as_deref() {
        Some(c) if EXPIRED.contains(&c) => bail!(
            "the AWS credentials have expired ({c}): sign in again (`aws sso login` for an SSO \
             profile, `aws login` for a console sign-in) or get new temporary credentials"
        ),
        Some(c) if BAD_CREDENTIALS.contains(&c) => bail!(
            "AWS rejected the credentials ({c}): the access key is wrong, inactive or deleted; \
             {fix}"
        ),
        Some(c) => bail!(
            "could not confirm the AWS credentials ({c}: {}); {fix}",
            e.message
        ),
        None => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("sts.{}.amazonaws.com", ctx.region));
            bail!(
                "could not reach AWS at {endpoint} ({}): check the internet connection, a proxy \
                 (HTTPS_PROXY) or AWS_ENDPOINT_URL, then try again",
                last_cause(&e.message)
            )
        }
    }
}

/// Whether a dry run says the call would be allowed: `Ok(true)` allowed,
/// `Ok(false)` denied, `Err` anything else.
fn dry_run_allowed(what: &str, r: Result<(), AwsError>) -> Result<bool> {
    let e = match r {
        Ok(()) => return Ok(true),
        Err(e) => anyhow::Error::new(e),
    };
    match code(&e) {
        Some("DryRunOperation") => Ok(true),
        Some("UnauthorizedOperation") | Some("AccessDenied") => Ok(false),
        _ => Err(e.context(format!("dry run of {what} failed"))),
    }
}

/// The error for a denied dry run, naming the permission that is missing: the
/// call itself, or `ec2:CreateTags` when the call is allowed without its tags
/// (EC2 authorizes tagging on create as CreateTags).
fn denied(what: &str, permission: &str, tags_are_the_problem: bool) -> anyhow::Error {
    let action = permission.trim_start_matches("ec2:");
    let missing = if tags_are_the_problem {
        format!("ec2:CreateTags with ec2:CreateAction = {action}")
    } else {
        format!("{permission} (or ec2:CreateTags with ec2:CreateAction = {action}, for its tags)")
    };
    anyhow::anyhow!(
        "these credentials may not {what} (missing IAM permission {missing}); attach \
         config/iam-policy.json to the user or role you deploy with"
    )
}

/// Dry runs of the creations a fresh deployment makes. A denied one is tried
/// again without tags, to tell a missing CreateTags from a missing action.
pub async fn dry_runs(
    ctx: &Ctx,
    specs: &Specs,
    vpc_id: &str,
    image: &Image,
    subnet: &Subnet,
) -> Result<()> {
    let owner = &specs.launch.owner;
    let public = crate::resources::keypair::generate()?
        .public_key()
        .to_openssh()
        .map_err(|e| anyhow::anyhow!("failed to encode a public key: {e}"))?;
    let key = |tagged: bool| {
        let public = public.clone();
        async move {
            let mut req = ctx
                .ec2
                .import_key_pair()
                .key_name(&specs.key.name)
                .public_key_material(aws_sdk_ec2::primitives::Blob::new(public.into_bytes()))
                .dry_run(true);
            if tagged {
                req = req.tag_specifications(owner.ec2_spec(ec2t::ResourceType::KeyPair, &[]));
            }
            req.send().await.map(|_| ()).map_err(AwsError::from)
        }
    };
    let sg = |tagged: bool| async move {
        let mut req = ctx
            .ec2
            .create_security_group()
            .group_name(&specs.lb_group.name)
            .description("dry run")
            .vpc_id(vpc_id)
            .dry_run(true);
        if tagged {
            req = req.tag_specifications(owner.ec2_spec(ec2t::ResourceType::SecurityGroup, &[]));
        }
        req.send().await.map(|_| ()).map_err(AwsError::from)
    };
    let run = |tagged: bool| async move {
        let mut req = ctx
            .ec2
            .run_instances()
            .image_id(&image.id)
            .instance_type(ec2t::InstanceType::from(
                specs.launch.instance_type.as_str(),
            ))
            .subnet_id(&subnet.id)
            .min_count(1)
            .max_count(1)
            .dry_run(true);
        if specs.launch.burstable() {
            req = req.credit_specification(crate::resources::instance::credit_standard());
        }
        if tagged {
            req = req
                .tag_specifications(owner.ec2_spec(ec2t::ResourceType::Instance, &[]))
                .tag_specifications(owner.ec2_spec(ec2t::ResourceType::Volume, &[]));
        }
        req.send().await.map(|_| ()).map_err(AwsError::from)
    };
    let (k, s, r) = tokio::join!(key(true), sg(true), run(true));
    let checks = [
        ("import key pairs", "ec2:ImportKeyPair", k),
        ("create security groups", "ec2:CreateSecurityGroup", s),
        ("launch instances", "ec2:RunInstances", r),
    ];
    for (what, permission, res) in checks {
        if dry_run_allowed(what, res)? {
            continue;
        }
        let untagged = match permission {
            "ec2:ImportKeyPair" => key(false).await,
            "ec2:CreateSecurityGroup" => sg(false).await,
            _ => run(false).await,
        };
        let tags_are_the_problem = dry_run_allowed(what, untagged).unwrap_or(false);
        return Err(denied(what, permission, tags_are_the_problem));
    }
    Ok(())
}
