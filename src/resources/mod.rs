//! One module per kind of AWS resource, each in the same shape:
//!
//! ```text
//! Spec                      what deploy.toml asks for, derived once from the plan
//! observe(ctx, ..)          what AWS has: Seen<Found> (absent, ours, or foreign)
//! decide(spec, seen, ..)    pure: the kind's Action (create, keep, update, ...)
//! apply(ctx, spec, action)  that action and nothing else; no look-up, no choice
//! delete(ctx, found)        absent is success
//! ```
//!
//! Shared here: what a look-up saw ([`Seen`]), the plan's verbs ([`Verb`]) and
//! what a deletion did ([`Deleted`]); who owns a resource is [`crate::tags`].

pub mod autoscaling;
pub mod bucket;
pub mod distribution;
pub mod domain;
pub mod expiry;
pub mod instance;
pub mod keypair;
pub mod launchtemplate;
pub mod listener;
pub mod loadbalancer;
pub mod network;
pub mod profile;
pub mod publicip;
pub mod role;
pub mod secgroup;
pub mod targetgroup;

use serde::Serialize;

/// What the plan does with a resource, and what deploy then did: one
/// vocabulary for `--plan`, the summary, status and cleanup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// It is missing: create it.
    Create,
    /// It exists as wanted: nothing is sent.
    Keep,
    /// It exists; something changes in place.
    Update,
    /// A new one takes its place.
    Replace,
    /// It goes.
    Delete,
    /// Deploy stops before creating anything.
    Stop,
}

impl Verb {
    /// The word `--plan` prints (and every `--json` gives as `action`).
    pub fn word(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Keep => "keep",
            Verb::Update => "update",
            Verb::Replace => "replace",
            Verb::Delete => "delete",
            Verb::Stop => "stop",
        }
    }

    /// The same word once the action was applied (deploy's summary,
    /// cleanup's report).
    pub fn done(self) -> &'static str {
        match self {
            Verb::Create => "created",
            Verb::Keep => "kept",
            Verb::Update => "updated",
            Verb::Replace => "replaced",
            Verb::Delete => "deleted",
            Verb::Stop => "stopped",
        }
    }

    /// `Keep` without changes, else `Update`.
    pub fn keep_or_update(changed: bool) -> Verb {
        if changed {
            Verb::Update
        } else {
            Verb::Keep
        }
    }
}

/// One look-up's result.
#[derive(Debug, Clone)]
pub enum Seen<T> {
    /// Nothing of that name.
    Absent,
    /// Same name, not this tool's tags: deploy stops, cleanup leaves it.
    Foreign(String),
    /// This deployment's.
    Ours(T),
}

impl<T> Seen<T> {
    /// The resource, when it is this deployment's.
    pub fn ours(&self) -> Option<&T> {
        match self {
            Seen::Ours(t) => Some(t),
            _ => None,
        }
    }

    /// Whether something of that name exists, ours or not.
    pub fn exists(&self) -> bool {
        !matches!(self, Seen::Absent)
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
    /// Shared with other deployments that still use it: kept.
    Kept,
}
