//! Drift put right: settings changed in deploy.toml are brought into line on
//! the next deploy, `--plan` shows each as an update with the difference, and
//! only what this tool manages changes. The views agree on the rows.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types as ec2t;
use common::*;

/// `(kind, name)` -> `(action, detail)` of a `--plan --json`.
fn plan_rows(plan: &serde_json::Value) -> BTreeMap<(String, String), (String, String)> {
    plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["kind"].as_str().unwrap().into(),
                    r["name"].as_str().unwrap().into(),
                ),
                (
                    r["action"].as_str().unwrap().into(),
                    r["detail"].as_str().unwrap().into(),
                ),
            )
        })
        .collect()
}

fn row<'a>(
    rows: &'a BTreeMap<(String, String), (String, String)>,
    kind: &str,
    name: &str,
) -> &'a (String, String) {
    rows.get(&(kind.to_string(), name.to_string()))
        .unwrap_or_else(|| panic!("no row {kind} {name} in {rows:#?}"))
}

async fn lb_group(aws: &Aws, name: &str) -> ec2t::SecurityGroup {
    aws.groups()
        .await
        .into_iter()
        .find(|g| g.group_name() == Some(name))
        .unwrap()
}

/// `(port, cidr, description)` of a group's CIDR rules.
fn cidr_rules(g: &ec2t::SecurityGroup) -> BTreeSet<(i32, String, String)> {
    g.ip_permissions()
        .iter()
        .flat_map(|p| {
            let port = p.from_port().unwrap_or(-1);
            let cidrs = p.ip_ranges().iter().map(move |r| {
                (
                    port,
                    r.cidr_ip().unwrap_or_default().to_string(),
                    r.description().unwrap_or_default().to_string(),
                )
            });
            // CloudFront's managed prefix list ([https]) as a source too.
            let lists = p.prefix_list_ids().iter().map(move |l| {
                (
                    port,
                    l.prefix_list_id().unwrap_or_default().to_string(),
                    l.description().unwrap_or_default().to_string(),
                )
            });
            cidrs.chain(lists)
        })
        .collect()
}

fn ec2_tags(tags: &[ec2t::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn elb_tags(aws: &Aws, arn: &str) -> BTreeMap<String, String> {
    let out = aws
        .elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .unwrap();
    out.tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn port_rules_health_check_and_tags_follow_deploy_toml_and_hand_rules_stay() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let name = "drift";
    let before = config_text(
        name,
        &ip.url(),
        "[load_balancer]\nextra_ingress = [{ port = 8443, cidr = \"10.0.0.0/8\" }]\n",
    )
    .replace(
        "Project = \"tests\"",
        "Project = \"tests\"\nTeam = \"blue\"",
    );
    // Every change goes through config/iam-policy.json, evaluated as AWS would.
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/iam-policy.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let proxy = Proxy::start(
        &moto,
        &serde_json::json!({ "iam_policy": policy }).to_string(),
    );
    let d = Deployment::new(&proxy.endpoint(), name, &before);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();

    // A person opens SSH from a bastion on the load balancer's group by hand.
    let lb_sg = format!("{name}-lb-sg");
    let gid = lb_group(&aws, &lb_sg).await.group_id().unwrap().to_string();
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(&gid)
        .ip_permissions(
            ec2t::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    ec2t::IpRange::builder()
                        .cidr_ip("192.0.2.0/24")
                        .description("bastion")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    // deploy.toml changes: the port, the extra rule gone, the health check,
    // a tag changed, one added, one removed.
    let after = config_text(
        name,
        &ip.url(),
        "[load_balancer]\nport = 8080\nhealth_check_path = \"/health.html\"\n",
    )
    .replace(
        "Project = \"tests\"",
        "Project = \"drift\"\nOwner = \"ann\"",
    );
    std::fs::write(d.dir.join("deploy.toml"), &after).unwrap();

    let plan = plan_rows(&d.deploy(&["--plan", "--json"]).ok().json());
    let (a, detail) = row(&plan, "security group", &lb_sg);
    assert_eq!(a, "update");
    for want in [
        "allow tcp 8080 from pl-",
        "revoke tcp 80 from pl-",
        "revoke tcp 8443 from 10.0.0.0/8",
        "tag Owner=ann",
        "tag Project=drift",
        "untag Team",
        "kept (added by hand): tcp 22 from 192.0.2.0/24",
    ] {
        assert!(detail.contains(want), "{want:?} not in {detail:?}");
    }
    let (a, detail) = row(&plan, "listener", "HTTP");
    assert_eq!((a.as_str(), detail.as_str()), ("update", "port 80 -> 8080"));
    // The distribution follows the listener's port.
    let (a, detail) = row(&plan, "distribution", &format!("{name}-cdn"));
    assert_eq!(
        (a.as_str(), detail.as_str()),
        (
            "update",
            "origin port 80 -> 8080; tag Owner=ann; tag Project=drift; untag Team"
        )
    );
    let (a, detail) = row(&plan, "target group", &format!("{name}-tg"));
    assert_eq!(a, "update");
    assert!(
        detail.starts_with("health check / -> /health.html"),
        "{detail}"
    );
    for (kind, n) in [
        ("key pair", format!("{name}-key")),
        ("security group", format!("{name}-web-sg")),
        ("instance", format!("{name}-web")),
        ("load balancer", format!("{name}-alb")),
    ] {
        let (a, detail) = row(&plan, kind, &n);
        assert_eq!(a, "update", "{kind}: {detail}");
        assert!(detail.contains("untag Team"), "{kind}: {detail}");
    }
    assert_eq!(
        aws.listeners(aws.load_balancers().await[0].load_balancer_arn().unwrap())
            .await
            .len(),
        1
    );

    let summary = d.deploy(&["--json"]).ok().json();
    assert!(
        summary["url"].as_str().unwrap().starts_with("https://"),
        "{summary}"
    );

    // On the emulator: one listener, on 8080; the group allows 8080 and the
    // hand-made rule, no longer 80 or 8443.
    let lb = &aws.load_balancers().await[0];
    let listeners = aws.listeners(lb.load_balancer_arn().unwrap()).await;
    let ports: Vec<i32> = listeners.iter().filter_map(|l| l.port()).collect();
    assert_eq!(ports, [8080]);
    let rules = cidr_rules(&lb_group(&aws, &lb_sg).await);
    let ports: BTreeSet<i32> = rules.iter().map(|r| r.0).collect();
    assert_eq!(ports, BTreeSet::from([22, 8080]), "{rules:?}");
    assert!(rules.contains(&(22, "192.0.2.0/24".into(), "bastion".into())));
    let tg = &aws.target_groups().await[0];
    assert_eq!(tg.health_check_path(), Some("/health.html"));

    // Tags on every resource: Project changed, Owner added, Team removed.
    let check = |tags: &BTreeMap<String, String>, what: &str| {
        assert_eq!(
            tags.get("Project").map(String::as_str),
            Some("drift"),
            "{what}: {tags:?}"
        );
        assert_eq!(
            tags.get("Owner").map(String::as_str),
            Some("ann"),
            "{what}: {tags:?}"
        );
        assert!(!tags.contains_key("Team"), "{what}: {tags:?}");
        assert_eq!(
            tags.get("ManagedBy").map(String::as_str),
            Some("sitedeploy"),
            "{what}"
        );
    };
    for g in aws.groups().await {
        check(&ec2_tags(g.tags()), g.group_name().unwrap());
    }
    check(&ec2_tags(aws.key_pairs().await[0].tags()), "key pair");
    check(&ec2_tags(aws.live_instances().await[0].tags()), "instance");
    check(
        &elb_tags(&aws, lb.load_balancer_arn().unwrap()).await,
        "load balancer",
    );
    check(
        &elb_tags(&aws, tg.target_group_arn().unwrap()).await,
        "target group",
    );
    check(
        &elb_tags(&aws, listeners[0].listener_arn().unwrap()).await,
        "listener",
    );
    let cdns = aws.cloudfront.list_distributions().send().await.unwrap();
    let cdn = &cdns.distribution_list().unwrap().items()[0];
    let cdn_tags = aws
        .cloudfront
        .list_tags_for_resource()
        .resource(cdn.arn())
        .send()
        .await
        .unwrap();
    let cdn_tags: BTreeMap<String, String> = sitedeploy::tags::cloudfront_pairs(cdn_tags.tags())
        .into_iter()
        .collect();
    check(&cdn_tags, "distribution");

    // Nothing left to change; the hand-made rule is still reported as kept.
    let plan = plan_rows(&d.deploy(&["--plan", "--json"]).ok().json());
    for ((kind, n), (a, detail)) in &plan {
        // Every deploy counts the expiry again from now.
        let want = if kind == "schedule" { "update" } else { "keep" };
        assert_eq!(a, want, "{kind} {n}: {detail}");
    }
    assert!(row(&plan, "security group", &lb_sg)
        .1
        .contains("added by hand"));
    d.cleanup(&["--yes"]).ok();
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    let stats = proxy.stats();
    assert_eq!(stats["denied"], serde_json::json!([]), "{stats}");
    for action in [
        "CreateTags",
        "DeleteTags",
        "AddTags",
        "RemoveTags",
        "ModifyTargetGroup",
        "RevokeSecurityGroupIngress",
        "DeleteListener",
    ] {
        assert!(
            stats["actions"][action].as_u64().unwrap_or(0) >= 1,
            "{action} never called: {stats}"
        );
    }
}

/// `(kind, name, id)` of a view's rows.
fn ids(rows: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `(kind, id)` of everything the emulator holds (each test has its own), asked
/// of AWS's APIs directly: what the views' rows must name.
async fn in_aws(aws: &Aws) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut put = |kind: &str, id: &str| out.push((kind.to_string(), id.to_string()));
    let keys = aws.ec2.describe_key_pairs().send().await.unwrap();
    for k in keys.key_pairs() {
        put("key pair", k.key_pair_id().unwrap());
    }
    let cdns = aws.cloudfront.list_distributions().send().await.unwrap();
    for d in cdns
        .distribution_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        put("distribution", d.id());
    }
    let groups = aws.ec2.describe_security_groups().send().await.unwrap();
    for g in groups.security_groups() {
        if g.group_name() != Some("default") {
            put("security group", g.group_id().unwrap());
        }
    }
    let running = ec2t::Filter::builder()
        .name("instance-state-name")
        .values("running")
        .build();
    let res = aws
        .ec2
        .describe_instances()
        .filters(running)
        .send()
        .await
        .unwrap();
    for i in res.reservations().iter().flat_map(|r| r.instances()) {
        put("instance", i.instance_id().unwrap());
    }
    let tgs = aws.elb.describe_target_groups().send().await.unwrap();
    for t in tgs.target_groups() {
        let arn = t.target_group_arn().unwrap();
        put("target group", arn);
        let health = aws
            .elb
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .unwrap();
        for h in health.target_health_descriptions() {
            put("target", h.target().unwrap().id().unwrap());
        }
    }
    let lbs = aws.elb.describe_load_balancers().send().await.unwrap();
    for lb in lbs.load_balancers() {
        let arn = lb.load_balancer_arn().unwrap();
        put("load balancer", arn);
        let ls = aws
            .elb
            .describe_listeners()
            .load_balancer_arn(arn)
            .send()
            .await
            .unwrap();
        for l in ls.listeners() {
            put("listener", l.listener_arn().unwrap());
        }
    }
    let lts = aws.ec2.describe_launch_templates().send().await.unwrap();
    for lt in lts.launch_templates() {
        put("launch template", lt.launch_template_id().unwrap());
    }
    let asgs = aws.asg.describe_auto_scaling_groups().send().await.unwrap();
    for g in asgs.auto_scaling_groups() {
        put("Auto Scaling group", g.auto_scaling_group_name().unwrap());
    }
    let roles = aws.iam.list_roles().send().await.unwrap();
    for r in roles.roles() {
        put("role", r.arn());
    }
    let sgroups = aws.scheduler.list_schedule_groups().send().await.unwrap();
    for g in sgroups.schedule_groups() {
        let name = g.name().unwrap();
        if name == "default" {
            continue;
        }
        put("schedule group", name);
        let list = aws
            .scheduler
            .list_schedules()
            .group_name(name)
            .send()
            .await
            .unwrap();
        for sc in list.schedules() {
            put("schedule", sc.name().unwrap());
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn status_plan_summary_and_cleanup_report_show_the_same_rows() {
    same_rows(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_views_agree_on_a_fleet_too() {
    same_rows(3).await;
}

async fn same_rows(count: usize) {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let name = format!("rows{count}");
    let config = config_text(&name, &ip.url(), "").replace(
        "type = \"t3.micro\"",
        &format!("type = \"t3.micro\"\ncount = {count}"),
    );
    let d = Deployment::new(&moto.endpoint(), &name, &config);
    let summary = d.deploy(&["--json"]).ok().json();
    // The rows name exactly what AWS holds: every id, and nothing more.
    let aws = Aws::new(&moto.endpoint()).await;
    let held = in_aws(&aws).await;
    let mut named: Vec<(String, String)> = ids(&summary["resources"])
        .into_iter()
        .map(|(kind, _, id)| (kind, id))
        .collect();
    named.sort();
    assert_eq!(named, held, "the summary's rows vs AWS");
    assert_eq!(
        held.iter().filter(|(k, _)| k == "instance").count(),
        count,
        "{held:#?}"
    );
    let status = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let cleanup_plan = d.cleanup(&["--plan", "--json"]).ok().json();
    let report = d.cleanup(&["--yes", "--json"]).ok().json();

    let rows = ids(&summary["resources"]);
    let mut want = BTreeSet::from([
        "key pair",
        "security group",
        "target group",
        "instance",
        "target",
        "load balancer",
        "listener",
        "distribution",
        "role",
        "schedule group",
        "schedule",
    ]);
    if count > 1 {
        want.extend(["launch template", "Auto Scaling group"]);
    }
    // 2 groups, 2 schedules, count instances and targets, and one of each
    // other kind.
    assert_eq!(rows.len(), want.len() + 2 + 2 * (count - 1), "{rows:#?}");
    let kinds: BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(kinds, want);
    assert!(rows.iter().all(|r| !r.2.is_empty()), "{rows:#?}");
    assert_eq!(ids(&status["resources"]), rows, "status vs summary");
    assert_eq!(ids(&plan["resources"]), rows, "--plan vs summary");
    assert_eq!(
        ids(&cleanup_plan["resources"]),
        rows,
        "cleanup --plan vs summary"
    );
    assert_eq!(ids(&report["resources"]), rows, "cleanup report vs summary");
    assert!(
        report["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "delete"),
        "{report}"
    );
    assert_eq!(in_aws(&aws).await, Vec::new(), "left after cleanup");
}
