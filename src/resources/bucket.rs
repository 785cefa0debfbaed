//! Where a folder's content lives (`[site]`): one private S3 bucket per
//! account and region, `sitedeploy-<account>-<region>`, that this tool owns
//! (tagged `ManagedBy=sitedeploy`), shared by the region's deployments; each
//! deployment's packed folder is the object `<name>/<hash>.tar.gz`.
//!
//! The bucket is made private and kept so: Object Ownership "bucket owner
//! enforced" (no ACLs), Block Public Access on (all four settings), default
//! encryption SSE-S3, and a lifecycle rule that deletes content tagged
//! `retired=true` a day later (and unfinished uploads). Every call names the
//! expected owner (`ExpectedBucketOwner`), so a bucket of that name in
//! another account is never written to or read.
//!
//! ```text
//! observe   HeadBucket (404: absent; 403: another account's), GetBucketTagging,
//!           GetPublicAccessBlock, ListObjectsV2 <name>/
//! decide    create | keep | update (upload new content, or Block Public
//!           Access put back) | none (no [site])
//! apply     CreateBucket, PutPublicAccessBlock, PutBucketEncryption,
//!           PutBucketLifecycleConfiguration, PutBucketTagging; PutObject
//! retire    PutObjectTagging retired=true on the deployment's other content
//!           (once its web servers are replaced); without [site], deleted
//! delete    DeleteObjects <name>/..., then DeleteBucket when no deployment's
//!           content is left in it
//! ```

use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_s3::types as s3t;

use super::{Deleted, Seen, Verb};
use crate::aws::{AwsError, Ctx};
use crate::config::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use crate::plan::Plan;
use crate::sitedir::{Changes, Manifest, Packed};

/// The tag the lifecycle rule expires content by.
pub const RETIRED_TAG: (&str, &str) = ("retired", "true");

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

    /// Whether `key` is the current content or its manifest.
    pub fn current(&self, key: &str) -> bool {
        self.key()
            .is_some_and(|k| key == k || key == manifest_key(k))
    }
}

/// The bucket as found (ours).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Block Public Access is fully on.
    pub private: bool,
    /// The deployment's objects (keys under its prefix), oldest first.
    pub keys: Vec<String>,
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

/// Reads the bucket: whether it exists and whose it is, whether it is
/// private, and the deployment's objects.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<Found>> {
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
            // caller may not read.
            Some(403) => Ok(Seen::Foreign(format!(
                "an S3 bucket named {b} exists but is not this account's ({}) or not readable by \
                 this caller; this tool keeps a folder's content there and leaves that one alone",
                spec.account
            ))),
            _ => Err(anyhow::Error::new(AwsError::from(e))
                .context(format!("failed to look up bucket {b}"))),
        };
    }
    let (tags, bpa, keys) = tokio::join!(
        ctx.s3
            .get_bucket_tagging()
            .bucket(b)
            .expected_bucket_owner(&spec.account)
            .send(),
        ctx.s3
            .get_public_access_block()
            .bucket(b)
            .expected_bucket_owner(&spec.account)
            .send(),
        keys(ctx, spec, &spec.prefix),
    );
    let ours = match tags.map_err(AwsError::from) {
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
            "an S3 bucket named {b} exists in this account but was not made by this tool (it \
             lacks the {MANAGED_BY_KEY}={MANAGED_BY_VALUE} tag); it is left alone. Tag it so if \
             it is this tool's, or delete it"
        )));
    }
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
    let keys = keys?;
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
        keys,
        previous,
    }))
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

/// What deploy does with the bucket and the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No `[site]`: nothing (a deployment's content goes once its web
    /// servers are replaced, and with cleanup).
    None,
    /// Make the bucket, then upload the content.
    Create,
    /// The bucket is there: put Block Public Access back (`private`) and/or
    /// upload the content (`upload`).
    Update {
        /// Block Public Access was turned off.
        private: bool,
        /// The content is not there yet.
        upload: bool,
        /// What the upload changes, from the previous content's manifest
        /// ("1 changed (index.html)"); empty when unknown.
        changes: String,
    },
    /// The bucket and the content are there.
    Keep,
    /// Another's of the name: deploy stops.
    Stop(String),
}

impl Action {
    /// The verb the plan shows.
    pub fn verb(&self) -> Option<Verb> {
        match self {
            Action::None => None,
            Action::Create => Some(Verb::Create),
            Action::Update { .. } => Some(Verb::Update),
            Action::Keep => Some(Verb::Keep),
            Action::Stop(_) => Some(Verb::Stop),
        }
    }

    /// Whether the content is uploaded.
    pub fn uploads(&self) -> bool {
        matches!(self, Action::Create | Action::Update { upload: true, .. })
    }

    /// The row's detail.
    pub fn detail(&self, spec: &Spec) -> String {
        let upload = || match &spec.content {
            Some((key, p)) => format!("upload {key} ({})", size(p.archive.len() as u64)),
            None => String::new(),
        };
        match self {
            Action::Create => upload(),
            Action::Update {
                private,
                upload: up,
                changes,
            } => {
                let mut parts = Vec::new();
                if *private {
                    parts.push("Block Public Access was off: turned on".to_string());
                }
                if *up {
                    parts.push(upload());
                }
                if !changes.is_empty() {
                    parts.push(changes.clone());
                }
                parts.join("; ")
            }
            Action::Keep => spec.key().map(|k| format!("{k} there")).unwrap_or_default(),
            Action::Stop(why) => why.clone(),
            Action::None => String::new(),
        }
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
    let Some(key) = spec.key() else {
        return Action::None;
    };
    match seen {
        Seen::Absent => Action::Create,
        Seen::Foreign(why) => Action::Stop(why.clone()),
        Seen::Ours(f) => {
            let upload = !f.keys.iter().any(|k| k == key);
            let changes = match (&f.previous, &spec.content) {
                (Some(old), Some((_, p))) if upload => {
                    Changes::between(old, &p.manifest).describe()
                }
                _ => String::new(),
            };
            match (!f.private, upload) {
                (false, false) => Action::Keep,
                (private, upload) => Action::Update {
                    private,
                    upload,
                    changes,
                },
            }
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

/// Applies the decision: the bucket made (or made private again), the
/// content uploaded.
pub async fn apply(ctx: &Ctx, spec: &Spec, action: &Action) -> Result<()> {
    let b = &spec.bucket;
    let owner = &spec.account;
    let (create, private) = match action {
        Action::None | Action::Keep | Action::Stop(_) => return Ok(()),
        Action::Create => (true, true),
        Action::Update { private, .. } => (false, *private),
    };
    if create {
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
        match req.send().await.map_err(AwsError::from) {
            Ok(_) => {}
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) if e.code.as_deref() == Some("BucketAlreadyExists") => {
                return Err(anyhow::Error::new(e).context(format!(
                    "the S3 bucket name {b} is taken by another account (bucket names are \
                     global); this tool keeps a folder's content there and cannot go on"
                )))
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("failed to create bucket {b}")))
            }
        }
    }
    if private {
        ctx.s3
            .put_public_access_block()
            .bucket(b)
            .expected_bucket_owner(owner)
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
            .map_err(AwsError::from)
            .with_context(|| format!("failed to block public access to bucket {b}"))?;
    }
    if create {
        settings(ctx, spec).await?;
    }
    if action.uploads() {
        upload(ctx, spec).await?;
    }
    Ok(())
}

/// A new bucket's encryption, lifecycle rule and tags.
async fn settings(ctx: &Ctx, spec: &Spec) -> Result<()> {
    let b = &spec.bucket;
    let owner = &spec.account;
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
        .bucket(b)
        .expected_bucket_owner(owner)
        .server_side_encryption_configuration(
            s3t::ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .context("encryption configuration")?,
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set bucket {b}'s encryption"))?;
    let (k, v) = RETIRED_TAG;
    let expire = s3t::LifecycleRule::builder()
        .id("expire-retired-content")
        .status(s3t::ExpirationStatus::Enabled)
        .filter(s3t::LifecycleRuleFilter::builder().tag(tag(k, v)?).build())
        .expiration(s3t::LifecycleExpiration::builder().days(1).build())
        .build()
        .context("lifecycle rule")?;
    let abort = s3t::LifecycleRule::builder()
        .id("abort-unfinished-uploads")
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
        .bucket(b)
        .expected_bucket_owner(owner)
        .lifecycle_configuration(
            s3t::BucketLifecycleConfiguration::builder()
                .rules(expire)
                .rules(abort)
                .build()
                .context("lifecycle configuration")?,
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to set bucket {b}'s lifecycle rule"))?;
    ctx.s3
        .put_bucket_tagging()
        .bucket(b)
        .expected_bucket_owner(owner)
        .tagging(
            s3t::Tagging::builder()
                .tag_set(tag(MANAGED_BY_KEY, MANAGED_BY_VALUE)?)
                .tag_set(tag("Role", "site-content")?)
                .build()
                .context("bucket tags")?,
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to tag bucket {b}"))?;
    Ok(())
}

/// Uploads the content, checked by S3 against its SHA-256.
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

/// After the rollout: the deployment's other content is tagged for the
/// lifecycle rule to delete (without `[site]`: all of it is deleted now, the
/// web servers that read it being gone). Returns the keys retired.
pub async fn retire(ctx: &Ctx, spec: &Spec, found: &Found) -> Result<Vec<String>> {
    let old: Vec<String> = found
        .keys
        .iter()
        .filter(|k| !spec.current(k))
        .cloned()
        .collect();
    if spec.content.is_none() {
        delete_keys(ctx, spec, &old).await?;
        return Ok(old);
    }
    let (k, v) = RETIRED_TAG;
    for key in &old {
        ctx.s3
            .put_object_tagging()
            .bucket(&spec.bucket)
            .expected_bucket_owner(&spec.account)
            .key(key)
            .tagging(s3t::Tagging::builder().tag_set(tag(k, v)?).build()?)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to retire s3://{}/{key}", spec.bucket))?;
    }
    Ok(old)
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

/// Deletes the deployment's content, then the bucket when no other
/// deployment's content is in it.
pub async fn delete(ctx: &Ctx, spec: &Spec, seen: &Seen<Found>) -> Result<Deleted> {
    let f = match seen {
        Seen::Absent => return Ok(Deleted::Absent),
        Seen::Foreign(_) => return Ok(Deleted::Foreign),
        Seen::Ours(f) => f,
    };
    delete_keys(ctx, spec, &f.keys).await?;
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
            manifest: Default::default(),
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

    #[test]
    fn content_is_uploaded_once_and_a_public_bucket_made_private() {
        let s = spec(true);
        assert_eq!(s.bucket, "sitedeploy-123456789012-eu-west-1");
        assert_eq!(decide(&s, &Seen::Absent), Action::Create);
        let there = Found {
            private: true,
            keys: vec!["web/old.tar.gz".into(), "web/abab.tar.gz".into()],
            previous: None,
        };
        assert_eq!(decide(&s, &Seen::Ours(there.clone())), Action::Keep);
        let old: Manifest = [("index.html".to_string(), "1".to_string())].into();
        let open = Found {
            private: false,
            keys: vec!["web/old.tar.gz".into()],
            previous: Some(old),
        };
        let a = decide(&s, &Seen::Ours(open));
        assert!(matches!(
            a,
            Action::Update {
                private: true,
                upload: true,
                ..
            }
        ));
        assert_eq!(
            a.detail(&s),
            "Block Public Access was off: turned on; upload web/abab.tar.gz (3 B); \
             1 removed (index.html)"
        );
        assert!(s.current("web/abab.json") && s.current("web/abab.tar.gz"));
        assert!(!s.current("web/old.json"));
        assert!(matches!(
            decide(&s, &Seen::Foreign("x".into())),
            Action::Stop(_)
        ));
        assert_eq!(decide(&spec(false), &Seen::Ours(there)), Action::None);
    }
}
