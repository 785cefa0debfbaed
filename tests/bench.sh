#!/usr/bin/env bash
# The benchmark (TECHNICAL.md, "Performance"): release binaries against moto
# behind the timing model of tests/support/awsproxy.py. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/support/venv.sh
cargo build --release --locked --bins
.venv/bin/python tests/support/bench.py --bin-dir target/release "$@"
