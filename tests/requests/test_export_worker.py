"""A real Celery worker over Redis, killed with SIGKILL in the middle of exports: no request lost, no second release.

Runs when CELERY_BROKER_URL names Redis and the database is PostgreSQL (as in
CI); elsewhere it is skipped. Three requests wait in the queue and the worker
is killed while one of them is being exported, EXPORT_KILL_ROUNDS times: 20
by default, the bar, in about 40 seconds on two cores. A kill counts only
when the export it interrupted had not yet committed its release.
"""

import datetime as dt
import json
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kombu import Exchange, Queue

from audit.models import Action, AuditEvent
from config.celery import app
from requests import workflow
from requests.models import FootageRequest, Release, Status
from requests.sources.testpattern import write_segments
from requests.staging import staging_sweep
from tests.celery_worker import needs_worker, start_worker, stop_worker, worker_environment
from tests.requests.footage import approved

ROUNDS = int(os.environ.get("EXPORT_KILL_ROUNDS", "20"))
REQUESTS = 3

pytestmark = [pytest.mark.django_db(transaction=True), needs_worker]


class Worker:
    def __init__(self, env, queue, log):
        self.env, self.queue, self.log = env, queue, log
        self.process = None

    def start(self):
        if self.process is not None and self.process.poll() is None:
            return
        self.process = start_worker(self.env, self.queue, loglevel="INFO", stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            stop_worker(self.process)


def _forget_queue(queue):
    """Remove this test's queue from Redis, with what killed workers left unacknowledged (the broker may be shared)."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        client = channel.client
        for tag, raw in client.hgetall(channel.unacked_key).items():
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, IndexError, TypeError):
                continue
            if routing_key == queue:
                client.hdel(channel.unacked_key, tag)
                client.zrem(channel.unacked_index_key, tag)
        bound = Queue(queue, Exchange(queue), routing_key=queue)(channel)
        bound.declare()
        bound.delete()


@pytest.fixture
def worker_env(footage, tmp_path):
    queue = f"test-export-{uuid.uuid4().hex[:12]}"
    env = worker_environment(
        FOOTAGE_ROOT=str(footage.root),
        FOOTAGE_LAYOUT="frigate",
        EXPORT_ROOT=str(footage.exports),
        LEGAL_HOLD_ROOT=str(footage.holds),
        # A message held by a killed worker comes back quickly.
        CELERY_VISIBILITY_TIMEOUT="2",
        # Exports and the e-mails they send stay on a queue of this test's own.
        CELERY_QUEUE=queue,
    )
    before = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = Worker(env, queue, log)
    try:
        yield worker
    finally:
        worker.stop()
        log.close()
        app.conf.task_always_eager, app.conf.task_default_queue = before
        _forget_queue(queue)


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _new_staging(staging, seen):
    return set(staging.glob("*")) - seen if staging.exists() else set()


def test_killing_the_worker_mid_export_loses_nothing_and_releases_once(world, footage, worker_env, tmp_path):
    # Two minutes of recordings; each request cuts it twice (about a second of work for the worker).
    write_segments(root=footage.root, camera="HB-001", start=footage.at(24), count=60, seconds=2)
    exported = []
    for number in range(REQUESTS):
        footage_request = approved(world, [(footage.at(1 + number), footage.at(140 - number)), (footage.at(30), footage.at(90))])
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
        exported.append(footage_request)
    references = {r.reference for r in exported}
    staging = footage.exports / ".staging"
    rng = random.Random(20)
    kills, missed, seen = 0, 0, set()
    while kills < ROUNDS:
        worker_env.start()
        started = _wait(lambda seen=seen: _new_staging(staging, seen), 60)
        assert started, f"no export started within a minute; worker log:\n{(tmp_path / 'worker.log').read_text()[-3000:]}"
        fresh = _new_staging(staging, seen)
        seen |= fresh
        # The folder of the export now running (one finished meanwhile has removed its own).
        reference = max(fresh, key=lambda folder: (folder.exists(), folder.name)).name.rsplit("-", 1)[0]
        assert reference in references
        time.sleep(rng.uniform(0.0, 0.6))
        worker_env.kill()
        if FootageRequest.objects.get(reference=reference).status == Status.EXPORTING:
            kills += 1
        else:
            # That export had committed its release before the kill landed: it does not count.
            missed += 1
            assert missed <= ROUNDS, "the worker finishes exports before a kill can land; give it longer exports"
        if not FootageRequest.objects.filter(reference__in=references, status=Status.EXPORTING).exists():
            # Every request was released before the kills were all spent: queue the work again for a fresh request.
            footage_request = approved(world, [(footage.at(1), footage.at(140)), (footage.at(30), footage.at(90))])
            workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
            exported.append(footage_request)
            references.add(footage_request.reference)
    worker_env.start()
    assert _wait(
        lambda: not FootageRequest.objects.filter(reference__in=references).exclude(status=Status.RELEASED).exists(), 120
    ), (tmp_path / "worker.log").read_text()[-3000:]

    assert kills == ROUNDS
    for footage_request in exported:
        footage_request.refresh_from_db()
        assert footage_request.status == Status.RELEASED
        assert Release.objects.filter(footage_request=footage_request).count() == 1
        events = AuditEvent.objects.filter(reference=footage_request.reference, action=Action.RELEASE_CREATE)
        assert events.count() == 1
        release = footage_request.release
        assert json.loads(events.get().payload)["package_sha256"] == release.package_sha256
        assert Path(release.package_path).exists()
    # A worker killed between publishing its package and committing leaves a folder behind; the sweep removes it.
    worker_env.stop()
    staging_sweep(unpublished_after=dt.timedelta(0))
    # Each kill left one folder (a staging, or a package moved into place but never committed): every one was
    # removed by a worker starting or by the sweep, and each removal is in the ledger.
    removals = AuditEvent.objects.filter(action=Action.EXPORT_STAGING_REMOVE)
    assert removals.count() >= kills
    assert {json.loads(event.payload)["kind"] for event in removals} <= {"staging", "unpublished package"}
    for footage_request in exported:
        kept = list((footage.exports / footage_request.reference).iterdir())
        assert kept == [Path(footage_request.release.package_path).parent]
    assert not list(staging.glob("*"))
