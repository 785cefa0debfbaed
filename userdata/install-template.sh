#!/bin/bash
# Instance bootstrap, rendered by `deploy` from userdata/install-template.sh.
# Installs a web server and the tooplate.com template; serves a fallback page
# when the download fails, so the load balancer health check still passes and
# the learner sees what went wrong.
#
# Placeholders in double braces are replaced by `deploy` with values that
# deploy.toml validation has restricted to URL-safe characters without quotes.
# ROOT is empty on the instance; the test suite sets it to a scratch directory.
set -uo pipefail

TEMPLATE_URL='{{template_url}}'
TEMPLATE_NAME='{{template_name}}'
DEPLOYMENT='{{deployment}}'
ROOT="${SITEDEPLOY_ROOT:-}"
WEB_ROOT="$ROOT/var/www/html"
LOG="$ROOT/var/log/sitedeploy-userdata.log"

mkdir -p "$(dirname "$LOG")" "$WEB_ROOT"
exec > >(tee -a "$LOG") 2>&1
echo "sitedeploy: installing $TEMPLATE_NAME for $DEPLOYMENT"

fallback() {
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

chown -R apache:apache "$WEB_ROOT" 2>/dev/null || true
systemctl enable --now httpd
echo "sitedeploy: done"
