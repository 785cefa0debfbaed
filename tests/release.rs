//! The release workflow and cargo-binstall agree: the archive names the
//! workflow publishes are the ones Cargo.toml's [package.metadata.binstall]
//! asks for, for every target, with the four binaries inside.

use std::path::Path;

fn read(p: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
}

const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

#[test]
fn binstall_finds_what_the_release_workflow_publishes() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let package = manifest["package"].as_table().unwrap();
    let bin = package["metadata"]["binstall"].as_table().unwrap();
    let version = package["version"].as_str().unwrap();
    let repo = package["repository"].as_str().unwrap();
    let workflow = read(".github/workflows/release.yml");
    for target in TARGETS {
        assert!(
            workflow.contains(&format!("target: {target}")),
            "{target} not built"
        );
        let windows = target.contains("windows");
        let fmt = bin
            .get("overrides")
            .and_then(|o| o.get(target))
            .and_then(|o| o.get("pkg-fmt"))
            .or(bin.get("pkg-fmt"))
            .and_then(|f| f.as_str())
            .unwrap();
        let suffix = match fmt {
            "tgz" => ".tar.gz",
            "zip" => ".zip",
            other => panic!("unexpected pkg-fmt {other}"),
        };
        assert_eq!(suffix == ".zip", windows, "{target}: {fmt}");
        let fill = |t: &str| {
            t.replace("{ repo }", repo)
                .replace("{ version }", version)
                .replace("{ name }", "sitedeploy")
                .replace("{ target }", target)
                .replace("{ archive-suffix }", suffix)
                .replace("{ bin }", "deploy")
                .replace("{ binary-ext }", if windows { ".exe" } else { "" })
        };
        let url = fill(bin["pkg-url"].as_str().unwrap());
        let dir = format!("sitedeploy-v{version}-{target}");
        assert_eq!(
            url,
            format!("{repo}/releases/download/v{version}/{dir}{suffix}"),
            "binstall's URL"
        );
        // The workflow names the archive and its folder sitedeploy-<tag>-<target>
        // (the tag is v<version>) and puts the binaries at the folder's top.
        assert!(workflow.contains(r#"name="sitedeploy-${GITHUB_REF_NAME}-${TARGET}""#));
        assert_eq!(
            fill(bin["bin-dir"].as_str().unwrap()),
            format!("{dir}/deploy{}", if windows { ".exe" } else { "" })
        );
    }
    assert!(workflow.contains(r#"tar czf "$name.tar.gz" "$name""#));
    assert!(workflow.contains(r#"7z a -tzip "$name.zip" "$name""#));
    assert!(workflow.contains("sha256sum sitedeploy-* > SHA256SUMS.txt"));
}

#[test]
fn every_binary_is_packaged() {
    let manifest = read("Cargo.toml");
    let workflow = read(".github/workflows/release.yml");
    let bins: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .path()
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
    assert_eq!(bins.len(), 4, "{bins:?}");
    let packed = workflow
        .lines()
        .find_map(|l| l.trim().strip_prefix("for bin in "))
        .and_then(|l| l.strip_suffix("; do"))
        .expect("the packaging loop");
    let mut packed: Vec<&str> = packed.split(' ').collect();
    let mut bins: Vec<&str> = bins.iter().map(String::as_str).collect();
    packed.sort_unstable();
    bins.sort_unstable();
    assert_eq!(packed, bins, "every binary in src/bin is packaged");
    assert!(manifest.contains("[package.metadata.binstall]"));
}
