//! AWS behaviours moto lacks, put back by tests/support/awsproxy.py: instances
//! `pending` and load balancers `provisioning` for a while, security groups
//! answering `DependencyViolation`, a deleted load balancer's interfaces
//! lingering. Deploy and cleanup must wait them out (bounded) and converge.

mod common;

use std::time::Instant;

use common::*;

fn injected(stats: &serde_json::Value, key: &str) -> u64 {
    stats["injected"][key].as_u64().unwrap_or(0)
}

fn calls(stats: &serde_json::Value, action: &str) -> u64 {
    stats["actions"][action].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_waits_for_pending_instance_and_provisioning_load_balancer() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"instance_pending_s": 3, "lb_provisioning_s": 4, "register_pending_invalid": true}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "slow", &ip);
    let start = Instant::now();
    let r = d.deploy(&[]).ok();
    let took = start.elapsed().as_secs_f64();
    assert!(
        took >= 4.0,
        "deploy returned before the load balancer was active: {took}s"
    );
    assert!(r.stderr.contains("instance: pending"), "{}", r.stderr);
    assert!(
        r.stderr.contains("load balancer: provisioning"),
        "{}",
        r.stderr
    );
    let stats = proxy.stats();
    assert!(calls(&stats, "DescribeInstances") >= 3, "{stats}");
    assert_eq!(calls(&stats, "RegisterTargets"), 1, "{stats}");
    assert_eq!(
        injected(&stats, "RegisterTargets:InvalidTarget"),
        0,
        "{stats}"
    );
    // Instance and load balancer provision at the same time: the load balancer
    // is created while the instance is still pending (within its 3 s boot).
    let first = |a: &str| stats["first"][a].as_f64().unwrap();
    assert!(
        first("CreateLoadBalancer") < first("RunInstances") + 3.0,
        "the load balancer waited for the instance: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_retries_dependency_violation_until_groups_go() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"sg_dependency_violations": 3, "instance_shutting_down_s": 2, "lb_linger_s": 3}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "dv", &ip);
    d.deploy(&[]).ok();
    proxy.reset();
    let r = d.cleanup(&["--yes"]).ok();
    assert!(
        r.stderr
            .contains("DependencyViolation (still in use), retrying"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("shutting-down"), "{}", r.stderr);
    assert!(
        r.stderr.contains("network interface(s) still attached"),
        "{}",
        r.stderr
    );
    let stats = proxy.stats();
    // three refusals for each of the two groups, then success
    assert_eq!(
        injected(&stats, "DeleteSecurityGroup:DependencyViolation"),
        6,
        "{stats}"
    );
    assert_eq!(calls(&stats, "DeleteSecurityGroup"), 8, "{stats}");
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_gives_up_after_its_limit_reports_and_exits_nonzero() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"sg_dependency_violations": 1000}"#);
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "stuck", &ip);
    d.deploy(&[]).ok();
    let start = Instant::now();
    let r = d.cleanup(&["--yes", "--sg-timeout", "3"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(took < 15.0, "the limit was not honoured: {took}s");
    // both groups reported, each with the AWS code
    assert!(r.stdout.contains("2 step(s) failed"), "{}", r.stdout);
    assert!(
        r.stdout.contains("stuck-web-sg") && r.stdout.contains("stuck-lb-sg"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("DependencyViolation"), "{}", r.stdout);
    // every other step still ran
    let aws = Aws::new(&moto.endpoint()).await;
    let (inst, groups, keys, lbs, tgs) = aws.counts().await;
    assert_eq!((inst, groups, keys, lbs, tgs), (0, 2, 0, 0, 0));
}
