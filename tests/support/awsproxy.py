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
  fail_actions             {"Action": "Code"}: always answer that error
  drop_after_actions       {"Action": n}: drop the connection after moto handled
                           the first n requests of that action (dry runs not counted)
  faults                   {"seed", "throttle", "error5xx", "drop_before", "drop_after"}:
                           rates (0..1) of throttling answers, 500/503 answers,
                           connections dropped before forwarding and connections
                           dropped after moto handled the request

Control endpoints (not forwarded): GET /__proxy/stats (requests per action,
the polling ones among them, injected faults, and when each action was first
seen, in seconds since start or reset, as JSON), POST /__proxy/reset (zero the counters).

Usage: awsproxy.py --upstream http://127.0.0.1:PORT [--port 0] [--config JSON]
Prints "PORT <n>" on stdout once listening. Standard library only; loopback only.
"""

import argparse
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
        self.drops_left = dict(config.get("drop_after_actions") or {})
        self.stats = {"actions": {}, "injected": {}, "polls": {}, "first": {}}
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
                self.state.stats = {"actions": {}, "injected": {}, "polls": {}, "first": {}}
                self.state.start = time.time()
            return self.reply(200, "{}", "application/json")
        return self.forward(body)

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
        return "other"

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

        fail = (cfg.get("fail_actions") or {}).get(action)
        if fail:
            st.count("injected", "fail_action")
            return self.reply(*err(fail, f"injected failure of {action}"))

        now = time.time()
        pre = self.before(action, params, now, err)
        if pre is not None:
            st.count("injected", action + ":" + pre[1].split("<Code>")[1].split("<")[0])
            return self.reply(*pre)

        replay = self.idempotent_replay(action, params, svc)
        if replay is not None:
            st.count("injected", "replayed:" + action)
            if action and st.chance(faults.get("drop_after")):
                st.count("injected", "drop_after")
                return self.drop()
            return self.reply(200, self.after(action, params, replay, now))

        status, headers, data = self.upstream_call(body)
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

    def upstream_call(self, body):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length")}
        headers["Host"] = f"{self.upstream.hostname}:{self.upstream.port}"
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k: v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, hdrs, data

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
        return None

    def before(self, action, params, now, err):
        st, cfg = self.state, self.state.cfg
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
            with st.lock:
                for k, v in params.items():
                    if k.startswith("Targets.member.") and k.endswith(".Id"):
                        st.registered.setdefault(v[0], now)
        elif action == "DeleteLoadBalancer":
            arn = (params.get("LoadBalancerArn") or [""])[0]
            with st.lock:
                st.lb_deleted.setdefault(arn, now)

        if action in ("DescribeInstances", "RunInstances"):
            def sub(m):
                s = self.instance_model_state(m.group(2), now)
                if not s:
                    return m.group(0)
                return m.group(1) + s[0] + m.group(4) + s[1] + m.group(6)
            text = INSTANCE_STATE.sub(sub, text)
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
        elif action == "DescribeNetworkInterfaces":
            desc = None
            for k, v in params.items():
                if k.startswith("Filter.") and k.endswith(".Name") and v[0] == "description":
                    desc = (params.get(k[:-5] + ".Value.1") or [""])[0]
            if desc and desc.startswith("ELB app/"):
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


class Server(ThreadingHTTPServer):
    daemon_threads = True

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
