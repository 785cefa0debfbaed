//! Security groups: the load balancer's (listener port from anywhere, extra rules)
//! and the instance's (HTTP only from the load balancer's group, SSH only from the
//! deployer's address). Both are observed in one call, by name; a group is ours
//! by its tags, and a same-named group without them is never used or deleted.
//! The decision adds missing rules, revokes the rules this tool added that
//! deploy.toml no longer asks for (an old port, an old SSH address) and keeps
//! rules added by hand.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::{Deleted, Seen, Verb};
use crate::aws::{
    after_create, is_duplicate, is_not_found, retry_not_yet, unless_not_found, AwsError, Ctx,
};
use crate::plan::{
    Plan, EXTRA_RULE_DESCRIPTION, LB_TO_WEB_DESCRIPTION, LISTENER_RULE_DESCRIPTION,
    SSH_RULE_DESCRIPTION, WEB_PORT,
};
use crate::tags::{ec2_filter, Owner, TagDrift, Tagger, Tags};

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
    /// TCP port from a managed prefix list (CloudFront's origin-facing
    /// addresses).
    PrefixList {
        /// Port.
        port: u16,
        /// The list's id (`pl-…`).
        list_id: String,
        /// Description.
        description: String,
    },
}

/// AWS's managed prefix list of CloudFront's origin-facing addresses (IPv4).
/// Its weight against the group's rules quota is its maximum entries (55 of
/// the 60 inbound rules a group may have), so only one rule uses it.
pub const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// The id of [`CLOUDFRONT_PREFIX_LIST`] in the region (it differs by region).
pub async fn cloudfront_prefix_list(ctx: &Ctx) -> Result<String> {
    let out = ctx
        .ec2
        .describe_managed_prefix_lists()
        .filters(crate::tags::ec2_filter(
            "prefix-list-name",
            CLOUDFRONT_PREFIX_LIST,
        ))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to look up CloudFront's managed prefix list")?;
    let ids: Vec<&str> = out
        .prefix_lists()
        .iter()
        .filter(|p| p.prefix_list_name() == Some(CLOUDFRONT_PREFIX_LIST))
        .filter_map(|p| p.prefix_list_id())
        .collect();
    match ids.as_slice() {
        [id] => Ok(id.to_string()),
        [] => bail!(
            "AWS's managed prefix list {CLOUDFRONT_PREFIX_LIST} is not in {}; [https] needs it              to admit only CloudFront to the load balancer",
            ctx.region
        ),
        _ => bail!("more than one managed prefix list is named {CLOUDFRONT_PREFIX_LIST}"),
    }
}

/// The load balancer group's rules: deploy.toml's, with the listener's rule
/// from CloudFront's prefix list `cloudfront` instead of anywhere when it is
/// given (`[https]`).
pub fn gated_lb_rules(rules: &[Rule], cloudfront: Option<&str>) -> Vec<Rule> {
    rules
        .iter()
        .map(|r| match (r, cloudfront) {
            (
                Rule::Cidr {
                    port, description, ..
                },
                Some(id),
            ) if description == LISTENER_RULE_DESCRIPTION => Rule::PrefixList {
                port: *port,
                list_id: id.to_string(),
                description: description.clone(),
            },
            _ => r.clone(),
        })
        .collect()
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Cidr { port, cidr, .. } => write!(f, "tcp {port} from {cidr}"),
            Rule::Group { port, group_id, .. } => write!(f, "tcp {port} from {group_id}"),
            Rule::PrefixList { port, list_id, .. } => {
                write!(f, "tcp {port} from {list_id} (CloudFront)")
            }
        }
    }
}

impl Rule {
    /// Whether the rule's description marks it as this tool's (a rule a person
    /// added by hand has another description, or none).
    pub fn is_ours(&self) -> bool {
        let d = match self {
            Rule::Cidr { description, .. }
            | Rule::Group { description, .. }
            | Rule::PrefixList { description, .. } => description,
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
            Rule::Cidr { port, .. } | Rule::Group { port, .. } | Rule::PrefixList { port, .. } => {
                *port
            }
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
            Rule::PrefixList {
                list_id,
                description,
                ..
            } => b
                .prefix_list_ids(
                    ec2t::PrefixListId::builder()
                        .prefix_list_id(list_id)
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
        for l in p.prefix_list_ids() {
            out.push(Rule::PrefixList {
                port,
                list_id: l.prefix_list_id().unwrap_or_default().to_string(),
                description: l.description().unwrap_or_default().to_string(),
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
        (
            Rule::PrefixList {
                port: p1,
                list_id: l1,
                ..
            },
            Rule::PrefixList {
                port: p2,
                list_id: l2,
                ..
            },
        ) => p1 == p2 && l1 == l2,
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

    /// The rules to revoke before the new ones are added, and those revoked
    /// after (once the listener has moved, when deferred). A prefix list's
    /// rule weighs its maximum entries against the group's rules quota (55
    /// of 60 for CloudFront's), so an old one makes room for a new one first
    /// (AWS would refuse the second); the rest go last, so the site is never
    /// without a rule.
    pub fn revoke_order(&self) -> (Vec<Rule>, Vec<Rule>) {
        let list = |r: &Rule| matches!(r, Rule::PrefixList { .. });
        let adds_list = self.add.iter().any(list);
        self.revoke
            .iter()
            .cloned()
            .partition(|r| adds_list && list(r))
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

/// What deploy.toml asks of one group (its rules come with the decision:
/// the web group's depend on the load balancer's group and the deployer's
/// address).
#[derive(Debug, Clone)]
pub struct Spec {
    /// Group name.
    pub name: String,
    /// Its description (set at creation).
    pub description: String,
    /// Its tags.
    pub owner: Owner,
}

impl Spec {
    /// The load balancer's group of `plan`.
    pub fn lb(plan: &Plan) -> Spec {
        Spec {
            name: plan.lb_sg_name.clone(),
            description: format!("{} load balancer (sitedeploy)", plan.name),
            owner: plan.owner.clone(),
        }
    }

    /// The web servers' group of `plan`.
    pub fn web(plan: &Plan) -> Spec {
        Spec {
            name: plan.web_sg_name.clone(),
            description: format!("{} web server (sitedeploy)", plan.name),
            owner: plan.owner.clone(),
        }
    }
}

/// The load balancer group's rules, as deploy.toml wants them.
pub fn lb_rules(plan: &Plan) -> Vec<Rule> {
    plan.lb_rules
        .iter()
        .map(|r| Rule::Cidr {
            port: r.port,
            cidr: r.cidr.clone(),
            description: r.description.to_string(),
        })
        .collect()
}

/// Stands for the load balancer group's id while it is being created (known
/// after apply): the web group's rule from it is planned with this id and
/// sent with the real one.
pub const NEW_LB_GROUP: &str = "(the new load balancer group)";

/// The web group's rules: HTTP from the load balancer's group (its id, or
/// [`NEW_LB_GROUP`] when it is yet to be made), SSH from the deployer.
pub fn web_rules(lb_group_id: Option<&str>, ssh_cidr: Option<&str>) -> Vec<Rule> {
    let mut rules = vec![Rule::Group {
        port: WEB_PORT,
        group_id: lb_group_id.unwrap_or(NEW_LB_GROUP).to_string(),
        description: LB_TO_WEB_DESCRIPTION.into(),
    }];
    if let Some(c) = ssh_cidr {
        rules.push(Rule::Cidr {
            port: 22,
            cidr: c.to_string(),
            description: SSH_RULE_DESCRIPTION.into(),
        });
    }
    rules
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
    pub tags: Tags,
}

fn to_state(sg: &ec2t::SecurityGroup) -> GroupState {
    GroupState {
        group: Group {
            id: sg.group_id().unwrap_or_default().to_string(),
            name: sg.group_name().unwrap_or_default().to_string(),
        },
        vpc_id: sg.vpc_id().unwrap_or_default().to_string(),
        rules: existing_rules(sg),
        tags: crate::tags::ec2_pairs(sg.tags()),
    }
}

/// Every group with one of these names, in any VPC, ours or not (one call).
pub async fn observe(ctx: &Ctx, names: &[&str]) -> Result<Vec<GroupState>> {
    let filter = ec2t::Filter::builder()
        .name("group-name")
        .set_values(Some(names.iter().map(|n| n.to_string()).collect()))
        .build();
    let groups = describe(ctx, vec![filter])
        .await
        .with_context(|| format!("failed to look up security groups {}", names.join(", ")))?;
    Ok(groups.iter().map(to_state).collect())
}

/// The group of `spec` among those observed: ours (in any VPC, so a VPC change
/// is seen), or one of that name in `vpc_id` that is not ours, or none.
pub fn classify(spec: &Spec, found: &[GroupState], vpc_id: Option<&str>) -> Seen<GroupState> {
    let named = || found.iter().filter(|g| g.group.name == spec.name);
    if let Some(g) = named().find(|g| spec.owner.owns(&g.tags)) {
        return Seen::Ours(g.clone());
    }
    match named().find(|g| Some(g.vpc_id.as_str()) == vpc_id) {
        Some(_) => Seen::Foreign(spec.owner.foreign(
            "security group",
            &spec.name,
            "Rename the deployment (name in deploy.toml) or delete that group yourself.",
        )),
        None => Seen::Absent,
    }
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

/// What deploy does with a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create it with these rules.
    Create(Vec<Rule>),
    /// It is as wanted.
    Keep,
    /// Its rules (this tool's only) and tags change.
    Update {
        /// Rules to add and revoke (and those added by hand, kept).
        rules: RuleChanges,
        /// Its tags.
        tags: TagDrift,
    },
    /// Deploy stops.
    Stop(String),
}

/// Decides what to do with a group, wanting `rules`, in VPC `vpc_id`.
pub fn decide(spec: &Spec, seen: &Seen<GroupState>, vpc_id: &str, rules: &[Rule]) -> Action {
    match seen {
        Seen::Absent => Action::Create(rules.to_vec()),
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Ours(g) if g.vpc_id != vpc_id => {
            Action::Stop(moved_vpc(&spec.name, &g.vpc_id, vpc_id))
        }
        Seen::Ours(g) => {
            let rules = rule_changes(&g.rules, rules);
            let tags = spec.owner.drift(&g.tags);
            if rules.is_empty() && tags.is_empty() {
                // Rules added by hand are kept; the plan still says so.
                if rules.by_hand.is_empty() {
                    Action::Keep
                } else {
                    Action::Update { rules, tags }
                }
            } else {
                Action::Update { rules, tags }
            }
        }
    }
}

/// Why deploy stops when a resource of the deployment lives in another VPC
/// than deploy.toml asks for.
pub fn moved_vpc(name: &str, was: &str, now: &str) -> String {
    format!(
        "{name} lives in {was}, but deploy.toml now asks for {now}: a deployment cannot move \
         between VPCs. Run cleanup, then deploy again (or set vpc_id back)"
    )
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create(_) => Verb::Create,
            Action::Update { rules, tags } => {
                Verb::keep_or_update(!rules.is_empty() || !tags.is_empty())
            }
            Action::Keep => Verb::Keep,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self) -> String {
        match self {
            Action::Create(rules) => rules
                .iter()
                .map(|r| format!("allow {r}"))
                .collect::<Vec<_>>()
                .join("; "),
            Action::Keep => String::new(),
            Action::Update { rules, tags } => {
                let mut lines = rules.describe();
                lines.extend(tags.describe());
                lines.extend(
                    rules
                        .by_hand
                        .iter()
                        .map(|r| format!("kept (added by hand): {r}")),
                );
                lines.join("; ")
            }
            Action::Stop(why) => why.clone(),
        }
    }
}

impl Rule {
    /// The rule with the placeholder [`NEW_LB_GROUP`] replaced by the group's id.
    fn resolved(&self, lb_group_id: Option<&str>) -> Rule {
        match (self, lb_group_id) {
            (
                Rule::Group {
                    port,
                    group_id,
                    description,
                },
                Some(id),
            ) if group_id == NEW_LB_GROUP => Rule::Group {
                port: *port,
                group_id: id.to_string(),
                description: description.clone(),
            },
            _ => self.clone(),
        }
    }
}

/// Applies the decision in `vpc_id`; `found` is the group observed;
/// `lb_group_id` is the load balancer group's id, known once it exists.
///
/// New rules are added before old ones go, so a changed port or address is
/// never closed in between; with `defer_revoke` the old ones stay for
/// [`revoke_stale`] (the load balancer's group: its old listener port closes
/// only once the new listener exists).
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&GroupState>,
    vpc_id: &str,
    lb_group_id: Option<&str>,
    defer_revoke: bool,
) -> Result<Group> {
    let resolve =
        |rules: &[Rule]| -> Vec<Rule> { rules.iter().map(|r| r.resolved(lb_group_id)).collect() };
    match action {
        Action::Stop(why) => bail!("{why}"),
        Action::Keep => Ok(found.context("no group was observed")?.group.clone()),
        Action::Update { rules, tags } => {
            let g = found.context("no group was observed")?.group.clone();
            tags.apply(ctx, Tagger::Ec2(&g.id)).await?;
            let (first, later) = rules.revoke_order();
            revoke(ctx, &g, &first).await?;
            authorize(ctx, &g, &resolve(&rules.add), false).await?;
            if !defer_revoke {
                revoke(ctx, &g, &later).await?;
            }
            Ok(g)
        }
        Action::Create(rules) => {
            let (g, existing) = create(ctx, spec, vpc_id).await?;
            // A retried create whose first attempt took effect may have rules.
            let add: Vec<Rule> = resolve(rules)
                .into_iter()
                .filter(|w| !existing.iter().any(|e| same_grant(e, w)))
                .collect();
            authorize(ctx, &g, &add, true).await?;
            Ok(g)
        }
    }
}

/// The rules `action` revokes that [`apply`] left with `defer_revoke`.
pub async fn revoke_stale(ctx: &Ctx, g: &Group, action: &Action) -> Result<()> {
    match action {
        Action::Update { rules, .. } => revoke(ctx, g, &rules.revoke_order().1).await,
        _ => Ok(()),
    }
}

async fn revoke(ctx: &Ctx, g: &Group, rules: &[Rule]) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    ctx.ec2
        .revoke_security_group_ingress()
        .group_id(&g.id)
        .set_ip_permissions(Some(rules.iter().map(Rule::to_permission).collect()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| {
            format!(
                "failed to remove rules deploy.toml no longer asks for from {}",
                g.name
            )
        })?;
    Ok(())
}

/// Adds rules; `fresh`: the group was made moments ago and may not be known
/// to this call yet. A rule that exists already (a retried call) is fine.
async fn authorize(ctx: &Ctx, g: &Group, add: &[Rule], fresh: bool) -> Result<()> {
    if add.is_empty() {
        return Ok(());
    }
    let send = |rules: Vec<ec2t::IpPermission>| async move {
        ctx.ec2
            .authorize_security_group_ingress()
            .group_id(&g.id)
            .set_ip_permissions(Some(rules))
            .send()
            .await
            .map_err(AwsError::from)
            .map_err(anyhow::Error::new)
    };
    let all = || add.iter().map(Rule::to_permission).collect::<Vec<_>>();
    let res = after_create(ctx.poll, fresh, "add ingress rules", || send(all())).await;
    let Err(e) = res else { return Ok(()) };
    if !is_duplicate(&e) {
        return Err(e.context(format!("failed to add ingress rules to {}", g.name)));
    }
    // Some rule already exists (a retried call, or a race): add one by one.
    for rule in add {
        if let Err(e) = send(vec![rule.to_permission()]).await {
            if !is_duplicate(&e) {
                return Err(e.context(format!("failed to add ingress rule to {}", g.name)));
            }
        }
    }
    Ok(())
}

/// Creates the group (tagged in the same call); returns it and its rules
/// (none for a new group; a "duplicate" from a retried create is resolved by
/// reading ours back).
async fn create(ctx: &Ctx, spec: &Spec, vpc_id: &str) -> Result<(Group, Vec<Rule>)> {
    let res = ctx
        .ec2
        .create_security_group()
        .group_name(&spec.name)
        .description(&spec.description)
        .vpc_id(vpc_id)
        .tag_specifications(spec.owner.ec2_spec(ec2t::ResourceType::SecurityGroup, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    let group = |id: &str| Group {
        id: id.to_string(),
        name: spec.name.clone(),
    };
    match res {
        Ok(out) => {
            if let Some(id) = out.group_id() {
                return Ok((group(id), Vec::new()));
            }
        }
        Err(e) => {
            let e = anyhow::Error::new(e);
            if !is_duplicate(&e) {
                return Err(e.context(format!("failed to create security group {}", spec.name)));
            }
        }
    }
    let mut filters = spec.owner.ec2_filters();
    filters.push(ec2_filter("group-name", &spec.name));
    filters.push(ec2_filter("vpc-id", vpc_id));
    match describe(ctx, filters).await?.first().map(to_state) {
        Some(g) => Ok((g.group, g.rules)),
        None => bail!(spec.owner.foreign(
            "security group",
            &spec.name,
            "Rename the deployment (name in deploy.toml) or delete that group yourself.",
        )),
    }
}

/// Deletes a group of this deployment (as observed), retrying while AWS says
/// it is still in use, for at most `limit`.
pub async fn delete(
    ctx: &Ctx,
    group: &Group,
    limit: Duration,
    on_retry: impl FnMut(&anyhow::Error, Duration),
) -> Result<Deleted> {
    let Group { id, name } = group;
    let res = retry_not_yet(
        ctx.poll,
        &format!("delete security group {name}"),
        limit,
        |_| false,
        on_retry,
        || async {
            ctx.ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to delete security group {name} ({id})"))
        },
    )
    .await;
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if is_not_found(&e) => Ok(Deleted::Absent),
        Err(e) => Err(e),
    }
}

/// Removes from `group` the rules that reference `source` (the load balancer's
/// group), so the two groups can be deleted in either order.
pub async fn revoke_references(ctx: &Ctx, group: &GroupState, source: &Group) -> Result<()> {
    let refs: Vec<Rule> = group
        .rules
        .iter()
        .filter(|r| matches!(r, Rule::Group { group_id, .. } if *group_id == source.id))
        .cloned()
        .collect();
    if refs.is_empty() {
        return Ok(());
    }
    let res = ctx
        .ec2
        .revoke_security_group_ingress()
        .group_id(&group.group.id)
        .set_ip_permissions(Some(refs.iter().map(Rule::to_permission).collect()))
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || {
        format!(
            "failed to remove rules of {} from {}",
            source.name, group.group.name
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
