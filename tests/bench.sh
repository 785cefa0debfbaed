#!/usr/bin/env bash
# The benchmark (TECHNICAL.md, "Performance"): the binaries README.md's run
# command builds (the dev profile), or with --release the release ones, against
# moto behind the timing model of tests/support/awsproxy.py. Not part of the
# tests. Other arguments go to tests/support/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
if [ "${1:-}" = "--release" ]; then
  shift
  cargo build --release --locked --bins
  dir=target/release
else
  cargo build --locked --bins
  dir=target/debug
fi
.venv/bin/python tests/support/bench.py --bin-dir "$dir" "$@"
