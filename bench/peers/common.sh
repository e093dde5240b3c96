# Sourced by the peer scripts after they define PIDFILE, LOG, log, answering,
# install and start: stopping a peer by its process group, and the command line.

# wait_until_answering NAME PID: polls the script's `answering` for up to
# 60 s; exits 1 with the log's tail if the server died, or stops it if it
# never answered.
wait_until_answering() {
    local name=$1 pid=$2 waited=0
    until answering; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited; last lines of $LOG:"
            tail -20 "$LOG" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        if ((waited >= 600)); then
            log "$name did not answer within 60 s; see $LOG"
            stop
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

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
