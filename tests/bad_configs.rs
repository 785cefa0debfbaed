//! Bad deploy.toml files: each is refused before any AWS call, with exit code 2
//! and a message naming the file, line and column and what is allowed; the
//! emulator is left empty.

mod common;

use common::*;

/// (what is wrong, the config, the line:col expected, a phrase of the message)
fn cases(ip: &str) -> Vec<(&'static str, String, &'static str, &'static str)> {
    let good = config_text("bad", ip, "");
    let with = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        good.replacen(from, to, 1)
    };
    vec![
        (
            "more extra rules than CloudFront's prefix list leaves room for",
            format!("{good}[[load_balancer.extra_ingress]]\nport = 8000\ncidr = \"10.0.0.0/8\"\n[[load_balancer.extra_ingress]]\nport = 8001\ncidr = \"10.0.0.0/8\"\n[[load_balancer.extra_ingress]]\nport = 8002\ncidr = \"10.0.0.0/8\"\n[[load_balancer.extra_ingress]]\nport = 8003\ncidr = \"10.0.0.0/8\"\n[[load_balancer.extra_ingress]]\nport = 8004\ncidr = \"10.0.0.0/8\"\n[[load_balancer.extra_ingress]]\nport = 8005\ncidr = \"10.0.0.0/8\"\n"),
            ":32:8",
            "at most 4 extra_ingress rules with [https] on",
        ),
        (
            "a listener port CloudFront cannot reach",
            format!("{good}[load_balancer]\nport = 81\n"),
            ":20:8",
            "CloudFront reaches a load balancer only on port 80, 443 or 1024-65535",
        ),
        (
            "unknown top-level key",
            format!("{good}colour = \"blue\"\n"),
            ":19:1",
            "unknown field `colour`",
        ),
        (
            "unknown key in a table",
            with("type = \"t3.micro\"", "type = \"t3.micro\"\nsize = 3"),
            ":13:1",
            "unknown field `size`, expected one of",
        ),
        (
            "name with an underscore",
            with("name = \"bad\"", "name = \"bad_name\""),
            ":1:8",
            "letters, digits and hyphens",
        ),
        (
            "name too long for the load balancer",
            with(
                "name = \"bad\"",
                "name = \"a-very-long-deployment-name-xyz\"",
            ),
            ":1:8",
            "1 to 28",
        ),
        (
            "name with a trailing hyphen",
            with("name = \"bad\"", "name = \"bad-\""),
            ":1:8",
            "ending with a letter or digit",
        ),
        (
            "a name that makes group names start with sg-",
            with("name = \"bad\"", "name = \"sg-web\""),
            ":1:8",
            "not starting with sg-",
        ),
        (
            "the tool's Name tag",
            with("Project = \"tests\"", "Name = \"mine\""),
            ":5:8",
            "not ManagedBy, Deployment, SitedeployTagKeys, Name, Role, SiteFingerprint",
        ),
        (
            "a tag key with a space (the record of the keys is space-separated)",
            with("Project = \"tests\"", "\"Cost Centre\" = \"x\""),
            ":5:17",
            "(no spaces)",
        ),
        (
            "the tool's record of the user tag keys",
            with("Project = \"tests\"", "SitedeployTagKeys = \"x\""),
            ":5:21",
            "this tool sets",
        ),
        (
            "the tool's Role tag",
            with("Project = \"tests\"", "Role = \"db\""),
            ":5:8",
            "this tool sets",
        ),
        (
            "the tool's fingerprint tag",
            with("Project = \"tests\"", "SiteFingerprint = \"x\""),
            ":5:19",
            "this tool sets",
        ),
        (
            "load balancer in one zone",
            format!("{good}[load_balancer]\nzones = 1\n"),
            ":",
            "allowed 2 to 6",
        ),
        (
            "shell in the slug",
            with("slug = \"barista_cafe\"", "slug = \"x'; rm -rf / #\""),
            ":9:8",
            "lowercase letters",
        ),
        (
            "template id out of range",
            with("id = 2137", "id = 0"),
            ":8:6",
            "allowed 1 to 99999",
        ),
        (
            "template id of the wrong type",
            with("id = 2137", "id = \"2137\""),
            ":8:6",
            "invalid type",
        ),
        (
            "command substitution in the url",
            with(
                "slug = \"barista_cafe\"",
                "slug = \"barista_cafe\"\nurl = \"https://x.example/$(reboot).zip\"",
            ),
            ":10:7",
            "an http:// or https:// URL",
        ),
        (
            "url that is not http",
            with(
                "slug = \"barista_cafe\"",
                "slug = \"barista_cafe\"\nurl = \"file:///etc/passwd\"",
            ),
            ":10:7",
            "an http:// or https:// URL",
        ),
        (
            "bad instance type",
            with("type = \"t3.micro\"", "type = \"t3 micro\""),
            ":12:8",
            "an EC2 instance type",
        ),
        (
            "user data outside userdata/",
            with(
                "type = \"t3.micro\"",
                "type = \"t3.micro\"\nuser_data = \"../etc/passwd\"",
            ),
            ":13:13",
            "under userdata/",
        ),
        (
            "user data file missing",
            with(
                "type = \"t3.micro\"",
                "type = \"t3.micro\"\nuser_data = \"userdata/nope.sh\"",
            ),
            ":13:13",
            "cannot read user-data template",
        ),
        (
            "root volume too small",
            with(
                "type = \"t3.micro\"",
                "type = \"t3.micro\"\nroot_volume_gb = 2",
            ),
            ":13:18",
            "allowed 8 to 1024",
        ),
        (
            "ssh cidr that is not a cidr",
            with(
                "ip_timeout_secs = 2",
                "ip_timeout_secs = 2\ncidr = \"my laptop\"",
            ),
            ":19:8",
            "an IPv4 CIDR",
        ),
        (
            "ssh open to the world",
            with(
                "ip_timeout_secs = 2",
                "ip_timeout_secs = 2\ncidr = \"0.0.0.0/0\"",
            ),
            ":19:8",
            "whole internet",
        ),
        (
            "ssh cidr with host bits",
            with(
                "ip_timeout_secs = 2",
                "ip_timeout_secs = 2\ncidr = \"203.0.113.7/24\"",
            ),
            ":19:8",
            "host bits zero",
        ),
        (
            "listener port out of range",
            format!("{good}[load_balancer]\nport = 70000\n"),
            ":20:8",
            "allowed 1 to 65535",
        ),
        (
            "health check path with a quote",
            format!("{good}[load_balancer]\nhealth_check_path = \"/'x\"\n"),
            ":20:21",
            "a path starting with /",
        ),
        (
            "https domain with capitals",
            format!("{good}[https]\ndomain = \"WWW.Example.com\"\n"),
            ":20:10",
            "a DNS name such as www.example.com",
        ),
        (
            "https domain as a wildcard",
            format!("{good}[https]\ndomain = \"*.example.com\"\n"),
            ":20:10",
            "no wildcard",
        ),
        (
            "https domain without https",
            format!("{good}[https]\nenabled = false\ndomain = \"www.example.com\"\n"),
            ":21:10",
            "needs [https] enabled = true",
        ),
        (
            "key name with a slash",
            with("key_name = \"bad-key\"", "key_name = \"../bad\""),
            ":15:12",
            "letters, digits and . _ -",
        ),
        (
            "reserved tag key",
            with("Project = \"tests\"", "ManagedBy = \"me\""),
            ":5:13",
            "this tool sets those",
        ),
        (
            "region that is not one",
            with("region = \"us-east-1\"", "region = \"moon\""),
            ":2:10",
            "an AWS region name",
        ),
        (
            "not TOML at all",
            "name = \n".to_string(),
            ":1:8",
            "string values must be quoted",
        ),
        (
            "missing required table",
            "name = \"bad\"\n[template]\nid = 1\nslug = \"x\"\n".to_string(),
            ":1:1",
            "missing field `ssh`",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_configs_are_refused_with_place_and_allowed_values() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let cases = cases(&ip.url());
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (what, text, place, phrase) in &cases {
        let d = Deployment::new(&moto.endpoint(), "bad", text);
        let r = d.deploy(&[]);
        let first = r
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        let ok = r.code == 2
            && first.contains(&format!("deploy.toml{place}"))
            && r.stderr.contains(phrase);
        if !ok {
            failures.push(format!(
                "{what}: exit {} (want 2), want deploy.toml{place} and {phrase:?} in:\n{}",
                r.code, r.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(
        aws.counts().await,
        (0, 0, 0, 0, 0),
        "a bad config created something"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let ip = "http://127.0.0.1:9/";
    let text = config_text("bad_name", ip, "")
        .replace("id = 2137", "id = -1")
        .replace("type = \"t3.micro\"", "type = \"T3\"");
    let d = Deployment::new("http://127.0.0.1:9", "multi", &text);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 2);
    for want in ["deploy.toml:1:8", "deploy.toml:8:6", "deploy.toml:12:8"] {
        assert!(r.stderr.contains(want), "missing {want} in\n{}", r.stderr);
    }
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let d = Deployment::new("http://127.0.0.1:9", "nofile", "");
    std::fs::remove_file(d.dir.join("deploy.toml")).unwrap();
    let r = d.deploy(&[]);
    assert_eq!(r.code, 2);
    // Not a bare "No such file or directory": where it looked, and the ways on.
    for part in [
        "deploy.toml not found in ",
        "pass --config PATH",
        "--region R --name N",
        "status --all-regions",
    ] {
        assert!(r.stderr.contains(part), "{part:?} not in {}", r.stderr);
    }
    assert!(!r.stderr.contains("os error"), "{}", r.stderr);
}

#[test]
fn an_unknown_key_does_not_hide_the_other_problems() {
    let ip = "http://127.0.0.1:9/";
    let text = config_text("bad_name", ip, "")
        .replace("id = 2137", "id = -1\ncolour = \"blue\"")
        .replace("type = \"t3.micro\"", "type = \"T3\"\nsize = 3")
        + "\n[extras]\nfoo = 1\nbar = [1,\n 2]\n";
    let d = Deployment::new("http://127.0.0.1:9", "unknowns", &text);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let unknown = r
        .stderr
        .lines()
        .filter(|l| l.contains("unknown field"))
        .map(|l| {
            l.split(": unknown")
                .next()
                .unwrap()
                .trim_start_matches("error: ")
        })
        .collect::<Vec<_>>();
    assert_eq!(
        unknown,
        ["deploy.toml:9:1", "deploy.toml:14:1", "deploy.toml:22:2"],
        "in the order of the file"
    );
    for want in [
        // the unknown keys, each at its place
        "deploy.toml:9:1: unknown field `colour`",
        "deploy.toml:14:1: unknown field `size`",
        "deploy.toml:22:2: unknown field `extras`",
        // and the problems of known keys, as before
        "deploy.toml:1:8",
        "deploy.toml:8:6",
        "deploy.toml:13:8",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?} in\n{}", r.stderr);
    }
}

/// A bad site folder (or a config naming both or neither) is refused before
/// any AWS call, with exit 2 and what to do; nothing is created (no bucket,
/// no instance profile either).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn bad_site_folders_are_refused_before_anything_is_made() {
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let folder = with_site(&config_text("bad", &ip.url(), ""));
    let good_site = |d: &Deployment| {
        std::fs::create_dir_all(d.dir.join("site/css")).unwrap();
        std::fs::write(d.dir.join("site/index.html"), "<h1>mine</h1>").unwrap();
        std::fs::write(d.dir.join("site/css/site.css"), "h1 {}").unwrap();
    };
    type Setup = Box<dyn Fn(&Deployment)>;
    let mut cases: Vec<(&str, String, Setup, &str)> = vec![
        (
            "no folder",
            folder.clone(),
            Box::new(|_| {}),
            "does not exist",
        ),
        (
            "no index.html",
            folder.clone(),
            Box::new(move |d| {
                good_site(d);
                std::fs::remove_file(d.dir.join("site/index.html")).unwrap();
            }),
            "has no index.html",
        ),
        (
            "a link out of the folder",
            folder.clone(),
            Box::new(move |d| {
                good_site(d);
                symlink(d.dir.join("deploy.toml"), d.dir.join("site/config.txt")).unwrap();
            }),
            "outside the folder",
        ),
        (
            "a broken link",
            folder.clone(),
            Box::new(move |d| {
                good_site(d);
                symlink(d.dir.join("site/gone.html"), d.dir.join("site/old.html")).unwrap();
            }),
            "is a broken link",
        ),
        (
            "over the size limit",
            folder.clone(),
            Box::new(move |d| {
                good_site(d);
                let f = std::fs::File::create(d.dir.join("site/video.mp4")).unwrap();
                f.set_len(50 * 1024 * 1024 + 1).unwrap();
            }),
            "over 50 MiB",
        ),
        (
            "a template and a folder",
            format!(
                "{}[site]\ndir = \"site\"\n",
                config_text("bad", &ip.url(), "")
            ),
            Box::new(move |d| good_site(d)),
            "[template] and [site] are both set",
        ),
        (
            "neither a template nor a folder",
            folder.replace("[site]\ndir = \"site\"\n", ""),
            Box::new(|_| {}),
            "name what to serve",
        ),
    ];
    // Root reads any file whatever its mode: the case needs another user.
    let probe = std::env::temp_dir().join(format!("sd-euid-{}", std::process::id()));
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(&probe).unwrap();
    if !root {
        cases.push((
            "an unreadable file",
            folder.clone(),
            Box::new(move |d| {
                good_site(d);
                let f = d.dir.join("site/css/site.css");
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
            }),
            "cannot read",
        ));
    }
    let mut failures = Vec::new();
    for (what, text, setup, phrase) in &cases {
        let d = Deployment::new(&moto.endpoint(), "bad", text);
        setup(&d);
        let r = d.deploy(&[]);
        if r.code != 2 || !r.stderr.contains(phrase) || !r.stderr.contains("deploy.toml:") {
            failures.push(format!(
                "{what}: exit {} (want 2), want deploy.toml:LINE:COL and {phrase:?} in:\n{}",
                r.code, r.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The template's script with a folder would serve no folder (the
    // shipped deploy.toml once named it): refused, with the fix.
    let d = Deployment::new(
        &moto.endpoint(),
        "bad",
        &folder.replace(
            "type = \"t3.micro\"",
            "type = \"t3.micro\"\nuser_data = \"userdata/install-template.sh\"",
        ),
    );
    good_site(&d);
    let r = d.deploy(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not use {{site_key}}")
            && r.stderr.contains("leave instance.user_data out"),
        "{}",
        r.stderr
    );
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    assert!(aws.no_buckets().await);
    assert!(!aws.instance_profile_exists("bad").await);
}
