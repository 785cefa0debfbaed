#!/usr/bin/env python3
"""Benchmark deploy and cleanup against moto behind the timing model.

Runs the release binaries through tests/support/awsproxy.py with AWS-like timing
(per-request latency, instance boot and termination, load balancer provisioning,
interface linger) and prints, for each action, the wall time beside the lower
bound the profile allows, their ratio, and the API calls made (polling apart).

Lower bounds (no tool can beat them on this profile): the slowest of the
parallel chains.
  deploy  = max(lb_provisioning_s + 5 x latency    (DescribeVpcs, DescribeSubnets,
                CreateSecurityGroup, CreateLoadBalancer must precede the wait;
                one describe must follow it),
                distribution_in_progress_s + 6 x latency  (the same four, then
                CreateDistributionWithTags, the wait, one GetDistribution))
  cleanup = max(lb_linger_s + 3 x latency          (DeleteLoadBalancer, then the
                linger, then the last DescribeNetworkInterfaces and
                DeleteSecurityGroup),
                distribution_in_progress_s + 6 x latency  (GetDistribution,
                GetDistributionConfig, UpdateDistribution to disable it, the
                wait, GetDistribution, DeleteDistribution))
CloudFront's figure: AWS's "Slashing CloudFront change propagation times in
2020" says changes are now "reliably" pushed "within 5 minutes"; the profile
takes that, 300 s, for every create, update and disable.
  re-deploy with nothing to do: no bound; target < 1 s (21 calls with [https]).

With --hidden-interfaces the lingering interfaces of the deleted load balancer
hold its group without being listed (proxy `lb_interfaces_hidden`): cleanup then
has only DeleteSecurityGroup's "not yet" to go by, and the same bound applies.

With --count N the deployment runs N web servers (an Auto Scaling group when
N > 1); the bounds stay those of one server (the group's instances boot in
parallel), so the ratio shows what the group costs in time.

moto runs through tests/support/moto_aws.py (AWS's zone balancing of Auto
Scaling groups), with the Python running this script.

With --site the deployment serves a folder ([site] dir) instead of a template:
a synthetic folder the size and shape of a tooplate template (6 pages, CSS,
JavaScript, 24 photos of incompressible bytes: 2.9 MB), made at start; the
upload's progress line is printed.

Usage: bench.py --bin-dir target/release [--hidden-interfaces] [--count N] [--site] [--json]
"""

import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

PROFILE = {
    "latency_ms": 30,
    "instance_pending_s": 6,
    "lb_provisioning_s": 20,
    "instance_shutting_down_s": 5,
    "lb_linger_s": 15,
    "register_pending_invalid": True,
    "distribution_in_progress_s": 300,
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, limit=30):
    end = time.time() + limit
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


class IpHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"203.0.113.7\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except ConnectionError:
            pass  # the tool asks two services at once and hangs up on the slower

    def log_message(self, *a):
        pass


def stats(proxy):
    with urllib.request.urlopen(f"{proxy}/__proxy/stats") as r:
        return json.load(r)


def reset(proxy):
    urllib.request.urlopen(urllib.request.Request(f"{proxy}/__proxy/reset", data=b"", method="POST")).read()


def warm_up(moto_url):
    """moto builds a region's backend (default VPC, AMI catalogue) on its first
    request there, which takes about a second; AWS has no such cost. Touch each
    service once, directly, before measuring."""
    for service, body in [
        ("ec2", "Action=DescribeVpcs&Version=2016-11-15"),
        ("ec2", "Action=DescribeImages&Version=2016-11-15&Owner.1=amazon"),
        ("elasticloadbalancing", "Action=DescribeLoadBalancers&Version=2015-12-01"),
        ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
        # IAM's backend loads AWS's managed policies first (about a second).
        ("iam", "Action=ListRoles&Version=2010-05-08"),
        ("autoscaling", "Action=DescribeAutoScalingGroups&Version=2011-01-01"),
    ]:
        req = urllib.request.Request(moto_url + "/", data=body.encode(), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/{service}/aws4_request, "
                             "SignedHeaders=host, Signature=x",
        })
        urllib.request.urlopen(req).read()
    # Scheduler is a REST API.
    req = urllib.request.Request(moto_url + "/schedule-groups", method="GET", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/scheduler/aws4_request, "
                         "SignedHeaders=host, Signature=x",
    })
    urllib.request.urlopen(req).read()


LAST_STDERR = [""]


def run(cmd, cwd, env):
    start = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}")
    LAST_STDERR[0] = p.stderr
    return took


def typical_site(dir):
    """A folder shaped like a tooplate template: 6 pages, a stylesheet, a script
    and 24 photos (random bytes: JPEGs do not compress), 2.9 MB in all."""
    import random
    rnd = random.Random(2137)
    os.makedirs(os.path.join(dir, "css"))
    os.makedirs(os.path.join(dir, "js"))
    os.makedirs(os.path.join(dir, "images"))
    for page in ["index", "about", "menu", "reservation", "contact", "gallery"]:
        with open(os.path.join(dir, f"{page}.html"), "w") as f:
            f.write(f"<!doctype html><title>{page}</title>" + "<p>Barista Cafe</p>\n" * 600)
    with open(os.path.join(dir, "css", "style.css"), "w") as f:
        f.write(".menu { color: #333; padding: 1em }\n" * 5000)
    with open(os.path.join(dir, "js", "site.js"), "w") as f:
        f.write("function go(x) { return x + 1; }\n" * 3000)
    for i in range(24):
        with open(os.path.join(dir, "images", f"photo-{i:02}.jpg"), "wb") as f:
            f.write(rnd.randbytes(110 * 1024))


def peak_rss_kib(cmd, cwd, env):
    """Peak RSS of a run, from /usr/bin/time when present, else getrusage."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before)


def summarize(name, took, bound, st):
    actions = st.get("actions", {})
    polls = st.get("polls", {})
    total = sum(actions.values())
    npoll = sum(polls.values())
    return {
        "action": name,
        "wall_s": round(took, 2),
        "lower_bound_s": None if bound is None else round(bound, 2),
        "ratio": None if bound is None else round(took / bound, 3),
        "api_calls": total,
        "api_calls_besides_polling": total - npoll,
        "polling_calls": npoll,
        "per_action": dict(sorted(actions.items())),
        "first_seen_s": st.get("first", {}),
    }


class Stack:
    """moto (through moto_aws.py) behind the proxy with `profile`, a public-IP
    service, and a scratch directory holding the repository's deploy.toml
    (with `count` web servers) and userdata/; `env` runs the tool against it.
    Also used by tools/terminal_demo.py. `close()` stops it all."""

    def __init__(self, profile, count=1, site=False):
        self.moto_port = free_port()
        moto = subprocess.Popen([sys.executable, os.path.join(HERE, "moto_aws.py"),
                                 "-H", "127.0.0.1", "-p", str(self.moto_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs = [moto]
        self.work = tempfile.mkdtemp(prefix="sitedeploy-stack-")
        wait_http(f"http://127.0.0.1:{self.moto_port}/moto-api/")
        proxy = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "awsproxy.py"), "--upstream",
             f"http://127.0.0.1:{self.moto_port}", "--config", json.dumps(profile)],
            stdout=subprocess.PIPE, text=True)
        self.procs.append(proxy)
        self.proxy_url = "http://127.0.0.1:" + proxy.stdout.readline().split()[1]
        ip = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IpHandler)
        threading.Thread(target=ip.serve_forever, daemon=True).start()
        ip_url = f"http://127.0.0.1:{ip.server_address[1]}/"
        shutil.copytree(os.path.join(ROOT, "userdata"), os.path.join(self.work, "userdata"))
        with open(os.path.join(ROOT, "deploy.toml")) as f:
            cfg = f.read()
        cfg = cfg.replace('cidr = "auto"', f'cidr = "auto"\nip_service_url = "{ip_url}"\nip_fallback_url = "{ip_url}"')
        assert "\ncount = 1\n" in cfg, "deploy.toml lost its count line"
        cfg = cfg.replace("\ncount = 1\n", f"\ncount = {count}\n")
        if site:
            typical_site(os.path.join(self.work, "site"))
            start, end = cfg.index("[template]"), cfg.index("[instance]")
            cfg = cfg[:start] + '[site]\ndir = "site"\n\n' + cfg[end:]
        with open(os.path.join(self.work, "deploy.toml"), "w") as f:
            f.write(cfg)
        self.env = dict(os.environ, AWS_ENDPOINT_URL=self.proxy_url, AWS_ACCESS_KEY_ID="bench",
                        AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true",
                        AWS_CONFIG_FILE=os.path.join(self.work, "none"),
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.work, "none"),
                        # no DNS look-up of the emulated load balancer's name,
                        # no GET of the template (nothing reaches the internet)
                        SITEDEPLOY_NO_SITE_CHECK="true", SITEDEPLOY_NO_TEMPLATE_CHECK="true")
        self.env.pop("CARGO", None)

    def close(self):
        for p in self.procs:
            p.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto-server", help="ignored: moto runs through moto_aws.py")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--hidden-interfaces", action="store_true")
    ap.add_argument("--site", action="store_true")
    args = ap.parse_args()
    if args.hidden_interfaces:
        PROFILE["lb_interfaces_hidden"] = True
    bin_dir = os.path.abspath(args.bin_dir)

    stack = Stack(PROFILE, args.count, args.site)
    work = stack.work
    try:
        proxy_url, env = stack.proxy_url, stack.env
        moto_port = stack.moto_port
        deploy = [os.path.join(bin_dir, "deploy")]
        cleanup = [os.path.join(bin_dir, "cleanup"), "--yes"]
        lat = PROFILE["latency_ms"] / 1000.0
        cdn = PROFILE["distribution_in_progress_s"]
        deploy_bound = max(PROFILE["lb_provisioning_s"] + 5 * lat, cdn + 6 * lat)
        cleanup_bound = max(PROFILE["lb_linger_s"] + 3 * lat, cdn + 6 * lat)

        warm_up(f"http://127.0.0.1:{moto_port}")
        rows = []
        reset(proxy_url)
        t = run(deploy, work, env)
        rows.append(summarize("deploy", t, deploy_bound, stats(proxy_url)))
        upload = [l for l in LAST_STDERR[0].splitlines() if "site content:" in l and "took" in l]
        reset(proxy_url)
        t = run(deploy, work, env)
        rows.append(summarize("deploy again (nothing to do)", t, None, stats(proxy_url)))
        # Peak memory of a no-op deploy, while the deployment stands.
        rss = peak_rss_kib(deploy, work, env)
        reset(proxy_url)
        t = run(cleanup, work, env)
        rows.append(summarize("cleanup", t, cleanup_bound, stats(proxy_url)))

        # --help start-up time (best of 5).
        helps = []
        for _ in range(5):
            s = time.monotonic()
            subprocess.run(deploy + ["--help"], capture_output=True)
            helps.append(time.monotonic() - s)

        if args.json:
            print(json.dumps({"profile": PROFILE, "rows": rows, "help_ms": round(min(helps) * 1000, 1),
                              "peak_rss_mib": round(rss / 1024, 1)}, indent=2))
            return
        print(f"profile: {json.dumps(PROFILE)}, count {args.count}")
        print(f"{'action':<30} {'wall s':>7} {'bound s':>8} {'ratio':>6} {'calls':>6} {'non-poll':>8} {'polls':>6}")
        for r in rows:
            b = "-" if r["lower_bound_s"] is None else f"{r['lower_bound_s']:.2f}"
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
            print(f"{r['action']:<30} {r['wall_s']:>7.2f} {b:>8} {ratio:>6} {r['api_calls']:>6} "
                  f"{r['api_calls_besides_polling']:>8} {r['polling_calls']:>6}")
        for r in rows:
            print(f"\n{r['action']}: " + ", ".join(f"{k} {v}" for k, v in r["per_action"].items()))
        first = rows[0]["first_seen_s"]
        if "CreateLoadBalancer" in first:
            print(f"\ndeploy sent CreateLoadBalancer {first['CreateLoadBalancer']:.2f} s after it started "
                  f"(process start, look-ups, preflight, the load balancer's group)")
        print("deploy, first request of each action (s): " + ", ".join(
            f"{k} {v}" for k, v in sorted(rows[0]["first_seen_s"].items(), key=lambda kv: kv[1])))
        first = rows[2]["first_seen_s"]
        if "DeleteLoadBalancer" in first:
            print(f"cleanup sent DeleteLoadBalancer {first['DeleteLoadBalancer']:.2f} s after it started")
        if upload:
            print(f"\nthe folder's upload: {upload[-1].strip()}")
        print(f"\ndeploy --help: {min(helps) * 1000:.1f} ms (best of 5)")
        print(f"peak memory of a deploy with nothing to do: {rss / 1024:.1f} MiB")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
