"""Background work of oversight: building the reports overseers ask for."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="oversight.tasks.report_build_task", acks_late=True, reject_on_worker_lost=True)
def report_build_task(report_id: int) -> str:
    """Build one requested oversight report (its PDF and CSVs) and hash both into the ledger."""
    from oversight.reports import report_build

    return report_build(report_id).status


def resume_waiting(*, now: dt.datetime | None = None) -> int:
    """Dispatch again the reports still waiting for a worker after AUDIT_WAIT_MINUTES; returns how many."""
    from oversight.models import Report

    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.AUDIT_WAIT_MINUTES)
    waiting = list(Report.objects.filter(status=Report.Status.PENDING, requested_at__lt=cutoff).values_list("pk", flat=True))
    for pk in waiting:
        logger.warning("Report %s was still waiting for a worker: dispatched again", pk)
        report_build_task.delay(pk)
    return len(waiting)


@shared_task(name="oversight.tasks.resume_waiting_reports")
def resume_waiting_reports() -> int:
    """Dispatch again the reports no worker has started (scheduled by beat)."""
    return resume_waiting()
