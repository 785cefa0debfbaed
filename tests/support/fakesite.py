#!/usr/bin/env python3
"""The site behind the load balancer, for the tests: it stands in for the web
servers, the way the load balancer would reach them.

Usage: fakesite.py --endpoint http://127.0.0.1:PORT [--mode MODE] [--fail-template NAME]
Prints "PORT <n>" once listening on 127.0.0.1.

Every request goes to the next healthy target of the emulator's target groups
(round robin, as an Application Load Balancer does). The first time a target is
reached, the instance's own user data (DescribeInstanceAttribute userData) runs
under bash in a scratch root, with stubbed dnf, systemctl and chown, a curl that
"downloads" a small template zip, an unzip in Python and an `aws` that does
`aws s3 cp s3://BUCKET/KEY DEST [--region R] [--expected-bucket-owner A]
[--only-show-errors]` as the instance's role: its instance profile (the
instance's, or its launch template version's where moto records none, as for
Auto Scaling's instances), the profile's role and that role's policies, read
from moto, are evaluated by iam_eval.py for s3:GetObject on the object; allowed,
the object is copied from moto to DEST; else the CLI's refusal on stderr, exit 1
("fatal error: An error occurred (403) when calling the HeadObject operation:
Forbidden"; 404 `Key "K" does not exist` for a missing key when the role may
also s3:ListBucket; "Unable to locate credentials" without a profile or role).
sha256sum and tar are the machine's own. The user data runs exactly as deploy
rendered it, so the marker it publishes is the real one. Then the request is
served from that root's web root.

Usage as the stub (what the stubbed `aws` runs): fakesite.py aws-stub s3 cp ...
with FAKESITE_ENDPOINT (moto), FAKESITE_INSTANCE_ID and FAKESITE_REGION set.

Modes (what the instances serve):
  installed  what the boot script wrote (default)
  fallback   the template download fails: the script's fallback page and marker
  none       the script ran but its marker is gone (a script that publishes none)
  apache     Apache's test page on every path, as httpd answers with no site
  stale      the marker's fingerprint is an earlier one
--fail-template NAME: the download fails only for instances whose script installs
template NAME (a new template that cannot be installed).

Requests answered are counted per instance: GET /__fakesite/stats.

The load balancer's own door: when a listener's default action is a fixed
response ([https]: 403), only a request whose X-Origin-Verify header matches
one of the listener's http-header rules reaches a target; the rest get the
fixed response, as an Application Load Balancer does.

CloudFront's edge: a second server, over TLS with a certificate for
*.cloudfront.net from a CA made at start (its PEM file is printed, for the
tool's SSL_CERT_FILE), finds the distribution by the Host name, adds the
origin's custom headers and passes the request to the load balancer above.
Prints "EDGE <port>" and "CA <path>" after "PORT <n>".
"""

import argparse
import base64
import json
import os
import shutil
import ssl
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
    # The AWS CLI as the instance runs it: only `aws s3 cp s3://B/K DEST`, acting
    # as the instance's role (aws_stub below, this same file run by the test
    # virtual environment's Python).
    "aws": """#!/bin/bash
exec "$FAKESITE_PYTHON" "$FAKESITE_SELF" aws-stub "$@"
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
        self.cloudfront = boto3.client("cloudfront", **kw)
        self.acm = boto3.client("acm", **dict(kw, region_name="us-east-1"))

    def door(self, value):
        """None when a request with header value `value` passes every gated
        listener, else the fixed response (status, body) that answers it."""
        for lb in self.elb.describe_load_balancers()["LoadBalancers"]:
            for l in self.elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
                fixed = [a for a in l["DefaultActions"] if a["Type"] == "fixed-response"]
                if not fixed:
                    continue
                values = []
                for r in self.elb.describe_rules(ListenerArn=l["ListenerArn"])["Rules"]:
                    for c in r.get("Conditions", []):
                        h = c.get("HttpHeaderConfig") or {}
                        if h.get("HttpHeaderName", "").lower() == "x-origin-verify":
                            values += h.get("Values", [])
                if value is None or value.lower() not in [v.lower() for v in values]:
                    cfg = fixed[0].get("FixedResponseConfig", {})
                    return int(cfg.get("StatusCode", "403")), cfg.get("MessageBody", "")
        return None

    def answering(self, host):
        """The enabled distributions that answer on `host`: their own name, or an
        alternate domain name (Aliases)."""
        items = self.cloudfront.list_distributions().get("DistributionList", {}).get("Items", [])
        return [d for d in items if d["Enabled"] and
                (d["DomainName"] == host or host in d.get("Aliases", {}).get("Items", []))]

    def alias_certificate(self, host):
        """CloudFront shows an alternate domain name's ACM certificate (SNI):
        the (minimum TLS version) of the distribution that has `host` as an
        alias with an ISSUED certificate covering it, or None."""
        for d in self.answering(host):
            cfg = self.cloudfront.get_distribution_config(Id=d["Id"])["DistributionConfig"]
            viewer = cfg.get("ViewerCertificate", {})
            arn = viewer.get("ACMCertificateArn")
            if not arn:
                continue
            cert = self.acm.describe_certificate(CertificateArn=arn)["Certificate"]
            names = [cert["DomainName"]] + cert.get("SubjectAlternativeNames", [])
            if cert["Status"] == "ISSUED" and host in names:
                return viewer.get("MinimumProtocolVersion", "TLSv1")
        return None

    def origin_headers(self, host):
        """The custom headers of the enabled distribution answering on `host`, or None."""
        for d in self.answering(host):
            cfg = self.cloudfront.get_distribution_config(Id=d["Id"])["DistributionConfig"]
            origin = cfg["Origins"]["Items"][0]
            return {h["HeaderName"]: h["HeaderValue"]
                    for h in origin.get("CustomHeaders", {}).get("Items", [])}
        return None

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
                   FAKESITE_ZIP="" if fails else self.zip,
                   FAKESITE_FAILS="1" if fails else "",
                   FAKESITE_PYTHON=sys.executable, FAKESITE_SELF=os.path.abspath(__file__),
                   FAKESITE_INSTANCE_ID=iid, FAKESITE_ENDPOINT=self.args.endpoint,
                   FAKESITE_REGION=self.args.region)
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
        self.serve(self.headers.get("X-Origin-Verify"))

    def serve(self, origin_header):
        """The load balancer's answer to this request carrying `origin_header`."""
        site = self.site
        denied = site.door(origin_header)
        if denied:
            return self.reply(denied[0], denied[1], "text/plain", lb=True)
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


class EdgeHandler(Handler):
    """CloudFront's edge: HTTPS, the distribution by Host, its origin headers."""

    def do_GET(self):
        host = self.headers.get("Host", "").split(":")[0]
        headers = self.site.origin_headers(host)
        if headers is None:
            self._server_header = "CloudFront"
            return self.reply(403, "<h1>403 ERROR</h1><p>The request could not be satisfied.</p>")
        self.serve(headers.get("X-Origin-Verify"))


def make_ca(directory):
    """A CA and a certificate for *.cloudfront.net it signed: (ca.pem, cert, key).
    The CA's key stays in MAKE_CA for the alternate domain names' certificates."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fakesite test CA")])
    MAKE_CA.append((ca_key, ca_name))
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    return _leaf(directory, ("*.cloudfront.net",), ca_key, ca_name, "edge", ca)


MAKE_CA = []


def _leaf(directory, names, ca_key, ca_name, stem, ca):
    """A certificate for `names` signed by the CA; (ca.pem, cert, key)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = [os.path.join(directory, n) for n in ("ca.pem", f"{stem}.pem", f"{stem}.key")]
    if ca is not None:
        with open(paths[0], "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


# --- the `aws` stub: `aws s3 cp` as the instance's role ----------------------------

ACCOUNT = "123456789012"  # moto's account


def _aws_clients(region):
    kw = dict(endpoint_url=os.environ["FAKESITE_ENDPOINT"], region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    from botocore.config import Config
    return (boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("autoscaling", **kw),
            boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **kw))


def _document(doc):
    """A policy document as IAM gives it back (URL-encoded JSON, or parsed)."""
    if isinstance(doc, str):
        import urllib.parse
        return json.loads(urllib.parse.unquote(doc))
    return doc


def instance_policies(iid, region):
    """The identity policies of instance `iid`'s role: its instance profile
    (DescribeInstances' IamInstanceProfile; for an instance launched from a
    launch template, as Auto Scaling's are, where moto records none: the
    template version's IamInstanceProfile, found by the instance's
    aws:ec2launchtemplate:id / :version tags or its Auto Scaling group), the
    profile's role, the role's inline and attached policies. None when the
    instance would have no credentials (no profile, no such profile, no role)."""
    from botocore.exceptions import ClientError
    ec2, iam, asg, _ = _aws_clients(region)
    found = ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    inst = found[0]["Instances"][0] if found and found[0]["Instances"] else {}
    profile = (inst.get("IamInstanceProfile") or {}).get("Arn")
    if not profile:
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags") or []}
        lt, version = tags.get("aws:ec2launchtemplate:id"), tags.get("aws:ec2launchtemplate:version")
        if not lt:
            member = asg.describe_auto_scaling_instances(InstanceIds=[iid])["AutoScalingInstances"]
            ref = (member[0].get("LaunchTemplate") or {}) if member else {}
            lt, version = ref.get("LaunchTemplateId"), ref.get("Version")
        if lt:
            versions = ec2.describe_launch_template_versions(
                LaunchTemplateId=lt, Versions=[version or "$Default"])["LaunchTemplateVersions"]
            spec = (versions[0]["LaunchTemplateData"].get("IamInstanceProfile") or {}) if versions else {}
            profile = spec.get("Arn") or spec.get("Name")
    if not profile:
        return None
    try:
        roles = iam.get_instance_profile(InstanceProfileName=profile.rsplit("/", 1)[-1])["InstanceProfile"]["Roles"]
    except ClientError:
        return None
    if not roles:
        return None
    role = roles[0]["RoleName"]
    docs = [_document(iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"])
            for n in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    for a in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        pol = iam.get_policy(PolicyArn=a["PolicyArn"])["Policy"]
        docs.append(_document(iam.get_policy_version(PolicyArn=a["PolicyArn"], VersionId=pol["DefaultVersionId"])
                              ["PolicyVersion"]["Document"]))
    return docs


def aws_stub(argv):
    """`aws s3 cp s3://BUCKET/KEY DEST [--region R] [--expected-bucket-owner A]
    [--only-show-errors] [--no-progress] [--quiet]`, as the AWS CLI on the instance
    (FAKESITE_INSTANCE_ID) runs it with its role's credentials: the role's identity
    policies (instance_policies) are evaluated by iam_eval.py for s3:GetObject on
    arn:aws:s3:::BUCKET/KEY (HeadObject, which the CLI calls first, is authorized
    as s3:GetObject), then the object is read from moto (FAKESITE_ENDPOINT) into
    DEST. Refusals as the CLI prints them, exit 1 ("One or more Amazon S3 transfer
    operations failed", CLI return codes): no credentials (no profile or no role)
    "fatal error: Unable to locate credentials"; denied, or ExpectedBucketOwner not
    the bucket's owner: "fatal error: An error occurred (403) when calling the
    HeadObject operation: Forbidden"; no such key: 404 `Key "K" does not exist`
    when the role may s3:ListBucket, else 403 ("If you don't have the
    s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Forbidden
    error", API_HeadObject; aws/aws-cli#1689, #6660 for the wording)."""
    from botocore.exceptions import ClientError
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import iam_eval

    def fatal(message, code=1):
        print(f"fatal error: {message}", file=sys.stderr)
        return code
    args = [a for a in argv if a not in ("--only-show-errors", "--no-progress", "--quiet")]
    opts, pos = {}, []
    i = 0
    while i < len(args):
        if args[i] in ("--region", "--expected-bucket-owner"):
            if i + 1 >= len(args):
                print(f"aws: error: argument {args[i]}: expected one argument", file=sys.stderr)
                return 252
            opts[args[i]] = args[i + 1]
            i += 2
        elif args[i].startswith("--"):
            print(f"aws stub: option {args[i]} is not stubbed", file=sys.stderr)
            return 252
        else:
            pos.append(args[i])
            i += 1
    if pos[:2] != ["s3", "cp"] or len(pos) != 4 or not pos[2].startswith("s3://"):
        print(f"aws stub: only `aws s3 cp s3://BUCKET/KEY DEST` is stubbed, not {' '.join(argv)}", file=sys.stderr)
        return 252
    bucket, _, key = pos[2][5:].partition("/")
    dest = pos[3]
    if dest.endswith("/") or os.path.isdir(dest):
        dest = os.path.join(dest, key.rsplit("/", 1)[-1])
    region = opts.get("--region") or os.environ.get("FAKESITE_REGION") or "us-east-1"
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    forbidden = "An error occurred (403) when calling the HeadObject operation: Forbidden"
    # --mode fallback / --fail-template: the content cannot be fetched, as a
    # template's download cannot.
    if os.environ.get("FAKESITE_FAILS") == "1":
        return fatal(forbidden)
    policies = instance_policies(os.environ["FAKESITE_INSTANCE_ID"], region)
    if policies is None:
        return fatal("Unable to locate credentials")
    _, _, _, s3 = _aws_clients(region)
    try:
        s3.head_bucket(Bucket=bucket)
        owner = ACCOUNT
    except ClientError:
        owner = None
    expected = opts.get("--expected-bucket-owner")
    if expected is not None and owner is not None and expected != owner:
        return fatal(forbidden)
    ctx = {"s3:ResourceAccount": owner} if owner else {}
    decision, _ = iam_eval.evaluate(policies, "s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}", ctx)
    if decision != "Allow":
        return fatal(forbidden)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        listing, _ = iam_eval.evaluate(policies, "s3:ListBucket", f"arn:{partition}:s3:::{bucket}", ctx)
        if listing != "Allow":
            return fatal(forbidden)
        return fatal(f'An error occurred (404) when calling the HeadObject operation: Key "{key}" does not exist')
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    part = dest + ".fakesite-part"
    with open(part, "wb") as f:
        f.write(data)
    os.replace(part, dest)
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "aws-stub":
        return aws_stub(sys.argv[2:])
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
    ca, cert, key = make_ca(Handler.site.dir)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    aliases = {}

    def sni(sock, name, _ctx):
        """An alternate domain name gets its own certificate (from the same CA)
        when a distribution has it with an ISSUED ACM certificate covering it,
        at the distribution's minimum TLS version; any other name gets
        *.cloudfront.net's, as CloudFront's default."""
        if not name or name.endswith(".cloudfront.net"):
            return None
        try:
            minimum = Handler.site.alias_certificate(name)
        except Exception:  # noqa: BLE001 - a failed look-up is no certificate
            minimum = None
        if minimum is None:
            return None
        if name not in aliases:
            ca_key, ca_name = MAKE_CA[0]
            _, c, k = _leaf(Handler.site.dir, (name,), ca_key, ca_name, f"alias-{len(aliases)}", None)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(c, k)
            if minimum.startswith("TLSv1.2"):
                ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            aliases[name] = ctx
        sock.context = aliases[name]
        return None

    tls.sni_callback = sni
    edge = ThreadingHTTPServer(("127.0.0.1", 0), EdgeHandler)
    edge.daemon_threads = True
    edge.socket = tls.wrap_socket(edge.socket, server_side=True)
    threading.Thread(target=edge.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    print(f"EDGE {edge.server_address[1]}", flush=True)
    print(f"CA {ca}", flush=True)
    try:
        server.serve_forever()
    finally:
        shutil.rmtree(Handler.site.dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
