//! Where a folder's content lives (`[site]`): one private S3 bucket per
//! account and region, `sitedeploy-<account>-<region>`, that this tool owns
//! (tagged `ManagedBy=sitedeploy`), shared by the region's deployments. A
//! deployment's live content is `<name>/<hash>.tar.gz` with its manifest
//! `<name>/<hash>.json`; earlier content is moved to `_retired/<name>/` once
//! no web server reads it, where the bucket's lifecycle rule deletes it a day
//! later.
//!
//! The bucket is made private and kept so: Object Ownership "bucket owner
//! enforced" (no ACLs), Block Public Access on (all four settings), default
//! encryption SSE-S3, and the lifecycle rules (retired content, unfinished
//! uploads). Every call but CreateBucket (which has no such parameter) names
//! the expected owner (`ExpectedBucketOwner`), so a bucket of that name in
//! another account is never written to or read.
//!
//! ```text
//! observe   HeadBucket (404: absent; 403: another account's), GetBucketTagging,
//!           ListObjectsV2 <name>/ and _retired/<name>/; with [site] also
//!           GetPublicAccessBlock, GetBucketLifecycleConfiguration and the
//!           previous content's manifest (GetObject) when the content changed
//! decide    create | keep | update (upload, Block Public Access or the
//!           lifecycle put back, earlier content retired) | delete (no [site]
//!           any more: the content retired) | none
//! apply     CreateBucket, PutBucketTagging, PutPublicAccessBlock,
//!           PutBucketEncryption, PutBucketLifecycleConfiguration; PutObject
//! retire    (after the rollout) CopyObject to _retired/, DeleteObjects
//! delete    DeleteObjects of the deployment's objects, then DeleteBucket when
//!           nothing else is in it
//! ```

use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_s3::types as s3t;

use super::{Deleted, Seen, Verb};
use crate::aws::{after_create, is_access_denied, retry_not_yet, AwsError, Ctx, VISIBILITY_LIMIT};
use crate::config::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;
use crate::sitedir::{Changes, Manifest, Packed};

/// Where earlier content waits for the lifecycle rule: no deployment name
/// (letters, digits, hyphens) can take it.
pub const RETIRED_PREFIX: &str = "_retired/";

/// The lifecycle rule that deletes retired content.
const EXPIRE_RULE: &str = "expire-retired-content";
/// The lifecycle rule that aborts unfinished uploads.
const ABORT_RULE: &str = "abort-unfinished-uploads";

/// The bucket of `account` in `region`.
pub fn name(account: &str, region: &str) -> String {
    format!("sitedeploy-{account}-{region}")
}

/// What deploy.toml asks of the bucket and the content.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The bucket's name.
    pub bucket: String,
    /// The account that must own it.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The deployment's prefix, `<name>/`.
    pub prefix: String,
    /// `[site]`: the content and its key.
    pub content: Option<(String, Arc<Packed>)>,
}

impl Spec {
    /// The bucket of `plan` in `account` and `region`.
    pub fn new(plan: &Plan, account: &str, region: &str) -> Spec {
        Spec {
            bucket: name(account, region),
            account: account.to_string(),
            region: region.to_string(),
            prefix: format!("{}/", plan.name),
            content: plan
                .site
                .as_ref()
                .map(|s| (s.key.clone(), s.packed.clone())),
        }
    }

    /// The content's key.
    pub fn key(&self) -> Option<&str> {
        self.content.as_ref().map(|(k, _)| k.as_str())
    }

    /// Whether `key` is the current content or its manifest.
    pub fn current(&self, key: &str) -> bool {
        self.key()
            .is_some_and(|k| key == k || key == manifest_key(k))
    }

    /// Where the deployment's retired content goes.
    fn retired_prefix(&self) -> String {
        format!("{RETIRED_PREFIX}{}", self.prefix)
    }

    /// What the expiry leaves of a folder's deployment, in words (`None`
    /// without `[site]`).
    pub fn left_after_expiry(&self, profile: &str) -> Option<String> {
        let (key, p) = self.content.as_ref()?;
        Some(format!(
            "the site's content s3://{}/{key} ({}; S3 bills $0.023 per GB-month: under a cent) \
             and the instance profile {profile} (free); `cleanup` removes them",
            self.bucket,
            size(p.archive.len() as u64)
        ))
    }
}

/// The bucket as found (ours).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Block Public Access is fully on (read with `[site]` only).
    pub private: bool,
    /// The lifecycle rules are there (read with `[site]` only).
    pub lifecycle: bool,
    /// The deployment's live objects (under its prefix), oldest first.
    pub keys: Vec<String>,
    /// Its retired objects (under `_retired/<name>/`).
    pub retired: Vec<String>,
    /// The files of the newest earlier content (its manifest), for `--plan`.
    pub previous: Option<Manifest>,
}

/// The objects of a page: key and when it was written.
fn listed(out: &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output) -> Vec<(String, i64)> {
    out.contents()
        .iter()
        .filter_map(|o| {
            Some((
                o.key()?.to_string(),
                o.last_modified().map_or(0, |t| t.secs()),
            ))
        })
        .collect()
}

/// The manifest's key beside a content key.
fn manifest_key(key: &str) -> String {
    format!("{}.json", key.trim_end_matches(".tar.gz"))
}

/// The keys under `prefix` (all pages), oldest first.
async fn keys(ctx: &Ctx, spec: &Spec, prefix: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .s3
            .list_objects_v2()
            .bucket(&spec.bucket)
            .expected_bucket_owner(&spec.account)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to list bucket {}", spec.bucket))?;
        out.extend(listed(&page));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => {
                out.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
                return Ok(out.into_iter().map(|(k, _)| k).collect());
            }
        }
    }
}

/// Reads the bucket: whether it exists and whose it is, the deployment's
/// objects, and (with `[site]`) whether it is still private and has its
/// lifecycle rules. Without `[site]` (a template deployment, or one known
/// only by name) a bucket this caller may not read is as good as absent:
/// nothing of this deployment can be in it for this tool to remove.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<Found>> {
    let site = spec.content.is_some();
    match look(ctx, spec).await {
        Err(e) if !site && is_access_denied(&e) => {
            tracing::debug!(error = %format!("{e:#}"), "content bucket not readable: none of ours");
            Ok(Seen::Absent)
        }
        Ok(Seen::Foreign(_)) if !site => Ok(Seen::Absent),
        other => other,
    }
}

async fn look(ctx: &Ctx, spec: &Spec) -> Result<Seen<Found>> {
    let b = &spec.bucket;
    let head = ctx
        .s3
        .head_bucket()
        .bucket(b)
        .expected_bucket_owner(&spec.account)
        .send()
        .await;
    if let Err(e) = head {
        let status = e.raw_response().map(|r| r.status().as_u16());
        return match status {
            Some(404) => Ok(Seen::Absent),
            // Another account's (S3 bucket names are global), or one this
            // caller may not read; 301: one in another region.
            Some(403) | Some(301) => Ok(Seen::Foreign(format!(
                "an S3 bucket named {b} exists but is not this account's ({}) in {}, or this \
                 caller may not read it; this tool keeps a folder's content there and leaves \
                 that one alone",
                spec.account, spec.region
            ))),
            _ => Err(anyhow::Error::new(AwsError::from(e))
                .context(format!("failed to look up bucket {b}"))),
        };
    }
    let tags = ctx
        .s3
        .get_bucket_tagging()
        .bucket(b)
        .expected_bucket_owner(&spec.account)
        .send()
        .await
        .map_err(AwsError::from);
    let ours = match tags {
        Ok(t) => t
            .tag_set()
            .iter()
            .any(|t| t.key() == MANAGED_BY_KEY && t.value() == MANAGED_BY_VALUE),
        Err(e) if e.code.as_deref() == Some("NoSuchTagSet") => false,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("failed to read bucket {b}'s tags")))
        }
    };
    if !ours {
        return Ok(Seen::Foreign(format!(
            "an S3 bucket named {b} exists in this account but lacks the \
             {MANAGED_BY_KEY}={MANAGED_BY_VALUE} tag this tool puts on it first; it is left \
             alone. If a deploy stopped right after creating it, tag it \
             {MANAGED_BY_KEY}={MANAGED_BY_VALUE} and deploy again; else delete it or choose \
             another region"
        )));
    }
    let retired_prefix = spec.retired_prefix();
    let (keys, retired, settings) = tokio::join!(
        keys(ctx, spec, &spec.prefix),
        keys(ctx, spec, &retired_prefix),
        async {
            match spec.content.is_some() {
                true => settings_of(ctx, spec).await,
                false => Ok((true, true)),
            }
        }
    );
    let (keys, (private, lifecycle)) = (keys?, settings?);
    let previous = match spec.key() {
        Some(key) if !keys.iter().any(|k| k == key) => {
            let newest = keys
                .iter()
                .rev()
                .find(|k| k.ends_with(".json") && **k != manifest_key(key));
            match newest {
                Some(k) => read_manifest(ctx, spec, k).await,
                None => None,
            }
        }
        _ => None,
    };
    Ok(Seen::Ours(Found {
        private,
        lifecycle,
        keys,
        retired: retired?,
        previous,
    }))
}

/// Whether Block Public Access is fully on, and the lifecycle rules there.
async fn settings_of(ctx: &Ctx, spec: &Spec) -> Result<(bool, bool)> {
    let b = &spec.bucket;
    let (bpa, lc) = tokio::join!(
        ctx.s3
            .get_public_access_block()
            .bucket(b)
            .expected_bucket_owner(&spec.account)
            .send(),
        ctx.s3
            .get_bucket_lifecycle_configuration()
            .bucket(b)
            .expected_bucket_owner(&spec.account)
            .send(),
    );
    let private = match bpa.map_err(AwsError::from) {
        Ok(o) => o.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if e.code.as_deref() == Some("NoSuchPublicAccessBlockConfiguration") => false,
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("failed to read bucket {b}'s Block Public Access")))
        }
    };
    let lifecycle = match lc.map_err(AwsError::from) {
        Ok(o) => [EXPIRE_RULE, ABORT_RULE].iter().all(|id| {
            o.rules()
                .iter()
                .any(|r| r.id() == Some(*id) && r.status() == &s3t::ExpirationStatus::Enabled)
        }),
        Err(e) if e.code.as_deref() == Some("NoSuchLifecycleConfiguration") => false,
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("failed to read bucket {b}'s lifecycle rules")))
        }
    };
    Ok((private, lifecycle))
}

/// An earlier content's manifest (`None` when it cannot be read: `--plan`
/// then says the content changed without naming the files).
async fn read_manifest(ctx: &Ctx, spec: &Spec, key: &str) -> Option<Manifest> {
    let out = ctx
        .s3
        .get_object()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .key(key)
        .send()
        .await
        .map_err(|e| tracing::debug!(error = %AwsError::from(e), "manifest {key} not read"))
        .ok()?;
    let body = out.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&body).ok()
}

/// What deploy does with the bucket and the deployment's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do or show.
    None,
    /// Another's of the name: deploy stops.
    Stop(String),
    /// The work below (all of it false and empty: kept).
    Apply(Work),
}

/// What deploy does to the bucket: made or put right, the content uploaded,
/// and (after the rollout) earlier content retired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    /// Make the bucket.
    pub create: bool,
    /// Put Block Public Access back on.
    pub private: bool,
    /// Put the lifecycle rules back.
    pub lifecycle: bool,
    /// Upload the content (not there yet).
    pub upload: bool,
    /// What the upload changes, from the previous content's manifest
    /// ("1 changed (index.html)"); empty when unknown.
    pub changes: String,
    /// Live objects no web server will read once the new ones are proven:
    /// moved to `_retired/` then (all of them when `[site]` is gone).
    pub retire: Vec<String>,
    /// `[site]` is gone: the deployment's content goes.
    pub gone: bool,
}

impl Action {
    /// The verb the plan shows.
    pub fn verb(&self) -> Option<Verb> {
        match self {
            Action::None => None,
            Action::Stop(_) => Some(Verb::Stop),
            Action::Apply(w) if w.create => Some(Verb::Create),
            Action::Apply(w) => Some(Verb::keep_or_update(
                w.private || w.lifecycle || w.upload || !w.retire.is_empty(),
            )),
        }
    }

    /// The work, when there is some.
    pub fn work(&self) -> Option<&Work> {
        match self {
            Action::Apply(w) => Some(w),
            _ => None,
        }
    }

    /// The row's detail.
    pub fn detail(&self, spec: &Spec) -> String {
        let w = match self {
            Action::Stop(why) => return why.clone(),
            Action::None => return String::new(),
            Action::Apply(w) => w,
        };
        let mut parts = Vec::new();
        if w.private && !w.create {
            parts.push("Block Public Access was off: turned on".to_string());
        }
        if w.lifecycle && !w.create {
            parts.push("its lifecycle rules put back".to_string());
        }
        match (&spec.content, w.upload) {
            (Some((key, p)), true) => {
                parts.push(format!("upload {key} ({})", size(p.archive.len() as u64)))
            }
            (Some((key, _)), false) => parts.push(format!("{key} there")),
            (None, _) => {}
        }
        if !w.changes.is_empty() {
            parts.push(w.changes.clone());
        }
        if w.gone {
            parts.push(format!(
                "no [site] any more: its {} object(s) retired once the template's web servers \
                 serve",
                w.retire.len()
            ));
        }
        if !w.retire.is_empty() && spec.content.is_some() {
            parts.push(format!(
                "{} earlier object(s) moved to {} once the new web servers serve (deleted a \
                 day later)",
                w.retire.len(),
                spec.retired_prefix()
            ));
        }
        parts.join("; ")
    }
}

/// A size as people read it.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Pure: what deploy does.
pub fn decide(spec: &Spec, seen: &Seen<Found>) -> Action {
    let Some((key, packed)) = &spec.content else {
        // No [site]: the deployment's live content (from an earlier [site])
        // is retired once the template's servers serve.
        return match seen.ours() {
            Some(f) if !f.keys.is_empty() => Action::Apply(Work {
                retire: f.keys.clone(),
                gone: true,
                ..Work::default()
            }),
            _ => Action::None,
        };
    };
    match seen {
        Seen::Absent => Action::Apply(Work {
            create: true,
            private: true,
            lifecycle: true,
            upload: true,
            ..Work::default()
        }),
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Ours(f) => {
            let upload = !f.keys.iter().any(|k| k == key);
            let changes = match &f.previous {
                Some(old) if upload => Changes::between(old, &packed.manifest).describe(),
                _ => String::new(),
            };
            Action::Apply(Work {
                create: false,
                private: !f.private,
                lifecycle: !f.lifecycle,
                upload,
                changes,
                retire: f
                    .keys
                    .iter()
                    .filter(|k| !spec.current(k))
                    .cloned()
                    .collect(),
                gone: false,
            })
        }
    }
}

fn tag(k: &str, v: &str) -> Result<s3t::Tag> {
    s3t::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .context("S3 tag")
}

/// Applies the work that comes before the web servers: the bucket made (its
/// tags first: a bucket without them is not this tool's) or put right, the
/// content uploaded. Retiring comes after the rollout ([`retire`]).
pub async fn apply(ctx: &Ctx, spec: &Spec, action: &Action) -> Result<()> {
    let Some(w) = action.work() else {
        return Ok(());
    };
    let b = &spec.bucket;
    if w.create {
        create(ctx, spec).await?;
    }
    let fresh = w.create;
    if w.private {
        after_create(ctx.poll, fresh, "block public access", || {
            put_private(ctx, spec)
        })
        .await
        .with_context(|| format!("failed to block public access to bucket {b}"))?;
    }
    if w.create {
        after_create(ctx.poll, fresh, "set encryption", || {
            put_encryption(ctx, spec)
        })
        .await
        .with_context(|| format!("failed to set bucket {b}'s encryption"))?;
    }
    if w.lifecycle {
        after_create(ctx.poll, fresh, "set lifecycle", || {
            put_lifecycle(ctx, spec)
        })
        .await
        .with_context(|| format!("failed to set bucket {b}'s lifecycle rules"))?;
    }
    if w.upload {
        upload(ctx, spec).await?;
    }
    Ok(())
}

/// CreateBucket, then its tags at once (what makes it this tool's).
async fn create(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let b = &spec.bucket;
    let mut req = ctx
        .s3
        .create_bucket()
        .bucket(b)
        .object_ownership(s3t::ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is the default location: AWS refuses it named.
    if spec.region != "us-east-1" {
        req = req.create_bucket_configuration(
            s3t::CreateBucketConfiguration::builder()
                .location_constraint(s3t::BucketLocationConstraint::from(spec.region.as_str()))
                .build(),
        );
    }
    // A bucket of the name deleted moments ago (cleanup, then deploy) is
    // refused with OperationAborted for a while: retried.
    let sent = retry_not_yet(
        ctx.poll,
        "create the bucket",
        VISIBILITY_LIMIT,
        |e| crate::aws::is_code(e, "OperationAborted"),
        |e, _| tracing::debug!(error = %e, "the bucket's name is not free yet"),
        || {
            let req = req.clone();
            async move {
                req.send()
                    .await
                    .map(|_| ())
                    .map_err(|e| anyhow::Error::new(AwsError::from(e)))
            }
        },
    )
    .await;
    let code = sent
        .as_ref()
        .err()
        .and_then(|e| crate::aws::code(e).map(str::to_string));
    match (sent, code.as_deref()) {
        (Ok(()), _) | (Err(_), Some("BucketAlreadyOwnedByYou")) => {}
        (Err(e), Some("BucketAlreadyExists")) => {
            return Err(e.context(format!(
                "the S3 bucket name {b} is taken by another account (bucket names are global); \
                 this tool keeps a folder's content there and cannot go on"
            )))
        }
        (Err(e), _) => return Err(e.context(format!("failed to create bucket {b}"))),
    }
    after_create(ctx.poll, true, "tag the bucket", || async {
        ctx.s3
            .put_bucket_tagging()
            .bucket(b)
            .expected_bucket_owner(&spec.account)
            .tagging(
                s3t::Tagging::builder()
                    .tag_set(tag(MANAGED_BY_KEY, MANAGED_BY_VALUE)?)
                    .tag_set(tag("Role", "site-content")?)
                    .build()
                    .context("bucket tags")?,
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| anyhow::Error::new(AwsError::from(e)))
    })
    .await
    .with_context(|| format!("failed to tag bucket {b}"))
}

async fn put_private(ctx: &Ctx, spec: &Spec) -> Result<()> {
    ctx.s3
        .put_public_access_block()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .public_access_block_configuration(
            s3t::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| anyhow::Error::new(AwsError::from(e)))
}

async fn put_encryption(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let rule = s3t::ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            s3t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(s3t::ServerSideEncryption::Aes256)
                .build()
                .context("encryption rule")?,
        )
        .build();
    ctx.s3
        .put_bucket_encryption()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .server_side_encryption_configuration(
            s3t::ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .context("encryption configuration")?,
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| anyhow::Error::new(AwsError::from(e)))
}

/// Retired content expires a day after it was retired (the copy is made
/// then); unfinished uploads are aborted after a day. Two rules: AWS refuses
/// an abort in a rule filtered by tags, and the expiry must not touch live
/// content.
async fn put_lifecycle(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let expire = s3t::LifecycleRule::builder()
        .id(EXPIRE_RULE)
        .status(s3t::ExpirationStatus::Enabled)
        .filter(
            s3t::LifecycleRuleFilter::builder()
                .prefix(RETIRED_PREFIX)
                .build(),
        )
        .expiration(s3t::LifecycleExpiration::builder().days(1).build())
        .build()
        .context("lifecycle rule")?;
    let abort = s3t::LifecycleRule::builder()
        .id(ABORT_RULE)
        .status(s3t::ExpirationStatus::Enabled)
        .filter(s3t::LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            s3t::AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()
        .context("lifecycle rule")?;
    ctx.s3
        .put_bucket_lifecycle_configuration()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .lifecycle_configuration(
            s3t::BucketLifecycleConfiguration::builder()
                .rules(expire)
                .rules(abort)
                .build()
                .context("lifecycle configuration")?,
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| anyhow::Error::new(AwsError::from(e)))
}

/// Uploads the manifest, then the content, checked by S3 against its
/// SHA-256.
async fn upload(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let Some((key, packed)) = &spec.content else {
        return Ok(());
    };
    use base64ct::Encoding;
    // The manifest first: content whose manifest is missing would name no
    // files in the next `--plan`.
    let manifest = serde_json::to_vec(&packed.manifest)?;
    let mkey = manifest_key(key);
    ctx.s3
        .put_object()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .key(&mkey)
        .content_type("application/json")
        .body(manifest.into())
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to upload s3://{}/{mkey}", spec.bucket))?;
    ctx.s3
        .put_object()
        .bucket(&spec.bucket)
        .expected_bucket_owner(&spec.account)
        .key(key)
        .content_type("application/gzip")
        .checksum_sha256(base64ct::Base64::encode_string(&packed.archive_sha256))
        .body(packed.archive.clone().into())
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to upload s3://{}/{key}", spec.bucket))?;
    Ok(())
}

/// After the rollout: the objects the decision retires are copied to
/// `_retired/` (the lifecycle rule deletes them a day later) and deleted
/// where they were.
pub async fn retire(ctx: &Ctx, spec: &Spec, keys: &[String]) -> Result<()> {
    for key in keys {
        let to = format!("{RETIRED_PREFIX}{key}");
        ctx.s3
            .copy_object()
            .bucket(&spec.bucket)
            .expected_bucket_owner(&spec.account)
            .expected_source_bucket_owner(&spec.account)
            .copy_source(format!("{}/{key}", spec.bucket))
            .key(&to)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to retire s3://{}/{key}", spec.bucket))?;
    }
    delete_keys(ctx, spec, keys).await
}

async fn delete_keys(ctx: &Ctx, spec: &Spec, keys: &[String]) -> Result<()> {
    // DeleteObjects takes at most 1,000 keys.
    for chunk in keys.chunks(1000) {
        let ids = chunk
            .iter()
            .map(|k| s3t::ObjectIdentifier::builder().key(k).build())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let out = ctx
            .s3
            .delete_objects()
            .bucket(&spec.bucket)
            .expected_bucket_owner(&spec.account)
            .delete(
                s3t::Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to delete content in bucket {}", spec.bucket))?;
        if let Some(e) = out.errors().first() {
            anyhow::bail!(
                "failed to delete s3://{}/{}: {}: {}",
                spec.bucket,
                e.key().unwrap_or_default(),
                e.code().unwrap_or_default(),
                e.message().unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Deletes the deployment's objects (live and retired), then the bucket when
/// nothing else is in it. A bucket that held nothing of this deployment is
/// left to the deployments that use it.
pub async fn delete(ctx: &Ctx, spec: &Spec, seen: &Seen<Found>) -> Result<Deleted> {
    let f = match seen {
        Seen::Absent => return Ok(Deleted::Absent),
        Seen::Foreign(_) => return Ok(Deleted::Foreign),
        Seen::Ours(f) => f,
    };
    let ours: Vec<String> = f.keys.iter().chain(&f.retired).cloned().collect();
    if ours.is_empty() && spec.content.is_none() {
        return Ok(Deleted::Absent);
    }
    delete_keys(ctx, spec, &ours).await?;
    let b = &spec.bucket;
    let left = ctx
        .s3
        .list_objects_v2()
        .bucket(b)
        .expected_bucket_owner(&spec.account)
        .max_keys(1)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to list bucket {b}"))?;
    if left.key_count().unwrap_or(0) > 0 || !left.contents().is_empty() {
        return Ok(Deleted::Kept);
    }
    let r = ctx
        .s3
        .delete_bucket()
        .bucket(b)
        .expected_bucket_owner(&spec.account)
        .send()
        .await
        .map_err(AwsError::from);
    match r {
        Ok(_) => Ok(Deleted::Deleted),
        // Another deployment uploaded meanwhile: it stays for it.
        Err(e) if e.code.as_deref() == Some("BucketNotEmpty") => Ok(Deleted::Kept),
        Err(e) if e.code.as_deref() == Some("NoSuchBucket") => Ok(Deleted::Deleted),
        Err(e) => Err(anyhow::Error::new(e).context(format!("failed to delete bucket {b}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(content: bool) -> Spec {
        let packed = Packed {
            archive: vec![1, 2, 3],
            hash: "ab".repeat(32),
            manifest: [("index.html".to_string(), "2".to_string())].into(),
            bytes: 3,
            archive_sha256: [0; 32],
        };
        Spec {
            bucket: name("123456789012", "eu-west-1"),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            prefix: "web/".into(),
            content: content.then(|| ("web/abab.tar.gz".to_string(), Arc::new(packed))),
        }
    }

    fn found(keys: &[&str]) -> Found {
        Found {
            private: true,
            lifecycle: true,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            retired: Vec::new(),
            previous: None,
        }
    }

    #[test]
    fn content_is_uploaded_once_earlier_content_retired_and_the_bucket_put_right() {
        let s = spec(true);
        assert_eq!(s.bucket, "sitedeploy-123456789012-eu-west-1");
        assert_eq!(decide(&s, &Seen::Absent).verb(), Some(Verb::Create));
        // There already, nothing else: kept, nothing sent.
        let there = found(&["web/abab.json", "web/abab.tar.gz"]);
        let a = decide(&s, &Seen::Ours(there));
        assert_eq!(a.verb(), Some(Verb::Keep));
        assert_eq!(a.detail(&s), "web/abab.tar.gz there");
        // A change: upload, the files named, the earlier content retired.
        let mut open = found(&["web/old.json", "web/old.tar.gz"]);
        open.private = false;
        open.lifecycle = false;
        open.previous = Some([("index.html".to_string(), "1".to_string())].into());
        let a = decide(&s, &Seen::Ours(open));
        let w = a.work().unwrap();
        assert!(w.private && w.lifecycle && w.upload && !w.create);
        assert_eq!(w.retire, vec!["web/old.json", "web/old.tar.gz"]);
        assert_eq!(a.verb(), Some(Verb::Update));
        assert_eq!(
            a.detail(&s),
            "Block Public Access was off: turned on; its lifecycle rules put back; upload \
             web/abab.tar.gz (3 B); 1 changed (index.html); 2 earlier object(s) moved to \
             _retired/web/ once the new web servers serve (deleted a day later)"
        );
        assert!(matches!(
            decide(&s, &Seen::Foreign("x".into())),
            Action::Stop(_)
        ));
    }

    #[test]
    fn without_a_site_only_an_earlier_sites_content_is_retired() {
        let s = spec(false);
        assert_eq!(decide(&s, &Seen::Absent), Action::None);
        assert_eq!(decide(&s, &Seen::Ours(found(&[]))), Action::None);
        let a = decide(&s, &Seen::Ours(found(&["web/old.tar.gz"])));
        // The bucket stays (the region's deployments share it): an update.
        assert_eq!(a.verb(), Some(Verb::Update));
        assert_eq!(a.work().unwrap().retire, vec!["web/old.tar.gz"]);
    }
}
