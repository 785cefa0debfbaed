//! The requests each decision sends, checked without AWS or the emulator: the
//! SDK clients run over the SDK's static replay HTTP client, which answers with
//! canned responses and records what was sent (the way cargo-lambda tests its
//! deploy calls).

use std::path::Path;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use sitedeploy::aws::{Ctx, Poll};
use sitedeploy::plan::Plan;
use sitedeploy::resources::loadbalancer::{self, ListenerState, LoadBalancer};
use sitedeploy::resources::secgroup::{self, Group, GroupState};
use sitedeploy::resources::targetgroup::{self, TargetGroup};
use sitedeploy::table;

fn plan(name: &str, extra: &str) -> Plan {
    let dir = std::env::temp_dir().join(format!("sd-requests-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("userdata")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("userdata/install-template.sh"),
        dir.join("userdata/install-template.sh"),
    )
    .unwrap();
    let text = format!(
        "name = \"{name}\"\nregion = \"us-east-1\"\n[template]\nid = 2137\nslug = \
         \"barista_cafe\"\n[ssh]\nkey_name = \"{name}-key\"\ncidr = \"203.0.113.7/32\"\n{extra}"
    );
    Plan::new(&sitedeploy::config::parse(&text, &dir.join("deploy.toml")).unwrap()).unwrap()
}

/// One canned exchange: any request, this XML answer.
fn answer(xml: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://example.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(200)
            .body(SdkBody::from(xml.to_string()))
            .unwrap(),
    )
}

fn ctx(events: Vec<ReplayEvent>) -> (Ctx, StaticReplayClient) {
    let client = StaticReplayClient::new(events);
    let conf =
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    Credentials::for_tests(),
                ),
            )
            .http_client(client.clone())
            .build();
    let poll = Poll {
        initial: Duration::from_millis(1),
        fast_for: Duration::from_secs(1),
        max: Duration::from_millis(1),
    };
    (Ctx::from_config(&conf, "us-east-1", poll), client)
}

/// The form bodies sent, in order.
fn bodies(client: &StaticReplayClient) -> Vec<String> {
    client
        .actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).to_string())
        .collect()
}

fn tags(plan: &Plan) -> Vec<(String, String)> {
    plan.owned_tags()
}

/// The load balancer's group as observed, with these rules and the plan's tags.
fn lb_group(plan: &Plan, rules: Vec<secgroup::Rule>) -> GroupState {
    GroupState {
        group: Group {
            id: "sg-0123456789abcdef0".into(),
            name: plan.lb_sg_name.clone(),
        },
        vpc_id: "vpc-1".into(),
        rules,
        tags: tags(plan),
    }
}

/// `secgroup::ensure` of the load balancer's group as deploy calls it.
async fn ensure_lb_group(
    ctx: &Ctx,
    plan: &Plan,
    observed: GroupState,
) -> sitedeploy::resources::Ensured<Group> {
    secgroup::ensure(
        ctx,
        plan,
        "vpc-1",
        &plan.lb_sg_name,
        "d",
        &table::lb_rules(plan),
        Some(Some(observed)),
    )
    .await
    .unwrap()
}

/// Asserts that `body` has each of `parts`.
#[track_caller]
fn has(body: &str, parts: &[&str]) {
    for p in parts {
        assert!(body.contains(p), "{p:?} not in {body}");
    }
}

fn ec2_ok(op: &str) -> String {
    format!(
        "<{op}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><return>true</return></{op}Response>"
    )
}

#[tokio::test]
async fn a_group_update_revokes_the_old_port_then_allows_the_new() {
    let p = plan("req", "[load_balancer]\nport = 8080\n");
    let observed = lb_group(
        &p,
        vec![
            secgroup::Rule::Cidr {
                port: 80,
                cidr: "0.0.0.0/0".into(),
                description: sitedeploy::plan::LISTENER_RULE_DESCRIPTION.into(),
            },
            secgroup::Rule::Cidr {
                port: 22,
                cidr: "192.0.2.0/24".into(),
                description: "bastion".into(),
            },
        ],
    );
    let (ctx, client) = ctx(vec![
        answer(&ec2_ok("RevokeSecurityGroupIngress")),
        answer(&ec2_ok("AuthorizeSecurityGroupIngress")),
    ]);
    let g = ensure_lb_group(&ctx, &p, observed).await;
    assert_eq!(g.outcome, sitedeploy::resources::Outcome::Updated);
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=RevokeSecurityGroupIngress",
            "GroupId=sg-0123456789abcdef0",
            "IpPermissions.1.FromPort=80",
        ],
    );
    assert!(
        !sent[0].contains("FromPort=22"),
        "a hand-made rule was revoked: {}",
        sent[0]
    );
    has(
        &sent[1],
        &[
            "Action=AuthorizeSecurityGroupIngress",
            "IpPermissions.1.FromPort=8080",
        ],
    );
}

#[tokio::test]
async fn a_kept_group_sends_nothing() {
    let p = plan("keep", "");
    let observed = lb_group(&p, table::lb_rules(&p));
    let (ctx, client) = ctx(Vec::new());
    let g = ensure_lb_group(&ctx, &p, observed).await;
    assert_eq!(g.outcome, sitedeploy::resources::Outcome::Existing);
    assert!(bodies(&client).is_empty());
}

#[tokio::test]
async fn a_new_health_check_path_and_tags_are_one_modify_and_one_add_tags() {
    let p = plan(
        "hc",
        "[load_balancer]\nhealth_check_path = \"/ok.html\"\n[tags]\nOwner = \"ann\"\n",
    );
    let tg = TargetGroup {
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hc-tg/1".into(),
        name: p.tg_name.clone(),
        health_check_path: "/".into(),
        tags: vec![
            ("ManagedBy".into(), "sitedeploy".into()),
            ("Deployment".into(), "hc".into()),
        ],
    };
    let elb_ok = |op: &str| {
        format!(
            "<{op}Response xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
             <{op}Result/></{op}Response>"
        )
    };
    let (ctx, client) = ctx(vec![
        answer(&elb_ok("ModifyTargetGroup")),
        answer(&elb_ok("AddTags")),
    ]);
    let r = targetgroup::ensure_found(&ctx, &p, "vpc-1", Some(tg))
        .await
        .unwrap();
    assert_eq!(r.outcome, sitedeploy::resources::Outcome::Updated);
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(&sent[0], &["Action=ModifyTargetGroup"]);
    has(&sent[0], &["HealthCheckPath=%2Fok.html"]);
    has(&sent[1], &["Action=AddTags"]);
    has(&sent[1], &["Owner"]);
    assert!(
        !sent[1].contains("ManagedBy"),
        "ManagedBy is never retagged: {}",
        sent[1]
    );
}

#[tokio::test]
async fn a_new_listener_port_creates_before_it_deletes() {
    let p = plan("port", "[load_balancer]\nport = 8080\n");
    let lb = LoadBalancer {
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/port-alb/1"
            .into(),
        name: p.lb_name.clone(),
        dns_name: "x".into(),
        state: "active".into(),
        zones: Vec::new(),
        tags: tags(&p),
        created: None,
    };
    let old = ListenerState {
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/port-alb/1/80"
            .into(),
        port: 80,
        forwards_to: Some("arn:tg".into()),
        tags: tags(&p),
    };
    let created = "<CreateListenerResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
        <CreateListenerResult><Listeners><member><ListenerArn>arn:new</ListenerArn><Port>8080</Port>\
        </member></Listeners></CreateListenerResult></CreateListenerResponse>";
    let deleted = "<DeleteListenerResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
        <DeleteListenerResult/></DeleteListenerResponse>";
    let (ctx, client) = ctx(vec![answer(created), answer(deleted)]);
    let l = loadbalancer::ensure_listener(&ctx, &p, &lb, "arn:tg", Some(vec![old]))
        .await
        .unwrap();
    assert_eq!(l.outcome, sitedeploy::resources::Outcome::Updated);
    assert_eq!(l.value.arn, "arn:new");
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(&sent[0], &["Action=CreateListener"]);
    has(&sent[0], &["Port=8080"]);
    has(&sent[1], &["Action=DeleteListener"]);
    has(&sent[1], &["listener%2Fapp%2Fport-alb%2F1%2F80"]);
}
