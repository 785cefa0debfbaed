//! What real AWS does that moto does not (issue: right the first time on a real
//! account). Each behaviour is put back by tests/support/awsproxy.py, and each
//! test here fails without the tool's answer to it.

mod common;

use std::path::Path;

use common::*;

fn injected(stats: &serde_json::Value, key: &str) -> u64 {
    stats["injected"][key].as_u64().unwrap_or(0)
}

fn calls(stats: &serde_json::Value, action: &str) -> u64 {
    stats["actions"][action].as_u64().unwrap_or(0)
}

/// The parameters of every request of `action` the proxy saw.
fn requests(stats: &serde_json::Value, action: &str) -> Vec<serde_json::Value> {
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .map(|r| r["params"].clone())
        .collect()
}

fn policy() -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam-policy.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The one error line(s) a learner sees: no SDK Debug structures, no WARN line.
#[track_caller]
fn plain_error(r: &Run) -> String {
    assert_ne!(r.code, 0, "{}", r.stderr);
    for noise in [
        "ProviderError(",
        "DispatchFailure(",
        "ConnectorError",
        "source: ",
        " WARN ",
        "{ ",
    ] {
        assert!(!r.stderr.contains(noise), "{noise:?} in\n{}", r.stderr);
    }
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let err: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(err.len(), 1, "{}", r.stderr);
    assert!(
        lines.len() <= 3,
        "more than a couple of lines:\n{}",
        r.stderr
    );
    err[0].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_holding_only_the_policy_can_deploy_see_and_clean_up() {
    // Two evaluators, each doing what the other cannot:
    // - moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT, turned on by
    //   tests/support/iam_user.py) authenticates every request against a real IAM
    //   user made from config/iam-policy.json and checks its actions; moto ignores
    //   Resource and Condition, so that user holds the document's action view;
    // - the proxy evaluates the whole document as AWS would (ARNs, request and
    //   resource tags, tag-on-create, ELB's checks on the caller).
    let moto = Moto::start();
    let policy_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam-policy.json");
    let keys: serde_json::Value = serde_json::from_str(&iam_user(
        &moto,
        &["--policy", policy_path.to_str().unwrap()],
    ))
    .unwrap();
    let (ak, sk) = (
        keys["access_key"].as_str().unwrap().to_string(),
        keys["secret_key"].as_str().unwrap().to_string(),
    );
    let config = serde_json::json!({ "iam_policy": policy(), "resign": keys }).to_string();
    let proxy = Proxy::start(&moto, &config);
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "iam", &ip);

    // Enforcement is on: the test harness's dummy key is refused.
    // AWS's answer to an unknown access key: InvalidClientTokenId (STS and the
    // query APIs) or AuthFailure (EC2), not any failure.
    let refused = d.run(env!("CARGO_BIN_EXE_status"), &[]);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        ["InvalidClientTokenId", "AuthFailure"]
            .iter()
            .any(|c| refused.stderr.contains(c)),
        "not refused for its key: {}",
        refused.stderr
    );

    let user = [
        ("AWS_ACCESS_KEY_ID", ak.as_str()),
        ("AWS_SECRET_ACCESS_KEY", sk.as_str()),
    ];
    let deploy = d.run_env(env!("CARGO_BIN_EXE_deploy"), &["--json"], &user);
    assert_eq!(
        deploy.code,
        0,
        "{}\n{}",
        deploy.stderr,
        proxy.stats()["denied"]
    );
    d.run_env(env!("CARGO_BIN_EXE_status"), &[], &user).ok();
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &[], &user).ok();
    d.run_env(env!("CARGO_BIN_EXE_cleanup"), &["--yes"], &user)
        .ok();
    let stats = proxy.stats();
    assert_eq!(stats["denied"], serde_json::json!([]), "{stats}");
    // Both evaluators did see the creations and deletions they allowed.
    for a in [
        "ImportKeyPair",
        "CreateSecurityGroup",
        "RunInstances",
        "CreateLoadBalancer",
        "TerminateInstances",
        "DeleteLoadBalancer",
        "DeleteSecurityGroup",
    ] {
        assert!(calls(&stats, a) >= 1, "{a} never called: {stats}");
    }
    iam_user(&moto, &["--off"]);
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_before_the_fix_is_refused_where_aws_would() {
    // Without the EC2 permissions ELB checks on the caller, CreateLoadBalancer
    // is denied; without tag-on-create, the dry run names ec2:CreateTags; without
    // RunInstances, it names ec2:RunInstances.
    let cases: [(&str, &str, &str); 3] = [
        (
            "ec2:DescribeInternetGateways",
            "",
            "ec2:DescribeInternetGateways (checked by ELB for Create",
        ),
        ("", "TagOnlyWhileCreating", "ec2:CreateTags"),
        ("", "LaunchOnlyTaggedInstances", "ec2:RunInstances"),
    ];
    for (drop_action, drop_sid, expect) in cases {
        let mut p = policy();
        for st in p["Statement"].as_array_mut().unwrap() {
            if let Some(a) = st["Action"].as_array_mut() {
                a.retain(|x| x != drop_action);
            }
        }
        p["Statement"]
            .as_array_mut()
            .unwrap()
            .retain(|st| st["Sid"] != drop_sid);
        if drop_sid == "TagOnlyWhileCreating" {
            // Creating is allowed without tags, so only tagging is missing and
            // the dry run can tell (with the tool's policy both are denied
            // untagged, and the message names both).
            p["Statement"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "Effect": "Allow",
                    "Action": ["ec2:ImportKeyPair", "ec2:CreateSecurityGroup", "ec2:RunInstances"],
                    "Resource": "*"
                }));
        }
        let moto = Moto::start();
        let proxy = Proxy::start(&moto, &serde_json::json!({ "iam_policy": p }).to_string());
        let ip = IpService::start("203.0.113.7");
        let d = Deployment::simple(&proxy.endpoint(), "deny", &ip);
        let r = d.deploy(&[]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let stats = proxy.stats();
        let denied = stats["denied"].to_string();
        assert!(denied.contains(expect), "{expect} not in {denied}");
        if drop_sid.is_empty() {
            assert!(r.stderr.contains("AccessDenied"), "{}", r.stderr);
        } else {
            assert!(
                r.stderr
                    .contains(&format!("missing IAM permission {expect}")),
                "{}",
                r.stderr
            );
            // Refused in the dry runs: nothing was created.
            assert_eq!(calls(&stats, "CreateTargetGroup"), 0, "{stats}");
            assert_eq!(calls(&stats, "CreateLoadBalancer"), 0, "{stats}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_process_profile_signs_in() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "proc", &ip);
    let marker = d.dir.join("process-ran");
    let script = d.dir.join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIAFROMPROCESS\", \"SecretAccessKey\": \"process-secret\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.dir.join("aws-config"),
        format!(
            "[profile learner]\ncredential_process = /bin/sh {}\n",
            script.display()
        ),
    )
    .unwrap();
    let aws_config = d.dir.join("aws-config");
    let r = d.run_env(
        env!("CARGO_BIN_EXE_status"),
        &["--profile", "learner"],
        &[
            ("AWS_CONFIG_FILE", aws_config.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(marker.exists(), "the credential process never ran");

    // The AWS CLI's order: --profile comes before keys in the environment...
    std::fs::remove_file(&marker).unwrap();
    let config = ("AWS_CONFIG_FILE", aws_config.to_str().unwrap());
    let r = d.run_env(
        env!("CARGO_BIN_EXE_status"),
        &["--profile", "learner"],
        &[config],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(marker.exists(), "--profile lost to the environment's keys");
    assert!(
        r.stderr
            .contains("(credentials: profile learner (credential_process))"),
        "{}",
        r.stderr
    );
    // ... which come before AWS_PROFILE, and the line says so.
    std::fs::remove_file(&marker).unwrap();
    let r = d.run_env(
        env!("CARGO_BIN_EXE_status"),
        &[],
        &[config, ("AWS_PROFILE", "learner")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !marker.exists(),
        "AWS_PROFILE won over the environment's keys"
    );
    assert!(
        r.stderr.contains("credentials: environment variables"),
        "{}",
        r.stderr
    );
    // A profile that is not defined is an error, keys in the environment or not.
    for (args, env) in [
        (vec!["--profile", "nosuch"], vec![config]),
        (vec![], vec![config, ("AWS_PROFILE", "nosuch")]),
    ] {
        let r = d.run_env(env!("CARGO_BIN_EXE_status"), &args, &env);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("AWS profile nosuch")
                && r.stderr.contains("is not defined")
                && r.stderr.contains("defined: learner"),
            "{}",
            r.stderr
        );
    }
    // Every command says whom it acts as before it acts.
    for (bin, args) in [
        (env!("CARGO_BIN_EXE_deploy"), vec!["--plan"]),
        (env!("CARGO_BIN_EXE_status"), vec![]),
        (env!("CARGO_BIN_EXE_cleanup"), vec!["--plan"]),
        (env!("CARGO_BIN_EXE_logs"), vec![]),
    ] {
        let r = d.run(bin, &args);
        assert_eq!(r.code, 0, "{bin}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains("account 123456789012 in us-east-1 as arn:")
                && first.contains("credentials: environment variables"),
            "{bin}: {}",
            r.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_problems_are_one_plain_sentence_with_the_fix() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "creds", &ip);
    let deploy = env!("CARGO_BIN_EXE_deploy");

    // No credentials at all.
    let r = d.run_env(
        deploy,
        &[],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    let e = plain_error(&r);
    assert!(e.contains("no AWS credentials found"), "{e}");
    assert!(
        e.contains("aws configure") && e.contains("aws sso login"),
        "{e}"
    );
    // The detail is still there for -v.
    let r = d.run_env(
        deploy,
        &["-v"],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    assert!(
        r.stderr.contains("credentials could not be loaded"),
        "{}",
        r.stderr
    );

    // A profile that does not exist (and no keys in the environment, which
    // the SDK would take before any profile).
    let r = d.run_env(
        deploy,
        &["--profile", "nosuch"],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    let e = plain_error(&r);
    assert!(
        e.contains("AWS profile nosuch (--profile) is not defined"),
        "{e}"
    );

    // No region anywhere.
    std::fs::write(
        d.dir.join("deploy.toml"),
        config_text("creds", &ip.url(), "").replace("region = \"us-east-1\"\n", ""),
    )
    .unwrap();
    let r = d.deploy(&[]);
    let e = plain_error(&r);
    assert!(e.contains("no AWS region") && e.contains("--region"), "{e}");
    std::fs::write(
        d.dir.join("deploy.toml"),
        config_text("creds", &ip.url(), ""),
    )
    .unwrap();

    // An endpoint nobody answers on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let url = format!("http://127.0.0.1:{port}");
    let r = d.run_env(deploy, &[], &[("AWS_ENDPOINT_URL", &url)]);
    let e = plain_error(&r);
    assert!(e.contains(&format!("could not reach AWS at {url}")), "{e}");

    // Expired temporary credentials.
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_actions": {"GetCallerIdentity": "ExpiredToken"}}"#,
    );
    let r = d.run_env(deploy, &[], &[("AWS_ENDPOINT_URL", &proxy.endpoint())]);
    let e = plain_error(&r);
    assert!(
        e.contains("have expired") && e.contains("aws sso login"),
        "{e}"
    );
    // Nothing was created by any of these.
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_made_moments_ago_are_waited_for_not_failed_on() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"eventual_s": 1.5}"#);
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "late", &ip);
    d.deploy(&[]).ok();
    let stats = proxy.stats();
    // The groups' rules wait for the new groups.
    assert!(
        injected(
            &stats,
            "AuthorizeSecurityGroupIngress:InvalidGroup.NotFound"
        ) >= 1,
        "{stats}"
    );
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));
    // Rules seen at once, the group not yet by the load balancer, or not yet
    // by the launch (which follows the load balancer's creation: apart, so
    // each meets the group while it is new).
    for (action, code) in [
        (
            "CreateLoadBalancer",
            "CreateLoadBalancer:InvalidSecurityGroup",
        ),
        ("RunInstances", "RunInstances:InvalidGroup.NotFound"),
    ] {
        let moto2 = Moto::start();
        let config = format!(r#"{{"eventual_s": 1.5, "eventual_for": ["{action}"]}}"#);
        let proxy2 = Proxy::start(&moto2, &config);
        let d2 = Deployment::simple(&proxy2.endpoint(), "late", &ip);
        d2.deploy(&[]).ok();
        let stats2 = proxy2.stats();
        assert!(
            injected(&stats2, code) >= 1,
            "{code} never answered: {stats2}"
        );
        assert_eq!(
            Aws::new(&moto2.endpoint()).await.counts().await,
            (1, 2, 1, 1, 1)
        );
    }
    // A new key pair holds a launch back too: the groups exist already, the key
    // pair is replaced and the template changes, so the launch follows the
    // import at once.
    let proxy = Proxy::start(
        &moto,
        r#"{"eventual_s": 3, "eventual_for": ["RunInstances"]}"#,
    );
    let d = Deployment::new(
        &proxy.endpoint(),
        "late",
        &config_text("late", &ip.url(), "").replace("id = 2137", "id = 2121"),
    );
    d.deploy(&["--replace-key-pair"]).ok();
    let stats = proxy.stats();
    assert!(
        injected(&stats, "RunInstances:InvalidKeyPair.NotFound") >= 1,
        "{stats}"
    );
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));

    // An Auto Scaling group right after its launch template, group and key
    // pair gets the same "not yet" retries as a launch.
    let moto3 = Moto::start();
    let proxy3 = Proxy::start(
        &moto3,
        r#"{"eventual_s": 2, "eventual_for": ["CreateAutoScalingGroup"]}"#,
    );
    let d3 = Deployment::new(
        &proxy3.endpoint(),
        "latefleet",
        &config_text("latefleet", &ip.url(), "")
            .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2"),
    );
    d3.deploy(&[]).ok();
    let stats = proxy3.stats();
    assert!(
        injected(&stats, "CreateAutoScalingGroup:ValidationError") >= 1,
        "{stats}"
    );
    assert_eq!(
        Aws::new(&moto3.endpoint())
            .await
            .live_instances()
            .await
            .len(),
        2
    );
}

async fn lb_zones(aws: &Aws) -> Vec<String> {
    let lbs = aws.load_balancers().await;
    let mut z: Vec<String> = lbs[0]
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name())
        .map(str::to_string)
        .collect();
    z.sort();
    z
}

#[tokio::test(flavor = "multi_thread")]
async fn the_load_balancer_spans_two_zones_and_skips_a_refused_one() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::simple(&moto.endpoint(), "two", &ip);
    let r = d.deploy(&["--json"]).ok();
    let zones = lb_zones(&aws).await;
    assert_eq!(zones.len(), 2, "{zones:?}");
    let inst = &aws.live_instances().await[0];
    let inst_zone = inst
        .placement()
        .and_then(|p| p.availability_zone())
        .unwrap()
        .to_string();
    assert!(zones.contains(&inst_zone), "{zones:?} {inst_zone}");
    let cost = r.json()["cost"].to_string();
    // The instance's address and one per load balancer zone: 3, not 7.
    assert!(cost.contains("3 public IPv4"), "{cost}");
    d.cleanup(&["--yes"]).ok();

    // Configurable.
    let d = Deployment::new(
        &moto.endpoint(),
        "three",
        &config_text("three", &ip.url(), "[load_balancer]\nzones = 3\n"),
    );
    d.deploy(&[]).ok();
    assert_eq!(lb_zones(&aws).await.len(), 3);
    d.cleanup(&["--yes"]).ok();

    // AWS refuses the zone the instance went to: another one takes its
    // place, deploy says so, and the web server goes to a zone the load
    // balancer serves (a target elsewhere would be `unused` forever).
    let refused = inst_zone.clone();
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "lb_refused_zones": [refused] }).to_string(),
    );
    let d = Deployment::simple(&proxy.endpoint(), "refused", &ip);
    let r = d.deploy(&[]).ok();
    let now = lb_zones(&aws).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(!now.contains(&refused), "{now:?}");
    assert!(
        r.stdout
            .contains(&format!("AWS refused the load balancer in {refused}")),
        "{}",
        r.stdout
    );
    let live = aws.live_instances().await;
    let placed: Vec<&str> = live
        .iter()
        .filter_map(|i| i.placement().and_then(|p| p.availability_zone()))
        .collect();
    assert_eq!(placed.len(), 1, "{placed:?}");
    assert!(
        now.iter().any(|z| z == placed[0]),
        "{placed:?} not in {now:?}"
    );
    d.cleanup(&["--yes"]).ok();

    // A fleet too: its subnets are the load balancer's zones.
    let d = Deployment::new(
        &proxy.endpoint(),
        "refusedf",
        &config_text("refusedf", &ip.url(), "")
            .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2"),
    );
    d.deploy(&[]).ok();
    let now = lb_zones(&aws).await;
    assert!(!now.contains(&refused), "{now:?}");
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 2);
    for i in &live {
        let z = i.placement().and_then(|p| p.availability_zone()).unwrap();
        assert!(now.iter().any(|n| n == z), "{z} not in {now:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_private_key_is_made_here_and_never_lost() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;

    // The answer of the import is lost: the same run converges.
    let proxy = Proxy::start(&moto, r#"{"drop_after_actions": {"ImportKeyPair": 1}}"#);
    let d = Deployment::simple(&proxy.endpoint(), "keys", &ip);
    d.deploy(&[]).ok();
    let pem = std::fs::read_to_string(d.pem()).unwrap();
    assert!(
        pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{pem}"
    );
    let keys = aws.key_pairs().await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_type().map(|t| t.as_str()), Some("ed25519"));
    assert!(injected(&proxy.stats(), "drop_after") >= 1);
    // No private key went over the wire: only a public key was sent.
    let imports = requests(&proxy.stats(), "ImportKeyPair");
    assert!(!imports.is_empty());
    assert!(requests(&proxy.stats(), "CreateKeyPair").is_empty());
    // The key pair matches the file: a second deploy keeps it.
    let r = d.deploy(&["--json"]).ok();
    assert_eq!(r.json()["resources"][0]["action"], "keep");
    d.cleanup(&["--yes"]).ok();

    // Killed between writing the .pem and importing it: the next run imports
    // that same key.
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_real_actions": {"ImportKeyPair": "InternalError"}}"#,
    );
    let d = Deployment::simple(&proxy.endpoint(), "killed", &ip);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let written = std::fs::read_to_string(d.pem()).unwrap();
    assert!(aws.key_pairs().await.is_empty());
    let healthy = Proxy::start(&moto, "{}");
    let d2 = Deployment::new(
        &healthy.endpoint(),
        "killed",
        &config_text("killed", &ip.url(), ""),
    );
    std::fs::write(d2.pem(), &written).unwrap();
    d2.deploy(&[]).ok();
    assert_eq!(std::fs::read_to_string(d2.pem()).unwrap(), written);
    assert_eq!(aws.key_pairs().await.len(), 1);

    // A .pem of another key: deploy stops and explains.
    let other = Deployment::new(
        &healthy.endpoint(),
        "killed",
        &config_text("killed", &ip.url(), ""),
    );
    let stranger = Deployment::simple(&healthy.endpoint(), "stranger", &ip);
    stranger.deploy(&[]).ok();
    std::fs::write(other.pem(), std::fs::read(stranger.pem()).unwrap()).unwrap();
    let r = other.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("does not match the private key"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--replace-key-pair"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn t_instances_launch_with_standard_credits() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, "{}");
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "credit", &ip);
    d.deploy(&[]).ok();
    let runs = requests(&proxy.stats(), "RunInstances");
    let real: Vec<_> = runs.iter().filter(|p| p["DryRun"] != "true").collect();
    assert_eq!(real.len(), 1, "{runs:?}");
    assert_eq!(
        real[0]["CreditSpecification.CpuCredits"], "standard",
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_a_b_a_and_a_stopped_instance() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let a = config_text("abc", &ip.url(), "");
    let b = a
        .replace("slug = \"barista_cafe\"", "slug = \"wave_cafe\"")
        .replace("id = 2137", "id = 2121");
    let d = Deployment::new(&moto.endpoint(), "abc", &a);
    let first = d.deploy(&["--json"]).ok().json()["instances"][0]["id"].clone();
    std::fs::write(d.dir.join("deploy.toml"), &b).unwrap();
    d.deploy(&[]).ok();
    std::fs::write(d.dir.join("deploy.toml"), &a).unwrap();
    // The client token of A's first launch is answered with its (terminated)
    // instance by AWS; deploy must launch a new one, not report an error.
    let third = d.deploy(&["--json"]).ok().json()["instances"][0]["id"].clone();
    assert_ne!(first, third);
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 1);
    assert_eq!(serde_json::json!(live[0].instance_id().unwrap()), third);

    // Stopped by the learner: deploy starts it again.
    let id = third.as_str().unwrap().to_string();
    aws.ec2
        .stop_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let r = d.deploy(&["--json"]).ok();
    assert_eq!(r.json()["instances"][0]["id"], third);
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 1);
    assert_eq!(
        live[0].state().and_then(|s| s.name()).map(|n| n.as_str()),
        Some("running")
    );
    assert!(r.stderr.contains("starting it"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_of_ones_own_uses_only_internet_routed_subnets() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, "{}");
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let igw = aws.ec2.create_internet_gateway().send().await.unwrap();
    let igw_id = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    aws.ec2
        .attach_internet_gateway()
        .internet_gateway_id(&igw_id)
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    let rt = aws
        .ec2
        .create_route_table()
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    let rt_id = rt
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    aws.ec2
        .create_route()
        .route_table_id(&rt_id)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw_id)
        .send()
        .await
        .unwrap();
    let mut public = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b", "us-east-1c"]
        .iter()
        .enumerate()
    {
        let s = aws
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.9.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        let sid = s.subnet().unwrap().subnet_id().unwrap().to_string();
        // us-east-1a stays private (main table, no internet route).
        if i > 0 {
            aws.ec2
                .associate_route_table()
                .route_table_id(&rt_id)
                .subnet_id(&sid)
                .send()
                .await
                .unwrap();
            public.push(sid);
        }
    }
    let d = Deployment::new(
        &proxy.endpoint(),
        "ownvpc",
        &config_text("ownvpc", &ip.url(), "").replace(
            "region = \"us-east-1\"\n",
            &format!("region = \"us-east-1\"\nvpc_id = \"{vpc_id}\"\n"),
        ),
    );
    d.deploy(&[]).ok();
    let runs = requests(&proxy.stats(), "RunInstances");
    let real: Vec<_> = runs.iter().filter(|p| p["DryRun"] != "true").collect();
    // The subnets do not map public addresses: the launch asks for one.
    assert_eq!(
        real[0]["NetworkInterface.1.AssociatePublicIpAddress"], "true",
        "{runs:?}"
    );
    let sub = real[0]["NetworkInterface.1.SubnetId"].as_str().unwrap();
    assert!(public.iter().any(|p| p == sub), "{sub} {public:?}");
    let lbs = requests(&proxy.stats(), "CreateLoadBalancer");
    let lb_subnets: Vec<&str> = lbs[0]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("Subnets.member."))
        .map(|(_, v)| v.as_str().unwrap())
        .collect();
    assert_eq!(lb_subnets.len(), 2);
    assert!(
        lb_subnets.iter().all(|s| public.iter().any(|p| p == s)),
        "{lb_subnets:?}"
    );

    // A VPC id that does not exist: one plain sentence.
    let d = Deployment::new(
        &proxy.endpoint(),
        "novpc",
        &config_text("novpc", &ip.url(), "").replace(
            "region = \"us-east-1\"\n",
            "region = \"us-east-1\"\nvpc_id = \"vpc-0000000000000000a\"\n",
        ),
    );
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("VPC vpc-0000000000000000a (vpc_id in deploy.toml) does not exist"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_group_whose_interfaces_cannot_be_listed_goes_at_the_polling_pace() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"lb_linger_s": 4, "lb_interfaces_hidden": true}"#);
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "hidden", &ip);
    d.deploy(&[]).ok();
    proxy.reset();
    d.cleanup(&["--yes"]).ok();
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    // The group held by the load balancer's hidden interfaces for 4 s: asked
    // again at the polling pace (every 0.5 s: 8 refusals), where a 1-2-4-8 s
    // backoff would have asked at most 4 times. Counted, not timed.
    let stats = proxy.stats();
    let order: Vec<(String, String)> = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let group = r["params"]["GroupId"].as_str().unwrap_or_default();
            (r["action"].as_str().unwrap().to_string(), group.to_string())
        })
        .collect();
    let lb_deleted = order
        .iter()
        .position(|(a, _)| a == "DeleteLoadBalancer")
        .expect("no DeleteLoadBalancer");
    let deletes: Vec<&(String, String)> = order
        .iter()
        .filter(|(a, _)| a == "DeleteSecurityGroup")
        .collect();
    let held = deletes
        .iter()
        .map(|(_, g)| g)
        .max_by_key(|g| deletes.iter().filter(|(_, x)| x == *g).count())
        .unwrap();
    let attempts = deletes.iter().filter(|(_, g)| g == held).count();
    assert!(attempts >= 6, "{attempts} attempts: {order:?}");
    assert!(
        order
            .iter()
            .position(|(a, g)| a == "DeleteSecurityGroup" && g == held)
            > Some(lb_deleted),
        "{order:?}"
    );
    assert!(
        injected(&stats, "DeleteSecurityGroup:DependencyViolation") as usize == attempts - 1,
        "every attempt but the last refused: {stats}"
    );
}
