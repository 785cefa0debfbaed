//! `deploy --init-site`: a template downloaded into a folder of one's own
//! (issue 22's first step), through the binary, from a local stand-in for
//! tooplate.com.

mod common;

use std::process::Command;

use common::{serve, template_zip};

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_deploy"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_template_lands_in_a_new_folder_ready_to_edit_and_nothing_is_overwritten() {
    let dir = std::env::temp_dir().join(format!("sd-init-site-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = serve(200, template_zip());
    // No deploy.toml and no AWS credentials needed.
    let (code, out, err) = run(
        &dir,
        &[
            "--init-site",
            "2137_barista_cafe",
            "site",
            "--template-url",
            &url,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("site/index.html")).unwrap(),
        "<h1>Barista</h1>"
    );
    assert!(dir.join("site/css/style.css").is_file());
    assert!(
        out.contains("[site]") && out.contains("dir = \"site\""),
        "{out}"
    );
    // Again into the same folder: refused, the edited page kept.
    std::fs::write(dir.join("site/index.html"), "<h1>Mine</h1>").unwrap();
    let (code, _, err) = run(
        &dir,
        &[
            "--init-site",
            "2137_barista_cafe",
            "site",
            "--template-url",
            &url,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("site/index.html")).unwrap(),
        "<h1>Mine</h1>"
    );
    // A template that is not there: the status and what to check.
    let missing = serve(404, b"not found".to_vec());
    let (code, _, err) = run(
        &dir,
        &[
            "--init-site",
            "9999_nothing",
            "other",
            "--template-url",
            &missing,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("answered HTTP 404"), "{err}");
    assert!(!dir.join("other/index.html").exists());
}
