# Sourced by tests/run.sh and tests/bench.sh: makes sure ./.venv holds the pinned
# moto[server] and jsonschema (the JSON outputs' checker), installing them on a
# machine that has only Python 3 and pip.
MOTO_VERSION=5.2.5
JSONSCHEMA_VERSION=4.26.0
if ! .venv/bin/python -c "
import sys, moto, importlib.metadata as m
sys.exit(moto.__version__ != '$MOTO_VERSION' or m.version('jsonschema') != '$JSONSCHEMA_VERSION')
" 2>/dev/null; then
  echo "installing moto[server]==$MOTO_VERSION and jsonschema==$JSONSCHEMA_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    "jsonschema==$JSONSCHEMA_VERSION"
fi
