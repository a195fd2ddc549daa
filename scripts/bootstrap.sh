#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for Berth, idempotently:
#   scripts/bootstrap.sh run    -> apt packages `make run` needs + the .venv
#   scripts/bootstrap.sh test   -> the above + the clients and servers tests drive
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

run_pkgs=(docker-registry nginx)
test_pkgs=(skopeo podman slapd ldap-utils chromium chromium-driver)

need=()
want=("${run_pkgs[@]}")
[ "$mode" = test ] && want+=("${test_pkgs[@]}")
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian packages start system daemons; Berth runs its own instances.
  for svc in docker-registry nginx slapd; do
    if command -v service >/dev/null; then service "$svc" stop >/dev/null 2>&1 || true; fi
  done
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.berth-installed
sum=$( (cat libs/*/pyproject.toml services/*/pyproject.toml requirements-dev.txt 2>/dev/null || true) | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  args=()
  for d in libs/* services/*; do
    [ -f "$d/pyproject.toml" ] && args+=(-e "$d")
  done
  .venv/bin/pip install -q "${args[@]}" -r requirements-dev.txt
  echo "$sum" > "$stamp"
fi
