#!/usr/bin/env bash
# What the tests need besides npm packages, set up by `npm test` itself (its pretest step):
# a running PostgreSQL and Redis (each test run makes its own database / key prefix and removes it), and
# Debian's Chromium for the dashboard's end-to-end tests (playwright-core drives it; no downloaded browser).
# Installs or starts what is missing when run as root; otherwise stops with the command to run.
set -euo pipefail
need_root() {
  echo "vigie tests: $1 is missing; as root run: $2" >&2
  exit 1
}
if ! command -v chromium >/dev/null; then
  [ "$(id -u)" = 0 ] || need_root "Debian's chromium" "apt-get install -y chromium"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if ! pg_isready -q -h /var/run/postgresql 2>/dev/null && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  [ "$(id -u)" = 0 ] || need_root "a running PostgreSQL" "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || need_root "a running Redis on 127.0.0.1:6379" "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
