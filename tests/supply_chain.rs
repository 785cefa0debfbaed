//! What `cargo audit` is told to ignore stays true.

use std::process::Command;

/// `.cargo/audit.toml` ignores RUSTSEC-2023-0071 because `rsa` sits in
/// Cargo.lock without being built (ssh-key's optional dependency). If any
/// dependency ever compiles it, the ignore is wrong and this fails.
#[test]
fn the_ignored_rsa_advisory_names_a_crate_that_is_never_built() {
    let root = env!("CARGO_MANIFEST_DIR");
    let audit = std::fs::read_to_string(format!("{root}/.cargo/audit.toml")).unwrap();
    let ignored: Vec<&str> = audit
        .lines()
        .filter(|l| l.trim_start().starts_with("ignore"))
        .flat_map(|l| l.split('"').skip(1).step_by(2))
        .collect();
    assert_eq!(ignored, ["RUSTSEC-2023-0071"], "{audit}");

    let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"rsa\""),
        "rsa left Cargo.lock: drop the ignore"
    );

    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["tree", "--locked", "--offline"])
        .args(["-e", "normal,build,dev", "-i", "rsa"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.trim().is_empty() && stderr.contains("nothing to print"),
        "rsa is built:\n{stdout}\n{stderr}"
    );
}
