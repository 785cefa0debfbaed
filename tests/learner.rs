//! The learner's workflow through the binaries: `--plan` predicts exactly what
//! deploy then does and creates nothing; `status` before and after; a template
//! change replaces the instance behind the same load balancer; preflight
//! messages; the site check against a local server and a dead one.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

/// `(kind, name, action)` of every row, sorted (a fleet has several rows of
/// one kind and name).
fn actions(rows: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Plan rows must match the deploy that follows, resource by resource: the
/// same rows with the same actions, in the same numbers, and every id the
/// plan knew is the summary's.
fn assert_plan_matches(plan: &serde_json::Value, summary: &serde_json::Value) {
    assert_eq!(
        actions(&plan["resources"]),
        actions(&summary["resources"]),
        "plan vs deploy"
    );
    assert_eq!(plan["totals"], summary["totals"], "totals");
    for r in plan["resources"].as_array().unwrap() {
        if r["id"].is_null() {
            continue;
        }
        assert!(
            summary["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == r["kind"] && s["id"] == r["id"]),
            "{r} not in the summary"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_predicts_deploy_status_follows_and_a_template_change_keeps_the_url() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "learn", &ip);
    let aws = Aws::new(&moto.endpoint()).await;

    // status before anything exists
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert!(st["resources"].as_array().unwrap().is_empty(), "{st}");
    assert!(st["url"].is_null());

    // plan on an empty account: everything to create, nothing created
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    // key pair, 2 groups, target group, load balancer, listener, the
    // CloudFront distribution, instance, target, the expiry's role, group and
    // 2 schedules: all to create (the target too, on an empty account), none
    // with an id yet
    let rows = actions(&plan["resources"]);
    assert_eq!(rows.len(), 13, "{plan}");
    assert!(rows.iter().all(|(_, _, a)| a == "create"), "{plan}");
    assert_eq!(plan["totals"]["create"], 13, "{plan}");
    assert!(plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"].is_null()));
    assert_eq!(
        aws.counts().await,
        (0, 0, 0, 0, 0),
        "--plan created something"
    );
    assert!(!exists(&d.pem()));
    let text_plan = d.deploy(&["--plan"]).ok();
    assert!(
        text_plan.stdout.contains("create   load balancer"),
        "{}",
        text_plan.stdout
    );

    let first = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan, &first);
    assert!(
        first["cost"]["per_hour"].as_f64().unwrap() > 0.03,
        "{}",
        first["cost"]
    );

    // plan again: everything exists, and deploy agrees
    let plan2 = d.deploy(&["--plan", "--json"]).ok().json();
    // Everything exists; the expiry is counted again from now.
    assert!(
        actions(&plan2["resources"])
            .iter()
            .all(|(kind, _, a)| a == if kind == "schedule" { "update" } else { "keep" }),
        "{plan2}"
    );
    let second = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan2, &second);

    // status after deploy: resources, the URL, a healthy target
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert_eq!(st["url"], first["url"]);
    assert_eq!(st["load_balancer_state"], "active");
    assert_eq!(st["targets"][0]["id"], first["instances"][0]["id"]);
    assert_eq!(st["targets"][0]["state"], "healthy");
    let kinds: Vec<&str> = st["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "key pair",
            "security group",
            "security group",
            "target group",
            "load balancer",
            "distribution",
            "listener",
            "instance",
            "target",
            "role",
            "schedule group",
            "schedule",
            "schedule"
        ]
    );

    // the learner changes the template
    let changed = config_text("learn", &ip.url(), "").replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    let plan3 = d.deploy(&["--plan", "--json"]).ok().json();
    assert!(
        actions(&plan3["resources"]).contains(&(
            "instance".to_string(),
            "learn-web".to_string(),
            "replace".to_string()
        )),
        "{plan3}"
    );
    let third = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan3, &third);
    let old = first["instances"][0]["id"].as_str().unwrap();
    let new = third["instances"][0]["id"].as_str().unwrap();
    assert_ne!(old, new);
    assert_eq!(third["replaced"], serde_json::json!([old]));
    assert_eq!(third["url"], first["url"], "the URL must not change");
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].instance_id(), Some(new));
    let tg = aws.target_groups().await[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let health = aws
        .elb
        .describe_target_health()
        .target_group_arn(&tg)
        .send()
        .await
        .unwrap();
    let registered: Vec<_> = health
        .target_health_descriptions()
        .iter()
        .filter_map(|t| t.target().and_then(|t| t.id()))
        .collect();
    assert_eq!(
        registered,
        vec![new],
        "the old instance must be deregistered"
    );
    assert_eq!(aws.load_balancers().await.len(), 1);

    // cleanup --plan lists, deletes nothing; status after cleanup is empty
    let cplan = d.cleanup(&["--plan", "--json"]).ok().json();
    assert_eq!(cplan["resources"].as_array().unwrap().len(), 13, "{cplan}");
    assert!(cplan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["action"] == "delete"));
    // The .pem goes too, and the plan says so.
    assert_eq!(
        cplan["local_files"][0]["path"],
        d.pem().display().to_string(),
        "{cplan}"
    );
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));
    d.cleanup(&["--yes"]).ok();
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok();
    assert!(
        st.stdout.contains("nothing of this deployment exists"),
        "{}",
        st.stdout
    );
    let cplan = d.cleanup(&["--plan"]).ok();
    assert!(
        cplan.stdout.contains("Nothing to delete"),
        "{}",
        cplan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_explains_missing_default_vpc_one_zone_and_bad_credentials() {
    // bad credentials: the proxy answers GetCallerIdentity like AWS does
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_actions": {"GetCallerIdentity": "InvalidClientTokenId"}}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::simple(&proxy.endpoint(), "cred", &ip);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("AWS rejected the credentials (InvalidClientTokenId)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("aws configure"), "{}", r.stderr);
    assert!(!r.stderr.contains("service error"), "{}", r.stderr);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));

    // one zone: delete all default subnets but one
    let subnets = aws.ec2.describe_subnets().send().await.unwrap();
    let mut ids: Vec<String> = subnets
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    ids.sort();
    for id in &ids[1..] {
        aws.ec2.delete_subnet().subnet_id(id).send().await.unwrap();
    }
    let d = Deployment::simple(&moto.endpoint(), "zone", &ip);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("at least two availability zones"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("one zone only"), "{}", r.stderr);
    assert!(r.stderr.contains("create-default-subnet"), "{}", r.stderr);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));

    // no default VPC: delete it
    aws.ec2
        .delete_subnet()
        .subnet_id(&ids[0])
        .send()
        .await
        .unwrap();
    let vpc = aws.ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let igws = aws.ec2.describe_internet_gateways().send().await.unwrap();
    for igw in igws.internet_gateways() {
        let id = igw.internet_gateway_id().unwrap();
        aws.ec2
            .detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        aws.ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .unwrap();
    }
    aws.ec2.delete_vpc().vpc_id(&vpc).send().await.unwrap();
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("the account has no default VPC in us-east-1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("aws ec2 create-default-vpc"),
        "{}",
        r.stderr
    );
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

/// A local web server answering every request with `status`.
/// A stand-in for the load balancer answering `status` itself (as an ALB's
/// own answers say: `Server: awselb/2.0`).
fn site(status: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "<h1>Barista Cafe</h1>";
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nServer: awselb/2.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn site_check_passes_against_a_live_server_and_times_out_clearly_on_a_dead_one() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "web", &ip);
    let fake = FakeSite::start(&moto, "installed", None);
    let addr = fake.address();
    let (k, v) = fake.tls_env();
    let r = d
        .run_env(
            env!("CARGO_BIN_EXE_deploy"),
            &["--json", "--site-address", &addr],
            &[("SITEDEPLOY_NO_SITE_CHECK", "false"), (k, v.as_str())],
        )
        .ok();
    // The servers below answer plain HTTP, as the load balancer does: the
    // distribution is turned off for them.
    let env = [("SITEDEPLOY_NO_SITE_CHECK", "false")];
    let plain = config_text("web", &ip.url(), "\n[https]\nenabled = false\n");
    std::fs::write(d.dir.join("deploy.toml"), plain).unwrap();
    assert_eq!(r.json()["site"]["status"], 200);
    assert!(
        r.stderr.contains("serves template 2137_barista_cafe"),
        "{}",
        r.stderr
    );

    // A server that answers 503, then nothing at all: both time out clearly.
    let busy = format!("127.0.0.1:{}", site("503 Service Unavailable"));
    let r = d.run_env(
        env!("CARGO_BIN_EXE_deploy"),
        &["--site-address", &busy, "--site-timeout", "3"],
        &env,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("to serve this deploy's site after 3s (last state: 0 of 1 web servers proven; the load balancer answered HTTP 503 for http://"),
        "{}",
        r.stderr
    );

    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let r = d.run_env(
        env!("CARGO_BIN_EXE_deploy"),
        &["--site-address", &dead_addr, "--site-timeout", "3"],
        &env,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("to serve this deploy's site after 3s"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("refused the connection on port"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_old_instance_leaves_only_after_the_new_one_is_in_service() {
    let moto = Moto::start();
    // A registered target is `initial` for 2 s before it is `healthy`.
    let proxy = Proxy::start(
        &moto,
        r#"{"target_initial_s": 2, "deregistration_delay_s": 1}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "swap", &ip);
    d.deploy(&[]).ok();
    let changed = config_text("swap", &ip.url(), "").replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    proxy.reset();
    let r = d.deploy(&[]).ok();
    assert!(r.stderr.contains(" initial"), "{}", r.stderr);
    let stats = proxy.stats();
    let first = |a: &str| {
        stats["first"][a]
            .as_f64()
            .unwrap_or_else(|| panic!("no {a}: {stats}"))
    };
    assert!(
        first("DeregisterTargets") - first("RegisterTargets") >= 2.0,
        "the old instance was deregistered before the new one was healthy: {stats}"
    );
    assert!(
        first("TerminateInstances") >= first("DeregisterTargets"),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_leaves_a_foreign_load_balancer_and_target_group_alone() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let vpc = aws.ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let subnets: Vec<String> = aws
        .ec2
        .describe_subnets()
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .take(2)
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    aws.elb
        .create_target_group()
        .name("other-tg")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    aws.elb
        .create_load_balancer()
        .name("other-alb")
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();

    let d = Deployment::simple(&moto.endpoint(), "other", &ip);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not created by this tool"),
        "{}",
        r.stderr
    );
    // found in the look-ups, before anything was created
    assert!(aws.key_pairs().await.is_empty());
    assert!(aws.groups().await.is_empty());

    let plan = d.cleanup(&["--plan"]).ok();
    assert!(plan.stdout.contains("Nothing to delete"), "{}", plan.stdout);
    let c = d.cleanup(&["--yes"]).ok();
    assert!(
        c.stdout.contains("left alone: not created by this tool"),
        "{}",
        c.stdout
    );
    assert_eq!(
        aws.load_balancers().await.len(),
        1,
        "the foreign load balancer must stay"
    );
    assert_eq!(
        aws.target_groups().await.len(),
        1,
        "the foreign target group must stay"
    );
    assert!(aws.live_instances().await.is_empty());
    assert!(aws.key_pairs().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_each_step_gets_a_spinner_and_its_elapsed_time() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"instance_pending_s": 2, "lb_provisioning_s": 5}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "tty", &ip);
    // `script` runs deploy on a pseudo-terminal and records what it drew.
    let cmd = format!("{} --config deploy.toml", env!("CARGO_BIN_EXE_deploy"));
    let out = d
        .env_command("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("TERM", "xterm-256color")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    // finished steps in green, a wait shown with the time waited so far, a spinner
    assert!(screen.contains("\u{1b}[32mkey pair"), "{screen}");
    assert!(screen.contains("provisioning, waited"), "{screen}");
    let spinner = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];
    assert!(screen.chars().any(|c| spinner.contains(&c)), "{screen}");
    // no plain timestamped lines on a terminal; the summary is there
    assert!(!screen.contains("[   0."), "{screen}");
    assert!(screen.contains("Site:"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_makes_the_checks_deploy_would_before_anything_is_created() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let check = ("SITEDEPLOY_NO_TEMPLATE_CHECK", "false");

    // A template that does not exist: a definite "not found" stops the plan
    // and deploy, before anything is created or billed.
    let missing = IpService::with_status(404, "Not Found");
    let config = config_text("tpl", &ip.url(), "").replace(
        "id = 2137\nslug = \"barista_cafe\"",
        &format!(
            "id = 21370\nslug = \"nope\"\nurl = \"{}21370_nope.zip\"",
            missing.url()
        ),
    );
    let d = Deployment::new(&moto.endpoint(), "tpl", &config);
    for args in [vec!["--plan"], vec![]] {
        let r = d.run_env(env!("CARGO_BIN_EXE_deploy"), &args, &[check]);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("template 21370_nope does not exist")
                && r.stderr.contains("HTTP 404")
                && r.stderr.contains("https://www.tooplate.com/"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(!exists(&d.pem()));

    // One this machine cannot reach: only a warning (the web servers
    // download it, not this machine).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = config_text("tpl", &ip.url(), "").replace(
        "slug = \"barista_cafe\"",
        &format!("slug = \"barista_cafe\"\nurl = \"http://127.0.0.1:{port}/x.zip\""),
    );
    std::fs::write(d.dir.join("deploy.toml"), config).unwrap();
    let r = d.run_env(env!("CARGO_BIN_EXE_deploy"), &["--plan"], &[check]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("warning: could not check template 2137_barista_cafe"),
        "{}",
        r.stdout
    );

    // A read-only user: the plan runs deploy's dry runs and says what is
    // missing, instead of a clean plan.
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam-policy.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut reads: Vec<serde_json::Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            [
                "ReadOnlyLookups",
                "ReadExpiryRole",
                "ReadExpiryScheduleGroups",
            ]
            .contains(&s["Sid"].as_str().unwrap_or_default())
        })
        .cloned()
        .collect();
    reads.push(serde_json::json!({
        "Effect": "Allow", "Action": "scheduler:GetSchedule", "Resource": "*"
    }));
    let read_only = serde_json::json!({ "Version": "2012-10-17", "Statement": reads });
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "iam_policy": read_only }).to_string(),
    );
    let d = Deployment::simple(&proxy.endpoint(), "readonly", &ip);
    let r = d.deploy(&["--plan"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("these credentials may not"),
        "{}",
        r.stderr
    );
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_on_a_terminal_keeps_the_history_and_says_interrupted() {
    // SIGTERM (as Ctrl-C) while the load balancer provisions: the finished
    // steps stay on the screen (printed again as plain lines once the bars
    // are cleared), the unfinished ones say "interrupted", not "stopped".
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"instance_pending_s": 60, "lb_provisioning_s": 60}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "ttyint", &ip);
    let config = d.dir.join("deploy.toml");
    let cmd = format!(
        "{} --config {}",
        env!("CARGO_BIN_EXE_deploy"),
        config.display()
    );
    let child = d
        .env_command("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("TERM", "xterm-256color")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while proxy.stats()["actions"]["RunInstances"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(start.elapsed().as_secs() < 60, "deploy never launched");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The deploy process itself (not `script`, whose command line names it
    // too but starts with "script").
    let pattern = format!("^{cmd}$");
    let pid = std::process::Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty(), "no deploy process");
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(screen.contains("interrupted"), "{screen}");
    assert!(!screen.contains("stopped"), "{screen}");
    // After the bars are cleared, each finished step is a plain line, and the
    // report of what exists follows.
    let spinner = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];
    let last_frame = screen
        .char_indices()
        .rev()
        .find(|(_, c)| spinner.contains(c))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let tail = &screen[last_frame..];
    let kept = tail
        .lines()
        .find(|l| l.contains("key pair") && l.contains("created ttyint-key"))
        .unwrap_or_else(|| panic!("the key pair's step is gone from the screen:\n{tail}"));
    assert!(!kept.contains('\u{1b}'), "{kept:?}");
    assert!(tail.contains(" interrupted"), "{tail}");
    assert!(tail.contains("What exists now:"), "{tail}");
    assert!(tail.contains("deploy of ttyint was interrupted"), "{tail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_shows_what_goes_before_it_asks_and_a_wrong_name_lists_the_others() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "askme", &ip);
    d.deploy(&[]).ok();
    // On a terminal, answered "n": the list (the .pem included) and the
    // count come before the question; nothing is deleted.
    let cmd = format!(
        "{} --config {}",
        env!("CARGO_BIN_EXE_cleanup"),
        d.dir.join("deploy.toml").display()
    );
    let mut child = d
        .env_command("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).to_string();
    let asked = screen
        .find("Delete these 13 resources and 1 local file of deployment askme")
        .unwrap_or_else(|| panic!("no question with the count:\n{screen}"));
    let listed = &screen[..asked];
    for part in [
        "delete   load balancer",
        "delete   instance",
        "local file",
        &d.pem().display().to_string(),
    ] {
        assert!(
            listed.contains(part),
            "{part:?} not listed first:\n{screen}"
        );
    }
    assert!(
        screen.contains("cancelled: nothing was deleted"),
        "{screen}"
    );
    assert!(exists(&d.pem()));
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));

    // The report says the .pem went, in the text and the JSON.
    let report = d.cleanup(&["--yes", "--json"]).ok().json();
    assert_eq!(
        report["local_files"][0]["path"],
        d.pem().display().to_string()
    );
    assert!(!exists(&d.pem()));

    // A misspelt --name: nothing to delete, and the deployments that do exist.
    let other = Deployment::simple(&moto.endpoint(), "alpha", &ip);
    other.deploy(&[]).ok();
    let mut c = d.env_command(env!("CARGO_BIN_EXE_cleanup"));
    c.args(["--region", "us-east-1", "--name", "alpah", "--yes"]);
    let r = Run::from(c.output().unwrap()).ok();
    assert!(r.stdout.contains("Nothing to delete"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("no deployment named alpah in us-east-1; deployments there: alpha"),
        "{}",
        r.stderr
    );
    other.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_and_the_summary_tell_the_same_story_when_count_grows() {
    // count 1 -> 3: the plan lists the group, the three instances and
    // targets it launches, and the single instance and its target going;
    // the summary has the same rows with the same actions, ids filled in.
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "grow", &ip);
    d.deploy(&[]).ok();
    let three = config_text("grow", &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 3");
    std::fs::write(d.dir.join("deploy.toml"), three).unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let rows = actions(&plan["resources"]);
    let count = |kind: &str, action: &str| {
        rows.iter()
            .filter(|(k, _, a)| k == kind && a == action)
            .count()
    };
    assert_eq!(count("instance", "create"), 3, "{plan}");
    assert_eq!(count("target", "create"), 3, "{plan}");
    assert_eq!(count("instance", "delete"), 1, "{plan}");
    assert_eq!(count("target", "delete"), 1, "{plan}");
    assert_eq!(count("Auto Scaling group", "create"), 1, "{plan}");
    // The cost before and after: one t3.micro to three.
    let (now, after) = (
        plan["cost"]["per_hour_now"].as_f64().unwrap(),
        plan["cost"]["per_hour"].as_f64().unwrap(),
    );
    assert!(
        (now - 0.0568).abs() < 0.001 && (after - 0.0893).abs() < 0.001,
        "{plan}"
    );
    let text = d.deploy(&["--plan"]).ok().stdout;
    assert!(
        text.contains("Cost: $0.057/hour now -> about $0.089/hour once deployed"),
        "{text}"
    );
    assert!(
        text.contains("to create") && text.contains("Apply it with: "),
        "{text}"
    );
    let summary = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan, &summary);
    assert!(
        summary["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["id"].is_null()),
        "{summary}"
    );
    // Every web server has its SSH line.
    let text = d.deploy(&[]).ok().stdout;
    assert_eq!(text.matches("ssh -i ").count(), 3, "{text}");
    // Cleanup's progress and report agree on the group's instances.
    let c = d.cleanup(&["--yes"]).ok();
    assert!(
        c.stderr
            .contains("instance: 3 deleted with the Auto Scaling group"),
        "{}",
        c.stderr
    );
    assert_eq!(c.stdout.matches("instance ").count(), 3, "{}", c.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn cost_so_far_never_goes_down_when_a_web_server_is_replaced() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "costs", &ip);
    d.deploy(&[]).ok();
    // The instance ran a while (its launch time, as the emulator keeps it, is
    // now): the record of what retired servers ran keeps it counted.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json()["cost_so_far"]
        ["dollars"]
        .as_f64()
        .unwrap();
    let changed = config_text("costs", &ip.url(), "").replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    d.deploy(&[]).ok();
    let after = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json()["cost_so_far"]
        ["dollars"]
        .as_f64()
        .unwrap();
    assert!(
        after >= before,
        "cost so far went down: {before} -> {after}"
    );
    // status shows each web server with its address, SSH command and template.
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    assert!(
        st.contains("Server: i-") && st.contains("template 2137_coffee_shop"),
        "{st}"
    );
    assert!(st.contains("  SSH: ssh -i "), "{st}");
    assert!(
        st.contains("load balancer active, 1 of 1 web server(s) healthy"),
        "{st}"
    );
    let aws = Aws::new(&moto.endpoint()).await;
    let lb = &aws.load_balancers().await[0];
    let tags = aws
        .elb
        .describe_tags()
        .resource_arns(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let retired = tags.tag_descriptions()[0]
        .tags()
        .iter()
        .find(|t| t.key() == Some("SitedeployRetiredHours"))
        .and_then(|t| t.value())
        .unwrap_or_else(|| panic!("no record of the retired instance: {tags:?}"))
        .parse::<f64>()
        .unwrap();
    assert!(retired > 0.0);
    d.cleanup(&["--yes"]).ok();
}
