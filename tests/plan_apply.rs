//! Plan equals apply, as a property: over generated worlds (each kind absent,
//! as wanted, drifted, foreign, or half-made by a killed run), answered by
//! mock SDK clients (`tests/mockaws`), the change requests deploy sends are
//! exactly the actions `--plan` listed, row by row, and nothing else; a plan
//! that says stop sends nothing.

mod mockaws;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use mockaws::{Asg, Inst, Key, Lb, Listener, Lt, Perm, Schedule, Sent, Sg, Tg, World};
use proptest::prelude::*;
use sitedeploy::aws::Identity;
use sitedeploy::observe::{observe, Purpose};
use sitedeploy::plan::Plan;
use sitedeploy::resources::Verb;
use sitedeploy::spec::Specs;
use sitedeploy::table::{self, Ids, Kind, Planned};

/// One generated world: the config deploy runs with and the state of each kind.
#[derive(Debug, Clone)]
struct Case {
    fleet: bool,
    expiry: bool,
    port: u16,
    path: &'static str,
    owner_tag: &'static str,
    key: u8,
    lb_group: u8,
    web_group: u8,
    tg: u8,
    lb: u8,
    listener: u8,
    servers: u8,
    registered: bool,
    expiry_state: u8,
    https: bool,
    cdn: u8,
    domain: u8,
    site: u8,
}

impl Case {
    /// Whether deploy.toml names `[https] domain` (only with `[https]` on).
    fn names_domain(&self) -> bool {
        self.https && matches!(self.domain, 1 | 2 | 3 | 5 | 6)
    }

    /// Whether deploy.toml names a folder (`[site]`) instead of a template.
    fn names_site(&self) -> bool {
        !matches!(self.site, 0 | 5)
    }
}

/// The domain of the worlds that have one.
const DOMAIN: &str = "www.example.com";

fn cases() -> impl Strategy<Value = Case> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(80u16), Just(8080u16)],
        ),
        (
            prop_oneof![Just("/"), Just("/ok")],
            prop_oneof![Just("ann"), Just("bob")],
        ),
        (0u8..6, 0u8..6, 0u8..5, 0u8..4, 0u8..4, 0u8..5),
        (0u8..7, any::<bool>(), 0u8..4, any::<bool>(), 0u8..6, 0u8..7),
        0u8..7,
    )
        .prop_map(
            |(
                (fleet, expiry, port),
                (path, owner_tag),
                (key, lb_group, web_group, tg, lb, listener),
                (servers, registered, expiry_state, https, cdn, domain),
                site,
            )| Case {
                fleet,
                expiry,
                port,
                path,
                owner_tag,
                key,
                lb_group,
                web_group,
                tg,
                lb,
                listener,
                servers,
                registered,
                expiry_state,
                https,
                cdn,
                domain,
                site,
            },
        )
}

/// The deployment deploy.toml describes, in a scratch directory.
fn plan_for(c: &Case, dir: &std::path::Path) -> Plan {
    std::fs::create_dir_all(dir.join("userdata")).unwrap();
    for script in ["install-template.sh", "install-site.sh"] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("userdata")
                .join(script),
            dir.join("userdata").join(script),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/index.html"), "<h1>prop</h1>").unwrap();
    let count = if c.fleet { 3 } else { 1 };
    let expiry = if c.expiry { "8h" } else { "off" };
    let text = format!(
        "name = \"prop\"\nregion = \"us-east-1\"\nexpires_after = \"{expiry}\"\n[tags]\nOwner = \"{}\"\n\
         {}[instance]\ncount = {count}\n\
         [ssh]\nkey_name = \"prop-key\"\ncidr = \"203.0.113.7/32\"\n\
         [load_balancer]\nport = {}\nhealth_check_path = \"{}\"\n[https]\nenabled = {}\n{}",
        c.owner_tag,
        match c.names_site() {
            true => "[site]\ndir = \"site\"\n",
            false => "[template]\nid = 2137\nslug = \"barista_cafe\"\n",
        },
        c.port,
        c.path,
        c.https,
        match c.names_domain() {
            true => format!("domain = \"{DOMAIN}\"\n"),
            false => String::new(),
        }
    );
    let cfg = sitedeploy::config::parse(&text, &dir.join("deploy.toml")).unwrap();
    Plan::new(&cfg).unwrap()
}

fn who() -> Identity {
    Identity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/learner".into(),
        credentials: "test".into(),
    }
}

/// Tags of a resource made by an earlier deploy of the same deployment whose
/// deploy.toml said `Owner = old`.
fn old_tags(plan: &Plan) -> Vec<(String, String)> {
    let mut t = plan.owner.owned();
    t.retain(|(k, _)| k != "Owner");
    t.push(("Owner".into(), "old".into()));
    t
}

fn foreign() -> Vec<(String, String)> {
    vec![("ManagedBy".into(), "someone".into())]
}

/// Builds the world of a case for `plan` (the .pem goes to its path).
fn world(c: &Case, plan: &Plan) -> World {
    let mut w = World::new();
    let ours = plan.owner.owned();
    let vpc = w.vpc.clone();
    // Key pair: 0 absent, 1 a killed run's .pem, 2 ours, 3 ours with old
    // tags, 4 foreign, 5 ours without its .pem.
    let key = sitedeploy::resources::keypair::generate().unwrap();
    let fp = sitedeploy::resources::keypair::aws_fingerprint(key.public_key());
    let pem = || {
        let text = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
        sitedeploy::resources::keypair::write_private_key(&plan.pem_path, text.as_bytes()).unwrap();
    };
    let kp = |tags| Key {
        name: plan.key_name.clone(),
        id: "key-0old".into(),
        fingerprint: fp.clone(),
        tags,
    };
    match c.key {
        1 => pem(),
        2 => {
            pem();
            w.keys.push(kp(ours.clone()));
        }
        3 => {
            pem();
            w.keys.push(kp(old_tags(plan)));
        }
        4 => w.keys.push(kp(foreign())),
        5 => w.keys.push(kp(ours.clone())),
        _ => {}
    }
    // The load balancer's group: 0 absent, 1 as wanted, 2 an old port's rule
    // and old tags, 3 foreign, 4 made without rules (a killed run).
    let listener_rule = |port| Perm {
        port,
        source: "0.0.0.0/0".into(),
        description: sitedeploy::plan::LISTENER_RULE_DESCRIPTION.into(),
    };
    let lb_group_id = "sg-0lb".to_string();
    match c.lb_group {
        1 => w.groups.push(Sg {
            id: lb_group_id.clone(),
            name: plan.lb_sg_name.clone(),
            vpc: vpc.clone(),
            rules: vec![listener_rule(i32::from(c.port))],
            tags: ours.clone(),
        }),
        2 => w.groups.push(Sg {
            id: lb_group_id.clone(),
            name: plan.lb_sg_name.clone(),
            vpc: vpc.clone(),
            rules: vec![listener_rule(8081)],
            tags: old_tags(plan),
        }),
        3 => w.groups.push(Sg {
            id: lb_group_id.clone(),
            name: plan.lb_sg_name.clone(),
            vpc: vpc.clone(),
            rules: vec![],
            tags: foreign(),
        }),
        // Ours, open to CloudFront only ([https]).
        5 => w.groups.push(Sg {
            id: lb_group_id.clone(),
            name: plan.lb_sg_name.clone(),
            vpc: vpc.clone(),
            rules: vec![Perm {
                source: mockaws::CLOUDFRONT_LIST.into(),
                ..listener_rule(i32::from(c.port))
            }],
            tags: ours.clone(),
        }),
        4 => w.groups.push(Sg {
            id: lb_group_id.clone(),
            name: plan.lb_sg_name.clone(),
            vpc: vpc.clone(),
            rules: vec![],
            tags: ours.clone(),
        }),
        _ => {}
    }
    // The web group: 0 absent, 1 as wanted, 2 an old SSH address, 3 foreign,
    // 4 made without rules.
    let from_lb = Perm {
        port: 80,
        source: lb_group_id.clone(),
        description: sitedeploy::plan::LB_TO_WEB_DESCRIPTION.into(),
    };
    let ssh = |cidr: &str| Perm {
        port: 22,
        source: cidr.into(),
        description: sitedeploy::plan::SSH_RULE_DESCRIPTION.into(),
    };
    let web = |rules, tags| Sg {
        id: "sg-0web".into(),
        name: plan.web_sg_name.clone(),
        vpc: vpc.clone(),
        rules,
        tags,
    };
    match c.web_group {
        1 => w.groups.push(web(
            vec![from_lb.clone(), ssh("203.0.113.7/32")],
            ours.clone(),
        )),
        2 => w.groups.push(web(
            vec![from_lb.clone(), ssh("198.51.100.1/32")],
            ours.clone(),
        )),
        3 => w.groups.push(web(vec![], foreign())),
        4 => w.groups.push(web(vec![], ours.clone())),
        _ => {}
    }
    // Target group: 0 absent, 1 as wanted, 2 an old health-check path and
    // tags, 3 foreign.
    let tg_arn =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/prop-tg/0old".to_string();
    let tg = |path: &str, tags| Tg {
        arn: tg_arn.clone(),
        name: plan.tg_name.clone(),
        path: path.into(),
        vpc: vpc.clone(),
        tags,
    };
    match c.tg {
        1 => w.tgs.push(tg(c.path, ours.clone())),
        2 => w.tgs.push(tg("/old", old_tags(plan))),
        3 => w.tgs.push(tg(c.path, foreign())),
        _ => {}
    }
    let tg_ours = matches!(c.tg, 1 | 2);
    // Load balancer: 0 absent, 1 as wanted, 2 old tags, 3 foreign.
    let lb_arn =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prop-alb/0old"
            .to_string();
    let zones = vec![
        ("us-east-1a".to_string(), "subnet-a".to_string()),
        ("us-east-1b".to_string(), "subnet-b".to_string()),
    ];
    let lb = |tags| Lb {
        arn: lb_arn.clone(),
        name: plan.lb_name.clone(),
        state: "active",
        zones: zones.clone(),
        vpc: vpc.clone(),
        tags,
    };
    // The CloudFront distribution: 0 none, 1 ours as wanted, 2 ours in front
    // of another load balancer, 3 ours disabled (a cleanup stopped part-way),
    // 4 foreign with this deployment's comment, 5 ours with an earlier deploy.toml's tags.
    // The domain: 0 none; 1 named, its zone empty; 2 named, our issued
    // certificate, its validation record and aliases to the distribution
    // (E0OLD); 3 named, no zone; 4 not named (any more) but 2's certificate
    // and records there; 5 named, another site's A record at it; 6 named, our
    // certificate pending (a killed run).
    let cert_arn = "arn:aws:acm:us-east-1:123456789012:certificate/old".to_string();
    let edge = "e0old.cloudfront.net";
    if c.domain != 3 && c.domain != 0 {
        w.zones.push(("Z1".into(), "example.com".into()));
    }
    if matches!(c.domain, 2 | 4 | 6) {
        let cert = mockaws::Cert {
            arn: cert_arn.clone(),
            domain: DOMAIN.into(),
            status: if c.domain == 6 {
                "PENDING_VALIDATION"
            } else {
                "ISSUED"
            },
            tags: ours.clone(),
        };
        if c.domain != 6 {
            let (name, value) = cert.validation();
            let rr = |kind: &str, alias: Option<&str>, value: Option<&str>| mockaws::Rr {
                zone: "Z1".into(),
                name: if kind == "CNAME" {
                    name.clone()
                } else {
                    DOMAIN.into()
                },
                kind: kind.into(),
                alias: alias.map(str::to_string),
                value: value.map(str::to_string),
            };
            w.records.push(rr("CNAME", None, Some(&value)));
            w.records.push(rr("A", Some(edge), None));
            w.records.push(rr("AAAA", Some(edge), None));
        }
        w.certs.push(cert);
    }
    if c.domain == 5 {
        w.records.push(mockaws::Rr {
            zone: "Z1".into(),
            name: DOMAIN.into(),
            kind: "A".into(),
            alias: None,
            value: Some("192.0.2.1".into()),
        });
    }
    let aliased = matches!(c.domain, 2 | 4);
    let cdn = |origin: &str, enabled: bool, tags| mockaws::Cdn {
        id: "E0OLD".into(),
        comment: format!("sitedeploy {} in us-east-1", plan.name),
        origin: origin.into(),
        port: i32::from(c.port),
        enabled,
        has_secret: true,
        tags,
        aliases: if aliased {
            vec![DOMAIN.into()]
        } else {
            Vec::new()
        },
        cert: aliased.then(|| cert_arn.clone()),
    };
    let lb_dns = format!("{}.example", plan.lb_name);
    match c.cdn {
        1 => w.cdns.push(cdn(&lb_dns, true, ours.clone())),
        2 => w.cdns.push(cdn("gone.example", true, ours.clone())),
        3 => w.cdns.push(cdn(&lb_dns, false, ours.clone())),
        4 => w.cdns.push(cdn(&lb_dns, true, foreign())),
        5 => w.cdns.push(cdn(&lb_dns, true, old_tags(plan))),
        _ => {}
    }
    match c.lb {
        1 => w.lbs.push(lb(ours.clone())),
        2 => w.lbs.push(lb(old_tags(plan))),
        3 => w.lbs.push(lb(foreign())),
        _ => {}
    }
    // Its listener (when the load balancer is ours): 0 none, 1 as wanted,
    // 2 on another port, 3 forwarding to an old target group, 4 gated.
    if matches!(c.lb, 1 | 2) {
        let forwards = if tg_ours {
            tg_arn.clone()
        } else {
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/1".into()
        };
        let l = |port, forwards: String| Listener {
            arn: format!("{lb_arn}/l{port}"),
            lb: lb_arn.clone(),
            port,
            forwards,
            denies: false,
            gate: None,
            tags: ours.clone(),
        };
        match c.listener {
            1 => w.listeners.push(l(i32::from(c.port), forwards)),
            // Gated for the distribution whose header is "0123abcd".
            4 => {
                let mut gated = l(i32::from(c.port), String::new());
                gated.denies = true;
                gated.gate = Some((format!("{lb_arn}/rule"), "0123abcd".into(), forwards));
                w.listeners.push(gated);
            }
            2 => w.listeners.push(l(8081, forwards)),
            3 => w.listeners.push(l(
                i32::from(c.port),
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/1".into(),
            )),
            _ => {}
        }
    }
    servers(c, plan, &mut w, &tg_arn, tg_ours);
    expiry(c, plan, &mut w);
    site(c, plan, &mut w);
    w
}

/// The web servers: count = 1: 0 none, 1 current, 2 current but stopped,
/// 3 current with old tags, 4 an earlier template's, 5 current and an
/// earlier one, 6 a group of an earlier count = 3. count = 3: 0 none, 1 the
/// group as wanted, 2 an earlier template's group, 3 a smaller group, 4 single
/// instances of an earlier count = 1, 5 members with old tags, 6 a foreign group.
fn servers(c: &Case, plan: &Plan, w: &mut World, tg_arn: &str, tg_ours: bool) {
    let launch = sitedeploy::resources::instance::Spec::new(plan, plan.user_data.clone(), None);
    let mut tags = plan.owner.owned();
    tags.extend(
        launch
            .instance_tags()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let with = |tags: &Vec<(String, String)>, k: &str, v: &str| {
        let mut t = tags.clone();
        t.retain(|(tk, _)| tk != k);
        t.push((k.into(), v.into()));
        t
    };
    let old_fp = with(
        &with(&tags, "SiteFingerprint", "0ldf1ngerpr1nt00"),
        "SiteTemplate",
        "2121_wave_cafe",
    );
    let inst = |id: &str, state, tags| Inst {
        id: id.into(),
        state,
        zone: "us-east-1a".into(),
        tags,
    };
    let register = |w: &mut World, id: &str| {
        if tg_ours && c.registered {
            w.targets
                .entry(tg_arn.to_string())
                .or_default()
                .push((id.to_string(), "healthy"));
        }
    };
    let group = |w: &mut World,
                 desired: i32,
                 member_tags: Vec<(String, String)>,
                 lt_fp: &str,
                 owner: Vec<(String, String)>| {
        let mut asg_tags = owner.clone();
        asg_tags.extend(
            launch
                .instance_tags()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        w.lts.push(Lt {
            id: "lt-0old".into(),
            name: plan.lt_name.clone(),
            versions: vec![format!("sitedeploy {lt_fp}")],
            default: 1,
            tags: owner.clone(),
        });
        let mut members = Vec::new();
        for n in 0..desired {
            let id = format!("i-0member{n}");
            let mut t = member_tags.clone();
            t.push(("aws:autoscaling:groupName".into(), plan.asg_name.clone()));
            w.instances.push(Inst {
                id: id.clone(),
                state: "running",
                zone: "us-east-1a".into(),
                tags: t,
            });
            if tg_ours {
                w.targets
                    .entry(tg_arn.to_string())
                    .or_default()
                    .push((id.clone(), "healthy"));
            }
            members.push(id);
        }
        let tgs = if tg_ours {
            vec![tg_arn.to_string()]
        } else {
            vec![]
        };
        w.asgs.push(Asg {
            name: plan.asg_name.clone(),
            tgs,
            lt: "lt-0old".into(),
            version: "1".into(),
            min: desired,
            max: desired,
            desired,
            subnets: vec!["subnet-a".into(), "subnet-b".into()],
            tags: asg_tags,
            versions: members
                .iter()
                .map(|m| (m.clone(), "1".to_string()))
                .collect(),
            suspended: Vec::new(),
            members,
        });
    };
    match (c.fleet, c.servers) {
        (false, 1) => {
            w.instances
                .push(inst("i-0current", "running", tags.clone()));
            register(w, "i-0current");
        }
        (false, 2) => w
            .instances
            .push(inst("i-0current", "stopped", tags.clone())),
        (false, 3) => {
            w.instances
                .push(inst("i-0current", "running", with(&tags, "Owner", "old")));
            register(w, "i-0current");
        }
        (false, 4) => {
            w.instances
                .push(inst("i-0earlier", "running", old_fp.clone()));
            register(w, "i-0earlier");
        }
        (false, 5) => {
            w.instances
                .push(inst("i-0earlier", "running", old_fp.clone()));
            w.instances
                .push(inst("i-0current", "running", tags.clone()));
            register(w, "i-0current");
        }
        (false, 6) => group(w, 3, tags.clone(), &plan.fingerprint, plan.owner.owned()),
        (true, 1) => group(w, 3, tags.clone(), &plan.fingerprint, plan.owner.owned()),
        (true, 2) => group(w, 3, old_fp.clone(), "0ldf1ngerpr1nt00", plan.owner.owned()),
        (true, 3) => group(w, 2, tags.clone(), &plan.fingerprint, plan.owner.owned()),
        (true, 4) => {
            w.instances.push(inst("i-0single", "running", tags.clone()));
            register(w, "i-0single");
        }
        (true, 5) => group(
            w,
            3,
            with(&tags, "Owner", "old"),
            &plan.fingerprint,
            plan.owner.owned(),
        ),
        (true, 6) => group(w, 3, tags.clone(), &plan.fingerprint, foreign()),
        _ => {}
    }
}

/// The expiry: 0 nothing, 1 role, group and both schedules, 2 a role left
/// without its policy, 3 a group without schedules.
/// `[site]`: 0 a template, nothing of a folder; 1 a folder, nothing made
/// yet; 2 its bucket, content and profile as wanted; 3 the bucket made
/// public again, without its lifecycle rules, holding an earlier content
/// only; 4 a killed run's role without its permission, no profile; 5 a
/// template again, an earlier folder's content and profile left; 6 a bucket
/// of the name that is not this tool's.
fn site(c: &Case, plan: &Plan, w: &mut World) {
    let key = plan
        .site
        .as_ref()
        .map(|s| s.key.clone())
        .unwrap_or_default();
    let manifest = key.replace(".tar.gz", ".json");
    let ours = plan.owner.owned();
    let bucket = |objects: &[&str]| mockaws::Bucket {
        tagged: true,
        private: true,
        lifecycle: true,
        objects: objects.iter().map(|k| k.to_string()).collect(),
    };
    let complete = mockaws::SiteRole {
        tags: ours.clone(),
        role: true,
        policy: Some(
            Specs::new(plan, "us-east-1", &who(), false)
                .profile
                .policy(),
        ),
        profile: true,
        linked: true,
    };
    match c.site {
        2 => {
            w.bucket = Some(bucket(&[&key, &manifest]));
            w.site = complete;
        }
        3 => {
            w.bucket = Some(mockaws::Bucket {
                private: false,
                lifecycle: false,
                ..bucket(&["prop/old.json", "prop/old.tar.gz", "other/x.tar.gz"])
            });
        }
        4 => {
            w.site = mockaws::SiteRole {
                tags: ours,
                role: true,
                ..Default::default()
            };
        }
        5 => {
            w.bucket = Some(bucket(&["prop/old.json", "prop/old.tar.gz"]));
            w.site = complete;
        }
        6 => {
            w.bucket = Some(mockaws::Bucket {
                tagged: false,
                ..bucket(&[])
            });
        }
        _ => {}
    }
}

fn expiry(c: &Case, plan: &Plan, w: &mut World) {
    let spec =
        sitedeploy::resources::expiry::Spec::new(plan, "us-east-1", "123456789012", &who().arn);
    let ready = || Some(sitedeploy::resources::expiry::role_policy());
    match c.expiry_state {
        1 => {
            w.role = true;
            w.role_policy = ready();
            w.schedule_groups.push((spec.group.clone(), "ACTIVE"));
            for name in [&spec.lb_schedule, &spec.servers_schedule] {
                w.schedules.push(Schedule {
                    group: spec.group.clone(),
                    name: name.clone(),
                    expression: "at(2026-01-01T00:00:00)".into(),
                    role: spec.role_arn.clone(),
                });
            }
        }
        2 => w.role = true,
        3 => {
            w.role = true;
            w.role_policy = ready();
            w.schedule_groups.push((spec.group.clone(), "ACTIVE"));
        }
        _ => {}
    }
}

/// The kind a change request is for, from what it names.
fn kind_of(sent: &Sent, plan: &Plan, w: &World) -> Vec<Kind> {
    let group_kind = |id: &str| -> Option<Kind> {
        let name = w
            .groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.clone())?;
        Some(if name == plan.lb_sg_name {
            Kind::LbGroup
        } else {
            Kind::WebGroup
        })
    };
    let by_id = |id: &String| -> Kind {
        if w.keys.iter().any(|k| &k.id == id) || id.starts_with("key-") {
            Kind::KeyPair
        } else if let Some(k) = group_kind(id) {
            k
        } else if id.starts_with("lt-") {
            Kind::LaunchTemplate
        } else if id.contains(":targetgroup/") {
            Kind::TargetGroup
        } else if id.contains(":listener/") {
            Kind::Listener
        } else if id.contains(":loadbalancer/") {
            Kind::LoadBalancer
        } else {
            Kind::Instance
        }
    };
    let one = |k| vec![k];
    match sent.op {
        "ImportKeyPair" | "DeleteKeyPair" => one(Kind::KeyPair),
        "CreateSecurityGroup" => one(if sent.refs[0] == plan.lb_sg_name {
            Kind::LbGroup
        } else {
            Kind::WebGroup
        }),
        "AuthorizeSecurityGroupIngress"
        | "RevokeSecurityGroupIngress"
        | "CreateTags"
        | "DeleteTags"
        | "AddTags"
        | "RemoveTags" => sent.refs.iter().map(by_id).collect(),
        "RunInstances"
        | "StartInstances"
        | "TerminateInstances"
        | "DeregisterTargets"
        | "TerminateInstanceInAutoScalingGroup" => one(Kind::Instance),
        "RegisterTargets" => one(Kind::Target),
        "CreateLaunchTemplate"
        | "CreateLaunchTemplateVersion"
        | "ModifyLaunchTemplate"
        | "DeleteLaunchTemplate" => one(Kind::LaunchTemplate),
        "CreateTargetGroup" | "ModifyTargetGroupAttributes" | "ModifyTargetGroup" => {
            one(Kind::TargetGroup)
        }
        "CreateLoadBalancer" => one(Kind::LoadBalancer),
        "RequestCertificate" | "DeleteCertificate" => one(Kind::Certificate),
        // The certificate's step writes its validation record; the records'
        // step writes the aliases and deletes what goes.
        "ChangeResourceRecordSets" if sent.refs.iter().all(|r| r.starts_with("UPSERT CNAME")) => {
            one(Kind::Certificate)
        }
        "ChangeResourceRecordSets" => one(Kind::DnsRecords),
        "CreateDistributionWithTags"
        | "UpdateDistribution"
        | "DeleteDistribution"
        | "TagResource"
        | "UntagResource" => one(Kind::Distribution),
        "CreateListener" | "ModifyListener" | "DeleteListener" | "CreateRule" | "ModifyRule"
        | "DeleteRule" => one(Kind::Listener),
        "CreateAutoScalingGroup"
        | "UpdateAutoScalingGroup"
        | "AttachLoadBalancerTargetGroups"
        | "CreateOrUpdateTags"
        | "DeleteTags(asg)"
        | "PutScalingPolicy"
        | "DeletePolicy"
        | "SuspendProcesses"
        | "ResumeProcesses"
        | "DeleteAutoScalingGroup" => one(Kind::AutoScalingGroup),
        "CreateRole" | "PutRolePolicy" | "DeleteRolePolicy" | "DeleteRole"
            if sent.refs[0].starts_with("sitedeploy-site-") =>
        {
            one(Kind::Profile)
        }
        "CreateRole" | "PutRolePolicy" => one(Kind::ExpiryRole),
        "CreateInstanceProfile"
        | "AddRoleToInstanceProfile"
        | "RemoveRoleFromInstanceProfile"
        | "DeleteInstanceProfile" => one(Kind::Profile),
        "CreateBucket"
        | "PutBucketTagging"
        | "PutPublicAccessBlock"
        | "PutBucketEncryption"
        | "PutBucketLifecycleConfiguration"
        | "PutObject"
        | "CopyObject"
        | "DeleteObjects" => one(Kind::Bucket),
        "CreateScheduleGroup" | "DeleteScheduleGroup" => one(Kind::ScheduleGroup),
        "CreateSchedule" | "UpdateSchedule" => one(if sent.refs[0].ends_with("-load-balancer") {
            Kind::LbSchedule
        } else {
            Kind::ServersSchedule
        }),
        other => panic!("a change request the test does not know: {other}"),
    }
}

/// The change requests each kind's planned action stands for, from the
/// decision's typed actions: what deploy must send, and nothing else.
fn expected(
    d: &table::Decision,
    s: &Specs,
    cdn_enabled: bool,
    profile: Option<&sitedeploy::resources::profile::Found>,
) -> BTreeMap<Kind, BTreeSet<&'static str>> {
    use sitedeploy::resources::{
        autoscaling as asg, expiry, instance, keypair, launchtemplate as lt, listener,
        loadbalancer as lb, secgroup, targetgroup as tg,
    };
    let mut e: BTreeMap<Kind, BTreeSet<&'static str>> = BTreeMap::new();
    let mut add =
        |k: Kind, ops: &[&'static str]| e.entry(k).or_default().extend(ops.iter().copied());
    let tags = |d: &sitedeploy::tags::TagDrift,
                set: &'static str,
                remove: &'static str|
     -> Vec<&'static str> {
        let mut v = Vec::new();
        if !d.set.is_empty() {
            v.push(set);
        }
        if !d.remove.is_empty() {
            v.push(remove);
        }
        v
    };
    match &d.key {
        keypair::Action::Create { .. } | keypair::Action::Import(_) => {
            add(Kind::KeyPair, &["ImportKeyPair"])
        }
        keypair::Action::Replace => add(Kind::KeyPair, &["DeleteKeyPair", "ImportKeyPair"]),
        keypair::Action::Retag(t) => add(Kind::KeyPair, &tags(t, "CreateTags", "DeleteTags")),
        keypair::Action::Keep | keypair::Action::Stop(_) => {}
    }
    for (kind, a) in [(Kind::LbGroup, &d.lb_group), (Kind::WebGroup, &d.web_group)] {
        match a {
            secgroup::Action::Create(rules) => {
                add(kind, &["CreateSecurityGroup"]);
                if !rules.is_empty() {
                    add(kind, &["AuthorizeSecurityGroupIngress"]);
                }
            }
            secgroup::Action::Update { rules, tags: t } => {
                if !rules.add.is_empty() {
                    add(kind, &["AuthorizeSecurityGroupIngress"]);
                }
                if !rules.revoke.is_empty() {
                    add(kind, &["RevokeSecurityGroupIngress"]);
                }
                add(kind, &tags(t, "CreateTags", "DeleteTags"));
            }
            secgroup::Action::Keep | secgroup::Action::Stop(_) => {}
        }
    }
    match &d.target_group {
        tg::Action::Create => add(
            Kind::TargetGroup,
            &["CreateTargetGroup", "ModifyTargetGroupAttributes"],
        ),
        tg::Action::Update { path, tags: t } => {
            if path.is_some() {
                add(Kind::TargetGroup, &["ModifyTargetGroup"]);
            }
            add(Kind::TargetGroup, &tags(t, "AddTags", "RemoveTags"));
        }
        tg::Action::Keep | tg::Action::Stop(_) => {}
    }
    match &d.load_balancer {
        lb::Action::Create(_) => add(Kind::LoadBalancer, &["CreateLoadBalancer"]),
        lb::Action::Retag(t) => add(Kind::LoadBalancer, &tags(t, "AddTags", "RemoveTags")),
        lb::Action::Keep | lb::Action::Stop(_) => {}
    }
    match &d.listener {
        listener::Action::Create if s.listener.gated => {
            add(Kind::Listener, &["CreateListener", "CreateRule"])
        }
        listener::Action::Create => add(Kind::Listener, &["CreateListener"]),
        listener::Action::Update(c) => {
            if c.keep.is_none() {
                add(Kind::Listener, &["CreateListener"]);
                if s.listener.gated {
                    add(Kind::Listener, &["CreateRule"]);
                }
            }
            if c.repoint {
                add(Kind::Listener, &["ModifyListener"]);
            }
            match &c.gate {
                listener::GateChange::Create => add(Kind::Listener, &["CreateRule"]),
                listener::GateChange::Rewrite(_) => add(Kind::Listener, &["ModifyRule"]),
                listener::GateChange::Delete(_) => add(Kind::Listener, &["DeleteRule"]),
                listener::GateChange::Keep => {}
            }
            if !c.delete.is_empty() {
                add(Kind::Listener, &["DeleteListener"]);
            }
            add(Kind::Listener, &tags(&c.tags, "AddTags", "RemoveTags"));
        }
        listener::Action::Keep | listener::Action::Stop(_) => {}
    }
    match &d.servers {
        table::Servers::Single {
            single,
            register,
            old_template,
            old_group,
        } => {
            match &single.action {
                instance::Action::Launch(_) => add(Kind::Instance, &["RunInstances"]),
                instance::Action::Start => add(Kind::Instance, &["StartInstances"]),
                instance::Action::Retag(t) => {
                    add(Kind::Instance, &tags(t, "CreateTags", "DeleteTags"))
                }
                instance::Action::Keep | instance::Action::Stop(_) => {}
            }
            if !single.retire.is_empty() {
                add(Kind::Instance, &["DeregisterTargets", "TerminateInstances"]);
            }
            if *register {
                add(Kind::Target, &["RegisterTargets"]);
            }
            if old_template.is_some() {
                add(Kind::LaunchTemplate, &["DeleteLaunchTemplate"]);
            }
            if old_group.is_some() {
                add(Kind::AutoScalingGroup, &["DeleteAutoScalingGroup"]);
            }
        }
        table::Servers::Fleet {
            template,
            group,
            members,
            rolled,
            singles,
        } => {
            match template {
                lt::Action::Create(_) => add(Kind::LaunchTemplate, &["CreateLaunchTemplate"]),
                lt::Action::NewVersion(_, t) => {
                    add(
                        Kind::LaunchTemplate,
                        &["CreateLaunchTemplateVersion", "ModifyLaunchTemplate"],
                    );
                    add(Kind::LaunchTemplate, &tags(t, "CreateTags", "DeleteTags"));
                }
                lt::Action::Retag(t) => {
                    add(Kind::LaunchTemplate, &tags(t, "CreateTags", "DeleteTags"))
                }
                lt::Action::Keep | lt::Action::Delete | lt::Action::Stop(_) => {}
            }
            let policy = if s.fleet.max.is_some() {
                "PutScalingPolicy"
            } else {
                "DeletePolicy"
            };
            match group {
                asg::Action::Create => {
                    add(Kind::AutoScalingGroup, &["CreateAutoScalingGroup", policy])
                }
                asg::Action::Update(c) => {
                    add(Kind::AutoScalingGroup, &[policy]);
                    if c.size.is_some() || c.version || !c.roll.is_empty() {
                        add(Kind::AutoScalingGroup, &["UpdateAutoScalingGroup"]);
                    }
                    if !c.roll.is_empty() {
                        // Rebalancing off for the roll, on again after it.
                        add(
                            Kind::AutoScalingGroup,
                            &["SuspendProcesses", "ResumeProcesses"],
                        );
                    }
                    if c.resume {
                        add(Kind::AutoScalingGroup, &["ResumeProcesses"]);
                    }
                    if c.attach {
                        add(Kind::AutoScalingGroup, &["AttachLoadBalancerTargetGroups"]);
                    }
                    add(
                        Kind::AutoScalingGroup,
                        &tags(&c.tags, "CreateOrUpdateTags", "DeleteTags(asg)"),
                    );
                    if !c.roll.is_empty() {
                        // The new template's tags, put on the group for its new instances.
                        add(Kind::AutoScalingGroup, &["CreateOrUpdateTags"]);
                    }
                }
                asg::Action::Keep | asg::Action::Delete | asg::Action::Stop(_) => {}
            }
            for (_, t) in members {
                add(Kind::Instance, &tags(t, "CreateTags", "DeleteTags"));
            }
            if !rolled.is_empty() {
                add(Kind::Instance, &["TerminateInstanceInAutoScalingGroup"]);
            }
            if !singles.is_empty() {
                add(Kind::Instance, &["DeregisterTargets", "TerminateInstances"]);
            }
        }
    }
    {
        use sitedeploy::resources::distribution::Action as Cdn;
        match &d.distribution {
            Cdn::Create => add(Kind::Distribution, &["CreateDistributionWithTags"]),
            Cdn::Update { why, tags: t } => {
                if !why.is_empty() {
                    add(Kind::Distribution, &["UpdateDistribution"]);
                }
                add(Kind::Distribution, &tags(t, "TagResource", "UntagResource"));
            }
            // Disabled first (unless it is), then deleted.
            Cdn::Delete if cdn_enabled => add(
                Kind::Distribution,
                &["UpdateDistribution", "DeleteDistribution"],
            ),
            Cdn::Delete => add(Kind::Distribution, &["DeleteDistribution"]),
            Cdn::None | Cdn::Keep | Cdn::Stop(_) => {}
        }
    }
    {
        use sitedeploy::resources::domain::{Cert, Dns};
        let a = &d.domain;
        match &a.cert {
            Cert::Request => add(
                Kind::Certificate,
                &["RequestCertificate", "ChangeResourceRecordSets"],
            ),
            Cert::Keep(c) if c.status != "ISSUED" => {
                add(Kind::Certificate, &["ChangeResourceRecordSets"])
            }
            Cert::Revalidate(_) => add(Kind::Certificate, &["ChangeResourceRecordSets"]),
            _ => {}
        }
        if !a.stale.is_empty() {
            add(Kind::Certificate, &["DeleteCertificate"]);
        }
        if matches!(a.dns, Dns::Write(_) | Dns::Delete(_)) || !a.old.is_empty() {
            add(Kind::DnsRecords, &["ChangeResourceRecordSets"]);
        }
    }
    let x = &d.expiry;
    match x.role {
        expiry::Action::Create => add(Kind::ExpiryRole, &["CreateRole", "PutRolePolicy"]),
        expiry::Action::Update => add(Kind::ExpiryRole, &["PutRolePolicy"]),
        _ => {}
    }
    match x.group {
        expiry::Action::Create => add(Kind::ScheduleGroup, &["CreateScheduleGroup"]),
        expiry::Action::Delete => add(Kind::ScheduleGroup, &["DeleteScheduleGroup"]),
        _ => {}
    }
    for (kind, a) in [
        (Kind::LbSchedule, &x.lb),
        (Kind::ServersSchedule, &x.servers),
    ] {
        match a {
            expiry::Action::Create => add(kind, &["CreateSchedule"]),
            expiry::Action::Update => add(kind, &["UpdateSchedule"]),
            _ => {}
        }
    }
    // The bucket: made (tags first), put right, the content uploaded, and
    // after the rollout the earlier content moved to retired/.
    if let Some(w) = d.bucket.work() {
        let b = Kind::Bucket;
        if w.create {
            add(
                b,
                &["CreateBucket", "PutBucketTagging", "PutBucketEncryption"],
            );
        }
        if w.private {
            add(b, &["PutPublicAccessBlock"]);
        }
        if w.lifecycle {
            add(b, &["PutBucketLifecycleConfiguration"]);
        }
        if w.upload {
            add(b, &["PutObject"]);
        }
        if !w.retire.is_empty() {
            add(b, &["CopyObject", "DeleteObjects"]);
        }
    }
    // The instance profile: each missing part made; without [site], what
    // exists deleted after the rollout.
    use sitedeploy::resources::profile::Action as P;
    let has = |f: fn(&sitedeploy::resources::profile::Found) -> bool| profile.is_some_and(f);
    match &d.profile {
        P::Make { .. } => {
            let p = Kind::Profile;
            if !has(|f| f.role) {
                add(p, &["CreateRole"]);
            }
            if !has(|f| f.policy) {
                add(p, &["PutRolePolicy"]);
            }
            if !has(|f| f.profile) {
                add(p, &["CreateInstanceProfile"]);
            }
            if !has(|f| f.linked) {
                add(p, &["AddRoleToInstanceProfile"]);
            }
        }
        P::Delete => {
            let p = Kind::Profile;
            if has(|f| f.linked) {
                add(p, &["RemoveRoleFromInstanceProfile"]);
            }
            if has(|f| f.profile) {
                add(p, &["DeleteInstanceProfile"]);
            }
            if has(|f| f.role) {
                add(p, &["DeleteRolePolicy", "DeleteRole"]);
            }
        }
        _ => {}
    }
    // While old instances serve beside the new one, the expiry names them all;
    // once they are retired it names the new one alone.
    if let table::Servers::Single { single, .. } = &d.servers {
        if !single.retire.is_empty() && x.at.is_some() {
            add(Kind::ServersSchedule, &["UpdateSchedule"]);
        }
    }
    e
}

/// Plans and deploys one world; checks that deploy sent what the plan said.
async fn plan_equals_apply(c: Case) -> Result<(), TestCaseError> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("sd-plan-apply-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plan = plan_for(&c, &dir);
    let start = world(&c, &plan);
    let specs = Specs::new(&plan, "us-east-1", &who(), false);

    // --plan: observe + decide on the world.
    let shared = Arc::new(Mutex::new(start.clone()));
    let ctx = mockaws::ctx(&shared);
    let seen = observe(&ctx, &specs, Purpose::Deploy).await;
    prop_assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let decision = table::decide(&specs, &seen, chrono::Utc::now());
    let rows: Vec<Planned> = decision.rows(&specs, &seen, &Ids::new());
    prop_assert!(
        shared.lock().unwrap().sent.is_empty(),
        "--plan changed something"
    );

    // deploy on the same world.
    let shared = Arc::new(Mutex::new(start.clone()));
    let ctx = mockaws::ctx(&shared);
    let opts = sitedeploy::deploy::DeployOptions {
        site_check: false,
        wait_limit: std::time::Duration::from_secs(5),
        site_limit: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    let progress = sitedeploy::progress::Progress::new(true);
    let r = sitedeploy::deploy::run(&ctx, &plan, &who(), &opts, &progress).await;
    let after = shared.lock().unwrap().clone();
    let _ = std::fs::remove_dir_all(&dir);

    let stops = rows.iter().any(|p| p.verb == Verb::Stop);
    if stops {
        prop_assert!(r.is_err(), "the plan says stop, deploy ran");
        prop_assert!(
            after.sent.is_empty(),
            "the plan says stop, deploy sent {:?}",
            after.sent
        );
        return Ok(());
    }
    prop_assert!(r.is_ok(), "deploy failed: {:#}", r.unwrap_err());

    // Deploy sent, kind by kind, exactly the requests the planned actions
    // stand for; a kind the plan keeps got none, and every row that acts
    // sent something.
    let mut sent_by_kind: BTreeMap<Kind, BTreeSet<&str>> = BTreeMap::new();
    for s in &after.sent {
        for k in kind_of(s, &plan, &after) {
            sent_by_kind.entry(k).or_default().insert(s.op);
        }
    }
    let cdn_enabled = seen.distribution.ours().is_some_and(|d| d.enabled);
    let want = expected(&decision, &specs, cdn_enabled, seen.profile.ours());
    for kind in Kind::ALL {
        let sent = sent_by_kind.get(&kind).cloned().unwrap_or_default();
        let wanted = want.get(&kind).cloned().unwrap_or_default();
        prop_assert_eq!(&sent, &wanted, "{:?}: rows {:#?}", kind, rows);
        // What the group launches (rows without an id yet) it launches and
        // registers itself: no request of that kind.
        let by_group =
            |p: &Planned| matches!(p.kind, Kind::Instance | Kind::Target) && p.row.id.is_empty();
        let acting = rows.iter().any(|p| {
            p.kind == kind && !matches!(p.verb, Verb::Keep | Verb::Delete) && !by_group(p)
        });
        prop_assert!(
            !acting || !sent.is_empty() || kind == Kind::ScheduleGroup,
            "{:?} acts, sent nothing",
            kind
        );
        let kept = rows
            .iter()
            .filter(|p| p.kind == kind)
            .all(|p| p.verb == Verb::Keep);
        prop_assert!(!kept || sent.is_empty(), "{:?} kept, sent {:?}", kind, sent);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn the_requests_deploy_sends_are_the_actions_the_plan_listed(c in cases()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(plan_equals_apply(c))?;
    }
}
