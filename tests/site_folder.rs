//! `[site] dir`: a folder of one's own, packed, uploaded to this tool's private
//! bucket and fetched by each web server at boot with its instance profile
//! (tests/support/fakesite.py runs the real boot script; its `aws` stands in
//! for the AWS CLI, reading from the emulator as the instance's role may).
//! Deployed, re-deployed unchanged, changed, rolled back, switched to a
//! template and back, run as a group of three, and cleaned up.

mod common;

use common::*;

const CHECK: (&str, &str) = ("SITEDEPLOY_NO_SITE_CHECK", "false");
const BUCKET: &str = "sitedeploy-123456789012-us-east-1";

/// The test config with `[site] dir = "site"` in place of the template.
fn folder_config(name: &str, ip: &IpService, extra: &str) -> String {
    with_site(&config_text(name, &ip.url(), extra))
}

/// Writes the site folder: an index page saying `words`, and a stylesheet.
fn write_site(d: &Deployment, words: &str) {
    let dir = d.dir.join("site");
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        format!("<!doctype html><title>mine</title><h1>{words}</h1>\n"),
    )
    .unwrap();
    std::fs::write(dir.join("css/site.css"), "h1 { color: teal }\n").unwrap();
}

fn deploy(d: &Deployment, site: &FakeSite, extra: &[&str]) -> Run {
    let (k, v) = site.tls_env();
    let mut args = vec!["--json", "--site-address", site.address().leak()];
    args.extend_from_slice(extra);
    d.run_env(env!("CARGO_BIN_EXE_deploy"), &args, &[CHECK, (k, v.leak())])
}

/// The site's host name from deploy's JSON.
fn host(j: &serde_json::Value) -> String {
    let url = j["url"].as_str().unwrap().to_string();
    url.trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string()
}

/// The keys under `prefix` in the content bucket (none when it is gone).
async fn objects(aws: &Aws, prefix: &str) -> Vec<String> {
    let Ok(out) = aws
        .s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .send()
        .await
    else {
        return Vec::new();
    };
    out.contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect()
}

fn count(proxy: &Proxy, action: &str) -> u64 {
    proxy.stats()["actions"][action].as_u64().unwrap_or(0)
}

async fn bucket_exists(aws: &Aws) -> bool {
    aws.s3.head_bucket().bucket(BUCKET).send().await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_goes_online_changes_are_rolled_out_and_cleanup_leaves_nothing() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto, "{}");
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let site = FakeSite::start(&moto, "installed", None);
    let d = Deployment::new(&proxy.endpoint(), "mine", &folder_config("mine", &ip, ""));
    write_site(&d, "Hello from my folder, v1");

    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // TECHNICAL.md's figures for a folder deploy: the calls, and the upload.
    let calls: u64 = proxy.stats()["actions"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    let upload = r
        .stderr
        .lines()
        .find(|l| l.contains("site content: created"));
    eprintln!(
        "folder deploy: {calls} calls; {}",
        upload.unwrap_or("no upload line")
    );
    assert!(upload.is_some(), "{}", r.stderr);
    let j = r.json();
    let host = host(&j);
    let (status, body) = through_edge(&site, &host).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Hello from my folder, v1"), "{body}");
    // The expiry leaves the content and the profile: the summary says so.
    let left = j["left_after_expiry"].as_str().unwrap();
    assert!(
        left.contains(&format!("s3://{BUCKET}/mine/")) && left.contains(&profile_name("mine")),
        "{left}"
    );
    assert!(
        j["site"]["live_template"]
            .as_str()
            .unwrap()
            .starts_with("site-"),
        "{j}"
    );

    // The bucket: private, encrypted, old content expired by a rule, ours.
    let bpa = aws
        .s3
        .get_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let c = bpa.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            c.block_public_acls(),
            c.ignore_public_acls(),
            c.block_public_policy(),
            c.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let enc = aws
        .s3
        .get_bucket_encryption()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lc = aws
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let expire = lc
        .rules()
        .iter()
        .find(|r| r.expiration().and_then(|e| e.days()) == Some(1))
        .expect("a rule expiring retired content");
    assert_eq!(expire.filter().unwrap().prefix(), Some("_retired/"));
    let tags = aws
        .s3
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "ManagedBy" && t.value() == "sitedeploy"));
    let first = objects(&aws, "mine/").await;
    assert_eq!(first.len(), 2, "the content and its manifest: {first:?}");
    let first_key = first
        .iter()
        .find(|k| k.ends_with(".tar.gz"))
        .unwrap()
        .clone();

    // The web server boots with the profile; its role reads this
    // deployment's objects only; the user data holds no credential.
    let inst = &aws.live_instances().await[0];
    let profile_arn = inst.iam_instance_profile().unwrap().arn().unwrap();
    assert!(
        profile_arn.ends_with(&format!("/{}", profile_name("mine"))),
        "{profile_arn}"
    );
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(profile_name("mine"))
        .policy_name("read-site-content")
        .send()
        .await
        .unwrap();
    let doc = policy.policy_document();
    let only_ours = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadThisDeploymentsContent",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{BUCKET}/mine/*"),
        }]
    });
    assert!(
        sitedeploy::resources::role::same_policy(doc, &only_ours.to_string()),
        "{doc}"
    );
    let first_id = inst.instance_id().unwrap().to_string();

    // status, here and in every region, shows the bucket and the profile.
    let kinds = |rows: &serde_json::Value| -> Vec<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let st = d.run(env!("CARGO_BIN_EXE_status"), &["--json"]).ok().json();
    let here = kinds(&st["resources"]);
    assert!(
        here.contains(&"bucket".to_string()) && here.contains(&"instance profile".to_string()),
        "{st}"
    );
    let mut all = d.env_command(env!("CARGO_BIN_EXE_status"));
    all.args(["--all-regions", "--json"]);
    let all = Run::from(all.output().unwrap()).ok().json();
    let there = kinds(&all["deployments"][0]["resources"]);
    assert_eq!(here, there, "{all}");

    // Again with nothing changed: no upload, no launch.
    proxy.reset();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count(&proxy, "PutObject"), 0);
    assert_eq!(count(&proxy, "RunInstances"), 0);
    assert_eq!(count(&proxy, "CreateRole"), 0);

    // One file changed: --plan names it; a new server is proven, the old
    // one retired, the URL unchanged, the earlier content retired.
    std::fs::write(
        d.dir.join("site/index.html"),
        "<!doctype html><title>mine</title><h1>Hello from my folder, v2</h1>\n",
    )
    .unwrap();
    let plan = d.deploy(&["--plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(plan.stdout.contains("replace"), "{}", plan.stdout);
    assert!(plan.stdout.contains("index.html"), "{}", plan.stdout);
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j2 = r.json();
    assert_eq!(self::host(&j2), host);
    let (_, body) = through_edge(&site, &host).await.unwrap();
    assert!(body.contains("Hello from my folder, v2"), "{body}");
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 1);
    assert_ne!(live[0].instance_id().unwrap(), first_id);
    // The earlier content moved to retired/ (the lifecycle rule's), the
    // new one live.
    let now = objects(&aws, "mine/").await;
    assert_eq!(
        now.len(),
        2,
        "only the live content and its manifest: {now:?}"
    );
    assert!(!now.contains(&first_key), "{now:?}");
    let retired = objects(&aws, "_retired/mine/").await;
    assert_eq!(retired.len(), 2, "{retired:?}");
    assert!(
        retired.contains(&format!("_retired/{first_key}")),
        "{retired:?}"
    );
    // Again unchanged: nothing moved, uploaded or launched.
    proxy.reset();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for action in ["PutObject", "CopyObject", "DeleteObjects", "RunInstances"] {
        assert_eq!(count(&proxy, action), 0, "{action}");
    }
    // Back to the first content: uploaded again (it was retired), served.
    std::fs::write(
        d.dir.join("site/index.html"),
        "<!doctype html><title>mine</title><h1>Hello from my folder, v1</h1>\n",
    )
    .unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, body) = through_edge(&site, &host).await.unwrap();
    assert!(body.contains("Hello from my folder, v1"), "{body}");
    assert!(objects(&aws, "mine/").await.contains(&first_key));

    // Cleanup: the content, the bucket (no other deployment uses it), the
    // profile and its role go with the rest.
    let r = d.cleanup(&["--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!bucket_exists(&aws).await);
    assert!(!aws.instance_profile_exists("mine").await);
    assert!(aws
        .iam
        .get_role()
        .role_name(profile_name("mine"))
        .send()
        .await
        .is_err());
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
    // Twice: nothing to do, nothing fails.
    assert_eq!(d.cleanup(&["--yes"]).code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_that_cannot_be_installed_is_rolled_back() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let d = Deployment::new(&moto.endpoint(), "undo", &folder_config("undo", &ip, ""));
    write_site(&d, "good");
    // The next content is one the web servers cannot fetch.
    std::fs::write(d.dir.join("site/index.html"), "<h1>bad</h1>\n").unwrap();
    let bad = sitedeploy::sitedir::pack(&d.dir.join("site")).unwrap();
    write_site(&d, "good");
    let bad_name = format!("site-{}", &bad.hash[..12]);
    let site = FakeSite::start(&moto, "installed", Some(&bad_name));
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let host = host(&r.json());
    let first = aws.live_instances().await[0]
        .instance_id()
        .unwrap()
        .to_string();

    std::fs::write(d.dir.join("site/index.html"), "<h1>bad</h1>\n").unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("could not be fetched"), "{}", r.stderr);
    let live = aws.live_instances().await;
    assert_eq!(live.len(), 1, "the new server is undone");
    assert_eq!(live[0].instance_id().unwrap(), first);
    let (_, body) = through_edge(&site, &host).await.unwrap();
    assert!(body.contains("good"), "{body}");
    // Cleanup from another machine: no deploy.toml, no folder, the name.
    let elsewhere = Deployment::new(&moto.endpoint(), "undo", "");
    std::fs::remove_file(elsewhere.dir.join("deploy.toml")).unwrap();
    let mut c = elsewhere.env_command(env!("CARGO_BIN_EXE_cleanup"));
    c.args(["--region", REGION, "--name", "undo", "--yes"]);
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!bucket_exists(&aws).await);
    assert!(!aws.instance_profile_exists("undo").await);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn template_to_folder_and_back_and_a_group_of_three_with_a_folder() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let aws = Aws::new(&moto.endpoint()).await;
    let site = FakeSite::start(&moto, "installed", None);
    let template = config_text("swap", &ip.url(), "");
    let d = Deployment::new(&moto.endpoint(), "swap", &template);
    write_site(&d, "my own page");

    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!aws.instance_profile_exists("swap").await);
    // A template leaves nothing that costs after the expiry.
    assert_eq!(r.json()["left_after_expiry"], "");
    let host = host(&r.json());

    // To the folder.
    std::fs::write(d.dir.join("deploy.toml"), folder_config("swap", &ip, "")).unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, body) = through_edge(&site, &host).await.unwrap();
    assert!(body.contains("my own page"), "{body}");
    assert!(aws.instance_profile_exists("swap").await);

    // Back to the template: the profile and the content go once the
    // template's server serves.
    std::fs::write(d.dir.join("deploy.toml"), &template).unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["site"]["live_template"], "2137_barista_cafe");
    assert!(!aws.instance_profile_exists("swap").await);
    assert!(objects(&aws, "swap/").await.is_empty());
    assert!(!objects(&aws, "_retired/swap/").await.is_empty());

    // A group of three from the folder: every member proven.
    let three = folder_config("swap", &ip, "").replace(
        "[instance]\ntype = \"t3.micro\"\n",
        "[instance]\ntype = \"t3.micro\"\ncount = 3\n",
    );
    std::fs::write(d.dir.join("deploy.toml"), three).unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["instances"].as_array().unwrap().len(), 3, "{j}");
    let (_, body) = through_edge(&site, &host).await.unwrap();
    assert!(body.contains("my own page"), "{body}");
    assert_eq!(d.cleanup(&["--yes"]).code, 0);
    assert!(!bucket_exists(&aws).await);
    assert!(!aws.instance_profile_exists("swap").await);
}

/// README's steps, from a template to one's own page online: `--init-site`
/// (from a stand-in for tooplate.com), an edit, `[site]` in place of
/// `[template]` as it says, deploy.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_steps_put_an_edited_template_online() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let site = FakeSite::start(&moto, "installed", None);
    let template = config_text("learner", &ip.url(), "");
    let d = Deployment::new(&moto.endpoint(), "learner", &template);
    let url = serve(200, template_zip());
    let out = d
        .env_command(env!("CARGO_BIN_EXE_deploy"))
        .args([
            "--init-site",
            "2137_barista_cafe",
            "site",
            "--template-url",
            &url,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = d.dir.join("site/index.html");
    let edited = std::fs::read_to_string(&page)
        .unwrap()
        .replace("Barista", "Barista, edited by me");
    std::fs::write(&page, edited).unwrap();
    // What --init-site printed goes in place of [template].
    let snippet: String = said
        .lines()
        .skip_while(|l| l.trim() != "[site]")
        .take(2)
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    assert_eq!(snippet, "[site]\ndir = \"site\"\n", "{said}");
    let toml = template.replace(TEMPLATE_TABLE, &snippet);
    std::fs::write(d.dir.join("deploy.toml"), toml).unwrap();
    let r = deploy(&d, &site, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (status, body) = through_edge(&site, &host(&r.json())).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Barista, edited by me"), "{body}");
    assert_eq!(d.cleanup(&["--yes"]).code, 0);
}
