//! Test harness: a moto_server per test on a free loopback port, the
//! fault/timing proxy in front of it, a local public-IP service, a scratch
//! deployment directory, the real binaries, and SDK clients that describe the
//! emulator directly (the tests never trust the tool's own output for state).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};

pub const REGION: &str = "us-east-1";
/// The address the local public-IP service answers.
pub const MY_IP: &str = "203.0.113.7";

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn moto_server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = manifest_dir().join(".venv/bin/moto_server");
    assert!(
        venv.exists(),
        "moto_server not found at {}: run the test command from README.md \
         (./tests/run.sh), which installs it, or set MOTO_SERVER",
        venv.display()
    );
    venv
}

pub fn python() -> PathBuf {
    let venv = manifest_dir().join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Kills the child when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A moto server on a free loopback port, with the AWS-behaviour proxy in
/// front of it in its default setting (the always-on differences from AWS:
/// idempotent creates, AWS's key fingerprints). `endpoint()` is the proxy's;
/// tests that want faults or timing start their own [`Proxy`] on `raw_endpoint()`.
pub struct Moto {
    _child: Guard,
    pub port: u16,
    front: Option<Proxy>,
}

impl Moto {
    pub fn start() -> Moto {
        for _ in 0..5 {
            let port = free_port();
            // moto_server, through tests/support/moto_aws.py (AWS's zone
            // balancing of Auto Scaling groups), unless MOTO_SERVER names one.
            let mut cmd = match std::env::var("MOTO_SERVER") {
                Ok(p) => Command::new(p),
                Err(_) => {
                    let _ = moto_server_bin();
                    let mut c = Command::new(python());
                    c.arg(manifest_dir().join("tests/support/moto_aws.py"));
                    c
                }
            };
            let child = cmd
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("failed to start moto_server");
            let guard = Guard(child);
            if wait_http(port, "/moto-api/", Duration::from_secs(30)) {
                let mut moto = Moto {
                    _child: guard,
                    port,
                    front: None,
                };
                // Deregistered targets drain for 1 s here (AWS: the target
                // group's delay, 15 s for this tool's), to keep the suite fast.
                moto.front = Some(Proxy::start(&moto, r#"{"deregistration_delay_s": 1}"#));
                return moto;
            }
        }
        panic!("moto_server did not start");
    }

    /// The endpoint the tool and the tests use: moto behind the default proxy.
    pub fn endpoint(&self) -> String {
        match &self.front {
            Some(p) => p.endpoint(),
            None => self.raw_endpoint(),
        }
    }

    /// moto itself.
    pub fn raw_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn wait_http(port: u16, path: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            if s.write_all(req.as_bytes()).is_ok() {
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.") && buf.contains(" 200") {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The fault- and timing-injecting proxy (tests/support/awsproxy.py).
pub struct Proxy {
    _child: Guard,
    pub port: u16,
}

impl Proxy {
    pub fn start(upstream: &Moto, config_json: &str) -> Proxy {
        let mut child = Command::new(python())
            .arg(manifest_dir().join("tests/support/awsproxy.py"))
            .args([
                "--upstream",
                &upstream.raw_endpoint(),
                "--config",
                config_json,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("failed to start the proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("proxy said {line:?}"));
        Proxy {
            _child: Guard(child),
            port,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests per action and injected faults since start or the last reset.
    pub fn stats(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"GET /__proxy/stats HTTP/1.0\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        let body = buf.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(body).unwrap()
    }

    pub fn reset(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"POST /__proxy/reset HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
    }
}

/// A one-answer HTTP server standing in for the public-IP service.
pub struct IpService {
    pub port: u16,
}

impl IpService {
    pub fn start(answer: &'static str) -> IpService {
        IpService::with_status(200, answer)
    }

    /// A server answering every request with `status` and `answer`.
    pub fn with_status(status: u16, answer: &'static str) -> IpService {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                let resp = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = s.write_all(resp.as_bytes());
            }
        });
        IpService { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory with a deploy.toml and the userdata/ templates.
pub struct Deployment {
    pub dir: PathBuf,
    pub name: String,
    pub endpoint: String,
    /// Whether dropping this value removes the directory (not for handles).
    owned: bool,
}

/// A config for deployment `name`; `ip_url` is the public-IP service and
/// `extra` is appended (more keys, tables).
pub fn config_text(name: &str, ip_url: &str, extra: &str) -> String {
    format!(
        r#"name = "{name}"
region = "{REGION}"

[tags]
Project = "tests"

[template]
id = 2137
slug = "barista_cafe"

[instance]
type = "t3.micro"

[ssh]
key_name = "{name}-key"
ip_service_url = "{ip_url}"
ip_fallback_url = "{ip_url}"
ip_timeout_secs = 2
{extra}"#
    )
}

/// The `[template]` table of [`config_text`].
#[allow(dead_code)]
pub const TEMPLATE_TABLE: &str = "[template]\nid = 2137\nslug = \"barista_cafe\"\n";

/// The web servers' role's and instance profile's name of deployment `name`
/// in the tests' region (`[site]`).
#[allow(dead_code)]
pub fn profile_name(name: &str) -> String {
    format!("sitedeploy-site-{REGION}-{name}")
}

/// `config` (from [`config_text`]) serving the folder `site` (`[site]`) in
/// place of the template.
#[allow(dead_code)]
pub fn with_site(config: &str) -> String {
    assert!(config.contains(TEMPLATE_TABLE), "{config}");
    config.replace(TEMPLATE_TABLE, "[site]\ndir = \"site\"\n")
}

impl Deployment {
    /// The default test config for `name`, with `ip` as its public-IP service.
    pub fn simple(endpoint: &str, name: &str, ip: &IpService) -> Deployment {
        Deployment::new(endpoint, name, &config_text(name, &ip.url(), ""))
    }

    pub fn new(endpoint: &str, name: &str, config: &str) -> Deployment {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir()
            .join("sitedeploy-tests")
            .join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("userdata")).unwrap();
        for script in ["install-template.sh", "install-site.sh"] {
            std::fs::copy(
                manifest_dir().join("userdata").join(script),
                dir.join("userdata").join(script),
            )
            .unwrap();
        }
        std::fs::write(dir.join("deploy.toml"), config).unwrap();
        // Empty AWS config files: no profile of the machine leaks into a test.
        std::fs::write(dir.join("no-aws-config"), "").unwrap();
        std::fs::write(dir.join("no-aws-credentials"), "").unwrap();
        Deployment {
            dir,
            name: name.to_string(),
            endpoint: endpoint.to_string(),
            owned: true,
        }
    }

    /// The same deployment, for another thread; dropping it removes nothing.
    #[allow(dead_code)]
    pub fn clone_handle(&self) -> Deployment {
        Deployment {
            dir: self.dir.clone(),
            name: self.name.clone(),
            endpoint: self.endpoint.clone(),
            owned: false,
        }
    }

    pub fn pem(&self) -> PathBuf {
        self.dir.join(format!("{}-key.pem", self.name))
    }

    fn command(&self, bin: &str, args: &[&str]) -> Command {
        let mut c = self.env_command(bin);
        c.args(["--config", "deploy.toml"]).args(args);
        c
    }

    /// `program` in the deployment's directory with the test environment:
    /// the emulator's endpoint, dummy credentials, no site check, no AWS config.
    pub fn env_command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret-key-value")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // No test reaches the internet: the site check (a DNS look-up of the
            // load balancer's name) runs only where a test points it at a local server.
            .env("SITEDEPLOY_NO_SITE_CHECK", "true")
            // Nor does the template check (a GET of tooplate.com's zip): the
            // tests of it give a local URL and unset this.
            .env("SITEDEPLOY_NO_TEMPLATE_CHECK", "true")
            .env("AWS_CONFIG_FILE", self.dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.join("no-aws-credentials"),
            )
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, bin: &str, args: &[&str]) -> Run {
        let out = self
            .command(bin, args)
            .output()
            .expect("failed to run binary");
        Run::from(out)
    }

    /// Runs a binary with extra environment variables (overriding the defaults;
    /// an empty value removes the variable).
    pub fn run_env(&self, bin: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(bin, args);
        for (k, v) in env {
            if v.is_empty() {
                c.env_remove(k);
            } else {
                c.env(k, v);
            }
        }
        Run::from(c.output().expect("failed to run binary"))
    }

    pub fn deploy(&self, args: &[&str]) -> Run {
        self.run(env!("CARGO_BIN_EXE_deploy"), args)
    }

    pub fn cleanup(&self, args: &[&str]) -> Run {
        self.run(env!("CARGO_BIN_EXE_cleanup"), args)
    }

    pub fn spawn_deploy(&self, args: &[&str]) -> Child {
        self.spawn(env!("CARGO_BIN_EXE_deploy"), args)
    }

    pub fn spawn(&self, bin: &str, args: &[&str]) -> Child {
        self.command(bin, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        // The .pem is read-only; remove_dir_all copes with that on Unix.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// tests/support/fakesite.py: the web servers behind the load balancer, as
/// their own boot script (user data) would set them up; `mode` is installed,
/// fallback, none, apache or stale.
pub struct FakeSite {
    _child: Guard,
    pub port: u16,
    /// CloudFront's edge (TLS, *.cloudfront.net).
    pub edge_port: u16,
    /// The CA that signed the edge's certificate (the tool's SSL_CERT_FILE).
    pub ca: PathBuf,
}

impl FakeSite {
    pub fn start(moto: &Moto, mode: &str, fail_template: Option<&str>) -> FakeSite {
        let mut c = Command::new(python());
        c.arg(manifest_dir().join("tests/support/fakesite.py"))
            .args(["--endpoint", &moto.endpoint(), "--mode", mode]);
        if let Some(t) = fail_template {
            c.args(["--fail-template", t]);
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("failed to start fakesite.py");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut said = |prefix: &str| {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            line.trim()
                .strip_prefix(prefix)
                .map(str::to_string)
                .unwrap_or_else(|| panic!("fakesite said {line:?}, not {prefix}"))
        };
        let port = said("PORT ").parse().unwrap();
        let edge_port = said("EDGE ").parse().unwrap();
        let ca = PathBuf::from(said("CA "));
        FakeSite {
            _child: Guard(child),
            port,
            edge_port,
            ca,
        }
    }

    /// `--site-address` for deploy: CloudFront's edge (the site's URL is the
    /// distribution's).
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.edge_port)
    }

    /// The load balancer itself.
    #[allow(dead_code)]
    pub fn lb_address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The environment the tool needs to trust the edge's certificate.
    pub fn tls_env(&self) -> (&'static str, String) {
        ("SSL_CERT_FILE", self.ca.display().to_string())
    }
}

/// GET `https://{host}/` through CloudFront's edge stand-in, trusting only
/// the test CA: (status, body), or the error (a certificate that does not
/// cover `host`).
pub async fn through_edge(site: &FakeSite, host: &str) -> Result<(u16, String), String> {
    let ca = std::fs::read(&site.ca).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .resolve(host, site.address().parse().unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("https://{host}/"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = r.status().as_u16();
    Ok((status, r.text().await.unwrap_or_default()))
}

/// A finished run of a binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "exit code {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The command's `--json` output, checked against schema/output.schema.json
    /// (every JSON a test reads is validated).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let v = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        });
        assert_valid_json(&self.stdout);
        v
    }
}

/// Validates one `--json` output against schema/output.schema.json
/// (tests/support/check_json.py).
#[track_caller]
pub fn assert_valid_json(text: &str) {
    let mut child = Command::new(python())
        .arg(manifest_dir().join("tests/support/check_json.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to run check_json.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "output does not follow schema/output.schema.json:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SDK clients pointed straight at the emulator.
pub struct Aws {
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub scheduler: aws_sdk_scheduler::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub acm: aws_sdk_acm::Client,
    pub route53: aws_sdk_route53::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Aws {
    pub async fn new(endpoint: &str) -> Aws {
        Aws::in_region(endpoint, REGION).await
    }

    /// Clients of the emulator in `region`.
    pub async fn in_region(endpoint: &str, region: &str) -> Aws {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await;
        Aws {
            ec2: aws_sdk_ec2::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            asg: aws_sdk_autoscaling::Client::new(&conf),
            scheduler: aws_sdk_scheduler::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            cloudfront: aws_sdk_cloudfront::Client::new(&conf),
            acm: aws_sdk_acm::Client::from_conf(
                aws_sdk_acm::config::Builder::from(&conf)
                    .region(Region::new("us-east-1"))
                    .build(),
            ),
            route53: aws_sdk_route53::Client::new(&conf),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&conf)
                    .force_path_style(true)
                    .build(),
            ),
        }
    }

    /// Whether the web servers' instance profile of deployment `name` (in
    /// the tests' region) exists.
    #[allow(dead_code)]
    pub async fn instance_profile_exists(&self, name: &str) -> bool {
        self.iam
            .get_instance_profile()
            .instance_profile_name(profile_name(name))
            .send()
            .await
            .is_ok()
    }

    /// Whether the account has no S3 bucket.
    #[allow(dead_code)]
    pub async fn no_buckets(&self) -> bool {
        let out = self.s3.list_buckets().send().await.unwrap();
        out.buckets().is_empty()
    }

    /// A public hosted zone `name` (the learner's own); its id.
    #[allow(dead_code)]
    pub async fn hosted_zone(&self, name: &str) -> String {
        let out = self
            .route53
            .create_hosted_zone()
            .name(name)
            .caller_reference(format!("tests-{name}"))
            .send()
            .await
            .unwrap();
        let id = out.hosted_zone().unwrap().id();
        id.trim_start_matches("/hostedzone/").to_string()
    }

    /// The record sets of zone `id`: (name, type, alias target or values).
    #[allow(dead_code)]
    pub async fn records(&self, id: &str) -> Vec<(String, String, String)> {
        let out = self
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(id)
            .send()
            .await
            .unwrap();
        out.resource_record_sets()
            .iter()
            .map(|r| {
                let to = match r.alias_target() {
                    Some(a) => format!("alias {} {}", a.hosted_zone_id(), a.dns_name()),
                    None => r
                        .resource_records()
                        .iter()
                        .map(|v| v.value().to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                (r.name().to_string(), r.r#type().as_str().to_string(), to)
            })
            .collect()
    }

    /// Asserts that zone `id` holds only its own NS and SOA records (nothing
    /// this tool wrote is left).
    #[allow(dead_code)]
    pub async fn assert_zone_bare(&self, id: &str) {
        let left = self.records(id).await;
        assert!(
            left.iter().all(|(_, t, _)| t == "NS" || t == "SOA"),
            "{left:?}"
        );
    }

    /// The ACM certificates in us-east-1: (ARN, domain, status).
    #[allow(dead_code)]
    pub async fn certificates(&self) -> Vec<(String, String, String)> {
        let out = self.acm.list_certificates().send().await.unwrap();
        out.certificate_summary_list()
            .iter()
            .map(|c| {
                (
                    c.certificate_arn().unwrap_or_default().to_string(),
                    c.domain_name().unwrap_or_default().to_string(),
                    c.status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Instances not terminated.
    pub async fn live_instances(&self) -> Vec<aws_sdk_ec2::types::Instance> {
        let out = self.ec2.describe_instances().send().await.unwrap();
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated"))
            .cloned()
            .collect()
    }

    /// Security groups other than the VPCs' default groups.
    pub async fn groups(&self) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
        let out = self.ec2.describe_security_groups().send().await.unwrap();
        out.security_groups()
            .iter()
            .filter(|g| g.group_name() != Some("default"))
            .cloned()
            .collect()
    }

    pub async fn key_pairs(&self) -> Vec<aws_sdk_ec2::types::KeyPairInfo> {
        self.ec2
            .describe_key_pairs()
            .send()
            .await
            .unwrap()
            .key_pairs()
            .to_vec()
    }

    pub async fn load_balancers(&self) -> Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer> {
        self.elb
            .describe_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .to_vec()
    }

    pub async fn target_groups(&self) -> Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup> {
        self.elb
            .describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .to_vec()
    }

    pub async fn listeners(
        &self,
        lb_arn: &str,
    ) -> Vec<aws_sdk_elasticloadbalancingv2::types::Listener> {
        self.elb
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .send()
            .await
            .unwrap()
            .listeners()
            .to_vec()
    }

    /// Counts of (live instances, non-default groups, key pairs, load balancers,
    /// target groups).
    pub async fn counts(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.live_instances().await.len(),
            self.groups().await.len(),
            self.key_pairs().await.len(),
            self.load_balancers().await.len(),
            self.target_groups().await.len(),
        )
    }
}

/// Whether a path exists (without following a symlink).
pub fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// Runs the repository's Python script `rel` (with the test virtual
/// environment's Python) with `args`: its exit code and output.
#[allow(dead_code)]
pub fn script<S: AsRef<std::ffi::OsStr>>(rel: &str, args: &[S]) -> Run {
    let out = Command::new(python())
        .arg(manifest_dir().join(rel))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {rel}: {e}"));
    Run::from(out)
}

/// Runs tests/support/iam_user.py against moto itself (its IAM enforcement on
/// with a user holding config/iam-policy.json's actions, or `--off`).
#[allow(dead_code)]
pub fn iam_user(moto: &Moto, args: &[&str]) -> String {
    let mut all = vec!["--endpoint".to_string(), moto.raw_endpoint()];
    all.extend(args.iter().map(|a| a.to_string()));
    script("tests/support/iam_user.py", &all).ok().stdout
}

/// moto's IAM enforcement on, a learner's user holding the repo's policy, and a
/// proxy that evaluates the whole policy as AWS would and re-signs for moto.
/// Returns the proxy and the user's `(access key, secret key)`.
#[allow(dead_code)]
pub fn policy_user(moto: &Moto) -> (Proxy, String, String) {
    let path = manifest_dir().join("config/iam-policy.json");
    let policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let keys: serde_json::Value =
        serde_json::from_str(&iam_user(moto, &["--policy", path.to_str().unwrap()])).unwrap();
    let ak = keys["access_key"].as_str().unwrap().to_string();
    let sk = keys["secret_key"].as_str().unwrap().to_string();
    let config = serde_json::json!({ "iam_policy": policy, "resign": keys }).to_string();
    (Proxy::start(moto, &config), ak, sk)
}

/// Runs tests/support/iam_eval.py's mutation check of config/iam-policy.json
/// against the authorization checks a proxy recorded (`stats["authorized"]`):
/// every misspelling of every condition key must be caught, by the policy's
/// validation or by a recorded request whose decision it changes.
#[allow(dead_code)]
pub fn assert_every_condition_exercised(stats: &serde_json::Value) {
    let authorized = stats["authorized"]
        .as_array()
        .expect("no authorized checks");
    assert!(!authorized.is_empty(), "the proxy recorded no checks");
    let file = std::env::temp_dir().join(format!(
        "sd-authorized-{}-{}.json",
        std::process::id(),
        authorized.len()
    ));
    std::fs::write(&file, serde_json::to_string(authorized).unwrap()).unwrap();
    let policy = manifest_dir().join("config/iam-policy.json");
    let args = [
        std::ffi::OsStr::new("mutations"),
        policy.as_os_str(),
        std::ffi::OsStr::new("--recorded"),
        file.as_os_str(),
    ];
    let r = script("tests/support/iam_eval.py", &args).ok();
    assert!(r.stdout.contains("all caught"), "{}", r.stdout);
}

/// moto's IAM enforcement on again (after `iam_user(moto, &["--off"])`).
#[allow(dead_code)]
pub fn iam_user_on(moto: &Moto) {
    iam_user(moto, &["--on"]);
}

/// A stand-in for tooplate.com that answers every request with `status`
/// and `body`; the URL of template 2137's zip there.
#[allow(dead_code)]
pub fn serve(status: u16, body: Vec<u8>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://127.0.0.1:{port}/2137_barista_cafe.zip")
}

/// A small template zip made as tooplate's are: one top folder.
#[allow(dead_code)]
pub fn template_zip() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in [
        ("2137_barista_cafe/index.html", "<h1>Barista</h1>"),
        ("2137_barista_cafe/css/style.css", "h1 {}"),
    ] {
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}
