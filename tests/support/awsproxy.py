#!/usr/bin/env python3
"""A fault- and timing-injecting HTTP proxy in front of moto_server.

moto answers at once and never says "not yet": instances are `running` the moment
they launch, load balancers are `active`, security groups delete even while a load
balancer's interfaces would hold them in AWS. This proxy puts AWS's timing and
failure behaviour back, so the tests (and the benchmark) can exercise the code
paths that only real AWS would reach:

  latency_ms               added to every request
  instance_pending_s       instances answer `pending` for N s after RunInstances
  instance_shutting_down_s instances answer `shutting-down` for N s after termination
  lb_provisioning_s        load balancers answer `provisioning` for N s after creation
  lb_linger_s              after DeleteLoadBalancer, its security groups answer
                           DependencyViolation and DescribeNetworkInterfaces shows
                           its interfaces for N s (AWS releases them late)
  sg_dependency_violations each security group answers DeleteSecurityGroup with
                           DependencyViolation this many times first
  register_pending_invalid RegisterTargets of a `pending` instance answers InvalidTarget
  target_initial_s         a registered target's health is `initial` for N s
  eventual_s               EC2's eventual consistency: for N s after CreateSecurityGroup,
                           ImportKeyPair or RunInstances, calls naming the new group,
                           key pair or instance answer InvalidGroup.NotFound (ELB:
                           InvalidSecurityGroup), InvalidKeyPair.NotFound or
                           InvalidInstanceID.NotFound
  eventual_for             ["Action", ...]: limit eventual_s's group answers to these calls
  lb_refused_zones         ["us-east-1e"]: CreateLoadBalancer with a subnet in one of these
                           zones answers "The following Availability Zones ... cannot be
                           associated with a load balancer"
  lb_interfaces_hidden     the lingering interfaces of a deleted load balancer hold its
                           group but are not listed by DescribeNetworkInterfaces
  iam_policy               a policy document: every request is evaluated against it as
                           AWS would (actions, resource ARNs, aws:RequestTag,
                           aws:ResourceTag of resources created through the proxy,
                           ec2:CreateAction for tag-on-create, and the EC2 permissions
                           ELB checks on the caller; EC2 and ELB calls: Auto Scaling's
                           are left to moto's own enforcement); denials answer
                           UnauthorizedOperation / AccessDenied and are listed in stats
  resign                   {"access_key", "secret_key"}: for moto's own IAM enforcement
                           (INITIAL_NO_AUTH_ACTION_COUNT). moto checks a signature over
                           the form body it re-encodes itself (spaces as '+', where the
                           SDK sends %20), so a request signed with this key is
                           re-encoded that way and signed again with the same key
                           (botocore, from the test virtual environment). Requests
                           signed with any other key pass unchanged, so moto still
                           refuses them; the proxy's own look-ups are signed too.
  target_unhealthy         {"reason": "Target.ResponseCodeMismatch", "description": "..."}:
                           every registered target reports `unhealthy` with that reason
                           code (instead of `initial` or `healthy`)
  instance_stops_s         an instance reports `stopped` (with AWS's state reason) N s
                           after RunInstances, as if it stopped while booting
  status_impaired_s        DescribeInstanceStatus reports an instance's status check
                           `impaired` (reachability failed) N s after its launch
  console_lines            ["line", ...]: GetConsoleOutput answers these lines (base64)
                           instead of moto's fixed sample; with console_line_every_s,
                           one more line every N s since the instance's launch
  deregistration_delay_s   how long a deregistered target drains, overriding the target
                           group's deregistration_delay.timeout_seconds (AWS: that
                           attribute, 300 s by default); moto removes targets at once
  slow_regions             {"region": seconds}: every request signed for that region
                           waits this long before it is forwarded (a region that
                           does not answer in time)
  fail_actions             {"Action": "Code"}: always answer that error
  fail_real_actions        the same, for requests that are not dry runs
  drop_after_actions       {"Action": n}: drop the connection after moto handled
                           the first n requests of that action (dry runs not counted)
  faults                   {"seed", "throttle", "error5xx", "drop_before", "drop_after"}:
                           rates (0..1) of throttling answers, 500/503 answers,
                           connections dropped before forwarding and connections
                           dropped after moto handled the request

Always on: a deregistered target is listed as `draining`
(Target.DeregistrationInProgress) for its target group's deregistration delay, as
AWS does (moto drops it at once). ImportKeyPair of an ed25519 key reports AWS's fingerprint (base64 SHA-256
of the public key; moto gives hex SHA-256 of its DER form). DescribeRegions lists
the enabled regions of the caller's partition only, as AWS does (moto adds China's,
GovCloud's and the opt-in regions not enabled).

Control endpoints (not forwarded): GET /__proxy/stats (requests per action,
the polling ones among them, injected faults, when each action was first
seen, in seconds since start or reset, IAM denials, and the parameters of every
request that is not a Describe, as JSON), POST /__proxy/reset (zero the counters).

Usage: awsproxy.py --upstream http://127.0.0.1:PORT [--port 0] [--config JSON]
Prints "PORT <n>" on stdout once listening. Standard library only (but `resign`,
which uses botocore); loopback only.
"""

import argparse
import base64
import fnmatch
import hashlib
import http.client
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15"
ELB_NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"


class State:
    def __init__(self, config):
        self.cfg = config
        self.lock = threading.Lock()
        self.launched = {}  # instance id -> launch time
        self.terminated = {}  # instance id -> termination time
        self.lb_created = {}  # lb arn -> creation time
        self.lb_groups = {}  # lb arn -> [sg ids]
        self.lb_deleted = {}  # lb arn -> deletion time
        self.sg_refusals = {}  # sg id -> refusals so far
        self.client_tokens = {}  # RunInstances client token -> first response
        self.registered = {}  # instance id -> RegisterTargets time
        self.draining = {}  # (target group arn, instance id) -> DeregisterTargets time
        self.tg_delay = {}  # target group arn -> deregistration delay set, seconds
        self.drops_left = dict(config.get("drop_after_actions") or {})
        self.stats = new_stats()
        self.created = {}  # group id / key name / instance id -> creation time (eventual_s)
        self.subnet_zone = {}  # subnet id -> zone, learnt from DescribeSubnets answers
        self.key_fingerprints = {}  # moto's fingerprint -> AWS's (ed25519 imports)
        self.resource_tags = {}  # resource id or ARN -> tags, for resources created here
        self.start = time.time()
        faults = config.get("faults") or {}
        self.rng = random.Random(faults.get("seed", 0))

    def count(self, key, name):
        with self.lock:
            d = self.stats[key]
            d[name] = d.get(name, 0) + 1

    def take_planned_drop(self, action):
        """drop_after_actions: {"Action": n} drops the connection after moto
        handled the first n requests of that action."""
        with self.lock:
            left = self.drops_left.get(action, 0)
            if left > 0:
                self.drops_left[action] = left - 1
                return True
            return False

    def first_seen(self, action):
        with self.lock:
            self.stats["first"].setdefault(action, round(time.time() - self.start, 3))

    def chance(self, rate):
        if not rate:
            return False
        with self.lock:
            return self.rng.random() < rate


def new_stats():
    return {"actions": {}, "injected": {}, "polls": {}, "first": {}, "denied": [], "requests": []}


def ec2_error(code, message, status=400):
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error></Errors><RequestID>proxy</RequestID></Response>"
    )
    return status, body


def elb_error(code, message, status=400):
    body = (
        f'<ErrorResponse xmlns="{ELB_NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
    )
    return status, body


def is_poll(action, params):
    """Whether a request is one of the tool's wait loops: describes by id/ARN
    (finds use filters or names) and the interface-linger check."""
    if action == "DescribeInstances":
        return any(k.startswith("InstanceId.") for k in params)
    if action == "DescribeLoadBalancers":
        return any(k.startswith("LoadBalancerArns.") for k in params)
    return action == "DescribeNetworkInterfaces"


def top_members(inner):
    """The top-level <member>...</member> elements of an XML list body."""
    out, depth, start = [], 0, None
    for m in re.finditer(r"<member>|</member>", inner):
        if m.group(0) == "<member>":
            if depth == 0:
                start = m.start()
            depth += 1
        else:
            depth -= 1
            if depth == 0 and start is not None:
                out.append(inner[start:m.end()])
    return out


def listener_port(member):
    """The listener's own <Port>, not one inside a nested list (DefaultActions)."""
    body = member[len("<member>"):-len("</member>")]
    for nested in top_members(body):
        body = body.replace(nested, "")
    m = re.search(r"<Port>(\d+)</Port>", body)
    return m.group(1) if m else None


def describe_name(text):
    m = re.search(r"<(Describe[A-Za-z]+)Response", text)
    return m.group(1) if m else "Describe"


INSTANCE_STATE = re.compile(
    r"(<instanceId>(i-[0-9a-f]+)</instanceId>.*?<instanceState><code>)(\d+)(</code><name>)([a-z-]+)(</name></instanceState>)",
    re.S,
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None
    upstream = None

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        if self.path.startswith("/__proxy/stats"):
            with self.state.lock:
                body = json.dumps(self.state.stats)
            return self.reply(200, body, "application/json")
        return self.forward(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__proxy/reset"):
            with self.state.lock:
                self.state.stats = new_stats()
                self.state.start = time.time()
            return self.reply(200, "{}", "application/json")
        return self.forward(body)

    # REST APIs (EventBridge Scheduler) use these too: forwarded as they are.
    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.forward(self.rfile.read(length) if length else b"")

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def service(self):
        auth = self.headers.get("Authorization", "")
        if "/elasticloadbalancing/" in auth:
            return "elb"
        if "/ec2/" in auth:
            return "ec2"
        if "/sts/" in auth:
            return "sts"
        return "other"

    def signed_region(self):
        # Credential=KEY/DATE/REGION/SERVICE/aws4_request
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", self.headers.get("Authorization", ""))
        return m.group(1) if m else None

    def forward(self, body):
        st = self.state
        cfg = st.cfg
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (params.get("Action") or [""])[0]
        svc = self.service()
        st.count("actions", action or self.path)
        st.first_seen(action)
        if is_poll(action, params):
            st.count("polls", action)
        err = ec2_error if svc == "ec2" else elb_error

        if cfg.get("latency_ms"):
            time.sleep(cfg["latency_ms"] / 1000.0)
        slow = (cfg.get("slow_regions") or {}).get(self.signed_region())
        if slow:
            st.count("injected", "slow_region")
            time.sleep(slow)

        faults = cfg.get("faults") or {}
        if action and st.chance(faults.get("drop_before")):
            st.count("injected", "drop_before")
            return self.drop()
        if action and st.chance(faults.get("throttle")):
            st.count("injected", "throttle")
            if svc == "ec2":
                return self.reply(*ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503))
            return self.reply(*elb_error("Throttling", "Rate exceeded", 400))
        if action and st.chance(faults.get("error5xx")):
            st.count("injected", "error5xx")
            status = st.rng.choice([500, 503])
            return self.reply(*err("InternalError" if status == 500 else "ServiceUnavailable",
                                   "injected server error", status))

        if action and not action.startswith("Describe"):
            with st.lock:
                st.stats["requests"].append({"action": action, "t": round(time.time() - st.start, 3),
                                             "params": {k: v[0] for k, v in params.items()}})

        if cfg.get("iam_policy") and action:
            denial = iam_check(st, svc, action, params)
            if denial:
                with st.lock:
                    st.stats["denied"].append(denial)
                if svc == "ec2":
                    return self.reply(*ec2_error("UnauthorizedOperation",
                                                 f"You are not authorized to perform this operation. ({denial})", 403))
                return self.reply(*elb_error("AccessDenied", f"User is not authorized to perform: {denial}", 403))

        fail = (cfg.get("fail_actions") or {}).get(action)
        if not fail and params.get("DryRun") != ["true"]:
            fail = (cfg.get("fail_real_actions") or {}).get(action)
        if fail:
            st.count("injected", "fail_action")
            return self.reply(*err(fail, f"injected failure of {action}"))

        now = time.time()
        pre = self.before(action, params, now, err)
        if pre is not None:
            st.count("injected", action + ":" + pre[1].split("<Code>")[1].split("<")[0])
            return self.reply(*pre)

        if action == "GetConsoleOutput" and cfg.get("console_lines") is not None:
            return self.reply(200, self.console_output(params, now))

        replay = self.idempotent_replay(action, params, svc)
        if replay is not None:
            st.count("injected", "replayed:" + action)
            if action and st.chance(faults.get("drop_after")):
                st.count("injected", "drop_after")
                return self.drop()
            return self.reply(200, self.after(action, params, replay, now))

        status, headers, data = self.upstream_call(body, own=False)
        if action == "RunInstances" and 200 <= status < 300:
            token = (params.get("ClientToken") or [""])[0]
            if token:
                with st.lock:
                    st.client_tokens.setdefault(token, data.decode("utf-8", "replace"))
        if action and (st.chance(faults.get("drop_after")) or (params.get("DryRun") != ["true"] and st.take_planned_drop(action))):
            st.count("injected", "drop_after")
            self.after(action, params, data.decode("utf-8", "replace"), now)
            return self.drop()
        text = data.decode("utf-8", "replace")
        if 200 <= status < 300:
            text = self.after(action, params, text, now)
        self.reply(status, text, headers.get("Content-Type", "text/xml"))

    def idempotent_replay(self, action, params, svc):
        """AWS's idempotency, which moto lacks: RunInstances with a client token
        seen before returns the first launch; CreateLoadBalancer/CreateTargetGroup
        with an existing name and CreateListener on a taken port return the
        existing resource instead of a second one."""
        st = self.state
        if action == "RunInstances":
            token = (params.get("ClientToken") or [""])[0]
            with st.lock:
                return st.client_tokens.get(token) if token else None
        lookups = {
            "CreateLoadBalancer": ("DescribeLoadBalancers", "Names.member.1", "Name"),
            "CreateTargetGroup": ("DescribeTargetGroups", "Names.member.1", "Name"),
        }
        if action in lookups:
            describe, key, param = lookups[action]
            name = (params.get(param) or [""])[0]
            q = {"Action": describe, "Version": "2015-12-01", key: name}
        elif action == "CreateListener":
            arn = (params.get("LoadBalancerArn") or [""])[0]
            q = {"Action": "DescribeListeners", "Version": "2015-12-01", "LoadBalancerArn": arn}
        else:
            return None
        status, _, data = self.upstream_call(urllib.parse.urlencode(q).encode())
        text = data.decode("utf-8", "replace")
        if status != 200 or "<member>" not in text:
            return None
        if action == "CreateListener":
            port = (params.get("Port") or [""])[0]
            inner = re.search(r"<Listeners>(.*)</Listeners>", text, re.S)
            members = top_members(inner.group(1)) if inner else []
            match = [m for m in members if listener_port(m) == port]
            if not match:
                return None
            text = re.sub(r"<Listeners>.*</Listeners>", lambda _: f"<Listeners>{match[0]}</Listeners>",
                          text, flags=re.S)
        return text.replace(describe_name(text), action)

    def upstream_call(self, body, own=True):
        """Forwards `body` to moto: the client's request (own=False) or one of the
        proxy's own look-ups (own=True)."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        # The Host the client signed is kept: moto checks signatures when its IAM
        # enforcement is on.
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "content-length")}
        body, headers = self.resigned(body, headers, own)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k: v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, hdrs, data

    def resigned(self, body, headers, own):
        """See `resign` in the module doc."""
        keys = self.state.cfg.get("resign")
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not keys or "Credential=" not in auth or (
                not own and f"Credential={keys['access_key']}/" not in auth):
            return body, headers
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        scope = auth.split("Credential=")[1].split(",")[0].split("/")
        region, service = scope[2], scope[3]
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if "x-www-form-urlencoded" in ctype:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            body = urllib.parse.urlencode(pairs).encode()
        # X-Amz-Target names the operation of the JSON protocols (the tagging API).
        kept = {k.lower(): v for k, v in headers.items()
                if k.lower() in ("host", "content-type", "x-amz-target")}
        req = AWSRequest(method=self.command, url=f"http://{kept.get('host', 'localhost')}{self.path}",
                         data=body, headers=kept)
        SigV4Auth(Credentials(keys["access_key"], keys["secret_key"]), service, region).add_auth(req)
        return body, dict(req.headers.items())

    def console_output(self, params, now):
        """GetConsoleOutput as AWS answers it, with the configured lines."""
        st, cfg = self.state, self.state.cfg
        iid = (params.get("InstanceId") or [""])[0]
        lines = cfg["console_lines"]
        every = cfg.get("console_line_every_s")
        if every:
            with st.lock:
                launched = st.launched.get(iid, now)
            lines = lines[:int((now - launched) / every) + 1]
        out = base64.b64encode(("\r\n".join(lines) + "\r\n").encode()).decode() if lines else ""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetConsoleOutputResponse xmlns="{EC2_NS}/">'
                f"<requestId>proxy-console</requestId><instanceId>{iid}</instanceId>"
                f"<timestamp>{stamp}</timestamp><output>{out}</output></GetConsoleOutputResponse>")

    # --- the timing model -------------------------------------------------
    def instance_model_state(self, iid, now):
        st, cfg = self.state, self.state.cfg
        with st.lock:
            t = st.terminated.get(iid)
            l = st.launched.get(iid)
        if t is not None and now - t < cfg.get("instance_shutting_down_s", 0):
            return ("32", "shutting-down")
        if t is None and l is not None and now - l < cfg.get("instance_pending_s", 0):
            return ("0", "pending")
        stops = cfg.get("instance_stops_s")
        if t is None and l is not None and stops is not None and now - l >= stops:
            return ("80", "stopped")
        return None

    def before(self, action, params, now, err):
        st, cfg = self.state, self.state.cfg
        eventual = cfg.get("eventual_s", 0)
        if eventual and params.get("DryRun") != ["true"]:
            def fresh(key):
                with st.lock:
                    t = st.created.get(key)
                return t is not None and now - t < eventual
            groups = [v[0] for k, v in params.items()
                      if k == "GroupId" or k.startswith("SecurityGroupId.") or k.startswith("SecurityGroups.member.")
                      or (k.startswith("NetworkInterface.") and ".SecurityGroupId." in k)]
            only = cfg.get("eventual_for")
            if action in ("AuthorizeSecurityGroupIngress", "RunInstances", "CreateLoadBalancer") and (
                    not only or action in only):
                for g in groups:
                    if fresh(g):
                        if action == "CreateLoadBalancer":
                            return elb_error("InvalidSecurityGroup", f"Security group '{g}' does not exist")
                        return ec2_error("InvalidGroup.NotFound", f"The security group '{g}' does not exist")
            if action == "RunInstances":
                kn = (params.get("KeyName") or [""])[0]
                if kn and fresh("key:" + kn):
                    return ec2_error("InvalidKeyPair.NotFound", f"The key pair '{kn}' does not exist")
            if action == "DescribeInstances":
                for k, v in params.items():
                    if k.startswith("InstanceId.") and fresh(v[0]):
                        return ec2_error("InvalidInstanceID.NotFound", f"The instance ID '{v[0]}' does not exist")
        refused = cfg.get("lb_refused_zones") or []
        if action == "CreateLoadBalancer" and refused:
            subnets = [v[0] for k, v in params.items() if k.startswith("Subnets.member.")]
            with st.lock:
                zones = [st.subnet_zone.get(sn) for sn in subnets]
            bad = [z for z in zones if z in refused]
            if bad:
                return elb_error("InvalidConfigurationRequest",
                                 f"The following Availability Zones {', '.join(bad)} cannot be associated "
                                 f"with a load balancer. Please try a different Availability Zone.")
        if action == "DeleteSecurityGroup":
            gid = (params.get("GroupId") or [""])[0]
            with st.lock:
                for arn, groups in st.lb_groups.items():
                    if gid not in groups:
                        continue
                    deleted = st.lb_deleted.get(arn)
                    if deleted is None or now - deleted < cfg.get("lb_linger_s", 0):
                        return ec2_error("DependencyViolation",
                                         f"resource {gid} has a dependent object")
                n = st.sg_refusals.get(gid, 0)
                if n < cfg.get("sg_dependency_violations", 0):
                    st.sg_refusals[gid] = n + 1
                    return ec2_error("DependencyViolation",
                                     f"resource {gid} has a dependent object")
        if action == "RegisterTargets" and cfg.get("register_pending_invalid"):
            for k, v in params.items():
                if k.startswith("Targets.member.") and k.endswith(".Id"):
                    s = self.instance_model_state(v[0], now)
                    if s and s[1] == "pending":
                        return elb_error("InvalidTarget",
                                         f"The following targets are not in a running state and "
                                         f"cannot be registered: '{v[0]}'")
        return None

    def after(self, action, params, text, now):
        st, cfg = self.state, self.state.cfg
        record_created(st, action, params, text, now)
        if action == "DescribeSubnets":
            with st.lock:
                for sid, zone in re.findall(r"<subnetId>(subnet-[0-9a-f]+)</subnetId>.*?<availabilityZone>([a-z0-9-]+)</availabilityZone>", text, re.S):
                    st.subnet_zone[sid] = zone
        if action == "ImportKeyPair":
            # moto's fingerprint of this key -> AWS's, replaced in every answer.
            material = (params.get("PublicKeyMaterial") or [""])[0]
            fp = aws_ed25519_fingerprint(material)
            moto_fp = re.search(r"<keyFingerprint>([^<]*)</keyFingerprint>", text)
            if fp and moto_fp:
                with st.lock:
                    st.key_fingerprints[moto_fp.group(1)] = fp
        if action == "DescribeRegions":
            # AWS lists the regions of the caller's partition only (an account
            # lives in one), and without AllRegions only the enabled ones; moto
            # lists China's and GovCloud's, and regions not opted in.
            part = partition_of(self.signed_region() or "us-east-1")
            every = params.get("AllRegions") == ["true"]

            def keep(m):
                item = m.group(0)
                name = re.search(r"<regionName>([a-z0-9-]+)</regionName>", item)
                opt = re.search(r"<optInStatus>([a-z-]+)</optInStatus>", item)
                if not name or partition_of(name.group(1)) != part:
                    return ""
                if not every and opt and opt.group(1) == "not-opted-in":
                    return ""
                return item
            text = re.sub(r"<item>(?:(?!</item>).)*</item>", keep, text, flags=re.S)
        if action in ("ImportKeyPair", "DescribeKeyPairs"):
            def fp_sub(m):
                with st.lock:
                    fp = st.key_fingerprints.get(m.group(1), m.group(1))
                return f"<keyFingerprint>{fp}</keyFingerprint>"
            text = re.sub(r"<keyFingerprint>([^<]*)</keyFingerprint>", fp_sub, text)
        if action == "RunInstances":
            with st.lock:
                for iid in re.findall(r"<instanceId>(i-[0-9a-f]+)</instanceId>", text):
                    st.launched.setdefault(iid, now)
        elif action == "TerminateInstances":
            with st.lock:
                for k, v in params.items():
                    if k.startswith("InstanceId."):
                        st.terminated.setdefault(v[0], now)
        elif action == "CreateLoadBalancer":
            arns = re.findall(r"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", text)
            groups = [v[0] for k, v in params.items() if k.startswith("SecurityGroups.member.")]
            with st.lock:
                for arn in arns:
                    st.lb_created.setdefault(arn, now)
                    st.lb_groups.setdefault(arn, groups)
        elif action == "RegisterTargets":
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                for k, v in params.items():
                    if k.startswith("Targets.member.") and k.endswith(".Id"):
                        st.registered.setdefault(v[0], now)
                        st.draining.pop((tg, v[0]), None)
        elif action == "DeleteLoadBalancer":
            arn = (params.get("LoadBalancerArn") or [""])[0]
            with st.lock:
                st.lb_deleted.setdefault(arn, now)
        elif action == "DeregisterTargets":
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                for k, v in params.items():
                    if k.startswith("Targets.member.") and k.endswith(".Id"):
                        st.draining[(tg, v[0])] = now
        elif action == "ModifyTargetGroupAttributes":
            tg = (params.get("TargetGroupArn") or [""])[0]
            for k, v in params.items():
                if k.endswith(".Key") and v[0] == "deregistration_delay.timeout_seconds":
                    val = (params.get(k[:-4] + ".Value") or ["300"])[0]
                    with st.lock:
                        st.tg_delay[tg] = int(val)

        if action in ("DescribeInstances", "RunInstances"):
            def sub(m):
                s = self.instance_model_state(m.group(2), now)
                if not s:
                    return m.group(0)
                return m.group(1) + s[0] + m.group(4) + s[1] + m.group(6)
            text = INSTANCE_STATE.sub(sub, text)
            if cfg.get("instance_stops_s") is not None:
                # AWS says why: <stateReason> with a code and a message.
                def reason_sub(m):
                    block = m.group(0)
                    if "<name>stopped</name>" in block and "<stateReason>" not in block:
                        block = block.replace(
                            "</instanceState>",
                            "</instanceState><stateReason><code>Server.InternalError</code>"
                            "<message>Server.InternalError: Internal error on launch</message></stateReason>", 1)
                    return block
                text = re.sub(r"<instanceId>i-[0-9a-f]+</instanceId>.*?</instanceState>", reason_sub, text,
                              flags=re.S)
        elif action in ("DescribeLoadBalancers", "CreateLoadBalancer"):
            prov = cfg.get("lb_provisioning_s", 0)
            def lb_sub(m):
                block = m.group(0)
                arn = re.search(r"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", block)
                with st.lock:
                    created = st.lb_created.get(arn.group(1)) if arn else None
                if created is not None and now - created < prov:
                    block = re.sub(r"<Code>active</Code>", "<Code>provisioning</Code>", block)
                return block
            text = re.sub(r"<member>\s*<LoadBalancerArn>.*?</member>\s*(?=<member>\s*<LoadBalancerArn>|</LoadBalancers>)",
                          lb_sub, text, flags=re.S)
        elif action == "DescribeInstanceStatus" and cfg.get("status_impaired_s") is not None:
            after_s = cfg["status_impaired_s"]

            def impaired_sub(m):
                item = m.group(0)
                iid = re.search(r"<instanceId>(i-[0-9a-f]+)</instanceId>", item)
                with st.lock:
                    launched = st.launched.get(iid.group(1)) if iid else None
                if launched is None or now - launched < after_s:
                    return item
                return re.sub(r"(<instanceStatus>.*?)<status>passed</status>(.*?)<status>ok</status>",
                              r"\1<status>failed</status>\2<status>impaired</status>", item, count=1,
                              flags=re.S)
            text = re.sub(r"<item><availabilityZone>.*?</systemStatus></item>", impaired_sub, text,
                          flags=re.S)
        elif action == "DescribeTargetHealth":
            initial = cfg.get("target_initial_s", 0)

            def health_sub(m):
                with st.lock:
                    t = st.registered.get(m.group(2))
                if t is not None and now - t < initial:
                    return m.group(1) + "initial" + m.group(3)
                return m.group(0)
            text = re.sub(r"(<Id>(i-[0-9a-f]+)</Id>.*?<State>)healthy(</State>)", health_sub, text,
                          flags=re.S)
            bad = cfg.get("target_unhealthy")
            if bad:
                text = re.sub(
                    r"<TargetHealth>.*?</TargetHealth>",
                    lambda m: (f"<TargetHealth><State>unhealthy</State><Reason>{bad['reason']}</Reason>"
                               f"<Description>{bad.get('description', 'Health checks failed')}</Description>"
                               f"</TargetHealth>"),
                    text, flags=re.S)
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                known = tg in st.tg_delay
                pending = any(arn == tg for (arn, _) in st.draining)
            if pending and not known and "deregistration_delay_s" not in cfg:
                # Set before this proxy started: moto keeps the attribute.
                q = {"Action": "DescribeTargetGroupAttributes", "Version": "2015-12-01",
                     "TargetGroupArn": tg}
                _, _, data = self.upstream_call(urllib.parse.urlencode(q).encode())
                m = re.search(r"<Key>deregistration_delay.timeout_seconds</Key>\s*<Value>(\d+)</Value>",
                              data.decode("utf-8", "replace"))
                with st.lock:
                    st.tg_delay[tg] = int(m.group(1)) if m else 300
            with st.lock:
                delay = cfg.get("deregistration_delay_s", st.tg_delay.get(tg, 300))
                draining = [iid for (arn, iid), t in st.draining.items()
                            if arn == tg and now - t < delay]
            for iid in draining:
                if f"<Id>{iid}</Id>" in text:
                    continue
                member = (f"<member><HealthCheckPort>80</HealthCheckPort><Target><Port>80</Port>"
                          f"<Id>{iid}</Id></Target><TargetHealth><State>draining</State>"
                          f"<Reason>Target.DeregistrationInProgress</Reason>"
                          f"<Description>Target deregistration is in progress</Description>"
                          f"</TargetHealth></member>")
                if "<TargetHealthDescriptions/>" in text:
                    text = text.replace("<TargetHealthDescriptions/>",
                                        f"<TargetHealthDescriptions>{member}</TargetHealthDescriptions>")
                else:
                    text = text.replace("</TargetHealthDescriptions>", member + "</TargetHealthDescriptions>")
        elif action == "DescribeNetworkInterfaces":
            desc = None
            for k, v in params.items():
                if k.startswith("Filter.") and k.endswith(".Name") and v[0] == "description":
                    desc = (params.get(k[:-5] + ".Value.1") or [""])[0]
            if desc and desc.startswith("ELB app/") and not cfg.get("lb_interfaces_hidden"):
                linger = cfg.get("lb_linger_s", 0)
                with st.lock:
                    held = [arn for arn, t in st.lb_deleted.items()
                            if arn.endswith("loadbalancer/" + desc[4:]) and now - t < linger]
                    held += [arn for arn in st.lb_created
                             if arn.endswith("loadbalancer/" + desc[4:]) and arn not in st.lb_deleted]
                if held:
                    item = (f"<item><networkInterfaceId>eni-0proxy0lingering</networkInterfaceId>"
                            f"<description>{desc}</description><status>in-use</status></item>")
                    text = re.sub(r"<networkInterfaceSet\s*/>", f"<networkInterfaceSet>{item}</networkInterfaceSet>", text)
                    text = text.replace("<networkInterfaceSet></networkInterfaceSet>",
                                        f"<networkInterfaceSet>{item}</networkInterfaceSet>")
        return text


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def aws_ed25519_fingerprint(material_b64):
    """AWS's fingerprint of an imported ed25519 key: base64 of the SHA-256 of the
    key's wire form (what `ssh-keygen -l` prints after SHA256:), with padding."""
    try:
        text = base64.b64decode(material_b64).decode()
        kind, blob = text.split()[:2]
    except Exception:
        return None
    if kind != "ssh-ed25519":
        return None
    return base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode()


def request_tags(svc, params):
    """The tags a create request carries: {resource type: {key: value}} for EC2
    TagSpecifications, {"*": {...}} for ELB Tags."""
    out = {}
    if svc == "ec2":
        for k, v in params.items():
            m = re.match(r"TagSpecification\.(\d+)\.ResourceType$", k)
            if m:
                n = m.group(1)
                tags = {}
                for k2, v2 in params.items():
                    m2 = re.match(rf"TagSpecification\.{n}\.Tag\.(\d+)\.Key$", k2)
                    if m2:
                        tags[v2[0]] = (params.get(f"TagSpecification.{n}.Tag.{m2.group(1)}.Value") or [""])[0]
                out[v[0]] = tags
    else:
        tags = {}
        for k, v in params.items():
            m = re.match(r"Tags\.member\.(\d+)\.Key$", k)
            if m:
                tags[v[0]] = (params.get(f"Tags.member.{m.group(1)}.Value") or [""])[0]
        if tags:
            out["*"] = tags
    return out


def record_created(st, action, params, text, now):
    """Creation times (eventual_s) and tags (aws:ResourceTag) of what was created here."""
    svc_tags = request_tags("ec2" if action in ("CreateSecurityGroup", "ImportKeyPair", "RunInstances",
                                                "CreateLaunchTemplate") else "elb", params)
    with st.lock:
        if action == "CreateSecurityGroup":
            for gid in re.findall(r"<groupId>(sg-[0-9a-f]+)</groupId>", text):
                st.created.setdefault(gid, now)
                st.resource_tags[gid] = svc_tags.get("security-group", {})
        elif action == "ImportKeyPair":
            name = (params.get("KeyName") or [""])[0]
            st.created.setdefault("key:" + name, now)
            st.resource_tags["key:" + name] = svc_tags.get("key-pair", {})
            for kid in re.findall(r"<keyPairId>(key-[0-9a-f]+)</keyPairId>", text):
                st.resource_tags[kid] = svc_tags.get("key-pair", {})
        elif action == "CreateLaunchTemplate":
            for ltid in re.findall(r"<launchTemplateId>(lt-[0-9a-f]+)</launchTemplateId>", text):
                st.resource_tags[ltid] = svc_tags.get("launch-template", {})
        elif action == "RunInstances":
            for iid in re.findall(r"<instanceId>(i-[0-9a-f]+)</instanceId>", text):
                st.created.setdefault(iid, now)
                st.resource_tags[iid] = svc_tags.get("instance", {})
        elif action in ("CreateLoadBalancer", "CreateTargetGroup", "CreateListener"):
            tag = {"CreateLoadBalancer": "LoadBalancerArn", "CreateTargetGroup": "TargetGroupArn",
                   "CreateListener": "ListenerArn"}[action]
            for arn in re.findall(rf"<{tag}>([^<]+)</{tag}>", text):
                st.resource_tags.setdefault(arn, svc_tags.get("*", {}))


# The "Elastic Load Balancing API permissions" page: EC2 (and IAM) actions the
# *caller* needs for these ELB calls, checked by ELB on the caller's behalf.
ELB_IMPLICIT = {
    "CreateLoadBalancer": ["ec2:DescribeAccountAttributes", "ec2:DescribeAddresses",
                           "ec2:DescribeInternetGateways", "ec2:DescribeSecurityGroups",
                           "ec2:DescribeSubnets", "ec2:DescribeVpcs", "iam:CreateServiceLinkedRole"],
    "CreateTargetGroup": ["ec2:DescribeInternetGateways", "ec2:DescribeVpcs"],
    "RegisterTargets": ["ec2:DescribeInstances", "ec2:DescribeInternetGateways",
                        "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
    "SetSecurityGroups": ["ec2:DescribeSecurityGroups"],
    "SetSubnets": ["ec2:DescribeSubnets"],
}

ARN = "arn:aws:{svc}:us-east-1:123456789012:{res}"


def ec2_resources(action, params, st):
    """(ARN, request tags, resource tags) for every resource EC2 authorizes."""
    def tags_of(key):
        with st.lock:
            return st.resource_tags.get(key)
    rt = request_tags("ec2", params)
    res = []
    if action == "RunInstances":
        res.append((ARN.format(svc="ec2", res="instance/*"), rt.get("instance", {}), None))
        res.append((ARN.format(svc="ec2", res="volume/*"), rt.get("volume", rt.get("instance", {})), None))
        res.append(("arn:aws:ec2:us-east-1::image/" + (params.get("ImageId") or ["*"])[0], {}, {}))
        sub = (params.get("SubnetId") or params.get("NetworkInterface.1.SubnetId") or ["*"])[0]
        res.append((ARN.format(svc="ec2", res="subnet/" + sub), {}, {}))
        res.append((ARN.format(svc="ec2", res="network-interface/*"), {}, None))
        for k, v in params.items():
            if k.startswith("SecurityGroupId.") or (k.startswith("NetworkInterface.") and ".SecurityGroupId." in k):
                res.append((ARN.format(svc="ec2", res="security-group/" + v[0]), {}, tags_of(v[0]) or {}))
        if params.get("KeyName"):
            res.append((ARN.format(svc="ec2", res="key-pair/" + params["KeyName"][0]), {}, {}))
    elif action == "CreateSecurityGroup":
        res.append((ARN.format(svc="ec2", res="security-group/*"), rt.get("security-group", {}), None))
        res.append((ARN.format(svc="ec2", res="vpc/" + (params.get("VpcId") or ["*"])[0]), {}, {}))
    elif action in ("ImportKeyPair", "CreateKeyPair"):
        res.append((ARN.format(svc="ec2", res="key-pair/" + (params.get("KeyName") or ["*"])[0]), rt.get("key-pair", {}), None))
    elif action in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "DeleteSecurityGroup"):
        gid = (params.get("GroupId") or ["*"])[0]
        res.append((ARN.format(svc="ec2", res="security-group/" + gid), {}, tags_of(gid) or {}))
    elif action in ("TerminateInstances", "StartInstances", "StopInstances"):
        for k, v in params.items():
            if k.startswith("InstanceId."):
                res.append((ARN.format(svc="ec2", res="instance/" + v[0]), {}, tags_of(v[0]) or {}))
    elif action == "GetConsoleOutput":
        iid = (params.get("InstanceId") or ["*"])[0]
        res.append((ARN.format(svc="ec2", res="instance/" + iid), {}, tags_of(iid) or {}))
    elif action == "CreateLaunchTemplate":
        res.append((ARN.format(svc="ec2", res="launch-template/*"), rt.get("launch-template", {}), None))
    elif action in ("CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplate"):
        ltid = (params.get("LaunchTemplateId") or ["*"])[0]
        res.append((ARN.format(svc="ec2", res="launch-template/" + ltid), {}, tags_of(ltid) or {}))
    elif action in ("CreateTags", "DeleteTags"):
        kinds = {"sg-": "security-group", "i-": "instance", "key-": "key-pair", "vol-": "volume",
                 "lt-": "launch-template"}
        for k, v in params.items():
            if k.startswith("ResourceId."):
                rid = v[0]
                kind = next((n for pre, n in kinds.items() if rid.startswith(pre)), "resource")
                res.append((ARN.format(svc="ec2", res=f"{kind}/{rid}"), tag_params(params, "Tag"),
                            tags_of(rid) or {}))
    elif action == "DeleteKeyPair":
        name = (params.get("KeyName") or ["*"])[0]
        res.append((ARN.format(svc="ec2", res="key-pair/" + name), {}, tags_of("key:" + name) or {}))
    else:
        res.append(("*", {}, {}))
    return res


def tag_params(params, prefix):
    """The tags of a CreateTags / DeleteTags (prefix "Tag") or AddTags /
    RemoveTags (prefix "Tags.member" / "TagKeys.member") request: {key: value}."""
    out = {}
    for k, v in params.items():
        m = re.match(rf"{re.escape(prefix)}\.(\d+)(\.Key)?$", k)
        if m and (m.group(2) or prefix.startswith("TagKeys")):
            out[v[0]] = (params.get(f"{prefix}.{m.group(1)}.Value") or [""])[0]
    return out


def elb_resources(action, params, st):
    rt = request_tags("elb", params).get("*", {})
    if action in ("AddTags", "RemoveTags"):
        tags = tag_params(params, "Tags.member" if action == "AddTags" else "TagKeys.member")
        out = []
        for k, v in params.items():
            if k.startswith("ResourceArns.member."):
                with st.lock:
                    out.append((v[0], tags, st.resource_tags.get(v[0]) or {}))
        return out
    arn = None
    for key in ("LoadBalancerArn", "TargetGroupArn", "ListenerArn"):
        if params.get(key):
            arn = params[key][0]
    if action in ("CreateLoadBalancer", "CreateTargetGroup", "CreateListener"):
        return [("*", rt, None)]
    if arn and not action.startswith("Describe"):
        with st.lock:
            return [(arn, {}, st.resource_tags.get(arn) or {})]
    return [("*", {}, {})]


def statement_allows(stmt, action, resource, ctx):
    actions = stmt.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
        return False
    resources = stmt.get("Resource", "*")
    resources = [resources] if isinstance(resources, str) else resources
    if not any(r == "*" or fnmatch.fnmatchcase(resource, r) for r in resources):
        return False
    for op, conds in (stmt.get("Condition") or {}).items():
        for key, want in conds.items():
            want = [want] if isinstance(want, str) else want
            if op == "StringEquals":
                if ctx.get(key) not in want:
                    return False
            elif op == "ForAllValues:StringNotEquals":
                # Every value of a multi-valued key (none passes) is outside `want`.
                if any(v in want for v in ctx.get(key) or []):
                    return False
            else:
                return False  # not modelled: fail closed
    return stmt.get("Effect") == "Allow"


def allowed(policy, action, resource, ctx):
    return any(statement_allows(s, action, resource, ctx) for s in policy["Statement"])


def iam_check(st, svc, action, params):
    """The first permission AWS would deny for this request, or None."""
    policy = st.cfg["iam_policy"]
    if svc == "sts" and action == "GetCallerIdentity":
        return None  # needs no permission
    if svc not in ("ec2", "elb"):
        return None
    prefix = "ec2" if svc == "ec2" else "elasticloadbalancing"
    full = f"{prefix}:{action}"
    resources = ec2_resources(action, params, st) if svc == "ec2" else elb_resources(action, params, st)
    for arn, req_tags, res_tags in resources:
        ctx = {f"aws:RequestTag/{k}": v for k, v in (req_tags or {}).items()}
        ctx["aws:TagKeys"] = list(req_tags or {})
        if res_tags is not None:
            ctx.update({f"aws:ResourceTag/{k}": v for k, v in res_tags.items()})
        if not allowed(policy, full, arn, ctx):
            return f"{full} on {arn}"
        # Tag on create is authorized as CreateTags / AddTags on the new resource.
        if req_tags and res_tags is None:
            tag_action = "ec2:CreateTags" if svc == "ec2" else "elasticloadbalancing:AddTags"
            ctx[f"{prefix}:CreateAction"] = action
            if not allowed(policy, tag_action, arn, ctx):
                return f"{tag_action} (on {action}) on {arn}"
    for needed in ELB_IMPLICIT.get(action, []) if svc == "elb" else []:
        if needed == "iam:CreateServiceLinkedRole":
            ctx = {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
            arn = "arn:aws:iam::123456789012:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
        else:
            ctx, arn = {}, "*"
        if not allowed(policy, needed, arn, ctx):
            return f"{needed} (checked by ELB for {action})"
    return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The tool opens a dozen connections at once (its look-ups run together).
    # socketserver's default listen backlog of 5 drops the extra SYNs, which the
    # client's kernel resends after 1 s: a stall AWS's endpoints never cause.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hung up (a killed deploy, an abandoned call) is normal here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--config", default="{}")
    args = ap.parse_args()
    Handler.state = State(json.loads(args.config))
    Handler.upstream = urllib.parse.urlparse(args.upstream)
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
