//! A world of AWS resources answered through `aws-smithy-mocks`: the SDK
//! clients run with a mock interceptor whose rules read and change one shared
//! [`World`] (no emulator, no HTTP). Every request that changes something is
//! recorded ([`Sent`]), so a test can compare what deploy sent with what the
//! plan said. What it models of AWS: look-ups by name, id, ARN and tag filter
//! with AWS's not-found codes; creations that return new ids; instances
//! running and load balancers active at once (the tests of waiting are the
//! emulator's); an Auto Scaling group that launches its desired capacity
//! with its propagated tags, and retires what it is told to.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_smithy_mocks::{mock, MockResponse, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

/// A tag list.
pub type Tags = Vec<(String, String)>;

/// One change request deploy sent: the operation and what it names (ids,
/// ARNs, names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The API operation.
    pub op: &'static str,
    /// The resources it names.
    pub refs: Vec<String>,
}

/// An ingress rule: port, source (CIDR or group id), description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perm {
    pub port: i32,
    pub source: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub id: String,
    pub fingerprint: String,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Sg {
    pub id: String,
    pub name: String,
    pub vpc: String,
    pub rules: Vec<Perm>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Inst {
    pub id: String,
    pub state: &'static str,
    pub zone: String,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Tg {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub vpc: String,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Lb {
    pub arn: String,
    pub name: String,
    pub state: &'static str,
    pub zones: Vec<(String, String)>,
    pub vpc: String,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub arn: String,
    pub lb: String,
    pub port: i32,
    pub forwards: String,
    /// Its default action is the fixed 403.
    pub denies: bool,
    /// Its header rule: (ARN, header value, target group).
    pub gate: Option<(String, String, String)>,
    pub tags: Tags,
}

fn denies(actions: &[aws_sdk_elasticloadbalancingv2::types::Action]) -> bool {
    actions.first().and_then(|a| a.r#type())
        == Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse)
}

fn header_value(conditions: &[aws_sdk_elasticloadbalancingv2::types::RuleCondition]) -> String {
    conditions
        .iter()
        .filter_map(|c| c.http_header_config())
        .flat_map(|h| h.values().iter().cloned())
        .next()
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Lt {
    pub id: String,
    pub name: String,
    /// Version descriptions, version n at index n - 1.
    pub versions: Vec<String>,
    pub default: i64,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Asg {
    pub name: String,
    /// The target groups its instances are registered in.
    pub tgs: Vec<String>,
    pub lt: String,
    pub version: String,
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    pub subnets: Vec<String>,
    pub tags: Tags,
    pub members: Vec<String>,
    /// The launch template version each member was launched from.
    pub versions: BTreeMap<String, String>,
    /// Suspended processes.
    pub suspended: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub group: String,
    pub name: String,
    pub expression: String,
    pub role: String,
}

/// Everything the account holds, and what was sent.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// CloudFront distributions (global).
    pub cdns: Vec<Cdn>,
    /// ACM certificates in us-east-1.
    pub certs: Vec<Cert>,
    /// Public hosted zones: (id, name).
    pub zones: Vec<(String, String)>,
    /// Their record sets.
    pub records: Vec<Rr>,
    pub vpc: String,
    /// (zone, subnet id) of the default VPC.
    pub subnets: Vec<(String, String)>,
    pub keys: Vec<Key>,
    pub groups: Vec<Sg>,
    pub instances: Vec<Inst>,
    pub tgs: Vec<Tg>,
    /// Target group ARN -> (instance id, state).
    pub targets: BTreeMap<String, Vec<(String, &'static str)>>,
    pub lbs: Vec<Lb>,
    pub listeners: Vec<Listener>,
    pub lts: Vec<Lt>,
    pub asgs: Vec<Asg>,
    /// The expiry role exists.
    pub role: bool,
    /// Its inline policy's document, if any.
    pub role_policy: Option<String>,
    /// (name, state) of schedule groups.
    pub schedule_groups: Vec<(String, &'static str)>,
    /// `[site]`: the region's content bucket.
    pub bucket: Option<Bucket>,
    /// `[site]`: the web servers' role and instance profile.
    pub site: SiteRole,
    pub schedules: Vec<Schedule>,
    /// Change requests, in order.
    pub sent: Vec<Sent>,
    next: u64,
}

/// The content bucket (`[site]`).
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    /// Tagged ManagedBy=sitedeploy (else another's).
    pub tagged: bool,
    /// Block Public Access fully on.
    pub private: bool,
    /// The lifecycle rules there.
    pub lifecycle: bool,
    /// The objects' keys.
    pub objects: BTreeSet<String>,
}

/// The web servers' role and instance profile (`[site]`), with the
/// deployment's tags when they exist.
#[derive(Debug, Clone, Default)]
pub struct SiteRole {
    /// The tags both carry.
    pub tags: Tags,
    pub role: bool,
    /// The role's inline policy.
    pub policy: Option<String>,
    pub profile: bool,
    /// The role is in the profile.
    pub linked: bool,
}

/// The id of CloudFront's managed prefix list in this world.
pub const CLOUDFRONT_LIST: &str = "pl-0cloudfront";

/// A CloudFront distribution.
#[derive(Debug, Clone)]
pub struct Cdn {
    pub id: String,
    pub comment: String,
    pub origin: String,
    /// The origin's HTTP port.
    pub port: i32,
    pub enabled: bool,
    pub has_secret: bool,
    pub tags: Tags,
    /// Its alternate domain names.
    pub aliases: Vec<String>,
    /// Its ACM certificate's ARN.
    pub cert: Option<String>,
}

/// An ACM certificate (us-east-1).
#[derive(Debug, Clone)]
pub struct Cert {
    pub arn: String,
    pub domain: String,
    pub status: &'static str,
    pub tags: Tags,
}

impl Cert {
    /// Its DNS validation record: (name, value).
    pub fn validation(&self) -> (String, String) {
        (
            format!("_v.{}", self.domain),
            format!("_x{}.acm-validations.aws", self.domain.len()),
        )
    }
}

/// A Route 53 record set: zone id, name, type, alias target or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub zone: String,
    pub name: String,
    pub kind: String,
    pub alias: Option<String>,
    pub value: Option<String>,
}

/// The world, shared by every rule.
pub type Shared = Arc<Mutex<World>>;

impl World {
    /// An account with a default VPC in three zones.
    pub fn new() -> World {
        World {
            vpc: "vpc-0default".into(),
            subnets: ["a", "b", "c"]
                .iter()
                .map(|z| (format!("us-east-1{z}"), format!("subnet-{z}")))
                .collect(),
            ..Default::default()
        }
    }

    /// A fresh id with this prefix.
    pub fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:04}", self.next)
    }

    fn send(&mut self, op: &'static str, refs: Vec<String>) {
        self.sent.push(Sent { op, refs });
    }

    /// The instance of this id.
    pub fn instance(&mut self, id: &str) -> Option<&mut Inst> {
        self.instances.iter_mut().find(|i| i.id == id)
    }

    /// Launches `n` instances for group `asg` with its propagated tags.
    fn launch_for(&mut self, asg: usize, n: usize) {
        for k in 0..n {
            let id = self.id("i-asg");
            let g = &self.asgs[asg];
            let zone = g
                .subnets
                .get(k % g.subnets.len().max(1))
                .and_then(|s| self.subnets.iter().find(|(_, id)| id == s))
                .map(|(z, _)| z.clone())
                .unwrap_or_else(|| "us-east-1a".into());
            let mut tags = g.tags.clone();
            tags.push(("aws:autoscaling:groupName".into(), g.name.clone()));
            self.asgs[asg].members.push(id.clone());
            let version = self.asgs[asg].version.clone();
            self.asgs[asg].versions.insert(id.clone(), version);
            for tg in self.asgs[asg].tgs.clone() {
                self.targets
                    .entry(tg)
                    .or_default()
                    .push((id.clone(), "healthy"));
            }
            self.instances.push(Inst {
                id,
                state: "running",
                zone,
                tags,
            });
        }
    }
}

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} (mock)"))
        .build()
}

fn tag_of<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Whether a resource with these attribute values passes EC2 filters
/// (`tag:K` filters read the tags).
fn passes(
    filters: &[aws_sdk_ec2::types::Filter],
    tags: &Tags,
    attr: impl Fn(&str) -> Option<String>,
) -> bool {
    filters.iter().all(|f| {
        let name = f.name().unwrap_or_default();
        let value = match name.strip_prefix("tag:") {
            Some(k) => tag_of(tags, k).map(str::to_string),
            None => attr(name),
        };
        value.is_some_and(|v| f.values().iter().any(|w| glob(w, &v)))
    })
}

fn glob(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((a, b)) => {
            value.starts_with(a) && value.ends_with(b) && value.len() >= a.len() + b.len()
        }
    }
}

macro_rules! rule {
    ($w:expr, $op:path, |$world:ident, $req:ident| $body:expr) => {{
        let shared = $w.clone();
        mock!($op).then_compute_response(move |$req| {
            let mut guard = shared.lock().unwrap();
            let $world: &mut World = &mut guard;
            $body
        })
    }};
}

fn interceptor(rules: &[Rule]) -> aws_smithy_mocks::MockResponseInterceptor {
    let mut i = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for r in rules {
        i = i.with_rule(r);
    }
    i
}

fn creds() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::for_tests()
}

macro_rules! client {
    ($krate:ident, $rules:expr) => {{
        let conf = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider(creds())
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor(&$rules))
            .build();
        $krate::Client::from_conf(conf)
    }};
}

/// The tool's clients over the world (STS and the tagging API are not
/// answered: deploy is given who it runs as).
pub fn ctx(w: &Shared) -> sitedeploy::aws::Ctx {
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let poll = sitedeploy::aws::Poll {
        initial: std::time::Duration::from_millis(1),
        fast_for: std::time::Duration::from_secs(1),
        max: std::time::Duration::from_millis(1),
    };
    let mut ctx = sitedeploy::aws::Ctx::from_config(&conf, "us-east-1", poll);
    ctx.ec2 = client!(aws_sdk_ec2, ec2_rules(w));
    ctx.elb = client!(aws_sdk_elasticloadbalancingv2, elb_rules(w));
    ctx.asg = client!(aws_sdk_autoscaling, asg_rules(w));
    ctx.scheduler = client!(aws_sdk_scheduler, scheduler_rules(w));
    ctx.iam = client!(aws_sdk_iam, iam_rules(w));
    ctx.cloudfront = client!(aws_sdk_cloudfront, cloudfront_rules(w));
    ctx.acm = client!(aws_sdk_acm, acm_rules(w));
    ctx.route53 = client!(aws_sdk_route53, route53_rules(w));
    ctx.s3 = client!(aws_sdk_s3, s3_rules(w));
    ctx
}

/// S3: the content bucket of `[site]` worlds (HeadBucket's 404 has no body:
/// the status says it).
fn s3_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_s3::operation as op;
    use aws_sdk_s3::types as t;
    use aws_sdk_s3::Client as C;
    let status = |code: u16| {
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            code.try_into().expect("status"),
            aws_smithy_types::body::SdkBody::empty(),
        )
    };
    vec![
        rule!(w, C::head_bucket, |w, _req| match &w.bucket {
            Some(_) => MockResponse::Output(op::head_bucket::HeadBucketOutput::builder().build()),
            None => MockResponse::Http(status(404)),
        }),
        rule!(w, C::get_bucket_tagging, |w, _req| match &w.bucket {
            Some(b) if b.tagged => MockResponse::Output(
                op::get_bucket_tagging::GetBucketTaggingOutput::builder()
                    .tag_set(
                        t::Tag::builder()
                            .key("ManagedBy")
                            .value("sitedeploy")
                            .build()
                            .expect("tag"),
                    )
                    .build()
                    .expect("output"),
            ),
            _ => MockResponse::Error(op::get_bucket_tagging::GetBucketTaggingError::generic(
                meta("NoSuchTagSet"),
            )),
        }),
        rule!(w, C::get_public_access_block, |w, _req| match &w.bucket {
            Some(b) if b.private => MockResponse::Output(
                op::get_public_access_block::GetPublicAccessBlockOutput::builder()
                    .public_access_block_configuration(
                        t::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .build(),
            ),
            _ => MockResponse::Error(
                op::get_public_access_block::GetPublicAccessBlockError::generic(meta(
                    "NoSuchPublicAccessBlockConfiguration",
                )),
            ),
        }),
        rule!(w, C::get_bucket_lifecycle_configuration, |w, _req| {
            match &w.bucket {
                Some(b) if b.lifecycle => {
                    let rule = |id: &str| {
                        t::LifecycleRule::builder()
                            .id(id)
                            .status(t::ExpirationStatus::Enabled)
                            .build()
                            .expect("rule")
                    };
                    MockResponse::Output(
                        op::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput::builder()
                            .rules(rule("expire-retired-content"))
                            .rules(rule("abort-unfinished-uploads"))
                            .build(),
                    )
                }
                _ => MockResponse::Error(
                    op::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationError::generic(
                        meta("NoSuchLifecycleConfiguration"),
                    ),
                ),
            }
        }),
        rule!(w, C::list_objects_v2, |w, req| {
            let prefix = req.prefix().unwrap_or_default().to_string();
            let keys: Vec<t::Object> = w
                .bucket
                .iter()
                .flat_map(|b| b.objects.iter())
                .filter(|k| k.starts_with(&prefix))
                .map(|k| t::Object::builder().key(k).build())
                .collect();
            MockResponse::Output(
                op::list_objects_v2::ListObjectsV2Output::builder()
                    .key_count(keys.len() as i32)
                    .set_contents(Some(keys))
                    .is_truncated(false)
                    .build(),
            )
        }),
        // An earlier content's manifest: not readable here (`--plan` then
        // names no files).
        rule!(w, C::get_object, |_w, _req| MockResponse::Error(
            op::get_object::GetObjectError::generic(meta("NoSuchKey"))
        )),
        rule!(w, C::create_bucket, |w, req| {
            w.send(
                "CreateBucket",
                vec![req.bucket().unwrap_or_default().into()],
            );
            w.bucket.get_or_insert_with(Bucket::default);
            MockResponse::Output(op::create_bucket::CreateBucketOutput::builder().build())
        }),
        rule!(w, C::put_bucket_tagging, |w, _req| {
            w.send("PutBucketTagging", vec![]);
            if let Some(b) = &mut w.bucket {
                b.tagged = true;
            }
            MockResponse::Output(op::put_bucket_tagging::PutBucketTaggingOutput::builder().build())
        }),
        rule!(w, C::put_public_access_block, |w, _req| {
            w.send("PutPublicAccessBlock", vec![]);
            if let Some(b) = &mut w.bucket {
                b.private = true;
            }
            MockResponse::Output(
                op::put_public_access_block::PutPublicAccessBlockOutput::builder().build(),
            )
        }),
        rule!(w, C::put_bucket_encryption, |w, _req| {
            w.send("PutBucketEncryption", vec![]);
            MockResponse::Output(
                op::put_bucket_encryption::PutBucketEncryptionOutput::builder().build(),
            )
        }),
        rule!(w, C::put_bucket_lifecycle_configuration, |w, _req| {
            w.send("PutBucketLifecycleConfiguration", vec![]);
            if let Some(b) = &mut w.bucket {
                b.lifecycle = true;
            }
            MockResponse::Output(
                op::put_bucket_lifecycle_configuration::PutBucketLifecycleConfigurationOutput::builder()
                    .build(),
            )
        }),
        rule!(w, C::put_object, |w, req| {
            let key = req.key().unwrap_or_default().to_string();
            w.send("PutObject", vec![key.clone()]);
            if let Some(b) = &mut w.bucket {
                b.objects.insert(key);
            }
            MockResponse::Output(op::put_object::PutObjectOutput::builder().build())
        }),
        rule!(w, C::copy_object, |w, req| {
            let key = req.key().unwrap_or_default().to_string();
            w.send("CopyObject", vec![key.clone()]);
            if let Some(b) = &mut w.bucket {
                b.objects.insert(key);
            }
            MockResponse::Output(op::copy_object::CopyObjectOutput::builder().build())
        }),
        rule!(w, C::delete_objects, |w, req| {
            let keys: Vec<String> = req
                .delete()
                .map(|d| d.objects().iter().map(|o| o.key().to_string()).collect())
                .unwrap_or_default();
            w.send("DeleteObjects", keys.clone());
            if let Some(b) = &mut w.bucket {
                for k in &keys {
                    b.objects.remove(k);
                }
            }
            MockResponse::Output(op::delete_objects::DeleteObjectsOutput::builder().build())
        }),
    ]
}

/// ACM in us-east-1: a certificate is issued once its validation record is
/// written (Route 53's rules below).
fn acm_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_acm::operation as op;
    use aws_sdk_acm::types as t;
    use aws_sdk_acm::Client as C;
    let gone = || meta("ResourceNotFoundException");
    vec![
        rule!(w, C::list_certificates, |w, _req| {
            let items = w
                .certs
                .iter()
                .map(|c| {
                    t::CertificateSummary::builder()
                        .certificate_arn(&c.arn)
                        .domain_name(&c.domain)
                        .status(t::CertificateStatus::from(c.status))
                        .build()
                })
                .collect();
            MockResponse::Output(
                op::list_certificates::ListCertificatesOutput::builder()
                    .set_certificate_summary_list(Some(items))
                    .build(),
            )
        }),
        rule!(w, C::list_tags_for_certificate, |w, req| {
            let c = w
                .certs
                .iter()
                .find(|c| Some(c.arn.as_str()) == req.certificate_arn());
            let tags = c
                .map(|c| {
                    c.tags
                        .iter()
                        .map(|(k, v)| t::Tag::builder().key(k).value(v).build().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            MockResponse::Output(
                op::list_tags_for_certificate::ListTagsForCertificateOutput::builder()
                    .set_tags(Some(tags))
                    .build(),
            )
        }),
        rule!(w, C::describe_certificate, |w, req| {
            let Some(c) = w
                .certs
                .iter()
                .find(|c| Some(c.arn.as_str()) == req.certificate_arn())
            else {
                return MockResponse::Error(
                    op::describe_certificate::DescribeCertificateError::generic(gone()),
                );
            };
            let (name, value) = c.validation();
            let record = t::ResourceRecord::builder()
                .name(format!("{name}."))
                .r#type(t::RecordType::Cname)
                .value(format!("{value}."))
                .build()
                .unwrap();
            let option = t::DomainValidation::builder()
                .domain_name(&c.domain)
                .resource_record(record)
                .build()
                .unwrap();
            MockResponse::Output(
                op::describe_certificate::DescribeCertificateOutput::builder()
                    .certificate(
                        t::CertificateDetail::builder()
                            .certificate_arn(&c.arn)
                            .domain_name(&c.domain)
                            .status(t::CertificateStatus::from(c.status))
                            .domain_validation_options(option)
                            .build(),
                    )
                    .build(),
            )
        }),
        rule!(w, C::request_certificate, |w, req| {
            let domain = req.domain_name().unwrap_or_default().to_string();
            let arn = format!(
                "arn:aws:acm:us-east-1:123456789012:certificate/{}",
                w.id("c")
            );
            w.send("RequestCertificate", vec![domain.clone()]);
            let tags = sitedeploy::tags::acm_pairs(req.tags());
            w.certs.push(Cert {
                arn: arn.clone(),
                domain,
                status: "PENDING_VALIDATION",
                tags,
            });
            MockResponse::Output(
                op::request_certificate::RequestCertificateOutput::builder()
                    .certificate_arn(arn)
                    .build(),
            )
        }),
        rule!(w, C::delete_certificate, |w, req| {
            let arn = req.certificate_arn().unwrap_or_default().to_string();
            w.send("DeleteCertificate", vec![arn.clone()]);
            w.certs.retain(|c| c.arn != arn);
            MockResponse::Output(op::delete_certificate::DeleteCertificateOutput::builder().build())
        }),
    ]
}

/// Route 53: the zones by exact name, the records at a name, changes applied
/// at once (`INSYNC`).
fn route53_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_route53::operation as op;
    use aws_sdk_route53::types as t;
    use aws_sdk_route53::Client as C;
    let dot = |n: &str| format!("{}.", n.trim_end_matches('.'));
    vec![
        rule!(w, C::list_hosted_zones_by_name, |w, req| {
            let name = req.dns_name().unwrap_or_default().trim_end_matches('.');
            let zones = w
                .zones
                .iter()
                .filter(|(_, n)| n == name)
                .map(|(id, n)| {
                    t::HostedZone::builder()
                        .id(format!("/hostedzone/{id}"))
                        .name(dot(n))
                        .caller_reference("r")
                        .build()
                        .unwrap()
                })
                .collect();
            MockResponse::Output(
                op::list_hosted_zones_by_name::ListHostedZonesByNameOutput::builder()
                    .set_hosted_zones(Some(zones))
                    .is_truncated(false)
                    .max_items(20)
                    .build()
                    .unwrap(),
            )
        }),
        rule!(w, C::list_resource_record_sets, |w, req| {
            let zone = req.hosted_zone_id().unwrap_or_default();
            let name = req
                .start_record_name()
                .unwrap_or_default()
                .trim_end_matches('.');
            let sets = w
                .records
                .iter()
                .filter(|r| r.zone == zone && r.name == name)
                .map(|r| {
                    let mut b = t::ResourceRecordSet::builder()
                        .name(dot(&r.name))
                        .r#type(t::RrType::from(r.kind.as_str()));
                    if let Some(a) = &r.alias {
                        b = b.alias_target(
                            t::AliasTarget::builder()
                                .hosted_zone_id("Z2FDTNDATAQYW2")
                                .dns_name(dot(a))
                                .evaluate_target_health(false)
                                .build()
                                .unwrap(),
                        );
                    }
                    if let Some(v) = &r.value {
                        b = b.ttl(300).resource_records(
                            t::ResourceRecord::builder().value(v).build().unwrap(),
                        );
                    }
                    b.build().unwrap()
                })
                .collect();
            MockResponse::Output(
                op::list_resource_record_sets::ListResourceRecordSetsOutput::builder()
                    .set_resource_record_sets(Some(sets))
                    .is_truncated(false)
                    .max_items(20)
                    .build()
                    .unwrap(),
            )
        }),
        rule!(w, C::change_resource_record_sets, |w, req| {
            let zone = req.hosted_zone_id().unwrap_or_default().to_string();
            let changes = req
                .change_batch()
                .map(|b| b.changes().to_vec())
                .unwrap_or_default();
            let refs = changes
                .iter()
                .map(|c| {
                    let r = c.resource_record_set().unwrap();
                    format!(
                        "{} {} {}",
                        c.action().as_str(),
                        r.r#type().as_str(),
                        r.name()
                    )
                })
                .collect();
            w.send("ChangeResourceRecordSets", refs);
            for c in changes {
                let r = c.resource_record_set().unwrap();
                let rr = Rr {
                    zone: zone.clone(),
                    name: r.name().trim_end_matches('.').to_string(),
                    kind: r.r#type().as_str().to_string(),
                    alias: r
                        .alias_target()
                        .map(|a| a.dns_name().trim_end_matches('.').to_string()),
                    value: r.resource_records().first().map(|v| v.value().to_string()),
                };
                w.records
                    .retain(|x| !(x.zone == rr.zone && x.name == rr.name && x.kind == rr.kind));
                if c.action() == &t::ChangeAction::Upsert {
                    // A validation record answers: ACM issues the certificate.
                    for cert in w.certs.iter_mut() {
                        if cert.validation().0 == rr.name {
                            cert.status = "ISSUED";
                        }
                    }
                    w.records.push(rr);
                }
            }
            MockResponse::Output(
                op::change_resource_record_sets::ChangeResourceRecordSetsOutput::builder()
                    .change_info(insync())
                    .build(),
            )
        }),
        rule!(w, C::get_change, |_w, _req| {
            MockResponse::Output(
                op::get_change::GetChangeOutput::builder()
                    .change_info(insync())
                    .build(),
            )
        }),
    ]
}

fn insync() -> aws_sdk_route53::types::ChangeInfo {
    aws_sdk_route53::types::ChangeInfo::builder()
        .id("/change/C1")
        .status(aws_sdk_route53::types::ChangeStatus::Insync)
        .submitted_at(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap()
}

impl Cdn {
    /// What a create or an update writes: the configuration's fields.
    fn configure(&mut self, dc: &aws_sdk_cloudfront::types::DistributionConfig) {
        let o = &dc.origins().unwrap().items()[0];
        self.comment = dc.comment().to_string();
        self.origin = o.domain_name().to_string();
        self.port = o.custom_origin_config().map_or(0, |c| c.http_port());
        self.enabled = dc.enabled();
        self.has_secret = o.custom_headers().is_some_and(|h| !h.items().is_empty());
        self.aliases = dc.aliases().map(|a| a.items().to_vec()).unwrap_or_default();
        self.cert = dc
            .viewer_certificate()
            .and_then(|v| v.acm_certificate_arn())
            .map(str::to_string);
    }
}

fn cdn_arn(id: &str) -> String {
    format!("arn:aws:cloudfront::123456789012:distribution/{id}")
}

fn cdn_config(c: &Cdn) -> aws_sdk_cloudfront::types::DistributionConfig {
    use aws_sdk_cloudfront::types as t;
    let mut origin = t::Origin::builder()
        .id("load-balancer")
        .domain_name(&c.origin)
        .custom_origin_config(
            t::CustomOriginConfig::builder()
                .http_port(c.port)
                .https_port(443)
                .origin_protocol_policy(t::OriginProtocolPolicy::HttpOnly)
                .build()
                .unwrap(),
        );
    if c.has_secret {
        let h = t::OriginCustomHeader::builder()
            .header_name("X-Origin-Verify")
            .header_value("0123abcd")
            .build()
            .unwrap();
        origin = origin.custom_headers(
            t::CustomHeaders::builder()
                .quantity(1)
                .items(h)
                .build()
                .unwrap(),
        );
    }
    let aliases = t::Aliases::builder()
        .quantity(c.aliases.len() as i32)
        .set_items(Some(c.aliases.clone()))
        .build()
        .unwrap();
    let viewer = match &c.cert {
        Some(arn) => t::ViewerCertificate::builder().acm_certificate_arn(arn),
        None => t::ViewerCertificate::builder().cloud_front_default_certificate(true),
    };
    t::DistributionConfig::builder()
        .caller_reference(format!("ref-{}", c.id))
        .comment(&c.comment)
        .enabled(c.enabled)
        .aliases(aliases)
        .viewer_certificate(viewer.build())
        .origins(
            t::Origins::builder()
                .quantity(1)
                .items(origin.build().unwrap())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn cdn_out(c: &Cdn) -> aws_sdk_cloudfront::types::Distribution {
    aws_sdk_cloudfront::types::Distribution::builder()
        .id(&c.id)
        .arn(cdn_arn(&c.id))
        .status("Deployed")
        .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
        .in_progress_invalidation_batches(0)
        .domain_name(format!("{}.cloudfront.net", c.id.to_lowercase()))
        .distribution_config(cdn_config(c))
        .build()
        .unwrap()
}

fn cloudfront_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_cloudfront::operation as op;
    use aws_sdk_cloudfront::types as t;
    use aws_sdk_cloudfront::Client as C;
    let gone = || meta("NoSuchDistribution");
    vec![
        rule!(w, C::list_distributions, |w, _req| {
            let items: Vec<t::DistributionSummary> = w
                .cdns
                .iter()
                .map(|c| {
                    t::DistributionSummary::builder()
                        .id(&c.id)
                        .arn(cdn_arn(&c.id))
                        .e_tag("e")
                        .status("Deployed")
                        .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
                        .domain_name("x")
                        .comment(&c.comment)
                        .enabled(c.enabled)
                        .price_class(t::PriceClass::PriceClassAll)
                        .http_version(t::HttpVersion::Http2and3)
                        .is_ipv6_enabled(true)
                        .staging(false)
                        .web_acl_id("")
                        .build()
                        .unwrap()
                })
                .collect();
            let n = items.len() as i32;
            MockResponse::Output(
                op::list_distributions::ListDistributionsOutput::builder()
                    .distribution_list(
                        t::DistributionList::builder()
                            .marker("")
                            .max_items(100)
                            .is_truncated(false)
                            .quantity(n)
                            .set_items(Some(items))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
        }),
        rule!(w, C::list_tags_for_resource, |w, req| {
            let c = w
                .cdns
                .iter()
                .find(|c| Some(cdn_arn(&c.id).as_str()) == req.resource());
            let items = c
                .map(|c| {
                    c.tags
                        .iter()
                        .map(|(k, v)| t::Tag::builder().key(k).value(v).build().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            MockResponse::Output(
                op::list_tags_for_resource::ListTagsForResourceOutput::builder()
                    .tags(t::Tags::builder().set_items(Some(items)).build())
                    .build(),
            )
        }),
        rule!(w, C::get_distribution, |w, req| {
            match w.cdns.iter().find(|c| Some(c.id.as_str()) == req.id()) {
                Some(c) => MockResponse::Output(
                    op::get_distribution::GetDistributionOutput::builder()
                        .distribution(cdn_out(c))
                        .e_tag("e")
                        .build(),
                ),
                None => {
                    MockResponse::Error(op::get_distribution::GetDistributionError::generic(gone()))
                }
            }
        }),
        rule!(w, C::get_distribution_config, |w, req| {
            match w.cdns.iter().find(|c| Some(c.id.as_str()) == req.id()) {
                Some(c) => MockResponse::Output(
                    op::get_distribution_config::GetDistributionConfigOutput::builder()
                        .distribution_config(cdn_config(c))
                        .e_tag("e")
                        .build(),
                ),
                None => MockResponse::Error(
                    op::get_distribution_config::GetDistributionConfigError::generic(gone()),
                ),
            }
        }),
        rule!(w, C::create_distribution_with_tags, |w, req| {
            let cfg = req.distribution_config_with_tags().unwrap();
            let mut c = Cdn {
                id: w.id("E"),
                comment: String::new(),
                origin: String::new(),
                port: 0,
                enabled: false,
                has_secret: false,
                tags: sitedeploy::tags::cloudfront_pairs(cfg.tags()),
                aliases: Vec::new(),
                cert: None,
            };
            c.configure(cfg.distribution_config().unwrap());
            w.send("CreateDistributionWithTags", vec![c.id.clone()]);
            let out = cdn_out(&c);
            w.cdns.push(c);
            MockResponse::Output(
                op::create_distribution_with_tags::CreateDistributionWithTagsOutput::builder()
                    .distribution(out)
                    .e_tag("e")
                    .build(),
            )
        }),
        rule!(w, C::update_distribution, |w, req| {
            let dc = req.distribution_config().unwrap().clone();
            let id = req.id().unwrap_or_default().to_string();
            w.send("UpdateDistribution", vec![id.clone()]);
            let Some(c) = w.cdns.iter_mut().find(|c| c.id == id) else {
                return MockResponse::Error(
                    op::update_distribution::UpdateDistributionError::generic(gone()),
                );
            };
            c.configure(&dc);
            let out = cdn_out(c);
            MockResponse::Output(
                op::update_distribution::UpdateDistributionOutput::builder()
                    .distribution(out)
                    .e_tag("e")
                    .build(),
            )
        }),
        rule!(w, C::tag_resource, |w, req| {
            let arn = req.resource().unwrap_or_default().to_string();
            w.send("TagResource", vec![arn.clone()]);
            let set = sitedeploy::tags::cloudfront_pairs(req.tags());
            if let Some(c) = w.cdns.iter_mut().find(|c| cdn_arn(&c.id) == arn) {
                c.tags.retain(|(k, _)| !set.iter().any(|(sk, _)| sk == k));
                c.tags.extend(set);
            }
            MockResponse::Output(op::tag_resource::TagResourceOutput::builder().build())
        }),
        rule!(w, C::untag_resource, |w, req| {
            let arn = req.resource().unwrap_or_default().to_string();
            w.send("UntagResource", vec![arn.clone()]);
            let keys: Vec<String> = req
                .tag_keys()
                .map(|k| k.items().to_vec())
                .unwrap_or_default();
            if let Some(c) = w.cdns.iter_mut().find(|c| cdn_arn(&c.id) == arn) {
                c.tags.retain(|(k, _)| !keys.contains(k));
            }
            MockResponse::Output(op::untag_resource::UntagResourceOutput::builder().build())
        }),
        rule!(w, C::delete_distribution, |w, req| {
            let id = req.id().unwrap_or_default().to_string();
            w.send("DeleteDistribution", vec![id.clone()]);
            w.cdns.retain(|c| c.id != id);
            MockResponse::Output(
                op::delete_distribution::DeleteDistributionOutput::builder().build(),
            )
        }),
    ]
}

fn ec2_tags(tags: &Tags) -> Vec<aws_sdk_ec2::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

fn spec_tags(specs: &[aws_sdk_ec2::types::TagSpecification], kind: &str) -> Tags {
    specs
        .iter()
        .filter(|s| s.resource_type().map(|r| r.as_str()) == Some(kind))
        .flat_map(|s| s.tags())
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn perms(p: &[aws_sdk_ec2::types::IpPermission]) -> Vec<Perm> {
    let mut out = Vec::new();
    for x in p {
        let port = x.from_port().unwrap_or(0);
        for r in x.ip_ranges() {
            out.push(Perm {
                port,
                source: r.cidr_ip().unwrap_or_default().into(),
                description: r.description().unwrap_or_default().into(),
            });
        }
        for g in x.user_id_group_pairs() {
            out.push(Perm {
                port,
                source: g.group_id().unwrap_or_default().into(),
                description: g.description().unwrap_or_default().into(),
            });
        }
        for l in x.prefix_list_ids() {
            out.push(Perm {
                port,
                source: l.prefix_list_id().unwrap_or_default().into(),
                description: l.description().unwrap_or_default().into(),
            });
        }
    }
    out
}

fn ip_permission(p: &Perm) -> aws_sdk_ec2::types::IpPermission {
    use aws_sdk_ec2::types as t;
    let b = t::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(p.port)
        .to_port(p.port);
    if p.source.starts_with("pl-") {
        b.prefix_list_ids(
            t::PrefixListId::builder()
                .prefix_list_id(&p.source)
                .description(&p.description)
                .build(),
        )
        .build()
    } else if p.source.starts_with("sg-") || p.source.starts_with("sg-new") {
        b.user_id_group_pairs(
            t::UserIdGroupPair::builder()
                .group_id(&p.source)
                .description(&p.description)
                .build(),
        )
        .build()
    } else {
        b.ip_ranges(
            t::IpRange::builder()
                .cidr_ip(&p.source)
                .description(&p.description)
                .build(),
        )
        .build()
    }
}

fn instance_out(i: &Inst) -> aws_sdk_ec2::types::Instance {
    use aws_sdk_ec2::types as t;
    t::Instance::builder()
        .instance_id(&i.id)
        .state(
            t::InstanceState::builder()
                .name(t::InstanceStateName::from(i.state))
                .build(),
        )
        .placement(t::Placement::builder().availability_zone(&i.zone).build())
        .instance_type(t::InstanceType::T3Micro)
        .public_ip_address("198.51.100.10")
        .set_tags(Some(ec2_tags(&i.tags)))
        .build()
}

fn ec2_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_ec2::operation as op;
    use aws_sdk_ec2::types as t;
    use aws_sdk_ec2::Client as C;
    vec![
        rule!(w, C::describe_key_pairs, |w, req| {
            let keys = w.keys.iter().filter(|k| {
                passes(req.filters(), &k.tags, |n| {
                    (n == "key-name").then(|| k.name.clone())
                })
            });
            let keys = keys.map(|k| {
                t::KeyPairInfo::builder()
                    .key_name(&k.name)
                    .key_pair_id(&k.id)
                    .key_fingerprint(&k.fingerprint)
                    .set_tags(Some(ec2_tags(&k.tags)))
                    .build()
            });
            MockResponse::Output(
                op::describe_key_pairs::DescribeKeyPairsOutput::builder()
                    .set_key_pairs(Some(keys.collect()))
                    .build(),
            )
        }),
        rule!(w, C::import_key_pair, |w, req| {
            if req.dry_run() == Some(true) {
                return MockResponse::Error(op::import_key_pair::ImportKeyPairError::generic(
                    meta("DryRunOperation"),
                ));
            }
            let name = req.key_name().unwrap_or_default().to_string();
            w.send("ImportKeyPair", vec![name.clone()]);
            if w.keys.iter().any(|k| k.name == name) {
                return MockResponse::Error(op::import_key_pair::ImportKeyPairError::generic(
                    meta("InvalidKeyPair.Duplicate"),
                ));
            }
            let material = req
                .public_key_material()
                .map(|b| String::from_utf8_lossy(b.as_ref()).to_string())
                .unwrap_or_default();
            let fingerprint = ssh_key::PublicKey::from_openssh(material.trim())
                .map(|k| sitedeploy::resources::keypair::aws_fingerprint(&k))
                .unwrap_or_default();
            let id = w.id("key-");
            let tags = spec_tags(req.tag_specifications(), "key-pair");
            w.keys.push(Key {
                name: name.clone(),
                id: id.clone(),
                fingerprint: fingerprint.clone(),
                tags,
            });
            MockResponse::Output(
                op::import_key_pair::ImportKeyPairOutput::builder()
                    .key_name(name)
                    .key_pair_id(id)
                    .key_fingerprint(fingerprint)
                    .build(),
            )
        }),
        rule!(w, C::delete_key_pair, |w, req| {
            let name = req.key_name().unwrap_or_default().to_string();
            w.send("DeleteKeyPair", vec![name.clone()]);
            w.keys.retain(|k| k.name != name);
            MockResponse::Output(op::delete_key_pair::DeleteKeyPairOutput::builder().build())
        }),
        rule!(w, C::describe_managed_prefix_lists, |_w, _req| {
            MockResponse::Output(
                op::describe_managed_prefix_lists::DescribeManagedPrefixListsOutput::builder()
                    .prefix_lists(
                        aws_sdk_ec2::types::ManagedPrefixList::builder()
                            .prefix_list_id(CLOUDFRONT_LIST)
                            .prefix_list_name("com.amazonaws.global.cloudfront.origin-facing")
                            .build(),
                    )
                    .build(),
            )
        }),
        rule!(w, C::describe_security_groups, |w, req| {
            let groups = w.groups.iter().filter(|g| {
                passes(req.filters(), &g.tags, |n| match n {
                    "group-name" => Some(g.name.clone()),
                    "vpc-id" => Some(g.vpc.clone()),
                    "group-id" => Some(g.id.clone()),
                    _ => None,
                })
            });
            let groups = groups.map(|g| {
                t::SecurityGroup::builder()
                    .group_id(&g.id)
                    .group_name(&g.name)
                    .vpc_id(&g.vpc)
                    .set_ip_permissions(Some(g.rules.iter().map(ip_permission).collect()))
                    .set_tags(Some(ec2_tags(&g.tags)))
                    .build()
            });
            MockResponse::Output(
                op::describe_security_groups::DescribeSecurityGroupsOutput::builder()
                    .set_security_groups(Some(groups.collect()))
                    .build(),
            )
        }),
        rule!(w, C::create_security_group, |w, req| {
            if req.dry_run() == Some(true) {
                return MockResponse::Error(
                    op::create_security_group::CreateSecurityGroupError::generic(meta(
                        "DryRunOperation",
                    )),
                );
            }
            let name = req.group_name().unwrap_or_default().to_string();
            let vpc = req.vpc_id().unwrap_or_default().to_string();
            w.send("CreateSecurityGroup", vec![name.clone()]);
            if w.groups.iter().any(|g| g.name == name && g.vpc == vpc) {
                return MockResponse::Error(
                    op::create_security_group::CreateSecurityGroupError::generic(meta(
                        "InvalidGroup.Duplicate",
                    )),
                );
            }
            let id = w.id("sg-new");
            let tags = spec_tags(req.tag_specifications(), "security-group");
            w.groups.push(Sg {
                id: id.clone(),
                name,
                vpc,
                rules: Vec::new(),
                tags,
            });
            MockResponse::Output(
                op::create_security_group::CreateSecurityGroupOutput::builder()
                    .group_id(id)
                    .build(),
            )
        }),
        rule!(w, C::authorize_security_group_ingress, |w, req| {
            let id = req.group_id().unwrap_or_default().to_string();
            w.send("AuthorizeSecurityGroupIngress", vec![id.clone()]);
            let add = perms(req.ip_permissions());
            let Some(g) = w.groups.iter_mut().find(|g| g.id == id) else {
                return MockResponse::Error(op::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError::generic(meta("InvalidGroup.NotFound")));
            };
            if add.iter().any(|p| {
                g.rules
                    .iter()
                    .any(|r| r.port == p.port && r.source == p.source)
            }) {
                return MockResponse::Error(op::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError::generic(meta("InvalidPermission.Duplicate")));
            }
            g.rules.extend(add);
            MockResponse::Output(
                op::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput::builder(
                )
                .r#return(true)
                .build(),
            )
        }),
        rule!(w, C::revoke_security_group_ingress, |w, req| {
            let id = req.group_id().unwrap_or_default().to_string();
            w.send("RevokeSecurityGroupIngress", vec![id.clone()]);
            let gone = perms(req.ip_permissions());
            if let Some(g) = w.groups.iter_mut().find(|g| g.id == id) {
                g.rules.retain(|r| {
                    !gone
                        .iter()
                        .any(|p| p.port == r.port && p.source == r.source)
                });
            }
            MockResponse::Output(
                op::revoke_security_group_ingress::RevokeSecurityGroupIngressOutput::builder()
                    .r#return(true)
                    .build(),
            )
        }),
        rule!(w, C::create_tags, |w, req| {
            let ids: Vec<String> = req.resources().to_vec();
            w.send("CreateTags", ids.clone());
            let set: Tags = req
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().into(),
                        t.value().unwrap_or_default().into(),
                    )
                })
                .collect();
            for id in &ids {
                for tags in w.tags_of(id) {
                    for (k, v) in &set {
                        tags.retain(|(tk, _)| tk != k);
                        tags.push((k.clone(), v.clone()));
                    }
                }
            }
            MockResponse::Output(op::create_tags::CreateTagsOutput::builder().build())
        }),
        rule!(w, C::delete_tags, |w, req| {
            let ids: Vec<String> = req.resources().to_vec();
            w.send("DeleteTags", ids.clone());
            let keys: Vec<String> = req
                .tags()
                .iter()
                .map(|t| t.key().unwrap_or_default().to_string())
                .collect();
            for id in &ids {
                for tags in w.tags_of(id) {
                    tags.retain(|(k, _)| !keys.contains(k));
                }
            }
            MockResponse::Output(op::delete_tags::DeleteTagsOutput::builder().build())
        }),
        rule!(w, C::describe_instances, |w, req| {
            let ids = req.instance_ids();
            let found: Vec<t::Instance> = w
                .instances
                .iter()
                .filter(|i| ids.is_empty() || ids.contains(&i.id))
                .filter(|i| {
                    passes(req.filters(), &i.tags, |n| match n {
                        "instance-state-name" => Some(i.state.to_string()),
                        "instance-id" => Some(i.id.clone()),
                        _ => None,
                    })
                })
                .map(instance_out)
                .collect();
            if ids
                .iter()
                .any(|id| !w.instances.iter().any(|i| &i.id == id))
            {
                return MockResponse::Error(
                    op::describe_instances::DescribeInstancesError::generic(meta(
                        "InvalidInstanceID.NotFound",
                    )),
                );
            }
            let r = t::Reservation::builder().set_instances(Some(found)).build();
            MockResponse::Output(
                op::describe_instances::DescribeInstancesOutput::builder()
                    .reservations(r)
                    .build(),
            )
        }),
        rule!(w, C::describe_instance_status, |w, req| {
            let s = req.instance_ids().iter().map(|id| {
                let ok = t::InstanceStatusSummary::builder()
                    .status(t::SummaryStatus::Ok)
                    .build();
                t::InstanceStatus::builder()
                    .instance_id(id)
                    .instance_status(ok.clone())
                    .system_status(ok)
                    .build()
            });
            let _ = w;
            MockResponse::Output(
                op::describe_instance_status::DescribeInstanceStatusOutput::builder()
                    .set_instance_statuses(Some(s.collect()))
                    .build(),
            )
        }),
        rule!(w, C::run_instances, |w, req| {
            if req.dry_run() == Some(true) {
                return MockResponse::Error(op::run_instances::RunInstancesError::generic(meta(
                    "DryRunOperation",
                )));
            }
            let id = w.id("i-new");
            w.send("RunInstances", vec![id.clone()]);
            let subnet = req
                .subnet_id()
                .map(str::to_string)
                .or_else(|| {
                    req.network_interfaces()
                        .first()
                        .and_then(|n| n.subnet_id().map(str::to_string))
                })
                .unwrap_or_default();
            let zone = w
                .subnets
                .iter()
                .find(|(_, s)| *s == subnet)
                .map(|(z, _)| z.clone())
                .unwrap_or_default();
            let inst = Inst {
                id,
                state: "running",
                zone,
                tags: spec_tags(req.tag_specifications(), "instance"),
            };
            let out = instance_out(&inst);
            w.instances.push(inst);
            MockResponse::Output(
                op::run_instances::RunInstancesOutput::builder()
                    .instances(out)
                    .build(),
            )
        }),
        rule!(w, C::start_instances, |w, req| {
            w.send("StartInstances", req.instance_ids().to_vec());
            for id in req.instance_ids() {
                if let Some(i) = w.instance(id) {
                    i.state = "running";
                }
            }
            MockResponse::Output(op::start_instances::StartInstancesOutput::builder().build())
        }),
        rule!(w, C::terminate_instances, |w, req| {
            w.send("TerminateInstances", req.instance_ids().to_vec());
            for id in req.instance_ids() {
                if let Some(i) = w.instance(id) {
                    i.state = "terminated";
                }
            }
            MockResponse::Output(
                op::terminate_instances::TerminateInstancesOutput::builder().build(),
            )
        }),
        rule!(w, C::get_console_output, |_w, req| {
            MockResponse::Output(
                op::get_console_output::GetConsoleOutputOutput::builder()
                    .instance_id(req.instance_id().unwrap_or_default())
                    .build(),
            )
        }),
        rule!(w, C::describe_vpcs, |w, _req| {
            let v = t::Vpc::builder().vpc_id(&w.vpc).is_default(true).build();
            MockResponse::Output(
                op::describe_vpcs::DescribeVpcsOutput::builder()
                    .vpcs(v)
                    .build(),
            )
        }),
        rule!(w, C::describe_subnets, |w, _req| {
            let s = w.subnets.iter().map(|(z, id)| {
                t::Subnet::builder()
                    .availability_zone(z)
                    .subnet_id(id)
                    .vpc_id(&w.vpc)
                    .map_public_ip_on_launch(true)
                    .default_for_az(true)
                    .build()
            });
            MockResponse::Output(
                op::describe_subnets::DescribeSubnetsOutput::builder()
                    .set_subnets(Some(s.collect()))
                    .build(),
            )
        }),
        rule!(w, C::describe_instance_type_offerings, |w, _req| {
            let o = w.subnets.iter().map(|(z, _)| {
                t::InstanceTypeOffering::builder()
                    .location(z)
                    .instance_type(t::InstanceType::T3Micro)
                    .build()
            });
            MockResponse::Output(
                op::describe_instance_type_offerings::DescribeInstanceTypeOfferingsOutput::builder(
                )
                .set_instance_type_offerings(Some(o.collect()))
                .build(),
            )
        }),
        rule!(w, C::describe_images, |_w, _req| {
            let i = t::Image::builder()
                .image_id("ami-0123456789abcdef0")
                .name("al2023-ami-2023.6-x86_64")
                .creation_date("2026-11-01T00:00:00.000Z")
                .root_device_name("/dev/xvda")
                .build();
            MockResponse::Output(
                op::describe_images::DescribeImagesOutput::builder()
                    .images(i)
                    .build(),
            )
        }),
        rule!(w, C::describe_launch_templates, |w, req| {
            let lts = w.lts.iter().filter(|l| {
                passes(req.filters(), &l.tags, |n| {
                    (n == "launch-template-name").then(|| l.name.clone())
                })
            });
            let lts = lts.map(|l| {
                t::LaunchTemplate::builder()
                    .launch_template_id(&l.id)
                    .launch_template_name(&l.name)
                    .default_version_number(l.default)
                    .set_tags(Some(ec2_tags(&l.tags)))
                    .build()
            });
            MockResponse::Output(
                op::describe_launch_templates::DescribeLaunchTemplatesOutput::builder()
                    .set_launch_templates(Some(lts.collect()))
                    .build(),
            )
        }),
        rule!(w, C::describe_launch_template_versions, |w, req| {
            let id = req.launch_template_id().unwrap_or_default();
            let lt = w.lts.iter().find(|l| l.id == id);
            let vs = lt.into_iter().flat_map(|l| {
                req.versions()
                    .iter()
                    .filter_map(|v| v.parse::<usize>().ok())
                    .filter_map(|n| {
                        l.versions.get(n - 1).map(|d| {
                            t::LaunchTemplateVersion::builder()
                                .version_number(n as i64)
                                .version_description(d)
                                .build()
                        })
                    })
            });
            MockResponse::Output(op::describe_launch_template_versions::DescribeLaunchTemplateVersionsOutput::builder().set_launch_template_versions(Some(vs.collect())).build())
        }),
        rule!(w, C::create_launch_template, |w, req| {
            let name = req.launch_template_name().unwrap_or_default().to_string();
            w.send("CreateLaunchTemplate", vec![name.clone()]);
            let id = w.id("lt-new");
            let tags = spec_tags(req.tag_specifications(), "launch-template");
            let desc = req.version_description().unwrap_or_default().to_string();
            w.lts.push(Lt {
                id: id.clone(),
                name: name.clone(),
                versions: vec![desc],
                default: 1,
                tags,
            });
            let lt = t::LaunchTemplate::builder()
                .launch_template_id(id)
                .launch_template_name(name)
                .default_version_number(1)
                .build();
            MockResponse::Output(
                op::create_launch_template::CreateLaunchTemplateOutput::builder()
                    .launch_template(lt)
                    .build(),
            )
        }),
        rule!(w, C::create_launch_template_version, |w, req| {
            let id = req.launch_template_id().unwrap_or_default().to_string();
            w.send("CreateLaunchTemplateVersion", vec![id.clone()]);
            let desc = req.version_description().unwrap_or_default().to_string();
            let lt = w
                .lts
                .iter_mut()
                .find(|l| l.id == id)
                .expect("launch template");
            lt.versions.push(desc);
            let v = t::LaunchTemplateVersion::builder()
                .version_number(lt.versions.len() as i64)
                .build();
            MockResponse::Output(
                op::create_launch_template_version::CreateLaunchTemplateVersionOutput::builder()
                    .launch_template_version(v)
                    .build(),
            )
        }),
        rule!(w, C::modify_launch_template, |w, req| {
            let id = req.launch_template_id().unwrap_or_default().to_string();
            w.send("ModifyLaunchTemplate", vec![id.clone()]);
            if let Some(lt) = w.lts.iter_mut().find(|l| l.id == id) {
                lt.default = req
                    .default_version()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(lt.default);
            }
            MockResponse::Output(
                op::modify_launch_template::ModifyLaunchTemplateOutput::builder().build(),
            )
        }),
        rule!(w, C::delete_launch_template, |w, req| {
            let id = req.launch_template_id().unwrap_or_default().to_string();
            w.send("DeleteLaunchTemplate", vec![id.clone()]);
            w.lts.retain(|l| l.id != id);
            MockResponse::Output(
                op::delete_launch_template::DeleteLaunchTemplateOutput::builder().build(),
            )
        }),
    ]
}

impl World {
    /// The tag lists of every EC2 or ELB resource of this id or ARN.
    fn tags_of(&mut self, id: &str) -> Vec<&mut Tags> {
        let mut out: Vec<&mut Tags> = Vec::new();
        out.extend(
            self.keys
                .iter_mut()
                .filter(|k| k.id == id)
                .map(|k| &mut k.tags),
        );
        out.extend(
            self.groups
                .iter_mut()
                .filter(|g| g.id == id)
                .map(|g| &mut g.tags),
        );
        out.extend(
            self.instances
                .iter_mut()
                .filter(|i| i.id == id)
                .map(|i| &mut i.tags),
        );
        out.extend(
            self.lts
                .iter_mut()
                .filter(|l| l.id == id)
                .map(|l| &mut l.tags),
        );
        out.extend(
            self.tgs
                .iter_mut()
                .filter(|t| t.arn == id)
                .map(|t| &mut t.tags),
        );
        out.extend(
            self.lbs
                .iter_mut()
                .filter(|l| l.arn == id)
                .map(|l| &mut l.tags),
        );
        out.extend(
            self.listeners
                .iter_mut()
                .filter(|l| l.arn == id)
                .map(|l| &mut l.tags),
        );
        out
    }
}

fn elb_tags(tags: &Tags) -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

fn elb_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_elasticloadbalancingv2::operation as op;
    use aws_sdk_elasticloadbalancingv2::types as t;
    use aws_sdk_elasticloadbalancingv2::Client as C;
    let tags_in = |tags: &[t::Tag]| -> Tags {
        tags.iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().into(),
                    t.value().unwrap_or_default().into(),
                )
            })
            .collect()
    };
    vec![
        rule!(w, C::describe_target_groups, |w, req| {
            let found: Vec<t::TargetGroup> = w
                .tgs
                .iter()
                .filter(|g| req.names().contains(&g.name))
                .map(|g| {
                    t::TargetGroup::builder()
                        .target_group_arn(&g.arn)
                        .target_group_name(&g.name)
                        .health_check_path(&g.path)
                        .vpc_id(&g.vpc)
                        .build()
                })
                .collect();
            if found.is_empty() {
                return MockResponse::Error(
                    op::describe_target_groups::DescribeTargetGroupsError::generic(meta(
                        "TargetGroupNotFound",
                    )),
                );
            }
            MockResponse::Output(
                op::describe_target_groups::DescribeTargetGroupsOutput::builder()
                    .set_target_groups(Some(found))
                    .build(),
            )
        }),
        rule!(w, C::create_target_group, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("CreateTargetGroup", vec![name.clone()]);
            let arn = format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/{}",
                w.id("")
            );
            let tags = req
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            w.tgs.push(Tg {
                arn: arn.clone(),
                name: name.clone(),
                path: req.health_check_path().unwrap_or("/").into(),
                vpc: req.vpc_id().unwrap_or_default().into(),
                tags,
            });
            let g = t::TargetGroup::builder()
                .target_group_arn(arn)
                .target_group_name(name)
                .build();
            MockResponse::Output(
                op::create_target_group::CreateTargetGroupOutput::builder()
                    .target_groups(g)
                    .build(),
            )
        }),
        rule!(w, C::modify_target_group_attributes, |w, req| {
            w.send(
                "ModifyTargetGroupAttributes",
                vec![req.target_group_arn().unwrap_or_default().into()],
            );
            MockResponse::Output(
                op::modify_target_group_attributes::ModifyTargetGroupAttributesOutput::builder()
                    .build(),
            )
        }),
        rule!(w, C::modify_target_group, |w, req| {
            let arn = req.target_group_arn().unwrap_or_default().to_string();
            w.send("ModifyTargetGroup", vec![arn.clone()]);
            if let (Some(g), Some(p)) = (
                w.tgs.iter_mut().find(|g| g.arn == arn),
                req.health_check_path(),
            ) {
                g.path = p.into();
            }
            MockResponse::Output(
                op::modify_target_group::ModifyTargetGroupOutput::builder().build(),
            )
        }),
        rule!(w, C::describe_target_health, |w, req| {
            let arn = req.target_group_arn().unwrap_or_default();
            let d = w
                .targets
                .get(arn)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|(id, state)| {
                    t::TargetHealthDescription::builder()
                        .target(t::TargetDescription::builder().id(id).port(80).build())
                        .target_health(
                            t::TargetHealth::builder()
                                .state(t::TargetHealthStateEnum::from(state))
                                .build(),
                        )
                        .build()
                });
            MockResponse::Output(
                op::describe_target_health::DescribeTargetHealthOutput::builder()
                    .set_target_health_descriptions(Some(d.collect()))
                    .build(),
            )
        }),
        rule!(w, C::register_targets, |w, req| {
            let arn = req.target_group_arn().unwrap_or_default().to_string();
            let ids: Vec<String> = req
                .targets()
                .iter()
                .filter_map(|t| t.id().map(str::to_string))
                .collect();
            w.send("RegisterTargets", ids.clone());
            let list = w.targets.entry(arn).or_default();
            for id in ids {
                list.retain(|(t, _)| *t != id);
                list.push((id, "healthy"));
            }
            MockResponse::Output(op::register_targets::RegisterTargetsOutput::builder().build())
        }),
        rule!(w, C::deregister_targets, |w, req| {
            let arn = req.target_group_arn().unwrap_or_default().to_string();
            let ids: Vec<String> = req
                .targets()
                .iter()
                .filter_map(|t| t.id().map(str::to_string))
                .collect();
            w.send("DeregisterTargets", ids.clone());
            if let Some(list) = w.targets.get_mut(&arn) {
                list.retain(|(t, _)| !ids.contains(t));
            }
            MockResponse::Output(op::deregister_targets::DeregisterTargetsOutput::builder().build())
        }),
        rule!(w, C::describe_load_balancers, |w, req| {
            let found: Vec<t::LoadBalancer> = w
                .lbs
                .iter()
                .filter(|l| {
                    req.names().contains(&l.name) || req.load_balancer_arns().contains(&l.arn)
                })
                .map(|l| {
                    let zones = l.zones.iter().map(|(z, s)| {
                        t::AvailabilityZone::builder()
                            .zone_name(z)
                            .subnet_id(s)
                            .build()
                    });
                    t::LoadBalancer::builder()
                        .load_balancer_arn(&l.arn)
                        .load_balancer_name(&l.name)
                        .dns_name(format!("{}.example", l.name))
                        .vpc_id(&l.vpc)
                        .state(
                            t::LoadBalancerState::builder()
                                .code(t::LoadBalancerStateEnum::from(l.state))
                                .build(),
                        )
                        .set_availability_zones(Some(zones.collect()))
                        .build()
                })
                .collect();
            if found.is_empty() {
                return MockResponse::Error(
                    op::describe_load_balancers::DescribeLoadBalancersError::generic(meta(
                        "LoadBalancerNotFound",
                    )),
                );
            }
            MockResponse::Output(
                op::describe_load_balancers::DescribeLoadBalancersOutput::builder()
                    .set_load_balancers(Some(found))
                    .build(),
            )
        }),
        rule!(w, C::create_load_balancer, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("CreateLoadBalancer", vec![name.clone()]);
            let arn = format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/{}",
                w.id("")
            );
            let zones: Vec<(String, String)> = req
                .subnets()
                .iter()
                .filter_map(|s| w.subnets.iter().find(|(_, id)| id == s).cloned())
                .collect();
            let tags = req
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let lb = Lb {
                arn: arn.clone(),
                name: name.clone(),
                state: "active",
                zones: zones.clone(),
                vpc: w.vpc.clone(),
                tags,
            };
            w.lbs.push(lb);
            let zones = zones.iter().map(|(z, s)| {
                t::AvailabilityZone::builder()
                    .zone_name(z)
                    .subnet_id(s)
                    .build()
            });
            let out = t::LoadBalancer::builder()
                .load_balancer_arn(arn)
                .load_balancer_name(&name)
                .dns_name(format!("{name}.example"))
                .state(
                    t::LoadBalancerState::builder()
                        .code(t::LoadBalancerStateEnum::Provisioning)
                        .build(),
                )
                .set_availability_zones(Some(zones.collect()))
                .build();
            MockResponse::Output(
                op::create_load_balancer::CreateLoadBalancerOutput::builder()
                    .load_balancers(out)
                    .build(),
            )
        }),
        rule!(w, C::describe_listeners, |w, req| {
            let lb = req.load_balancer_arn().unwrap_or_default();
            let ls = w.listeners.iter().filter(|l| l.lb == lb).map(|l| {
                let fwd = match l.denies {
                    true => t::Action::builder()
                        .r#type(t::ActionTypeEnum::FixedResponse)
                        .build(),
                    false => t::Action::builder()
                        .r#type(t::ActionTypeEnum::Forward)
                        .target_group_arn(&l.forwards)
                        .build(),
                };
                t::Listener::builder()
                    .listener_arn(&l.arn)
                    .port(l.port)
                    .default_actions(fwd)
                    .build()
            });
            MockResponse::Output(
                op::describe_listeners::DescribeListenersOutput::builder()
                    .set_listeners(Some(ls.collect()))
                    .build(),
            )
        }),
        rule!(w, C::create_listener, |w, req| {
            let lb = req.load_balancer_arn().unwrap_or_default().to_string();
            w.send("CreateListener", vec![lb.clone()]);
            let arn = format!(
                "{}/listener/{}",
                lb.replace(":loadbalancer/", ":listener/"),
                w.id("")
            );
            let forwards = req
                .default_actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or_default()
                .to_string();
            let tags = req
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            w.listeners.push(Listener {
                arn: arn.clone(),
                lb,
                port: req.port().unwrap_or(0),
                forwards,
                denies: denies(req.default_actions()),
                gate: None,
                tags,
            });
            MockResponse::Output(
                op::create_listener::CreateListenerOutput::builder()
                    .listeners(t::Listener::builder().listener_arn(arn).build())
                    .build(),
            )
        }),
        rule!(w, C::modify_listener, |w, req| {
            let arn = req.listener_arn().unwrap_or_default().to_string();
            w.send("ModifyListener", vec![arn.clone()]);
            let to = req
                .default_actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or_default()
                .to_string();
            let deny = denies(req.default_actions());
            if let Some(l) = w.listeners.iter_mut().find(|l| l.arn == arn) {
                l.forwards = to;
                l.denies = deny;
            }
            MockResponse::Output(op::modify_listener::ModifyListenerOutput::builder().build())
        }),
        rule!(w, C::describe_rules, |w, req| {
            let arn = req.listener_arn().unwrap_or_default();
            let rules = w
                .listeners
                .iter()
                .filter(|l| l.arn == arn)
                .filter_map(|l| l.gate.clone())
                .map(|(rule, value, tg)| {
                    t::Rule::builder()
                        .rule_arn(rule)
                        .priority("1")
                        .conditions(
                            t::RuleCondition::builder()
                                .field("http-header")
                                .http_header_config(
                                    t::HttpHeaderConditionConfig::builder()
                                        .http_header_name("X-Origin-Verify")
                                        .values(value)
                                        .build(),
                                )
                                .build(),
                        )
                        .actions(
                            t::Action::builder()
                                .r#type(t::ActionTypeEnum::Forward)
                                .target_group_arn(tg)
                                .build(),
                        )
                        .build()
                })
                .collect();
            MockResponse::Output(
                op::describe_rules::DescribeRulesOutput::builder()
                    .set_rules(Some(rules))
                    .build(),
            )
        }),
        rule!(w, C::create_rule, |w, req| {
            let arn = req.listener_arn().unwrap_or_default().to_string();
            w.send("CreateRule", vec![arn.clone()]);
            let rule = format!("{}/rule", arn.replace(":listener/", ":listener-rule/"));
            let value = header_value(req.conditions());
            let tg = req
                .actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or_default()
                .to_string();
            if let Some(l) = w.listeners.iter_mut().find(|l| l.arn == arn) {
                l.gate = Some((rule, value, tg));
            }
            MockResponse::Output(op::create_rule::CreateRuleOutput::builder().build())
        }),
        rule!(w, C::modify_rule, |w, req| {
            let rule = req.rule_arn().unwrap_or_default().to_string();
            w.send("ModifyRule", vec![rule.clone()]);
            let value = header_value(req.conditions());
            let tg = req
                .actions()
                .first()
                .and_then(|a| a.target_group_arn())
                .unwrap_or_default()
                .to_string();
            for l in &mut w.listeners {
                if l.gate.as_ref().is_some_and(|g| g.0 == rule) {
                    l.gate = Some((rule.clone(), value.clone(), tg.clone()));
                }
            }
            MockResponse::Output(op::modify_rule::ModifyRuleOutput::builder().build())
        }),
        rule!(w, C::delete_rule, |w, req| {
            let rule = req.rule_arn().unwrap_or_default().to_string();
            w.send("DeleteRule", vec![rule.clone()]);
            for l in &mut w.listeners {
                if l.gate.as_ref().is_some_and(|g| g.0 == rule) {
                    l.gate = None;
                }
            }
            MockResponse::Output(op::delete_rule::DeleteRuleOutput::builder().build())
        }),
        rule!(w, C::delete_listener, |w, req| {
            let arn = req.listener_arn().unwrap_or_default().to_string();
            w.send("DeleteListener", vec![arn.clone()]);
            w.listeners.retain(|l| l.arn != arn);
            MockResponse::Output(op::delete_listener::DeleteListenerOutput::builder().build())
        }),
        rule!(w, C::describe_tags, |w, req| {
            let arns = req.resource_arns().to_vec();
            let d = arns
                .iter()
                .filter_map(|arn| {
                    let tags = w.tags_of(arn).into_iter().next()?.clone();
                    Some(
                        t::TagDescription::builder()
                            .resource_arn(arn)
                            .set_tags(Some(elb_tags(&tags)))
                            .build(),
                    )
                })
                .collect::<Vec<_>>();
            MockResponse::Output(
                op::describe_tags::DescribeTagsOutput::builder()
                    .set_tag_descriptions(Some(d))
                    .build(),
            )
        }),
        rule!(w, C::add_tags, |w, req| {
            let arns = req.resource_arns().to_vec();
            w.send("AddTags", arns.clone());
            let set = tags_in(req.tags());
            for arn in &arns {
                for tags in w.tags_of(arn) {
                    for (k, v) in &set {
                        tags.retain(|(tk, _)| tk != k);
                        tags.push((k.clone(), v.clone()));
                    }
                }
            }
            MockResponse::Output(op::add_tags::AddTagsOutput::builder().build())
        }),
        rule!(w, C::remove_tags, |w, req| {
            let arns = req.resource_arns().to_vec();
            w.send("RemoveTags", arns.clone());
            let keys = req.tag_keys().to_vec();
            for arn in &arns {
                for tags in w.tags_of(arn) {
                    tags.retain(|(k, _)| !keys.contains(k));
                }
            }
            MockResponse::Output(op::remove_tags::RemoveTagsOutput::builder().build())
        }),
    ]
}

fn asg_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_autoscaling::operation as op;
    use aws_sdk_autoscaling::types as t;
    use aws_sdk_autoscaling::Client as C;
    vec![
        rule!(w, C::describe_auto_scaling_groups, |w, req| {
            let gs = w
                .asgs
                .iter()
                .filter(|g| req.auto_scaling_group_names().contains(&g.name))
                .map(|g| {
                    let members = g
                        .members
                        .iter()
                        .filter_map(|id| w.instances.iter().find(|i| &i.id == id))
                        .filter(|i| i.state != "terminated")
                        .map(|i| {
                            t::Instance::builder()
                                .instance_id(&i.id)
                                .availability_zone(&i.zone)
                                .lifecycle_state(t::LifecycleState::InService)
                                .health_status("Healthy")
                                .protected_from_scale_in(false)
                                .launch_template(
                                    t::LaunchTemplateSpecification::builder()
                                        .launch_template_id(&g.lt)
                                        .set_version(g.versions.get(&i.id).cloned())
                                        .build(),
                                )
                                .build()
                        });
                    let suspended = g.suspended.iter().map(|p| {
                        t::SuspendedProcess::builder()
                            .process_name(p)
                            .suspension_reason("User suspended")
                            .build()
                    });
                    let tags = g.tags.iter().map(|(k, v)| {
                        t::TagDescription::builder()
                            .key(k)
                            .value(v)
                            .resource_id(&g.name)
                            .resource_type("auto-scaling-group")
                            .propagate_at_launch(true)
                            .build()
                    });
                    t::AutoScalingGroup::builder()
                        .auto_scaling_group_name(&g.name)
                        .min_size(g.min)
                        .max_size(g.max)
                        .desired_capacity(g.desired)
                        .default_cooldown(300)
                        .health_check_type("ELB")
                        .availability_zones("us-east-1a")
                        .created_time(aws_smithy_types::DateTime::from_secs(0))
                        .launch_template(
                            t::LaunchTemplateSpecification::builder()
                                .launch_template_id(&g.lt)
                                .version(&g.version)
                                .build(),
                        )
                        .vpc_zone_identifier(g.subnets.join(","))
                        .set_target_group_arns(Some(g.tgs.clone()))
                        .set_instances(Some(members.collect()))
                        .set_suspended_processes(Some(suspended.collect()))
                        .set_tags(Some(tags.collect()))
                        .build()
                });
            MockResponse::Output(
                op::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput::builder()
                    .set_auto_scaling_groups(Some(gs.collect()))
                    .build(),
            )
        }),
        rule!(w, C::create_auto_scaling_group, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("CreateAutoScalingGroup", vec![name.clone()]);
            let lt = req
                .launch_template()
                .and_then(|l| l.launch_template_id())
                .unwrap_or_default()
                .to_string();
            let version = req
                .launch_template()
                .and_then(|l| l.version())
                .unwrap_or("1")
                .to_string();
            let tags = req
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let desired = req.desired_capacity().unwrap_or(0);
            w.asgs.push(Asg {
                name,
                lt,
                version,
                tgs: req.target_group_arns().to_vec(),
                min: req.min_size().unwrap_or(0),
                max: req.max_size().unwrap_or(0),
                desired,
                subnets: req
                    .vpc_zone_identifier()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_string)
                    .collect(),
                tags,
                members: Vec::new(),
                versions: BTreeMap::new(),
                suspended: Vec::new(),
            });
            let n = w.asgs.len() - 1;
            w.launch_for(n, desired as usize);
            MockResponse::Output(
                op::create_auto_scaling_group::CreateAutoScalingGroupOutput::builder().build(),
            )
        }),
        rule!(w, C::update_auto_scaling_group, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("UpdateAutoScalingGroup", vec![name.clone()]);
            let Some(n) = w.asgs.iter().position(|g| g.name == name) else {
                return MockResponse::Error(
                    op::update_auto_scaling_group::UpdateAutoScalingGroupError::generic(meta(
                        "ValidationError",
                    )),
                );
            };
            let g = &mut w.asgs[n];
            if let Some(l) = req.launch_template() {
                g.lt = l.launch_template_id().unwrap_or(&g.lt).to_string();
                g.version = l.version().unwrap_or(&g.version).to_string();
            }
            g.min = req.min_size().unwrap_or(g.min);
            g.max = req.max_size().unwrap_or(g.max);
            g.desired = req.desired_capacity().unwrap_or(g.desired);
            let live = g.members.len() as i32;
            let (desired, name) = (g.desired, g.name.clone());
            if desired > live {
                w.launch_for(n, (desired - live) as usize);
            }
            let _ = name;
            MockResponse::Output(
                op::update_auto_scaling_group::UpdateAutoScalingGroupOutput::builder().build(),
            )
        }),
        rule!(w, C::create_or_update_tags, |w, req| {
            let names: Vec<String> = req
                .tags()
                .iter()
                .filter_map(|t| t.resource_id().map(str::to_string))
                .collect();
            w.send("CreateOrUpdateTags", names.clone());
            for t in req.tags() {
                if let Some(g) = w
                    .asgs
                    .iter_mut()
                    .find(|g| Some(g.name.as_str()) == t.resource_id())
                {
                    g.tags.retain(|(k, _)| Some(k.as_str()) != t.key());
                    g.tags.push((
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ));
                }
            }
            MockResponse::Output(
                op::create_or_update_tags::CreateOrUpdateTagsOutput::builder().build(),
            )
        }),
        rule!(w, C::delete_tags, |w, req| {
            let names: Vec<String> = req
                .tags()
                .iter()
                .filter_map(|t| t.resource_id().map(str::to_string))
                .collect();
            w.send("DeleteTags(asg)", names);
            for t in req.tags() {
                if let Some(g) = w
                    .asgs
                    .iter_mut()
                    .find(|g| Some(g.name.as_str()) == t.resource_id())
                {
                    g.tags.retain(|(k, _)| Some(k.as_str()) != t.key());
                }
            }
            MockResponse::Output(op::delete_tags::DeleteTagsOutput::builder().build())
        }),
        rule!(w, C::terminate_instance_in_auto_scaling_group, |w, req| {
            let id = req.instance_id().unwrap_or_default().to_string();
            w.send("TerminateInstanceInAutoScalingGroup", vec![id.clone()]);
            for g in w.asgs.iter_mut().filter(|g| g.members.contains(&id)) {
                g.members.retain(|m| *m != id);
                if req.should_decrement_desired_capacity() == Some(true) {
                    g.desired -= 1;
                }
            }
            if let Some(i) = w.instance(&id) {
                i.state = "terminated";
            }
            for list in w.targets.values_mut() {
                list.retain(|(t, _)| *t != id);
            }
            MockResponse::Output(op::terminate_instance_in_auto_scaling_group::TerminateInstanceInAutoScalingGroupOutput::builder().build())
        }),
        rule!(w, C::attach_load_balancer_target_groups, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("AttachLoadBalancerTargetGroups", vec![name.clone()]);
            let tgs = req.target_group_arns().to_vec();
            let members: Vec<String> = w
                .asgs
                .iter()
                .filter(|g| g.name == name)
                .flat_map(|g| g.members.clone())
                .collect();
            if let Some(g) = w.asgs.iter_mut().find(|g| g.name == name) {
                g.tgs.extend(tgs.clone());
            }
            for tg in tgs {
                for id in &members {
                    w.targets
                        .entry(tg.clone())
                        .or_default()
                        .push((id.clone(), "healthy"));
                }
            }
            MockResponse::Output(op::attach_load_balancer_target_groups::AttachLoadBalancerTargetGroupsOutput::builder().build())
        }),
        rule!(w, C::suspend_processes, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("SuspendProcesses", vec![name.clone()]);
            if let Some(g) = w.asgs.iter_mut().find(|g| g.name == name) {
                for p in req.scaling_processes() {
                    if !g.suspended.contains(p) {
                        g.suspended.push(p.clone());
                    }
                }
            }
            MockResponse::Output(op::suspend_processes::SuspendProcessesOutput::builder().build())
        }),
        rule!(w, C::resume_processes, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("ResumeProcesses", vec![name.clone()]);
            if let Some(g) = w.asgs.iter_mut().find(|g| g.name == name) {
                g.suspended.retain(|p| !req.scaling_processes().contains(p));
            }
            MockResponse::Output(op::resume_processes::ResumeProcessesOutput::builder().build())
        }),
        // Every launch here succeeds: no failed activity to report.
        rule!(w, C::describe_scaling_activities, |_w, _req| {
            MockResponse::Output(
                op::describe_scaling_activities::DescribeScalingActivitiesOutput::builder().build(),
            )
        }),
        rule!(w, C::put_scaling_policy, |w, req| {
            w.send(
                "PutScalingPolicy",
                vec![req.auto_scaling_group_name().unwrap_or_default().into()],
            );
            MockResponse::Output(op::put_scaling_policy::PutScalingPolicyOutput::builder().build())
        }),
        rule!(w, C::delete_policy, |w, req| {
            w.send(
                "DeletePolicy",
                vec![req.auto_scaling_group_name().unwrap_or_default().into()],
            );
            MockResponse::Output(op::delete_policy::DeletePolicyOutput::builder().build())
        }),
        rule!(w, C::delete_auto_scaling_group, |w, req| {
            let name = req
                .auto_scaling_group_name()
                .unwrap_or_default()
                .to_string();
            w.send("DeleteAutoScalingGroup", vec![name.clone()]);
            let members: Vec<String> = w
                .asgs
                .iter()
                .filter(|g| g.name == name)
                .flat_map(|g| g.members.clone())
                .collect();
            for id in members {
                if let Some(i) = w.instance(&id) {
                    i.state = "terminated";
                }
            }
            w.asgs.retain(|g| g.name != name);
            MockResponse::Output(
                op::delete_auto_scaling_group::DeleteAutoScalingGroupOutput::builder().build(),
            )
        }),
    ]
}

fn scheduler_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_scheduler::operation as op;
    use aws_sdk_scheduler::Client as C;
    vec![
        rule!(w, C::get_schedule, |w, req| {
            let s = w.schedules.iter().find(|s| {
                Some(s.name.as_str()) == req.name() && Some(s.group.as_str()) == req.group_name()
            });
            match s {
                Some(s) => {
                    let target = aws_sdk_scheduler::types::Target::builder()
                        .arn("arn:aws:scheduler:::aws-sdk:x:y")
                        .role_arn(&s.role)
                        .build()
                        .expect("target");
                    MockResponse::Output(
                        op::get_schedule::GetScheduleOutput::builder()
                            .name(&s.name)
                            .group_name(&s.group)
                            .schedule_expression(&s.expression)
                            .target(target)
                            .build(),
                    )
                }
                None => MockResponse::Error(op::get_schedule::GetScheduleError::generic(meta(
                    "ResourceNotFoundException",
                ))),
            }
        }),
        rule!(w, C::get_schedule_group, |w, req| {
            match w
                .schedule_groups
                .iter()
                .find(|(n, _)| Some(n.as_str()) == req.name())
            {
                Some((n, state)) => MockResponse::Output(
                    op::get_schedule_group::GetScheduleGroupOutput::builder()
                        .name(n)
                        .state(aws_sdk_scheduler::types::ScheduleGroupState::from(*state))
                        .build(),
                ),
                None => {
                    MockResponse::Error(op::get_schedule_group::GetScheduleGroupError::generic(
                        meta("ResourceNotFoundException"),
                    ))
                }
            }
        }),
        rule!(w, C::create_schedule_group, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("CreateScheduleGroup", vec![name.clone()]);
            if w.schedule_groups.iter().any(|(n, _)| *n == name) {
                return MockResponse::Error(
                    op::create_schedule_group::CreateScheduleGroupError::generic(meta(
                        "ConflictException",
                    )),
                );
            }
            w.schedule_groups.push((name, "ACTIVE"));
            MockResponse::Output(
                op::create_schedule_group::CreateScheduleGroupOutput::builder()
                    .schedule_group_arn("arn:aws:scheduler:us-east-1:123456789012:schedule-group/x")
                    .build()
                    .expect("output"),
            )
        }),
        rule!(w, C::delete_schedule_group, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("DeleteScheduleGroup", vec![name.clone()]);
            w.schedule_groups.retain(|(n, _)| *n != name);
            w.schedules.retain(|s| s.group != name);
            MockResponse::Output(
                op::delete_schedule_group::DeleteScheduleGroupOutput::builder().build(),
            )
        }),
        rule!(w, C::create_schedule, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("CreateSchedule", vec![name.clone()]);
            if w.schedules.iter().any(|s| s.name == name) {
                return MockResponse::Error(op::create_schedule::CreateScheduleError::generic(
                    meta("ConflictException"),
                ));
            }
            w.schedules.push(Schedule {
                group: req.group_name().unwrap_or_default().into(),
                name,
                expression: req.schedule_expression().unwrap_or_default().into(),
                role: req
                    .target()
                    .map(|t| t.role_arn().to_string())
                    .unwrap_or_default(),
            });
            MockResponse::Output(
                op::create_schedule::CreateScheduleOutput::builder()
                    .schedule_arn("arn:aws:scheduler:us-east-1:123456789012:schedule/x/y")
                    .build()
                    .expect("output"),
            )
        }),
        rule!(w, C::update_schedule, |w, req| {
            let name = req.name().unwrap_or_default().to_string();
            w.send("UpdateSchedule", vec![name.clone()]);
            let Some(s) = w.schedules.iter_mut().find(|s| s.name == name) else {
                return MockResponse::Error(op::update_schedule::UpdateScheduleError::generic(
                    meta("ResourceNotFoundException"),
                ));
            };
            s.expression = req.schedule_expression().unwrap_or_default().into();
            MockResponse::Output(
                op::update_schedule::UpdateScheduleOutput::builder()
                    .schedule_arn("arn:aws:scheduler:us-east-1:123456789012:schedule/x/y")
                    .build()
                    .expect("output"),
            )
        }),
    ]
}

fn iam_tags(tags: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("tag")
        })
        .collect()
}

/// The site's role `name` with `tags`.
fn site_role(name: &str, tags: &Tags) -> aws_sdk_iam::types::Role {
    aws_sdk_iam::types::Role::builder()
        .path("/")
        .role_name(name)
        .role_id("AROS")
        .arn(format!("arn:aws:iam::123456789012:role/{name}"))
        .create_date(aws_smithy_types::DateTime::from_secs(0))
        .set_tags(Some(iam_tags(tags)))
        .build()
        .expect("role")
}

fn iam_rules(w: &Shared) -> Vec<Rule> {
    use aws_sdk_iam::operation as op;
    use aws_sdk_iam::Client as C;
    vec![
        rule!(w, C::get_role_policy, |w, req| {
            let site = req
                .role_name()
                .unwrap_or_default()
                .starts_with("sitedeploy-site-");
            let (policy, role) = match site {
                true => (&w.site.policy, w.site.role),
                false => (&w.role_policy, w.role),
            };
            match (policy, role) {
                (Some(doc), true) => MockResponse::Output(
                    op::get_role_policy::GetRolePolicyOutput::builder()
                        .role_name(req.role_name().unwrap_or_default())
                        .policy_name(req.policy_name().unwrap_or_default())
                        .policy_document(doc)
                        .build()
                        .expect("output"),
                ),
                _ => MockResponse::Error(op::get_role_policy::GetRolePolicyError::generic(meta(
                    "NoSuchEntity",
                ))),
            }
        }),
        rule!(w, C::get_instance_profile, |w, req| {
            let name = req.instance_profile_name().unwrap_or_default().to_string();
            if !w.site.profile {
                return MockResponse::Error(
                    op::get_instance_profile::GetInstanceProfileError::generic(meta(
                        "NoSuchEntity",
                    )),
                );
            }
            let mut p = aws_sdk_iam::types::InstanceProfile::builder()
                .path("/")
                .instance_profile_name(&name)
                .instance_profile_id("AIPA")
                .arn(format!("arn:aws:iam::123456789012:instance-profile/{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .set_tags(Some(iam_tags(&w.site.tags)));
            if w.site.linked {
                p = p.roles(site_role(&name, &w.site.tags));
            } else {
                p = p.set_roles(Some(Vec::new()));
            }
            MockResponse::Output(
                op::get_instance_profile::GetInstanceProfileOutput::builder()
                    .instance_profile(p.build().expect("profile"))
                    .build(),
            )
        }),
        rule!(w, C::create_instance_profile, |w, req| {
            let name = req.instance_profile_name().unwrap_or_default().to_string();
            w.send("CreateInstanceProfile", vec![name.clone()]);
            w.site.profile = true;
            w.site.tags = req
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            let p = aws_sdk_iam::types::InstanceProfile::builder()
                .path("/")
                .instance_profile_name(&name)
                .instance_profile_id("AIPA")
                .arn(format!("arn:aws:iam::123456789012:instance-profile/{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .set_roles(Some(Vec::new()))
                .build()
                .expect("profile");
            MockResponse::Output(
                op::create_instance_profile::CreateInstanceProfileOutput::builder()
                    .instance_profile(p)
                    .build(),
            )
        }),
        rule!(w, C::add_role_to_instance_profile, |w, req| {
            w.send(
                "AddRoleToInstanceProfile",
                vec![req.role_name().unwrap_or_default().into()],
            );
            w.site.linked = true;
            MockResponse::Output(
                op::add_role_to_instance_profile::AddRoleToInstanceProfileOutput::builder().build(),
            )
        }),
        rule!(w, C::remove_role_from_instance_profile, |w, req| {
            w.send(
                "RemoveRoleFromInstanceProfile",
                vec![req.role_name().unwrap_or_default().into()],
            );
            w.site.linked = false;
            MockResponse::Output(
                op::remove_role_from_instance_profile::RemoveRoleFromInstanceProfileOutput::builder()
                    .build(),
            )
        }),
        rule!(w, C::delete_instance_profile, |w, req| {
            w.send(
                "DeleteInstanceProfile",
                vec![req.instance_profile_name().unwrap_or_default().into()],
            );
            w.site.profile = false;
            MockResponse::Output(
                op::delete_instance_profile::DeleteInstanceProfileOutput::builder().build(),
            )
        }),
        rule!(w, C::delete_role_policy, |w, req| {
            w.send(
                "DeleteRolePolicy",
                vec![req.role_name().unwrap_or_default().into()],
            );
            w.site.policy = None;
            MockResponse::Output(op::delete_role_policy::DeleteRolePolicyOutput::builder().build())
        }),
        rule!(w, C::delete_role, |w, req| {
            w.send(
                "DeleteRole",
                vec![req.role_name().unwrap_or_default().into()],
            );
            w.site.role = false;
            MockResponse::Output(op::delete_role::DeleteRoleOutput::builder().build())
        }),
        rule!(w, C::get_role, |w, req| {
            let name = req.role_name().unwrap_or_default().to_string();
            if name.starts_with("sitedeploy-site-") {
                return match w.site.role {
                    true => MockResponse::Output(
                        op::get_role::GetRoleOutput::builder()
                            .role(site_role(&name, &w.site.tags))
                            .build(),
                    ),
                    false => MockResponse::Error(op::get_role::GetRoleError::generic(meta(
                        "NoSuchEntity",
                    ))),
                };
            }
            // The world's one role is the expiry's.
            if !w.role || !name.starts_with("sitedeploy-expiry-") {
                return MockResponse::Error(op::get_role::GetRoleError::generic(meta(
                    "NoSuchEntity",
                )));
            }
            let role = aws_sdk_iam::types::Role::builder()
                .path("/")
                .role_name(&name)
                .role_id("AROA")
                .arn(format!("arn:aws:iam::123456789012:role/{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .expect("role");
            MockResponse::Output(op::get_role::GetRoleOutput::builder().role(role).build())
        }),
        rule!(w, C::create_role, |w, req| {
            let name = req.role_name().unwrap_or_default().to_string();
            w.send("CreateRole", vec![name.clone()]);
            if name.starts_with("sitedeploy-site-") {
                w.site.role = true;
                w.site.tags = req
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                return MockResponse::Output(
                    op::create_role::CreateRoleOutput::builder()
                        .role(site_role(&name, &w.site.tags))
                        .build(),
                );
            }
            if w.role {
                return MockResponse::Error(op::create_role::CreateRoleError::generic(meta(
                    "EntityAlreadyExists",
                )));
            }
            w.role = true;
            let role = aws_sdk_iam::types::Role::builder()
                .path("/")
                .role_name(&name)
                .role_id("AROA")
                .arn(format!("arn:aws:iam::123456789012:role/{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .expect("role");
            MockResponse::Output(
                op::create_role::CreateRoleOutput::builder()
                    .role(role)
                    .build(),
            )
        }),
        rule!(w, C::put_role_policy, |w, req| {
            let name = req.role_name().unwrap_or_default().to_string();
            w.send("PutRolePolicy", vec![name.clone()]);
            if name.starts_with("sitedeploy-site-") {
                w.site.policy = req.policy_document().map(str::to_string);
                return MockResponse::Output(
                    op::put_role_policy::PutRolePolicyOutput::builder().build(),
                );
            }
            if !w.role {
                return MockResponse::Error(op::put_role_policy::PutRolePolicyError::generic(
                    meta("NoSuchEntity"),
                ));
            }
            w.role_policy = req.policy_document().map(str::to_string);
            MockResponse::Output(op::put_role_policy::PutRolePolicyOutput::builder().build())
        }),
    ]
}
