//! What the tool's two IAM roles share (the expiry's, the web servers'):
//! made with their tags, given their inline policy once IAM knows them, and
//! their policy compared with the one wanted.

use anyhow::{Context, Result};

use crate::aws::{settling, AwsError, Ctx};

/// CreateRole with `tags`; a role of the name is success (made by another
/// run, or by one that stopped before its policy). Returns whether it was
/// made now.
pub async fn create(
    ctx: &Ctx,
    name: &str,
    description: &str,
    trust: String,
    tags: Vec<aws_sdk_iam::types::Tag>,
) -> Result<bool> {
    let res = ctx
        .iam
        .create_role()
        .role_name(name)
        .description(description)
        .assume_role_policy_document(trust)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(_) => Ok(true),
        Err(e) if e.code.as_deref() == Some("EntityAlreadyExists") => Ok(false),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to create role {name}"))),
    }
}

/// PutRolePolicy, waiting out the `NoSuchEntity` of a role made moments ago.
pub async fn put_policy(ctx: &Ctx, name: &str, policy_name: &str, document: String) -> Result<()> {
    settling(
        "put the role's policy",
        |e| e.code.as_deref() == Some("NoSuchEntity"),
        || async {
            ctx.iam
                .put_role_policy()
                .role_name(name)
                .policy_name(policy_name)
                .policy_document(document.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(AwsError::from)
        },
    )
    .await
    .with_context(|| format!("failed to give role {name} its policy"))
}

/// Whether IAM's policy document (URL-encoded JSON, as GetRolePolicy returns
/// it) says what `wanted` says.
pub fn same_policy(got: &str, wanted: &str) -> bool {
    let decoded = percent_decode(got);
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    parse(&decoded).is_some() && parse(&decoded) == parse(wanted)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
