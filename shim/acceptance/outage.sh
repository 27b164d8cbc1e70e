#!/usr/bin/env bash
# The database goes away under the shim: requests get 503 (never a hang or a 500), and the shim
# serves again as soon as the database is back. Usage: outage.sh SHIM_URL PGDATA
set -euo pipefail
url=$1 data=$2
pg_ctl=${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl
as_pg() { if [ "$(id -u)" = 0 ]; then sudo -u postgres -- "$@"; else "$@"; fi; }
status() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }

as_pg "$pg_ctl" -D "$data" -m fast -w stop >/dev/null
down=$(status "$url/health")
login=$(status -X POST "$url/token?grant_type=password" -H 'content-type: application/json' -d '{"email":"a@b.co","password":"whatever-it-is"}')
as_pg "$pg_ctl" -D "$data" -l "$data/../server.log" -w start >/dev/null
up=000
for _ in $(seq 50); do
    up=$(status "$url/health")
    [ "$up" = 200 ] && break
    sleep 0.2
done
echo "outage: health $down and sign-in $login while the database was down, health $up after it came back"
[ "$down" = 503 ] && [ "$login" = 503 ] && [ "$up" = 200 ]
