"""A real Celery worker process over a real broker, against the test database, for the tests that need one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]

needs_worker = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"),
    reason="needs PostgreSQL and a Redis broker",
)


def worker_environment(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test database, with `extra` on top."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env.update(extra)
    return env


def start_worker(env: dict[str, str], queue: str, *, loglevel: str, stdout, stderr) -> subprocess.Popen:
    """A solo-pool worker consuming `queue` only, without heartbeat, mingle or gossip."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            f"--loglevel={loglevel}",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=stderr,
    )


def stop_worker(process: subprocess.Popen) -> None:
    """Ask the worker to stop; kill it if it has not within 20 seconds."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
