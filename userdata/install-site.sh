#!/bin/bash
# Instance bootstrap for a folder of your own ([site] in deploy.toml), rendered
# by `deploy` from userdata/install-site.sh. Installs a web server, fetches the
# folder deploy packed and uploaded to this tool's private S3 bucket (with the
# instance profile's role, which may read only this deployment's objects),
# checks the SHA-256 of what it unpacks to against the one deploy computed,
# and unpacks it. Serves a
# fallback page when any of that fails, so the learner sees what went wrong.
# Next to the site it publishes /sitedeploy.json: the deployment, its
# fingerprint, the content, this instance and the result ("installed", or
# "fallback" with the reason). `deploy` accepts the site only when every new
# instance's marker says "installed" with the current fingerprint. Nothing
# here is a secret: the role's credentials come from the instance metadata.
#
# Placeholders in double braces are replaced by `deploy` with values it made
# (names, a hex digest): no quotes, spaces or shell metacharacters.
# ROOT is empty on the instance; the test suite sets it to a scratch directory.
set -uo pipefail

BUCKET='{{site_bucket}}'
KEY='{{site_key}}'
SHA256='{{site_sha256}}'
REGION='{{region}}'
ACCOUNT='{{account}}'
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
<p>Your site could not be installed: $1.</p>
<p>Details are in /var/log/sitedeploy-userdata.log on the instance.</p></body></html>
HTML
  echo "sitedeploy: fallback page served ($1)"
}

install_ok=1
for attempt in 1 2 3; do
  if dnf install -y httpd; then install_ok=0; break; fi
  echo "sitedeploy: dnf failed (attempt $attempt), retrying"
  sleep 5
done
if [ "$install_ok" -ne 0 ]; then
  echo "sitedeploy: could not install httpd"
  result=fallback
  reason="httpd could not be installed"
fi

# The AWS CLI (in Amazon Linux 2023) takes the role's credentials from the
# instance metadata; it asks once by default, so it is told to ask again, and
# the copy is retried: the role can take a few seconds to reach the instance.
export AWS_METADATA_SERVICE_NUM_ATTEMPTS=5 AWS_METADATA_SERVICE_TIMEOUT=2
# Not /tmp: on Amazon Linux 2023 it is a tmpfs in memory.
mkdir -p "$ROOT/var/tmp"
work="$(mktemp -d -p "$ROOT/var/tmp")"
archive="$work/site.tar.gz"
fetched=1
for attempt in 1 2 3 4 5 6; do
  if aws s3 cp "s3://$BUCKET/$KEY" "$archive" --region "$REGION" \
    --expected-bucket-owner "$ACCOUNT" --only-show-errors; then
    fetched=0; break
  fi
  echo "sitedeploy: fetching s3://$BUCKET/$KEY failed (attempt $attempt), retrying"
  sleep 5
done
if [ "$fetched" -ne 0 ]; then
  fallback "the content could not be fetched from s3://$BUCKET/$KEY"
elif ! digest="$(gzip -dc "$archive" | sha256sum | cut -d' ' -f1)" || [ "$digest" != "$SHA256" ]; then
  fallback "the content fetched from s3://$BUCKET/$KEY is not what deploy uploaded"
elif mkdir -p "$work/unpacked" && tar -xzf "$archive" -C "$work/unpacked" --no-same-owner \
  && cp -R "$work/unpacked/." "$WEB_ROOT/"; then
  echo "sitedeploy: site installed in $WEB_ROOT"
else
  fallback "the content from s3://$BUCKET/$KEY could not be unpacked into $WEB_ROOT"
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
