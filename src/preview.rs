//! `--plan`: what `deploy` or `cleanup` would do, read from the account, with
//! nothing created, changed or deleted. Deploy's plan is observe + decide,
//! the same observation and the same decision deploy then applies
//! ([`crate::table::decide`]); cleanup's is what the observation lists.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::aws::Ctx;
use crate::observe::{observe, Purpose};
use crate::progress::Progress;
use crate::spec::Specs;
use crate::table::{self, Ids, Row};

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
pub async fn deploy(ctx: &Ctx, specs: &Specs, progress: &Progress) -> Result<Vec<Change>> {
    let seen = crate::deploy::look_up(ctx, specs, progress).await?;
    let decision = table::decide(specs, &seen, chrono::Utc::now());
    Ok(decision
        .rows(specs, &seen, &Ids::new())
        .into_iter()
        .map(|p| Change {
            action: p.verb.word(),
            row: p.row,
        })
        .collect())
}

/// What cleanup would delete: every row status shows.
pub async fn cleanup(ctx: &Ctx, specs: &Specs) -> Result<Vec<Change>> {
    let seen = observe(ctx, specs, Purpose::View).await;
    if !seen.errors.is_empty() {
        bail!("could not read everything: {}", seen.errors.join("; "));
    }
    Ok(table::existing(specs, &seen)
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
