//! The site is proven, and a failure explains itself: deploy accepts the site
//! only when every new web server's marker (written by its own boot script,
//! run by tests/support/fakesite.py from the instance's user data) says
//! "installed" with the current fingerprint; it fails fast with the cause and
//! the boot output; a failing new template leaves the old web server serving.

mod common;

use std::time::{Duration, Instant};

use common::*;

const CHECK: (&str, &str) = ("SITEDEPLOY_NO_SITE_CHECK", "false");

/// Console lines as an instance would print them: colours, a carriage
/// return, a secret the boot script should not have echoed.
fn console() -> serde_json::Value {
    serde_json::json!([
        "\u{1b}[32m[  OK  ]\u{1b}[0m Started cloud-init.service.\r",
        "sitedeploy: installing 2137_barista_cafe for web",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
        "sitedeploy: fallback page served (the download failed)",
        "sitedeploy: done",
    ])
}

/// The tool trusts the edge's certificate.
fn tls(site: &FakeSite) -> (&'static str, &'static str) {
    let (k, v) = site.tls_env();
    (k, v.leak())
}

fn deploy_with(d: &Deployment, site: &FakeSite, extra: &[&str]) -> (Run, Duration) {
    let mut args = vec!["--json", "--site-address", site.address().leak()];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let r = d.run_env(env!("CARGO_BIN_EXE_deploy"), &args, &[CHECK, tls(site)]);
    (r, start.elapsed())
}

/// Deploys `name` through a proxy configured with `proxy_config`, the real
/// site behind it; returns the run and how long it took.
fn deploy_through(
    moto: &Moto,
    proxy_config: serde_json::Value,
    name: &str,
    extra: &[&str],
) -> (Run, Duration) {
    let proxy = Proxy::start(moto, &proxy_config.to_string());
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(moto, "installed", None);
    let d = Deployment::simple(&proxy.endpoint(), name, &ip);
    deploy_with(&d, &site, extra)
}

/// A failed deploy, within `bound`, naming `cause`.
fn failed_fast(run: &Run, took: Duration, bound: Duration, cause: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(took < bound, "took {took:?}");
    assert!(
        run.stderr.contains(cause),
        "{cause:?} not in\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_marker_is_accepted_and_the_summary_names_the_live_template() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(&moto, "installed", None);
    let d = Deployment::simple(&moto.endpoint(), "web", &ip);
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["site"]["live_template"], "2137_barista_cafe", "{j}");
    assert_eq!(j["site"]["status"], 200, "{j}");
    let id = j["instances"][0]["id"].as_str().unwrap();
    assert!(
        r.stderr
            .contains(&format!("{id} serves template 2137_barista_cafe")),
        "{}",
        r.stderr
    );
    let text = d
        .run_env(
            env!("CARGO_BIN_EXE_deploy"),
            &["--site-address", &site.address()],
            &[CHECK, tls(&site)],
        )
        .ok();
    assert!(
        text.stdout
            .contains("Live: template 2137_barista_cafe on every web server"),
        "{}",
        text.stdout
    );
}

/// Each way the site can fail to be this deploy's: exit 1 quickly, the cause
/// named, the boot output shown cleaned, and the site left up.
async fn refused(mode: &str, cause: &str) {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "console_lines": console() }).to_string(),
    );
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(&moto, mode, None);
    let d = Deployment::simple(&proxy.endpoint(), "web", &ip);
    let (r, took) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 1, "{mode}: {}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(cause),
        "{mode}: {cause:?} not in\n{}",
        r.stderr
    );
    assert!(took < Duration::from_secs(60), "{mode}: took {took:?}");
    assert!(
        r.stderr.contains("Last 30 lines of i-"),
        "{mode}: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("[  OK  ] Started cloud-init.service."),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains('\u{1b}'), "no terminal escapes");
    assert!(
        !r.stderr.contains("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"),
        "the secret is masked"
    );
    assert!(r.stderr.contains("AWS_SECRET_ACCESS_KEY=[removed]"));
    // The site stays up for the learner to look at.
    let aws = Aws::new(&moto.endpoint()).await;
    let (instances, _, _, lbs, _) = aws.counts().await;
    assert_eq!((instances, lbs), (1, 1), "{mode}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_marker_is_refused() {
    refused(
        "fallback",
        "serves the fallback page: template 2137_barista_cafe could not be installed (the download from https://www.tooplate.com/zip-templates/2137_barista_cafe.zip failed)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_marker_is_refused() {
    refused(
        "none",
        "the site answers without this deploy's marker: HTTP 404",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apaches_test_page_is_refused() {
    refused("apache", "Apache's test page").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_fingerprint_is_refused() {
    refused(
        "stale",
        "the site serves the marker of another deploy (fingerprint 0123456789abcdef",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unhealthy_target_fails_fast_with_its_reason_code() {
    let moto = Moto::start();
    let config = serde_json::json!({
        "console_lines": console(),
        "target_unhealthy": {
            "reason": "Target.ResponseCodeMismatch",
            "description": "Health checks failed with these codes: [403]"
        }
    });
    let (r, took) = deploy_through(&moto, config, "sick", &[]);
    failed_fast(
        &r,
        took,
        Duration::from_secs(30),
        "fails the load balancer's health check (Target.ResponseCodeMismatch: Health checks failed with these codes: [403])",
    );
    assert!(r.stderr.contains("sitedeploy: done"), "{}", r.stderr);

    // A timeout is a failure only once the boot grace is over.
    let config = serde_json::json!({
        "target_unhealthy": { "reason": "Target.Timeout", "description": "Request timed out" }
    });
    let (r, took) = deploy_through(&moto, config, "slow", &["--boot-grace", "4"]);
    failed_fast(
        &r,
        took,
        Duration::from_secs(30),
        "(Target.Timeout: Request timed out)",
    );
    assert!(took >= Duration::from_secs(4), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_that_stops_while_booting_fails_fast() {
    let moto = Moto::start();
    let config = serde_json::json!({
        "console_lines": console(),
        "instance_stops_s": 3,
        "target_initial_s": 60
    });
    let (r, took) = deploy_through(&moto, config, "stops", &[]);
    failed_fast(
        &r,
        took,
        Duration::from_secs(30),
        "is stopped (Server.InternalError: Internal error on launch)",
    );
    assert!(r.stderr.contains("Last 30 lines of i-"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_impaired_instance_fails_fast() {
    let moto = Moto::start();
    let config = serde_json::json!({ "status_impaired_s": 2, "target_initial_s": 60 });
    let (r, took) = deploy_through(&moto, config, "broken", &[]);
    failed_fast(
        &r,
        took,
        Duration::from_secs(30),
        "fails its EC2 status checks (impaired)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_new_template_leaves_the_old_web_server_serving() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    // The new template's download fails on its web server.
    let site = FakeSite::start(&moto, "installed", Some("2121_wave_cafe"));
    let d = Deployment::simple(&moto.endpoint(), "swap", &ip);
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = r.json()["instances"][0]["id"].as_str().unwrap().to_string();

    let changed = config_text("swap", &ip.url(), "")
        .replace("id = 2137", "id = 2121")
        .replace("barista_cafe", "wave_cafe");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    let plan = d.deploy(&["--plan"]).ok();
    assert!(
        plan.stdout
            .contains("template 2137_barista_cafe -> 2121_wave_cafe"),
        "{}",
        plan.stdout
    );
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("template 2121_wave_cafe could not be installed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{old} still serve the previous site")),
        "{}",
        r.stderr
    );
    let aws = Aws::new(&moto.endpoint()).await;
    let live: Vec<String> = aws
        .live_instances()
        .await
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    assert_eq!(live, vec![old.clone()], "only the old web server runs");
    let tg = &aws.target_groups().await[0];
    let targets = aws
        .elb
        .describe_target_health()
        .target_group_arn(tg.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    // The new one drains (AWS lists it as draining for the delay); the old
    // one is the only one in service.
    let in_service: Vec<&str> = targets
        .target_health_descriptions()
        .iter()
        .filter(|t| t.target_health().unwrap().state().unwrap().as_str() != "draining")
        .map(|t| t.target().unwrap().id().unwrap())
        .collect();
    assert_eq!(
        in_service,
        vec![old.as_str()],
        "the old one still in service"
    );
    // The expiry terminates what serves: the old web server again.
    let s = aws
        .scheduler
        .get_schedule()
        .group_name("sitedeploy-swap")
        .name("swap-web-servers")
        .send()
        .await
        .unwrap();
    let input = s.target().unwrap().input().unwrap();
    assert!(input.contains(&old), "{input}");
}

#[tokio::test(flavor = "multi_thread")]
async fn old_web_servers_drain_before_they_are_terminated() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"deregistration_delay_s": 2}"#);
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(&moto, "installed", None);
    let d = Deployment::simple(&proxy.endpoint(), "drain", &ip);
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = r.json()["instances"][0]["id"].as_str().unwrap().to_string();
    let changed = config_text("drain", &ip.url(), "").replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["site"]["live_template"], "2137_coffee_shop");

    let stats = proxy.stats();
    let requests = stats["requests"].as_array().unwrap();
    let find = |action: &str| {
        requests
            .iter()
            .find(|q| q["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {requests:?}"))
    };
    // The delay is short: 15 s (AWS's default is 300 s).
    let attrs = find("ModifyTargetGroupAttributes");
    assert_eq!(
        attrs["params"]["Attributes.member.1.Key"],
        "deregistration_delay.timeout_seconds"
    );
    assert_eq!(attrs["params"]["Attributes.member.1.Value"], "15");
    // Health checks tuned for a static site.
    let create = find("CreateTargetGroup");
    for (k, v) in [
        ("HealthCheckIntervalSeconds", "5"),
        ("HealthCheckTimeoutSeconds", "4"),
        ("HealthyThresholdCount", "2"),
        ("UnhealthyThresholdCount", "2"),
    ] {
        assert_eq!(create["params"][k], v, "{k}");
    }
    // Terminated only after draining (2 s in this proxy).
    let dereg = find("DeregisterTargets");
    let term = requests
        .iter()
        .find(|q| q["action"] == "TerminateInstances")
        .unwrap();
    assert_eq!(dereg["params"]["Targets.member.1.Id"], old.as_str());
    assert_eq!(term["params"]["InstanceId.1"], old.as_str());
    let waited = term["t"].as_f64().unwrap() - dereg["t"].as_f64().unwrap();
    assert!(
        waited >= 2.0,
        "terminated {waited:.2} s after deregistration"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_prints_and_follows_the_boot_output() {
    let moto = Moto::start();
    // cloud-init's config stage reports before the boot script runs: --follow
    // goes on to the script's own last line.
    let lines = serde_json::json!([
        "cloud-init: starting",
        "Cloud-init v. 22.2.2 running 'modules:config' at Mon, 30 Nov 2026 08:00:01 +0000. Up 8.41 seconds.",
        "sitedeploy: installing 2137_barista_cafe for logs",
        "sitedeploy: template installed in /var/www/html",
        "sitedeploy: marker: installed",
        "sitedeploy: done",
    ]);
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "console_lines": lines, "console_line_every_s": 0.5 }).to_string(),
    );
    let ip = IpService::start(MY_IP);
    let d = Deployment::simple(&proxy.endpoint(), "logs", &ip);
    let none = d.run(env!("CARGO_BIN_EXE_logs"), &[]);
    assert_eq!(none.code, 0, "{}", none.stderr);
    assert!(
        none.stderr
            .contains("no web server of logs exists in us-east-1"),
        "{}",
        none.stderr
    );
    d.deploy(&[]).ok();
    let follow = d.run(env!("CARGO_BIN_EXE_logs"), &["--follow", "--timeout", "30"]);
    assert_eq!(follow.code, 0, "{}", follow.stderr);
    for l in lines.as_array().unwrap() {
        let l = l.as_str().unwrap();
        assert_eq!(
            follow.stdout.matches(l).count(),
            1,
            "{l:?} once in\n{}",
            follow.stdout
        );
    }
    assert!(follow.stdout.starts_with("==> i-"), "{}", follow.stdout);
    assert!(
        follow.stderr.contains("finished booting"),
        "{}",
        follow.stderr
    );
    let once = d.run(env!("CARGO_BIN_EXE_logs"), &["--json"]).ok().json();
    assert!(
        once["instances"][0]["output"]
            .as_str()
            .unwrap()
            .ends_with("sitedeploy: done\n"),
        "{once}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_rolls_back_when_its_new_template_fails() {
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(&moto, "installed", Some("2121_wave_cafe"));
    let two = config_text("herd", &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2");
    let d = Deployment::new(&moto.endpoint(), "herd", &two);
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["site"]["live_template"], "2137_barista_cafe");
    let aws = Aws::new(&moto.endpoint()).await;
    let mut old: Vec<String> = aws
        .live_instances()
        .await
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    old.sort();
    assert_eq!(old.len(), 2);
    let group = |aws: &Aws| {
        let asg = aws.asg.clone();
        async move {
            asg.describe_auto_scaling_groups()
                .send()
                .await
                .unwrap()
                .auto_scaling_groups()[0]
                .clone()
        }
    };
    let before = group(&aws).await;
    let version = before
        .launch_template()
        .unwrap()
        .version()
        .unwrap()
        .to_string();

    let changed = two
        .replace("id = 2137", "id = 2121")
        .replace("barista_cafe", "wave_cafe");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    let (r, _) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("template 2121_wave_cafe could not be installed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("still serve the previous site"),
        "{}",
        r.stderr
    );
    let after = group(&aws).await;
    assert_eq!(
        after.launch_template().unwrap().version().unwrap(),
        version,
        "the group is back on its previous version"
    );
    let mut members: Vec<String> = after
        .instances()
        .iter()
        .filter(|i| i.lifecycle_state().unwrap().as_str() == "InService")
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    members.sort();
    assert_eq!(members, old, "the old instances still serve");
    assert_eq!(after.desired_capacity(), Some(2));
    let mut live: Vec<String> = aws
        .live_instances()
        .await
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    live.sort();
    assert_eq!(live, old, "the new instances are gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_of_an_instance_type_without_latest_output() {
    // GetConsoleOutput's Latest works on Nitro types only; t2.micro (Xen)
    // refuses it (the proxy as AWS): the captured output is read instead.
    let moto = Moto::start();
    let lines = serde_json::json!(["cloud-init: starting", "sitedeploy: done"]);
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "console_lines": lines }).to_string(),
    );
    let ip = IpService::start(MY_IP);
    let config = config_text("xen", &ip.url(), "").replace("t3.micro", "t2.micro");
    let d = Deployment::new(&proxy.endpoint(), "xen", &config);
    d.deploy(&[]).ok();
    let out = d.run(env!("CARGO_BIN_EXE_logs"), &[]).ok();
    assert!(out.stdout.contains("sitedeploy: done"), "{}", out.stdout);
    let stats = proxy.stats();
    assert!(
        stats["injected"]["GetConsoleOutput:UnsupportedOperation"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "Latest was never refused: {stats}"
    );
    d.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_that_cannot_be_reached_says_what_was_tried_and_stops_early() {
    // Every target is healthy, but nothing listens where the check goes:
    // certain within about 20 s, said with the URL, the port, the kind of
    // failure and what it means, and no boot output (it says nothing of it).
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "console_lines": console() }).to_string(),
    );
    let ip = IpService::start(MY_IP);
    let d = Deployment::simple(&proxy.endpoint(), "unreached", &ip);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let start = Instant::now();
    let r = d.run_env(
        env!("CARGO_BIN_EXE_deploy"),
        &["--site-address", &addr.to_string()],
        &[CHECK],
    );
    let took = start.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(took < Duration::from_secs(90), "took {took:?}");
    let port = addr.port();
    for part in [
        "every web server is healthy, but the site cannot be reached from here",
        // The site's URL is the distribution's (HTTPS).
        &format!(".cloudfront.net:{port}/sitedeploy.json"),
        &format!("refused the connection on port {port}"),
        "nothing listens on port",
        "--site-address",
    ] {
        assert!(r.stderr.contains(part), "{part:?} not in\n{}", r.stderr);
    }
    assert!(
        !r.stderr.contains("boot output"),
        "boot output shown for a network failure:\n{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_address_port_is_used_whatever_the_listeners_port() {
    // The walk-through's port change: the listener moves to 8080, and
    // --site-address IP:PORT still sends the check to PORT.
    let moto = Moto::start();
    let ip = IpService::start(MY_IP);
    let site = FakeSite::start(&moto, "installed", None);
    let d = Deployment::new(
        &moto.endpoint(),
        "port",
        &config_text("port", &ip.url(), "[load_balancer]\nport = 8080\n"),
    );
    let (r, took) = deploy_with(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(r.json()["site"]["status"], 200, "{}", r.stdout);
}
