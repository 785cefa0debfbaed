//! The plan: everything `deploy` and `cleanup` derive from the config before any
//! network call: resource names, tags, ingress rules, the rendered user data and
//! the instance's fingerprint. Pure and unit-tested.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::config::{architecture_for, Config, SshCidr};
use crate::tags::Owner;

/// EC2's limit on user data, before base64 encoding.
pub const USER_DATA_LIMIT: usize = 16 * 1024;
/// Tag key on the instance holding the fingerprint of what it runs.
pub const FINGERPRINT_KEY: &str = "SiteFingerprint";
/// Tag key on a web server naming the template it was launched to serve.
pub const TEMPLATE_KEY: &str = "SiteTemplate";
/// Tag key naming a resource's role in the deployment.
pub const ROLE_KEY: &str = "Role";
/// Description of the SSH rule this tool adds; it marks the rule as ours.
pub const SSH_RULE_DESCRIPTION: &str = "ssh from the deployer (sitedeploy)";
/// Description of the HTTP rule from the load balancer to the instance.
pub const LB_TO_WEB_DESCRIPTION: &str = "http from the load balancer (sitedeploy)";
/// Description of the listener rule on the load balancer's group.
pub const LISTENER_RULE_DESCRIPTION: &str = "http from anywhere (sitedeploy)";
/// Description of extra ingress rules from deploy.toml.
pub const EXTRA_RULE_DESCRIPTION: &str = "extra rule from deploy.toml (sitedeploy)";
/// Where the boot script publishes what it installed, next to the site.
pub const MARKER_PATH: &str = "sitedeploy.json";
/// Port the web server listens on inside the instance.
pub const WEB_PORT: u16 = 80;

/// A TCP ingress rule from a CIDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrRule {
    /// TCP port.
    pub port: u16,
    /// IPv4 CIDR.
    pub cidr: String,
    /// Rule description, which marks it as this tool's.
    pub description: &'static str,
}

/// Everything derived from the config.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Deployment name.
    pub name: String,
    /// The tags put on every resource (ManagedBy, Deployment, the config's, and
    /// the record of the config's keys), which make a found resource ours.
    pub owner: Owner,
    /// Key pair name.
    pub key_name: String,
    /// Private key path.
    pub pem_path: PathBuf,
    /// Load balancer security group name.
    pub lb_sg_name: String,
    /// Instance security group name.
    pub web_sg_name: String,
    /// Target group name.
    pub tg_name: String,
    /// Load balancer name.
    pub lb_name: String,
    /// The instance's Name tag.
    pub instance_name: String,
    /// Web servers; more than one run in the Auto Scaling group.
    pub count: usize,
    /// Most web servers under load (target tracking), when set.
    pub max: Option<usize>,
    /// Launch template name (count > 1).
    pub lt_name: String,
    /// Auto Scaling group name (count > 1).
    pub asg_name: String,
    /// Instance type.
    pub instance_type: String,
    /// CPU architecture the instance type needs (`x86_64` or `arm64`).
    pub architecture: &'static str,
    /// AMI name filter and owner.
    pub ami_name_filter: String,
    /// AMI owner.
    pub ami_owner: String,
    /// Root volume size, GiB.
    pub root_volume_gb: i32,
    /// Rendered user data (plain text; base64 is applied at launch).
    pub user_data: String,
    /// Fingerprint of what the instance runs: user data, type, AMI filter, volume.
    pub fingerprint: String,
    /// The tooplate template, `<id>_<slug>` (e.g. `2137_barista_cafe`).
    pub template: String,
    /// The template's zip URL, when the user data downloads it (uses
    /// `{{template_url}}`): checked before anything is launched.
    pub template_url: Option<String>,
    /// Whether the user data publishes the marker ([`MARKER_PATH`]): it uses
    /// `{{fingerprint}}` (the shipped script does; a script of one's own may not).
    pub publishes_marker: bool,
    /// SSH source.
    pub ssh_cidr: SshCidr,
    /// Rules on the load balancer's group: the listener port from anywhere and
    /// the config's extra rules.
    pub lb_rules: Vec<CidrRule>,
    /// Listener port.
    pub listener_port: u16,
    /// Health-check path.
    pub health_check_path: String,
    /// Availability zones the load balancer spans.
    pub lb_zones: usize,
    /// VPC override.
    pub vpc_id: Option<String>,
    /// How long after this deploy the costly parts go (`None`: never).
    pub expires_after: Option<std::time::Duration>,
    /// The schedule group holding this deployment's expiry schedules.
    pub schedule_group: String,
    /// Public-IP services, in order.
    pub ip_services: Vec<String>,
    /// Public-IP request timeout, seconds.
    pub ip_timeout_secs: u64,
    /// A CloudFront distribution in front of the load balancer.
    pub https: bool,
    /// `[https] domain`.
    pub domain: Option<String>,
    /// `[site]`: the folder's packed content.
    pub site: Option<SiteContent>,
}

/// A folder's content as deploy uploads it.
#[derive(Debug, Clone)]
pub struct SiteContent {
    /// The folder.
    pub dir: PathBuf,
    /// Its archive, hash and manifest.
    pub packed: std::sync::Arc<crate::sitedir::Packed>,
    /// The object's key in the bucket: `<name>/<hash>.tar.gz`.
    pub key: String,
}

/// Placeholders known only once the account and region are: the plan keeps
/// them as they are, [`Plan::user_data_for`] fills them in. The bucket's name
/// is made of the account and region, so none of them changes within a
/// deployment and the fingerprint stays the same without them.
pub const LATE_PLACEHOLDERS: [&str; 3] = ["site_bucket", "region", "account"];

impl Plan {
    /// Derives the plan from a validated config.
    pub fn new(cfg: &Config) -> Result<Plan> {
        let name = cfg.name.clone();
        // The fingerprint covers the user data as rendered with an empty
        // fingerprint; the script then gets the fingerprint itself, to publish
        // in its marker.
        let unmarked = render_user_data(cfg, "")?;
        let architecture = architecture_for(&cfg.instance_type);
        let content_hash = cfg.site.as_ref().map_or("", |s| s.packed.hash.as_str());
        let fingerprint = format!(
            "{:016x}",
            fnv1a(
                [
                    unmarked.as_str(),
                    &cfg.instance_type,
                    &cfg.ami_name_filter,
                    &cfg.ami_owner,
                    &cfg.root_volume_gb.to_string(),
                    content_hash,
                ]
                .join("\n")
                .as_bytes()
            )
        );
        let user_data = render_user_data(cfg, &fingerprint)?;
        // A script that does not fetch the folder would serve something else.
        if let Some(s) = &cfg.site {
            if !user_data.contains(&site_key(&cfg.name, &s.packed.hash)) {
                bail!(
                    "{} does not use {{{{site_key}}}}, so it would not install the folder [site] \
                     names: leave instance.user_data out of deploy.toml (with [site] the default \
                     is userdata/install-site.sh), or name a script that fetches {{{{site_key}}}}",
                    cfg.user_data_path.display()
                );
            }
        }
        // The longest names the late placeholders can take must fit too.
        let longest = [
            ("site_bucket", "x".repeat(63)),
            ("region", "x".repeat(25)),
            ("account", "0".repeat(12)),
        ];
        let widest = fill(&user_data, &cfg.user_data_path, &longest)?;
        if widest.len() > USER_DATA_LIMIT {
            bail!(
                "rendered user data from {} can reach {} bytes; EC2 allows at most {USER_DATA_LIMIT}",
                cfg.user_data_path.display(),
                widest.len()
            );
        }
        // The script uses `{{fingerprint}}` (however spaced) exactly when the
        // fingerprint changes what it renders to.
        let publishes_marker = user_data != unmarked;
        let template_url = (!cfg.template_url.is_empty() && user_data.contains(&cfg.template_url))
            .then(|| cfg.template_url.clone());
        let mut lb_rules = vec![CidrRule {
            port: cfg.listener_port,
            cidr: "0.0.0.0/0".into(),
            description: LISTENER_RULE_DESCRIPTION,
        }];
        for r in &cfg.extra_ingress {
            let rule = CidrRule {
                port: r.port,
                cidr: r.cidr.clone(),
                description: EXTRA_RULE_DESCRIPTION,
            };
            if !lb_rules
                .iter()
                .any(|x| x.port == rule.port && x.cidr == rule.cidr)
            {
                lb_rules.push(rule);
            }
        }
        Ok(Plan {
            owner: Owner::new(&name, &cfg.tags),
            key_name: cfg.key_name.clone(),
            pem_path: cfg.pem_path.clone(),
            lb_sg_name: format!("{name}-lb-sg"),
            web_sg_name: format!("{name}-web-sg"),
            tg_name: format!("{name}-tg"),
            lb_name: format!("{name}-alb"),
            instance_name: format!("{name}-web"),
            count: cfg.count,
            max: cfg.max,
            lt_name: format!("{name}-lt"),
            asg_name: format!("{name}-asg"),
            instance_type: cfg.instance_type.clone(),
            architecture,
            ami_name_filter: cfg.ami_name_filter.clone(),
            ami_owner: cfg.ami_owner.clone(),
            root_volume_gb: cfg.root_volume_gb,
            user_data,
            fingerprint,
            template: template_name(cfg),
            template_url,
            publishes_marker,
            ssh_cidr: cfg.ssh_cidr.clone(),
            lb_rules,
            listener_port: cfg.listener_port,
            health_check_path: cfg.health_check_path.clone(),
            lb_zones: cfg.lb_zones,
            vpc_id: cfg.vpc_id.clone(),
            expires_after: cfg.expires_after,
            schedule_group: format!("sitedeploy-{name}"),
            ip_services: vec![cfg.ip_service_url.clone(), cfg.ip_fallback_url.clone()],
            ip_timeout_secs: cfg.ip_timeout_secs,
            https: cfg.https,
            domain: cfg.domain.clone(),
            site: cfg.site.as_ref().map(|s| SiteContent {
                dir: s.dir.clone(),
                packed: s.packed.clone(),
                key: site_key(&name, &s.packed.hash),
            }),
            name,
        })
    }

    /// The user data with the late placeholders ([`LATE_PLACEHOLDERS`])
    /// filled in: the bucket, region and account of the deployment.
    pub fn user_data_for(&self, bucket: &str, region: &str, account: &str) -> String {
        let values = [
            ("site_bucket", bucket.to_string()),
            ("region", region.to_string()),
            ("account", account.to_string()),
        ];
        // Plan::new filled these with the longest values they can take, and
        // what is left of the script has no other placeholder: this cannot
        // fail.
        fill(&self.user_data, std::path::Path::new("user data"), &values)
            .expect("Plan::new checked the late placeholders")
    }
}

/// The content's key in the bucket: `<name>/<hash>.tar.gz`.
fn site_key(name: &str, hash: &str) -> String {
    format!("{name}/{hash}.tar.gz")
}

/// What the web servers serve, as their marker and `SiteTemplate` tag name
/// it: the template, `<id>_<slug>`, or `site-<first 12 of the content hash>`.
fn template_name(cfg: &Config) -> String {
    match &cfg.site {
        Some(s) => format!("site-{}", &s.packed.hash[..12]),
        None => format!("{}_{}", cfg.template_id, cfg.template_slug),
    }
}

/// Renders the user-data template: replaces `{{template_url}}`,
/// `{{template_name}}`, `{{deployment}}` and `{{fingerprint}}`, refuses unknown
/// placeholders, and checks the 16 KB limit.
pub fn render_user_data(cfg: &Config, fingerprint: &str) -> Result<String> {
    let site = cfg.site.as_ref().map(|s| &s.packed);
    let values = [
        ("template_url", cfg.template_url.clone()),
        ("template_name", template_name(cfg)),
        ("deployment", cfg.name.clone()),
        ("fingerprint", fingerprint.to_string()),
        (
            "site_key",
            site.map(|p| site_key(&cfg.name, &p.hash))
                .unwrap_or_default(),
        ),
        // The content's identity (the uncompressed tar's SHA-256, as in the
        // key): what the web server checks, whatever the compression did.
        (
            "site_sha256",
            site.map(|p| p.hash.clone()).unwrap_or_default(),
        ),
    ];
    let out = fill(&cfg.user_data_template, &cfg.user_data_path, &values)?;
    if out.len() > USER_DATA_LIMIT {
        bail!(
            "rendered user data from {} is {} bytes; EC2 allows at most {USER_DATA_LIMIT}",
            cfg.user_data_path.display(),
            out.len()
        );
    }
    Ok(out)
}

/// Replaces each `{{key}}` (however spaced) of `values` in `src`; a late
/// placeholder without a value stays as `{{key}}`; any other is an error.
fn fill(src: &str, path: &std::path::Path, values: &[(&str, String)]) -> Result<String> {
    let mut out = String::with_capacity(src.len() + 128);
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("{}: unclosed {{{{ placeholder", path.display());
        };
        let key = after[..end].trim();
        let Some((_, value)) = values.iter().find(|(k, _)| *k == key) else {
            if LATE_PLACEHOLDERS.contains(&key) {
                out.push_str(&format!("{{{{{key}}}}}"));
                rest = &after[end + 2..];
                continue;
            }
            bail!(
                "{}: unknown placeholder {{{{{key}}}}}: allowed are template_url, template_name, \
                 deployment, fingerprint, site_key, site_sha256, site_bucket, region, account",
                path.display()
            );
        };
        // Validation already excluded quotes and shell metacharacters; this is the
        // last line of defence for the single-quoted assignments in the script.
        if value.contains('\'') || value.contains('\\') || value.contains('\n') {
            bail!("refusing to render {key}: it contains a quote, backslash or newline");
        }
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Standard base64 (RFC 4648, with padding), for the user data (`base64ct`,
/// RustCrypto's, already built for `ssh-key`).
pub fn base64(data: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(data)
}

/// Decodes standard base64 (the console output), line breaks allowed.
pub fn base64_decode(text: &str) -> Result<Vec<u8>> {
    use base64ct::Encoding;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64ct::Base64::decode_vec(&compact).map_err(|e| anyhow::anyhow!("invalid base64: {e}"))
}

/// 64-bit FNV-1a: a stable, dependency-free fingerprint (not a security hash).
pub fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A plan from a config text of deployment `name` plus `extra` lines, with a
/// user-data template in a temporary directory (for unit tests).
#[cfg(test)]
pub(crate) fn test_plan(name: &str, extra: &str) -> Plan {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("sd-test-plan-{}-{n}", std::process::id()));
    std::fs::create_dir_all(dir.join("userdata")).unwrap();
    std::fs::write(
        dir.join("userdata/install-template.sh"),
        "D='{{deployment}}'\n",
    )
    .unwrap();
    let text = format!(
        "name = \"{name}\"\n[template]\nid = 2137\nslug = \"barista_cafe\"\n[ssh]\nkey_name = \"{name}-key\"\ncidr = \"203.0.113.7/32\"\n{extra}"
    );
    Plan::new(&crate::config::parse(&text, &dir.join("deploy.toml")).unwrap()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Config {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("sd-plan-{}-{n}", std::process::id()));
        std::fs::create_dir_all(dir.join("userdata")).unwrap();
        std::fs::write(
            dir.join("userdata/install-template.sh"),
            "URL='{{template_url}}'\nNAME='{{ template_name }}'\nD='{{deployment}}'\n",
        )
        .unwrap();
        let text = format!(
            "name = \"barista\"\n[template]\nid = 2137\nslug = \"barista_cafe\"\n[ssh]\nkey_name = \"barista-key\"\n{extra}"
        );
        crate::config::parse(&text, &dir.join("deploy.toml")).unwrap()
    }

    #[test]
    fn derives_names_tags_and_rules() {
        let plan = Plan::new(&cfg("")).unwrap();
        assert_eq!(plan.lb_name, "barista-alb");
        assert_eq!(plan.tg_name, "barista-tg");
        assert_eq!(plan.lb_sg_name, "barista-lb-sg");
        assert_eq!(plan.web_sg_name, "barista-web-sg");
        assert_eq!(
            plan.owner.tags.get("ManagedBy").map(String::as_str),
            Some("sitedeploy")
        );
        assert_eq!(
            plan.owner.tags.get("Deployment").map(String::as_str),
            Some("barista")
        );
        assert_eq!(plan.lb_rules.len(), 1);
        assert_eq!(plan.lb_rules[0].port, 80);
        assert_eq!(plan.lb_rules[0].cidr, "0.0.0.0/0");
        assert_eq!(plan.architecture, "x86_64");
        assert!(plan.pem_path.ends_with("barista-key.pem"));
    }

    #[test]
    fn longest_name_fits_aws_limits() {
        let name = "a".repeat(crate::config::MAX_NAME_LEN);
        let mut c = cfg("");
        c.name = name;
        let plan = Plan::new(&c).unwrap();
        assert!(plan.lb_name.len() <= 32, "{}", plan.lb_name);
        assert!(plan.tg_name.len() <= 32, "{}", plan.tg_name);
        assert!(
            crate::resources::instance::Spec::new(&plan, plan.user_data.clone(), None)
                .client_token(&[
                    "key-0123",
                    "ami-0123456789abcdef0",
                    "subnet-0123456789abcdef0",
                    "i-0123456789abcdef0"
                ])
                .len()
                <= 64
        );
    }

    #[test]
    fn renders_user_data() {
        let plan = Plan::new(&cfg("")).unwrap();
        assert_eq!(
            plan.user_data,
            "URL='https://www.tooplate.com/zip-templates/2137_barista_cafe.zip'\nNAME='2137_barista_cafe'\nD='barista'\n"
        );
    }

    #[test]
    fn refuses_unknown_placeholder_and_oversized_user_data() {
        let mut c = cfg("");
        c.user_data_template = "echo {{password}}".into();
        let e = render_user_data(&c, "").unwrap_err().to_string();
        assert!(e.contains("unknown placeholder {{password}}"), "{e}");
        c.user_data_template = "#".repeat(USER_DATA_LIMIT + 1);
        let e = render_user_data(&c, "").unwrap_err().to_string();
        assert!(e.contains("at most 16384"), "{e}");
    }

    #[test]
    fn fingerprint_and_token_follow_the_template() {
        let a = Plan::new(&cfg("")).unwrap();
        let again = Plan::new(&cfg("")).unwrap();
        assert_eq!(a.fingerprint, again.fingerprint);
        let token = |p: &Plan, parts: &[&str]| {
            crate::resources::instance::Spec::new(p, p.user_data.clone(), None).client_token(parts)
        };
        assert_eq!(token(&a, &["key-1"]), token(&again, &["key-1"]));
        assert_ne!(token(&a, &["key-1"]), token(&a, &["key-2"]));
        // The image and subnet are part of the launch, and so of the token.
        let t = |img: &str, sub: &str| token(&a, &["key-1", img, sub]);
        assert_ne!(t("ami-1", "subnet-1"), t("ami-2", "subnet-1"));
        assert_ne!(t("ami-1", "subnet-1"), t("ami-1", "subnet-2"));
        assert!(crate::resources::instance::Spec::new(&a, a.user_data.clone(), None).burstable());
        let mut c = cfg("");
        c.template_url = "https://example.com/other.zip".into();
        let b = Plan::new(&c).unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
    }

    #[test]
    fn the_user_data_carries_its_own_fingerprint() {
        let mut c = cfg("");
        c.user_data_template = "FP='{{fingerprint}}' T='{{template_name}}'".into();
        let a = Plan::new(&c).unwrap();
        assert_eq!(
            a.user_data,
            format!("FP='{}' T='2137_barista_cafe'", a.fingerprint)
        );
        assert!(a.publishes_marker);
        assert_eq!(a.template, "2137_barista_cafe");
        // The fingerprint still follows everything else in the script.
        c.user_data_template = "FP='{{fingerprint}}' T='{{template_name}}' ".into();
        assert_ne!(Plan::new(&c).unwrap().fingerprint, a.fingerprint);
        assert!(!Plan::new(&cfg("")).unwrap().publishes_marker);
        c.user_data_template = "FP='{{ fingerprint }}'".into();
        assert!(
            Plan::new(&c).unwrap().publishes_marker,
            "spaced placeholder"
        );
    }

    #[test]
    fn extra_rules_are_added_once() {
        let plan = Plan::new(&cfg(
            "[load_balancer]\nextra_ingress = [{ port = 443, cidr = \"0.0.0.0/0\" }, { port = 80, cidr = \"0.0.0.0/0\" }]\n",
        ))
        .unwrap();
        assert_eq!(plan.lb_rules.len(), 2);
        assert_eq!(plan.lb_rules[1].port, 443);
    }

    #[test]
    fn the_tools_own_tag_keys_are_reserved() {
        for k in [
            FINGERPRINT_KEY,
            ROLE_KEY,
            "Name",
            crate::config::MANAGED_BY_KEY,
            crate::config::DEPLOYMENT_KEY,
        ] {
            assert!(crate::config::RESERVED_TAG_KEYS.contains(&k), "{k}");
        }
    }

    #[test]
    fn default_image_follows_the_architecture() {
        let plan = Plan::new(&cfg("")).unwrap();
        assert_eq!(plan.ami_name_filter, "al2023-ami-2023.*-x86_64");
        assert_eq!(plan.lb_zones, 2);
        let arm = Plan::new(&cfg("[instance]\ntype = \"t4g.micro\"\n")).unwrap();
        assert_eq!(arm.ami_name_filter, "al2023-ami-2023.*-arm64");
        assert_eq!(arm.architecture, "arm64");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_decode("Zm9v\nYmFy").unwrap(), b"foobar");
        assert!(base64_decode("Zm9v!").is_err());
    }
}
