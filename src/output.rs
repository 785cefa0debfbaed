//! What every command prints with `--json`: one object, the same envelope
//! for every command, success or failure, described by
//! `schema/output.schema.json` (the tests validate every output against it).
//!
//! ```text
//! { "format_version": 1, "command": "deploy", "ok": true,
//!   "caller": { "account", "arn", "credentials" },    (once known)
//!   ...the command's own fields... }
//! { "format_version": 1, "command": "deploy", "ok": false,
//!   "error": { "message", "kind", "exit_code", "aws_code" } }
//! ```
//!
//! Machine values only: times are RFC 3339 (UTC), money is a number of US
//! dollars, what happens to a resource is one of [`crate::resources::Verb`]'s
//! words, lists are lists of objects.

use serde::Serialize;

use crate::aws::Identity;
use crate::resources::Verb;
use crate::table::Row;

/// The version of the JSON's shape: bumped when a field changes meaning or
/// goes (a new field keeps it).
pub const FORMAT_VERSION: u32 = 1;

/// Which command printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// `deploy`.
    Deploy,
    /// `deploy --plan`.
    DeployPlan,
    /// `cleanup`.
    Cleanup,
    /// `cleanup --plan`.
    CleanupPlan,
    /// `status`.
    Status,
    /// `status --all-regions`.
    StatusAllRegions,
    /// `logs`.
    Logs,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    format_version: u32,
    command: Command,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller: Option<&'a Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorInfo<'a>>,
    #[serde(flatten)]
    body: &'a T,
}

/// The command's result as its JSON text.
pub fn to_json<T: Serialize>(
    command: Command,
    caller: Option<&Identity>,
    body: &T,
) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Envelope {
        format_version: FORMAT_VERSION,
        command,
        ok: true,
        caller,
        error: None,
        body,
    })
}

/// A result that is also a failure (a cleanup with failed steps, a status
/// with look-ups that failed): the command's fields with `ok: false` and the
/// error (exit code 1), one document.
pub fn to_json_failed<T: Serialize>(
    command: Command,
    caller: Option<&Identity>,
    body: &T,
    message: &str,
) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Envelope {
        format_version: FORMAT_VERSION,
        command,
        ok: false,
        caller,
        error: Some(ErrorInfo {
            message,
            kind: FailureKind::Failed,
            exit_code: 1,
            aws_code: None,
        }),
        body,
    })
}

/// Why a command failed, as its JSON says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// deploy.toml or a flag is wrong (exit code 2).
    Usage,
    /// Ctrl-C or SIGTERM (exit code 130).
    Interrupted,
    /// Anything else (exit code 1).
    Failed,
}

#[derive(Serialize)]
struct ErrorInfo<'a> {
    message: &'a str,
    kind: FailureKind,
    exit_code: u8,
    aws_code: Option<&'a str>,
}

/// The failure's JSON text: the envelope with `ok: false` and the error.
pub fn error_json(
    command: Command,
    message: &str,
    kind: FailureKind,
    exit_code: u8,
    aws_code: Option<&str>,
) -> String {
    serde_json::to_string_pretty(&Envelope {
        format_version: FORMAT_VERSION,
        command,
        ok: false,
        caller: None,
        error: Some(ErrorInfo {
            message,
            kind,
            exit_code,
            aws_code,
        }),
        body: &serde_json::Map::new(),
    })
    .unwrap_or_default()
}

/// One resource and what happens (or happened) to it: every view's row with
/// its action, in the one vocabulary (`--plan`, deploy's summary, cleanup's
/// plan and report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The resource, as every view names it.
    #[serde(flatten)]
    pub row: Row,
    /// What deploy or cleanup does to it (`--plan`), or did (the reports).
    pub action: Verb,
    /// Why the action failed, when it did.
    pub error: Option<String>,
}

impl Entry {
    /// The row with this action.
    pub fn new(row: Row, action: Verb) -> Entry {
        Entry {
            row,
            action,
            error: None,
        }
    }
}

/// An empty string as `null` (an id not known yet).
pub fn empty_as_null<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match v.is_empty() {
        true => s.serialize_none(),
        false => s.serialize_str(v),
    }
}

/// How many rows each action has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Rows to create.
    pub create: usize,
    /// Rows kept as they are.
    pub keep: usize,
    /// Rows changed in place.
    pub update: usize,
    /// Rows a new one takes the place of.
    pub replace: usize,
    /// Rows deleted.
    pub delete: usize,
    /// Rows that stop deploy.
    pub stop: usize,
}

impl Totals {
    /// The totals of `entries`.
    pub fn of(entries: &[Entry]) -> Totals {
        let mut t = Totals::default();
        for e in entries {
            *match e.action {
                Verb::Create => &mut t.create,
                Verb::Keep => &mut t.keep,
                Verb::Update => &mut t.update,
                Verb::Replace => &mut t.replace,
                Verb::Delete => &mut t.delete,
                Verb::Stop => &mut t.stop,
            } += 1;
        }
        t
    }

    /// "2 created, 9 kept" (the summary's and cleanup report's totals line).
    pub fn to_past_line(&self) -> String {
        self.line([
            "created", "updated", "replaced", "deleted", "kept", "stopped",
        ])
    }

    /// "2 to create, 1 to update, 9 kept as they are" (the plan's totals line).
    pub fn to_line(&self) -> String {
        self.line([
            "to create",
            "to update",
            "to replace",
            "to delete",
            "kept as they are",
            "stopping deploy",
        ])
    }

    /// The counts with their words (create, update, replace, delete, keep,
    /// stop), the zero ones left out.
    fn line(&self, words: [&str; 6]) -> String {
        let counts = [
            self.create,
            self.update,
            self.replace,
            self.delete,
            self.keep,
            self.stop,
        ];
        let parts: Vec<String> = counts
            .iter()
            .zip(words)
            .filter(|(n, _)| **n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_has_the_envelope() {
        let v: serde_json::Value = serde_json::from_str(
            &to_json(Command::DeployPlan, None, &serde_json::json!({ "x": 1 })).unwrap(),
        )
        .unwrap();
        assert_eq!(v["format_version"], FORMAT_VERSION);
        assert_eq!(v["command"], "deploy-plan");
        assert_eq!(v["ok"], true);
        assert_eq!(v["x"], 1);
        let e: serde_json::Value = serde_json::from_str(&error_json(
            Command::Cleanup,
            "no",
            FailureKind::Usage,
            2,
            None,
        ))
        .unwrap();
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["kind"], "usage");
        assert_eq!(e["error"]["exit_code"], 2);
    }

    #[test]
    fn totals_count_each_action() {
        let row = |v| Entry::new(Row::new(crate::table::Kind::KeyPair, "k", ""), v);
        let t = Totals::of(&[row(Verb::Create), row(Verb::Create), row(Verb::Keep)]);
        assert_eq!((t.create, t.keep, t.update), (2, 1, 0));
        assert_eq!(t.to_line(), "2 to create, 1 kept as they are");
    }
}
