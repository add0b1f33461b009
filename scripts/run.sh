#!/usr/bin/env bash
# Starts the embedded setup: a Celery worker with its beat scheduler (over the
# broker in CELERY_BROKER_URL; a folder queue by default) and the web server.
# The worker logs to $VAR_DIR/log/worker.log; once both answer, the address and
# the demo accounts that take a request through are printed last.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
LOG_DIR="${VAR_DIR:-var}/log"
WORKER_LOG="$LOG_DIR/worker.log"

mkdir -p "$LOG_DIR"
if [ -f "$WORKER_LOG" ]; then mv "$WORKER_LOG" "$WORKER_LOG.1"; fi
# Each in its own process group: Ctrl-C reaches this script only, which stops
# the web server's group (its reloader and the server) and the worker's main
# process, which stops its pool and beat itself (a signal to all of them at
# once leaves it hanging). Whatever is left after 20 s is killed.
set -m
"$BIN/celery" -A config worker --beat --loglevel=INFO --concurrency=2 >"$WORKER_LOG" 2>&1 &
worker=$!
web=
stop() {
  trap - INT TERM
  if [ -n "$web" ]; then kill -TERM -- "-$web" 2>/dev/null || true; fi
  kill -TERM "$worker" 2>/dev/null || true
  echo "Stopping the worker (it finishes the task in hand)..." >&2
  for _ in $(seq 1 200); do
    kill -0 "$worker" 2>/dev/null || { [ -n "$web" ] && kill -0 "$web" 2>/dev/null; } || break
    sleep 0.1
  done
  for pid in $web $worker; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM

"$BIN/python" manage.py runserver "$HOST:$PORT" &
web=$!
accounts="$("$BIN/python" manage.py demo_accounts 2>/dev/null || true)"

# Both up within a minute, or say which one is not.
for _ in $(seq 1 600); do
  kill -0 "$worker" 2>/dev/null || { echo "The worker stopped; see $WORKER_LOG" >&2; exit 1; }
  kill -0 "$web" 2>/dev/null || { echo "The web server stopped (is port $PORT taken?)" >&2; exit 1; }
  if grep -q " ready\.$" "$WORKER_LOG" && (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
    break
  fi
  sleep 0.1
done

printf '\nWorker log: %s\n' "$WORKER_LOG"
[ -n "$accounts" ] && printf '%s\n' "$accounts"
printf 'Open http://%s:%s/\n\n' "$HOST" "$PORT"
wait "$web"
