//! The web servers' instance profile (`[site]`): a role EC2 may assume, whose
//! only permission is to read this deployment's content in the bucket
//! (`s3:GetObject` on `<bucket>/<name>/*`), in an instance profile of the same
//! name, `sitedeploy-site-<region>-<name>`. The boot script fetches the content with it,
//! so a web server Auto Scaling starts days later can too, and the user data
//! carries no credential.
//!
//! ```text
//! observe   GetInstanceProfile (its role and tags), GetRole (tags),
//!           GetRolePolicy (the read permission as wanted?)
//! decide    create | keep | update (a part missing or changed) | delete
//!           (no [site] any more: once its servers are retired) | none
//! apply     CreateRole, PutRolePolicy, CreateInstanceProfile,
//!           AddRoleToInstanceProfile: each only when missing
//! delete    RemoveRoleFromInstanceProfile, DeleteInstanceProfile,
//!           DeleteRolePolicy, DeleteRole
//! ```

use anyhow::Result;

use super::{Deleted, Seen, Verb};
use crate::aws::{settling, unless_gone, AwsError, Ctx};
use crate::plan::Plan;
use crate::resources::role::{self, same_policy};
use crate::tags::Owner;

/// The inline policy's name.
pub const POLICY_NAME: &str = "read-site-content";

/// What deploy.toml asks of the profile.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `[site]` is set.
    pub wanted: bool,
    /// The role's and the instance profile's name.
    pub name: String,
    /// The objects the role may read: `arn:aws:s3:::<bucket>/<name>/*`.
    pub objects: String,
    /// The tags.
    pub owner: Owner,
}

impl Spec {
    /// The profile of `plan` in `region`, reading from `bucket`.
    pub fn new(plan: &Plan, region: &str, bucket: &str, partition: &str) -> Spec {
        Spec {
            wanted: plan.site.is_some(),
            name: name(region, &plan.name),
            objects: format!("arn:{partition}:s3:::{bucket}/{}/*", plan.name),
            owner: plan.owner.clone(),
        }
    }

    /// The role's permission.
    pub fn policy(&self) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "ReadThisDeploymentsContent",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": self.objects,
            }]
        })
        .to_string()
    }
}

/// The role's and the profile's name for deployment `deployment` in
/// `region`: IAM names are the account's, a deployment is a region's (at most
/// 16 + 14 + 1 + 28 = 59 characters: a role name may have 64).
pub fn name(region: &str, deployment: &str) -> String {
    format!("sitedeploy-site-{region}-{deployment}")
}

fn trust_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// What exists of it (ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The role exists.
    pub role: bool,
    /// Its permission is the one wanted.
    pub policy: bool,
    /// The instance profile exists.
    pub profile: bool,
    /// The role is in the profile.
    pub linked: bool,
    /// Another role someone put in the profile (it holds one).
    pub other_role: Option<String>,
    /// The instance profile's ARN.
    pub arn: String,
}

impl Found {
    /// What is missing or differs, in words (empty: complete).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.role {
            out.push("role missing");
        } else if !self.policy {
            out.push("role's permission differs");
        }
        if !self.profile {
            out.push("instance profile missing");
        } else if !self.linked {
            out.push("role not in the instance profile");
        }
        out
    }
}

fn is_no_such_entity(e: &anyhow::Error) -> bool {
    crate::aws::is_code(e, "NoSuchEntity")
}

/// Reads the profile and its role. Without `[site]` (a template deployment,
/// or one known only by name), one this caller may not read is as good as
/// absent: a caller whose policy predates `[site]` never made one.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<Found>> {
    match look(ctx, spec).await {
        Err(e) if !spec.wanted && crate::aws::is_access_denied(&e) => {
            tracing::debug!(error = %format!("{e:#}"), "instance profile not readable: none of ours");
            Ok(Seen::Absent)
        }
        other => other,
    }
}

async fn look(ctx: &Ctx, spec: &Spec) -> Result<Seen<Found>> {
    let name = &spec.name;
    let (profile, role) = tokio::join!(
        async {
            let r = ctx
                .iam
                .get_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .map_err(AwsError::from);
            unless_gone(r, is_no_such_entity, || {
                format!("failed to read instance profile {name}")
            })
        },
        async {
            let r = ctx
                .iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(AwsError::from);
            unless_gone(r, is_no_such_entity, || {
                format!("failed to read role {name}")
            })
        },
    );
    let profile = profile?.and_then(|o| o.instance_profile);
    let role = role?.and_then(|o| o.role);
    if profile.is_none() && role.is_none() {
        return Ok(Seen::Absent);
    }
    let foreign = |what: &str| {
        Seen::Foreign(spec.owner.foreign(
            what,
            name,
            "Delete it or choose another deployment name.",
        ))
    };
    if let Some(p) = &profile {
        if !spec.owner.owns(&crate::tags::iam_pairs(p.tags())) {
            return Ok(foreign("instance profile"));
        }
    }
    if let Some(r) = &role {
        if !spec.owner.owns(&crate::tags::iam_pairs(r.tags())) {
            return Ok(foreign("role"));
        }
    }
    let policy = match role.is_some() {
        true => {
            let r = ctx
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(POLICY_NAME)
                .send()
                .await
                .map_err(AwsError::from);
            unless_gone(r, is_no_such_entity, || {
                format!("failed to read role {name}'s policy")
            })?
            .is_some_and(|p| same_policy(p.policy_document(), &spec.policy()))
        }
        false => false,
    };
    Ok(Seen::Ours(Found {
        role: role.is_some(),
        policy,
        profile: profile.is_some(),
        linked: profile
            .as_ref()
            .is_some_and(|p| p.roles().iter().any(|r| r.role_name() == name)),
        other_role: profile.as_ref().and_then(|p| {
            p.roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .find(|r| r != name)
        }),
        arn: profile.map(|p| p.arn().to_string()).unwrap_or_default(),
    }))
}

/// What deploy does with the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Not wanted, and none exists.
    None,
    /// Make what is missing (all of it, or the parts `missing` names).
    Make {
        /// What is missing or differs (empty: everything).
        missing: Vec<&'static str>,
    },
    /// Complete as wanted.
    Keep,
    /// Not wanted any more: deleted once the web servers that use it are
    /// retired.
    Delete,
    /// Someone else's of the name: deploy stops.
    Stop(String),
}

impl Action {
    /// The verb the plan shows.
    pub fn verb(&self) -> Option<Verb> {
        match self {
            Action::None => None,
            Action::Make { missing } if missing.is_empty() => Some(Verb::Create),
            Action::Make { .. } => Some(Verb::Update),
            Action::Keep => Some(Verb::Keep),
            Action::Delete => Some(Verb::Delete),
            Action::Stop(_) => Some(Verb::Stop),
        }
    }

    /// The row's detail.
    pub fn detail(&self) -> String {
        match self {
            Action::Make { missing } => missing.join(", "),
            Action::Delete => {
                "no [site] any more: deleted once the web servers are replaced".into()
            }
            Action::Stop(why) => why.clone(),
            _ => String::new(),
        }
    }
}

/// Why deploy stops when the profile holds `other` (a profile holds one
/// role), and the command that frees it.
fn taken(name: &str, other: &str) -> String {
    format!(
        "instance profile {name} holds role {other} instead of its own: remove it (aws iam \
         remove-role-from-instance-profile --instance-profile-name {name} --role-name {other}) \
         and deploy again"
    )
}

/// Pure: what deploy does with the profile.
pub fn decide(spec: &Spec, seen: &Seen<Found>) -> Action {
    match (seen, spec.wanted) {
        (Seen::Foreign(why), true) => Action::Stop(why.clone()),
        (Seen::Foreign(_), false) | (Seen::Absent, false) => Action::None,
        (Seen::Absent, true) => Action::Make {
            missing: Vec::new(),
        },
        (Seen::Ours(_), false) => Action::Delete,
        (Seen::Ours(f), true) if f.other_role.is_some() => Action::Stop(taken(
            &spec.name,
            f.other_role.as_deref().unwrap_or_default(),
        )),
        (Seen::Ours(f), true) => match f.missing() {
            m if m.is_empty() => Action::Keep,
            missing => Action::Make { missing },
        },
    }
}

/// Makes what `found` lacks. Returns whether anything was made (EC2 may not
/// know a new profile for some seconds).
pub async fn apply(ctx: &Ctx, spec: &Spec, found: Option<&Found>) -> Result<bool> {
    let name = &spec.name;
    let has = |f: fn(&Found) -> bool| found.is_some_and(f);
    let mut made = false;
    if !has(|f| f.role) {
        made |= role::create(
            ctx,
            name,
            "sitedeploy: lets the site's web servers read its content",
            trust_policy(),
            spec.owner.iam_tags()?,
        )
        .await?;
    }
    if !has(|f| f.policy) {
        role::put_policy(ctx, name, POLICY_NAME, spec.policy()).await?;
    }
    if !has(|f| f.profile) {
        let r = ctx
            .iam
            .create_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(spec.owner.iam_tags()?))
            .send()
            .await
            .map_err(AwsError::from);
        match r {
            Ok(_) => made = true,
            Err(e) if e.code.as_deref() == Some("EntityAlreadyExists") => {}
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to create instance profile {name}")))
            }
        }
    }
    if !has(|f| f.linked) {
        let r = settling(
            "add the role to the instance profile",
            |e| e.code.as_deref() == Some("NoSuchEntity"),
            || async {
                ctx.iam
                    .add_role_to_instance_profile()
                    .instance_profile_name(name)
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(AwsError::from)
            },
        )
        .await;
        match r {
            Ok(()) => made = true,
            // A profile holds one role: another run added ours, or someone
            // put another in it.
            // (since the look-up): read it again.
            Err(e) if e.code.as_deref() == Some("LimitExceeded") => match look(ctx, spec).await? {
                Seen::Ours(f) if f.linked => {}
                Seen::Ours(Found {
                    other_role: Some(other),
                    ..
                }) => anyhow::bail!("{}", taken(name, &other)),
                _ => anyhow::bail!(
                    "instance profile {name} refused role {name} and does not hold it \
                         either: deploy again"
                ),
            },
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("failed to add role {name} to its instance profile")))
            }
        }
    }
    Ok(made)
}

/// Deletes the profile and its role (absent parts are success).
pub async fn delete(ctx: &Ctx, spec: &Spec, seen: &Seen<Found>) -> Result<Deleted> {
    let f = match seen {
        Seen::Absent => return Ok(Deleted::Absent),
        Seen::Foreign(_) => return Ok(Deleted::Foreign),
        Seen::Ours(f) => f,
    };
    let name = &spec.name;
    let gone = |r: Result<(), AwsError>, what: &str| {
        unless_gone(r, is_no_such_entity, || format!("failed to {what} {name}")).map(|_| ())
    };
    if f.linked {
        let r = ctx
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from);
        gone(r, "remove the role from instance profile")?;
    }
    if f.profile {
        let r = ctx
            .iam
            .delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from);
        gone(r, "delete instance profile")?;
    }
    if f.role {
        let r = ctx
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(POLICY_NAME)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from);
        gone(r, "delete the permission of role")?;
        let r = ctx
            .iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(AwsError::from);
        gone(r, "delete role")?;
    }
    Ok(Deleted::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(wanted: bool) -> Spec {
        Spec {
            wanted,
            name: name("eu-west-1", "web"),
            objects: "arn:aws:s3:::sitedeploy-1-us-east-1/web/*".into(),
            owner: Owner::new("web", &Default::default()),
        }
    }

    fn found() -> Found {
        Found {
            role: true,
            policy: true,
            profile: true,
            linked: true,
            other_role: None,
            arn: "arn".into(),
        }
    }

    #[test]
    fn each_missing_part_is_made_and_a_complete_one_kept() {
        assert_eq!(
            decide(&spec(true), &Seen::Absent).verb(),
            Some(Verb::Create)
        );
        assert_eq!(decide(&spec(true), &Seen::Ours(found())), Action::Keep);
        let partial = Found {
            linked: false,
            policy: false,
            ..found()
        };
        assert_eq!(
            decide(&spec(true), &Seen::Ours(partial)),
            Action::Make {
                missing: vec![
                    "role's permission differs",
                    "role not in the instance profile"
                ]
            }
        );
        assert_eq!(decide(&spec(false), &Seen::Ours(found())), Action::Delete);
        let taken = Found {
            linked: false,
            other_role: Some("someone-elses".into()),
            ..found()
        };
        let a = decide(&spec(true), &Seen::Ours(taken));
        assert!(matches!(&a, Action::Stop(why) if why.contains("holds role someone-elses")));
        assert_eq!(decide(&spec(false), &Seen::Absent), Action::None);
        assert!(matches!(
            decide(&spec(true), &Seen::Foreign("x".into())),
            Action::Stop(_)
        ));
    }

    #[test]
    fn the_role_may_read_only_this_deployments_objects() {
        let p: serde_json::Value = serde_json::from_str(&spec(true).policy()).unwrap();
        let st = &p["Statement"][0];
        assert_eq!(st["Action"], "s3:GetObject");
        assert_eq!(st["Resource"], "arn:aws:s3:::sitedeploy-1-us-east-1/web/*");
        assert!(same_policy(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
            r#"{"Statement":[],"Version":"2012-10-17"}"#
        ));
    }
}
