#!/usr/bin/env bash
# Makes sure the MariaDB and RabbitMQ servers the integration tests use are up.
set -uo pipefail
wait_for() {  # name, check command
  for _ in $(seq 1 60); do eval "$2" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "$1 did not come up" >&2; return 1
}
if ! mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB "mysqladmin -uroot -h127.0.0.1 ping"
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  rabbitmq-server -detached
  wait_for RabbitMQ "rabbitmqctl -q await_startup"
fi
