# Shared by ./run, ./test and .ci/run: install what is missing, build and install the extension,
# and manage throwaway PostgreSQL 15 clusters under build/. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# AUTH_EXT_PG_BIN: another PostgreSQL 15 installation (a private copy, so that parallel work
# does not install over the system one).
PG_BIN=${AUTH_EXT_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG="$PG_BIN/pg_config"
PGRX_VERSION=0.18.1
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then sudo -u postgres -- "$@"; else "$@"; fi
}

ensure_deps() {
    local missing=()
    [ -x "$PG_CONFIG" ] || missing+=(postgresql-15 postgresql-server-dev-15)
    [ -f "$PG_BIN/../lib/pgxs/src/test/regress/pg_regress" ] || missing+=(postgresql-server-dev-15)
    command -v clang >/dev/null || missing+=(clang libclang-dev)
    command -v sudo >/dev/null || missing+=(sudo)
    command -v pgbouncer >/dev/null || missing+=(pgbouncer)
    # SAML: the shim verifies XML signatures with libxmlsec1; the test IdP (pysaml2) signs with xmlsec1.
    command -v xmlsec1 >/dev/null || missing+=(xmlsec1)
    pkg-config --exists xmlsec1 2>/dev/null || missing+=(libxmlsec1-dev libxml2-dev pkg-config)
    # WebAuthn in a real browser (shim/acceptance/webauthn): Debian's headless Chromium, driven
    # over the DevTools protocol with virtual authenticators.
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo pgbouncer \
            xmlsec1 libxmlsec1-dev libxml2-dev pkg-config chromium >/dev/null
    fi
    # The tests' fixed ports (54300-54700) lie in the kernel's ephemeral range: an outgoing
    # connection that happens to take one makes a test server's bind fail. Reserve them.
    local reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
    if [ "$(id -u)" = 0 ] && [ -w "$reserved" ] && ! grep -q "54300-54700" "$reserved"; then
        local current
        current=$(cat "$reserved")
        echo "${current:+$current,}54300-54700" >"$reserved" 2>/dev/null || true
    fi
    # Debian starts a default cluster on 5432; ours use their own ports, so leave it alone.
    if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
        say "installing cargo-pgrx $PGRX_VERSION (about 7 minutes)"
        cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
    fi
    if ! grep -q "pg15" "$HOME/.pgrx/config.toml" 2>/dev/null; then
        cargo pgrx init --pg15 "$PG_CONFIG" >/dev/null
    fi
}

install_extension() {
    say "building and installing auth_ext (release)"
    (cd "$ROOT" && cargo pgrx install --release --pg-config "$PG_CONFIG" 2>&1 | grep -vE '^\s+(Compiling|Checking)' | tail -n 5)
    # The released scripts (sql/released/): earlier releases' install scripts, so that a database
    # made with an earlier release can be updated and tested, and the upgrade scripts.
    local extdir
    extdir="$("$PG_CONFIG" --sharedir)/extension"
    install -m 644 "$ROOT"/sql/released/auth_ext--*.sql "$extdir/"
}

# start_cluster <name> <port> [nopreload]: a fresh cluster in build/<name>, listening on
# localhost:<port> and on a socket in build/<name>/run; `nopreload` leaves auth_ext out of
# shared_preload_libraries (its reduced mode, tested by tests/trace.rs).
start_cluster() {
    local name=$1 port=$2 preload="shared_preload_libraries = 'auth_ext'"
    [ "${3:-}" = nopreload ] && preload="# shared_preload_libraries: not preloaded (reduced mode)"
    local dir="$ROOT/build/$name"
    stop_cluster "$name" || true
    # A postmaster whose data directory was removed under it cannot be stopped by pg_ctl.
    pkill -QUIT -f -- "bin/postgres -D $dir/data\$" 2>/dev/null && sleep 1 || true
    rm -rf "$dir"
    mkdir -p "$dir/run"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$ROOT/build"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/run'
max_connections = 300
max_worker_processes = 16
shared_buffers = 256MB
log_min_messages = warning
log_line_prefix = '%m [%p] '
# auth_ext preloaded (README, "Security model"): its shared memory (the trace queue: family
# revocation, failed sign-in audit rows) and its log redaction hook from the first statement.
$preload
CONF
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

stop_cluster() {
    local dir="$ROOT/build/$1"
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -t 20 -w stop >/dev/null 2>&1 \
        || as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
}
