# Sourced by tests/run.sh and tests/bench.sh: makes sure ./.venv holds the pinned
# moto[server], installing it on a machine that has only Python 3 and pip.
MOTO_VERSION=5.2.5
if ! .venv/bin/python -c "import sys, moto; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "installing moto[server]==$MOTO_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
