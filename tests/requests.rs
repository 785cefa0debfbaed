//! The exact requests each kind's action sends, in order, checked without AWS
//! or the emulator: the SDK clients run over the SDK's static replay HTTP
//! client, which answers with canned responses and records what was sent (the
//! way cargo-lambda tests its deploy calls). Each test hands a kind's `apply`
//! the action `table::decide` would give it and the resource as observed.

use std::path::Path;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use sitedeploy::aws::{Ctx, Identity, Poll};
use sitedeploy::plan::Plan;
use sitedeploy::resources::autoscaling::{self, Group};
use sitedeploy::resources::expiry;
use sitedeploy::resources::instance::Image;
use sitedeploy::resources::keypair::{self, KeyPair, Local};
use sitedeploy::resources::launchtemplate::{self, LaunchTemplate};
use sitedeploy::resources::listener::{self, Listener};
use sitedeploy::resources::network::Subnet;
use sitedeploy::resources::secgroup::{self, Group as SecGroup, GroupState};
use sitedeploy::resources::targetgroup::{self, TargetGroup};
use sitedeploy::resources::Seen;
use sitedeploy::spec::Specs;

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

fn specs(plan: &Plan) -> Specs {
    let who = Identity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/me".into(),
        credentials: "test".into(),
    };
    Specs::new(plan, "us-east-1", &who, false)
}

/// One canned exchange: any request, this answer.
fn answer(body: &str) -> ReplayEvent {
    reply(200, body)
}

/// One canned exchange: any request, this status and body.
fn reply(status: u16, body: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://example.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(status)
            .body(SdkBody::from(body.to_string()))
            .unwrap(),
    )
}

fn replay(events: Vec<ReplayEvent>) -> (Ctx, StaticReplayClient) {
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

/// The bodies sent, in order, with the target of JSON requests (Scheduler's
/// REST requests: the path).
fn bodies(client: &StaticReplayClient) -> Vec<String> {
    client
        .actual_requests()
        .map(|r| {
            format!(
                "{} {}",
                r.uri(),
                String::from_utf8_lossy(r.body().bytes().unwrap_or_default())
            )
        })
        .collect()
}

/// Asserts that `body` has each of `parts`.
#[track_caller]
fn has(body: &str, parts: &[&str]) {
    for p in parts {
        assert!(body.contains(p), "{p:?} not in {body}");
    }
}

fn ec2_ok(op: &str) -> String {
    format!("<{op}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><return>true</return></{op}Response>")
}

fn elb_ok(op: &str) -> String {
    format!("<{op}Response xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><{op}Result/></{op}Response>")
}

fn asg_ok(op: &str) -> String {
    format!("<{op}Response xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{op}Response>")
}

fn lb_group(plan: &Plan, rules: Vec<secgroup::Rule>) -> GroupState {
    GroupState {
        group: SecGroup {
            id: "sg-0123456789abcdef0".into(),
            name: plan.lb_sg_name.clone(),
        },
        vpc_id: "vpc-1".into(),
        rules,
        tags: plan.owner.owned(),
    }
}

/// The load balancer group's action as `table::decide` gives it, applied as
/// deploy applies it (its revocations deferred until the listener moved);
/// returns the action and the group.
async fn apply_lb_group(
    ctx: &Ctx,
    plan: &Plan,
    observed: GroupState,
) -> (secgroup::Action, secgroup::Group) {
    let s = specs(plan);
    let seen = Seen::Ours(observed.clone());
    let action = secgroup::decide(&s.lb_group, &seen, "vpc-1", &s.lb_rules);
    let g = secgroup::apply(
        ctx,
        &s.lb_group,
        &action,
        Some(&observed),
        "vpc-1",
        None,
        true,
    )
    .await
    .unwrap();
    (action, g)
}

#[tokio::test]
async fn a_port_change_opens_the_new_port_and_closes_the_old_only_when_told() {
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
    let (ctx, client) = replay(vec![
        answer(&ec2_ok("AuthorizeSecurityGroupIngress")),
        answer(&ec2_ok("RevokeSecurityGroupIngress")),
    ]);
    let (action, group) = apply_lb_group(&ctx, &p, observed).await;
    assert_eq!(action.verb(), sitedeploy::resources::Verb::Update);
    // The group's own step opens 8080 and leaves 80 open: the listener on 80
    // still serves until the new one exists.
    let sent = bodies(&client);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=AuthorizeSecurityGroupIngress",
            "IpPermissions.1.FromPort=8080",
        ],
    );
    // After the listener step: the old port closes, not the hand-made rule.
    secgroup::revoke_stale(&ctx, &group, &action).await.unwrap();
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[1],
        &[
            "Action=RevokeSecurityGroupIngress",
            "GroupId=sg-0123456789abcdef0",
            "IpPermissions.1.FromPort=80",
        ],
    );
    assert!(
        !sent[1].contains("FromPort=22"),
        "a hand-made rule was revoked: {}",
        sent[1]
    );
}

#[tokio::test]
async fn a_kept_group_sends_nothing() {
    let p = plan("keep", "");
    let rules = secgroup::lb_rules(&p);
    let (ctx, client) = replay(Vec::new());
    let (action, _) = apply_lb_group(&ctx, &p, lb_group(&p, rules)).await;
    assert_eq!(action, secgroup::Action::Keep);
    assert!(bodies(&client).is_empty());
}

#[tokio::test]
async fn a_new_web_group_gets_the_new_load_balancer_groups_id() {
    // The load balancer's group is made in the same run: its id is known only
    // then, and the web group's rule names it.
    let p = plan("web", "");
    let s = specs(&p);
    let rules = secgroup::web_rules(None, Some("203.0.113.7/32"));
    let action = secgroup::decide(&s.web_group, &Seen::Absent, "vpc-1", &rules);
    let created = "<CreateSecurityGroupResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><groupId>sg-0web</groupId></CreateSecurityGroupResponse>";
    let (ctx, client) = replay(vec![
        answer(created),
        answer(&ec2_ok("AuthorizeSecurityGroupIngress")),
    ]);
    secgroup::apply(
        &ctx,
        &s.web_group,
        &action,
        None,
        "vpc-1",
        Some("sg-0lbnew"),
        false,
    )
    .await
    .unwrap();
    let sent = bodies(&client);
    has(
        &sent[0],
        &[
            "Action=CreateSecurityGroup",
            "GroupName=web-web-sg",
            "VpcId=vpc-1",
            "TagSpecification.1.ResourceType=security-group",
        ],
    );
    has(
        &sent[1],
        &[
            "Action=AuthorizeSecurityGroupIngress",
            "GroupId=sg-0web",
            "Groups.1.GroupId=sg-0lbnew",
            "CidrIp=203.0.113.7%2F32",
        ],
    );
    assert!(!sent[1].contains("new+load+balancer"), "{}", sent[1]);
}

#[tokio::test]
async fn a_new_health_check_path_and_tags_are_one_modify_and_one_add_tags() {
    let p = plan(
        "hc",
        "[load_balancer]\nhealth_check_path = \"/ok.html\"\n[tags]\nOwner = \"ann\"\n",
    );
    let s = specs(&p);
    let tg = TargetGroup {
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hc-tg/1".into(),
        name: p.tg_name.clone(),
        health_check_path: "/".into(),
        vpc_id: "vpc-1".into(),
        tags: vec![
            ("ManagedBy".into(), "sitedeploy".into()),
            ("Deployment".into(), "hc".into()),
        ],
    };
    let action = targetgroup::decide(&s.target_group, &Seen::Ours(tg.clone()), "vpc-1");
    let (ctx, client) = replay(vec![
        answer(&elb_ok("ModifyTargetGroup")),
        answer(&elb_ok("AddTags")),
    ]);
    targetgroup::apply(&ctx, &s.target_group, &action, Some(&tg), "vpc-1")
        .await
        .unwrap();
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[0],
        &["Action=ModifyTargetGroup", "HealthCheckPath=%2Fok.html"],
    );
    has(&sent[1], &["Action=AddTags", "Owner"]);
    assert!(
        !sent[1].contains("ManagedBy"),
        "ManagedBy is never retagged: {}",
        sent[1]
    );
}

#[tokio::test]
async fn a_new_listener_port_creates_before_it_deletes() {
    let p = plan(
        "port",
        "[load_balancer]\nport = 8080\n[https]\nenabled = false\n",
    );
    let s = specs(&p);
    let old = Listener {
        arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/port-alb/1/80"
            .into(),
        port: 80,
        forwards_to: Some("arn:tg".into()),
        denies: false,
        gate: None,
        tags: p.owner.owned(),
    };
    let secret = sitedeploy::resources::distribution::Secret::random();
    let action = listener::decide(
        &s.listener,
        Some(std::slice::from_ref(&old)),
        Some("arn:tg"),
        &secret,
    );
    let created = "<CreateListenerResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
        <CreateListenerResult><Listeners><member><ListenerArn>arn:new</ListenerArn><Port>8080</Port>\
        </member></Listeners></CreateListenerResult></CreateListenerResponse>";
    let (ctx, client) = replay(vec![answer(created), answer(&elb_ok("DeleteListener"))]);
    let lb_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/port-alb/1";
    let arn = listener::apply(&ctx, &s.listener, &action, None, lb_arn, "arn:tg", &secret)
        .await
        .unwrap();
    assert_eq!(arn, "arn:new");
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(&sent[0], &["Action=CreateListener", "Port=8080"]);
    has(
        &sent[1],
        &[
            "Action=DeleteListener",
            "listener%2Fapp%2Fport-alb%2F1%2F80",
        ],
    );
}

fn key_pair(p: &Plan, fingerprint: &str, tags: Vec<(String, String)>) -> KeyPair {
    KeyPair {
        name: p.key_name.clone(),
        id: "key-0123".into(),
        fingerprint: fingerprint.into(),
        tags,
    }
}

#[tokio::test]
async fn a_key_pair_is_made_here_and_imported_tagged_or_replaced_delete_first() {
    let p = plan("kp", "");
    let _ = std::fs::remove_file(&p.pem_path);
    let s = specs(&p);
    let imported = "<ImportKeyPairResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><keyName>kp-key</keyName><keyPairId>key-0new</keyPairId><keyFingerprint>x</keyFingerprint></ImportKeyPairResponse>";
    // Nothing here or in AWS: a key made here, its .pem written, the public half imported.
    let action = keypair::decide(&s.key, &Seen::Absent, &Local::Missing);
    let (ctx, client) = replay(vec![answer(imported)]);
    let key = keypair::apply(&ctx, &s.key, &action, None).await.unwrap();
    assert_eq!(key.id, "key-0new");
    let sent = bodies(&client);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=ImportKeyPair",
            "KeyName=kp-key",
            "PublicKeyMaterial=",
            "TagSpecification.1.ResourceType=key-pair",
            "ManagedBy",
        ],
    );
    assert!(
        !sent[0].contains("PRIVATE"),
        "the private key travelled: {}",
        sent[0]
    );
    assert!(p.pem_path.exists());

    // --replace-key-pair: the old one deleted first, then a new one imported.
    let mut s = s;
    s.key.replace = true;
    let local = keypair::read_local(&p.pem_path).unwrap();
    let found = key_pair(&p, "other", p.owner.owned());
    let action = keypair::decide(&s.key, &Seen::Ours(found.clone()), &local);
    assert_eq!(action, keypair::Action::Replace);
    let (ctx, client) = replay(vec![answer(&ec2_ok("DeleteKeyPair")), answer(imported)]);
    keypair::apply(&ctx, &s.key, &action, Some(&found))
        .await
        .unwrap();
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(&sent[0], &["Action=DeleteKeyPair", "KeyName=kp-key"]);
    has(&sent[1], &["Action=ImportKeyPair"]);
    let _ = std::fs::remove_file(&p.pem_path);
}

#[tokio::test]
async fn a_matching_key_pair_with_old_tags_is_retagged_only() {
    let p = plan("kt", "[tags]\nOwner = \"ann\"\n");
    let _ = std::fs::remove_file(&p.pem_path);
    let key = keypair::generate().unwrap();
    let text = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
    keypair::write_private_key(&p.pem_path, text.as_bytes()).unwrap();
    let s = specs(&p);
    let mut tags = p.owner.owned();
    tags.retain(|(k, _)| k != "Owner");
    let found = key_pair(&p, &keypair::aws_fingerprint(key.public_key()), tags);
    let local = keypair::read_local(&p.pem_path).unwrap();
    let action = keypair::decide(&s.key, &Seen::Ours(found.clone()), &local);
    let (ctx, client) = replay(vec![answer(&ec2_ok("CreateTags"))]);
    keypair::apply(&ctx, &s.key, &action, Some(&found))
        .await
        .unwrap();
    let sent = bodies(&client);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    has(
        &sent[0],
        &["Action=CreateTags", "ResourceId.1=key-0123", "Owner"],
    );
    let _ = std::fs::remove_file(&p.pem_path);
}

fn image() -> Image {
    Image {
        id: "ami-0123".into(),
        name: "al2023".into(),
        root_device: "/dev/xvda".into(),
    }
}

#[tokio::test]
async fn a_changed_template_is_a_new_default_version() {
    let p = plan("lt", "[instance]\ncount = 2\n");
    let s = specs(&p);
    let found = LaunchTemplate {
        id: "lt-0123".into(),
        name: p.lt_name.clone(),
        version: 1,
        fingerprint: "0ld".into(),
        tags: p.owner.owned(),
    };
    let action = launchtemplate::decide(&s.template, &Seen::Ours(found.clone()), Some(&image()));
    let version = "<CreateLaunchTemplateVersionResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><launchTemplateVersion><versionNumber>2</versionNumber></launchTemplateVersion></CreateLaunchTemplateVersionResponse>";
    let modified = "<ModifyLaunchTemplateResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><launchTemplate><launchTemplateId>lt-0123</launchTemplateId></launchTemplate></ModifyLaunchTemplateResponse>";
    let (ctx, client) = replay(vec![answer(version), answer(modified)]);
    let inputs = launchtemplate::TemplateInputs {
        security_group_id: "sg-web",
        key_name: "lt-key",
        public_ip: false,
    };
    let lt = launchtemplate::apply(&ctx, &s.template, &action, Some(&found), &inputs)
        .await
        .unwrap();
    assert_eq!(
        (lt.version, lt.fingerprint.as_str()),
        (2, p.fingerprint.as_str())
    );
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=CreateLaunchTemplateVersion",
            "LaunchTemplateId=lt-0123",
            "ImageId=ami-0123",
            &format!("VersionDescription=sitedeploy%20{}", p.fingerprint),
            "HttpTokens=required",
            "Encrypted=true",
            "CpuCredits=standard",
        ],
    );
    has(
        &sent[1],
        &["Action=ModifyLaunchTemplate", "SetDefaultVersion=2"],
    );
}

fn group(p: &Plan, desired: i32, version: &str) -> Group {
    Group {
        name: p.asg_name.clone(),
        desired,
        min: desired,
        max: desired,
        version: version.into(),
        template_id: "lt-0123".into(),
        members: (0..desired)
            .map(|n| autoscaling::Member {
                id: format!("i-{n}"),
                zone: "us-east-1a".into(),
                state: aws_sdk_autoscaling::types::LifecycleState::InService,
                version: version.into(),
            })
            .collect(),
        subnets: vec!["subnet-a".into()],
        target_groups: vec!["arn:tg".into()],
        tags: p.owner.owned(),
        suspended: Vec::new(),
    }
}

fn tg() -> TargetGroup {
    TargetGroup {
        arn: "arn:tg".into(),
        name: "x-tg".into(),
        health_check_path: "/".into(),
        vpc_id: "vpc-1".into(),
        tags: Vec::new(),
    }
}

fn template(p: &Plan, version: i64) -> LaunchTemplate {
    LaunchTemplate {
        id: "lt-0123".into(),
        name: p.lt_name.clone(),
        version,
        fingerprint: p.fingerprint.clone(),
        tags: p.owner.owned(),
    }
}

fn subnets() -> [Subnet; 2] {
    [("us-east-1b", "subnet-b"), ("us-east-1d", "subnet-d")].map(|(z, id)| Subnet {
        zone: z.into(),
        id: id.into(),
        maps_public_ip: true,
    })
}

const LB_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/asg-alb/1";

/// Applies the group's decision for `seen` (the template's default `version`;
/// `None`: a new one) against the given answers; returns the roll and the
/// requests sent.
async fn apply_group(
    p: &Plan,
    seen: Seen<Group>,
    version: Option<&str>,
    answers: &[&str],
) -> (autoscaling::Action, Option<autoscaling::Roll>, Vec<String>) {
    let s = specs(p);
    let lt = template(p, 2);
    let subnets = subnets();
    let tg = tg();
    let inputs = autoscaling::Inputs {
        template: &lt,
        subnets: &subnets,
        target_group: &tg,
        lb_arn: LB_ARN,
    };
    let action = autoscaling::decide(&s.fleet, &seen, version, Some("arn:tg"));
    let answers = answers.iter().map(|op| match *op {
        "PutScalingPolicy" => answer(
            "<PutScalingPolicyResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
             <PutScalingPolicyResult><PolicyARN>arn:p</PolicyARN></PutScalingPolicyResult>\
             </PutScalingPolicyResponse>",
        ),
        op => answer(&asg_ok(op)),
    });
    let (ctx, client) = replay(answers.collect());
    let roll = autoscaling::apply(&ctx, &s.fleet, &action, seen.ours(), &inputs)
        .await
        .unwrap();
    (action, roll, bodies(&client))
}

#[tokio::test]
async fn a_group_is_made_in_the_load_balancers_zones() {
    let p = plan("asg", "[instance]\ncount = 2\n");
    let (_, roll, sent) = apply_group(
        &p,
        Seen::Absent,
        None,
        &["CreateAutoScalingGroup", "DeletePolicy"],
    )
    .await;
    assert!(roll.is_none());
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=CreateAutoScalingGroup",
            "AutoScalingGroupName=asg-asg",
            "VPCZoneIdentifier=subnet-b%2Csubnet-d",
            "TargetGroupARNs.member.1=arn%3Atg",
            "HealthCheckType=ELB",
            "DesiredCapacity=2",
            "LaunchTemplateId=lt-0123",
            "Version=2",
        ],
    );
    has(
        &sent[1],
        &["Action=DeletePolicy", "PolicyName=asg-requests"],
    );
}

#[tokio::test]
async fn a_roll_suspends_rebalancing_and_raises_capacity_on_the_new_version_in_one_update() {
    // count 2 -> 3 and a new template version in one deploy: the members of
    // version 1 roll; one update gives the new version and old + new capacity.
    let p = plan("asg", "[instance]\ncount = 3\n");
    let (_, roll, sent) = apply_group(
        &p,
        Seen::Ours(group(&p, 2, "1")),
        None,
        &[
            "SuspendProcesses",
            "CreateOrUpdateTags",
            "UpdateAutoScalingGroup",
            "DeletePolicy",
        ],
    )
    .await;
    assert_eq!(roll.unwrap().old, ["i-0", "i-1"]);
    assert_eq!(sent.len(), 4, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=SuspendProcesses",
            "ScalingProcesses.member.1=AZRebalance",
        ],
    );
    has(
        &sent[1],
        &[
            "Action=CreateOrUpdateTags",
            "SiteFingerprint",
            &p.fingerprint,
        ],
    );
    has(
        &sent[2],
        &[
            "Action=UpdateAutoScalingGroup",
            "DesiredCapacity=5",
            "MaxSize=5",
            "MinSize=3",
            "LaunchTemplateId=lt-0123",
            "Version=2",
        ],
    );
    has(&sent[3], &["Action=DeletePolicy"]);
}

#[tokio::test]
async fn a_roll_to_a_smaller_count_lowers_the_minimum_first() {
    // count 4 -> 2 with a new version: the update's minimum is 2, so
    // retiring the 4 old ones with the capacity decremented (6 -> 2) is
    // allowed (AWS refuses to decrement below the minimum).
    let p = plan("asg", "[instance]\ncount = 2\n");
    let (_, roll, sent) = apply_group(
        &p,
        Seen::Ours(group(&p, 4, "1")),
        None,
        &[
            "SuspendProcesses",
            "CreateOrUpdateTags",
            "UpdateAutoScalingGroup",
            "DeletePolicy",
        ],
    )
    .await;
    assert_eq!(roll.unwrap().old.len(), 4);
    has(
        &sent[2],
        &[
            "Action=UpdateAutoScalingGroup",
            "MinSize=2",
            "DesiredCapacity=6",
        ],
    );
}

#[tokio::test]
async fn members_are_told_apart_by_the_version_they_were_launched_from() {
    // The template kept version 2; one member still runs version 1 (a roll
    // that stopped half-way): only it rolls, whatever the group's tags say.
    let p = plan("asg", "[instance]\ncount = 2\n");
    let mut g = group(&p, 2, "2");
    g.members[1].version = "1".into();
    let s = specs(&p);
    match autoscaling::decide(&s.fleet, &Seen::Ours(g.clone()), Some("2"), Some("arn:tg")) {
        autoscaling::Action::Update(c) => assert_eq!(c.roll, ["i-1"]),
        other => panic!("{other:?}"),
    }
    // All on the template's version: nothing to do.
    let g = group(&p, 2, "2");
    assert_eq!(
        autoscaling::decide(&s.fleet, &Seen::Ours(g), Some("2"), Some("arn:tg")),
        autoscaling::Action::Keep
    );
}

#[tokio::test]
async fn a_resize_is_one_update_and_with_max_leaves_the_desired_capacity_to_the_policy() {
    let p = plan("asg", "[instance]\ncount = 3\n");
    let (_, roll, sent) = apply_group(
        &p,
        Seen::Ours(group(&p, 2, "2")),
        Some("2"),
        &["UpdateAutoScalingGroup", "DeletePolicy"],
    )
    .await;
    assert!(roll.is_none());
    has(
        &sent[0],
        &[
            "Action=UpdateAutoScalingGroup",
            "MinSize=3",
            "MaxSize=3",
            "DesiredCapacity=3",
        ],
    );
    assert!(!sent[0].contains("LaunchTemplate"), "{}", sent[0]);

    // With max: the policy scaled the group to 4; a re-run keeps that.
    let p = plan("asg", "[instance]\ncount = 2\nmax = 6\n");
    let s = specs(&p);
    let mut g = group(&p, 4, "2");
    g.min = 2;
    g.max = 6;
    assert_eq!(
        autoscaling::decide(&s.fleet, &Seen::Ours(g.clone()), Some("2"), Some("arn:tg")),
        autoscaling::Action::Keep
    );
    // max changed: the limits move, the desired capacity is not sent.
    let p = plan("asg", "[instance]\ncount = 2\nmax = 8\n");
    let (_, _, sent) = apply_group(
        &p,
        Seen::Ours(g),
        Some("2"),
        &["UpdateAutoScalingGroup", "PutScalingPolicy"],
    )
    .await;
    has(
        &sent[0],
        &["Action=UpdateAutoScalingGroup", "MinSize=2", "MaxSize=8"],
    );
    assert!(!sent[0].contains("DesiredCapacity"), "{}", sent[0]);
}

#[tokio::test]
async fn rebalancing_left_suspended_is_resumed() {
    let p = plan("asg", "[instance]\ncount = 2\n");
    let mut g = group(&p, 2, "2");
    g.suspended = vec!["AZRebalance".into()];
    let (_, roll, sent) = apply_group(
        &p,
        Seen::Ours(g),
        Some("2"),
        &["ResumeProcesses", "DeletePolicy"],
    )
    .await;
    assert!(roll.is_none());
    has(
        &sent[0],
        &[
            "Action=ResumeProcesses",
            "ScalingProcesses.member.1=AZRebalance",
        ],
    );
}

fn asg_described(p: &Plan, members: &[(&str, &str)]) -> String {
    let instances: String = members
        .iter()
        .map(|(id, version)| {
            format!(
                "<member><InstanceId>{id}</InstanceId><AvailabilityZone>us-east-1a</AvailabilityZone>\
                 <LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus>\
                 <LaunchTemplate><LaunchTemplateId>lt-0123</LaunchTemplateId><Version>{version}</Version></LaunchTemplate>\
                 <ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>"
            )
        })
        .collect();
    let tags: String = p
        .owner
        .owned()
        .iter()
        .map(|(k, v)| format!("<member><Key>{k}</Key><Value>{v}</Value></member>"))
        .collect();
    format!(
        "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <DescribeAutoScalingGroupsResult><AutoScalingGroups><member>\
         <AutoScalingGroupName>{}</AutoScalingGroupName><MinSize>2</MinSize><MaxSize>2</MaxSize>\
         <DesiredCapacity>2</DesiredCapacity><Instances>{instances}</Instances><Tags>{tags}</Tags>\
         </member></AutoScalingGroups></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>",
        p.asg_name
    )
}

#[tokio::test]
async fn a_launch_auto_scaling_reports_failed_ends_the_wait_with_its_reason() {
    let p = plan("asg", "[instance]\ncount = 2\n");
    let s = specs(&p);
    let message = "You have requested more vCPU capacity than your current vCPU limit of 1 allows \
                   for the instance bucket that the specified instance type belongs to. \
                   Launching EC2 instance failed.";
    let failed = format!(
        "<DescribeScalingActivitiesResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <DescribeScalingActivitiesResult><Activities><member><ActivityId>a1</ActivityId>\
         <AutoScalingGroupName>{}</AutoScalingGroupName><StatusCode>Failed</StatusCode>\
         <StatusMessage>{message}</StatusMessage><StartTime>2999-01-01T00:00:00Z</StartTime>\
         <Cause>c</Cause><Progress>100</Progress></member></Activities>\
         </DescribeScalingActivitiesResult></DescribeScalingActivitiesResponse>",
        p.asg_name
    );
    // One member of version 2 in service, one of the old version 1 (the
    // propagated tags would call both new).
    let (ctx, _) = replay(vec![
        answer(&asg_described(&p, &[("i-new", "2"), ("i-old", "1")])),
        answer(&failed),
    ]);
    let err = autoscaling::wait_ready(
        &ctx,
        &s.fleet,
        "2",
        std::time::SystemTime::now(),
        Duration::from_secs(30),
        |_, _| {},
    )
    .await
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("vCPU limit of 1"), "{text}");
    assert!(text.contains("1 of 2 in service"), "{text}");

    // Both on version 2: ready, no activity read.
    let (ctx, client) = replay(vec![answer(&asg_described(
        &p,
        &[("i-a", "2"), ("i-b", "2")],
    ))]);
    let ready = autoscaling::wait_ready(
        &ctx,
        &s.fleet,
        "2",
        std::time::SystemTime::now(),
        Duration::from_secs(30),
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(ready.len(), 2);
    assert_eq!(bodies(&client).len(), 1);
}

fn json(body: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://example.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(body.to_string()))
            .unwrap(),
    )
}

#[tokio::test]
async fn the_expiry_role_is_made_then_given_its_policy_and_schedules_are_rewritten() {
    let p = plan("exp", "");
    let s = specs(&p);
    let role = "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateRoleResult><Role><Path>/</Path><RoleName>sitedeploy-expiry-us-east-1</RoleName><RoleId>AROA</RoleId><Arn>arn:aws:iam::123456789012:role/sitedeploy-expiry-us-east-1</Arn><CreateDate>2026-11-30T00:00:00Z</CreateDate></Role></CreateRoleResult></CreateRoleResponse>";
    let put = "<PutRolePolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutRolePolicyResponse>";
    let (ctx, client) = replay(vec![answer(role), answer(put)]);
    let fresh = expiry::apply_role(&ctx, &s.expiry, &expiry::Action::Create)
        .await
        .unwrap();
    assert!(fresh);
    let sent = bodies(&client);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    has(
        &sent[0],
        &[
            "Action=CreateRole",
            "RoleName=sitedeploy-expiry-us-east-1",
            "scheduler.amazonaws.com",
            "Tags.member.1.Key=ManagedBy",
        ],
    );
    has(
        &sent[1],
        &[
            "Action=PutRolePolicy",
            "PolicyName=expire-sitedeploy-resources",
            "ec2%3ATerminateInstances",
        ],
    );

    // A schedule of an earlier deploy: rewritten for the new time and ids.
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let (ctx, client) = replay(vec![json("{\"ScheduleArn\":\"arn:aws:scheduler:us-east-1:123456789012:schedule/sitedeploy-exp/exp-web-servers\"}")]);
    let target = expiry::servers_target(
        &s.expiry,
        &expiry::Servers::Instances(vec!["i-0new".into()]),
    );
    expiry::apply_schedule(
        &ctx,
        &s.expiry,
        &s.expiry.servers_schedule,
        &expiry::Action::Update,
        at,
        target,
        false,
    )
    .await
    .unwrap();
    let sent = bodies(&client);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    has(
        &sent[0],
        &[
            "/schedules/exp-web-servers",
            "at(2026-12-01T08:00:00)",
            "terminateInstances",
            "i-0new",
            "sitedeploy-exp",
            "\"ActionAfterCompletion\":\"DELETE\"",
            "arn:aws:iam::123456789012:role/sitedeploy-expiry-us-east-1",
        ],
    );
}

#[tokio::test]
async fn instances_are_described_by_the_instance_id_filter_not_by_ids() {
    // By ids, AWS fails the whole call when one id is not visible yet (a
    // launch moments ago); by the filter, it answers without it.
    let answer_one =
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
        <reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>\
        <instanceId>i-a</instanceId><imageId>ami-1</imageId><instanceState><code>16</code>\
        <name>running</name></instanceState><instanceType>t3.micro</instanceType>\
        <placement><availabilityZone>us-east-1a</availabilityZone></placement>\
        </item></instancesSet></item></reservationSet></DescribeInstancesResponse>";
    let (ctx, client) = replay(vec![answer(answer_one)]);
    let found = sitedeploy::resources::instance::describe_ids(
        &ctx,
        &["i-a".to_string(), "i-fresh".to_string()],
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "i-a");
    let sent = bodies(&client);
    has(
        &sent[0],
        &[
            "Action=DescribeInstances",
            "Filter.1.Name=instance-id",
            "Filter.1.Value.1=i-a",
            "Filter.1.Value.2=i-fresh",
        ],
    );
    assert!(!sent[0].contains("InstanceId.1"), "{}", sent[0]);
}

#[tokio::test]
async fn a_launch_template_made_by_a_lost_answer_is_found_by_its_duplicate_code() {
    let p = plan("ltdup", "[instance]\ncount = 2\n");
    let s = specs(&p);
    let image = Image {
        id: "ami-0123".into(),
        name: "al2023".into(),
        root_device: "/dev/xvda".into(),
    };
    let action = launchtemplate::decide(&s.template, &Seen::Absent, Some(&image));
    let dup =
        "<Response><Errors><Error><Code>InvalidLaunchTemplateName.AlreadyExistsException</Code>\
        <Message>Launch template name already in use.</Message></Error></Errors>\
        <RequestID>1</RequestID></Response>";
    let tags: String = p
        .owner
        .owned()
        .iter()
        .map(|(k, v)| format!("<item><key>{k}</key><value>{v}</value></item>"))
        .collect();
    let found = format!(
        "<DescribeLaunchTemplatesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <launchTemplates><item><launchTemplateId>lt-0made</launchTemplateId>\
         <launchTemplateName>{}</launchTemplateName><defaultVersionNumber>1</defaultVersionNumber>\
         <latestVersionNumber>1</latestVersionNumber><tagSet>{tags}</tagSet></item></launchTemplates>\
         </DescribeLaunchTemplatesResponse>",
        p.lt_name
    );
    let version = format!(
        "<DescribeLaunchTemplateVersionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <launchTemplateVersionSet><item><launchTemplateId>lt-0made</launchTemplateId>\
         <versionNumber>1</versionNumber><versionDescription>sitedeploy {}</versionDescription>\
         <defaultVersion>true</defaultVersion></item></launchTemplateVersionSet>\
         </DescribeLaunchTemplateVersionsResponse>",
        p.fingerprint
    );
    let err = reply(400, dup);
    let (ctx, client) = replay(vec![err, answer(&found), answer(&version)]);
    let inputs = launchtemplate::TemplateInputs {
        security_group_id: "sg-web",
        key_name: "ltdup-key",
        public_ip: false,
    };
    let lt = launchtemplate::apply(&ctx, &s.template, &action, None, &inputs)
        .await
        .unwrap();
    assert_eq!(lt.id, "lt-0made");
    assert_eq!(bodies(&client).len(), 3);
}

mod domain_requests {
    use super::*;
    use sitedeploy::resources::domain::{self, Cert, Zone};

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/c1";

    fn described(status: &str, record: bool) -> String {
        let rr = match record {
            true => {
                r#","ResourceRecord":{"Name":"_a1.www.example.com.","Type":"CNAME","Value":"_b2.acm-validations.aws."}"#
            }
            false => "",
        };
        format!(
            r#"{{"Certificate":{{"CertificateArn":"{ARN}","DomainName":"www.example.com","Status":"{status}","DomainValidationOptions":[{{"DomainName":"www.example.com","ValidationMethod":"DNS"{rr}}}]}}}}"#
        )
    }

    fn changed() -> String {
        r#"<?xml version="1.0"?><ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2026-12-01T00:00:00Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>"#.to_string()
    }

    fn zone() -> Zone {
        Zone {
            id: "Z123".into(),
            name: "example.com".into(),
        }
    }

    #[tokio::test]
    async fn a_certificate_is_requested_tagged_validated_by_its_cname_and_waited_for() {
        let p = plan("dom", "[https]\ndomain = \"www.example.com\"\n");
        let s = specs(&p);
        let (ctx, client) = replay(vec![
            answer(&format!(r#"{{"CertificateArn":"{ARN}"}}"#)),
            answer(&described("PENDING_VALIDATION", false)),
            answer(&described("PENDING_VALIDATION", true)),
            answer(&changed()),
            answer(&described("PENDING_VALIDATION", true)),
            answer(&described("ISSUED", true)),
        ]);
        let z = zone();
        let c = domain::apply_certificate(
            &ctx,
            &s.domain,
            &Cert::Request,
            Some(&z),
            Duration::from_secs(5),
            |_, _| {},
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!((c.arn.as_str(), c.status.as_str()), (ARN, "ISSUED"));
        let sent = bodies(&client);
        assert_eq!(sent.len(), 6, "{sent:#?}");
        has(
            &sent[0],
            &[
                r#""DomainName":"www.example.com""#,
                r#""ValidationMethod":"DNS""#,
                r#""IdempotencyToken":""#,
                r#"{"Key":"ManagedBy","Value":"sitedeploy"}"#,
                r#"{"Key":"Deployment","Value":"dom"}"#,
            ],
        );
        has(
            &sent[3],
            &[
                "/hostedzone/Z123/rrset",
                "<Action>UPSERT</Action>",
                "<Name>_a1.www.example.com</Name>",
                "<Type>CNAME</Type>",
                "<Value>_b2.acm-validations.aws</Value>",
            ],
        );
    }

    #[tokio::test]
    async fn a_certificate_that_does_not_validate_says_what_acm_looks_for_and_where() {
        let mut events = vec![
            answer(&described("PENDING_VALIDATION", true)),
            answer(&changed()),
        ];
        events.extend((0..5000).map(|_| answer(&described("PENDING_VALIDATION", true))));
        let msg = revalidate_fails(events, Duration::from_millis(50)).await;
        for part in [
            "the certificate for www.example.com did not validate",
            "_a1.www.example.com CNAME _b2.acm-validations.aws",
            "zone example.com (Z123)",
            "registrar",
            "gave up waiting",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
    }

    /// A pending certificate whose validation record is written again, over
    /// `events`, waited for at most `limit`: the error it ends with.
    async fn revalidate_fails(events: Vec<ReplayEvent>, limit: Duration) -> String {
        let p = plan("dom", "[https]\ndomain = \"www.example.com\"\n");
        let s = specs(&p);
        let (ctx, _client) = replay(events);
        let pending = domain::Certificate {
            arn: ARN.into(),
            domain: "www.example.com".into(),
            status: "PENDING_VALIDATION".into(),
            validation: None,
            failure: None,
        };
        let z = zone();
        let action = Cert::Revalidate(pending);
        let r = domain::apply_certificate(&ctx, &s.domain, &action, Some(&z), limit, |_, _| {});
        format!("{:#}", r.await.unwrap_err())
    }

    fn refused_batch() -> ReplayEvent {
        reply(
            400,
            r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[Tried to delete resource record set [name='www.example.com.', type='AAAA'] but it was not found]</Message></Error><RequestId>1</RequestId></ErrorResponse>"#,
        )
    }

    #[tokio::test]
    async fn a_refused_delete_batch_is_retried_one_record_at_a_time() {
        use aws_sdk_route53::types as r53;
        use sitedeploy::resources::domain::{Found, Record};
        let alias = |kind: &str| Record {
            name: "www.example.com".into(),
            kind: kind.into(),
            alias: Some("d1.cloudfront.net".into()),
            values: Vec::new(),
            set: r53::ResourceRecordSet::builder()
                .name("www.example.com.")
                .r#type(r53::RrType::from(kind))
                .alias_target(
                    r53::AliasTarget::builder()
                        .hosted_zone_id("Z2FDTNDATAQYW2")
                        .dns_name("d1.cloudfront.net.")
                        .evaluate_target_health(false)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
            zone: zone(),
        };
        let found = Found {
            domain: Some("www.example.com".into()),
            zone: Some(zone()),
            records: vec![alias("A"), alias("AAAA")],
            ..Found::default()
        };
        // The batch is refused (the AAAA went meanwhile): A alone is deleted,
        // AAAA alone is refused again and left.
        let (ctx, client) = replay(vec![refused_batch(), answer(&changed()), refused_batch()]);
        let r = domain::delete_records(&ctx, &found, Some("d1.cloudfront.net"))
            .await
            .unwrap();
        assert_eq!(r, sitedeploy::resources::Deleted::Deleted);
        let sent = bodies(&client);
        assert_eq!(sent.len(), 3, "{sent:#?}");
        has(&sent[0], &["<Type>A</Type>", "<Type>AAAA</Type>"]);
        has(&sent[1], &["<Action>DELETE</Action>", "<Type>A</Type>"]);
        assert!(!sent[1].contains("AAAA"), "{}", sent[1]);
        has(&sent[2], &["<Type>AAAA</Type>"]);
        // A look-up that failed proves nothing: nothing is sent.
        let (ctx, client) = replay(vec![]);
        let failed = Found {
            failed: true,
            ..found
        };
        assert!(
            domain::delete_records(&ctx, &failed, Some("d1.cloudfront.net"))
                .await
                .is_err()
        );
        assert!(bodies(&client).is_empty());
    }

    #[tokio::test]
    async fn a_failed_certificate_ends_the_wait_with_acms_reason() {
        let failed = described("FAILED", true).replace(
            r#""Status":"FAILED""#,
            r#""Status":"FAILED","FailureReason":"CAA_ERROR""#,
        );
        let events = vec![
            answer(&described("PENDING_VALIDATION", true)),
            answer(&changed()),
            answer(&failed),
        ];
        let msg = revalidate_fails(events, Duration::from_secs(5)).await;
        assert!(msg.contains("is FAILED (CAA_ERROR)"), "{msg}");
    }
}
