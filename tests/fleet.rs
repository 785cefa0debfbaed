//! More than one web server (`count > 1`): an Auto Scaling group from a launch
//! template, checked on the emulator, not in the tool's output: 3 instances in
//! at least 2 zones, 3 registered targets; a re-run changes nothing; a template
//! change ends with 3 new instances and no old one, with registered capacity
//! never below 3; `count = 1` brings one instance back with never nothing
//! registered; cleanup leaves nothing.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;

async fn registered(aws: &Aws) -> Vec<String> {
    let Some(tg) = aws.target_groups().await.first().cloned() else {
        return Vec::new();
    };
    let out = aws
        .elb
        .describe_target_health()
        .target_group_arn(tg.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    out.target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health()
                .and_then(|h| h.state())
                .is_some_and(|s| s.as_str() != "draining")
        })
        .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string))
        .collect()
}

async fn groups(aws: &Aws) -> Vec<aws_sdk_autoscaling::types::AutoScalingGroup> {
    aws.asg
        .describe_auto_scaling_groups()
        .send()
        .await
        .unwrap()
        .auto_scaling_groups()
        .to_vec()
}

async fn launch_templates(aws: &Aws) -> usize {
    aws.ec2
        .describe_launch_templates()
        .send()
        .await
        .unwrap()
        .launch_templates()
        .len()
}

fn live_ids(insts: &[aws_sdk_ec2::types::Instance]) -> BTreeSet<String> {
    insts
        .iter()
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("running"))
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect()
}

/// Runs `f` (a deploy) while sampling the registered targets every 50 ms;
/// returns its result and the fewest registered targets seen.
async fn watching<T: Send + 'static>(
    endpoint: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> (T, usize) {
    let done = Arc::new(AtomicBool::new(false));
    let least = Arc::new(AtomicUsize::new(usize::MAX));
    let (d2, l2, ep) = (done.clone(), least.clone(), endpoint.to_string());
    let sampler = tokio::spawn(async move {
        let aws = Aws::new(&ep).await;
        while !d2.load(Ordering::SeqCst) {
            let n = registered(&aws).await.len();
            l2.fetch_min(n, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let out = tokio::task::spawn_blocking(f).await.unwrap();
    done.store(true, Ordering::SeqCst);
    sampler.await.unwrap();
    (out, least.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread")]
async fn three_web_servers_in_a_group_rolled_resized_and_removed() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let name = "fleet";
    let three = config_text(name, &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 3");
    let d = Deployment::new(&moto.endpoint(), name, &three);
    let aws = Aws::new(&moto.endpoint()).await;

    // --plan first: the group and its template are to be created.
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let kinds: Vec<(&str, &str)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["action"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("launch template", "create")), "{plan}");
    assert!(kinds.contains(&("Auto Scaling group", "create")), "{plan}");

    let summary = d.deploy(&["--json"]).ok().json();
    let g = &groups(&aws).await[0];
    assert_eq!(g.desired_capacity(), Some(3));
    assert_eq!(g.health_check_type(), Some("ELB"));
    let members: BTreeSet<String> = g
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    assert_eq!(members.len(), 3);
    let zones: BTreeSet<&str> = g
        .instances()
        .iter()
        .filter_map(|i| i.availability_zone())
        .collect();
    assert!(zones.len() >= 2, "{zones:?}");
    let reg: BTreeSet<String> = registered(&aws).await.into_iter().collect();
    assert_eq!(reg, members, "the group's instances are the targets");
    assert_eq!(live_ids(&aws.live_instances().await), members);
    assert_eq!(
        summary["instances"].as_array().unwrap().len(),
        3,
        "{summary}"
    );
    assert!(
        summary["cost"]["parts"][0]["item"]
            .as_str()
            .unwrap()
            .starts_with("3 x t3.micro"),
        "{}",
        summary["cost"]
    );
    // Each instance carries the deployment's tags and the encrypted gp3 volume
    // and IMDSv2 of the launch template.
    for i in aws.live_instances().await {
        let tags: BTreeSet<(String, String)> = i
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
            .collect();
        assert!(
            tags.contains(&("ManagedBy".into(), "sitedeploy".into())),
            "{tags:?}"
        );
        assert!(
            tags.contains(&("Deployment".into(), name.into())),
            "{tags:?}"
        );
    }

    // Deploy again: nothing changes.
    let again = d.deploy(&["--json"]).ok().json();
    for r in again["resources"].as_array().unwrap() {
        let want = if r["kind"] == "schedule" {
            "update"
        } else {
            "keep"
        };
        assert_eq!(r["action"], want, "{r}");
    }
    assert_eq!(live_ids(&aws.live_instances().await), members);

    // A template change: 3 new instances, none of the old, never fewer than 3
    // registered.
    let changed = three.replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), &changed).unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    assert!(
        plan["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "launch template" && r["action"] == "update"),
        "{plan}"
    );
    let runner = d.clone_handle();
    let (r, least) = watching(&moto.endpoint(), move || runner.deploy(&["--json"])).await;
    let rolled = r.ok().json();
    assert!(least >= 3, "registered capacity fell to {least}");
    let now = live_ids(&aws.live_instances().await);
    assert_eq!(now.len(), 3, "{now:?}");
    assert!(
        now.is_disjoint(&members),
        "old instances left: {now:?} vs {members:?}"
    );
    let reg: BTreeSet<String> = registered(&aws).await.into_iter().collect();
    assert_eq!(reg, now);
    let replaced: BTreeSet<String> = rolled["replaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(replaced, members);

    // count = 3 -> 1: one instance, the group and its template gone, never
    // nothing registered.
    let one = changed.replace("count = 3", "count = 1");
    std::fs::write(d.dir.join("deploy.toml"), &one).unwrap();
    let runner = d.clone_handle();
    let (r, least) = watching(&moto.endpoint(), move || runner.deploy(&["--json"])).await;
    let single = r.ok().json();
    assert!(least >= 1, "nothing was registered at some point");
    assert!(groups(&aws).await.is_empty(), "the group is left");
    assert_eq!(
        launch_templates(&aws).await,
        0,
        "the launch template is left"
    );
    let now = live_ids(&aws.live_instances().await);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(
        registered(&aws).await,
        vec![single["instances"][0]["id"].as_str().unwrap().to_string()]
    );

    // 1 -> 3 again, then cleanup leaves nothing.
    std::fs::write(d.dir.join("deploy.toml"), &changed).unwrap();
    let runner = d.clone_handle();
    let (r, least) = watching(&moto.endpoint(), move || runner.deploy(&[])).await;
    r.ok();
    assert!(least >= 1, "nothing was registered at some point");
    assert_eq!(live_ids(&aws.live_instances().await).len(), 3);
    assert_eq!(registered(&aws).await.len(), 3);

    // A tag changed in deploy.toml reaches the group and its template too.
    let retagged = changed.replace("Project = \"tests\"", "Project = \"fleet\"");
    std::fs::write(d.dir.join("deploy.toml"), &retagged).unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    for kind in ["launch template", "Auto Scaling group"] {
        assert!(
            plan["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == kind
                    && r["action"] == "update"
                    && r["detail"].as_str().unwrap().contains("tag Project=fleet")),
            "{kind}: {plan}"
        );
    }
    d.deploy(&[]).ok();
    let project = |tags: Vec<(String, String)>| {
        tags.into_iter()
            .find(|(k, _)| k == "Project")
            .map(|(_, v)| v)
    };
    let g = &groups(&aws).await[0];
    assert_eq!(
        project(
            g.tags()
                .iter()
                .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
                .collect()
        ),
        Some("fleet".into())
    );
    let lts = aws.ec2.describe_launch_templates().send().await.unwrap();
    assert_eq!(
        project(
            lts.launch_templates()[0]
                .tags()
                .iter()
                .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
                .collect()
        ),
        Some("fleet".into())
    );
    assert_eq!(
        live_ids(&aws.live_instances().await).len(),
        3,
        "a tag change rolls nothing"
    );

    let report = d.cleanup(&["--yes", "--json"]).ok().json();
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "Auto Scaling group" && r["action"] == "delete"),
        "{report}"
    );
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(groups(&aws).await.is_empty());
    assert_eq!(launch_templates(&aws).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_needs_only_the_policy() {
    // moto's own enforcement (a real IAM user from config/iam-policy.json; it
    // checks actions, Auto Scaling's included) and the proxy's evaluation of the
    // whole policy (EC2 and ELB: ARNs, tags, tag-on-create).
    let moto = Moto::start();
    // The learner's hosted zone: the domain's certificate and records are
    // made, changed and deleted under the policy too.
    let zone = Aws::new(&moto.endpoint())
        .await
        .hosted_zone("fleet.example.com")
        .await;
    let (proxy, ak, sk) = policy_user(&moto);
    let ip = IpService::start("203.0.113.7");
    let name = "fleetiam";
    let domain = "\n[https]\ndomain = \"www.fleet.example.com\"\n";
    let three = config_text(name, &ip.url(), domain).replace(
        "type = \"t3.micro\"",
        "type = \"t3.micro\"\ncount = 2\nmax = 4",
    );
    let d = Deployment::new(&proxy.endpoint(), name, &three);
    let user = [
        ("AWS_ACCESS_KEY_ID", ak.as_str()),
        ("AWS_SECRET_ACCESS_KEY", sk.as_str()),
    ];
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &[], &user).ok();
    // A folder of one's own in place of the template (a roll: the content
    // bucket, the instance profile, PassRole to EC2) and new [tags] (every
    // resource retagged).
    let site = d.dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<h1>mine</h1>").unwrap();
    let changed = with_site(&three).replace("Project = \"tests\"", "Project = \"tests2\"");
    std::fs::write(d.dir.join("deploy.toml"), &changed).unwrap();
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &[], &user).ok();
    d.run_env(env!("CARGO_BIN_EXE_logs"), &[], &user).ok();
    iam_user(&moto, &["--off"]);
    let aws = Aws::new(&moto.endpoint()).await;
    let policies = |aws: &Aws| {
        let asg = aws.asg.clone();
        async move {
            asg.describe_policies()
                .send()
                .await
                .unwrap()
                .scaling_policies()
                .len()
        }
    };
    assert_eq!(policies(&aws).await, 1, "max = 4 sets target tracking");
    // moto counts requests from here: enforcement on again, for the same user.
    iam_user_on(&moto);
    // Without max: the policy goes. A page changed: new content uploaded,
    // the earlier one read for --plan's list of files and retired.
    std::fs::write(d.dir.join("deploy.toml"), changed.replace("\nmax = 4", "")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>mine, changed</h1>").unwrap();
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &[], &user).ok();
    d.run_env(env!("CARGO_BIN_EXE_status"), &[], &user).ok();
    d.run_env(env!("CARGO_BIN_EXE_cleanup"), &["--yes"], &user)
        .ok();
    let stats = proxy.stats();
    assert_eq!(stats["denied"], serde_json::json!([]), "{stats}");
    for a in [
        "CreateLaunchTemplate",
        "CreateLaunchTemplateVersion",
        "CreateAutoScalingGroup",
        "UpdateAutoScalingGroup",
        "PutScalingPolicy",
        "TerminateInstanceInAutoScalingGroup",
        "DeletePolicy",
        "DeleteAutoScalingGroup",
        "DeleteLaunchTemplate",
        "RequestCertificate",
        "ChangeResourceRecordSets",
        "GetChange",
        "DeleteCertificate",
        "CreateBucket",
        "PutPublicAccessBlock",
        "PutBucketLifecycleConfiguration",
        "PutObject",
        "GetObject",
        "CopyObject",
        "CreateRole",
        "CreateInstanceProfile",
        "AddRoleToInstanceProfile",
        "DeleteObjects",
        "DeleteBucket",
        "RemoveRoleFromInstanceProfile",
        "DeleteInstanceProfile",
    ] {
        assert!(
            stats["actions"][a].as_u64().unwrap_or(0) >= 1,
            "{a} never called: {stats}"
        );
    }
    // Every condition of the policy decided some request here: a misspelled
    // condition key (syntax: tests/support/iam_eval.py validate; a tag key:
    // a decision that changes) fails this test.
    assert_every_condition_exercised(&stats);
    iam_user(&moto, &["--off"]);
    assert_eq!(policies(&aws).await, 0, "the policy is left");
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(groups(&aws).await.is_empty());
    assert!(aws.certificates().await.is_empty());
    aws.assert_zone_bare(&zone).await;
    assert!(aws.no_buckets().await);
    assert!(!aws.instance_profile_exists(name).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_template_and_a_new_count_in_one_deploy_with_asynchronous_launches() {
    // Auto Scaling launches after UpdateAutoScalingGroup returns (the proxy
    // hides each new instance for 1 s, then shows it Pending for 1 s): the
    // resize and the new version are one update, and new from old is told by
    // the version each instance was launched from.
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"asg_launch_s": 1, "deregistration_delay_s": 1}"#);
    let ip = IpService::start("203.0.113.7");
    let name = "asyncroll";
    let two = config_text(name, &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2");
    let d = Deployment::new(&proxy.endpoint(), name, &two);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();
    let old = live_ids(&aws.live_instances().await);
    assert_eq!(old.len(), 2);

    let three = two
        .replace("barista_cafe", "coffee_shop")
        .replace("count = 2", "count = 3");
    std::fs::write(d.dir.join("deploy.toml"), &three).unwrap();
    proxy.reset();
    d.deploy(&[]).ok();
    let now = live_ids(&aws.live_instances().await);
    assert_eq!(now.len(), 3, "{now:?}");
    assert!(now.is_disjoint(&old), "an old instance survived: {now:?}");
    let g = &groups(&aws).await[0];
    assert_eq!(g.desired_capacity(), Some(3));
    assert!(
        g.suspended_processes().is_empty(),
        "AZRebalance left suspended"
    );
    for i in g.instances() {
        assert_eq!(
            i.launch_template().and_then(|l| l.version()),
            Some("2"),
            "{i:?}"
        );
    }
    let stats = proxy.stats();
    let updates: Vec<&serde_json::Value> = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "UpdateAutoScalingGroup")
        .collect();
    // The first update switches the version and raises the capacity to the
    // old two plus the new three; the last sets the size back.
    assert_eq!(
        updates[0]["params"]["LaunchTemplate.Version"], "2",
        "{updates:?}"
    );
    assert_eq!(updates[0]["params"]["DesiredCapacity"], "5", "{updates:?}");
    let suspended = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["action"] == "SuspendProcesses");
    let first_update = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["action"] == "UpdateAutoScalingGroup");
    assert!(suspended < first_update, "AZRebalance suspended first");
    d.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roll_past_the_accounts_instance_quota_says_so() {
    // A new account's vCPU quota: Auto Scaling cannot launch beyond 3
    // instances and reports a Failed activity; the deploy stops with its
    // message instead of waiting out its limit.
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"asg_instance_limit": 3}"#);
    let ip = IpService::start("203.0.113.7");
    let name = "quota";
    let two = config_text(name, &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 2");
    let d = Deployment::new(&proxy.endpoint(), name, &two);
    d.deploy(&[]).ok();
    std::fs::write(
        d.dir.join("deploy.toml"),
        two.replace("barista_cafe", "coffee_shop"),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("vCPU limit of"), "{}", r.stderr);
    assert!(r.stderr.contains("could not launch"), "{}", r.stderr);
    // The roll undone: the two old instances serve, on the old version.
    assert!(r.stderr.contains("the roll was undone"), "{}", r.stderr);
    let aws = Aws::new(&moto.endpoint()).await;
    let g = &groups(&aws).await[0];
    assert_eq!(g.desired_capacity(), Some(2));
    assert!(
        g.suspended_processes().is_empty(),
        "AZRebalance left suspended"
    );
    for i in g.instances() {
        let version = i.launch_template().and_then(|l| l.version());
        assert_eq!(version, Some("1"), "{i:?}");
    }
    // Registered (not draining) and running: the two old ones.
    let serving = registered(&aws).await;
    let live = live_ids(&aws.live_instances().await);
    assert_eq!(serving.len(), 2, "{serving:?}\n{}", r.stderr);
    assert!(
        serving.iter().all(|id| live.contains(id)),
        "{serving:?} {live:?}"
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(60),
        "waited {:?}",
        t0.elapsed()
    );
    d.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_smaller_count_with_and_without_a_new_template() {
    // The proxy refuses, as AWS does, to retire a member with the capacity
    // decremented below the group's minimum.
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let name = "shrink";
    let three = config_text(name, &ip.url(), "")
        .replace("type = \"t3.micro\"", "type = \"t3.micro\"\ncount = 3");
    let d = Deployment::new(&moto.endpoint(), name, &three);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();
    let before = live_ids(&aws.live_instances().await);

    // 3 -> 2: the plan names the member that goes; one update, one retired.
    let two = three.replace("count = 3", "count = 2");
    std::fs::write(d.dir.join("deploy.toml"), &two).unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let going: Vec<String> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "instance" && r["action"] == "delete")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(going.len(), 1, "{plan}");
    d.deploy(&[]).ok();
    let now = live_ids(&aws.live_instances().await);
    assert_eq!(now.len(), 2);
    assert!(!now.contains(&going[0]), "the planned one stayed");
    assert!(now.is_subset(&before));

    // Back to 3 with a new template, then 3 -> 2 with another: every old
    // member goes, the minimum lowered in the roll's update first.
    let back = three.replace("barista_cafe", "coffee_shop");
    std::fs::write(d.dir.join("deploy.toml"), &back).unwrap();
    d.deploy(&[]).ok();
    let three_new = live_ids(&aws.live_instances().await);
    assert_eq!(three_new.len(), 3);
    let smaller = back
        .replace("coffee_shop", "wave_cafe")
        .replace("count = 3", "count = 2");
    std::fs::write(d.dir.join("deploy.toml"), &smaller).unwrap();
    d.deploy(&[]).ok();
    let last = live_ids(&aws.live_instances().await);
    assert_eq!(last.len(), 2, "{last:?}");
    assert!(
        last.is_disjoint(&three_new),
        "an old instance survived: {last:?}"
    );
    let g = &groups(&aws).await[0];
    assert_eq!((g.min_size(), g.desired_capacity()), (Some(2), Some(2)));
    d.cleanup(&["--yes"]).ok();
}
