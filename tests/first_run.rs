//! What a new user sees first: `--help` with an example, `--plan` saying it
//! plans, and the cleanup command printed the way the tool was run.

mod common;

use common::*;

#[test]
fn every_binary_shows_an_example_of_itself_as_it_was_run() {
    for bin in [
        env!("CARGO_BIN_EXE_deploy"),
        env!("CARGO_BIN_EXE_cleanup"),
        env!("CARGO_BIN_EXE_status"),
        env!("CARGO_BIN_EXE_logs"),
    ] {
        let name = std::path::Path::new(bin)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let example = |cargo: bool| {
            let mut c = std::process::Command::new(bin);
            c.arg("--help");
            match cargo {
                true => c.env("CARGO", "cargo"),
                false => c.env_remove("CARGO"),
            };
            let out = c.output().unwrap();
            assert!(out.status.success(), "{bin}");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            text.lines()
                .skip_while(|l| !l.starts_with("Example:"))
                .nth(1)
                .unwrap_or_else(|| panic!("{bin}: no example in\n{text}"))
                .to_string()
        };
        // A release binary run by itself: its own path, no cargo.
        let plain = example(false);
        assert!(plain.trim_start().starts_with(bin), "{bin}: {plain}");
        assert!(!plain.contains("cargo"), "{bin}: {plain}");
        // Run through cargo: the cargo form.
        let cargo = example(true);
        assert!(
            cargo.contains(&format!("--bin {name} -- ")),
            "{bin}: {cargo}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_says_planning_and_the_cleanup_command_is_the_one_the_user_runs() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    let d = Deployment::simple(&moto.endpoint(), "first", &ip);
    let plan = d.deploy(&["--plan"]).ok();
    assert!(
        plan.stderr.contains("planning first in us-east-1"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("deploying"), "{}", plan.stderr);

    // Run as a binary: the cleanup binary beside it.
    let r = d.deploy(&[]).ok();
    let dir = std::path::Path::new(env!("CARGO_BIN_EXE_deploy"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let want = format!("Remove everything with: {dir}/cleanup --config deploy.toml --yes");
    assert!(r.stdout.contains(&want), "{want:?} not in\n{}", r.stdout);
    assert!(
        r.stderr.contains("deploying first to us-east-1"),
        "{}",
        r.stderr
    );

    // Run through cargo (which sets CARGO): the cargo form, in this profile.
    let r = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &[], &[("CARGO", "cargo")])
        .ok();
    let profile = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    let want = format!(
        "Remove everything with: cargo run{profile} --bin cleanup -- --config deploy.toml --yes"
    );
    assert!(r.stdout.contains(&want), "{want:?} not in\n{}", r.stdout);
}

#[test]
fn the_readmes_picture_of_a_deploy_is_the_current_output() {
    // README.md's picture is made by tools/terminal_demo.py from a real run;
    // a change to the output without making it again fails here.
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_deploy"))
        .parent()
        .unwrap();
    let args = [
        std::ffi::OsStr::new("--check"),
        std::ffi::OsStr::new("--bin-dir"),
        bin_dir.as_os_str(),
    ];
    script("tools/terminal_demo.py", &args).ok();
}
