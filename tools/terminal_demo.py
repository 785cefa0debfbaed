#!/usr/bin/env python3
"""Makes README.md's picture of a deploy, from a real run.

Runs `deploy` (the binaries in --bin-dir) against moto behind the test proxy,
with AWS-like delays shortened, in a scratch directory holding the repository's
deploy.toml, and writes what it printed (stderr's progress lines, then stdout's
summary) into README.md between the markers

    <!-- terminal: ... -->
    ...
    <!-- /terminal -->

so the picture can be made again whenever the output changes. With --check it
writes nothing and exits 1 when README.md's picture no longer has the shape of
the output (ids, addresses, times and durations aside): the test command runs
that, so a stale picture fails the tests.

Usage: .venv/bin/python tools/terminal_demo.py --bin-dir target/debug [--check]
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(ROOT, "tests", "support")
sys.path.insert(0, SUPPORT)

import bench  # noqa: E402  (Stack, warm_up)

START = "<!-- terminal: made by tools/terminal_demo.py from a run against the test emulator; run it again when the output changes -->"
END = "<!-- /terminal -->"
DELAYS = {"latency_ms": 10, "instance_pending_s": 2, "lb_provisioning_s": 3,
          "register_pending_invalid": True}


def run_deploy(bin_dir):
    """The text a learner sees: deploy's stderr, then its stdout."""
    stack = bench.Stack(DELAYS)
    try:
        bench.warm_up(f"http://127.0.0.1:{stack.moto_port}")
        env = dict(stack.env, HOME=stack.work)
        p = subprocess.run([os.path.join(bin_dir, "deploy")], cwd=stack.work, env=env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            raise SystemExit(f"deploy exited {p.returncode}")
        subprocess.run([os.path.join(bin_dir, "cleanup"), "--yes"], cwd=stack.work, env=env,
                       capture_output=True)
        text = p.stderr + p.stdout
        # The scratch directory and the binary's path as a learner's would read.
        text = text.replace(stack.work, "/home/me/sitedeploy").replace(bin_dir, "target/debug")
        return text.rstrip() + "\n"
    finally:
        stack.close()


def shape(text):
    """The text without what differs from run to run: ids, addresses, times,
    durations, ARN suffixes, dates."""
    subs = [
        (r"\b(i|sg|key|lt|vpc|subnet|ami|eni|pl)-[0-9a-f]{8,17}\b", r"\1-ID"),
        (r"\b[a-z0-9]{13,14}\.cloudfront\.net\b", "D.cloudfront.net"),
        (r"\b[A-Z0-9]{13,14}\b", "DIST-ID"),
        (r"/[0-9a-f]{16}\b", "/ID"),
        (r"\b\d{1,3}(\.\d{1,3}){3}(/32)?\b", "IP"),
        (r"\[\s*\d+\.\d+s\]", "[T]"),
        (r"took \d+\.\d+s", "took T"),
        (r"waited \d+s", "waited T"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "DATE"),
        (r"in \d+ h \d+ min", "in H"),
        (r"al2023-ami-[\w.-]+", "AMI"),
        (r"\$\d+\.\d{2} in \d+\.\d hours", "$SOFAR"),
        (r"alb-\d+\.", "alb-N."),
    ]
    for pat, rep in subs:
        text = re.sub(pat, rep, text)
    # Lines of one step can interleave differently: compare the set of lines.
    return sorted(l.rstrip() for l in text.splitlines() if l.strip())


def readme_block(readme):
    if START not in readme or END not in readme:
        raise SystemExit("README.md has no terminal picture markers")
    inner = readme.split(START, 1)[1].split(END, 1)[0]
    m = re.search(r"```text\n(.*?)```", inner, re.S)
    return m.group(1) if m else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = run_deploy(os.path.abspath(args.bin_dir))
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as f:
        readme = f.read()
    if args.check:
        have, want = shape(readme_block(readme)), shape(text)
        if have != want:
            missing = [l for l in want if l not in have]
            extra = [l for l in have if l not in want]
            print("README.md's terminal picture is stale (run tools/terminal_demo.py):")
            for l in missing:
                print("  output has:  " + l)
            for l in extra:
                print("  README has:  " + l)
            raise SystemExit(1)
        return
    block = f"{START}\n```text\n{text}```\n{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    main()
