//! Expiry: deploy leaves one-time EventBridge Scheduler schedules (moto's
//! Scheduler) that delete the load balancer and the web servers. The test runs
//! each schedule the way Scheduler would (tests/support/run_schedule.py: the
//! service and action from the universal target ARN, the Input JSON as that
//! API's request) and checks the emulator afterwards.

mod common;

use chrono::{DateTime, Utc};
use common::*;

struct Schedule {
    name: String,
    at: DateTime<Utc>,
    target: String,
    input: serde_json::Value,
    after: String,
    role: String,
}

/// The group's schedules; none when the group does not exist (Scheduler's
/// ResourceNotFoundException). Any other error fails the test.
async fn schedules(aws: &Aws, group: &str) -> Vec<Schedule> {
    let list = match aws
        .scheduler
        .list_schedules()
        .group_name(group)
        .send()
        .await
    {
        Ok(list) => list,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Vec::new()
        }
        Err(e) => panic!("ListSchedules of {group}: {e:?}"),
    };
    let mut out = Vec::new();
    for s in list.schedules() {
        let g = aws
            .scheduler
            .get_schedule()
            .name(s.name().unwrap())
            .group_name(group)
            .send()
            .await
            .unwrap();
        let expr = g.schedule_expression().unwrap();
        let inner = expr.trim_start_matches("at(").trim_end_matches(')');
        let at = chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
            .unwrap()
            .and_utc();
        let t = g.target().unwrap();
        out.push(Schedule {
            name: g.name().unwrap().to_string(),
            at,
            target: t.arn().to_string(),
            input: serde_json::from_str(t.input().unwrap()).unwrap(),
            after: g
                .action_after_completion()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            role: t.role_arn().to_string(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn run_schedules(moto: &Moto, group: &str) -> String {
    let endpoint = moto.endpoint();
    let args = ["--endpoint", endpoint.as_str(), "--group", group];
    script("tests/support/run_schedule.py", &args).ok().stdout
}

async fn role_exists(aws: &Aws, region: &str) -> bool {
    aws.iam
        .get_role()
        .role_name(format!("sitedeploy-expiry-{region}"))
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn schedules_delete_the_costly_parts_at_the_expiry_and_follow_each_deploy() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "exp", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    let group = "sitedeploy-exp";

    let before = Utc::now();
    let first = d.deploy(&["--json", "--expires-after", "2h"]).ok().json();
    let s = schedules(&aws, group).await;
    assert_eq!(s.len(), 2, "two schedules");
    let want = before + chrono::Duration::hours(2);
    for x in &s {
        let off = (x.at - want).num_seconds().abs();
        assert!(
            off < 120,
            "{} fires at {} instead of about {want}",
            x.name,
            x.at
        );
        assert_eq!(
            x.after, "DELETE",
            "{} must delete itself after it runs",
            x.name
        );
        assert!(
            x.role.ends_with(":role/sitedeploy-expiry-us-east-1"),
            "{}",
            x.role
        );
    }
    assert_eq!(s[0].name, "exp-load-balancer");
    assert_eq!(
        s[0].target,
        "arn:aws:scheduler:::aws-sdk:elasticloadbalancingv2:deleteLoadBalancer"
    );
    assert_eq!(
        s[0].input["LoadBalancerArn"],
        aws.load_balancers().await[0].load_balancer_arn().unwrap()
    );
    assert_eq!(
        s[1].target,
        "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances"
    );
    assert_eq!(
        s[1].input["InstanceIds"],
        serde_json::json!([first["instances"][0]["id"]])
    );
    // The JSON says when (RFC 3339, UTC); the text says it the one way the
    // rows do, how long until then, and how to keep the site.
    let at = first["expires_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 20, "{at}");
    let text = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    let line = text.lines().find(|l| l.starts_with("Expires:")).unwrap();
    let when = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string();
    assert!(
        line.contains(&when) && line.contains("deploy again") && line.contains("\"off\""),
        "{line}"
    );
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert_eq!(st["expires_at"], first["expires_at"]);
    // Cost so far: just created, so a few cents at most, with the table's date.
    for (view, c) in [
        ("summary", &first["cost_so_far"]),
        ("status", &st["cost_so_far"]),
    ] {
        let dollars = c["dollars"].as_f64().unwrap_or(-1.0);
        assert!((0.0..0.05).contains(&dollars), "{view}: {c}");
        assert_eq!(c["prices_of"], "2026-11-01", "{view}: {c}");
    }
    assert!(role_exists(&aws, "us-east-1").await);

    // A template change: the schedule names the new instance; the expiry is
    // counted again from now (default 8h now).
    let changed = config_text("exp", &ip.url(), "").replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), changed).unwrap();
    let second = d.deploy(&["--json"]).ok().json();
    let s2 = schedules(&aws, group).await;
    assert_eq!(
        s2[1].input["InstanceIds"],
        serde_json::json!([second["instances"][0]["id"]])
    );
    assert_ne!(second["instances"][0]["id"], first["instances"][0]["id"]);
    let off = (s2[0].at - (Utc::now() + chrono::Duration::hours(8)))
        .num_seconds()
        .abs();
    assert!(off < 120, "default expiry is 8h: {}", s2[0].at);

    // Run the schedules as Scheduler would: the load balancer and every
    // instance are gone.
    let ran = run_schedules(&moto, group);
    assert_eq!(ran.lines().count(), 2, "{ran}");
    assert!(
        aws.load_balancers().await.is_empty(),
        "the load balancer survived"
    );
    assert!(
        aws.live_instances().await.is_empty(),
        "an instance survived"
    );

    // Cleanup removes the rest, the schedules and the role.
    d.cleanup(&["--yes"]).ok();
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(schedules(&aws, group).await.is_empty());
    let groups = aws.scheduler.list_schedule_groups().send().await.unwrap();
    assert!(
        !groups
            .schedule_groups()
            .iter()
            .any(|g| g.name() == Some(group)),
        "schedule group left"
    );
    assert!(!role_exists(&aws, "us-east-1").await, "the role is left");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_expires_by_deleting_its_group_and_off_makes_none() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let config = config_text("expf", &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2");
    let d = Deployment::new(&moto.endpoint(), "expf", &config);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();
    let s = schedules(&aws, "sitedeploy-expf").await;
    assert_eq!(
        s[1].target,
        "arn:aws:scheduler:::aws-sdk:autoscaling:deleteAutoScalingGroup"
    );
    assert_eq!(s[1].input["AutoScalingGroupName"], "expf-asg");
    assert_eq!(s[1].input["ForceDelete"], true);
    run_schedules(&moto, "sitedeploy-expf");
    assert!(aws.load_balancers().await.is_empty());
    assert!(
        aws.live_instances().await.is_empty(),
        "the group's instances survived"
    );

    // `off`: deploy removes the schedules (and makes none).
    d.cleanup(&["--yes"]).ok();
    let off = format!("expires_after = \"off\"\n{config}");
    std::fs::write(d.dir.join("deploy.toml"), off).unwrap();
    let r = d.deploy(&["--json"]).ok().json();
    assert!(r["expires_at"].is_null(), "{r}");
    assert!(schedules(&aws, "sitedeploy-expf").await.is_empty());
    assert!(!role_exists(&aws, "us-east-1").await);
    d.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_without_tags_still_gets_its_expiry() {
    // deploy.toml's [tags] is optional; Scheduler refuses a tag value of ""
    // (the proxy refuses it as AWS does).
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let config = config_text("notags", &ip.url(), "").replace("[tags]\nProject = \"tests\"\n", "");
    assert!(!config.contains("[tags]"), "{config}");
    let d = Deployment::new(&moto.endpoint(), "notags", &config);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();
    assert_eq!(schedules(&aws, "sitedeploy-notags").await.len(), 2);
    d.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_that_fails_after_making_the_load_balancer_leaves_it_an_expiry() {
    // No capacity for the instance: the load balancer exists, and its
    // schedule is written as soon as it exists, whatever fails after.
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_real_actions": {"RunInstances": "InsufficientInstanceCapacity"}}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "halfway", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("InsufficientInstanceCapacity"),
        "{}",
        r.stderr
    );
    // The report of what exists, and how to remove it.
    assert!(r.stderr.contains("What exists now:"), "{}", r.stderr);
    assert!(r.stderr.contains("halfway-alb"), "{}", r.stderr);
    assert!(
        r.stderr.contains("cleanup --config deploy.toml --yes"),
        "{}",
        r.stderr
    );
    // What this run had already changed, before what exists.
    let changed = r
        .stderr
        .find("This run changed:")
        .expect("no list of changes");
    assert!(
        r.stderr[changed..].contains("created load balancer halfway-alb"),
        "{}",
        r.stderr
    );
    // status says the load balancer answers nothing: no web server behind it.
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    assert!(
        st.contains(
            "load balancer active, but no web server is registered: the site cannot answer"
        ),
        "{st}"
    );
    let lbs = aws.load_balancers().await;
    assert_eq!(lbs.len(), 1);
    let s = schedules(&aws, "sitedeploy-halfway").await;
    let lb = s
        .iter()
        .find(|x| x.name == "halfway-load-balancer")
        .unwrap_or_else(|| panic!("no schedule for the load balancer"));
    assert_eq!(
        lb.input["LoadBalancerArn"],
        lbs[0].load_balancer_arn().unwrap()
    );
    // Fired, it removes the load balancer.
    run_schedules(&moto, "sitedeploy-halfway");
    assert!(aws.load_balancers().await.is_empty());
    d.cleanup(&["--yes"]).ok();
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_left_without_its_policy_is_repaired_and_cleanup_still_deletes_it() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::simple(&moto.endpoint(), "halfrole", &ip);
    d.deploy(&[]).ok();
    // A run that stopped between CreateRole and PutRolePolicy.
    aws.iam
        .delete_role_policy()
        .role_name("sitedeploy-expiry-us-east-1")
        .policy_name("expire-sitedeploy-resources")
        .send()
        .await
        .unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let role = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "role")
        .cloned()
        .unwrap();
    assert_eq!(role["action"], "update", "{role}");
    d.deploy(&[]).ok();
    let policy = aws
        .iam
        .get_role_policy()
        .role_name("sitedeploy-expiry-us-east-1")
        .policy_name("expire-sitedeploy-resources")
        .send()
        .await
        .unwrap();
    assert!(policy.policy_document().contains("TerminateInstances"));
    // The schedules fire under the role's own policy: it works again.
    run_schedules(&moto, "sitedeploy-halfrole");
    assert!(aws.load_balancers().await.is_empty());

    // Cleanup goes on to DeleteRole when the inline policy is already gone.
    aws.iam
        .delete_role_policy()
        .role_name("sitedeploy-expiry-us-east-1")
        .policy_name("expire-sitedeploy-resources")
        .send()
        .await
        .unwrap();
    d.cleanup(&["--yes"]).ok();
    assert!(!role_exists(&aws, "us-east-1").await, "the role is left");
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_right_after_cleanup_waits_for_the_deleting_schedule_group() {
    // AWS keeps a deleted schedule group DELETING until its schedules are
    // gone; the proxy keeps it for 3 s.
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"schedule_group_deleting_s": 3}"#);
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "again", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();
    d.cleanup(&["--yes"]).ok();
    let t0 = std::time::Instant::now();
    d.deploy(&[]).ok();
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(60),
        "the wait is bounded"
    );
    assert_eq!(schedules(&aws, "sitedeploy-again").await.len(), 2);
    let stats = proxy.stats();
    assert!(
        stats["actions"]["GetScheduleGroup"].as_u64().unwrap_or(0) >= 1,
        "the DELETING group was never seen: {stats}"
    );
    d.cleanup(&["--yes"]).ok();
}
