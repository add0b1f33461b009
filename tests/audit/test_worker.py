"""A real Celery worker process, over a real broker, against the test database.

Runs when CELERY_BROKER_URL names Redis and the database is PostgreSQL (as in
CI); elsewhere it is skipped.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from audit import record_event
from audit.models import Action, VerificationRun
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="needs PostgreSQL and a Redis broker",
    ),
]


@pytest.fixture
def worker():
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{os.getpid()}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_verify_now_runs_on_a_real_worker(worker, auditor):
    from audit.tasks import verify_ledger_task

    with transaction.atomic():
        record_event(actor=auditor, action=Action.LEDGER_VIEW)
        run = VerificationRun.objects.create(requested_by=auditor)
        transaction.on_commit(lambda: verify_ledger_task.apply_async((run.pk,), queue=worker))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (VerificationRun.Status.PASSED, VerificationRun.Status.FAILED):
            break
        time.sleep(0.25)
    assert run.status == VerificationRun.Status.PASSED
    assert run.events_checked >= 2 and run.broken_seq is None
