//! `status --all-regions`: every deployment of the tool in every enabled region
//! (found by its tags, no deploy.toml), and `cleanup --region R --name N`,
//! which removes one of them without its deploy.toml.

mod common;

use common::*;

/// A scratch directory with no deploy.toml, to run the binaries from.
fn elsewhere(moto: &Moto) -> Deployment {
    let d = Deployment::new(&moto.endpoint(), "nowhere", "");
    std::fs::remove_file(d.dir.join("deploy.toml")).unwrap();
    d
}

fn status_all(from: &Deployment, args: &[&str]) -> Run {
    let mut c = from.env_command(env!("CARGO_BIN_EXE_status"));
    c.arg("--all-regions").args(args);
    // No region anywhere: --all-regions needs none.
    Run::from(c.output().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn all_regions_lists_each_deployment_and_cleanup_by_name_removes_one() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    let nowhere = elsewhere(&moto);

    // None yet.
    let none = status_all(&nowhere, &[]);
    assert_eq!(none.code, 0, "{}", none.stderr);
    assert!(
        none.stdout
            .contains("nothing of sitedeploy is running in any region"),
        "{}",
        none.stdout
    );
    let j = status_all(&nowhere, &["--json"]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let j = j.json();
    assert_eq!(j["deployments"].as_array().unwrap().len(), 0, "{j}");
    let regions = j["regions"].as_array().unwrap();
    assert!(
        regions.len() > 10 && regions.iter().any(|r| r == "eu-west-1"),
        "enabled regions: {regions:?}"
    );

    // One deployment in us-east-1, another in eu-west-1 with a key pair whose
    // name does not follow the deployment's.
    let east = Deployment::simple(&moto.endpoint(), "alpha", &ip);
    let west_config = config_text("beta", &ip.url(), "")
        .replace(&format!("region = \"{REGION}\""), "region = \"eu-west-1\"")
        .replace("key_name = \"beta-key\"", "key_name = \"my-own-key\"");
    let west = Deployment::new(&moto.endpoint(), "beta", &west_config);
    east.deploy(&[]).ok();
    west.deploy(&["--expires-after", "3h"]).ok();
    let west_pem = west.dir.join("my-own-key.pem");
    assert!(exists(&west_pem));

    let run = status_all(&nowhere, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let j = run.json();
    let found = j["deployments"].as_array().unwrap();
    let names: Vec<(String, String)> = found
        .iter()
        .map(|d| {
            (
                d["region"].as_str().unwrap().to_string(),
                d["deployment"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("eu-west-1".to_string(), "beta".to_string()),
            ("us-east-1".to_string(), "alpha".to_string())
        ],
        "{j}"
    );
    for d in found {
        let kinds: Vec<&str> = d["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        for k in [
            "key pair",
            "security group",
            "target group",
            "instance",
            "load balancer",
            "listener",
            "schedule",
        ] {
            assert!(kinds.contains(&k), "{k} missing in {d}");
        }
        // The default stack: about $0.057 an hour.
        let per_hour = d["cost"]["per_hour"].as_f64().unwrap();
        assert!((per_hour - 0.0568).abs() < 0.001, "{d}");
        assert!(d["cost_so_far"]["dollars"].as_f64().unwrap() >= 0.0, "{d}");
        let age = d["age_hours"].as_f64().unwrap();
        assert!((0.0..0.5).contains(&age), "{d}");
        assert!(d["expires_at"].is_string(), "{d}");
    }
    // The key pair found by its tags, whatever its name.
    let beta = &found[0];
    assert!(
        beta["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "key pair" && r["name"] == "my-own-key"),
        "{beta}"
    );
    // The expiry as deployed: 3 h from now in eu-west-1, 8 h (default) in us-east-1.
    let hours_left = |d: &serde_json::Value| {
        let t = chrono::DateTime::parse_from_rfc3339(d["expires_at"].as_str().unwrap()).unwrap();
        (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0
    };
    assert!((hours_left(&found[0]) - 3.0).abs() < 0.1, "{beta}");
    assert!((hours_left(&found[1]) - 8.0).abs() < 0.1, "{}", found[1]);

    let text = status_all(&nowhere, &[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    for want in [
        "2 deployment(s) of sitedeploy",
        "beta in eu-west-1: up 0.",
        "alpha in us-east-1: up 0.",
        "about $0.057/hour now",
        "cleanup --region eu-west-1 --name beta",
        "cleanup --region us-east-1 --name alpha",
    ] {
        assert!(
            text.stdout.contains(want),
            "{want:?} not in\n{}",
            text.stdout
        );
    }

    // `status --name` and `cleanup --name` without deploy.toml.
    let mut c = nowhere.env_command(env!("CARGO_BIN_EXE_status"));
    c.args(["--region", "eu-west-1", "--name", "beta", "--json"]);
    let st = Run::from(c.output().unwrap());
    assert_eq!(st.code, 0, "{}", st.stderr);
    assert_eq!(st.json()["resources"], beta["resources"]);

    let mut c = nowhere.env_command(env!("CARGO_BIN_EXE_cleanup"));
    c.args(["--region", "eu-west-1", "--name", "beta", "--yes"]);
    let gone = Run::from(c.output().unwrap());
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    let west_aws = Aws::in_region(&moto.endpoint(), "eu-west-1").await;
    assert_eq!(
        west_aws.counts().await,
        (0, 0, 0, 0, 0),
        "eu-west-1 is empty"
    );
    assert!(
        west_aws
            .scheduler
            .list_schedule_groups()
            .name_prefix("sitedeploy-")
            .send()
            .await
            .unwrap()
            .schedule_groups()
            .is_empty(),
        "no schedule group left in eu-west-1"
    );
    // The local key file was not its to remove (it may not be this machine's).
    assert!(exists(&west_pem), "cleanup --name left local files alone");
    // us-east-1's deployment untouched.
    let east_aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(east_aws.counts().await, (1, 2, 1, 1, 1));

    let after = status_all(&nowhere, &["--json"]).ok().json();
    let left: Vec<&str> = after["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deployment"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec!["alpha"], "{after}");

    east.cleanup(&["--yes"]).ok();
    let none = status_all(&nowhere, &[]).ok();
    assert!(
        none.stdout
            .contains("nothing of sitedeploy is running in any region"),
        "{}",
        none.stdout
    );
}

#[test]
fn a_bad_name_is_a_usage_error() {
    let moto = Moto::start();
    let nowhere = elsewhere(&moto);
    let mut c = nowhere.env_command(env!("CARGO_BIN_EXE_cleanup"));
    c.args(["--region", "us-east-1", "--name", "no such name!", "--yes"]);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not a deployment name"),
        "{}",
        r.stderr
    );
    // --name and --config together are refused by the flag parser.
    let mut c = nowhere.env_command(env!("CARGO_BIN_EXE_cleanup"));
    c.args(["--config", "x.toml", "--name", "beta", "--yes"]);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_that_does_not_answer_is_named_and_the_rest_still_listed() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    Deployment::simple(&moto.endpoint(), "gamma", &ip)
        .deploy(&[])
        .ok();
    let slow = Proxy::start(
        &moto,
        &serde_json::json!({ "slow_regions": { "ap-south-1": 30 } }).to_string(),
    );
    let from = elsewhere(&moto);
    let mut c = from.env_command(env!("CARGO_BIN_EXE_status"));
    c.env("AWS_ENDPOINT_URL", slow.endpoint())
        .args(["--all-regions", "--timeout", "4"]);
    let start = std::time::Instant::now();
    let r = Run::from(c.output().unwrap());
    let took = start.elapsed();
    assert!(took.as_secs_f64() < 12.0, "bounded: took {took:?}");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("ap-south-1: no answer within 4 s"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("gamma in us-east-1"),
        "the regions that answered are listed:\n{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_allows_finding_and_removing_by_name() {
    let moto = Moto::start();
    let (proxy, ak, sk) = policy_user(&moto);
    let ip = IpService::start(MY_IP);
    let config = config_text("delta", &ip.url(), "")
        .replace(&format!("region = \"{REGION}\""), "region = \"eu-west-1\"");
    let d = Deployment::new(&proxy.endpoint(), "delta", &config);
    let user = [
        ("AWS_ACCESS_KEY_ID", ak.as_str()),
        ("AWS_SECRET_ACCESS_KEY", sk.as_str()),
    ];
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &[], &user).ok();
    let from = elsewhere(&moto);
    let as_user = |bin: &str, args: &[&str]| {
        let mut c = from.env_command(bin);
        c.env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", &ak)
            .env("AWS_SECRET_ACCESS_KEY", &sk)
            .args(args);
        Run::from(c.output().unwrap())
    };
    let all = as_user(env!("CARGO_BIN_EXE_status"), &["--all-regions", "--json"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let found = all.json();
    assert_eq!(found["deployments"][0]["deployment"], "delta", "{found}");
    // The boot output, as the same user (GetConsoleOutput on its own instance).
    let logs = as_user(
        env!("CARGO_BIN_EXE_logs"),
        &["--region", "eu-west-1", "--name", "delta"],
    );
    assert_eq!(logs.code, 0, "{}", logs.stderr);
    assert!(logs.stdout.starts_with("==> i-"), "{}", logs.stdout);
    let gone = as_user(
        env!("CARGO_BIN_EXE_cleanup"),
        &["--region", "eu-west-1", "--name", "delta", "--yes"],
    );
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    assert_eq!(proxy.stats()["denied"], serde_json::json!([]));
    iam_user(&moto, &["--off"]);
    let aws = Aws::in_region(&moto.endpoint(), "eu-west-1").await;
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    let roles = aws.iam.list_roles().send().await.unwrap();
    assert!(
        !roles
            .roles()
            .iter()
            .any(|r| r.role_name().starts_with("sitedeploy-")),
        "the expiry role went with the last deployment"
    );
}
