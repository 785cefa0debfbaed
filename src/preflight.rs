//! Checks before anything is created: whose credentials these are (STS
//! GetCallerIdentity), for a fresh deployment whether EC2 would allow the
//! creations (dry runs of ImportKeyPair, CreateSecurityGroup and RunInstances),
//! and, before a web server is launched, whether the template it downloads
//! exists. Every failure is said in plain words with the fix.

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
                credentials: ctx.credentials.clone(),
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
        None => bail!(
            "{}",
            unreachable(
                &ctx.region,
                std::env::var("AWS_ENDPOINT_URL")
                    .ok()
                    .filter(|s| !s.is_empty()),
                last_cause(&e.message)
            )
        ),
    }
}

/// Why AWS could not be reached: a region that does not exist (when no
/// endpoint is set) is named as such, not as a network outage.
fn unreachable(region: &str, endpoint: Option<String>, cause: &str) -> String {
    match endpoint {
        None if !known_region(region) => format!(
            "could not reach AWS in region {region}: it is not an AWS region ({}); check region \
             in deploy.toml, --region or AWS_REGION",
            REGIONS.join(", ")
        ),
        endpoint => format!(
            "could not reach AWS at {} ({cause}): check the internet connection, a proxy \
             (HTTPS_PROXY) or AWS_ENDPOINT_URL, then try again",
            endpoint.unwrap_or_else(|| format!("sts.{region}.amazonaws.com"))
        ),
    }
}

/// The AWS Regions (commercial, China, GovCloud, the European Sovereign
/// Cloud) as of this release: a region missing here that does not answer is
/// named as not a region, not as a network outage (a new one that answers
/// works whatever this list says).
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

fn known_region(region: &str) -> bool {
    REGIONS.contains(&region)
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

/// What the check of the template's URL found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateCheck {
    /// It answers (200, or 206 for the first byte).
    Found,
    /// A definite "not found" (404 or 410): nothing would be installed.
    Missing(u16),
    /// It could not be checked from here (no network, a timeout, another
    /// status): the web servers download it, not this machine.
    Unknown(String),
}

/// Asks for the first byte of the template's zip (a ranged GET: some servers
/// refuse HEAD), within 5 s.
pub async fn check_template(url: &str) -> TemplateCheck {
    let client = match reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .timeout(std::time::Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => return TemplateCheck::Unknown(e.to_string()),
    };
    match client.get(url).header("Range", "bytes=0-0").send().await {
        Ok(r) => match r.status().as_u16() {
            200 | 206 => TemplateCheck::Found,
            s @ (404 | 410) => TemplateCheck::Missing(s),
            s => TemplateCheck::Unknown(format!("HTTP {s}")),
        },
        Err(e) => {
            TemplateCheck::Unknown(crate::aws::last_cause(&crate::aws::error_chain(&e)).to_string())
        }
    }
}

/// The template check's verdict for `template` at `url`: an error for a
/// template that does not exist, else a warning when it could not be checked.
pub fn template_verdict(
    template: &str,
    url: &str,
    check: &TemplateCheck,
) -> Result<Option<String>> {
    match check {
        TemplateCheck::Found => Ok(None),
        TemplateCheck::Missing(status) => bail!(
            "template {template} does not exist: {url} answers HTTP {status}. Choose a template at \
             https://www.tooplate.com/ and set [template] id and slug in deploy.toml to the number \
             and name of its download (e.g. id = 2137, slug = \"barista_cafe\" for \
             2137_barista_cafe.zip)"
        ),
        TemplateCheck::Unknown(why) => Ok(Some(format!(
            "could not check template {template} from this machine ({why}); the web servers \
             download it from {url} themselves"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_that_does_not_exist_is_not_called_a_network_outage() {
        let m = unreachable("us-east-9", None, "dns error");
        assert!(m.contains("us-east-9: it is not an AWS region"), "{m}");
        assert!(!m.contains("internet"), "{m}");
        let m = unreachable("eu-west-1", None, "dns error");
        assert!(
            m.contains("could not reach AWS at sts.eu-west-1.amazonaws.com"),
            "{m}"
        );
        // With an endpoint of one's own, the endpoint is what failed.
        let m = unreachable("us-east-9", Some("http://127.0.0.1:9".into()), "refused");
        assert!(
            m.contains("could not reach AWS at http://127.0.0.1:9 (refused)"),
            "{m}"
        );
    }

    #[test]
    fn a_missing_template_stops_and_an_unchecked_one_warns() {
        let url = "https://www.tooplate.com/zip-templates/21370_x.zip";
        let e = template_verdict("21370_x", url, &TemplateCheck::Missing(404)).unwrap_err();
        assert!(
            e.to_string().contains("template 21370_x does not exist"),
            "{e}"
        );
        let w = template_verdict("2137_b", url, &TemplateCheck::Unknown("dns".into()))
            .unwrap()
            .unwrap();
        assert!(w.contains("could not check template 2137_b"), "{w}");
        assert_eq!(
            template_verdict("2137_b", url, &TemplateCheck::Found).unwrap(),
            None
        );
    }
}
