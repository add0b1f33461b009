"""Prometheus metrics, read from the database and the broker when they are scraped (prometheus_client's collector
interface): nothing is counted in a process's memory, so every web process answers the same.

camgov_requests{status}                     requests by status
camgov_requests_overdue                     requests waiting for a review or decision past their deadline
camgov_exports{state}                       exports waiting for a custodian or the worker, and running
camgov_exports_released_24h                 packages released in the last 24 hours
camgov_export_seconds_24h{stat}             export start to release, over those packages (mean, max)
camgov_export_parts_waiting{site}           recorder sites' parts of running exports not cut yet, per site
camgov_export_part_seconds_24h{site,stat}   a site's part from dispatch to cut and checked, last 24 hours (mean, max)
camgov_queue_messages{queue}                messages waiting in each worker queue (Redis broker)
camgov_worker_heartbeat_age_seconds{queue}  since a worker of each queue last took the heartbeat task
camgov_ledger_head_seq                      the ledger's last sequence number
camgov_ledger_events_after_checkpoint       events no signed checkpoint fixes yet
camgov_ledger_checkpoint_age_seconds        since the last signed checkpoint
camgov_storage_free_bytes{volume}           free space where the service writes (data, media, exports, holds)
camgov_check_ok{check}                      1 where the readiness check passes, else 0
"""

import datetime as dt
import time

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from audit.models import AuditEvent, Checkpoint
from operations import checks
from requests.models import (
    EXPORT_QUEUE_STATUSES,
    OPEN_STATUSES,
    ExportPart,
    FootageRequest,
    Release,
    Status,
    StatusChange,
)

# Counting a city's requests by status reads the whole table: a process keeps the counts this long.
STATUS_COUNTS_SECONDS = 30
_status_counts = (0.0, {})


def _counts_by_status():
    global _status_counts
    taken, counts = _status_counts
    if time.monotonic() - taken > STATUS_COUNTS_SECONDS:
        rows = FootageRequest.objects.order_by().values_list("status").annotate(n=Count("pk"))
        counts = dict.fromkeys(Status.values, 0) | dict(rows)
        _status_counts = (time.monotonic(), counts)
    return counts


def _export_durations(now):
    """Seconds from each export's (last) start to its release, for the packages released in the last 24 hours."""
    started = (
        StatusChange.objects.filter(footage_request=OuterRef("footage_request"), to_status=Status.EXPORTING)
        .order_by("-at")
        .values("at")[:1]
    )
    rows = Release.objects.filter(created_at__gte=now - dt.timedelta(hours=24)).annotate(started=Subquery(started))
    return [(created - start).total_seconds() for created, start in rows.values_list("created_at", "started") if start]


def _site_parts(now):
    """Per recorder site: parts of running exports still waiting, and how long the finished ones took."""
    waiting = GaugeMetricFamily(
        "camgov_export_parts_waiting", "Recorder sites' parts of running exports not cut yet", labels=["site"]
    )
    rows = (
        ExportPart.objects.filter(status=ExportPart.Status.WAITING, footage_request__status=Status.EXPORTING)
        .order_by()
        .values_list("site_code")
        .annotate(n=Count("pk"))
    )
    for site, count in sorted(rows):
        waiting.add_metric([site or "-"], count)
    yield waiting
    seconds = GaugeMetricFamily(
        "camgov_export_part_seconds_24h", "A site's part from dispatch to cut and checked, last 24 hours", labels=["site", "stat"]
    )
    durations = {}
    finished = ExportPart.objects.filter(finished_at__gte=now - dt.timedelta(hours=24)).values_list(
        "site_code", "created_at", "finished_at"
    )
    for site, created, done in finished:
        durations.setdefault(site or "-", []).append((done - created).total_seconds())
    for site, values in sorted(durations.items()):
        seconds.add_metric([site, "mean"], sum(values) / len(values))
        seconds.add_metric([site, "max"], max(values))
    yield seconds


class ServiceCollector:
    def collect(self):
        now = timezone.now()
        by_status = GaugeMetricFamily("camgov_requests", "Requests by status", labels=["status"])
        for status, count in sorted(_counts_by_status().items()):
            by_status.add_metric([status], count)
        yield by_status
        overdue = FootageRequest.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now).count()
        yield GaugeMetricFamily(
            "camgov_requests_overdue", "Requests waiting for a review or decision past their deadline", value=overdue
        )

        exports = GaugeMetricFamily("camgov_exports", "Exports waiting and running", labels=["state"])
        exports.add_metric(["waiting"], FootageRequest.objects.filter(status__in=EXPORT_QUEUE_STATUSES).count())
        exports.add_metric(["running"], FootageRequest.objects.filter(status=Status.EXPORTING).count())
        yield exports
        durations = _export_durations(now)
        yield GaugeMetricFamily("camgov_exports_released_24h", "Packages released in the last 24 hours", value=len(durations))
        seconds = GaugeMetricFamily("camgov_export_seconds_24h", "Export start to release, last 24 hours", labels=["stat"])
        seconds.add_metric(["mean"], sum(durations) / len(durations) if durations else 0)
        seconds.add_metric(["max"], max(durations, default=0))
        yield seconds
        yield from _site_parts(now)

        broker = checks.broker()
        workers = checks.workers(now)
        queue = GaugeMetricFamily("camgov_queue_messages", "Messages waiting in each worker queue", labels=["queue"])
        for name, length in broker.detail.get("messages", {}).items():
            queue.add_metric([name], length)
        yield queue
        heartbeat = GaugeMetricFamily(
            "camgov_worker_heartbeat_age_seconds", "Since a worker of the queue last took the heartbeat task", labels=["queue"]
        )
        for name, seen in workers.detail.get("queues", {}).items():
            heartbeat.add_metric(
                [name], float("nan") if seen["seconds_since_heartbeat"] is None else seen["seconds_since_heartbeat"]
            )
        yield heartbeat

        head = AuditEvent.objects.aggregate(seq=Max("seq"))["seq"] or 0
        checkpoint = Checkpoint.objects.order_by("-seq").values("seq", "created_at").first()
        yield GaugeMetricFamily("camgov_ledger_head_seq", "The ledger's last sequence number", value=head)
        yield GaugeMetricFamily(
            "camgov_ledger_events_after_checkpoint",
            "Events no signed checkpoint fixes yet",
            value=head - (checkpoint["seq"] if checkpoint else 0),
        )
        yield GaugeMetricFamily(
            "camgov_ledger_checkpoint_age_seconds",
            "Since the last signed checkpoint",
            value=(now - checkpoint["created_at"]).total_seconds() if checkpoint else float("nan"),
        )

        storage = checks.storage()
        free = GaugeMetricFamily("camgov_storage_free_bytes", "Free space where the service writes", labels=["volume"])
        for role, volume in storage.detail["volumes"].items():
            if "free_bytes" in volume:
                free.add_metric([role], volume["free_bytes"])
        yield free

        passed = GaugeMetricFamily("camgov_check_ok", "1 where the readiness check passes", labels=["check"])
        for check in (checks.database(), broker, workers, checks.ledger(now), storage):
            passed.add_metric([check.name], 1 if check.ok else 0)
        yield passed


def metrics_text() -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector())
    return generate_latest(registry)
