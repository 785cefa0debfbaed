//! The EC2 key pair and its private key file.
//!
//! The private key exists once, in the response to CreateKeyPair, so it is written
//! to `<key_name>.pem` atomically with mode 0400 (a temporary file created with
//! that mode, then hard-linked to the final name, which fails rather than
//! overwrite). A key pair in AWS whose .pem is gone cannot be used: `ensure`
//! stops and explains, unless asked to replace the key pair.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

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
}

/// Finds the key pair with the plan's name, ours or not.
pub async fn find_any(ctx: &Ctx, plan: &Plan) -> Result<Option<KeyPair>> {
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
        }))
}

/// Finds this deployment's key pair.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Option<KeyPair>> {
    Ok(find_any(ctx, plan).await?.filter(|k| k.ours))
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
    match found {
        Some(k) if !k.ours => Err(not_ours(plan)),
        Some(k) if pem.exists() && !replace => Ok(Ensured::new(k, Outcome::Existing)),
        Some(k) if replace => {
            delete_in_aws(ctx, &k).await?;
            move_aside(pem)?;
            create(ctx, plan).await
        }
        Some(k) => bail!(
            "key pair {} exists in AWS but its private key {} is not here (deployed from \
             another machine, or the file was deleted). AWS never hands a private key out \
             twice. Copy the .pem here, or run `deploy --replace-key-pair` to delete the key \
             pair and create a new one (an instance that already runs keeps the old key)",
            k.name,
            pem.display()
        ),
        None => {
            if pem.exists() {
                let aside = move_aside(pem)?;
                tracing::warn!(
                    "{} belongs to no key pair in AWS; moved it to {}",
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

async fn create(ctx: &Ctx, plan: &Plan) -> Result<Ensured<KeyPair>> {
    let res = ctx
        .ec2
        .create_key_pair()
        .key_name(&plan.key_name)
        .key_type(ec2t::KeyType::Rsa)
        .key_format(ec2t::KeyFormat::Pem)
        .tag_specifications(ec2_tag_spec(plan, ec2t::ResourceType::KeyPair, &[]))
        .send()
        .await
        .map_err(AwsError::from);
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            let e = anyhow::Error::new(e);
            if is_duplicate(&e) {
                // A retried create whose first attempt reached AWS: the key exists,
                // but its private key was in a response this process never read.
                bail!(
                    "key pair {} was created but its private key never reached this machine \
                     (the connection dropped); run `deploy --replace-key-pair` to recreate it",
                    plan.key_name
                );
            }
            return Err(e.context(format!("failed to create key pair {}", plan.key_name)));
        }
    };
    let key = KeyPair {
        name: plan.key_name.clone(),
        id: out.key_pair_id().unwrap_or_default().to_string(),
        ours: true,
    };
    let material = out.key_material().unwrap_or_default();
    if let Err(e) = write_private_key(&plan.pem_path, material.as_bytes()) {
        // Without its private key the key pair is useless: do not leave it behind.
        let _ = delete_in_aws(ctx, &key).await;
        return Err(e);
    }
    Ok(Ensured::new(key, Outcome::Created))
}

/// Writes `data` to `path` with mode 0400, atomically and never over an existing file.
pub fn write_private_key(path: &Path, data: &[u8]) -> Result<()> {
    if data.is_empty() {
        bail!("AWS returned no private key material");
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create directory {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("pem.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o400)
            .open(&tmp)
            .with_context(|| format!("failed to create {}", tmp.display()))?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
            .with_context(|| format!("failed to save the private key as {}", path.display()))?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result
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
    remove_pem(&plan.pem_path)?;
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
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_key_is_written_0400_and_never_overwritten() {
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
