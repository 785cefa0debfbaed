//! `deploy --init-site <template> [dir]` (issue 22): a tooplate.com template
//! downloaded and unpacked into a folder of one's own, ready to edit and to
//! deploy with `[site] dir`. Pick a template, edit it, deploy it.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::sitedir::{MAX_BYTES, MAX_FILES};

/// What `--init-site` made.
#[derive(Debug, Clone)]
pub struct Made {
    /// The folder.
    pub dir: PathBuf,
    /// Files written.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
}

impl Made {
    /// What to do next, in words.
    pub fn to_text(&self, template: &str) -> String {
        let dir = self.dir.display();
        format!(
            "Wrote {} files ({} KiB) of template {template} to {dir}.\n\
             Next: edit {dir}/index.html (and the rest) to your liking; in deploy.toml put\n\
             \n    [site]\n    dir = \"{dir}\"\n\n\
             in place of the [template] table; then run deploy.\n",
            self.files,
            self.bytes.div_ceil(1024)
        )
    }
}

/// Whether `name` is a tooplate template as its zip is named:
/// `<number>_<slug>`, e.g. `2137_barista_cafe`.
pub fn is_template_name(name: &str) -> bool {
    let Some((id, slug)) = name.split_once('_') else {
        return false;
    };
    !id.is_empty()
        && id.len() <= 6
        && id.bytes().all(|b| b.is_ascii_digit())
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The template's zip on tooplate.com.
pub fn template_url(name: &str) -> String {
    format!("https://www.tooplate.com/zip-templates/{name}.zip")
}

/// Downloads template `name` (from `url`, default tooplate.com) and unpacks
/// it into `dir`, which must be missing or empty.
pub async fn init_site(name: &str, dir: &Path, url: Option<&str>) -> Result<Made> {
    if !is_template_name(name) {
        bail!(
            "{name:?} is not a tooplate template name: use its number and name as in its zip, \
             e.g. 2137_barista_cafe (https://www.tooplate.com)"
        );
    }
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            bail!(
                "{} is not empty: --init-site writes into a new or empty folder only, so \
                 nothing of yours is overwritten",
                dir.display()
            );
        }
    }
    let url = url.map_or_else(|| template_url(name), str::to_string);
    let zip = download(&url).await?;
    unpack(&zip, dir).with_context(|| format!("failed to unpack {url}"))
}

async fn download(url: &str) -> Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()?;
    let mut r = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("failed to download {url}"))?;
    if !r.status().is_success() {
        bail!(
            "{url} answered HTTP {}: check the template's number and name on tooplate.com",
            r.status().as_u16()
        );
    }
    let mut body = Vec::new();
    while let Some(chunk) = r
        .chunk()
        .await
        .with_context(|| format!("failed to download {url}"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_BYTES {
            bail!("{url} is over {} MiB", MAX_BYTES / 1024 / 1024);
        }
    }
    Ok(body)
}

/// Unpacks a template zip into `dir`: the one top-level folder most zips have
/// is left out; a name that would land outside `dir` is refused; at most
/// [`MAX_FILES`] files and [`MAX_BYTES`] bytes (what deploy takes).
pub fn unpack(zip: &[u8], dir: &Path) -> Result<Made> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).context("not a zip archive")?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let f = archive.by_index(i)?;
        let Some(name) = f.enclosed_name() else {
            bail!("{:?} would land outside the folder", f.name());
        };
        names.push((i, name, f.is_dir()));
    }
    // The one folder everything is in, if there is one.
    let top = names.first().and_then(|(_, n, _)| n.components().next());
    let strip = top.filter(|t| {
        names
            .iter()
            .all(|(_, n, d)| n.starts_with(t) && (n.components().count() > 1 || *d))
    });
    let strip: Option<PathBuf> = strip.map(|c| PathBuf::from(c.as_os_str()));
    let (mut files, mut bytes) = (0usize, 0u64);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (i, name, is_dir) in names {
        let rel = match &strip {
            Some(t) => name.strip_prefix(t).unwrap_or(&name).to_path_buf(),
            None => name,
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let path = dir.join(&rel);
        if is_dir {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        files += 1;
        if files > MAX_FILES {
            bail!("more than {MAX_FILES} files");
        }
        let mut f = archive.by_index(i)?;
        let mut data = Vec::new();
        (&mut f)
            .take(MAX_BYTES + 1 - bytes.min(MAX_BYTES))
            .read_to_end(&mut data)?;
        bytes += data.len() as u64;
        if bytes > MAX_BYTES {
            bail!("over {} MiB unpacked", MAX_BYTES / 1024 / 1024);
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, data).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !dir.join("index.html").is_file() {
        bail!("the template has no index.html at its top");
    }
    Ok(Made {
        dir: dir.to_path_buf(),
        files,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(body.as_bytes()).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn empty_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sd-init-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn template_names_are_number_underscore_slug() {
        assert!(is_template_name("2137_barista_cafe"));
        assert!(!is_template_name("barista_cafe"));
        assert!(!is_template_name("2137"));
        assert!(!is_template_name("2137_../x"));
        assert!(!is_template_name("2137_Barista"));
    }

    #[test]
    fn the_top_folder_is_left_out_and_the_site_packs() {
        let zip = zip_of(&[
            ("2137_barista_cafe/index.html", "<h1>Cafe</h1>"),
            ("2137_barista_cafe/css/a.css", "a {}"),
        ]);
        let d = empty_dir("strip");
        let made = unpack(&zip, &d).unwrap();
        assert_eq!(made.files, 2);
        assert_eq!(
            std::fs::read_to_string(d.join("index.html")).unwrap(),
            "<h1>Cafe</h1>"
        );
        assert!(d.join("css/a.css").is_file());
        // What --init-site writes, deploy takes.
        assert_eq!(crate::sitedir::pack(&d).unwrap().manifest.len(), 2);
    }

    #[test]
    fn a_name_outside_the_folder_and_a_template_without_index_are_refused() {
        let e = unpack(&zip_of(&[("../evil.html", "x")]), &empty_dir("slip")).unwrap_err();
        assert!(format!("{e:#}").contains("outside the folder"), "{e:#}");
        let e = unpack(&zip_of(&[("t/home.html", "x")]), &empty_dir("noindex")).unwrap_err();
        assert!(format!("{e:#}").contains("no index.html"), "{e:#}");
    }

    #[tokio::test]
    async fn a_folder_with_something_in_it_is_not_written_into() {
        let d = empty_dir("full");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("mine.html"), "mine").unwrap();
        let e = init_site("2137_barista_cafe", &d, Some("http://127.0.0.1:9/none.zip"))
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("is not empty"), "{e:#}");
        assert_eq!(
            std::fs::read_to_string(d.join("mine.html")).unwrap(),
            "mine"
        );
    }
}
