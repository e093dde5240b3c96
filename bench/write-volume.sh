#!/bin/bash
# What kept serve writes per intake request on SQLite, one client, every
# commit alone: bytes passed to write calls and the number of write calls
# (from /proc/PID/io, so independent of how busy the machine is), and with
# BY_BTREE=1 the WAL frames per request by table or index (strace reads the
# page number from each frame's header; SQLite's dbstat names its B-tree).
#
#   bench/write-volume.sh target/release/kept [CASES]
#
# Each case is the intake bench's: create with a first message, one public
# agent reply, solve. 50 cases warm up first. Needs python3 (and strace for
# BY_BTREE=1). Uses 127.0.0.1:18558 and a scratch directory under /tmp.
set -euo pipefail
KEPT=$(realpath "$1")
CASES=${2:-300}
DIR=$(mktemp -d /tmp/kept-write-volume.XXXXXX)
DB="sqlite://$DIR/k.db"
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$DIR"' EXIT

"$KEPT" demo --cases 300 --days 30 --database-url "$DB" >/dev/null 2>&1
TOKEN=$("$KEPT" token create --database-url "$DB" --user admin@demo.kept 2>/dev/null | tail -1)
"$KEPT" serve --listen 127.0.0.1:18558 --database-url "$DB" >"$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do
  curl -fs -o /dev/null http://127.0.0.1:18558/login && break
  sleep 0.2
done

drive() {
  python3 - "$TOKEN" "$1" "$DIR/k.db" <<'PY'
import http.client, json, sqlite3, sys
token, n, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
requesters = [r[0] for r in sqlite3.connect(db).execute(
    "SELECT id FROM users WHERE role = 'contact' ORDER BY id LIMIT 50")]
conn = http.client.HTTPConnection("127.0.0.1", 18558)
headers = {"authorization": "Bearer " + token, "content-type": "application/json"}
def call(method, path, body):
    conn.request(method, path, json.dumps(body), headers)
    answer = conn.getresponse()
    text = answer.read()
    if answer.status >= 300:
        sys.exit(f"{method} {path}: HTTP {answer.status}: {text[:200]!r}")
    return json.loads(text)
for i in range(n):
    case = call("POST", "/api/v1/cases", {
        "subject": f"Intake {i}: the printer on the third floor jams",
        "message": "Since this morning every print job stops half-way with a paper jam. We tried another tray.",
        "requester_id": requesters[i % len(requesters)], "channel": "email"})
    call("POST", f"/api/v1/cases/{case['id']}/messages",
         {"body": "Thanks, we are on it: a technician comes by at three.", "public": True})
    call("PATCH", f"/api/v1/cases/{case['id']}", {"status": "solved"})
PY
}

io() { awk '/^wchar/ {w = $2} /^syscw/ {s = $2} END {print w, s}' "/proc/$SERVER/io"; }

drive 50
if [ "${BY_BTREE:-0}" = 1 ]; then
  strace -f -xx -s 32 -e trace=pwrite64 -o "$DIR/strace.txt" -p "$SERVER" 2>/dev/null &
  TRACER=$!
  sleep 1
fi
read -r BYTES0 CALLS0 <<<"$(io)"
drive "$CASES"
read -r BYTES1 CALLS1 <<<"$(io)"
REQUESTS=$((CASES * 3))
echo "$CASES cases, $REQUESTS requests: $(((BYTES1 - BYTES0) / REQUESTS)) bytes written and $(((CALLS1 - CALLS0) / REQUESTS)) write calls per request"
if [ "${BY_BTREE:-0}" = 1 ]; then
  kill "$TRACER"
  wait "$TRACER" 2>/dev/null || true
  python3 - "$DIR" "$REQUESTS" <<'PY'
import collections, re, sqlite3, sys
dir, requests = sys.argv[1], int(sys.argv[2])
pages, commits = [], 0
for line in open(dir + "/strace.txt"):
    m = re.search(r'pwrite64\(\d+, "((?:\\x[0-9a-f]{2})+)", 24, ', line)
    if m:
        header = bytes(int(x, 16) for x in m.group(1).split("\\x")[1:])
        pages.append(int.from_bytes(header[0:4], "big"))
        commits += int.from_bytes(header[4:8], "big") != 0
owner = {page: name for name, page in sqlite3.connect(dir + "/k.db").execute("SELECT name, pageno FROM dbstat")}
print(f"WAL frames: {len(pages) / requests:.1f} per request, {len(pages) / max(commits, 1):.1f} per commit")
for name, n in collections.Counter(owner.get(p, "?") for p in pages).most_common(20):
    print(f"  {n / requests:5.2f}  {name}")
PY
fi
