//! Who owns a resource: the tags every resource of a deployment carries
//! ([`Owner`]), how a found resource's tags differ from them ([`TagDrift`]),
//! and the calls that bring them into line, for EC2 and ELB alike.

use std::collections::BTreeMap;

use aws_sdk_ec2::types as ec2t;
use aws_sdk_elasticloadbalancingv2::types as elbt;

use crate::aws::{AwsError, Ctx};
use crate::config::{DEPLOYMENT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, USER_TAG_KEYS_KEY};

/// A resource's tags as `(key, value)` pairs.
pub type Tags = Vec<(String, String)>;

/// The tags every resource of a deployment carries (`ManagedBy`,
/// `Deployment`, deploy.toml's `[tags]` and the record of their keys), and
/// what makes a found resource this deployment's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The deployment's name.
    pub deployment: String,
    /// Every tag, by key.
    pub tags: BTreeMap<String, String>,
}

impl Owner {
    /// The owner of deployment `name` with deploy.toml's `user` tags.
    pub fn new(name: &str, user: &BTreeMap<String, String>) -> Owner {
        let mut tags = user.clone();
        let keys: Vec<&str> = user.keys().map(String::as_str).collect();
        tags.insert(USER_TAG_KEYS_KEY.into(), keys.join(" "));
        tags.insert(MANAGED_BY_KEY.into(), MANAGED_BY_VALUE.into());
        tags.insert(DEPLOYMENT_KEY.into(), name.into());
        Owner {
            deployment: name.to_string(),
            tags,
        }
    }

    /// The tags as `(key, value)` pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The tags a resource created with them carries, as found resources hold
    /// theirs.
    pub fn owned(&self) -> Tags {
        self.pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Whether tags mark a resource as this deployment's.
    pub fn owns(&self, tags: &[(String, String)]) -> bool {
        let get = |k: &str| tags.iter().find(|(tk, _)| tk == k).map(|(_, v)| v.as_str());
        get(MANAGED_BY_KEY) == Some(MANAGED_BY_VALUE)
            && get(DEPLOYMENT_KEY) == Some(self.deployment.as_str())
    }

    /// Why a same-named resource without this tool's tags is left alone.
    pub fn foreign(&self, kind: &str, name: &str, fix: &str) -> String {
        format!(
            "a {kind} named {name} exists but was not created by this tool (it lacks the \
             ManagedBy=sitedeploy and Deployment={} tags); it is left alone. {fix}",
            self.deployment
        )
    }

    /// EC2 filters that select this deployment's resources by tag.
    pub fn ec2_filters(&self) -> Vec<ec2t::Filter> {
        vec![
            ec2_filter(&format!("tag:{MANAGED_BY_KEY}"), MANAGED_BY_VALUE),
            ec2_filter(&format!("tag:{DEPLOYMENT_KEY}"), &self.deployment),
        ]
    }

    /// A tag specification with these tags (plus extras) for an EC2 create call.
    pub fn ec2_spec(
        &self,
        resource: ec2t::ResourceType,
        extra: &[(&str, &str)],
    ) -> ec2t::TagSpecification {
        let tags = self
            .pairs()
            .chain(extra.iter().copied())
            .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build());
        ec2t::TagSpecification::builder()
            .resource_type(resource)
            .set_tags(Some(tags.collect()))
            .build()
    }

    /// These tags for an IAM create call (CreateRole, CreateInstanceProfile).
    pub fn iam_tags(&self) -> anyhow::Result<Vec<aws_sdk_iam::types::Tag>> {
        self.pairs().map(|(k, v)| iam_tag(k, v)).collect()
    }

    /// These tags for an ELBv2 create call.
    pub fn elb_tags(&self) -> Vec<elbt::Tag> {
        self.pairs()
            .map(|(k, v)| elbt::Tag::builder().key(k).value(v).build())
            .collect()
    }

    /// The tag changes that bring `current` into line: tags to set (missing or
    /// with another value) and user tags this tool set earlier that deploy.toml
    /// no longer has (known from the [`USER_TAG_KEYS_KEY`] record).
    /// `ManagedBy` and `Deployment` are never touched (they are what makes the
    /// resource ours), and neither is a tag a person added by hand.
    pub fn drift(&self, current: &[(String, String)]) -> TagDrift {
        let get = |k: &str| current.iter().find(|(ck, _)| ck == k).map(|(_, v)| v);
        let set = self
            .tags
            .iter()
            .filter(|(k, _)| *k != MANAGED_BY_KEY && *k != DEPLOYMENT_KEY)
            .filter(|(k, v)| get(k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let recorded = get(USER_TAG_KEYS_KEY).map(String::as_str).unwrap_or("");
        let remove = recorded
            .split(' ')
            .filter(|k| !k.is_empty() && !self.tags.contains_key(*k))
            .filter(|k| !crate::config::RESERVED_TAG_KEYS.contains(k))
            .filter(|k| get(k).is_some())
            .map(str::to_string)
            .collect();
        TagDrift { set, remove }
    }
}

/// One EC2 filter with one value.
pub fn ec2_filter(name: &str, value: &str) -> ec2t::Filter {
    ec2t::Filter::builder().name(name).values(value).build()
}

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

/// CloudFront tags (absent: none) as pairs.
pub fn cloudfront_pairs(tags: Option<&aws_sdk_cloudfront::types::Tags>) -> Tags {
    tags.map(|t| t.items())
        .unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// One IAM tag.
pub fn iam_tag(key: &str, value: &str) -> anyhow::Result<aws_sdk_iam::types::Tag> {
    use anyhow::Context;
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .context("IAM tag")
}

/// IAM tags as pairs.
pub fn iam_pairs(tags: &[aws_sdk_iam::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// ACM tags as pairs.
pub fn acm_pairs(tags: &[aws_sdk_acm::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// How a resource's tags differ from deploy.toml's ([`Owner::drift`]).
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

/// The tag calls of one service, so a drift is applied the same way to an
/// EC2, ELB or Auto Scaling resource.
pub enum Tagger<'a> {
    /// An EC2 resource (key pair, group, instance, launch template) by id.
    Ec2(&'a str),
    /// An ELBv2 resource (target group, load balancer, listener) by ARN.
    Elb(&'a str),
    /// A CloudFront distribution by ARN.
    CloudFront(&'a str),
}

impl TagDrift {
    /// Sends the calls that apply this drift (none when it is empty).
    pub async fn apply(&self, ctx: &Ctx, to: Tagger<'_>) -> anyhow::Result<()> {
        use anyhow::Context;
        let (set, remove) = (!self.set.is_empty(), !self.remove.is_empty());
        match to {
            Tagger::Ec2(id) => {
                if set {
                    let tags = self
                        .set
                        .iter()
                        .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build());
                    let r = ctx
                        .ec2
                        .create_tags()
                        .resources(id)
                        .set_tags(Some(tags.collect()))
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to tag {id}"))?;
                }
                if remove {
                    let tags = self
                        .remove
                        .iter()
                        .map(|k| ec2t::Tag::builder().key(k).build());
                    let r = ctx
                        .ec2
                        .delete_tags()
                        .resources(id)
                        .set_tags(Some(tags.collect()))
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to remove tags from {id}"))?;
                }
            }
            Tagger::Elb(arn) => {
                if set {
                    let tags = self
                        .set
                        .iter()
                        .map(|(k, v)| elbt::Tag::builder().key(k).value(v).build());
                    let r = ctx
                        .elb
                        .add_tags()
                        .resource_arns(arn)
                        .set_tags(Some(tags.collect()))
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to tag {arn}"))?;
                }
                if remove {
                    let r = ctx
                        .elb
                        .remove_tags()
                        .resource_arns(arn)
                        .set_tag_keys(Some(self.remove.clone()))
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to remove tags from {arn}"))?;
                }
            }
            Tagger::CloudFront(arn) => {
                use aws_sdk_cloudfront::types as cft;
                if set {
                    let tags = self
                        .set
                        .iter()
                        .map(|(k, v)| cft::Tag::builder().key(k).value(v).build())
                        .collect::<Result<Vec<_>, _>>()?;
                    let r = ctx
                        .cloudfront
                        .tag_resource()
                        .resource(arn)
                        .tags(cft::Tags::builder().set_items(Some(tags)).build())
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to tag {arn}"))?;
                }
                if remove {
                    let keys = cft::TagKeys::builder()
                        .set_items(Some(self.remove.clone()))
                        .build();
                    let r = ctx
                        .cloudfront
                        .untag_resource()
                        .resource(arn)
                        .tag_keys(keys)
                        .send()
                        .await;
                    r.map_err(AwsError::from)
                        .with_context(|| format!("failed to remove tags from {arn}"))?;
                }
            }
        }
        Ok(())
    }
}

/// The tags of ELBv2 resources, by ARN, in one DescribeTags call (at most 20
/// ARNs, AWS's limit; the deployment has at most a target group, a load
/// balancer and its listeners).
pub async fn elb_tags_of(ctx: &Ctx, arns: &[String]) -> anyhow::Result<BTreeMap<String, Tags>> {
    use anyhow::Context;
    if arns.is_empty() {
        return Ok(BTreeMap::new());
    }
    let out = ctx
        .elb
        .describe_tags()
        .set_resource_arns(Some(arns.to_vec()))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to read the tags of the load balancer and target group")?;
    Ok(out
        .tag_descriptions()
        .iter()
        .filter_map(|d| Some((d.resource_arn()?.to_string(), elb_pairs(d.tags()))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(user: &[(&str, &str)]) -> Owner {
        let user = user
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Owner::new("t", &user)
    }

    #[test]
    fn ownership_is_the_two_tags() {
        let o = owner(&[("Project", "x")]);
        assert!(o.owns(&o.owned()));
        let other = Owner::new("u", &BTreeMap::new());
        assert!(!o.owns(&other.owned()));
        assert!(!o.owns(&[("Deployment".into(), "t".into())]));
    }

    #[test]
    fn drift_adds_changes_and_removes_only_recorded_user_tags() {
        let before = owner(&[("Project", "x"), ("Old", "1")]);
        let mut current = before.owned();
        current.push(("ByHand".into(), "kept".into()));
        let now = owner(&[("Project", "y")]);
        let d = now.drift(&current);
        assert_eq!(d.remove, ["Old"]);
        assert!(d.set.contains(&("Project".into(), "y".into())));
        assert_eq!(d.describe()[0], "tag Project=y");
        assert!(now.drift(&now.owned()).is_empty());
    }
}
