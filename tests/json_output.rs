//! Every command's `--json`, success and failure, is one document that
//! follows schema/output.schema.json (tests/support/check_json.py validates
//! it, as it does every output any test reads through `Run::json`).

mod common;

use common::*;

/// The run's stdout, validated, as JSON.
#[track_caller]
fn valid(r: &Run) -> serde_json::Value {
    r.json()
}

/// `status --all-regions --json`, without deploy.toml.
fn all_regions(d: &Deployment) -> Run {
    let mut c = d.env_command(env!("CARGO_BIN_EXE_status"));
    c.args(["--all-regions", "--json"]);
    Run::from(c.output().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_prints_one_valid_document_whatever_happens() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "jsonall", &ip);
    let deploy = env!("CARGO_BIN_EXE_deploy");
    let cleanup = env!("CARGO_BIN_EXE_cleanup");
    let status = env!("CARGO_BIN_EXE_status");
    let logs = env!("CARGO_BIN_EXE_logs");

    // Before anything exists.
    for (bin, args, command) in [
        (deploy, vec!["--plan", "--json"], "deploy-plan"),
        (status, vec!["--json"], "status"),
        (logs, vec!["--json"], "logs"),
        (cleanup, vec!["--plan", "--json"], "cleanup-plan"),
    ] {
        let j = valid(&d.run(bin, &args).ok());
        assert_eq!(j["command"], command, "{j}");
        assert_eq!(j["ok"], true, "{j}");
        assert_eq!(j["format_version"], 1, "{j}");
        assert!(j["caller"]["credentials"].is_string(), "{j}");
    }
    let j = valid(&all_regions(&d).ok());
    assert_eq!(j["command"], "status-all-regions", "{j}");
    // Deployed.
    let j = valid(&d.deploy(&["--json"]).ok());
    assert_eq!(j["command"], "deploy");
    assert_eq!(j["totals"]["create"], 13, "{j}");
    for (bin, args) in [
        (deploy, vec!["--plan", "--json"]),
        (status, vec!["--json"]),
        (logs, vec!["--json"]),
        (cleanup, vec!["--plan", "--json"]),
    ] {
        valid(&d.run(bin, &args).ok());
    }
    valid(&all_regions(&d).ok());

    // Failures: the same envelope with `ok: false` and the error object,
    // on stdout, with the exit code it gives.
    // A command line clap refuses (--config twice): JSON too.
    let twice = d.run(deploy, &["--json", "--config", "nothere.toml"]);
    assert_eq!(twice.code, 2);
    let j = valid(&twice);
    assert_eq!(j["error"]["kind"], "usage", "{j}");
    // No deploy.toml.
    let mut c = d.env_command(deploy);
    c.args(["--json", "--config", "nothere.toml"]);
    let missing = Run::from(c.output().unwrap());
    assert_eq!(missing.code, 2);
    let j = valid(&missing);
    assert_eq!(j["ok"], false);
    assert_eq!(j["error"]["kind"], "usage");
    assert_eq!(j["error"]["exit_code"], 2);
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--all-regions"),
        "{j}"
    );

    // A failure from AWS carries its code.
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_actions": {"GetCallerIdentity": "ExpiredToken"}}"#,
    );
    let r = d.run_env(
        status,
        &["--json"],
        &[("AWS_ENDPOINT_URL", &proxy.endpoint())],
    );
    assert_eq!(r.code, 1);
    let j = valid(&r);
    assert_eq!(j["error"]["kind"], "failed");

    // A cleanup whose steps fail: its report with `ok: false` and the error,
    // one document.
    let failing = Proxy::start(
        &moto,
        r#"{"fail_actions": {"DeleteTargetGroup": "AccessDenied"}}"#,
    );
    let r = d.run_env(
        cleanup,
        &["--yes", "--json"],
        &[("AWS_ENDPOINT_URL", &failing.endpoint())],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = valid(&r);
    assert_eq!(j["ok"], false, "{j}");
    assert_eq!(j["complete"], false, "{j}");
    assert!(j["error"]["message"]
        .as_str()
        .unwrap()
        .contains("incomplete"));
    let failed: Vec<&serde_json::Value> = j["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["error"].is_string())
        .collect();
    assert_eq!(failed.len(), 1, "{j}");
    assert_eq!(failed[0]["kind"], "target group");
    // The rest goes on a second run.
    valid(&d.cleanup(&["--yes", "--json"]).ok());
}

#[test]
fn the_schema_is_checked_by_its_own_tests() {
    // The schema's own tests (also in the test command): the samples of every
    // command validate, and each mutation is refused where it breaks.
    script::<&str>("tests/support/check_json_test.py", &[]).ok();
}
