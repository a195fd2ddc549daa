#!/bin/sh
# Starts the registry with Berth's secrets, read from the shared volume the
# init step fills: distribution reads its configuration from one file plus
# REGISTRY_* variables, and a secret belongs in neither the file nor compose.
set -eu

state="${BERTH_STATE_DIR:-/run/berth}"
notify="$(cat "$state/secrets/notify")"
REGISTRY_HTTP_SECRET="$(cat "$state/secrets/registry-http")"
# The one endpoint: Berth's syncer, authenticated by the shared secret (the
# syncer refuses notifications without it).
REGISTRY_NOTIFICATIONS_ENDPOINTS="[{\"name\": \"berth-syncer\", \
\"url\": \"${BERTH_SYNCER_URL:-http://syncer:5003}/v2/webhooks/events\", \
\"headers\": {\"Authorization\": [\"Bearer ${notify}\"]}, \
\"timeout\": \"3s\", \"threshold\": 5, \"backoff\": \"1s\", \
\"ignoredmediatypes\": [\"application/octet-stream\"]}]"
export REGISTRY_HTTP_SECRET REGISTRY_NOTIFICATIONS_ENDPOINTS

exec "${BERTH_REGISTRY_BIN:-registry}" serve "${BERTH_REGISTRY_CONFIG:-/etc/docker/registry/config.yml}"
