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

use super::{ec2_filter, ec2_is_ours, ec2_tag_spec, foreign, Deleted, Ensured, Outcome};
use crate::aws::{is_duplicate, unless_not_found, AwsError, Ctx};
use crate::plan::Plan;

/// A key pair in AWS.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// Key pair name.
    pub name: String,
    /// Key pair id (`key-...`).
    pub id: String,
    /// Whether it carries this deployment's tags.
    pub ours: bool,
    /// The fingerprint AWS reports.
    pub fingerprint: String,
    /// Its tags.
    pub tags: super::Tags,
}

/// Finds the key pair with the plan's name, ours or not.
pub async fn find_any(ctx: &Ctx, plan: &Plan) -> Result<Option<KeyPair>> {
    // A deployment found by name whose key pair was not found by its tags.
    if plan.key_name.is_empty() {
        return Ok(None);
    }
    let out = ctx
        .ec2
        .describe_key_pairs()
        .filters(ec2_filter("key-name", &plan.key_name))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up key pair {}", plan.key_name))?;
    Ok(out
        .key_pairs()
        .iter()
        .find(|k| k.key_name() == Some(plan.key_name.as_str()))
        .map(|k| KeyPair {
            name: plan.key_name.clone(),
            id: k.key_pair_id().unwrap_or_default().to_string(),
            ours: ec2_is_ours(k.tags(), plan),
            fingerprint: k.key_fingerprint().unwrap_or_default().to_string(),
            tags: super::ec2_pairs(k.tags()),
        }))
}

/// The name of deployment `name`'s key pair, found by its tags (the name is
/// deploy.toml's choice, so a deployment known only by its name needs this).
pub async fn name_by_tags(ctx: &Ctx, name: &str) -> Result<Option<String>> {
    let out = ctx
        .ec2
        .describe_key_pairs()
        .filters(ec2_filter(
            &format!("tag:{}", crate::config::MANAGED_BY_KEY),
            crate::config::MANAGED_BY_VALUE,
        ))
        .filters(ec2_filter(
            &format!("tag:{}", crate::config::DEPLOYMENT_KEY),
            name,
        ))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up the key pair of {name}"))?;
    Ok(out
        .key_pairs()
        .iter()
        .find_map(|k| k.key_name().map(str::to_string)))
}

/// Finds this deployment's key pair.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<KeyPair>> {
    Ok(find_any(ctx, plan).await?.filter(|k| k.ours))
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

/// What the local .pem holds.
enum Local {
    /// No file.
    Missing,
    /// An OpenSSH private key (written by this tool).
    Key(Box<PrivateKey>),
    /// A file this tool cannot read as an OpenSSH key (e.g. an RSA PEM from
    /// CreateKeyPair, written by an earlier version).
    Other,
}

fn read_local(pem: &Path) -> Result<Local> {
    match std::fs::read_to_string(pem) {
        Ok(text) => Ok(match PrivateKey::from_openssh(text.trim()) {
            Ok(k) => Local::Key(Box::new(k)),
            Err(_) => Local::Other,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Local::Missing),
        Err(e) => Err(e).with_context(|| format!("failed to read {}", pem.display())),
    }
}

/// What [`ensure_found`] will do with what exists: the shared decision of
/// deploy and `--plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// The key pair exists and matches the local key (or cannot be compared).
    Keep,
    /// Make a key here and import it.
    Create,
    /// Import the public half of the .pem a killed run left behind (read once,
    /// here).
    ImportExisting(Box<PublicKey>),
    /// Delete the key pair in AWS, set the .pem aside, make and import a new one.
    Replace,
    /// Stop, with the reason.
    Stop(String),
}

/// Decides what to do with the key pair, given what was found in AWS and on disk.
pub fn decide(plan: &Plan, found: Option<&KeyPair>, replace: bool) -> Result<KeyAction> {
    let pem = &plan.pem_path;
    let local = read_local(pem)?;
    Ok(match (found, local) {
        (Some(k), _) if !k.ours => return Err(not_ours(plan)),
        (Some(_), _) if replace => KeyAction::Replace,
        (Some(k), Local::Key(key)) => {
            let local = aws_fingerprint(key.public_key());
            if same_fingerprint(&k.fingerprint, &local) {
                KeyAction::Keep
            } else {
                KeyAction::Stop(format!(
                    "key pair {} in AWS does not match the private key in {} (AWS has \
                     fingerprint {}, the file SHA256:{local}): the file belongs to another key \
                     pair, perhaps of an earlier deployment of the same name. Put the matching \
                     .pem there, or run `deploy --replace-key-pair` to delete the key pair in \
                     AWS and make a new one (an instance that already runs keeps the old key)",
                    k.name,
                    pem.display(),
                    k.fingerprint
                ))
            }
        }
        (Some(_), Local::Other) => KeyAction::Keep,
        (Some(k), Local::Missing) => KeyAction::Stop(format!(
            "key pair {} exists in AWS but its private key {} is not here (deployed from \
             another machine, or the file was deleted). Copy the .pem here, or run `deploy \
             --replace-key-pair` to delete the key pair and make a new one (an instance that \
             already runs keeps the old key)",
            k.name,
            pem.display()
        )),
        (None, Local::Key(key)) => KeyAction::ImportExisting(Box::new(key.public_key().clone())),
        (None, _) => KeyAction::Create,
    })
}

/// Makes sure the key pair exists in AWS and its private key is on disk, given
/// what [`find_any`] found (deploy looks everything up first, in parallel).
pub async fn ensure_found(
    ctx: &Ctx,
    plan: &Plan,
    found: Option<KeyPair>,
    replace: bool,
) -> Result<Ensured<KeyPair>> {
    let pem = &plan.pem_path;
    match decide(plan, found.as_ref(), replace)? {
        KeyAction::Keep => {
            let key = found.context("no key pair")?;
            let drift = super::tag_drift(&key.tags, plan);
            super::ec2_retag(ctx, &key.id, &drift).await?;
            let outcome = if drift.is_empty() {
                Outcome::Existing
            } else {
                Outcome::Updated
            };
            Ok(Ensured::new(key, outcome))
        }
        KeyAction::Stop(why) => bail!(why),
        KeyAction::Replace => {
            delete_in_aws(ctx, found.as_ref().context("no key pair")?).await?;
            move_aside(pem)?;
            create(ctx, plan).await
        }
        KeyAction::ImportExisting(public) => {
            tracing::debug!("importing the key a previous run left in {}", pem.display());
            import(ctx, plan, &public).await
        }
        KeyAction::Create => {
            if pem.exists() {
                let aside = move_aside(pem)?;
                tracing::warn!(
                    "{} belongs to no key pair in AWS and is not an OpenSSH key; moved it to {}",
                    pem.display(),
                    aside.display()
                );
            }
            create(ctx, plan).await
        }
    }
}

/// The error for a same-named key pair without this tool's tags.
pub fn not_ours(plan: &Plan) -> anyhow::Error {
    foreign(
        "key pair",
        &plan.key_name,
        plan,
        "Choose another ssh.key_name in deploy.toml.",
    )
}

/// A new ed25519 key: AWS accepts ed25519 for ImportKeyPair and Amazon Linux
/// 2023's sshd, it is small and fast to make, and its fingerprint (SHA-256) is
/// the one AWS reports, so an existing key pair can be checked against the file.
pub fn generate() -> Result<PrivateKey> {
    PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .context("failed to generate an ed25519 key")
}

/// Makes a key here, writes its private half, then imports the public half.
async fn create(ctx: &Ctx, plan: &Plan) -> Result<Ensured<KeyPair>> {
    let key = generate()?;
    let text = key
        .to_openssh(LineEnding::LF)
        .context("failed to encode the private key")?;
    write_private_key(&plan.pem_path, text.as_bytes())?;
    import(ctx, plan, key.public_key()).await
}

/// ImportKeyPair, tagged; a "duplicate" (a retried import whose first attempt
/// took effect) is resolved by reading the key pair back and comparing
/// fingerprints.
async fn import(ctx: &Ctx, plan: &Plan, public: &PublicKey) -> Result<Ensured<KeyPair>> {
    let openssh = public
        .to_openssh()
        .context("failed to encode the public key")?;
    let local = aws_fingerprint(public);
    let res = ctx
        .ec2
        .import_key_pair()
        .key_name(&plan.key_name)
        .public_key_material(aws_sdk_ec2::primitives::Blob::new(openssh.into_bytes()))
        .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::KeyPair, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    match res {
        Ok(out) => Ok(Ensured::new(
            KeyPair {
                name: plan.key_name.clone(),
                id: out.key_pair_id().unwrap_or_default().to_string(),
                ours: true,
                fingerprint: out.key_fingerprint().unwrap_or_default().to_string(),
                tags: plan.owned_tags(),
            },
            Outcome::Created,
        )),
        Err(e) => {
            let e = anyhow::Error::new(e);
            if is_duplicate(&e) {
                if let Some(k) = find(ctx, plan).await? {
                    if same_fingerprint(&k.fingerprint, &local) {
                        return Ok(Ensured::new(k, Outcome::Created));
                    }
                }
            }
            Err(e.context(format!("failed to import key pair {}", plan.key_name)))
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
            .map(|a| crate::deploy::quote_for(a, true))
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

/// Deletes this deployment's key pair and, when it was there, the private key
/// file this tool wrote for it. A key pair without this tool's tags is left alone.
pub async fn delete(ctx: &Ctx, plan: &Plan) -> Result<Deleted> {
    let Some(key) = find(ctx, plan).await? else {
        return Ok(Deleted::Absent);
    };
    delete_in_aws(ctx, &key).await?;
    // An empty path: the deployment was found by name, without its deploy.toml.
    if !plan.pem_path.as_os_str().is_empty() {
        remove_pem(&plan.pem_path)?;
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
