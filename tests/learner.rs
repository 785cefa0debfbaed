//! The learner's workflow through the binaries: `--plan` predicts exactly what
//! deploy then does and creates nothing; `status` before and after; a template
//! change replaces the instance behind the same load balancer; preflight
//! messages; the site check against a local server and a dead one.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

fn rows_by_name(v: &serde_json::Value, field: &str) -> BTreeMap<(String, String), String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["kind"].as_str().unwrap().to_string(),
                    r["name"].as_str().unwrap().to_string(),
                ),
                r[field].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn outcome_as_plan_word(o: &str) -> String {
    match o {
        "created" => "create",
        "existing" => "exists",
        "updated" => "update",
        "replaced" => "replace",
        other => other,
    }
    .to_string()
}

/// Plan rows must match the deploy that follows, resource by resource.
fn assert_plan_matches(plan: &serde_json::Value, summary: &serde_json::Value) {
    let planned = rows_by_name(plan, "action");
    let done: BTreeMap<_, _> = rows_by_name(&summary["resources"], "outcome")
        .into_iter()
        .map(|(k, v)| (k, outcome_as_plan_word(&v)))
        .collect();
    assert_eq!(planned, done, "plan vs deploy");
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
    let actions = rows_by_name(&plan, "action");
    // key pair, 2 groups, target group, load balancer, listener, instance,
    // target, the expiry's role, group and 2 schedules
    assert_eq!(actions.len(), 12, "{plan}");
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
        rows_by_name(&plan2, "action").iter().all(|((kind, _), a)| a
            == if kind == "schedule" {
                "update"
            } else {
                "exists"
            }),
        "{plan2}"
    );
    let second = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan2, &second);

    // status after deploy: resources, the URL, a healthy target
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert_eq!(st["url"], first["url"]);
    assert_eq!(st["load_balancer_state"], "active");
    assert_eq!(st["targets"][0][0], first["instance_id"]);
    assert_eq!(st["targets"][0][1], "healthy");
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
    let a3 = rows_by_name(&plan3, "action");
    assert_eq!(
        a3[&("instance".to_string(), "learn-web".to_string())],
        "replace",
        "{plan3}"
    );
    let third = d.deploy(&["--json"]).ok().json();
    assert_plan_matches(&plan3, &third);
    let old = first["instance_id"].as_str().unwrap();
    let new = third["instance_id"].as_str().unwrap();
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
    assert_eq!(cplan.as_array().unwrap().len(), 12, "{cplan}");
    assert!(cplan
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["action"] == "delete"));
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));
    d.cleanup(&["--yes"]).ok();
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok();
    assert!(
        st.stdout.contains("nothing of this deployment exists"),
        "{}",
        st.stdout
    );
    let cplan = d.cleanup(&["--plan"]).ok();
    assert!(cplan.stdout.contains("Nothing to do."), "{}", cplan.stdout);
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
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
    let env = [("SITEDEPLOY_NO_SITE_CHECK", "false")];
    let r = d
        .run_env(
            env!("CARGO_BIN_EXE_deploy"),
            &["--json", "--site-address", &addr],
            &env,
        )
        .ok();
    assert_eq!(r.json()["site_status"], 200);
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
            .contains("to serve this deploy's site after 3s (last state: 0 of 1 web servers proven; HTTP 503)"),
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
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
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
    assert!(plan.stdout.contains("Nothing to do."), "{}", plan.stdout);
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
        r#"{"instance_pending_s": 2, "lb_provisioning_s": 2}"#,
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
    assert!(screen.contains("\u{1b}[32mcredentials"), "{screen}");
    assert!(screen.contains("provisioning, waited"), "{screen}");
    let spinner = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];
    assert!(screen.chars().any(|c| spinner.contains(&c)), "{screen}");
    // no plain timestamped lines on a terminal; the summary is there
    assert!(!screen.contains("[   0."), "{screen}");
    assert!(screen.contains("Site:"), "{screen}");
}
