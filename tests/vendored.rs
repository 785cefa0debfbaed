//! The trimmed SDK crates in vendor/ (TECHNICAL.md, "Build time"): each one
//! has its tools/*.trim config, is the crate Cargo.toml patches in, and is
//! pinned to the version it was made from. tests/run.sh checks their content
//! byte for byte against the published crates (tools/trim_sdk.py --check).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn toml_file(rel: &str) -> toml::Table {
    let text = fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.parse().unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `key = value` lines of a tools/*.trim file, before `[operations]`.
fn trim_config(path: &Path) -> (String, String, String, Vec<String>) {
    let text = fs::read_to_string(path).unwrap();
    let (head, ops) = text
        .split_once("[operations]")
        .expect("an [operations] section");
    let value = |key: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{}: no {key}", path.display()))
            .trim()
            .to_string()
    };
    let ops = ops
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    (value("crate"), value("version"), value("out"), ops)
}

#[test]
fn every_vendored_crate_is_patched_in_pinned_and_made_by_its_config() {
    let manifest = toml_file("Cargo.toml");
    let patches = manifest["patch"]["crates-io"]
        .as_table()
        .expect("[patch.crates-io]");
    let deps = manifest["dependencies"].as_table().unwrap();
    let excluded = manifest["workspace"]["exclude"].as_array().unwrap();
    assert!(
        excluded.iter().any(|e| e.as_str() == Some("vendor")),
        "vendor/ is not a workspace member"
    );
    let lock = fs::read_to_string(root().join("Cargo.lock")).unwrap();

    let mut configured = BTreeSet::new();
    for entry in fs::read_dir(root().join("tools")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("trim") {
            continue;
        }
        let (name, version, out, ops) = trim_config(&path);
        assert_eq!(out, format!("vendor/{name}"), "{}", path.display());
        assert!(!ops.is_empty(), "{}: no operations", path.display());
        assert_eq!(
            patches[&name]["path"].as_str(),
            Some(out.as_str()),
            "{name} is patched in from {out}"
        );
        assert_eq!(
            deps[&name]["version"].as_str(),
            Some(format!("={version}").as_str()),
            "{name} is pinned to the version it was trimmed from"
        );
        let vendored = toml_file(&format!("{out}/Cargo.toml"));
        assert_eq!(vendored["package"]["name"].as_str(), Some(name.as_str()));
        assert_eq!(
            vendored["package"]["version"].as_str(),
            Some(version.as_str())
        );
        // The lock file takes the path crate, not the registry's (which has a source line).
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"\n");
        let at = lock
            .find(&entry)
            .unwrap_or_else(|| panic!("{name} {version} not in Cargo.lock"));
        let rest = &lock[at + entry.len()..];
        assert!(
            !rest.starts_with("source"),
            "Cargo.lock still takes {name} from the registry"
        );
        // Each kept operation is there; the first in the list is enough to
        // see that the copy is the trimmed one, not the whole crate.
        assert!(
            root()
                .join(&out)
                .join("src/operation")
                .join(&ops[0])
                .is_dir(),
            "{name}: {}",
            ops[0]
        );
        let all_ops = fs::read_dir(root().join(&out).join("src/operation"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir());
        assert_eq!(
            all_ops.count(),
            ops.len(),
            "{name} holds exactly the configured operations"
        );
        configured.insert(name);
    }
    let vendored: BTreeSet<String> = fs::read_dir(root().join("vendor"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        vendored, configured,
        "every crate in vendor/ has its tools/*.trim"
    );
    let patched: BTreeSet<String> = patches.keys().cloned().collect();
    assert_eq!(patched, configured, "every patch is a trimmed crate");
}

/// Cargo.toml's `rust-version` is what the locked dependencies need (the AWS
/// SDK raises it often), and README.md's prerequisite says the same, so a
/// learner with an older Rust is told before a build fails half way.
#[test]
fn rust_version_covers_every_dependency_and_the_readme_says_it() {
    // This platform's packages only: those are what the test build fetched.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(String::from))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .args(["--filter-platform", &host])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parse = |v: &str| -> Vec<u32> { v.split('.').map(|n| n.parse().unwrap()).collect() };
    let (mut need, mut by) = (vec![0], String::new());
    for p in meta["packages"].as_array().unwrap() {
        if let Some(v) = p["rust_version"].as_str() {
            if parse(v) > need {
                need = parse(v);
                by = format!("{} {}", p["name"], p["version"]);
            }
        }
    }
    let ours = toml_file("Cargo.toml")["package"]["rust-version"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        parse(&ours),
        need,
        "rust-version {ours}, but {by} needs {need:?}"
    );
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("{ours} or newer")),
        "README.md's prerequisite names Rust {ours}"
    );
}
