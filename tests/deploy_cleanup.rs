//! The whole stack against moto through the real binaries: deploy creates every
//! resource with the right properties, deploy again creates nothing, cleanup
//! leaves nothing, cleanup again is a no-op, a partial deploy cleans up, and
//! resources this tool did not create are never used or deleted.

mod common;

use common::*;

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_twice_then_cleanup_twice() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7\n");
    let d = Deployment::new(
        &moto.endpoint(),
        "cafe",
        &config_text(
            "cafe",
            &ip.url(),
            "[load_balancer]\nextra_ingress = [{ port = 443, cidr = \"0.0.0.0/0\" }]\n",
        ),
    );
    let aws = Aws::new(&moto.endpoint()).await;

    // --- first deploy: everything created
    let first = d.deploy(&["--json"]).ok();
    let summary = first.json();
    for r in summary["resources"].as_array().unwrap() {
        assert_eq!(r["action"], "create", "first deploy found {r}");
    }

    // key pair: tagged, private key saved 0400
    let keys = aws.key_pairs().await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_name(), Some("cafe-key"));
    assert_eq!(tag(keys[0].tags(), "ManagedBy"), Some("sitedeploy"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.pem()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400);
    }
    assert!(std::fs::read_to_string(d.pem())
        .unwrap()
        .contains("PRIVATE KEY"));

    // security groups
    let groups = aws.groups().await;
    assert_eq!(groups.len(), 2, "{groups:#?}");
    let lb_sg = groups
        .iter()
        .find(|g| g.group_name() == Some("cafe-lb-sg"))
        .unwrap();
    let web_sg = groups
        .iter()
        .find(|g| g.group_name() == Some("cafe-web-sg"))
        .unwrap();
    for g in [lb_sg, web_sg] {
        assert_eq!(tag(g.tags(), "ManagedBy"), Some("sitedeploy"));
        assert_eq!(tag(g.tags(), "Deployment"), Some("cafe"));
        assert_eq!(tag(g.tags(), "Project"), Some("tests"));
    }
    let mut lb_ports: Vec<(i32, String)> = lb_sg
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            let cidrs = p.ip_ranges().iter().filter_map(|r| r.cidr_ip());
            let lists = p
                .prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id());
            cidrs
                .chain(lists)
                .map(|s| (p.from_port().unwrap(), s.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    lb_ports.sort();
    // The listener's port from CloudFront's addresses only ([https] is on by
    // default); the extra rule from where deploy.toml says.
    assert_eq!(lb_ports.len(), 2, "{lb_ports:?}");
    assert!(
        lb_ports[0].0 == 80 && lb_ports[0].1.starts_with("pl-"),
        "{lb_ports:?}"
    );
    assert_eq!(
        lb_ports[1],
        (443, "0.0.0.0/0".to_string()),
        "listener port and the extra rule"
    );
    let web_rules = web_sg.ip_permissions();
    assert_eq!(web_rules.len(), 2, "{web_rules:#?}");
    let ssh = web_rules
        .iter()
        .find(|p| p.from_port() == Some(22))
        .unwrap();
    assert_eq!(ssh.ip_ranges().len(), 1);
    assert_eq!(ssh.ip_ranges()[0].cidr_ip(), Some("203.0.113.7/32"));
    assert!(ssh.user_id_group_pairs().is_empty());
    let http = web_rules
        .iter()
        .find(|p| p.from_port() == Some(80))
        .unwrap();
    assert!(
        http.ip_ranges().is_empty(),
        "HTTP to the instance must not be open to a CIDR"
    );
    assert_eq!(http.user_id_group_pairs()[0].group_id(), lb_sg.group_id());

    // instance
    let instances = aws.live_instances().await;
    assert_eq!(instances.len(), 1);
    let inst = &instances[0];
    assert_eq!(inst.state().unwrap().name().unwrap().as_str(), "running");
    assert_eq!(inst.instance_type().unwrap().as_str(), "t3.micro");
    assert_eq!(inst.key_name(), Some("cafe-key"));
    assert_eq!(tag(inst.tags(), "Name"), Some("cafe-web"));
    assert_eq!(tag(inst.tags(), "Deployment"), Some("cafe"));
    assert_eq!(
        inst.security_groups()[0].group_id(),
        web_sg.group_id(),
        "instance must be in the web group"
    );
    assert_eq!(
        inst.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required"),
        "IMDSv2 must be required"
    );
    // the root volume: encrypted gp3 of the configured size
    let volumes = aws
        .ec2
        .describe_volumes()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.instance-id")
                .values(inst.instance_id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let root = &volumes.volumes()[0];
    assert_eq!(root.encrypted(), Some(true), "{root:?}");
    assert_eq!(root.size(), Some(8));
    assert_eq!(root.volume_type().map(|t| t.as_str()), Some("gp3"));
    // the newest matching AMI: moto's al2023 x86_64 images for us-east-1
    let images = aws
        .ec2
        .describe_images()
        .owners("amazon")
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("name")
                .values("al2023-ami-2023.*-x86_64")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let newest = images
        .images()
        .iter()
        .filter(|i| i.architecture().map(|a| a.as_str()) == Some("x86_64"))
        .max_by(|a, b| {
            (a.creation_date(), a.name(), a.image_id()).cmp(&(
                b.creation_date(),
                b.name(),
                b.image_id(),
            ))
        })
        .unwrap();
    assert_eq!(inst.image_id(), newest.image_id());
    // user data: the rendered template with the zip URL
    let ud = aws
        .ec2
        .describe_instance_attribute()
        .instance_id(inst.instance_id().unwrap())
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let b64 = ud.user_data().and_then(|u| u.value()).unwrap();
    let script = decode_base64(b64);
    assert!(script.starts_with("#!/bin/bash"));
    assert!(script
        .contains("TEMPLATE_URL='https://www.tooplate.com/zip-templates/2137_barista_cafe.zip'"));
    assert!(!script.contains("{{"), "unrendered placeholder left");

    // target group, load balancer, listener
    let tgs = aws.target_groups().await;
    assert_eq!(tgs.len(), 1);
    assert_eq!(tgs[0].target_group_name(), Some("cafe-tg"));
    assert_eq!(tgs[0].health_check_path(), Some("/"));
    assert_eq!(tgs[0].port(), Some(80));
    let health = aws
        .elb
        .describe_target_health()
        .target_group_arn(tgs[0].target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let targets: Vec<_> = health
        .target_health_descriptions()
        .iter()
        .filter_map(|t| t.target().and_then(|t| t.id()))
        .collect();
    assert_eq!(targets, vec![inst.instance_id().unwrap()]);
    let lbs = aws.load_balancers().await;
    assert_eq!(lbs.len(), 1);
    let lb = &lbs[0];
    assert_eq!(lb.load_balancer_name(), Some("cafe-alb"));
    assert_eq!(lb.scheme().unwrap().as_str(), "internet-facing");
    assert_eq!(lb.r#type().unwrap().as_str(), "application");
    assert!(lb.availability_zones().len() >= 2);
    assert_eq!(
        lb.security_groups(),
        &[lb_sg.group_id().unwrap().to_string()]
    );
    let listeners = aws.listeners(lb.load_balancer_arn().unwrap()).await;
    assert_eq!(listeners.len(), 1);
    assert_eq!(listeners[0].port(), Some(80));
    // Gated: a fixed 403 unless the distribution's header forwards it.
    assert_eq!(
        listeners[0].default_actions()[0].r#type(),
        Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse)
    );

    // summary
    // The site's URL is the CloudFront distribution's, in front of the load
    // balancer.
    let cdns = aws.cloudfront.list_distributions().send().await.unwrap();
    let cdn = &cdns.distribution_list().unwrap().items()[0];
    assert_eq!(summary["url"], format!("https://{}/", cdn.domain_name()));
    assert_eq!(summary["load_balancer_dns"], lb.dns_name().unwrap());
    assert_eq!(summary["instances"][0]["id"], inst.instance_id().unwrap());
    let ssh_cmd = summary["instances"][0]["ssh_command"].as_str().unwrap();
    assert!(ssh_cmd.starts_with("ssh -i "));
    assert!(ssh_cmd.contains(&d.pem().display().to_string()));
    assert!(ssh_cmd.ends_with(&format!("ec2-user@{}", inst.public_ip_address().unwrap())));

    // --- second deploy: nothing created, same ids; only the expiry moves
    // (every deploy counts it again from now)
    let second = d.deploy(&["--json"]).ok().json();
    for r in second["resources"].as_array().unwrap() {
        let moves = r["kind"] == "schedule";
        let want = if moves { "update" } else { "keep" };
        assert_eq!(r["action"], want, "second deploy changed {r}");
    }
    let ids = |s: &serde_json::Value| -> Vec<String> {
        s["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&summary), ids(&second));
    assert_eq!(aws.counts().await, (1, 2, 1, 1, 1));
    assert_eq!(
        aws.listeners(lb.load_balancer_arn().unwrap()).await.len(),
        1
    );
    // the text summary names the URL and the SSH command on stdout
    let text = d.deploy(&[]).ok();
    assert!(text.stdout.contains(cdn.domain_name()), "{}", text.stdout);
    assert!(text.stdout.contains("ssh -i "));
    assert!(!text.stdout.contains("created"), "{}", text.stdout);

    // --- cleanup: nothing left, .pem removed
    let c = d.cleanup(&["--yes"]).ok();
    assert!(c.stdout.contains("is gone"), "{}", c.stdout);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(!exists(&d.pem()));

    // --- cleanup again: nothing to delete, exit 0
    let again = d.cleanup(&["--yes"]).ok();
    assert!(
        again.stdout.contains("Nothing to delete"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_refuses_without_yes_when_not_a_terminal() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "ask", &ip);
    d.deploy(&[]).ok();
    let r = d.cleanup(&[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    let aws = Aws::new(&moto.endpoint()).await;
    assert_eq!(
        aws.counts().await,
        (1, 2, 1, 1, 1),
        "nothing may be deleted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_deploy_then_cleanup_leaves_nothing() {
    let moto = Moto::start();
    // The load balancer cannot be created: deploy stops once the key pair, the
    // load balancer's group and the target group exist.
    let proxy = Proxy::start(
        &moto,
        r#"{"fail_actions": {"CreateLoadBalancer": "TooManyLoadBalancers"}}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "part", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("TooManyLoadBalancers"), "{}", r.stderr);
    assert!(
        r.stderr.contains("failed to create load balancer part-alb"),
        "{}",
        r.stderr
    );
    // The load balancer's group, the key pair and the target group exist; the
    // web group and the instance may or may not, depending on how far their
    // branch got before the failure cancelled it.
    let (_, groups, keys, lbs, tgs) = aws.counts().await;
    assert!((1..=2).contains(&groups), "{groups} groups");
    assert_eq!((keys, lbs, tgs), (1, 0, 1));

    // cleanup on "another machine": a fresh directory without the .pem
    let other = Deployment::simple(&proxy.endpoint(), "part", &ip);
    other.cleanup(&["--yes"]).ok();
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    other.cleanup(&["--yes"]).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_same_named_group_is_neither_used_nor_deleted() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let vpc = aws.ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let foreign = aws
        .ec2
        .create_security_group()
        .group_name("mine-web-sg")
        .description("somebody else's")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();

    let d = Deployment::simple(&moto.endpoint(), "mine", &ip);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not created by this tool"),
        "{}",
        r.stderr
    );
    assert!(
        aws.live_instances().await.is_empty(),
        "no instance may be launched"
    );

    d.cleanup(&["--yes"]).ok();
    let left = aws.groups().await;
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0].group_id(), Some(foreign.as_str()));
    assert!(
        left[0].ip_permissions().is_empty(),
        "no rule may be added to it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_rule_follows_a_changed_address_and_failed_detection_adds_none() {
    let moto = Moto::start();
    let aws = Aws::new(&moto.endpoint()).await;
    let first_ip = IpService::start("198.51.100.1");
    let d = Deployment::simple(&moto.endpoint(), "move", &first_ip);
    d.deploy(&[]).ok();

    let ssh_cidrs = || async {
        let groups = aws.groups().await;
        let web = groups
            .iter()
            .find(|g| g.group_name() == Some("move-web-sg"))
            .unwrap();
        web.ip_permissions()
            .iter()
            .filter(|p| p.from_port() == Some(22))
            .flat_map(|p| p.ip_ranges())
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(ssh_cidrs().await, vec!["198.51.100.1/32"]);

    let second_ip = IpService::start("198.51.100.2");
    std::fs::write(
        d.dir.join("deploy.toml"),
        config_text("move", &second_ip.url(), ""),
    )
    .unwrap();
    let r = d.deploy(&["--json"]).ok().json();
    let web = r["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "move-web-sg")
        .unwrap()
        .clone();
    assert_eq!(web["action"], "update");
    assert_eq!(ssh_cidrs().await, vec!["198.51.100.2/32"]);

    // A dead IP service: a warning, and the existing rule is kept as it is.
    std::fs::write(
        d.dir.join("deploy.toml"),
        config_text("move", "http://127.0.0.1:9/", ""),
    )
    .unwrap();
    let r = d.deploy(&[]).ok();
    assert!(r.stdout.contains("warning:"), "{}", r.stdout);
    assert_eq!(ssh_cidrs().await, vec!["198.51.100.2/32"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_ip_detection_opens_no_ssh() {
    let moto = Moto::start();
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(
        &moto.endpoint(),
        "noip",
        &config_text("noip", "http://127.0.0.1:9/", ""),
    );
    let r = d.deploy(&["--json"]).ok().json();
    assert!(r["ssh_cidr"].is_null());
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(warning.contains("no SSH rule"));
    // One short sentence with the service and the cause, not an error chain.
    assert!(warning.contains("127.0.0.1: "), "{warning}");
    assert!(
        warning.len() < 300,
        "{} characters: {warning}",
        warning.len()
    );
    let groups = aws.groups().await;
    for g in &groups {
        for p in g.ip_permissions() {
            assert_ne!(
                p.from_port(),
                Some(22),
                "port 22 opened in {:?}",
                g.group_name()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn key_pair_without_its_pem_stops_with_a_way_out() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::simple(&moto.endpoint(), "lost", &ip);
    d.deploy(&[]).ok();
    let old_key = aws.key_pairs().await[0].key_pair_id().unwrap().to_string();

    // Same deployment from another directory: the key exists, its .pem is not here.
    let other = Deployment::simple(&moto.endpoint(), "lost", &ip);
    let r = other.deploy(&[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--replace-key-pair"), "{}", r.stderr);
    assert!(!exists(&other.pem()));

    let r = other.deploy(&["--replace-key-pair"]).ok();
    assert!(exists(&other.pem()), "{}", r.stderr);
    let keys = aws.key_pairs().await;
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0].key_pair_id().unwrap(), old_key);
    assert_eq!(aws.live_instances().await.len(), 1, "the instance is kept");
}

fn decode_base64(s: &str) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = alphabet.iter().position(|a| *a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}
