#!/usr/bin/env bash
# The production-shaped stack on this machine, in the foreground: PostgreSQL and Redis (already running here),
# gunicorn serving the application with DEBUG off, one Celery worker per queue (the default queue and the two demo
# recorder sites' queues, or those in STACK_QUEUES) and the one beat scheduler. Ctrl-C stops them all. Logs go to
# $VAR_DIR/log/; readiness (/readyz) is printed once all are up.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export VAR_DIR="${VAR_DIR:-var/stack}"
export DATABASE_URL="${STACK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/camera_stack}"
export CELERY_BROKER_URL="${STACK_BROKER_URL:-redis://127.0.0.1:6379/0}"
export CACHE_URL="${STACK_CACHE_URL:-redis://127.0.0.1:6379/1}"
export DJANGO_DEBUG=false
LOG_DIR="$VAR_DIR/log"
mkdir -p "$LOG_DIR"

# The database named in STACK_DATABASE_URL is created when missing; the broker must answer.
"$BIN/python" - <<'PY'
import os
import sys

import environ
import psycopg
import redis

settings = environ.Env.db_url_config(os.environ["DATABASE_URL"])
server = {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432, "user": settings["USER"] or None}
if settings.get("PASSWORD"):
    server["password"] = settings["PASSWORD"]
try:
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **server) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')
            print(f"Created the database {settings['NAME']}.")
except psycopg.Error as error:
    sys.exit(f"PostgreSQL does not answer at {server['host']}:{server['port']}: {error}")
try:
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_connect_timeout=5).ping()
except redis.RedisError as error:
    sys.exit(f"The broker does not answer at {os.environ['CELERY_BROKER_URL']}: {error}")
PY

"$BIN/python" manage.py migrate --noinput -v 0
"$BIN/python" manage.py collectstatic --noinput -v 0
"$BIN/python" manage.py seed_demo >/dev/null
"$BIN/python" manage.py generate_demo_footage >/dev/null
# Two recorder sites hold the demo cameras' recordings (alternate wards), each read by a worker of its own queue;
# on this one machine both mount the same demo footage.
site_queues="$("$BIN/python" manage.py demo_sites)"
QUEUES="${STACK_QUEUES:-celery,$site_queues}"
export HEALTH_WORKER_QUEUES="$QUEUES"

set -m
pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping the stack (workers finish the task in hand)..." >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 200); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT TERM

"$BIN/gunicorn" config.wsgi --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-2}" --access-logfile "$LOG_DIR/web-access.log" \
  >"$LOG_DIR/web.log" 2>&1 &
pids+=($!)
IFS=',' read -ra queue_list <<<"$QUEUES"
for queue in "${queue_list[@]}"; do
  "$BIN/celery" -A config worker --queues "$queue" --hostname "$queue@%h" --loglevel=INFO --concurrency=2 \
    >"$LOG_DIR/worker-$queue.log" 2>&1 &
  pids+=($!)
done
"$BIN/celery" -A config beat --loglevel=INFO --schedule "$VAR_DIR/celerybeat-schedule" >"$LOG_DIR/beat.log" 2>&1 &
pids+=($!)

# Every process up and the workers' first heartbeats in (beat sends one to each queue every minute), or say which
# process stopped.
ready=
for _ in $(seq 1 900); do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "A process of the stack stopped; see $LOG_DIR/" >&2; exit 1; }
  done
  if "$BIN/python" - "$HOST" "$PORT" <<'PY' 2>/dev/null; then
import sys
import urllib.request

with urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/readyz", timeout=2) as answer:
    sys.exit(0 if answer.status == 200 else 1)
PY
    ready=1
    break
  fi
  sleep 0.2
done
accounts="$("$BIN/python" manage.py demo_accounts 2>/dev/null || true)"
[ -n "$accounts" ] && printf '%s\n' "$accounts"
if [ -n "$ready" ]; then
  printf '\nReady: http://%s:%s/ (readiness: http://%s:%s/readyz). Logs: %s/\n\n' "$HOST" "$PORT" "$HOST" "$PORT" "$LOG_DIR"
else
  printf '\nUp, but /readyz does not answer 200 yet: see http://%s:%s/readyz and %s/\n\n' "$HOST" "$PORT" "$LOG_DIR"
fi
wait -n "${pids[@]}"
echo "A process of the stack stopped; see $LOG_DIR/" >&2
exit 1
