#!/usr/bin/env python3
"""The site behind the load balancer, for the tests: it stands in for the web
servers, the way the load balancer would reach them.

Usage: fakesite.py --endpoint http://127.0.0.1:PORT [--mode MODE] [--fail-template NAME]
Prints "PORT <n>" once listening on 127.0.0.1.

Every request goes to the next healthy target of the emulator's target groups
(round robin, as an Application Load Balancer does). The first time a target is
reached, the instance's own user data (DescribeInstanceAttribute userData) runs
under bash in a scratch root, with stubbed dnf, systemctl and chown, a curl that
"downloads" a small template zip and an unzip in Python: exactly the boot script
deploy rendered, so the marker it publishes is the real one. Then the request is
served from that root's web root.

Modes (what the instances serve):
  installed  what the boot script wrote (default)
  fallback   the template download fails: the script's fallback page and marker
  none       the script ran but its marker is gone (a script that publishes none)
  apache     Apache's test page on every path, as httpd answers with no site
  stale      the marker's fingerprint is an earlier one
--fail-template NAME: the download fails only for instances whose script installs
template NAME (a new template that cannot be installed).

Requests answered are counted per instance: GET /__fakesite/stats.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

APACHE_TEST_PAGE = """<!doctype html><html><head><title>Test Page for the HTTP Server on Amazon Linux</title></head>
<body><h1>It works!</h1><p>This page is used to test the proper operation of the HTTP server after it has been installed.</p></body></html>"""

STUBS = {
    "dnf": "#!/bin/bash\nexit 0\n",
    "systemctl": "#!/bin/bash\nexit 0\n",
    "chown": "#!/bin/bash\nexit 0\n",
    "curl": """#!/bin/bash
out=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift 2;; *) shift;; esac
done
[ -f "$FAKESITE_ZIP" ] || exit 22
cp "$FAKESITE_ZIP" "$out"
""",
    "unzip": """#!/bin/bash
zip=""; dest=""
while [ $# -gt 0 ]; do
  case "$1" in -d) dest="$2"; shift 2;; -*) shift;; *) zip="$1"; shift;; esac
done
exec python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dest"
""",
}


class Site:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.roots = {}
        self.turn = 0
        self.stats = {}
        self.dir = tempfile.mkdtemp(prefix="fakesite-")
        self.bin = os.path.join(self.dir, "stubs")
        os.makedirs(self.bin)
        for name, body in STUBS.items():
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o755)
        self.zip = os.path.join(self.dir, "template.zip")
        with zipfile.ZipFile(self.zip, "w") as z:
            z.writestr("template/index.html", "<h1>The template</h1>")
        kw = dict(endpoint_url=args.endpoint, region_name=args.region,
                  aws_access_key_id="testing", aws_secret_access_key="testing")
        self.ec2 = boto3.client("ec2", **kw)
        self.elb = boto3.client("elbv2", **kw)

    def healthy_targets(self):
        ids = []
        for tg in self.elb.describe_target_groups()["TargetGroups"]:
            for t in self.elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]:
                if t["TargetHealth"]["State"] == "healthy":
                    ids.append(t["Target"]["Id"])
        return sorted(set(ids))

    def root_of(self, iid):
        with self.lock:
            if iid in self.roots:
                return self.roots[iid]
        data = self.ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
        script = base64.b64decode(data.get("UserData", {}).get("Value", "")).decode()
        root = os.path.join(self.dir, iid)
        os.makedirs(os.path.join(root, "var/lib/cloud/data"))
        with open(os.path.join(root, "var/lib/cloud/data/instance-id"), "w") as f:
            f.write(iid + "\n")
        fails = self.args.mode == "fallback" or (
            self.args.fail_template and f"TEMPLATE_NAME='{self.args.fail_template}'" in script)
        env = dict(os.environ, SITEDEPLOY_ROOT=root,
                   PATH=self.bin + ":" + os.environ.get("PATH", ""),
                   FAKESITE_ZIP="" if fails else self.zip)
        subprocess.run(["bash", "-c", script], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        web = os.path.join(root, "var/www/html")
        marker = os.path.join(web, "sitedeploy.json")
        if self.args.mode == "none" and os.path.exists(marker):
            os.remove(marker)
        if self.args.mode == "stale" and os.path.exists(marker):
            with open(marker) as f:
                m = json.load(f)
            m["fingerprint"] = "0123456789abcdef"
            with open(marker, "w") as f:
                json.dump(m, f)
        with self.lock:
            self.roots[iid] = web
        return web


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site = None

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        # What a web server behind the load balancer says (Apache), unless the
        # load balancer answers itself (awselb/2.0, as an ALB's own answers).
        return getattr(self, "_server_header", "Apache")

    def reply(self, status, body, ctype="text/html", lb=False):
        data = body.encode() if isinstance(body, str) else body
        self._server_header = "awselb/2.0" if lb else "Apache"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        site = self.site
        if self.path.startswith("/__fakesite/stats"):
            with site.lock:
                return self.reply(200, json.dumps(site.stats), "application/json")
        targets = site.healthy_targets()
        if not targets:
            return self.reply(503, "<h1>503 Service Temporarily Unavailable</h1>", lb=True)
        with site.lock:
            iid = targets[site.turn % len(targets)]
            site.turn += 1
            site.stats[iid] = site.stats.get(iid, 0) + 1
        if site.args.mode == "apache":
            return self.reply(200, APACHE_TEST_PAGE)
        web = site.root_of(iid)
        rel = self.path.split("?")[0].lstrip("/") or "index.html"
        path = os.path.realpath(os.path.join(web, rel))
        if not path.startswith(os.path.realpath(web)) or not os.path.isfile(path):
            return self.reply(404, "<h1>Not Found</h1>")
        with open(path, "rb") as f:
            body = f.read()
        self.reply(200, body, "application/json" if path.endswith(".json") else "text/html")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--mode", default="installed",
                    choices=["installed", "fallback", "none", "apache", "stale"])
    ap.add_argument("--fail-template")
    args = ap.parse_args()
    Handler.site = Site(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        shutil.rmtree(Handler.site.dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
