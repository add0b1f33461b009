"""Background work of oversight: building the reports and offline bundles overseers ask for."""

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


@shared_task(name="oversight.tasks.bundle_build_task", acks_late=True, reject_on_worker_lost=True)
def bundle_build_task(bundle_id: int) -> str:
    """Build one requested offline verification bundle (a ZIP) and hash it into the ledger."""
    from oversight.bundles import bundle_build

    return bundle_build(bundle_id).status


def resume_waiting(*, now: dt.datetime | None = None) -> int:
    """Dispatch again the reports and bundles still waiting for a worker after AUDIT_WAIT_MINUTES; returns how many."""
    from oversight.models import BundleRequest, Report

    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.AUDIT_WAIT_MINUTES)
    waiting = list(Report.objects.filter(status=Report.Status.PENDING, requested_at__lt=cutoff).values_list("pk", flat=True))
    for pk in waiting:
        logger.warning("Report %s was still waiting for a worker: dispatched again", pk)
        report_build_task.delay(pk)
    bundles = list(
        BundleRequest.objects.filter(status=BundleRequest.Status.PENDING, requested_at__lt=cutoff).values_list("pk", flat=True)
    )
    for pk in bundles:
        logger.warning("Offline bundle %s was still waiting for a worker: dispatched again", pk)
        bundle_build_task.delay(pk)
    return len(waiting) + len(bundles)


@shared_task(name="oversight.tasks.resume_waiting_reports")
def resume_waiting_reports() -> int:
    """Dispatch again the reports and bundles no worker has started (scheduled by beat)."""
    return resume_waiting()
