#!/usr/bin/env bash
# Request Tracker 5 (Debian's request-tracker5, SQLite) as a peer for
# `kept bench --peers`. See README.md beside this script.
#
#   rt5.sh install   install RT from Debian's packages, configure it for
#                    loopback, keep a pristine copy of its database
#   rt5.sh start     fresh copy of that database, rt-server on 127.0.0.1:$PORT
#                    (default 8091); prints KEY=VALUE lines on stdout, nothing else
#   rt5.sh stop      stop what start started (by its process group)
#
# Nothing of RT goes into the repository: the packages live where Debian puts
# them, the scratch files under $KEPT_PEERS_DIR (default /var/tmp/kept-peers/rt5).
set -euo pipefail

PORT="${PORT:-8091}"
HOST=127.0.0.1
DIR="${KEPT_PEERS_DIR:-/var/tmp/kept-peers}/rt5"
PRISTINE="$DIR/pristine.db"
RUN="$DIR/run"
PIDFILE="$DIR/rt-server.pid"
LOG="$DIR/rt-server.log"
SITE_CONFIG=/etc/request-tracker5/RT_SiteConfig.d/90-kept-bench.pm
DBC_DB=/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
# Debian's package sets root's password to this when debconf is not asked.
RT_USER=root
RT_PASSWORD=password
RT_QUEUE=General

log() { echo "rt5.sh: $*" >&2; }

installed() {
    [[ -x "$RT_SERVER" && -f "$SITE_CONFIG" && -f "$PRISTINE" ]]
}

install() {
    local started=$SECONDS
    mkdir -p "$DIR"
    local packages=(request-tracker5 rt5-db-sqlite rt5-standalone rt5-clients)
    if [[ $(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c 'install ok installed') == "${#packages[@]}" ]]; then
        log "packages already installed"
    else
        log "installing request-tracker5 from Debian (apt)"
        export DEBIAN_FRONTEND=noninteractive
        # The initial root password, and SQLite through dbconfig-common.
        debconf-set-selections <<EOF
request-tracker5 request-tracker5/initial-root-password password $RT_PASSWORD
request-tracker5 request-tracker5/password-confirm password $RT_PASSWORD
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/dbconfig-install boolean true
EOF
        apt-get update -q >&2
        apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
    fi

    # Loopback, no MTA (outgoing mail is appended to an mbox file under
    # /var/lib/request-tracker5), a script may post the login form. The
    # database and port are read from the environment that `start` sets, so
    # each run gets its own copy of the database without touching /etc again.
    cat >"$SITE_CONFIG" <<'EOF'
# Written by kept's bench/peers/rt5.sh: RT on loopback for the intake benchmark.
Set($WebDomain, '127.0.0.1');
Set($WebPort, $ENV{KEPT_RT_PORT} || 8091);
Set($WebPath, '');
Set($WebBaseURL, 'http://127.0.0.1:' . ($ENV{KEPT_RT_PORT} || 8091));
Set($RestrictReferrer, 0);
Set($MailCommand, 'mbox');
Set($LogToSTDERR, 'warning');
Set($DatabaseName, $ENV{KEPT_RT_DB}) if $ENV{KEPT_RT_DB};
1;
EOF
    chmod 0640 "$SITE_CONFIG"

    # The pristine database: the one dbconfig-common made (schema, root,
    # the General queue), switched to WAL like kept's own SQLite (the
    # journal mode is stored in the file; RT's connections keep their
    # default synchronous=FULL).
    if [[ ! -f "$PRISTINE" ]]; then
        python3 - "$DBC_DB" "$PRISTINE" <<'EOF'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1])
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
src.close()
mode = dst.execute("PRAGMA journal_mode=WAL").fetchone()[0]
dst.close()
assert mode == "wal", mode
EOF
    fi
    log "install took $((SECONDS - started)) s"
}

answering() {
    curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$PORT/NoAuth/Login.html" 2>/dev/null | grep -q '^200$'
}

start() {
    installed || install
    if [[ -f "$PIDFILE" ]] && kill -0 -- "-$(cat "$PIDFILE")" 2>/dev/null; then
        log "already running (process group $(cat "$PIDFILE")); stop it first"
        exit 1
    fi
    if answering; then
        log "something already answers on $HOST:$PORT"
        exit 1
    fi
    # A fresh copy of the pristine database for every run, so runs compare.
    rm -rf "$RUN"
    mkdir -p "$RUN"
    cp "$PRISTINE" "$RUN/rtdb"
    chown root:www-data "$RUN" "$RUN/rtdb" 2>/dev/null || true
    # Outgoing mail of earlier runs.
    rm -f /var/lib/request-tracker5/*.mbox

    : >"$LOG"
    # setsid: the server and its prefork workers get their own process
    # group, whose id (the leader's pid) `stop` signals.
    KEPT_RT_DB="$RUN/rtdb" KEPT_RT_PORT="$PORT" \
        setsid "$RT_SERVER" --listen "$HOST:$PORT" </dev/null >>"$LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    wait_until_answering rt-server "$pid"
    log "rt-server answering on $HOST:$PORT (process group $pid, log $LOG)"
    echo "BASE_URL=http://$HOST:$PORT"
    echo "USER=$RT_USER"
    echo "PASSWORD=$RT_PASSWORD"
    echo "QUEUE=$RT_QUEUE"
    echo "PGID=$pid"
}

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
