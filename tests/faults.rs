//! Nothing lost, nothing doubled: deploy and cleanup through seeded throttling,
//! 5xx answers and connections dropped before and after moto handled the
//! request; deploy killed with SIGKILL at several points and re-run; and no
//! secret in any output at the highest verbosity.

mod common;

use std::time::Duration;

use common::*;

/// Deploys until it succeeds (at most `tries` runs). A run that asks for
/// `--replace-key-pair` lost the private key of a key pair it imported: that
/// is a defect (the key is written before it is imported), never retried.
fn deploy_until_converged(d: &Deployment, tries: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    for _ in 0..tries {
        let r = d.deploy(&["--json"]);
        assert!(
            !r.stderr.contains("--replace-key-pair"),
            "a run lost the key pair's private key:\n{}",
            r.stderr
        );
        let done = r.code == 0;
        runs.push(r);
        if done {
            return runs;
        }
    }
    let last = runs.last().unwrap();
    panic!(
        "deploy did not converge in {tries} runs; last exit {}:\n{}",
        last.code, last.stderr
    );
}

fn cleanup_until_done(d: &Deployment, tries: usize) -> usize {
    for i in 1..=tries {
        if d.cleanup(&["--yes"]).code == 0 {
            return i;
        }
    }
    panic!("cleanup did not finish in {tries} runs");
}

/// Exactly one of each resource, checked against moto directly.
async fn assert_exactly_one_of_each(aws: &Aws) {
    assert_eq!(
        aws.counts().await,
        (1, 2, 1, 1, 1),
        "(instances, groups, keys, lbs, tgs)"
    );
    let lbs = aws.load_balancers().await;
    let listeners = aws.listeners(lbs[0].load_balancer_arn().unwrap()).await;
    assert_eq!(listeners.len(), 1, "listeners");
    let tg_arn = aws.target_groups().await[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let health = aws
        .elb
        .describe_target_health()
        .target_group_arn(&tg_arn)
        .send()
        .await
        .unwrap();
    let instance = aws.live_instances().await[0]
        .instance_id()
        .unwrap()
        .to_string();
    let targets: Vec<_> = health
        .target_health_descriptions()
        .iter()
        .filter_map(|t| t.target().and_then(|t| t.id()))
        .collect();
    assert_eq!(targets, vec![instance.as_str()], "registered targets");
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_faults_neither_lose_nor_double_anything() {
    // Seeds run one after another: each gets its own emulator and proxy.
    let mut table = Vec::new();
    for seed in [1, 2, 3, 4] {
        let moto = Moto::start();
        let config = format!(
            r#"{{"faults": {{"seed": {seed}, "throttle": 0.06, "error5xx": 0.05, "drop_before": 0.04, "drop_after": 0.05}}}}"#
        );
        let proxy = Proxy::start(&moto, &config);
        let ip = IpService::start("203.0.113.7");
        let name = format!("f{seed}");
        let d = Deployment::simple(&proxy.endpoint(), &name, &ip);
        let aws = Aws::new(&moto.endpoint()).await;

        let runs = deploy_until_converged(&d, 5);
        assert_exactly_one_of_each(&aws).await;
        // A converged deploy run again changes nothing.
        let again = deploy_until_converged(&d, 3);
        assert_exactly_one_of_each(&aws).await;
        let cleanups = cleanup_until_done(&d, 3);
        assert_eq!(
            aws.counts().await,
            (0, 0, 0, 0, 0),
            "left behind (seed {seed})"
        );
        let injected = proxy.stats()["injected"].clone();
        table.push(format!(
            "seed {seed}: deploy runs {}, re-deploy runs {}, cleanup runs {cleanups}, injected {injected}",
            runs.len(),
            again.len()
        ));
        let total: u64 = injected
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.starts_with("replayed"))
            .map(|(_, v)| v.as_u64().unwrap())
            .sum();
        assert!(
            total > 0,
            "seed {seed} injected no fault: the test tested nothing"
        );
    }
    eprintln!("{}", table.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_that_took_effect_but_lost_their_answer_are_found_not_repeated() {
    let moto = Moto::start();
    // Every create answers with a dropped connection once, after moto did it;
    // the SDK retries, and AWS's answer to the retry is "duplicate" or (for the
    // client token and ELB names) the first result.
    let proxy = Proxy::start(
        &moto,
        r#"{"drop_after_actions": {"ImportKeyPair": 1, "CreateSecurityGroup": 2,
            "AuthorizeSecurityGroupIngress": 2, "CreateTargetGroup": 1, "RunInstances": 1,
            "CreateLoadBalancer": 1, "CreateListener": 1, "RegisterTargets": 1}}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "lost", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    let runs = deploy_until_converged(&d, 3);
    // The key is made here and only its public half is imported: a lost
    // import answer is resolved by the retry, and the first run converges.
    assert_eq!(runs.len(), 1, "{}", runs[0].stderr);
    assert_exactly_one_of_each(&aws).await;
    let stats = proxy.stats();
    assert_eq!(stats["injected"]["replayed:RunInstances"], 1, "{stats}");
    assert!(exists(&d.pem()));
    cleanup_until_done(&d, 2);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_killed_at_any_point_then_rerun_converges() {
    // Killed the moment the proxy sees each of these requests: each kill lands
    // mid-run, at a known point.
    for kill_at in [
        "ImportKeyPair",
        "CreateSecurityGroup",
        "CreateTargetGroup",
        "CreateLoadBalancer",
        "CreateRole",
        "RunInstances",
        "RegisterTargets",
    ] {
        let moto = Moto::start();
        // Slow enough that the kill lands mid-run: 20 ms a request, a 2 s boot,
        // a 2.5 s load balancer.
        let proxy = Proxy::start(
            &moto,
            r#"{"latency_ms": 20, "instance_pending_s": 2, "lb_provisioning_s": 2.5}"#,
        );
        let ip = IpService::start("203.0.113.7");
        let name = format!("k{}", kill_at.to_lowercase());
        let d = Deployment::simple(&proxy.endpoint(), &name, &ip);
        let aws = Aws::new(&moto.endpoint()).await;

        let mut child = d.spawn_deploy(&[]);
        let start = std::time::Instant::now();
        while proxy.stats()["actions"][kill_at].as_u64().unwrap_or(0) == 0 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "deploy ended before it sent {kill_at}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{kill_at} never sent"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "deploy ended before the kill at {kill_at}"
        );
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "the kill at {kill_at} landed after the run"
        );

        deploy_until_converged(&d, 3);
        assert_exactly_one_of_each(&aws).await;
        cleanup_until_done(&d, 2);
        assert_eq!(
            aws.counts().await,
            (0, 0, 0, 0, 0),
            "left behind (kill at {kill_at})"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output_at_any_verbosity() {
    let moto = Moto::start();
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&moto.endpoint(), "secret", &ip);
    let mut all = String::new();
    for (args, log) in [(vec!["-vv", "--json"], "trace"), (vec!["-v"], "debug")] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_deploy"));
        let out = c
            .current_dir(&d.dir)
            .args(["--config", "deploy.toml"])
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &d.dir)
            .env("RUST_LOG", log)
            .env("AWS_ENDPOINT_URL", &d.endpoint)
            .env("AWS_ACCESS_KEY_ID", "AKIATESTACCESSKEY01")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret-key-value")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("SITEDEPLOY_NO_SITE_CHECK", "true")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let cleanup = d.cleanup(&["--yes", "-vv"]).ok();
    all.push_str(&cleanup.stdout);
    all.push_str(&cleanup.stderr);
    assert!(all.len() > 500, "too little output to judge: {all}");
    assert!(
        !all.contains("testing-secret-key-value"),
        "secret key in output"
    );
    assert!(!all.contains("AKIATESTACCESSKEY01"), "access key in output");
    assert!(
        !all.contains("PRIVATE KEY"),
        "private key material in output"
    );
}

/// Sends SIGINT to `child` once its stderr shows `marker`; returns its exit
/// code and all of its stderr.
fn interrupt_when(mut child: std::process::Child, marker: &'static str) -> Run {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("never saw {marker:?}"));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code().unwrap_or(-1);
    Run {
        code,
        stdout: String::new(),
        stderr: reader.join().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_cleanup_says_what_is_left_and_a_rerun_finishes() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"latency_ms": 10, "instance_shutting_down_s": 4, "lb_linger_s": 6}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "cint", &ip);
    let aws = Aws::new(&moto.endpoint()).await;
    d.deploy(&[]).ok();

    let out = interrupt_when(
        d.spawn(env!("CARGO_BIN_EXE_cleanup"), &["--yes"]),
        "network interface(s) still attached",
    );
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        out.stderr.contains("cleanup of cint was interrupted"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("What exists now:"), "{}", out.stderr);
    assert!(out.stderr.contains("cint-lb-sg"), "{}", out.stderr);

    cleanup_until_done(&d, 2);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_says_what_exists_and_a_rerun_converges() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        &moto,
        r#"{"latency_ms": 20, "instance_pending_s": 4, "lb_provisioning_s": 5}"#,
    );
    let ip = IpService::start("203.0.113.7");
    let d = Deployment::simple(&proxy.endpoint(), "intr", &ip);
    let aws = Aws::new(&moto.endpoint()).await;

    // Interrupt once the instance is launched and being waited for.
    let out = interrupt_when(d.spawn_deploy(&[]), "waiting for it to run");
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        out.stderr.contains("deploy of intr was interrupted"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("What exists now:"), "{}", out.stderr);
    assert!(out.stderr.contains("intr-web-sg"), "{}", out.stderr);
    assert!(out.stderr.contains("instance"), "{}", out.stderr);
    assert!(
        out.stderr.contains("cleanup --config deploy.toml --yes"),
        "{}",
        out.stderr
    );

    deploy_until_converged(&d, 2);
    assert_exactly_one_of_each(&aws).await;
    cleanup_until_done(&d, 2);
    assert_eq!(aws.counts().await, (0, 0, 0, 0, 0));
}
