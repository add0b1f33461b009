"""Liveness, readiness and metrics (operations): who may read them, what each check finds, and what it names when it
fails; structured logs that carry the request they were written for."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import datetime as dt
import io
import json
import logging
import shutil
import socket
import subprocess
import time

import pytest
from django.db import transaction
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from audit import record_event
from audit.checkpoints import checkpoint_create, ensure_signing_key
from audit.models import Action
from operations import checks
from operations.logs import RequestContextFilter
from operations.models import WorkerHeartbeat
from operations.tasks import heartbeat
from requests.models import ExportPart, FootageRequest, Status
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world

pytestmark = pytest.mark.django_db
OUTSIDE = "203.0.113.7"


@pytest.fixture
def ready(settings):
    """A service whose every part answers: a broker in memory, room on disk (a worker is seen by each test)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.HEALTH_MIN_FREE_MB = 1
    settings.HEALTH_WORKER_QUEUES = ["celery"]
    return settings


def readyz(client, **extra):
    response = client.get("/readyz", **extra)
    return response.status_code, (response.json() if response.status_code in (200, 503) else None)


def test_liveness_answers_anyone_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", REMOTE_ADDR=OUTSIDE)
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


def test_readiness_and_metrics_are_404_to_other_addresses_unless_they_show_the_token(client, ready):
    ready.HEALTH_TOKEN = "s3cret-health-token-for-probes"
    for url in ("/readyz", "/metrics"):
        assert client.get(url, REMOTE_ADDR=OUTSIDE).status_code == 404
        assert client.post(url, REMOTE_ADDR=OUTSIDE).status_code == 404
        assert client.get(url, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
        assert client.get(url, REMOTE_ADDR="not an address").status_code == 404
        shown = client.get(url, REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer s3cret-health-token-for-probes")
        assert shown.status_code in (200, 503)
    ready.HEALTH_TOKEN = ""
    assert client.get("/readyz", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 404
    ready.HEALTH_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/readyz", REMOTE_ADDR="10.1.2.3").status_code in (200, 503)
    assert client.get("/readyz").status_code == 404  # this machine, no longer listed


def test_ready_when_every_part_answers(client, ready):
    heartbeat("celery")
    status, body = readyz(client)
    assert status == 200, body
    assert body["ready"] is True and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "workers", "ledger", "storage"}
    assert body["checks"]["workers"]["queues"]["celery"]["seconds_since_heartbeat"] <= 5
    assert set(body["checks"]["storage"]["volumes"]) == {"data", "media", "exports", "holds"}
    assert "/" not in json.dumps(body["checks"]["storage"])  # volumes by their role, not by a path of the machine


def test_a_queue_without_a_worker_is_named(client, ready):
    ready.HEALTH_WORKER_QUEUES = ["celery", "site-hoan-kiem"]
    heartbeat("celery")
    WorkerHeartbeat.objects.create(queue="site-hoan-kiem", seen_at=timezone.now() - dt.timedelta(minutes=10))

    status, body = readyz(client)

    assert status == 503 and body["failing"] == ["workers"]
    assert body["checks"]["workers"]["error"] == "no worker heartbeat within 180 s on: site-hoan-kiem"
    heartbeat("site-hoan-kiem")
    assert readyz(client)[0] == 200


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis(port):
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    waited = time.monotonic() + 10
    while time.monotonic() < waited:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server program")
def test_with_the_broker_stopped_readiness_fails_naming_the_broker_and_recovers_when_it_is_back(client, ready):
    port = _free_port()
    ready.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    ready.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    ready.HEALTH_TIMEOUT_SECONDS = 1
    heartbeat("celery")
    broker = _redis(port)
    try:
        status, body = readyz(client)
        assert status == 200, body
        assert body["checks"]["broker"] == {"ok": True, "transport": "redis", "messages": {"celery": 0}}

        broker.terminate()
        broker.wait(10)
        started = time.monotonic()
        status, body = readyz(client)
        assert status == 503 and body["failing"] == ["broker"]
        assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
        assert time.monotonic() - started < 5  # a stopped broker is reported, not waited for

        broker = _redis(port)
        assert readyz(client)[0] == 200
    finally:
        broker.kill()
        broker.wait(10)


def test_events_left_without_a_checkpoint_fail_the_ledger_check_until_one_is_signed(ready, settings, tmp_path):
    settings.HEALTH_CHECKPOINT_MAX_MINUTES = 45
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)
    with transaction.atomic():
        record_event(actor=None, action=Action.LEDGER_VIEW)
    now = timezone.now()
    assert checks.ledger(now).ok
    late = checks.ledger(now + dt.timedelta(hours=2))
    assert not late.ok and late.error == "events have waited 120 minutes for a signed checkpoint"
    assert late.detail["events_after_checkpoint"] >= 1

    checkpoint_create()

    signed = checks.ledger(now + dt.timedelta(hours=2))
    assert signed.ok and signed.detail["events_after_checkpoint"] == 1  # the checkpoint's own record


def test_too_little_free_space_is_named_by_volume(client, ready):
    ready.HEALTH_MIN_FREE_MB = 10**12
    heartbeat("celery")
    status, body = readyz(client)
    assert status == 503 and body["failing"] == ["storage"]
    assert body["checks"]["storage"]["error"].startswith("less than 1000000000000 MB free for: data")


def test_metrics_count_what_the_database_holds(client, ready, world):
    world.submitted()
    world.submitted()
    heartbeat("celery")
    from operations import metrics

    metrics._status_counts = (0.0, {})  # read afresh
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'camgov_requests{status="submitted"} 2.0' in text
    assert "camgov_requests_overdue 0.0" in text
    assert 'camgov_check_ok{check="database"} 1.0' in text
    assert 'camgov_worker_heartbeat_age_seconds{queue="celery"}' in text
    assert "camgov_ledger_head_seq" in text and 'camgov_storage_free_bytes{volume="exports"}' in text


def test_metrics_say_per_recorder_site_what_waits_and_how_long_parts_took(client, ready, world):
    footage_request = world.submitted()
    FootageRequest.objects.filter(pk=footage_request.pk).update(status=Status.EXPORTING)
    ExportPart.objects.create(footage_request=footage_request, token="b" * 32, site_code="Q-BD", queue="site-b")
    done = ExportPart.objects.create(
        footage_request=footage_request, token="a" * 32, site_code="Q-HK", queue="site-a", status="done"
    )
    ExportPart.objects.filter(pk=done.pk).update(created_at=timezone.now() - dt.timedelta(seconds=90), finished_at=timezone.now())
    text = client.get("/metrics").content.decode()
    assert 'camgov_export_parts_waiting{site="Q-BD"} 1.0' in text
    assert 'camgov_export_part_seconds_24h{site="Q-HK",stat="max"} 9' in text


def test_each_answer_carries_a_request_id_and_each_log_line_the_request_it_was_written_for(client, world, settings):
    settings.LOG_FORMAT = "json"
    footage_request = world.submitted()
    client.force_login(world.insider)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s %(reference)s"))
    logger = logging.getLogger("operations.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        given = client.get(f"/requests/{footage_request.reference}/", HTTP_X_REQUEST_ID="probe-0001-abcd")
        made = client.get("/requests/", HTTP_X_REQUEST_ID='<script>"')
    finally:
        logger.removeHandler(handler)

    assert given["X-Request-ID"] == "probe-0001-abcd"
    assert len(made["X-Request-ID"]) == 32 and made["X-Request-ID"].isalnum()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    detail = next(line for line in lines if line["request_id"] == "probe-0001-abcd")
    assert detail["reference"] == footage_request.reference and detail["status"] == 200
    assert detail["method"] == "GET" and detail["path"] == f"/requests/{footage_request.reference}/"
    assert detail["duration_ms"] >= 0
    listing = next(line for line in lines if line["request_id"] == made["X-Request-ID"])
    assert listing["reference"] == ""
