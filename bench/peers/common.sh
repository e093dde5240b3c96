# Sourced by the peer scripts after they define PIDFILE, log, install and
# start: stopping a peer by its process group, and the command line.

stop() {
    [[ -f "$PIDFILE" ]] || { log "not running (no $PIDFILE)"; return 0; }
    local pgid
    pgid=$(cat "$PIDFILE")
    if kill -TERM -- "-$pgid" 2>/dev/null; then
        for _ in $(seq 100); do
            kill -0 -- "-$pgid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    log "stopped process group $pgid"
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 {install|start|stop}" >&2
    exit 2
    ;;
esac
