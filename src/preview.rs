//! `--plan`: what `deploy` or `cleanup` would do, read from the account, with
//! nothing created, changed or deleted. The rows are the resource table's
//! ([`crate::table`]): deploy's plan is [`table::decide`], the function deploy
//! itself acts on, so a plan cannot disagree with the run that follows it.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::Plan;
use crate::resources::{instance, keypair, publicip};
use crate::table::{self, Row};

/// One planned change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The resource, as every view names it (`detail` says what changes).
    #[serde(flatten)]
    pub row: Row,
    /// `create`, `exists`, `update`, `replace`, `stop` (deploy would stop) or `delete`.
    pub action: &'static str,
}

/// What deploy would do.
pub async fn deploy(ctx: &Ctx, plan: &Plan, replace_key_pair: bool) -> Result<Vec<Change>> {
    let (seen, ssh) = tokio::join!(table::observe_for_deploy(ctx, plan), async {
        publicip::ssh_cidr(plan).await.ok()
    });
    if let Some(e) = seen.errors.first() {
        bail!("could not read everything: {e}");
    }
    let image = match seen.serving(plan) {
        (None, _) => Some(instance::find_image(ctx, plan).await?.id),
        _ => None,
    };
    let key = match seen.key.present() {
        Some(k) => keypair::decide(plan, Some(k), replace_key_pair)?,
        None if matches!(seen.key, table::Seen::Foreign(_)) => keypair::KeyAction::Keep,
        None => keypair::decide(plan, None, replace_key_pair)?,
    };
    let wanted = table::Wanted {
        ssh_cidr: ssh,
        key,
        image,
    };
    Ok(table::decide(plan, &seen, &wanted)
        .into_iter()
        .map(|d| Change {
            action: d.action.word(),
            row: d.row,
        })
        .collect())
}

/// What cleanup would delete: every row status shows.
pub async fn cleanup(ctx: &Ctx, plan: &Plan) -> Result<Vec<Change>> {
    let seen = table::observe(ctx, plan).await;
    if !seen.errors.is_empty() {
        bail!("could not read everything: {}", seen.errors.join("; "));
    }
    Ok(seen
        .rows(Some(plan))
        .into_iter()
        .map(|row| Change {
            row,
            action: "delete",
        })
        .collect())
}

/// The rows as a table.
pub fn to_text(rows: &[Change]) -> String {
    if rows.is_empty() {
        return "Nothing to do.\n".to_string();
    }
    let mut s = String::new();
    for r in rows {
        let detail = if r.row.detail.is_empty() {
            r.row.short_id()
        } else {
            r.row.detail.as_str()
        };
        s.push_str(&format!(
            "  {:<8} {:<15} {:<28} {}\n",
            r.action, r.row.kind, r.row.name, detail
        ));
    }
    s
}
