"""Readiness: what /readyz checks, each on its own, each saying what it found and, when it fails, why.

- database: a query answers, and every migration is applied;
- broker: a connection to CELERY_BROKER_URL opens (eager mode has none to open); on Redis, each queue's length;
- workers: each queue of HEALTH_WORKER_QUEUES had a worker take the heartbeat task within HEALTH_HEARTBEAT_MAX_SECONDS;
- ledger: its head, and no event left without a checkpoint for longer than HEALTH_CHECKPOINT_MAX_MINUTES;
- storage: the free space of each volume the service writes to, at least HEALTH_MIN_FREE_MB.

What a check reports names the kind of thing it looked at (a queue, a volume by its role), never a password or a
path of the machine.
"""

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from kombu import Connection

from audit.models import Action, AuditEvent, Checkpoint
from operations.models import WorkerHeartbeat


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict = field(default_factory=dict)
    error: str = ""

    def as_json(self):
        answer = {"ok": self.ok, **self.detail}
        if self.error:
            answer["error"] = self.error
        return answer


def _error(exc):
    """An exception as a short line: its kind and its first words (drivers may put the address in them)."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Migrations do not un-apply themselves: once every one is found applied, a process stops asking.
_migrations_applied = False


def database() -> Check:
    global _migrations_applied
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        if not _migrations_applied:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                return Check("database", False, {"vendor": connection.vendor}, f"{len(pending)} migration(s) not applied")
            _migrations_applied = True
    except DatabaseError as exc:
        return Check("database", False, {"vendor": connection.vendor}, _error(exc))
    return Check("database", True, {"vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 1)})


def broker() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check("broker", True, {"transport": "eager: tasks run in the web process"})
    url = settings.CELERY_BROKER_URL
    timeout = settings.HEALTH_TIMEOUT_SECONDS
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
    detail = {"transport": url.split(":", 1)[0]}
    try:
        with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            if detail["transport"].startswith("redis"):
                client = conn.default_channel.client
                detail["messages"] = {queue: client.llen(queue) for queue in settings.HEALTH_WORKER_QUEUES}
            elif detail["transport"] == "filesystem":
                for key in ("data_folder_in", "data_folder_out"):
                    folder = options.get(key)
                    if folder and not os.access(folder, os.W_OK):
                        return Check("broker", False, detail, f"the queue folder ({key}) cannot be written")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is the answer, whatever the transport
        return Check("broker", False, detail, _error(exc))
    return Check("broker", True, detail)


def workers(now: dt.datetime | None = None) -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check("workers", True, {"queues": {}, "note": "eager: no worker needed"})
    now = now or timezone.now()
    seen = dict(WorkerHeartbeat.objects.filter(queue__in=settings.HEALTH_WORKER_QUEUES).values_list("queue", "seen_at"))
    limit = settings.HEALTH_HEARTBEAT_MAX_SECONDS
    queues, silent = {}, []
    for queue in settings.HEALTH_WORKER_QUEUES:
        age = (now - seen[queue]).total_seconds() if queue in seen else None
        queues[queue] = {"seconds_since_heartbeat": None if age is None else round(age)}
        if age is None or age > limit:
            silent.append(queue)
    error = f"no worker heartbeat within {limit} s on: {', '.join(silent)}" if silent else ""
    return Check("workers", not silent, {"queues": queues}, error)


def ledger(now: dt.datetime | None = None) -> Check:
    now = now or timezone.now()
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    if head is None:
        return Check("ledger", True, {"head_seq": 0})
    checkpoint = Checkpoint.objects.order_by("-seq").values("seq", "created_at").first()
    anchored = checkpoint["seq"] if checkpoint else 0
    detail = {
        "head_seq": head["seq"],
        "head_hash": head["hash"],
        "checkpoint_seq": anchored or None,
        "checkpoint_age_seconds": round((now - checkpoint["created_at"]).total_seconds()) if checkpoint else None,
        "events_after_checkpoint": head["seq"] - anchored,
    }
    # The oldest event no checkpoint fixes yet (a checkpoint's own record waits for the next one and needs none).
    waiting = AuditEvent.objects.filter(seq__gt=anchored).exclude(action=Action.LEDGER_CHECKPOINT).order_by("seq")
    waiting_since = waiting.values_list("occurred_at", flat=True).first()
    if waiting_since is None:
        return Check("ledger", True, detail)
    limit = dt.timedelta(minutes=settings.HEALTH_CHECKPOINT_MAX_MINUTES)
    if now - waiting_since > limit:
        minutes = int((now - waiting_since).total_seconds() // 60)
        return Check("ledger", False, detail, f"events have waited {minutes} minutes for a signed checkpoint")
    return Check("ledger", True, detail)


def _volumes():
    """The places the service writes to, by role; a place not made yet is read at its nearest existing folder."""
    places = {
        "data": settings.VAR_DIR,
        "media": settings.MEDIA_ROOT,
        "exports": settings.EXPORT_ROOT,
        "holds": settings.LEGAL_HOLD_ROOT,
    }
    for role, place in places.items():
        path = Path(place)
        while not path.exists() and path != path.parent:
            path = path.parent
        yield role, path


def storage() -> Check:
    least = settings.HEALTH_MIN_FREE_MB * 1024 * 1024
    volumes, short = {}, []
    for role, path in _volumes():
        try:
            free = shutil.disk_usage(path).free
        except OSError as exc:
            volumes[role] = {"error": _error(exc)}
            short.append(role)
            continue
        volumes[role] = {"free_bytes": free}
        if free < least:
            short.append(role)
    error = f"less than {settings.HEALTH_MIN_FREE_MB} MB free for: {', '.join(short)}" if short else ""
    return Check("storage", not short, {"volumes": volumes}, error)


CHECKS = (database, broker, workers, ledger, storage)


def readiness() -> list[Check]:
    """Every check; one that cannot reach the database is reported as failed, the others still run."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except DatabaseError as exc:
            results.append(Check(check.__name__, False, {}, _error(exc)))
    return results
