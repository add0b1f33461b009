#!/usr/bin/env bash
# Starts the embedded setup: a Celery worker with its beat scheduler (over the
# broker in CELERY_BROKER_URL; a folder queue by default) and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"

"$BIN/celery" -A config worker --beat --loglevel=INFO --concurrency=2 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM

echo "Open http://${HOST:-127.0.0.1}:${PORT:-8000}/ (demo accounts are listed above)"
"$BIN/python" manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
