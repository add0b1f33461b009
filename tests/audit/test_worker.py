"""A real Celery worker process, over a real broker, against the test database.

Runs when CELERY_BROKER_URL names Redis and the database is PostgreSQL (as in
CI); elsewhere it is skipped.
"""

import os
import subprocess
import time

import pytest
from django.db import transaction

from audit import record_event
from audit.models import Action, VerificationRun
from config.celery import app
from tests.celery_worker import needs_worker, start_worker, stop_worker, worker_environment

pytestmark = [pytest.mark.django_db(transaction=True), needs_worker]


@pytest.fixture
def worker():
    queue = f"test-{os.getpid()}"
    process = start_worker(worker_environment(), queue, loglevel="WARNING", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        stop_worker(process)


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
