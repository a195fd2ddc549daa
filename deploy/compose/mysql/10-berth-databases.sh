#!/bin/bash
# MySQL's first start (docker-entrypoint-initdb.d): one database and one user
# per Berth service, so that no service can read another's tables.
# Passwords come from BERTH_<SERVICE>_DB_PASSWORD (see docker-compose.yml).
set -euo pipefail

prefix="${BERTH_DB_PREFIX:-berth_}"
client=(${BERTH_MYSQL_CLIENT:-mysql --protocol=socket -uroot})
export MYSQL_PWD="${MYSQL_PWD:-${MYSQL_ROOT_PASSWORD:-}}"

for svc in token catalog syncer audit; do
  var="BERTH_${svc^^}_DB_PASSWORD"
  password="${!var:?$var must be set}"
  case "$password" in
    *"'"* | *'\'*) echo "$var must not contain quotes or backslashes" >&2; exit 1 ;;
  esac
  name="${prefix}${svc}"
  # utf8mb4_bin: names (users, repositories, tags) compare case-sensitively,
  # as the registry does.
  "${client[@]}" <<SQL
CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '${name}'@'%' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${name}'@'%';
SQL
  echo "berth: database ${name} ready"
done
