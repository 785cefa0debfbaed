//! `[https] enabled = true`: a CloudFront distribution in front of the load
//! balancer, against moto's CloudFront behind the test layer, which keeps a
//! change `InProgress` for a while, refuses a stale ETag and refuses to delete
//! a distribution until a disable has deployed (tests/support/awsproxy.py).

mod common;

use common::*;

fn https_config(name: &str, ip: &IpService, enabled: bool) -> String {
    config_text(
        name,
        &ip.url(),
        &format!("\n[https]\nenabled = {enabled}\n"),
    )
}

async fn distributions(aws: &Aws) -> Vec<aws_sdk_cloudfront::types::DistributionSummary> {
    aws.cloudfront
        .list_distributions()
        .send()
        .await
        .unwrap()
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default()
}

/// The load balancer's door: (its listener's default action is a fixed 403,
/// the header values its rules forward on, the sources of its group's port 80
/// rule: CIDRs and prefix lists).
async fn door(aws: &Aws, name: &str) -> (bool, Vec<String>, Vec<String>) {
    let lbs = aws.load_balancers().await;
    let lb = lbs
        .iter()
        .find(|l| l.load_balancer_name() == Some(&format!("{name}-alb")))
        .unwrap();
    let listeners = aws.listeners(lb.load_balancer_arn().unwrap()).await;
    let l = &listeners[0];
    let denies = l.default_actions()[0].r#type()
        == Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::FixedResponse);
    let rules = aws
        .elb
        .describe_rules()
        .listener_arn(l.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let values = rules
        .rules()
        .iter()
        .flat_map(|r| r.conditions())
        .filter_map(|c| c.http_header_config())
        .flat_map(|h| h.values().iter().cloned())
        .collect();
    let groups = aws.groups().await;
    let g = groups
        .iter()
        .find(|g| g.group_name() == Some(&format!("{name}-lb-sg")))
        .unwrap();
    let sources = g
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(80))
        .flat_map(|p| {
            let cidrs = p.ip_ranges().iter().filter_map(|r| r.cidr_ip());
            let lists = p
                .prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id());
            cidrs.chain(lists).map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    (denies, values, sources)
}

async fn cloudfront_list(aws: &Aws) -> String {
    let out = aws
        .ec2
        .describe_managed_prefix_lists()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("prefix-list-name")
                .values("com.amazonaws.global.cloudfront.origin-facing")
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.prefix_lists()[0].prefix_list_id().unwrap().to_string()
}

/// The distribution's configuration as AWS holds it.
async fn config_of(aws: &Aws, id: &str) -> aws_sdk_cloudfront::types::DistributionConfig {
    let out = aws
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .unwrap();
    out.distribution_config().unwrap().clone()
}

/// The secret header's value in the distribution's origin.
async fn secret_of(aws: &Aws, id: &str) -> String {
    let cfg = config_of(aws, id).await;
    let origin = &cfg.origins().unwrap().items()[0];
    let header = &origin.custom_headers().unwrap().items()[0];
    assert_eq!(header.header_name(), "X-Origin-Verify");
    header.header_value().to_string()
}

fn row<'a>(json: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_distribution_in_front_kept_on_redeploy_and_gone_with_cleanup() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(&moto.endpoint(), "cdn", &https_config("cdn", &ip, true));

    // --plan lists it; deploy makes it, waits until deployed, prints its URL.
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    let planned = row(&plan, "distribution").expect("no distribution row in the plan");
    assert_eq!(planned["action"], "create", "{planned}");
    let first = d.deploy(&["--json"]).ok();
    let json = first.json();
    let list = distributions(&aws).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let dist = &list[0];
    assert_eq!(json["url"], format!("https://{}/", dist.domain_name()));
    assert_eq!(dist.comment(), "sitedeploy cdn in us-east-1");
    assert!(dist.enabled());
    assert_eq!(
        dist.status(),
        "Deployed",
        "deploy returned before it deployed"
    );
    // In front of the load balancer, with the secret header, HTTPS to visitors.
    let cfg = config_of(&aws, dist.id()).await;
    let origin = &cfg.origins().unwrap().items()[0];
    let lbs = aws.load_balancers().await;
    assert_eq!(origin.domain_name(), lbs[0].dns_name().unwrap());
    let secret = secret_of(&aws, dist.id()).await;
    assert_eq!(secret.len(), 64);
    assert_eq!(
        cfg.default_cache_behavior()
            .unwrap()
            .viewer_protocol_policy(),
        &aws_sdk_cloudfront::types::ViewerProtocolPolicy::RedirectToHttps
    );
    // The secret is never printed.
    assert!(!first.stdout.contains(&secret) && !first.stderr.contains(&secret));
    // The load balancer admits only CloudFront's addresses, and forwards only
    // what carries the secret; the rest gets the fixed 403.
    let (denies, values, sources) = door(&aws, "cdn").await;
    assert!(denies, "the listener's default action is not the 403");
    assert_eq!(values, vec![secret.clone()]);
    assert_eq!(sources, vec![cloudfront_list(&aws).await]);

    // A second deploy changes nothing, the secret included.
    let second = d.deploy(&["--json"]).ok();
    let row2 = row(&second.json(), "distribution").cloned().unwrap();
    assert_eq!(row2["action"], "keep", "{row2}");
    assert_eq!(distributions(&aws).await.len(), 1);
    assert_eq!(secret_of(&aws, dist.id()).await, secret);
    assert!(!second.stdout.contains(&secret) && !second.stderr.contains(&secret));
    // Nor at the most verbose logging (the SDK's requests and answers).
    let loud = d.run_env(
        env!("CARGO_BIN_EXE_deploy"),
        &["-vv"],
        &[("RUST_LOG", "trace")],
    );
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(
        loud.stderr.len() > 10_000,
        "no trace logged: {}",
        loud.stderr.len()
    );
    assert!(!loud.stdout.contains(&secret) && !loud.stderr.contains(&secret));

    // status shows it.
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    assert!(st.contains("distribution"), "{st}");
    assert!(st.contains(dist.domain_name()), "{st}");

    // cleanup disables it, waits for the disable to deploy, deletes it.
    let c = d.cleanup(&["--yes", "--json"]).ok().json();
    let gone = row(&c, "distribution").cloned().unwrap();
    assert_eq!(gone["action"], "delete", "{gone}");
    assert!(gone["error"].is_null(), "{gone}");
    assert!(distributions(&aws).await.is_empty());
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn https_off_takes_the_distribution_down_and_on_brings_one_back() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(&moto.endpoint(), "flip", &https_config("flip", &ip, true));
    d.deploy(&[]).ok();
    assert_eq!(distributions(&aws).await.len(), 1);

    std::fs::write(d.dir.join("deploy.toml"), https_config("flip", &ip, false)).unwrap();
    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    assert_eq!(row(&plan, "distribution").unwrap()["action"], "delete");
    let off = d.deploy(&["--json"]).ok().json();
    assert_eq!(row(&off, "distribution").unwrap()["action"], "delete");
    assert!(distributions(&aws).await.is_empty());
    let lbs = aws.load_balancers().await;
    assert_eq!(
        off["url"],
        format!("http://{}/", lbs[0].dns_name().unwrap())
    );
    // The door is open again: forward by default, no header rule, port 80
    // from anywhere.
    let (denies, values, sources) = door(&aws, "flip").await;
    assert!(!denies && values.is_empty(), "{values:?}");
    assert_eq!(sources, vec!["0.0.0.0/0".to_string()]);

    std::fs::write(d.dir.join("deploy.toml"), https_config("flip", &ip, true)).unwrap();
    let on = d.deploy(&["--json"]).ok().json();
    assert_eq!(row(&on, "distribution").unwrap()["action"], "create");
    assert_eq!(distributions(&aws).await.len(), 1);
    let (denies, values, sources) = door(&aws, "flip").await;
    assert!(denies && values.len() == 1, "{values:?}");
    assert_eq!(sources, vec![cloudfront_list(&aws).await]);
    d.cleanup(&["--yes"]).ok();
    assert!(distributions(&aws).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cleanup_stopped_after_the_disable_is_finished_by_the_next() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(&moto.endpoint(), "half", &https_config("half", &ip, true));
    d.deploy(&[]).ok();
    let id = distributions(&aws).await[0].id().to_string();
    // What an interrupted cleanup leaves: the distribution disabled (the
    // disable still deploying), nothing deleted.
    let got = aws
        .cloudfront
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .unwrap();
    let mut cfg = got.distribution_config().unwrap().clone();
    cfg.enabled = false;
    aws.cloudfront
        .update_distribution()
        .id(&id)
        .if_match(got.e_tag().unwrap())
        .distribution_config(cfg)
        .send()
        .await
        .unwrap();
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    assert!(st.contains("disabl"), "{st}");
    d.cleanup(&["--yes"]).ok();
    assert!(distributions(&aws).await.is_empty());
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

/// One GET of `path` at `addr` (plain HTTP), with these extra headers:
/// (status, body).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: lb.example\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_is_proven_through_https_and_the_load_balancer_refuses_the_rest() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let site = FakeSite::start(&moto, "installed", None);
    let d = Deployment::new(&moto.endpoint(), "edge", &https_config("edge", &ip, true));
    let (k, v) = site.tls_env();
    let env = [("SITEDEPLOY_NO_SITE_CHECK", "false"), (k, v.as_str())];
    let args = ["--json", "--site-address", &site.address()];
    let r = d.run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env).ok();
    let j = r.json();
    let domain = distributions(&aws).await[0].domain_name().to_string();
    assert_eq!(j["url"], format!("https://{domain}/"));
    // The marker was read through the distribution's HTTPS URL.
    assert_eq!(j["site"]["status"], 200, "{j}");
    assert_eq!(j["site"]["live_template"], "2137_barista_cafe", "{j}");
    assert!(
        r.stderr.contains(&format!("https://{domain}")),
        "{}",
        r.stderr
    );
    // Straight to the load balancer: its fixed 403, with or without a wrong
    // header; with the distribution's header, the site.
    let lb = site.lb_address();
    let (status, body) = get(&lb, "/", &[]);
    assert_eq!(status, 403);
    assert!(body.contains("CloudFront"), "{body}");
    assert_eq!(get(&lb, "/", &[("X-Origin-Verify", "guess")]).0, 403);
    let secret = secret_of(&aws, distributions(&aws).await[0].id()).await;
    assert_eq!(get(&lb, "/", &[("X-Origin-Verify", &secret)]).0, 200);
    // A second deploy proves it again, changing nothing.
    let again = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env)
        .ok()
        .json();
    assert_eq!(again["site"]["status"], 200, "{again}");
    assert_eq!(row(&again, "distribution").unwrap()["action"], "keep");
    d.cleanup(&["--yes"]).ok();
    assert!(distributions(&aws).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_expiry_only_what_costs_nothing_is_left_and_status_says_so() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(&moto.endpoint(), "exp", &https_config("exp", &ip, true));
    d.deploy(&[]).ok();
    // The expiry's schedules fire (as Scheduler runs them): the load balancer
    // and the web server go; the distribution cannot be deleted by them.
    let endpoint = moto.endpoint();
    let args = ["--endpoint", endpoint.as_str(), "--group", "sitedeploy-exp"];
    script("tests/support/run_schedule.py", &args).ok();
    assert!(aws.load_balancers().await.is_empty());
    assert_eq!(distributions(&aws).await.len(), 1);
    let st = d.run(env!("CARGO_BIN_EXE_status"), &[]).ok().stdout;
    assert!(st.contains("Left: the CloudFront distribution"), "{st}");
    assert!(st.contains("costs nothing"), "{st}");
    let json = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert_eq!(json["cost"]["per_hour"], 0.0, "{json}");
    d.cleanup(&["--yes"]).ok();
    assert!(distributions(&aws).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn turning_https_on_keeps_the_load_balancer_open_until_the_distribution_is_deployed() {
    let moto = Moto::start();
    // CloudFront takes 6 s to deploy a change here (AWS: minutes).
    let proxy = Proxy::start(&moto, r#"{"distribution_in_progress_s": 6}"#);
    let ip = IpService::start("203.0.113.7");
    // Read through the same proxy: it keeps the distribution's state.
    let aws = Aws::new(&proxy.endpoint()).await;
    let d = Deployment::new(&proxy.endpoint(), "live", &https_config("live", &ip, false));
    d.deploy(&[]).ok();
    assert!(!door(&aws, "live").await.0);
    std::fs::write(d.dir.join("deploy.toml"), https_config("live", &ip, true)).unwrap();
    let child = d.spawn_deploy(&[]);
    // While the new distribution is still deploying, the live load balancer
    // still forwards and is still open.
    let start = std::time::Instant::now();
    let mut seen_in_progress = false;
    while start.elapsed() < std::time::Duration::from_secs(20) {
        let list = distributions(&aws).await;
        if let Some(dist) = list.first() {
            let d = aws
                .cloudfront
                .get_distribution()
                .id(dist.id())
                .send()
                .await
                .unwrap();
            if d.distribution().unwrap().status() == "InProgress" {
                seen_in_progress = true;
                let (denies, _, sources) = door(&aws, "live").await;
                assert!(
                    !denies,
                    "the listener was shut before the distribution deployed"
                );
                assert!(sources.contains(&"0.0.0.0/0".to_string()), "{sources:?}");
            } else if seen_in_progress {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        seen_in_progress,
        "the distribution was never seen deploying"
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Deployed: now only CloudFront gets through.
    let (denies, values, sources) = door(&aws, "live").await;
    assert!(denies && values.len() == 1);
    assert_eq!(sources, vec![cloudfront_list(&aws).await]);
    d.cleanup(&["--yes"]).ok();
}

fn domain_config(name: &str, ip: &IpService, domain: &str) -> String {
    config_text(
        name,
        &ip.url(),
        &format!("\n[https]\nenabled = true\ndomain = \"{domain}\"\n"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_gets_a_certificate_records_and_the_distribution_answers_on_it() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, r#"{"deregistration_delay_s": 1}"#);
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let site = FakeSite::start(&moto, "installed", None);
    // The learner's zone, and a private zone of the domain's own name that
    // must be passed over (ACM and visitors resolve in public DNS).
    let zone = aws.hosted_zone("example.com").await;
    let vpc = aws.ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    aws.route53
        .create_hosted_zone()
        .name("www.example.com")
        .caller_reference("tests-private")
        .hosted_zone_config(
            aws_sdk_route53::types::HostedZoneConfig::builder()
                .private_zone(true)
                .build(),
        )
        .vpc(
            aws_sdk_route53::types::Vpc::builder()
                .vpc_id(vpc)
                .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let host = "www.example.com";
    let d = Deployment::new(&proxy.endpoint(), "dom", &domain_config("dom", &ip, host));
    let (k, v) = site.tls_env();
    let env = [("SITEDEPLOY_NO_SITE_CHECK", "false"), (k, v.as_str())];
    let args = ["--json", "--site-address", &site.address()];

    let plan = d.deploy(&["--plan", "--json"]).ok().json();
    for kind in ["certificate", "distribution", "DNS records"] {
        let r = row(&plan, kind).unwrap_or_else(|| panic!("no {kind} row: {plan}"));
        assert_eq!(r["action"], "create", "{r}");
    }
    assert!(
        row(&plan, "DNS records").unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("zone example.com"),
        "{plan}"
    );

    let first = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env)
        .ok()
        .json();
    assert_eq!(first["url"], format!("https://{host}/"), "{first}");
    assert_eq!(first["site"]["status"], 200, "{first}");
    // The certificate: ours, for the domain, issued, in us-east-1.
    let certs = aws.certificates().await;
    assert_eq!(certs.len(), 1, "{certs:?}");
    let (arn, cert_domain, status) = &certs[0];
    assert!(arn.starts_with("arn:aws:acm:us-east-1:"), "{arn}");
    assert_eq!((cert_domain.as_str(), status.as_str()), (host, "ISSUED"));
    // The distribution answers on the domain with it, SNI, TLS 1.2+.
    let dist = distributions(&aws).await[0].clone();
    let cfg = config_of(&aws, dist.id()).await;
    assert_eq!(cfg.aliases().unwrap().items(), [host.to_string()]);
    let viewer = cfg.viewer_certificate().unwrap();
    assert_eq!(viewer.acm_certificate_arn(), Some(arn.as_str()));
    assert_eq!(
        viewer.ssl_support_method(),
        Some(&aws_sdk_cloudfront::types::SslSupportMethod::SniOnly)
    );
    assert_eq!(
        viewer.minimum_protocol_version(),
        Some(&aws_sdk_cloudfront::types::MinimumProtocolVersion::TlSv122021)
    );
    // A and AAAA alias records to it, and the certificate's validation CNAME.
    let records = aws.records(&zone).await;
    let target = format!("alias Z2FDTNDATAQYW2 {}", dist.domain_name());
    for t in ["A", "AAAA"] {
        let r = records
            .iter()
            .find(|(n, ty, _)| n.trim_end_matches('.') == host && ty == t)
            .unwrap_or_else(|| panic!("no {t} record: {records:?}"));
        assert_eq!(r.2.trim_end_matches('.'), target, "{records:?}");
    }
    assert!(
        records
            .iter()
            .any(|(n, t, v)| t == "CNAME" && n.starts_with('_') && v.contains("acm-validations")),
        "{records:?}"
    );
    // A visitor of the domain gets the site over TLS with a certificate for it.
    let (status, body) = through_edge(&site, host).await.unwrap();
    assert_eq!(status, 200, "{body}");
    // A second deploy changes nothing: no request, no record change, no update.
    proxy.reset();
    let again = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env)
        .ok()
        .json();
    for kind in ["certificate", "distribution", "DNS records"] {
        assert_eq!(row(&again, kind).unwrap()["action"], "keep", "{again}");
    }
    let stats = proxy.stats();
    for a in [
        "RequestCertificate",
        "ChangeResourceRecordSets",
        "UpdateDistribution",
    ] {
        assert_eq!(stats["actions"][a].as_u64().unwrap_or(0), 0, "{a}: {stats}");
    }
    // status shows the certificate and the records.
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    assert!(row(&st, "certificate").is_some(), "{st}");
    assert!(row(&st, "DNS records").is_some(), "{st}");

    // Without the domain: the distribution's own name again; the records and
    // the certificate go.
    std::fs::write(d.dir.join("deploy.toml"), https_config("dom", &ip, true)).unwrap();
    let plain = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env)
        .ok()
        .json();
    assert_eq!(plain["url"], format!("https://{}/", dist.domain_name()));
    let cfg = config_of(&aws, dist.id()).await;
    assert!(
        cfg.aliases().is_none_or(|a| a.items().is_empty()),
        "{cfg:?}"
    );
    aws.assert_zone_bare(&zone).await;
    assert!(
        aws.certificates().await.is_empty(),
        "{:?}",
        aws.certificates().await
    );
    assert!(through_edge(&site, host).await.is_err());

    // The domain again, then cleanup: nothing of it is left.
    std::fs::write(d.dir.join("deploy.toml"), domain_config("dom", &ip, host)).unwrap();
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env).ok();
    assert_eq!(aws.certificates().await.len(), 1);
    // Another name: a certificate for it, its aliases; the old name's
    // aliases and certificate go.
    let shop = "shop.example.com";
    std::fs::write(d.dir.join("deploy.toml"), domain_config("dom", &ip, shop)).unwrap();
    let moved = d
        .run_env(env!("CARGO_BIN_EXE_deploy"), &args, &env)
        .ok()
        .json();
    assert_eq!(moved["url"], format!("https://{shop}/"), "{moved}");
    let certs = aws.certificates().await;
    assert_eq!(certs.len(), 1, "{certs:?}");
    assert_eq!(certs[0].1, shop);
    let names: Vec<(String, String)> = aws
        .records(&zone)
        .await
        .into_iter()
        .filter(|(_, t, _)| t == "A" || t == "AAAA")
        .map(|(n, t, _)| (n.trim_end_matches('.').to_string(), t))
        .collect();
    assert_eq!(
        names,
        [
            (shop.to_string(), "A".to_string()),
            (shop.to_string(), "AAAA".to_string())
        ]
    );
    assert_eq!(through_edge(&site, shop).await.unwrap().0, 200);
    let report = d.cleanup(&["--yes", "--json"]).ok().json();
    for kind in ["certificate", "distribution", "DNS records"] {
        assert!(row(&report, kind).is_some(), "no {kind} row: {report}");
    }
    assert!(distributions(&aws).await.is_empty());
    assert!(aws.certificates().await.is_empty());
    aws.assert_zone_bare(&zone).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_without_a_hosted_zone_stops_before_creating_anything() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    // A zone for another domain does not count.
    aws.hosted_zone("example.org").await;
    let d = Deployment::new(
        &moto.endpoint(),
        "nozone",
        &domain_config("nozone", &ip, "shop.example.net"),
    );
    let plan = d.deploy(&["--plan", "--json"]).json();
    assert_eq!(row(&plan, "certificate").unwrap()["action"], "stop");
    let r = d.deploy(&[]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    for words in [
        "no public Route 53 hosted zone for shop.example.net",
        "Create a public hosted zone for example.net",
        "CNAME _<token>.shop.example.net",
        "A and AAAA alias records shop.example.net",
    ] {
        assert!(r.stderr.contains(words), "{words:?} not in {}", r.stderr);
    }
    assert!(aws.certificates().await.is_empty());
    assert!(distributions(&aws).await.is_empty());
    assert!(aws.load_balancers().await.is_empty());
    assert_eq!(aws.live_instances().await.len(), 0);
}
