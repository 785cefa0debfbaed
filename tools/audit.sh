#!/usr/bin/env bash
# cargo audit, including the crates in vendor/. cargo-audit skips path
# dependencies, so the trimmed SDK crates (tools/*.trim) would never be matched
# against an advisory: this audits a copy of Cargo.lock in which each of them is
# the published crate it was made from (same name, version and checksum).
#   tools/audit.sh [advisory-db]    (default ../shared/advisory-db, offline)
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-../shared/advisory-db}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
PYTHONDONTWRITEBYTECODE=1 python3 - "$tmp/Cargo.lock" tools/*.trim <<'PY'
import sys
sys.path.insert(0, "tools")
from trim_sdk import read_config  # the one reader of tools/*.trim
out, configs = sys.argv[1], sys.argv[2:]
lock = open("Cargo.lock", encoding="utf-8").read()
for path in configs:
    conf = read_config(path)
    entry = f'name = "{conf["crate"]}"\nversion = "{conf["version"]}"\n'
    if lock.count(entry) != 1:
        sys.exit(f"{path}: {conf['crate']} {conf['version']} is not in Cargo.lock once")
    lock = lock.replace(entry, entry + 'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
                        f'checksum = "{conf["sha256"]}"\n')
open(out, "w", encoding="utf-8").write(lock)
PY
cargo audit --db "$db" --no-fetch -f "$tmp/Cargo.lock"
