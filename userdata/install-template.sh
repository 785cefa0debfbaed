#!/bin/bash
# Instance bootstrap, rendered by `deploy` from userdata/install-template.sh.
# Installs a web server and the tooplate.com template; serves a fallback page
# when the download fails, so the learner sees what went wrong. Next to the
# site it publishes /sitedeploy.json: the deployment, its fingerprint, the
# template, this instance and the result ("installed", or "fallback" with the
# reason). `deploy` accepts the site only when every new instance's marker says
# "installed" with the current fingerprint. Its lines go to the log file and to
# cloud-init's output, which reaches the console (GetConsoleOutput, `logs`).
#
# Placeholders in double braces are replaced by `deploy` with values that
# deploy.toml validation has restricted to URL-safe characters without quotes.
# ROOT is empty on the instance; the test suite sets it to a scratch directory.
set -uo pipefail

TEMPLATE_URL='{{template_url}}'
TEMPLATE_NAME='{{template_name}}'
DEPLOYMENT='{{deployment}}'
FINGERPRINT='{{fingerprint}}'
ROOT="${SITEDEPLOY_ROOT:-}"
WEB_ROOT="$ROOT/var/www/html"
LOG="$ROOT/var/log/sitedeploy-userdata.log"

mkdir -p "$(dirname "$LOG")" "$WEB_ROOT"
exec > >(tee -a "$LOG") 2>&1
echo "sitedeploy: installing $TEMPLATE_NAME for $DEPLOYMENT ($FINGERPRINT)"

result=installed
reason=""
fallback() {
  result=fallback
  reason="$1"
  cat > "$WEB_ROOT/index.html" <<HTML
<!doctype html>
<html><head><meta charset="utf-8"><title>$DEPLOYMENT</title></head>
<body><h1>$DEPLOYMENT is running</h1>
<p>The template $TEMPLATE_NAME could not be installed: $1.</p>
<p>Details are in /var/log/sitedeploy-userdata.log on the instance.</p></body></html>
HTML
  echo "sitedeploy: fallback page served ($1)"
}

install_ok=1
for attempt in 1 2 3; do
  if dnf install -y httpd unzip; then install_ok=0; break; fi
  echo "sitedeploy: dnf failed (attempt $attempt), retrying"
  sleep 5
done
if [ "$install_ok" -ne 0 ]; then
  echo "sitedeploy: could not install httpd and unzip"
  result=fallback
  reason="httpd and unzip could not be installed"
fi

work="$(mktemp -d)"
zip="$work/template.zip"
if curl -fsSL --retry 3 --retry-delay 2 --max-time 120 -o "$zip" "$TEMPLATE_URL" \
  && unzip -q -o "$zip" -d "$work/unpacked"; then
  # tooplate zips hold one folder with index.html; take the shallowest index.html.
  index="$(find "$work/unpacked" -name index.html -type f | awk '{ print length, $0 }' | sort -n | head -n 1 | cut -d' ' -f2-)"
  if [ -n "$index" ]; then
    cp -R "$(dirname "$index")/." "$WEB_ROOT/"
    echo "sitedeploy: template installed in $WEB_ROOT"
  else
    fallback "the download has no index.html"
  fi
else
  fallback "the download from $TEMPLATE_URL failed"
fi
rm -rf "$work"

# The marker, written before the web server starts: whatever serves, says what
# it serves. cloud-init records the instance id; values are validated by deploy
# (no quotes or backslashes), so plain printf makes valid JSON.
instance="$(cat "$ROOT/var/lib/cloud/data/instance-id" 2>/dev/null || echo unknown)"
printf '{"deployment":"%s","fingerprint":"%s","template":"%s","instance":"%s","result":"%s","reason":"%s"}\n' \
  "$DEPLOYMENT" "$FINGERPRINT" "$TEMPLATE_NAME" "$instance" "$result" "$reason" \
  > "$WEB_ROOT/sitedeploy.json.tmp" && mv "$WEB_ROOT/sitedeploy.json.tmp" "$WEB_ROOT/sitedeploy.json"
echo "sitedeploy: marker: $result${reason:+ ($reason)}"

chown -R apache:apache "$WEB_ROOT" 2>/dev/null || true
if systemctl enable --now httpd; then
  echo "sitedeploy: done"
else
  echo "sitedeploy: httpd did not start"
fi
