//! The rendered user-data script, run under bash in a scratch root with stubbed
//! dnf, systemctl, curl and unzip: it installs the template into the web root,
//! and serves a fallback page when the download fails.
//!
//! Unix only: the stubs are executable bash scripts (the boot script runs on
//! Amazon Linux; CI runs these tests on ubuntu).
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use sitedeploy::plan::Plan;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir()
        .join("sitedeploy-tests")
        .join(format!("userdata-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rendered_plan(dir: &Path) -> Plan {
    std::fs::create_dir_all(dir.join("userdata")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("userdata/install-template.sh"),
        dir.join("userdata/install-template.sh"),
    )
    .unwrap();
    let text = common::config_text("cafe", "http://127.0.0.1:9/", "");
    let cfg = sitedeploy::config::parse(&text, &dir.join("deploy.toml")).unwrap();
    Plan::new(&cfg).unwrap()
}

/// The marker the script published, as JSON.
fn marker(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("root/var/www/html/sitedeploy.json")).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn write_exec(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Stubs that record their calls in `calls.log`; curl copies `fixture.zip`
/// when it exists and fails like a 404 when it does not.
fn stubs(dir: &Path) -> PathBuf {
    let bin = dir.join("stubs");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls.log");
    let fixture = dir.join("fixture.zip");
    for name in ["dnf", "systemctl", "chown"] {
        write_exec(
            &bin.join(name),
            &format!(
                "#!/bin/bash\necho \"{name} $*\" >> '{}'\nexit 0\n",
                log.display()
            ),
        );
    }
    write_exec(
        &bin.join("curl"),
        &format!(
            r#"#!/bin/bash
echo "curl $*" >> '{log}'
out=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift 2;; *) shift;; esac
done
[ -f '{fixture}' ] || exit 22
cp '{fixture}' "$out"
"#,
            log = log.display(),
            fixture = fixture.display()
        ),
    );
    write_exec(
        &bin.join("unzip"),
        &format!(
            r#"#!/bin/bash
echo "unzip $*" >> '{log}'
zip=""; dest=""
while [ $# -gt 0 ]; do
  case "$1" in -d) dest="$2"; shift 2;; -*) shift;; *) zip="$1"; shift;; esac
done
exec python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dest"
"#,
            log = log.display()
        ),
    );
    bin
}

fn make_fixture(dir: &Path) {
    let status = Command::new("python3")
        .arg("-c")
        .arg(
            r#"import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("2137_barista_cafe/index.html", "<h1>Barista Cafe</h1>")
    z.writestr("2137_barista_cafe/css/style.css", "body{}")
    z.writestr("2137_barista_cafe/images/docs/index.html", "nested, not the site")
"#,
        )
        .arg(dir.join("fixture.zip"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn run_script(dir: &Path, script: &str) -> std::process::Output {
    let path = dir.join("user-data.sh");
    std::fs::write(&path, script).unwrap();
    let bin = stubs(dir);
    // cloud-init's record of the instance id.
    let cloud = dir.join("root/var/lib/cloud/data");
    std::fs::create_dir_all(&cloud).unwrap();
    std::fs::write(cloud.join("instance-id"), "i-0123456789abcdef0\n").unwrap();
    Command::new("bash")
        .arg(&path)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("SITEDEPLOY_ROOT", dir.join("root"))
        .output()
        .unwrap()
}

#[test]
fn installs_the_template_into_the_web_root() {
    let dir = scratch("ok");
    let plan = rendered_plan(&dir);
    let script = plan.user_data.clone();
    make_fixture(&dir);
    let out = run_script(&dir, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let web = dir.join("root/var/www/html");
    assert_eq!(
        std::fs::read_to_string(web.join("index.html")).unwrap(),
        "<h1>Barista Cafe</h1>"
    );
    assert_eq!(
        std::fs::read_to_string(web.join("css/style.css")).unwrap(),
        "body{}"
    );
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert!(calls.contains("dnf install -y httpd unzip"), "{calls}");
    assert!(
        calls.contains("https://www.tooplate.com/zip-templates/2137_barista_cafe.zip"),
        "{calls}"
    );
    assert!(calls.contains("systemctl enable --now httpd"), "{calls}");
    assert_eq!(
        marker(&dir),
        serde_json::json!({
            "deployment": "cafe",
            "fingerprint": plan.fingerprint,
            "template": "2137_barista_cafe",
            "instance": "i-0123456789abcdef0",
            "result": "installed",
            "reason": "",
        })
    );
    assert!(plan.publishes_marker);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("sitedeploy: marker: installed"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serves_a_fallback_page_when_the_download_fails() {
    let dir = scratch("fail");
    let plan = rendered_plan(&dir);
    let script = plan.user_data.clone();
    // no fixture: the stubbed curl fails like a 404
    let out = run_script(&dir, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(dir.join("root/var/www/html/index.html")).unwrap();
    assert!(page.contains("cafe is running"), "{page}");
    assert!(
        page.contains("2137_barista_cafe could not be installed"),
        "{page}"
    );
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert!(calls.contains("systemctl enable --now httpd"), "{calls}");
    let m = marker(&dir);
    assert_eq!(m["result"], "fallback", "{m}");
    assert_eq!(m["fingerprint"], plan.fingerprint.as_str(), "{m}");
    assert_eq!(
        m["reason"],
        "the download from https://www.tooplate.com/zip-templates/2137_barista_cafe.zip failed",
        "{m}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The plan of a `[site]` deployment of `dir/site`, with its user data for
/// the account's bucket.
fn site_plan(dir: &Path) -> (Plan, String) {
    std::fs::create_dir_all(dir.join("userdata")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("userdata/install-site.sh"),
        dir.join("userdata/install-site.sh"),
    )
    .unwrap();
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("css")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>My own page</h1>").unwrap();
    std::fs::write(site.join("css/site.css"), "h1{}").unwrap();
    let text = common::with_site(&common::config_text("mine", "http://127.0.0.1:9/", ""));
    let cfg = sitedeploy::config::parse(&text, &dir.join("deploy.toml")).unwrap();
    let plan = Plan::new(&cfg).unwrap();
    let script = plan.user_data_for(
        "sitedeploy-123456789012-eu-west-1",
        "eu-west-1",
        "123456789012",
    );
    (plan, script)
}

/// The bucket as the stubbed `aws s3 cp` serves it: `dir/s3/<bucket>/<key>`;
/// `sleep` returns at once (the script's retries wait 5 s each).
fn s3_stubs(dir: &Path) {
    let bin = dir.join("stubs");
    std::fs::create_dir_all(&bin).unwrap();
    write_exec(
        &bin.join("aws"),
        &format!(
            r#"#!/bin/bash
echo "aws $*" >> '{log}'
[ "$1 $2" = "s3 cp" ] || exit 252
src="{s3}/${{3#s3://}}"
[ -f "$src" ] || {{ echo "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden" >&2; exit 1; }}
cp "$src" "$4"
"#,
            log = dir.join("calls.log").display(),
            s3 = dir.join("s3").display()
        ),
    );
    write_exec(&bin.join("sleep"), "#!/bin/bash\nexit 0\n");
}

/// Puts the packed content where the stub serves it; `tamper`: one byte of
/// the archive changed (what S3 served is not what deploy uploaded).
fn upload(dir: &Path, plan: &Plan, tamper: bool) {
    let site = plan.site.as_ref().unwrap();
    let path = dir
        .join("s3/sitedeploy-123456789012-eu-west-1")
        .join(&site.key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = site.packed.archive.clone();
    if tamper {
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn fetches_checks_and_unpacks_the_site_folder() {
    let dir = scratch("site");
    let (plan, script) = site_plan(&dir);
    assert!(!script.contains("{{"), "a placeholder is left: {script}");
    upload(&dir, &plan, false);
    s3_stubs(&dir);
    let out = run_script(&dir, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let web = dir.join("root/var/www/html");
    assert_eq!(
        std::fs::read_to_string(web.join("index.html")).unwrap(),
        "<h1>My own page</h1>"
    );
    assert_eq!(
        std::fs::read_to_string(web.join("css/site.css")).unwrap(),
        "h1{}"
    );
    let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    let key = &plan.site.as_ref().unwrap().key;
    assert!(
        calls.contains(&format!(
            "aws s3 cp s3://sitedeploy-123456789012-eu-west-1/{key} "
        )) && calls.contains("--region eu-west-1 --expected-bucket-owner 123456789012"),
        "{calls}"
    );
    let m = marker(&dir);
    assert_eq!(m["result"], "installed", "{m}");
    assert_eq!(m["fingerprint"], plan.fingerprint.as_str(), "{m}");
    assert_eq!(m["template"], plan.template.as_str(), "{m}");
    assert!(plan.template.starts_with("site-"));
    // Nothing secret is in the script: no key, no token, no password.
    for secret in ["AKIA", "aws_secret", "SecretAccessKey", "token"] {
        assert!(
            !script.to_lowercase().contains(&secret.to_lowercase()),
            "{secret}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn content_that_is_not_what_deploy_uploaded_or_cannot_be_fetched_is_not_served() {
    for (case, tamper, present, reason) in [
        ("tampered", true, true, "is not what deploy uploaded"),
        ("missing", false, false, "could not be fetched"),
    ] {
        let dir = scratch(case);
        let (plan, script) = site_plan(&dir);
        if present {
            upload(&dir, &plan, tamper);
        }
        s3_stubs(&dir);
        let out = run_script(&dir, &script);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let m = marker(&dir);
        assert_eq!(m["result"], "fallback", "{case}: {m}");
        assert!(
            m["reason"].as_str().unwrap().contains(reason),
            "{case}: {m}"
        );
        let page = std::fs::read_to_string(dir.join("root/var/www/html/index.html")).unwrap();
        assert!(page.contains("mine is running"), "{page}");
        let calls = std::fs::read_to_string(dir.join("calls.log")).unwrap();
        let tries = calls.lines().filter(|l| l.starts_with("aws s3 cp")).count();
        assert_eq!(tries, if present { 1 } else { 6 }, "{case}: {calls}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
