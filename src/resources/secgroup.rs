//! Security groups: the load balancer's (listener port from anywhere, extra rules)
//! and the instance's (HTTP only from the load balancer's group, SSH only from the
//! deployer's address). Found by name, VPC and this tool's tags; a same-named
//! group without the tags is never used or deleted. Re-running adds missing rules,
//! and replaces the SSH rule this tool added when the deployer's address changed.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::{
    ec2_filter, ec2_is_ours, ec2_tag_filters, ec2_tag_spec, foreign, Deleted, Ensured, Outcome,
};
use crate::aws::{
    after_create, is_duplicate, is_not_found, retry_not_yet, unless_not_found, AwsError, Ctx,
};
use crate::plan::{
    Plan, EXTRA_RULE_DESCRIPTION, LB_TO_WEB_DESCRIPTION, LISTENER_RULE_DESCRIPTION,
    SSH_RULE_DESCRIPTION,
};

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
}

/// An ingress rule this tool wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// TCP port from an IPv4 CIDR.
    Cidr {
        /// Port.
        port: u16,
        /// CIDR.
        cidr: String,
        /// Description (marks the rule as this tool's).
        description: String,
    },
    /// TCP port from another security group.
    Group {
        /// Port.
        port: u16,
        /// Source group id.
        group_id: String,
        /// Description.
        description: String,
    },
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Cidr { port, cidr, .. } => write!(f, "tcp {port} from {cidr}"),
            Rule::Group { port, group_id, .. } => write!(f, "tcp {port} from {group_id}"),
        }
    }
}

impl Rule {
    /// Whether the rule's description marks it as this tool's (a rule a person
    /// added by hand has another description, or none).
    pub fn is_ours(&self) -> bool {
        let d = match self {
            Rule::Cidr { description, .. } | Rule::Group { description, .. } => description,
        };
        [
            LISTENER_RULE_DESCRIPTION,
            EXTRA_RULE_DESCRIPTION,
            LB_TO_WEB_DESCRIPTION,
            SSH_RULE_DESCRIPTION,
        ]
        .contains(&d.as_str())
    }

    fn is_ssh(&self) -> bool {
        matches!(self, Rule::Cidr { description, .. } if description == SSH_RULE_DESCRIPTION)
    }

    fn port(&self) -> u16 {
        match self {
            Rule::Cidr { port, .. } | Rule::Group { port, .. } => *port,
        }
    }

    fn to_permission(&self) -> ec2t::IpPermission {
        let b = ec2t::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(i32::from(self.port()))
            .to_port(i32::from(self.port()));
        match self {
            Rule::Cidr {
                cidr, description, ..
            } => b
                .ip_ranges(
                    ec2t::IpRange::builder()
                        .cidr_ip(cidr)
                        .description(description)
                        .build(),
                )
                .build(),
            Rule::Group {
                group_id,
                description,
                ..
            } => b
                .user_id_group_pairs(
                    ec2t::UserIdGroupPair::builder()
                        .group_id(group_id)
                        .description(description)
                        .build(),
                )
                .build(),
        }
    }
}

/// The rules a described group already has, flattened.
fn existing_rules(sg: &ec2t::SecurityGroup) -> Vec<Rule> {
    let mut out = Vec::new();
    for p in sg.ip_permissions() {
        if p.ip_protocol() != Some("tcp") || p.from_port() != p.to_port() {
            continue;
        }
        let Some(port) = p.from_port().and_then(|x| u16::try_from(x).ok()) else {
            continue;
        };
        for r in p.ip_ranges() {
            out.push(Rule::Cidr {
                port,
                cidr: r.cidr_ip().unwrap_or_default().to_string(),
                description: r.description().unwrap_or_default().to_string(),
            });
        }
        for g in p.user_id_group_pairs() {
            out.push(Rule::Group {
                port,
                group_id: g.group_id().unwrap_or_default().to_string(),
                description: g.description().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

/// Same source and port, whatever the description.
fn same_grant(a: &Rule, b: &Rule) -> bool {
    match (a, b) {
        (
            Rule::Cidr {
                port: p1, cidr: c1, ..
            },
            Rule::Cidr {
                port: p2, cidr: c2, ..
            },
        ) => p1 == p2 && c1 == c2,
        (
            Rule::Group {
                port: p1,
                group_id: g1,
                ..
            },
            Rule::Group {
                port: p2,
                group_id: g2,
                ..
            },
        ) => p1 == p2 && g1 == g2,
        _ => false,
    }
}

/// How a group's rules differ from the wanted ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleChanges {
    /// Wanted rules that are missing.
    pub add: Vec<Rule>,
    /// Rules this tool added that are no longer wanted (an old listener port, an
    /// `extra_ingress` entry removed, the SSH rule of an old address). The SSH
    /// rule is revoked only when a new one is wanted, so a failed IP detection
    /// revokes nothing.
    pub revoke: Vec<Rule>,
    /// Rules a person added by hand: left alone, and `--plan` says so.
    pub by_hand: Vec<Rule>,
}

impl RuleChanges {
    /// Whether the group changes.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.revoke.is_empty()
    }

    /// One line per change, for `--plan` and the summary.
    pub fn describe(&self) -> Vec<String> {
        self.add
            .iter()
            .map(|r| format!("allow {r}"))
            .chain(self.revoke.iter().map(|r| format!("revoke {r}")))
            .collect()
    }
}

/// What to change to bring `existing` rules into line with `wanted`.
pub fn rule_changes(existing: &[Rule], wanted: &[Rule]) -> RuleChanges {
    let add: Vec<Rule> = wanted
        .iter()
        .filter(|w| !existing.iter().any(|e| same_grant(e, w)))
        .cloned()
        .collect();
    let wants_ssh = wanted.iter().any(Rule::is_ssh);
    let unwanted = existing
        .iter()
        .filter(|e| !wanted.iter().any(|w| same_grant(e, w)));
    let (revoke, by_hand): (Vec<Rule>, Vec<Rule>) = unwanted
        .filter(|e| !e.is_ssh() || wants_ssh)
        .cloned()
        .partition(Rule::is_ours);
    RuleChanges {
        add,
        revoke,
        by_hand,
    }
}

/// A group as found: its id, VPC, rules and tags.
#[derive(Debug, Clone)]
pub struct GroupState {
    /// The group.
    pub group: Group,
    /// Its VPC.
    pub vpc_id: String,
    /// Its ingress rules (single TCP ports).
    pub rules: Vec<Rule>,
    /// Its tags.
    pub tags: super::Tags,
}

fn to_state(sg: &ec2t::SecurityGroup, name: &str) -> GroupState {
    GroupState {
        group: Group {
            id: sg.group_id().unwrap_or_default().to_string(),
            name: name.to_string(),
        },
        vpc_id: sg.vpc_id().unwrap_or_default().to_string(),
        rules: existing_rules(sg),
        tags: super::ec2_pairs(sg.tags()),
    }
}

/// This deployment's group named `name` (in any VPC), with its rules and tags.
pub async fn observe(ctx: &Ctx, plan: &Plan, name: &str) -> Result<Option<GroupState>> {
    Ok(find_described(ctx, plan, None, name)
        .await?
        .map(|sg| to_state(&sg, name)))
}

async fn describe(ctx: &Ctx, filters: Vec<ec2t::Filter>) -> Result<Vec<ec2t::SecurityGroup>> {
    let out = ctx
        .ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .send()
        .await
        .map_err(AwsError::from)?;
    Ok(out.security_groups().to_vec())
}

/// Finds this deployment's group named `name`, in `vpc_id` when given.
pub async fn find(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: Option<&str>,
    name: &str,
) -> Result<Option<Group>> {
    Ok(find_described(ctx, plan, vpc_id, name)
        .await?
        .map(|sg| Group {
            id: sg.group_id().unwrap_or_default().to_string(),
            name: name.to_string(),
        }))
}

async fn find_described(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: Option<&str>,
    name: &str,
) -> Result<Option<ec2t::SecurityGroup>> {
    let mut filters = ec2_tag_filters(plan);
    filters.push(ec2_filter("group-name", name));
    if let Some(v) = vpc_id {
        filters.push(ec2_filter("vpc-id", v));
    }
    let groups = describe(ctx, filters)
        .await
        .with_context(|| format!("failed to look up security group {name}"))?;
    Ok(groups
        .into_iter()
        .find(|g| g.group_name() == Some(name) && ec2_is_ours(g.tags(), plan)))
}

/// Makes sure the group exists with `rules` (and no rule this tool added that
/// is no longer wanted). `observed`: the group as [`observe`] found it (in any
/// VPC), when it was looked up already; `None` looks it up here.
pub async fn ensure(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: &str,
    name: &str,
    description: &str,
    rules: &[Rule],
    observed: Option<Option<GroupState>>,
) -> Result<Ensured<Group>> {
    let found = match observed {
        Some(seen) => seen.filter(|g| g.vpc_id == vpc_id),
        None => find_described(ctx, plan, Some(vpc_id), name)
            .await?
            .map(|sg| to_state(&sg, name)),
    };
    let (id, existing, mut outcome) = match found {
        Some(g) => {
            let drift = super::tag_drift(&g.tags, plan);
            let id = g.group.id;
            super::ec2_retag(ctx, &id, &drift).await?;
            let outcome = if drift.is_empty() {
                Outcome::Existing
            } else {
                Outcome::Updated
            };
            (id, g.rules, outcome)
        }
        None => {
            let (id, existing) = create(ctx, plan, vpc_id, name, description).await?;
            (id, existing, Outcome::Created)
        }
    };
    let RuleChanges { add, revoke, .. } = rule_changes(&existing, rules);
    if !revoke.is_empty() {
        ctx.ec2
            .revoke_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(revoke.iter().map(Rule::to_permission).collect()))
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| {
                format!("failed to remove rules deploy.toml no longer asks for from {name}")
            })?;
    }
    if !add.is_empty() {
        // A group created moments ago may not be known to this call yet.
        let fresh = outcome == Outcome::Created;
        let res = after_create(ctx.poll, fresh, "add ingress rules", || async {
            ctx.ec2
                .authorize_security_group_ingress()
                .group_id(&id)
                .set_ip_permissions(Some(add.iter().map(Rule::to_permission).collect()))
                .send()
                .await
                .map_err(AwsError::from)
                .map_err(anyhow::Error::new)
        })
        .await;
        if let Err(e) = res {
            if !is_duplicate(&e) {
                return Err(e.context(format!("failed to add ingress rules to {name}")));
            }
            // Some rule already exists (a retried call, or a race): add one by one.
            for rule in &add {
                let r = ctx
                    .ec2
                    .authorize_security_group_ingress()
                    .group_id(&id)
                    .ip_permissions(rule.to_permission())
                    .send()
                    .await
                    .map_err(AwsError::from);
                if let Err(e) = r {
                    let e = anyhow::Error::new(e);
                    if !is_duplicate(&e) {
                        return Err(e.context(format!("failed to add ingress rule to {name}")));
                    }
                }
            }
        }
    }
    if outcome == Outcome::Existing && (!add.is_empty() || !revoke.is_empty()) {
        outcome = Outcome::Updated;
    }
    Ok(Ensured::new(
        Group {
            id,
            name: name.to_string(),
        },
        outcome,
    ))
}

/// Creates the group (tagged in the same call); returns its id and rules (none
/// for a new group; a "duplicate" from a retried create is resolved by reading
/// the group back).
async fn create(
    ctx: &Ctx,
    plan: &Plan,
    vpc_id: &str,
    name: &str,
    description: &str,
) -> Result<(String, Vec<Rule>)> {
    let res = ctx
        .ec2
        .create_security_group()
        .group_name(name)
        .description(description)
        .vpc_id(vpc_id)
        .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::SecurityGroup, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => {
            if let Some(id) = out.group_id() {
                return Ok((id.to_string(), Vec::new()));
            }
        }
        Err(e) => {
            let e = anyhow::Error::new(e);
            if !is_duplicate(&e) {
                return Err(e.context(format!("failed to create security group {name}")));
            }
        }
    }
    match find_described(ctx, plan, Some(vpc_id), name).await? {
        Some(sg) => Ok((
            sg.group_id().unwrap_or_default().to_string(),
            existing_rules(&sg),
        )),
        None => Err(foreign(
            "security group",
            name,
            plan,
            "Rename the deployment (name in deploy.toml) or delete that group yourself.",
        )),
    }
}

/// Deletes this deployment's group named `name` (in any VPC), retrying while AWS
/// says it is still in use, for at most `limit`.
pub async fn delete(
    ctx: &Ctx,
    plan: &Plan,
    name: &str,
    limit: Duration,
    on_retry: impl FnMut(&anyhow::Error, Duration),
) -> Result<Deleted> {
    let Some(sg) = find_described(ctx, plan, None, name).await? else {
        return Ok(Deleted::Absent);
    };
    let id = sg.group_id().unwrap_or_default().to_string();
    let res = retry_not_yet(
        ctx.poll,
        &format!("delete security group {name}"),
        limit,
        |_| false,
        on_retry,
        || async {
            ctx.ec2
                .delete_security_group()
                .group_id(&id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to delete security group {name} ({id})"))
        },
    )
    .await;
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if is_not_found(&e) => Ok(Deleted::Deleted),
        Err(e) => Err(e),
    }
}

/// Removes from `group` the rules that reference `source` (the load balancer's
/// group), so the two groups can be deleted in either order.
pub async fn revoke_references(ctx: &Ctx, group: &Group, source: &Group) -> Result<()> {
    let sgs = describe(ctx, vec![ec2_filter("group-id", &group.id)]).await?;
    let Some(sg) = sgs.first() else {
        return Ok(());
    };
    let refs: Vec<ec2t::IpPermission> = existing_rules(sg)
        .into_iter()
        .filter(|r| matches!(r, Rule::Group { group_id, .. } if *group_id == source.id))
        .map(|r| r.to_permission())
        .collect();
    if refs.is_empty() {
        return Ok(());
    }
    let res = ctx
        .ec2
        .revoke_security_group_ingress()
        .group_id(&group.id)
        .set_ip_permissions(Some(refs))
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || {
        format!(
            "failed to remove rules of {} from {}",
            source.name, group.name
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(cidr: &str) -> Rule {
        Rule::Cidr {
            port: 22,
            cidr: cidr.into(),
            description: SSH_RULE_DESCRIPTION.into(),
        }
    }

    #[test]
    fn adds_missing_and_replaces_changed_ssh_rule() {
        let http = Rule::Group {
            port: 80,
            group_id: "sg-1".into(),
            description: "x".into(),
        };
        let existing = vec![ssh("198.51.100.1/32"), http.clone()];
        let c = rule_changes(&existing, &[ssh("203.0.113.7/32"), http.clone()]);
        assert_eq!(c.add, vec![ssh("203.0.113.7/32")]);
        assert_eq!(c.revoke, vec![ssh("198.51.100.1/32")]);

        let c = rule_changes(&existing, &[ssh("198.51.100.1/32"), http.clone()]);
        assert!(c.is_empty());
    }

    #[test]
    fn no_detected_ip_revokes_nothing_and_foreign_rules_stay() {
        let foreign = Rule::Cidr {
            port: 22,
            cidr: "192.0.2.0/24".into(),
            description: "added by hand".into(),
        };
        let existing = vec![ssh("198.51.100.1/32"), foreign.clone()];
        let c = rule_changes(&existing, &[]);
        assert!(c.is_empty());
        assert_eq!(c.by_hand, vec![foreign.clone()]);
        let c = rule_changes(&existing, &[ssh("203.0.113.7/32")]);
        assert_eq!(c.revoke, vec![ssh("198.51.100.1/32")]);
        assert_eq!(c.by_hand, vec![foreign]);
    }

    fn open(port: u16, cidr: &str, description: &str) -> Rule {
        Rule::Cidr {
            port,
            cidr: cidr.into(),
            description: description.into(),
        }
    }

    #[test]
    fn an_old_listener_port_and_a_removed_extra_rule_are_revoked() {
        let old = open(80, "0.0.0.0/0", LISTENER_RULE_DESCRIPTION);
        let extra = open(8443, "10.0.0.0/8", EXTRA_RULE_DESCRIPTION);
        let new = open(8080, "0.0.0.0/0", LISTENER_RULE_DESCRIPTION);
        let c = rule_changes(&[old.clone(), extra.clone()], std::slice::from_ref(&new));
        assert_eq!(c.add, vec![new.clone()]);
        assert_eq!(c.revoke, vec![old, extra]);
        assert_eq!(
            c.describe(),
            [
                "allow tcp 8080 from 0.0.0.0/0",
                "revoke tcp 80 from 0.0.0.0/0",
                "revoke tcp 8443 from 10.0.0.0/8"
            ]
        );
        // A rule with the wanted grant but another description is not revoked.
        let same = open(8080, "0.0.0.0/0", "typed in the console");
        assert!(rule_changes(&[same], &[new]).is_empty());
    }
}
