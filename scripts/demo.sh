#!/usr/bin/env bash
# Run the demo: the EasyCars sandbox, a django-q2 worker and the example site, until Ctrl-C.
#
# Environment: VENV (.venv), DEMO_HOST (127.0.0.1), DEMO_PORT (8000), SANDBOX_PORT (8765),
# DEMO_USERNAME (admin), DEMO_PASSWORD (changeme), DATABASE_URL (unset = SQLite in example_site/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${VENV:-.venv}"
PY="$ROOT/$VENV/bin/python"
HOST="${DEMO_HOST:-127.0.0.1}"
PORT="${DEMO_PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8765}"
USERNAME="${DEMO_USERNAME:-admin}"
PASSWORD="${DEMO_PASSWORD:-changeme}"
DEMO_DIR="$ROOT/.demo"

port_in_use() { "$PY" -c "import socket, sys; socket.create_connection(('$HOST', int(sys.argv[1])), timeout=1).close()" "$1" 2>/dev/null; }
wait_for_port() {
    for _ in $(seq 1 100); do port_in_use "$1" && return 0; sleep 0.2; done
    echo "ERROR: $2 did not start listening on $HOST:$1; see $DEMO_DIR/$3.log" >&2
    return 1
}

for port in "$PORT" "$SANDBOX_PORT"; do
    if port_in_use "$port"; then
        echo "ERROR: $HOST:$port is already in use. Stop whatever listens there or set DEMO_PORT / SANDBOX_PORT." >&2
        exit 1
    fi
done

# The example site's settings make the demo encryption key (.demo/encryption.key) on first use.
mkdir -p "$DEMO_DIR"
export EASYCARS_TEST_BASE_URL="http://$HOST:$SANDBOX_PORT/TestECService"
export WAGTAILADMIN_BASE_URL="http://$HOST:$PORT"
export PYTHONUNBUFFERED=1

cd "$ROOT/example_site"
echo "==> migrate"
"$PY" manage.py migrate --no-input -v 0
echo "==> seed the demo"
"$PY" manage.py easycars_demo --username "$USERNAME" --password "$PASSWORD" --site-url "http://$HOST:$PORT/"

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "==> stopping the demo"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
on_signal() { stop_all; exit 0; }
trap on_signal INT TERM
trap stop_all EXIT

echo "==> start the EasyCars sandbox on $HOST:$SANDBOX_PORT (log: .demo/sandbox.log)"
"$PY" -m wagtail_easycars.sandbox --host "$HOST" --port "$SANDBOX_PORT" --state-file "$DEMO_DIR/sandbox.json" >"$DEMO_DIR/sandbox.log" 2>&1 &
pids+=($!)
wait_for_port "$SANDBOX_PORT" "The sandbox" sandbox

echo "==> start the django-q2 worker (log: .demo/qcluster.log)"
"$PY" manage.py qcluster >"$DEMO_DIR/qcluster.log" 2>&1 &
pids+=($!)

echo "==> start the site on http://$HOST:$PORT/ (log: .demo/site.log)"
"$PY" manage.py runserver "$HOST:$PORT" --noreload >"$DEMO_DIR/site.log" 2>&1 &
pids+=($!)
wait_for_port "$PORT" "The site" site

# Fill the showroom straight away instead of waiting for the nightly schedule.
if "$PY" manage.py help easycars_sync_stock >/dev/null 2>&1; then
    echo "==> queue a first stock sync"
    "$PY" manage.py easycars_sync_stock --dealership demo-motors || echo "(the first sync could not be queued; see above)"
fi

cat <<INFO

  Demo is running.
    Site:     http://$HOST:$PORT/
    Admin:    http://$HOST:$PORT/admin/
    Login:    $USERNAME / $PASSWORD
    Sandbox:  http://$HOST:$SANDBOX_PORT/TestECService
    Logs:     .demo/site.log, .demo/qcluster.log, .demo/sandbox.log

  Press Ctrl-C to stop all three.
INFO

# Stop everything as soon as one of the three exits on its own.
set +e
wait -n "${pids[@]}"
status=$?
# On Ctrl-C the children get the signal too and may exit before our trap runs: stay quiet then.
sleep 0.5
if [[ $status != 0 && $status != 130 && $status != 143 ]]; then
    echo "A demo process exited with status $status; see the logs in .demo/." >&2
fi
exit "$status"
