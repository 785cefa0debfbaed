//! One module per AWS resource, each with the same verbs: `find` (by this tool's
//! tags and the derived name), `ensure` (find, create only when missing, bring
//! sub-state into line) and `delete` (absent is success). Shared here: the
//! outcome types and the tag helpers that decide what "ours" means.

pub mod autoscaling;
pub mod expiry;
pub mod instance;
pub mod keypair;
pub mod launchtemplate;
pub mod loadbalancer;
pub mod network;
pub mod publicip;
pub mod secgroup;
pub mod targetgroup;

use aws_sdk_ec2::types as ec2t;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use serde::Serialize;

use crate::aws::{AwsError, Ctx};
use crate::config::{DEPLOYMENT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, USER_TAG_KEYS_KEY};
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
    /// It was removed (the other shape of web servers took over).
    Deleted,
}

impl Outcome {
    /// The word `--plan` uses for the action that leads to this outcome.
    pub fn plan_word(self) -> &'static str {
        match self {
            Outcome::Created => "create",
            Outcome::Existing => "exists",
            Outcome::Updated => "update",
            Outcome::Replaced => "replace",
            Outcome::Deleted => "delete",
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
            Outcome::Deleted => "deleted",
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

/// A resource's tags as `(key, value)` pairs.
pub type Tags = Vec<(String, String)>;

/// EC2 tags as pairs.
pub fn ec2_pairs(tags: &[ec2t::Tag]) -> Tags {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// ELBv2 tags as pairs.
pub fn elb_pairs(tags: &[elbt::Tag]) -> Tags {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// How a resource's tags differ from deploy.toml's: tags to set (missing or
/// with another value) and user tags this tool set earlier that deploy.toml no
/// longer has (known from the [`USER_TAG_KEYS_KEY`] record). `ManagedBy` and
/// `Deployment` are never touched (they are what makes the resource ours), and
/// neither is a tag a person added by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagDrift {
    /// Tags to add or change.
    pub set: Vec<(String, String)>,
    /// Tag keys to remove.
    pub remove: Vec<String>,
}

impl TagDrift {
    /// Whether the tags already follow deploy.toml.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// One line per change, for `--plan` and the summary.
    pub fn describe(&self) -> Vec<String> {
        let set = self
            .set
            .iter()
            .filter(|(k, _)| k != USER_TAG_KEYS_KEY)
            .map(|(k, v)| format!("tag {k}={v}"));
        let remove = self.remove.iter().map(|k| format!("untag {k}"));
        let mut out: Vec<String> = set.chain(remove).collect();
        if out.is_empty() && !self.set.is_empty() {
            out.push(format!("tag {USER_TAG_KEYS_KEY}"));
        }
        out
    }
}

/// The tag changes that bring `current` into line with the plan.
pub fn tag_drift(current: &[(String, String)], plan: &Plan) -> TagDrift {
    let get = |k: &str| current.iter().find(|(ck, _)| ck == k).map(|(_, v)| v);
    let set = plan
        .tags
        .iter()
        .filter(|(k, _)| *k != MANAGED_BY_KEY && *k != DEPLOYMENT_KEY)
        .filter(|(k, v)| get(k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let recorded = get(USER_TAG_KEYS_KEY).map(String::as_str).unwrap_or("");
    let remove = recorded
        .split(' ')
        .filter(|k| !k.is_empty() && !plan.tags.contains_key(*k))
        .filter(|k| !crate::config::RESERVED_TAG_KEYS.contains(k))
        .filter(|k| get(k).is_some())
        .map(str::to_string)
        .collect();
    TagDrift { set, remove }
}

/// Applies a tag drift to one EC2 resource (key pair, group, instance).
pub async fn ec2_retag(ctx: &Ctx, id: &str, drift: &TagDrift) -> anyhow::Result<()> {
    use anyhow::Context;
    if !drift.set.is_empty() {
        ctx.ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(
                drift
                    .set
                    .iter()
                    .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to tag {id}"))?;
    }
    if !drift.remove.is_empty() {
        ctx.ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(
                drift
                    .remove
                    .iter()
                    .map(|k| ec2t::Tag::builder().key(k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to remove tags from {id}"))?;
    }
    Ok(())
}

/// Applies a tag drift to one ELBv2 resource (target group, load balancer, listener).
pub async fn elb_retag(ctx: &Ctx, arn: &str, drift: &TagDrift) -> anyhow::Result<()> {
    use anyhow::Context;
    if !drift.set.is_empty() {
        ctx.elb
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(
                drift
                    .set
                    .iter()
                    .map(|(k, v)| elbt::Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to tag {arn}"))?;
    }
    if !drift.remove.is_empty() {
        ctx.elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(drift.remove.clone()))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to remove tags from {arn}"))?;
    }
    Ok(())
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
