#!/usr/bin/env bash
# The test command (README.md): installs what the tests need on a machine with
# only Rust, Python 3 and pip -- a pinned moto[server] in ./.venv -- then runs
# every test. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
if ! .venv/bin/python -c "import sys, moto; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "installing moto[server]==$MOTO_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

cargo test --locked "$@"
