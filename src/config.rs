//! `deploy.toml`: the schema (serde, unknown keys rejected) and its validation.
//!
//! Parsing happens in two steps, as ripgrep does with its flags: the file is
//! deserialised into [`RawConfig`], whose fields keep their position in the file,
//! and then validated into the plain [`Config`] the rest of the program uses.
//! Every error names the file, line and column and says what is allowed. Nothing
//! from the file reaches the user-data script or an AWS call without passing a
//! check here, so no value can inject shell into the instance's boot script.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Tag key that marks every resource this tool creates.
pub const MANAGED_BY_KEY: &str = "ManagedBy";
/// Value of [`MANAGED_BY_KEY`].
pub const MANAGED_BY_VALUE: &str = "sitedeploy";
/// Tag key holding the deployment name.
pub const DEPLOYMENT_KEY: &str = "Deployment";
/// Tag key listing the user tag keys (deploy.toml's `[tags]`) this tool put on
/// a resource, separated by spaces: a key later removed from deploy.toml is
/// removed from the resources, and a tag a person added by hand is left alone.
pub const USER_TAG_KEYS_KEY: &str = "SitedeployTagKeys";
/// Tag keys this tool sets itself; a user tag may not take them over.
pub const RESERVED_TAG_KEYS: &[&str] = &[
    MANAGED_BY_KEY,
    DEPLOYMENT_KEY,
    USER_TAG_KEYS_KEY,
    "Name",
    "Role",
    "SiteFingerprint",
    "SiteTemplate",
];
/// Default `expires_after`: a working day. Long enough for a lesson or a
/// day's exercise, short enough that a forgotten site costs at most about
/// $0.46 (8 h of the default stack) instead of $1.37 a day until noticed.
pub const DEFAULT_EXPIRY: std::time::Duration = std::time::Duration::from_secs(8 * 3600);

/// `expires_after`: `off`, or a whole number of minutes, hours or days
/// (`30m`, `8h`, `2d`) between 15 minutes and 30 days.
pub fn parse_expiry(s: &str) -> Result<Option<std::time::Duration>, String> {
    const ALLOWED: &str = "`off`, or 15m to 30d as minutes, hours or days (`30m`, `8h`, `2d`)";
    if s == "off" {
        return Ok(None);
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let secs = match (n.parse::<u64>(), unit) {
        (Ok(n), "m") => n * 60,
        (Ok(n), "h") => n * 3600,
        (Ok(n), "d") => n * 86400,
        _ => return Err(ALLOWED.into()),
    };
    if !(15 * 60..=30 * 86400).contains(&secs) {
        return Err(ALLOWED.into());
    }
    Ok(Some(std::time::Duration::from_secs(secs)))
}

/// Longest deployment name: `<name>-alb` and `<name>-tg` must fit the
/// 32-character limit on load balancer and target group names.
pub const MAX_NAME_LEN: usize = 28;

/// Inbound rules a security group may have (the VPC quota "Inbound or
/// outbound rules per security group", 60 by default).
pub const SG_INBOUND_RULES: usize = 60;
/// What CloudFront's origin-facing prefix list counts for against that quota
/// (its maximum entries; AWS's "Available AWS-managed prefix lists" table).
pub const CLOUDFRONT_LIST_WEIGHT: usize = 55;
/// The extra_ingress rules left beside it, and beside the listener's open rule
/// that the prefix list's replaces (added first, so the site stays reachable).
pub const MAX_EXTRA_WITH_HTTPS: usize = SG_INBOUND_RULES - CLOUDFRONT_LIST_WEIGHT - 1;

/// A domain name ACM issues a public certificate for and CloudFront takes as
/// an alternate domain name: 2+ labels of 1-63 lowercase letters, digits and
/// hyphens (not at either end), at most 253 characters, a top-level label
/// not all digits.
pub fn is_domain_name(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
        && !labels
            .last()
            .is_some_and(|l| l.bytes().all(|c| c.is_ascii_digit()))
}

/// Whether `[https] enabled` is on when deploy.toml does not say.
pub const DEFAULT_HTTPS: bool = true;

/// The file as written, with positions kept for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Deployment name: the prefix of every resource name.
    name: Spanned<String>,
    /// AWS region; when absent, the standard AWS chain (`AWS_REGION`, profile) decides.
    region: Option<Spanned<String>>,
    /// Existing VPC to use instead of the account's default VPC.
    vpc_id: Option<Spanned<String>>,
    /// When the costly parts go by themselves: a duration (`30m`, `8h`, `2d`)
    /// counted from each deploy, or `off`; default `8h`.
    expires_after: Option<Spanned<String>>,
    /// Extra tags put on every resource.
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
    /// Which tooplate.com template to serve (or `[site]`, not both).
    template: Option<RawTemplate>,
    /// A folder of your own to serve (or `[template]`, not both).
    site: Option<RawSite>,
    /// The EC2 instance.
    #[serde(default)]
    instance: RawInstance,
    /// SSH access.
    ssh: RawSsh,
    /// The Application Load Balancer.
    #[serde(default)]
    load_balancer: RawLoadBalancer,
    /// HTTPS through a CloudFront distribution.
    #[serde(default)]
    https: RawHttps,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttps {
    /// A CloudFront distribution in front of the load balancer; default true.
    enabled: Option<Spanned<bool>>,
    /// Your own domain for the HTTPS URL (a Route 53 hosted zone for it or
    /// a parent must be in the account).
    domain: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    /// tooplate template number, e.g. 2137.
    id: Spanned<i64>,
    /// tooplate template slug, e.g. `barista_cafe`.
    slug: Spanned<String>,
    /// Zip URL; default `https://www.tooplate.com/zip-templates/<id>_<slug>.zip`.
    url: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    /// The folder, relative to deploy.toml; it must hold an `index.html`.
    dir: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    /// Instance type; default `t3.micro`.
    #[serde(rename = "type")]
    instance_type: Option<Spanned<String>>,
    /// AMI name filter; default `al2023-ami-2023.*-<arch>`, with the instance
    /// type's architecture (`x86_64`, or `arm64` for Graviton types such as t4g).
    ami_name_filter: Option<Spanned<String>>,
    /// AMI owner: `amazon` (default), `self` or a 12-digit account id.
    ami_owner: Option<Spanned<String>>,
    /// User-data template, a path under `userdata/`.
    user_data: Option<Spanned<String>>,
    /// Root volume size in GiB; default 8.
    root_volume_gb: Option<Spanned<i64>>,
    /// Web servers: 1 (default) is one instance; 2-10 run in an Auto Scaling group.
    count: Option<Spanned<i64>>,
    /// With `count > 1`: scale out to this many on load (target tracking).
    max: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    /// EC2 key pair name.
    key_name: Spanned<String>,
    /// Directory where `<key_name>.pem` is written; default: next to deploy.toml.
    pem_dir: Option<Spanned<String>>,
    /// `auto` (detect this machine's public IP) or an IPv4 CIDR.
    cidr: Option<Spanned<String>>,
    /// Public-IP service; default `https://checkip.amazonaws.com`.
    ip_service_url: Option<Spanned<String>>,
    /// Fallback public-IP service; default `https://api.ipify.org`.
    ip_fallback_url: Option<Spanned<String>>,
    /// Timeout for each public-IP request, in seconds; default 5.
    ip_timeout_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoadBalancer {
    /// Listener port; default 80.
    port: Option<Spanned<i64>>,
    /// Health-check path; default `/`.
    health_check_path: Option<Spanned<String>>,
    /// How many availability zones the load balancer spans (2-6); default 2.
    /// Each zone adds a public IPv4 address that AWS bills by the hour.
    zones: Option<Spanned<i64>>,
    /// Extra ingress rules on the load balancer's security group.
    #[serde(default)]
    extra_ingress: Vec<RawIngress>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIngress {
    /// TCP port.
    port: Spanned<i64>,
    /// IPv4 CIDR allowed to reach the port.
    cidr: Spanned<String>,
}

/// Where the SSH rule's source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshCidr {
    /// Detect this machine's public IPv4 address and allow it as a /32.
    Auto,
    /// A fixed IPv4 CIDR.
    Fixed(String),
}

/// A validated extra ingress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// TCP port.
    pub port: u16,
    /// IPv4 CIDR in canonical form.
    pub cidr: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Deployment name (resource prefix).
    pub name: String,
    /// Region, when set in the file.
    pub region: Option<String>,
    /// VPC to use instead of the default VPC.
    pub vpc_id: Option<String>,
    /// How long after each deploy the load balancer and the web servers are
    /// deleted by schedules in AWS; `None` is `off`.
    pub expires_after: Option<std::time::Duration>,
    /// Extra tags.
    pub tags: BTreeMap<String, String>,
    /// tooplate template id.
    pub template_id: u32,
    /// tooplate template slug.
    pub template_slug: String,
    /// Template zip URL.
    pub template_url: String,
    /// `[site]`: the folder, packed (checked and read when the config is;
    /// `None` when it was not read: [`SiteFolder::Skip`]).
    pub site: Option<Site>,
    /// Instance type.
    pub instance_type: String,
    /// AMI name filter.
    pub ami_name_filter: String,
    /// AMI owner.
    pub ami_owner: String,
    /// Path of the user-data template file.
    pub user_data_path: PathBuf,
    /// Contents of the user-data template file.
    pub user_data_template: String,
    /// Root volume size, GiB.
    pub root_volume_gb: i32,
    /// Web servers (1-10); more than one run in an Auto Scaling group.
    pub count: usize,
    /// Most web servers under load (target tracking), when set.
    pub max: Option<usize>,
    /// Key pair name.
    pub key_name: String,
    /// Where the private key is written.
    pub pem_path: PathBuf,
    /// SSH source.
    pub ssh_cidr: SshCidr,
    /// Public-IP service URL.
    pub ip_service_url: String,
    /// Fallback public-IP service URL.
    pub ip_fallback_url: String,
    /// Public-IP request timeout, seconds.
    pub ip_timeout_secs: u64,
    /// Listener port.
    pub listener_port: u16,
    /// Health-check path.
    pub health_check_path: String,
    /// Availability zones the load balancer spans.
    pub lb_zones: usize,
    /// Extra ingress rules on the load balancer's group.
    pub extra_ingress: Vec<Ingress>,
    /// A CloudFront distribution in front of the load balancer (`[https]`).
    pub https: bool,
    /// `[https] domain`: the distribution answers on it (ACM certificate,
    /// Route 53 alias records).
    pub domain: Option<String>,
}

/// `[site]`: a local folder served instead of a template.
#[derive(Debug, Clone)]
pub struct Site {
    /// The folder, as resolved against deploy.toml's directory.
    pub dir: PathBuf,
    /// Its content, packed.
    pub packed: std::sync::Arc<crate::sitedir::Packed>,
}

/// A configuration error with its place in the file.
#[derive(Debug)]
pub struct ConfigError {
    /// Every problem found, each already formatted as `file:line:col: message`.
    pub problems: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// Whether reading the config reads (checks and packs) the `[site]` folder:
/// deploy and `--plan` do; status, cleanup and logs work without it (it may
/// be gone, or on another machine), their `Config::site` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteFolder {
    /// Check and pack it.
    Pack,
    /// Leave it unread.
    Skip,
}

/// Reads and validates a config file, packing the `[site]` folder. Relative
/// paths in it (user data, pem dir, the folder) are resolved against the
/// file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, SiteFolder::Pack)
}

/// [`load`], reading the `[site]` folder or not.
pub fn load_with(path: &Path, folder: SiteFolder) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        problems: vec![match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{} not found in {}: write one (README.md, \"Set up and run\"), pass \
                 --config PATH, or name a deployment made elsewhere with --region R --name N \
                 (`{}` finds yours in every region)",
                path.display(),
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "this directory".into()),
                crate::shell::command("status", "--all-regions")
            ),
            _ => format!("{}: cannot read config: {e}", path.display()),
        }],
    })?;
    parse_with(&text, path, folder)
}

/// Parses and validates config text; `path` names the file in messages and anchors
/// relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    parse_with(text, path, SiteFolder::Pack)
}

/// [`parse`], reading the `[site]` folder or not.
pub fn parse_with(text: &str, path: &Path, folder: SiteFolder) -> Result<Config, ConfigError> {
    let (raw, mut unknown) = deserialize(text, path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = std::path::absolute(&dir).unwrap_or(dir);
    let mut v = Validator {
        path,
        text,
        problems: Vec::new(),
        folder,
    };
    let cfg = v.validate(raw, &base);
    // Every problem at once, in the order of the file.
    unknown.append(&mut v.problems);
    if unknown.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigError { problems: unknown })
    }
}

/// Deserializes the file; an unknown key is a problem reported with the rest,
/// not the end of the check: it is blanked out (spaces, so every other
/// position stays) and the file read again. A key whose value spans lines, or
/// an unknown table, is blanked with them.
fn deserialize(text: &str, path: &Path) -> Result<(RawConfig, Vec<String>), ConfigError> {
    let mut work = text.to_string();
    let mut unknown = Vec::new();
    loop {
        match toml::from_str::<RawConfig>(&work) {
            Ok(raw) => return Ok((raw, in_file_order(unknown))),
            Err(e) => {
                let at = e.span().map(|s| s.start).unwrap_or(0);
                let problem = format!("{}: {}", place(path, text, at), e.message().trim_end());
                let blanked = e
                    .message()
                    .starts_with("unknown field")
                    .then(|| blank_entry(&work, at))
                    .flatten();
                match blanked {
                    // Another unknown key after this one: go on.
                    Some(next)
                        if unknown.len() < 50 && toml::from_str::<toml::Table>(&next).is_ok() =>
                    {
                        unknown.push((at, problem));
                        work = next;
                    }
                    _ => {
                        // A file that is not TOML, a missing key, or a key whose
                        // removal the parser cannot follow: stop here.
                        unknown.push((at, problem));
                        return Err(ConfigError {
                            problems: in_file_order(unknown),
                        });
                    }
                }
            }
        }
    }
}

fn in_file_order(mut problems: Vec<(usize, String)>) -> Vec<String> {
    problems.sort_by_key(|(at, _)| *at);
    problems.into_iter().map(|(_, p)| p).collect()
}

/// `text` with the entry at byte `at` replaced by spaces: the `key = value`
/// line, or a `[table]` header with its keys up to the next header. `None`
/// when `at` is not the start of such an entry.
fn blank_entry(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |i| from + i);
    let first_end = line_end(line_start);
    let is_table = text[line_start..first_end].trim_start().starts_with('[');
    let mut end = first_end;
    if is_table {
        // Up to the next header.
        let mut pos = first_end;
        while pos < text.len() {
            let next = pos + 1;
            let e = line_end(next.min(text.len()));
            if text[next.min(text.len())..e].trim_start().starts_with('[') {
                break;
            }
            end = e;
            pos = e;
        }
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..line_start]);
    out.extend(
        text[line_start..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' }),
    );
    out.push_str(&text[end..]);
    Some(out)
}

/// `file:line:col` for a byte offset (1-based line and column, columns in characters).
fn place(path: &Path, text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{}:{line}:{col}", path.display())
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<String>,
    folder: SiteFolder,
}

impl Validator<'_> {
    fn err(&mut self, span: Range<usize>, msg: String) {
        let p = place(self.path, self.text, span.start);
        self.problems.push(format!("{p}: {msg}"));
    }

    /// Checks a string with `check`; on failure records `allowed` and returns the
    /// value anyway so validation goes on and reports every problem.
    fn string(
        &mut self,
        field: &str,
        value: &Spanned<String>,
        check: impl Fn(&str) -> bool,
        allowed: &str,
    ) -> String {
        let s = value.get_ref();
        if !check(s) {
            self.err(value.span(), format!("invalid {field} {s:?}: {allowed}"));
        }
        s.clone()
    }

    fn int(&mut self, field: &str, value: &Spanned<i64>, range: Range<i64>) -> i64 {
        let n = *value.get_ref();
        if !range.contains(&n) {
            self.err(
                value.span(),
                format!(
                    "invalid {field} {n}: allowed {} to {}",
                    range.start,
                    range.end - 1
                ),
            );
        }
        n
    }

    fn opt_string(
        &mut self,
        field: &str,
        value: &Option<Spanned<String>>,
        default: &str,
        check: impl Fn(&str) -> bool,
        allowed: &str,
    ) -> String {
        match value {
            Some(v) => self.string(field, v, check, allowed),
            None => default.to_string(),
        }
    }

    fn cidr(&mut self, field: &str, value: &Spanned<String>) -> String {
        match parse_cidr(value.get_ref()) {
            Some(c) => c,
            None => {
                self.err(
                    value.span(),
                    format!(
                        "invalid {field} {:?}: an IPv4 CIDR such as 203.0.113.7/32 \
                         with the host bits zero",
                        value.get_ref()
                    ),
                );
                value.get_ref().clone()
            }
        }
    }

    fn validate(&mut self, raw: RawConfig, base: &Path) -> Config {
        let name = self.string(
            "name",
            &raw.name,
            |s| is_deployment_name(s) && !s.to_ascii_lowercase().starts_with("sg-"),
            "use 1 to 28 letters, digits and hyphens, starting and ending with a letter or digit, \
             and not starting with sg- (AWS refuses security group names that do)",
        );
        let region = raw.region.as_ref().map(|r| {
            self.string(
                "region",
                r,
                is_region,
                "an AWS region name such as us-east-1",
            )
        });
        let expires_after = match &raw.expires_after {
            None => Some(DEFAULT_EXPIRY),
            Some(v) => match parse_expiry(v.get_ref()) {
                Ok(d) => d,
                Err(why) => {
                    self.err(
                        v.span(),
                        format!("invalid expires_after {:?}: {why}", v.get_ref()),
                    );
                    None
                }
            },
        };
        let vpc_id = raw.vpc_id.as_ref().map(|v| {
            self.string(
                "vpc_id",
                v,
                |s| is_aws_id(s, "vpc-"),
                "a VPC id such as vpc-0123456789abcdef0",
            )
        });
        let tags = self.tags(&raw.tags);
        let (template_id, template_slug, template_url) = match &raw.template {
            Some(t) => self.template(t),
            None => (0, String::new(), String::new()),
        };
        let site = self.site(&raw, base);
        let inst = self.instance(&raw.instance, base, raw.site.is_some());
        let ssh = self.ssh(&raw.ssh, base);
        let https = raw
            .https
            .enabled
            .as_ref()
            .map_or(DEFAULT_HTTPS, |e| *e.get_ref());
        let lb = self.load_balancer(&raw.load_balancer, https);
        let domain = self.domain(&raw.https, https);
        Config {
            name,
            region,
            vpc_id,
            expires_after,
            tags,
            template_id,
            template_slug,
            template_url,
            site,
            instance_type: inst.instance_type,
            ami_name_filter: inst.ami_name_filter,
            ami_owner: inst.ami_owner,
            user_data_path: inst.user_data_path,
            user_data_template: inst.user_data_template,
            root_volume_gb: inst.root_volume_gb,
            count: inst.count,
            max: inst.max,
            key_name: ssh.key_name,
            pem_path: ssh.pem_path,
            ssh_cidr: ssh.ssh_cidr,
            ip_service_url: ssh.ip_service_url,
            ip_fallback_url: ssh.ip_fallback_url,
            ip_timeout_secs: ssh.ip_timeout_secs,
            listener_port: lb.listener_port,
            health_check_path: lb.health_check_path,
            lb_zones: lb.lb_zones,
            extra_ingress: lb.extra_ingress,
            https,
            domain,
        }
    }

    /// `[https] domain`: a public DNS name CloudFront and ACM take, only with
    /// `[https]` on.
    fn domain(&mut self, raw: &RawHttps, https: bool) -> Option<String> {
        let v = raw.domain.as_ref()?;
        let d = self.string(
            "https.domain",
            v,
            is_domain_name,
            "a DNS name such as www.example.com (lowercase letters, digits and hyphens, \
             at least two labels, no wildcard, no trailing dot)",
        );
        if !https {
            self.err(
                v.span(),
                "https.domain needs [https] enabled = true (the domain is served by the \
                 CloudFront distribution)"
                    .into(),
            );
        }
        Some(d)
    }

    fn tags(&mut self, raw: &BTreeMap<String, Spanned<String>>) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        for (k, v) in raw {
            let key_ok = !k.is_empty()
                && k.len() <= 128
                && !k.to_ascii_lowercase().starts_with("aws:")
                && !RESERVED_TAG_KEYS.contains(&k.as_str())
                && k.chars().all(|c| is_tag_char(c) && c != ' ');
            if !key_ok {
                self.err(
                    v.span(),
                    format!(
                        "invalid tag key {k:?}: 1 to 128 letters, digits and _.:/=+-@ (no \
                         spaces), not starting with aws: (AWS reserves it) and not {} (this \
                         tool sets those)",
                        RESERVED_TAG_KEYS.join(", ")
                    ),
                );
            }
            let val = self.string(
                "tag value",
                v,
                |s| s.len() <= 256 && s.chars().all(is_tag_char),
                "at most 256 letters, digits, spaces and _.:/=+-@",
            );
            tags.insert(k.clone(), val);
        }
        let keys_len = raw.keys().map(|k| k.len() + 1).sum::<usize>();
        if let (true, Some(v)) = (keys_len > 257, raw.values().last()) {
            self.err(
                v.span(),
                format!(
                    "the tag keys are {} characters together; at most 256 (with a space \
                     between each) fit the {USER_TAG_KEYS_KEY} tag that records them",
                    keys_len - 1
                ),
            );
        }

        tags
    }

    /// `[site]`, exactly when `[template]` is absent; the folder is checked
    /// and packed here, so bad input stops deploy before any call.
    fn site(&mut self, raw: &RawConfig, base: &Path) -> Option<Site> {
        let (site, template) = (raw.site.as_ref(), raw.template.as_ref());
        match (site, template) {
            (None, None) => {
                self.err(
                    0..0,
                    "name what to serve: a tooplate.com template ([template] with id and \
                     slug) or a folder of your own ([site] with dir = \"site\")"
                        .into(),
                );
                None
            }
            (Some(s), Some(_)) => {
                self.err(
                    s.dir.span(),
                    "[template] and [site] are both set: name one (a tooplate.com template, \
                     or a folder of your own)"
                        .into(),
                );
                None
            }
            (None, Some(_)) => None,
            (Some(_), None) if self.folder == SiteFolder::Skip => None,
            (Some(s), None) => {
                let rel = s.dir.get_ref();
                let dir = base.join(rel);
                match crate::sitedir::pack(&dir) {
                    Ok(packed) => Some(Site {
                        dir,
                        packed: std::sync::Arc::new(packed),
                    }),
                    Err(e) => {
                        self.err(s.dir.span(), format!("site.dir {rel:?}: {e:#}"));
                        None
                    }
                }
            }
        }
    }

    fn template(&mut self, raw: &RawTemplate) -> (u32, String, String) {
        let template_id = self.int("template.id", &raw.id, 1..100_000) as u32;
        let template_slug = self.string(
            "template.slug",
            &raw.slug,
            |s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    })
            },
            "1 to 64 lowercase letters, digits, _ and -, e.g. barista_cafe",
        );
        let default_url =
            format!("https://www.tooplate.com/zip-templates/{template_id}_{template_slug}.zip");
        let template_url = self.opt_string(
            "template.url",
            &raw.url,
            &default_url,
            is_safe_url,
            "an http:// or https:// URL of letters, digits and -._~:/?=&%+",
        );

        (template_id, template_slug, template_url)
    }

    fn instance(&mut self, ri: &RawInstance, base: &Path, site: bool) -> InstanceSection {
        let instance_type = self.opt_string(
            "instance.type",
            &ri.instance_type,
            "t3.micro",
            is_instance_type,
            "an EC2 instance type such as t3.micro",
        );
        let default_ami = format!("al2023-ami-2023.*-{}", architecture_for(&instance_type));
        let ami_name_filter = self.opt_string(
            "instance.ami_name_filter",
            &ri.ami_name_filter,
            &default_ami,
            |s| {
                !s.is_empty()
                    && s.len() <= 128
                    && s.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '?' | '_' | '-')
                    })
            },
            "1 to 128 letters, digits and . * ? _ -",
        );
        let ami_owner = self.opt_string(
            "instance.ami_owner",
            &ri.ami_owner,
            "amazon",
            |s| {
                matches!(s, "amazon" | "self" | "aws-marketplace")
                    || (s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()))
            },
            "amazon, self, aws-marketplace or a 12-digit account id",
        );
        let problems_before = self.problems.len();
        let user_data_rel = self.opt_string(
            "instance.user_data",
            &ri.user_data,
            match site {
                true => "userdata/install-site.sh",
                false => "userdata/install-template.sh",
            },
            |s| {
                let p = Path::new(s);
                p.starts_with("userdata")
                    && p.components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
            },
            "a relative path under userdata/, e.g. userdata/install-template.sh",
        );
        let user_data_path = base.join(&user_data_rel);
        let path_ok = self.problems.len() == problems_before;
        let user_data_template = match std::fs::read_to_string(&user_data_path) {
            _ if !path_ok => String::new(),
            Ok(t) => t,
            Err(e) => {
                let span = ri.user_data.as_ref().map(|s| s.span()).unwrap_or(0..0);
                self.err(
                    span,
                    format!(
                        "cannot read user-data template {}: {e}",
                        user_data_path.display()
                    ),
                );
                String::new()
            }
        };
        let root_volume_gb = match &ri.root_volume_gb {
            Some(v) => self.int("instance.root_volume_gb", v, 8..1025) as i32,
            None => 8,
        };
        let count = match &ri.count {
            Some(v) => self.int("instance.count", v, 1..11) as usize,
            None => 1,
        };
        let max = ri.max.as_ref().map(|v| {
            let m = self.int("instance.max", v, 1..21) as usize;
            if m < count || count == 1 {
                self.err(
                    v.span(),
                    format!(
                        "instance.max = {m} needs instance.count between 2 and {m}: scaling \
                         on load runs in the Auto Scaling group that count > 1 makes"
                    ),
                );
            }
            m
        });

        InstanceSection {
            instance_type,
            ami_name_filter,
            ami_owner,
            user_data_path,
            user_data_template,
            root_volume_gb,
            count,
            max,
        }
    }

    fn ssh(&mut self, rs: &RawSsh, base: &Path) -> SshSection {
        let key_name = self.string(
            "ssh.key_name",
            &rs.key_name,
            |s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    && !s.starts_with('.')
            },
            "1 to 64 letters, digits and . _ -, not starting with a dot",
        );
        let pem_dir = match &rs.pem_dir {
            Some(d) => {
                let s = self.string(
                    "ssh.pem_dir",
                    d,
                    |s| !s.is_empty() && !s.contains('\0'),
                    "a directory path",
                );
                // Path::components drops interior "." parts: ./keys -> keys.
                base.join(s).components().collect()
            }
            None => base.to_path_buf(),
        };
        let pem_path = pem_dir.join(format!("{key_name}.pem"));
        let ssh_cidr = match &rs.cidr {
            None => SshCidr::Auto,
            Some(c) if c.get_ref() == "auto" => SshCidr::Auto,
            Some(c) => {
                let cidr = self.cidr("ssh.cidr", c);
                if cidr == "0.0.0.0/0" {
                    self.err(
                        c.span(),
                        "ssh.cidr 0.0.0.0/0 would open SSH to the whole internet: use \"auto\" \
                         or your own address as a /32"
                            .into(),
                    );
                }
                SshCidr::Fixed(cidr)
            }
        };
        let ip_service_url = self.opt_string(
            "ssh.ip_service_url",
            &rs.ip_service_url,
            "https://checkip.amazonaws.com",
            is_safe_url,
            "an http:// or https:// URL",
        );
        let ip_fallback_url = self.opt_string(
            "ssh.ip_fallback_url",
            &rs.ip_fallback_url,
            "https://api.ipify.org",
            is_safe_url,
            "an http:// or https:// URL",
        );
        let ip_timeout_secs = match &rs.ip_timeout_secs {
            Some(v) => self.int("ssh.ip_timeout_secs", v, 1..61) as u64,
            None => 5,
        };

        SshSection {
            key_name,
            pem_path,
            ssh_cidr,
            ip_service_url,
            ip_fallback_url,
            ip_timeout_secs,
        }
    }

    fn load_balancer(&mut self, rl: &RawLoadBalancer, https: bool) -> LbSection {
        let listener_port = match &rl.port {
            Some(v) => self.int("load_balancer.port", v, 1..65536) as u16,
            None => 80,
        };
        // CloudFront reaches a custom origin's HTTP port only on 80, 443 or
        // 1024-65535 (the origin settings' "HTTP port").
        if let (true, Some(v)) = (https, &rl.port) {
            if !matches!(listener_port, 80 | 443 | 1024..=65535) {
                self.err(
                    v.span(),
                    format!(
                        "load_balancer.port {listener_port} with [https] on: CloudFront reaches \
                         a load balancer only on port 80, 443 or 1024-65535"
                    ),
                );
            }
        }
        let health_check_path = self.opt_string(
            "load_balancer.health_check_path",
            &rl.health_check_path,
            "/",
            |s| {
                s.starts_with('/')
                    && s.len() <= 1024
                    && s.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '~' | '-')
                    })
            },
            "a path starting with / of letters, digits and / . _ ~ -",
        );
        let lb_zones = match &rl.zones {
            Some(v) => self.int("load_balancer.zones", v, 2..7) as usize,
            None => 2,
        };
        let mut extra_ingress = Vec::new();
        for (n, rule) in rl.extra_ingress.iter().enumerate() {
            if https && n == MAX_EXTRA_WITH_HTTPS {
                self.err(
                    rule.port.span(),
                    format!(
                        "at most {MAX_EXTRA_WITH_HTTPS} extra_ingress rules with [https] on: \
                         CloudFront's managed prefix list counts as {CLOUDFRONT_LIST_WEIGHT} of \
                         the {SG_INBOUND_RULES} inbound rules a security group may have (AWS's \
                         default quota), and one more is the listener's rule it replaces"
                    ),
                );
            }
            let port = self.int("load_balancer.extra_ingress.port", &rule.port, 1..65536) as u16;
            let cidr = self.cidr("load_balancer.extra_ingress.cidr", &rule.cidr);
            extra_ingress.push(Ingress { port, cidr });
        }

        LbSection {
            listener_port,
            health_check_path,
            lb_zones,
            extra_ingress,
        }
    }
}

/// `[instance]`, validated.
struct InstanceSection {
    instance_type: String,
    ami_name_filter: String,
    ami_owner: String,
    user_data_path: PathBuf,
    user_data_template: String,
    root_volume_gb: i32,
    count: usize,
    max: Option<usize>,
}

/// `[ssh]`, validated.
struct SshSection {
    key_name: String,
    pem_path: PathBuf,
    ssh_cidr: SshCidr,
    ip_service_url: String,
    ip_fallback_url: String,
    ip_timeout_secs: u64,
}

/// `[load_balancer]`, validated.
struct LbSection {
    listener_port: u16,
    health_check_path: String,
    lb_zones: usize,
    extra_ingress: Vec<Ingress>,
}

impl Config {
    /// A deployment known only by its name and key pair, as found in AWS by
    /// its tags (`status --all-regions`, `cleanup --name`): the names and tags
    /// that find and delete its resources. Nothing of the site is known: no user
    /// data, the default instance type and volume (status prices what it finds),
    /// and no local private key file (an empty path: cleanup leaves files alone).
    pub fn found(name: &str, key_name: &str) -> Config {
        Config {
            name: name.to_string(),
            region: None,
            vpc_id: None,
            expires_after: None,
            tags: BTreeMap::new(),
            template_id: 0,
            template_slug: String::new(),
            template_url: String::new(),
            site: None,
            instance_type: "t3.micro".into(),
            ami_name_filter: String::new(),
            ami_owner: String::new(),
            user_data_path: PathBuf::new(),
            user_data_template: String::new(),
            root_volume_gb: 8,
            count: 1,
            max: None,
            key_name: key_name.to_string(),
            pem_path: PathBuf::new(),
            ssh_cidr: SshCidr::Auto,
            ip_service_url: String::new(),
            ip_fallback_url: String::new(),
            ip_timeout_secs: 5,
            listener_port: 80,
            health_check_path: "/".into(),
            lb_zones: 2,
            extra_ingress: Vec::new(),
            https: DEFAULT_HTTPS,
            domain: None,
        }
    }
}

/// The CPU architecture an instance type runs: Graviton families (a `g` after the
/// generation digit, e.g. t4g, m7gd, c6gn) and a1 are arm64, the rest x86_64.
pub fn architecture_for(instance_type: &str) -> &'static str {
    let family = instance_type.split('.').next().unwrap_or("");
    if family == "a1" {
        return "arm64";
    }
    let after_digit = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let suffix = after_digit.trim_start_matches(|c: char| c.is_ascii_digit());
    if !after_digit.is_empty() && suffix.starts_with('g') {
        "arm64"
    } else {
        "x86_64"
    }
}

/// Letters, digits and inner hyphens, 1 to [`MAX_NAME_LEN`] characters.
pub fn is_deployment_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && !s.to_ascii_lowercase().starts_with("internal-")
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (3..=4).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && parts[0].len() == 2
}

fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        (8..=17).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_hexdigit())
    })
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn is_instance_type(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(family), Some(size), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 16
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    ok(family)
        && ok(size)
        && family
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
}

/// An http(s) URL made only of characters that are inert inside single quotes
/// and in a URL: no quotes, spaces, backslashes, `$`, backticks or `;`.
pub fn is_safe_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && s.len() <= 2048
            && r.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '-' | '.' | '_' | '~' | ':' | '/' | '?' | '=' | '&' | '%' | '+'
                    )
            })
    })
}

/// Parses an IPv4 CIDR and returns it in canonical form; `None` if it is not one
/// or has host bits set.
pub fn parse_cidr(s: &str) -> Option<String> {
    let (addr, len) = s.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    if len.is_empty() || len.len() > 2 || !len.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let len: u32 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    if u32::from(addr) & !mask != 0 {
        return None;
    }
    Some(format!("{addr}/{len}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures() {
        assert_eq!(architecture_for("t3.micro"), "x86_64");
        assert_eq!(architecture_for("t4g.small"), "arm64");
        assert_eq!(architecture_for("m7gd.large"), "arm64");
        assert_eq!(architecture_for("c6gn.large"), "arm64");
        assert_eq!(architecture_for("a1.medium"), "arm64");
        assert_eq!(architecture_for("g5.xlarge"), "x86_64");
        assert_eq!(architecture_for("m5.large"), "x86_64");
    }

    #[test]
    fn names() {
        assert!(is_deployment_name("barista"));
        assert!(is_deployment_name("a-b-1"));
        assert!(is_deployment_name(&"a".repeat(28)));
        assert!(!is_deployment_name(&"a".repeat(29)));
        assert!(!is_deployment_name("-a"));
        assert!(!is_deployment_name("a-"));
        assert!(!is_deployment_name("a_b"));
        assert!(!is_deployment_name("a;rm"));
        assert!(!is_deployment_name("internal-x"));
        assert!(!is_deployment_name(""));
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            parse_cidr("203.0.113.7/32").as_deref(),
            Some("203.0.113.7/32")
        );
        assert_eq!(parse_cidr("10.0.0.0/8").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(parse_cidr("10.0.0.1/8"), None);
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("10.0.0.0"), None);
        assert_eq!(parse_cidr("10.0.0.0/+8"), None);
        assert_eq!(parse_cidr("::1/128"), None);
    }

    #[test]
    fn urls() {
        assert!(is_safe_url(
            "https://www.tooplate.com/zip-templates/2137_barista_cafe.zip"
        ));
        assert!(is_safe_url("http://127.0.0.1:8080/ip"));
        assert!(!is_safe_url("https://x/'$(reboot)'"));
        assert!(!is_safe_url("ftp://x"));
        assert!(!is_safe_url("https://"));
        assert!(!is_safe_url("https://a b"));
    }

    #[test]
    fn domain_names() {
        for ok in [
            "www.example.com",
            "example.co.uk",
            "a-b.x1.io",
            "xn--bcher-kva.example",
        ] {
            assert!(is_domain_name(ok), "{ok}");
        }
        let long = format!("{}.com", "a".repeat(64));
        for bad in [
            "example",
            "Example.com",
            "example.com.",
            "*.example.com",
            "-a.example.com",
            "a-.example.com",
            "a..com",
            "10.0.0.1",
            "a_b.example.com",
            long.as_str(),
        ] {
            assert!(!is_domain_name(bad), "{bad}");
        }
    }

    #[test]
    fn instance_types() {
        assert!(is_instance_type("t3.micro"));
        assert!(is_instance_type("m7g.large"));
        assert!(!is_instance_type("t3"));
        assert!(!is_instance_type("t3.micro;ls"));
        assert!(!is_instance_type("T3.micro"));
    }

    #[test]
    fn regions() {
        assert!(is_region("us-east-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("us-east"));
        assert!(!is_region("moon"));
    }

    #[test]
    fn place_counts_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(place(Path::new("f.toml"), text, 0), "f.toml:1:1");
        assert_eq!(place(Path::new("f.toml"), text, 11), "f.toml:2:6");
    }
}
