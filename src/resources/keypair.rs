//! The EC2 key pair and its private key file.
//!
//! The key is made here (ed25519, with the `ssh-key` crate), its private half
//! written first to `<key_name>.pem` atomically with mode 0400 (a temporary file
//! created with that mode, then hard-linked to the final name, which fails rather
//! than overwrite), and only then is the public half sent with ImportKeyPair. So
//! the private key never travels over the network, a retried import converges
//! (the same public key), and a run killed between the two steps is finished by
//! the next one (it imports the .pem it finds). An existing key pair is checked
//! against the local key by fingerprint.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};

use super::{Deleted, Seen, Verb};
use crate::aws::{is_duplicate, unless_not_found, AwsError, Ctx};
use crate::plan::Plan;
use crate::tags::{ec2_filter, Owner, TagDrift, Tagger, Tags};

/// What deploy.toml asks of the key pair.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Key pair name.
    pub name: String,
    /// Where its private key is kept (empty: a deployment known only by
    /// name, whose local file is left alone).
    pub pem: PathBuf,
    /// Its tags.
    pub owner: Owner,
    /// `--replace-key-pair`: make a new one when the .pem does not match.
    pub replace: bool,
}

impl Spec {
    /// The key pair of `plan`.
    pub fn new(plan: &Plan, replace: bool) -> Spec {
        Spec {
            name: plan.key_name.clone(),
            pem: plan.pem_path.clone(),
            owner: plan.owner.clone(),
            replace,
        }
    }
}

/// A key pair in AWS.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// Key pair name.
    pub name: String,
    /// Key pair id (`key-...`).
    pub id: String,
    /// The fingerprint AWS reports.
    pub fingerprint: String,
    /// Its tags.
    pub tags: Tags,
}

/// The key pair with the spec's name: ours, another's, or none.
pub async fn observe(ctx: &Ctx, spec: &Spec) -> Result<Seen<KeyPair>> {
    // A deployment found by name whose key pair was not found by its tags.
    if spec.name.is_empty() {
        return Ok(Seen::Absent);
    }
    let out = ctx
        .ec2
        .describe_key_pairs()
        .filters(ec2_filter("key-name", &spec.name))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up key pair {}", spec.name))?;
    let Some(k) = out
        .key_pairs()
        .iter()
        .find(|k| k.key_name() == Some(spec.name.as_str()))
    else {
        return Ok(Seen::Absent);
    };
    let tags = crate::tags::ec2_pairs(k.tags());
    if !spec.owner.owns(&tags) {
        return Ok(Seen::Foreign(spec.owner.foreign(
            "key pair",
            &spec.name,
            "Choose another ssh.key_name in deploy.toml.",
        )));
    }
    Ok(Seen::Ours(KeyPair {
        name: spec.name.clone(),
        id: k.key_pair_id().unwrap_or_default().to_string(),
        fingerprint: k.key_fingerprint().unwrap_or_default().to_string(),
        tags,
    }))
}

/// The name of deployment `name`'s key pair, found by its tags (the name is
/// deploy.toml's choice, so a deployment known only by its name needs this).
pub async fn name_by_tags(ctx: &Ctx, name: &str) -> Result<Option<String>> {
    let owner = Owner::new(name, &Default::default());
    let out = ctx
        .ec2
        .describe_key_pairs()
        .set_filters(Some(owner.ec2_filters()))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up the key pair of {name}"))?;
    Ok(out
        .key_pairs()
        .iter()
        .find_map(|k| k.key_name().map(str::to_string)))
}

/// The fingerprint AWS gives an imported ed25519 key: the base64 SHA-256 digest
/// of the public key (OpenSSH's `SHA256:` form), compared without the prefix or
/// base64 padding.
pub fn aws_fingerprint(public: &PublicKey) -> String {
    public
        .fingerprint(HashAlg::Sha256)
        .to_string()
        .trim_start_matches("SHA256:")
        .trim_end_matches('=')
        .to_string()
}

/// Whether AWS's fingerprint is the local key's.
fn same_fingerprint(aws: &str, local: &str) -> bool {
    aws.trim_start_matches("SHA256:").trim_end_matches('=') == local
}

/// What the local .pem holds: read once, by the observation.
#[derive(Debug, Clone)]
pub enum Local {
    /// No file.
    Missing,
    /// An OpenSSH private key (written by this tool): its public half.
    Key(Box<PublicKey>),
    /// A file this tool cannot read as an OpenSSH key (e.g. an RSA PEM from
    /// CreateKeyPair, written by an earlier version).
    Other,
}

/// Reads the local .pem (an empty path: none to read).
pub fn read_local(pem: &Path) -> Result<Local> {
    if pem.as_os_str().is_empty() {
        return Ok(Local::Missing);
    }
    match std::fs::read_to_string(pem) {
        Ok(text) => Ok(match PrivateKey::from_openssh(text.trim()) {
            Ok(k) => Local::Key(Box::new(k.public_key().clone())),
            Err(_) => Local::Other,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Local::Missing),
        Err(e) => Err(e).with_context(|| format!("failed to read {}", pem.display())),
    }
}

/// What deploy does with the key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make a key here and import it; `move_aside`: a .pem that belongs to no
    /// key pair and is not an OpenSSH key is renamed first.
    Create {
        /// Rename the unreadable .pem out of the way first.
        move_aside: bool,
    },
    /// Import the public half of the .pem a killed run left behind.
    Import(Box<PublicKey>),
    /// The key pair exists and matches the local key (or cannot be compared).
    Keep,
    /// As `Keep`, and its tags follow deploy.toml.
    Retag(TagDrift),
    /// Delete the key pair in AWS, set the .pem aside, make and import a new one.
    Replace,
    /// Stop, with the reason.
    Stop(String),
}

/// Decides what to do with the key pair, given what AWS and the disk hold.
pub fn decide(spec: &Spec, seen: &Seen<KeyPair>, local: &Local) -> Action {
    let pem = &spec.pem;
    let k = match seen {
        Seen::Foreign(why) => return Action::Stop(why.clone()),
        Seen::Absent => {
            return match local {
                Local::Key(public) => Action::Import(public.clone()),
                Local::Missing => Action::Create { move_aside: false },
                Local::Other => Action::Create { move_aside: true },
            }
        }
        Seen::Ours(_) if spec.replace => return Action::Replace,
        Seen::Ours(k) => k,
    };
    let keep = || {
        let drift = spec.owner.drift(&k.tags);
        if drift.is_empty() {
            Action::Keep
        } else {
            Action::Retag(drift)
        }
    };
    match local {
        Local::Key(public) if same_fingerprint(&k.fingerprint, &aws_fingerprint(public)) => keep(),
        Local::Key(public) => Action::Stop(format!(
            "key pair {} in AWS does not match the private key in {} (AWS has fingerprint {}, \
             the file SHA256:{}): the file belongs to another key pair, perhaps of an earlier \
             deployment of the same name. Put the matching .pem there, or run `deploy \
             --replace-key-pair` to delete the key pair in AWS and make a new one (an instance \
             that already runs keeps the old key)",
            k.name,
            pem.display(),
            k.fingerprint,
            aws_fingerprint(public)
        )),
        Local::Other => keep(),
        Local::Missing => Action::Stop(format!(
            "key pair {} exists in AWS but its private key {} is not here (deployed from \
             another machine, or the file was deleted). Copy the .pem here, or run `deploy \
             --replace-key-pair` to delete the key pair and make a new one (an instance that \
             already runs keeps the old key)",
            k.name,
            pem.display()
        )),
    }
}

impl Action {
    /// The plan's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Action::Create { .. } | Action::Import(_) => Verb::Create,
            Action::Keep => Verb::Keep,
            Action::Retag(_) => Verb::Update,
            Action::Replace => Verb::Replace,
            Action::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self, spec: &Spec) -> String {
        match self {
            Action::Create { .. } => format!("ed25519, saved as {}", spec.pem.display()),
            Action::Import(_) => format!("imported from {}", spec.pem.display()),
            Action::Keep => String::new(),
            Action::Retag(d) => d.describe().join("; "),
            Action::Replace => "--replace-key-pair: a new key pair and .pem".into(),
            Action::Stop(why) => why.clone(),
        }
    }
}

/// Applies the decision: `found` is the key pair observed (for keep, retag
/// and replace).
pub async fn apply(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    found: Option<&KeyPair>,
) -> Result<KeyPair> {
    let pem = &spec.pem;
    let found = || found.cloned().context("no key pair was observed");
    match action {
        Action::Keep => found(),
        Action::Retag(drift) => {
            let key = found()?;
            drift.apply(ctx, Tagger::Ec2(&key.id)).await?;
            Ok(key)
        }
        Action::Stop(why) => bail!("{why}"),
        Action::Replace => {
            delete_in_aws(ctx, &found()?).await?;
            move_aside(pem)?;
            create(ctx, spec).await
        }
        Action::Import(public) => {
            tracing::debug!("importing the key a previous run left in {}", pem.display());
            import(ctx, spec, public).await
        }
        Action::Create { move_aside: aside } => {
            if *aside {
                let to = move_aside(pem)?;
                tracing::warn!(
                    "{} belongs to no key pair in AWS and is not an OpenSSH key; moved it to {}",
                    pem.display(),
                    to.display()
                );
            }
            create(ctx, spec).await
        }
    }
}

/// A new ed25519 key: AWS accepts ed25519 for ImportKeyPair and Amazon Linux
/// 2023's sshd, it is small and fast to make, and its fingerprint (SHA-256) is
/// the one AWS reports, so an existing key pair can be checked against the file.
pub fn generate() -> Result<PrivateKey> {
    PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .context("failed to generate an ed25519 key")
}

/// Makes a key here, writes its private half, then imports the public half.
async fn create(ctx: &Ctx, spec: &Spec) -> Result<KeyPair> {
    let key = generate()?;
    let text = key
        .to_openssh(LineEnding::LF)
        .context("failed to encode the private key")?;
    write_private_key(&spec.pem, text.as_bytes())?;
    import(ctx, spec, key.public_key()).await
}

/// ImportKeyPair, tagged; a "duplicate" (a retried import whose first attempt
/// took effect) is resolved by reading the key pair back and comparing
/// fingerprints.
async fn import(ctx: &Ctx, spec: &Spec, public: &PublicKey) -> Result<KeyPair> {
    let openssh = public
        .to_openssh()
        .context("failed to encode the public key")?;
    let local = aws_fingerprint(public);
    let res = ctx
        .ec2
        .import_key_pair()
        .key_name(&spec.name)
        .public_key_material(aws_sdk_ec2::primitives::Blob::new(openssh.into_bytes()))
        .tag_specifications(spec.owner.ec2_spec(ec2t::ResourceType::KeyPair, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(KeyPair {
            name: spec.name.clone(),
            id: out.key_pair_id().unwrap_or_default().to_string(),
            fingerprint: out.key_fingerprint().unwrap_or_default().to_string(),
            tags: spec.owner.owned(),
        }),
        Err(e) => {
            let e = anyhow::Error::new(e);
            if is_duplicate(&e) {
                if let Seen::Ours(k) = observe(ctx, spec).await? {
                    if same_fingerprint(&k.fingerprint, &local) {
                        return Ok(k);
                    }
                }
            }
            Err(e.context(format!("failed to import key pair {}", spec.name)))
        }
    }
}

/// Writes `data` to `path` with mode 0400, atomically and never over an existing file.
pub fn write_private_key(path: &Path, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        bail!("no private key material to write");
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create directory {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("pem.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o400);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("failed to create {}", tmp.display()))?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
            .with_context(|| format!("failed to save the private key as {}", path.display()))?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result?;
    #[cfg(windows)]
    if let Err(command) = restrict_to_owner(path) {
        // OpenSSH for Windows refuses a key others can read.
        tracing::warn!(
            "could not make {} readable by you alone, which OpenSSH for Windows requires; run: {command}",
            path.display()
        );
    }
    Ok(())
}

/// The `icacls` arguments that leave `path` readable by `user` alone: the
/// inherited entries removed, read granted to the owner only (the Windows
/// counterpart of mode 0400).
pub fn owner_only_acl_args(path: &Path, user: &str) -> Vec<String> {
    vec![
        path.display().to_string(),
        "/inheritance:r".into(),
        "/grant:r".into(),
        format!("{user}:R"),
    ]
}

/// Runs `icacls` to make the key file owner-only; on failure, the exact
/// command for the user to run.
#[cfg(windows)]
fn restrict_to_owner(path: &Path) -> std::result::Result<(), String> {
    let user = std::env::var("USERNAME").unwrap_or_default();
    let who = match std::env::var("USERDOMAIN") {
        Ok(d) if !d.is_empty() => format!("{d}\\{user}"),
        _ => user,
    };
    let args = owner_only_acl_args(path, &who);
    let manual = format!(
        "icacls {}",
        args.iter()
            .map(|a| crate::shell::quote_for(a, true))
            .collect::<Vec<_>>()
            .join(" ")
    );
    match std::process::Command::new("icacls").args(&args).output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(manual),
    }
}

/// Renames a file out of the way (`<name>.old-<unix time>`), never deleting it.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = path.with_extension(format!("pem.old-{secs}"));
    if path.exists() {
        std::fs::rename(path, &aside)
            .with_context(|| format!("failed to move {} aside", path.display()))?;
    }
    Ok(aside)
}

async fn delete_in_aws(ctx: &Ctx, key: &KeyPair) -> Result<()> {
    let res = ctx
        .ec2
        .delete_key_pair()
        .key_name(&key.name)
        .send()
        .await
        .map_err(AwsError::from);
    unless_not_found(res, || format!("failed to delete key pair {}", key.name))?;
    Ok(())
}

/// Deletes this deployment's key pair (as observed) and, when the spec names
/// it, the private key file this tool wrote for it.
pub async fn delete(ctx: &Ctx, spec: &Spec, key: &KeyPair) -> Result<Deleted> {
    delete_in_aws(ctx, key).await?;
    // An empty path: the deployment was found by name, without its deploy.toml.
    if !spec.pem.as_os_str().is_empty() {
        remove_pem(&spec.pem)?;
    }
    Ok(Deleted::Deleted)
}

/// Removes the private key file if it is a regular file (read-only, as written).
fn remove_pem(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => std::fs::remove_file(path)
            .with_context(|| format!("failed to remove {}", path.display())),
        Ok(_) => bail!("{} is not a regular file; left it alone", path.display()),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_and_has_aws_fingerprint_form() {
        let key = generate().unwrap();
        let text = key.to_openssh(LineEnding::LF).unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let back = PrivateKey::from_openssh(text.as_bytes()).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let fp = aws_fingerprint(key.public_key());
        // base64 of 32 bytes without padding.
        assert_eq!(fp.len(), 43, "{fp}");
        assert!(same_fingerprint(&format!("{fp}="), &fp));
        assert!(same_fingerprint(&format!("SHA256:{fp}"), &fp));
        let other = aws_fingerprint(generate().unwrap().public_key());
        assert!(!same_fingerprint(&other, &fp));
    }

    #[test]
    fn the_windows_acl_is_owner_read_only() {
        let args = owner_only_acl_args(Path::new("k.pem"), r"HOST\me");
        assert_eq!(args, ["k.pem", "/inheritance:r", "/grant:r", r"HOST\me:R"]);
    }

    #[cfg(unix)]
    #[test]
    fn private_key_is_written_0400_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sd-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("k.pem");
        write_private_key(&path, b"-----BEGIN RSA PRIVATE KEY-----\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400);
        let again = write_private_key(&path, b"other");
        assert!(again.is_err());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"-----BEGIN RSA PRIVATE KEY-----\n"
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert!(write_private_key(&dir.join("empty.pem"), b"").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
