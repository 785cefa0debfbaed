//! One module per AWS resource, each with the same verbs: `find` (by this tool's
//! tags and the derived name), `ensure` (find, create only when missing, bring
//! sub-state into line) and `delete` (absent is success). Shared here: the
//! outcome types and the tag helpers that decide what "ours" means.

pub mod instance;
pub mod keypair;
pub mod loadbalancer;
pub mod network;
pub mod publicip;
pub mod secgroup;
pub mod targetgroup;

use aws_sdk_ec2::types as ec2t;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use serde::Serialize;

use crate::config::{DEPLOYMENT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It was missing and was created.
    Created,
    /// It already existed as wanted.
    Existing,
    /// It existed and was brought into line (rules added, target registered...).
    Updated,
    /// A new one took the place of an old one (an instance after a template change).
    Replaced,
}

impl Outcome {
    /// The word `--plan` uses for the action that leads to this outcome.
    pub fn plan_word(self) -> &'static str {
        match self {
            Outcome::Created => "create",
            Outcome::Existing => "exists",
            Outcome::Updated => "update",
            Outcome::Replaced => "replace",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Existing => "exists",
            Outcome::Updated => "updated",
            Outcome::Replaced => "replaced",
        })
    }
}

/// A resource `ensure` found or made, and what it did.
#[derive(Debug, Clone)]
pub struct Ensured<T> {
    /// The resource.
    pub value: T,
    /// What was done.
    pub outcome: Outcome,
}

impl<T> Ensured<T> {
    /// Wraps a value with its outcome.
    pub fn new(value: T, outcome: Outcome) -> Self {
        Ensured { value, outcome }
    }
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Deleted {
    /// It existed and is gone now.
    Deleted,
    /// There was nothing to delete.
    Absent,
    /// Something with the name exists but lacks this tool's tags: left alone.
    Foreign,
}

/// A resource that has this deployment's name but not this tool's tags. Deploy
/// refuses to use it; cleanup leaves it alone.
#[derive(Debug)]
pub struct Foreign(pub String);

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Foreign {}

/// The error for a same-named resource without this tool's tags.
pub fn foreign(kind: &str, name: &str, plan: &Plan, fix: &str) -> anyhow::Error {
    Foreign(format!(
        "a {kind} named {name} exists but was not created by this tool (it lacks the \
         ManagedBy=sitedeploy and Deployment={} tags); it is left alone. {fix}",
        plan.name
    ))
    .into()
}

/// Whether an error is [`Foreign`].
pub fn is_foreign(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Foreign>().is_some()
}

/// EC2 filters that select this deployment's resources by tag.
pub fn ec2_tag_filters(plan: &Plan) -> Vec<ec2t::Filter> {
    vec![
        ec2_filter(&format!("tag:{MANAGED_BY_KEY}"), MANAGED_BY_VALUE),
        ec2_filter(&format!("tag:{DEPLOYMENT_KEY}"), &plan.name),
    ]
}

/// One EC2 filter with one value.
pub fn ec2_filter(name: &str, value: &str) -> ec2t::Filter {
    ec2t::Filter::builder().name(name).values(value).build()
}

/// A tag specification with the plan's tags (plus extras) for an EC2 create call.
pub fn ec2_tag_spec(
    plan: &Plan,
    resource: ec2t::ResourceType,
    extra: &[(&str, &str)],
) -> ec2t::TagSpecification {
    let tags = plan
        .tag_pairs()
        .chain(extra.iter().copied())
        .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build());
    ec2t::TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.collect()))
        .build()
}

/// Whether EC2 tags mark a resource as this deployment's.
pub fn ec2_is_ours(tags: &[ec2t::Tag], plan: &Plan) -> bool {
    let get = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    get(MANAGED_BY_KEY) == Some(MANAGED_BY_VALUE) && get(DEPLOYMENT_KEY) == Some(plan.name.as_str())
}

/// The plan's tags for an ELBv2 create call.
pub fn elb_tags(plan: &Plan) -> Vec<elbt::Tag> {
    plan.tag_pairs()
        .map(|(k, v)| elbt::Tag::builder().key(k).value(v).build())
        .collect()
}

/// Whether ELBv2 tags mark a resource as this deployment's.
pub fn elb_is_ours(tags: &[elbt::Tag], plan: &Plan) -> bool {
    let get = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    get(MANAGED_BY_KEY) == Some(MANAGED_BY_VALUE) && get(DEPLOYMENT_KEY) == Some(plan.name.as_str())
}

/// Reads the tags of one ELBv2 resource.
pub async fn elb_tags_of(ctx: &crate::aws::Ctx, arn: &str) -> anyhow::Result<Vec<elbt::Tag>> {
    let out = ctx
        .elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(crate::aws::AwsError::from)?;
    Ok(out
        .tag_descriptions()
        .iter()
        .find(|d| d.resource_arn() == Some(arn))
        .map(|d| d.tags().to_vec())
        .unwrap_or_default())
}
