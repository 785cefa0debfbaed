//! A local folder as the site (`[site] dir`, issue 22): checked, packed
//! reproducibly and hashed, so that a content change is a fingerprint change
//! like a template change.
//!
//! ```text
//! pack(dir) -> Packed { archive (tar.gz), hash (SHA-256 of the tar), manifest }
//! ```
//!
//! Reproducible: the files are taken in byte order of their paths (not the
//! order the file system lists them), every header carries the same mode
//! (0644), owner (0:0), time (0) and no user or group names, and the gzip
//! header has no time or name. The hash is of the uncompressed tar, so a
//! different compressor version cannot change it. The same folder in two
//! places, touched or copied, gives the same hash; one byte changed does not.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The largest folder deploy takes: 50 MiB of files. A template is 1-10 MiB;
/// the archive goes to S3 in one PutObject (AWS recommends multipart from
/// 100 MB) and every web server downloads and unpacks it while it boots,
/// inside the load balancer's health-check grace, on an 8 GiB root volume.
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// The most files deploy takes (each is a tar header and a file to write at
/// boot).
pub const MAX_FILES: usize = 10_000;

/// Entries never packed: version control's own folder (history, and what a
/// learner did not mean to publish).
const SKIPPED: [&str; 1] = [".git"];

/// Each packed file's path (relative, `/`-separated) and the SHA-256 of its
/// content: what `--plan` compares to say which files a change adds, changes
/// and removes.
pub type Manifest = BTreeMap<String, String>;

/// A packed folder.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The tar.gz the web servers unpack.
    pub archive: Vec<u8>,
    /// SHA-256 (hex) of the uncompressed tar: the content's identity.
    pub hash: String,
    /// The files and their hashes.
    pub manifest: Manifest,
    /// The files' total size.
    pub bytes: u64,
    /// SHA-256 of the archive itself: the web servers check what they
    /// fetched against it, S3 checks the upload against it.
    pub archive_sha256: [u8; 32],
}

/// What a change does to the files, for `--plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Files new in this folder.
    pub added: Vec<String>,
    /// Files whose content changed.
    pub changed: Vec<String>,
    /// Files no longer there.
    pub removed: Vec<String>,
}

impl Changes {
    /// `old` to `new`.
    pub fn between(old: &Manifest, new: &Manifest) -> Changes {
        let mut c = Changes::default();
        for (path, hash) in new {
            match old.get(path) {
                None => c.added.push(path.clone()),
                Some(h) if h != hash => c.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        c.removed = old
            .keys()
            .filter(|p| !new.contains_key(*p))
            .cloned()
            .collect();
        c
    }

    /// In words: "2 added (a.html, b.css), 1 changed (index.html)".
    pub fn describe(&self) -> String {
        let part = |n: &str, v: &[String]| {
            let shown: Vec<&str> = v.iter().take(3).map(String::as_str).collect();
            let more = match v.len() > 3 {
                true => format!(", {} more", v.len() - 3),
                false => String::new(),
            };
            format!("{} {n} ({}{more})", v.len(), shown.join(", "))
        };
        let all: Vec<String> = [
            ("added", &self.added),
            ("changed", &self.changed),
            ("removed", &self.removed),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| part(n, v))
        .collect();
        match all.is_empty() {
            true => "no file changed".to_string(),
            false => all.join(", "),
        }
    }
}

/// Checks and packs `dir`: it must exist and hold an `index.html`; every
/// file must be readable; a symbolic link may only point inside it (it is
/// packed as what it points to); at most [`MAX_FILES`] files and
/// [`MAX_BYTES`] bytes.
pub fn pack(dir: &Path) -> Result<Packed> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("the site folder {} does not exist", dir.display()))?;
    if !meta.is_dir() {
        bail!("the site folder {} is not a folder", dir.display());
    }
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot read the site folder {}", dir.display()))?;
    let mut files = Vec::new();
    walk(&root, &root, "", &mut Vec::new(), &mut files)?;
    if !files.iter().any(|(p, _)| p == "index.html") {
        bail!(
            "the site folder {} has no index.html: the web server shows index.html at the \
             site's address; add one (it may be a copy of a page you have)",
            dir.display()
        );
    }
    if files.len() > MAX_FILES {
        bail!(
            "the site folder {} has {} files; deploy takes at most {MAX_FILES} (every web \
             server writes them all while it boots)",
            dir.display(),
            files.len()
        );
    }
    let mut tar = tar::Builder::new(Vec::new());
    let (mut manifest, mut bytes) = (Manifest::new(), 0u64);
    for (rel, path) in &files {
        let data = std::fs::read(path)
            .with_context(|| format!("cannot read {} in the site folder", path.display()))?;
        bytes += data.len() as u64;
        if bytes > MAX_BYTES {
            bail!(
                "the site folder {} is over {} MiB; deploy takes at most that much (one upload, \
                 and every web server downloads and unpacks it while it boots): leave large \
                 files (videos, archives) out, or host them elsewhere",
                dir.display(),
                MAX_BYTES / 1024 / 1024
            );
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        // The path with the checksum; a name over 100 bytes gets GNU's long
        // name entry (template folders nest deep).
        tar.append_data(&mut h, rel, data.as_slice())
            .with_context(|| format!("cannot pack {rel}: its name is not portable"))?;
        manifest.insert(rel.clone(), hex(&Sha256::digest(&data)));
    }
    let tar = tar.into_inner()?;
    let hash = hex(&Sha256::digest(&tar));
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar)?;
    let archive = gz.finish()?;
    Ok(Packed {
        archive_sha256: Sha256::digest(&archive).into(),
        archive,
        hash,
        manifest,
        bytes,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every file under `dir` (canonical), in byte order of its relative path;
/// `seen`: the canonical folders on the way down (a link back up is a loop).
fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    seen: &mut Vec<PathBuf>,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<()> {
    seen.push(dir.to_path_buf());
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    let list = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {} in the site folder", dir.display()))?;
    for e in list {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = e
            .file_name()
            .to_str()
            .map(str::to_string)
            .with_context(|| {
                format!(
                    "{} in the site folder: its name is not UTF-8, which a URL cannot carry",
                    e.path().display()
                )
            })?;
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        entries.push((name, e.path()));
    }
    entries.sort();
    for (name, path) in entries {
        let rel = format!("{prefix}{name}");
        let lmeta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let target = match lmeta.file_type().is_symlink() {
            true => {
                let t = path.canonicalize().with_context(|| {
                    format!("{} in the site folder is a broken link", path.display())
                })?;
                if !t.starts_with(root) {
                    bail!(
                        "{} in the site folder is a link to {}, outside the folder: only \
                         what is inside the folder is published (copy the file in instead)",
                        path.display(),
                        t.display()
                    );
                }
                t
            }
            false => path.clone(),
        };
        let meta = std::fs::metadata(&target)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            if seen.contains(&target) {
                bail!(
                    "{} in the site folder links to a folder above it (a loop)",
                    path.display()
                );
            }
            walk(root, &target, &format!("{rel}/"), seen, out)?;
        } else if meta.is_file() {
            out.push((rel, target));
        } else {
            bail!(
                "{} in the site folder is neither a file nor a folder",
                path.display()
            );
        }
    }
    seen.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sd-pack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for (p, body) in files {
            let f = d.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, body).unwrap();
        }
        d
    }

    const SITE: [(&str, &str); 4] = [
        ("index.html", "<h1>Hi</h1>"),
        ("css/site.css", "h1 { color: red }"),
        ("img/a.svg", "<svg/>"),
        ("about.html", "<p>About</p>"),
    ];

    #[test]
    fn the_same_files_in_another_order_place_and_time_pack_the_same() {
        let a = folder("a", &SITE);
        let mut reversed = SITE;
        reversed.reverse();
        let b = folder("b", &reversed);
        // Touch b's files a day later.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
        for (p, _) in SITE {
            let f = std::fs::File::options()
                .write(true)
                .open(b.join(p))
                .unwrap();
            f.set_modified(later).unwrap();
        }
        let (pa, pb) = (pack(&a).unwrap(), pack(&b).unwrap());
        assert_eq!(pa.hash, pb.hash);
        assert_eq!(pa.archive, pb.archive);
        assert_eq!(pa.manifest.len(), 4);
        // One byte changed: another hash, and the change named.
        std::fs::write(b.join("css/site.css"), "h1 { color: red}").unwrap();
        let pc = pack(&b).unwrap();
        assert_ne!(pc.hash, pa.hash);
        let c = Changes::between(&pa.manifest, &pc.manifest);
        assert_eq!(c.changed, ["css/site.css"]);
        assert!(c.added.is_empty() && c.removed.is_empty());
        assert_eq!(c.describe(), "1 changed (css/site.css)");
    }

    #[test]
    fn the_archive_unpacks_to_the_files() {
        let a = folder("unpack", &SITE);
        // A path over tar's 100 bytes (GNU long name).
        let deep = format!("img/{}/photo.jpg", "a-rather-long-folder-name".repeat(5));
        std::fs::create_dir_all(a.join(&deep).parent().unwrap()).unwrap();
        std::fs::write(a.join(&deep), "jpg").unwrap();
        let p = pack(&a).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(p.archive.as_slice()));
        let mut names = Vec::new();
        for e in tar.entries().unwrap() {
            let e = e.unwrap();
            assert_eq!(e.header().mode().unwrap(), 0o644);
            assert_eq!(e.header().mtime().unwrap(), 0);
            names.push(e.path().unwrap().display().to_string());
        }
        assert_eq!(
            names,
            [
                "about.html",
                "css/site.css",
                deep.as_str(),
                "img/a.svg",
                "index.html"
            ]
        );
    }

    #[test]
    fn bad_folders_are_refused_with_what_to_do() {
        let missing = std::env::temp_dir().join("sd-pack-nowhere");
        let e = format!("{:#}", pack(&missing).unwrap_err());
        assert!(e.contains("does not exist"), "{e}");
        let no_index = folder("noindex", &[("home.html", "x")]);
        let e = format!("{:#}", pack(&no_index).unwrap_err());
        assert!(e.contains("has no index.html"), "{e}");
        let big = folder("big", &[("index.html", "x")]);
        let f = std::fs::File::create(big.join("video.mp4")).unwrap();
        f.set_len(MAX_BYTES + 1).unwrap();
        let e = format!("{:#}", pack(&big).unwrap_err());
        assert!(e.contains("over 50 MiB"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_are_followed_and_links_outside_refused() {
        let d = folder("links", &SITE);
        std::os::unix::fs::symlink(d.join("about.html"), d.join("about-us.html")).unwrap();
        let p = pack(&d).unwrap();
        assert_eq!(p.manifest["about-us.html"], p.manifest["about.html"]);
        let outside = folder("outside", &[("secret.txt", "no")]);
        std::os::unix::fs::symlink(outside.join("secret.txt"), d.join("s.txt")).unwrap();
        let e = format!("{:#}", pack(&d).unwrap_err());
        assert!(e.contains("outside the folder"), "{e}");
        std::fs::remove_file(d.join("s.txt")).unwrap();
        std::os::unix::fs::symlink(&d, d.join("css/up")).unwrap();
        let e = format!("{:#}", pack(&d).unwrap_err());
        assert!(e.contains("a loop"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_special_file_is_named() {
        let d = folder("special", &SITE);
        let _l = std::os::unix::net::UnixListener::bind(d.join("socket")).unwrap();
        let e = format!("{:#}", pack(&d).unwrap_err());
        assert!(e.contains("neither a file nor a folder"), "{e}");
    }
}
