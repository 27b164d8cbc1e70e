#!/usr/bin/env bash
# The cost of the trace mechanism on a failed sign-in and on a refresh: the same cluster and
# database, the library swapped between a baseline build and the trace build, alternating
# (A B A B ...) so that the machine's drift hits both alike.
#
#   bench/trace/ab.sh <base.so> <new.so> [rounds=3] [seconds=10] [clients=8]
#
# Env: AUTH_EXT_PG_BIN (PostgreSQL 15 bin), AUTH_EXT_BENCH_PORT (57335). The cluster is
# build/trace-bench (preloading auth_ext; the baseline has no shared memory and ignores it).
# Prints one line per run and the medians and ratios (new / base) at the end.
source "$(dirname "$0")/../../scripts/common.sh"
BASE=$1 NEW=$2 R=${3:-3} S=${4:-10} C=${5:-8}
PORT=${AUTH_EXT_BENCH_PORT:-57335}
LIBDIR=$("$PG_CONFIG" --pkglibdir)
DIR="$ROOT/build/trace-bench"
psql_b() { as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
use_lib() {
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    install -m 755 "$1" "$LIBDIR/auth_ext.so"
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
}
tps() { # <script> <argon2 label>
    local out
    out=$(as_pg "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PORT" -U postgres -c "$C" -j "$((C < 2 ? C : 2))" -M prepared \
        -D first=1 -T "$S" -f "$ROOT/bench/$1" bench 2>&1) || { echo "$out" >&2; return 1; }
    grep -oP 'tps = \K[0-9.]+(?= \(without)' <<<"$out"
}
cp "$LIBDIR/auth_ext.so" "$DIR.saved.so" 2>/dev/null || true
start_cluster trace-bench "$PORT"
trap 'stop_cluster trace-bench; install -m 755 "$DIR.saved.so" "$LIBDIR/auth_ext.so"' EXIT
use_lib "$NEW"
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres bench
psql_b -d bench -c "CREATE EXTENSION auth_ext" \
    -c "SELECT auth.configure('{\"argon2_memory_kib\": 1024, \"argon2_iterations\": 1}')" >/dev/null
psql_b -d bench -v clients="$C" -f "$ROOT/bench/trace/setup.sql" >/dev/null
declare -A runs
for round in $(seq "$R"); do
    for v in base new; do
        if [ "$v" = base ]; then use_lib "$BASE"; else use_lib "$NEW"; fi
        f=$(tps trace/failed_signin.sql)
        psql_b -d bench -v clients="$C" -f "$ROOT/bench/pgbench/start.sql" >/dev/null
        r=$(tps pgbench/refresh.sql)
        echo "round $round $v: failed sign-in $f tps, refresh $r tps"
        runs[$v.f]+="$f "; runs[$v.r]+="$r "
    done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for k in f r; do
    b=$(median "${runs[base.$k]}"); n=$(median "${runs[new.$k]}")
    name=$([ $k = f ] && echo "failed sign-in" || echo "refresh")
    echo "$name: base median $b tps, trace median $n tps, new/base $(awk -v n="$n" -v b="$b" 'BEGIN {printf "%.3f", n/b}')"
done
rows=$(psql_b -d bench -Atc "SELECT count(*) FROM auth.audit_log_entries WHERE payload->>'action' = 'login_failed'")
echo "login_failed audit rows written by the trace build: $rows"
