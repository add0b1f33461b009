import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from requests.models import Notification
from requests.selectors import notification_scope
from requests.verification import verification_url

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_notification_emails(notification_ids):
    """E-mail each notification to its user (after the transaction that created it has committed)."""
    notifications = Notification.objects.filter(pk__in=notification_ids).select_related("user", "footage_request")
    with translation.override(settings.LANGUAGE_CODE):
        for notification in notifications:
            if not notification.user.email:
                continue
            send_mail(
                subject=notification.text,
                message=render_to_string(
                    "requests/email/notification.txt",
                    {
                        "notification": notification,
                        "scope": notification_scope(notification),
                        "link": verification_url(reverse("requests:detail", args=[notification.footage_request.reference])),
                    },
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[notification.user.email],
                fail_silently=False,
            )


@shared_task(acks_late=True)
def expire_stale_requests():
    from requests.workflow import request_expire_stale

    return request_expire_stale()


@shared_task(acks_late=True)
def chase_deadlines():
    """Reminders before a deadline, escalation after it, reminders to answer before expiry (requests.deadlines)."""
    from requests.deadlines import deadlines_chase

    return deadlines_chase()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def export_request(self, footage_request_id):
    """Export an approved request. Safe to deliver twice or to rerun after a dead worker: only one release is ever made."""
    from requests import export, workflow
    from requests.selectors import request_export_pending

    if not request_export_pending(footage_request_id):
        return "nothing to do"
    try:
        built = export.export_build(
            footage_request_id,
            progress=lambda percent, stage: workflow.request_export_progress(footage_request_id, percent, stage),
        )
    except export.ExportFailed as exc:
        workflow.request_export_fail(footage_request_id=footage_request_id, reason=str(exc))
        return "failed"
    except export.TRANSIENT_ERRORS as exc:
        if self.request.retries >= settings.EXPORT_MAX_RETRIES:
            reason = export.coded("gave_up", error=f"{type(exc).__name__}: {exc}"[:300])
            workflow.request_export_fail(footage_request_id=footage_request_id, reason=reason)
            return "failed"
        raise self.retry(exc=exc, countdown=min(600, 5 * 2**self.request.retries)) from exc
    release = workflow.request_release(footage_request_id=footage_request_id, built=built)
    return "released" if release else "already released"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def preserve_held_footage(hold_id):
    from requests.holds import hold_preserve

    return hold_preserve(hold_id)


@shared_task(acks_late=True)
def purge_expired_releases():
    from requests.releases import release_purge_expired
    from requests.staging import staging_sweep

    staging_sweep()
    return release_purge_expired()


@shared_task(acks_late=True)
def resume_stalled_exports():
    from requests.services import request_export_resume_stalled
    from requests.staging import staging_sweep

    # First the remains of exports whose worker died, then their requests go back to the queue.
    staging_sweep()
    return request_export_resume_stalled()


@worker_ready.connect
def sweep_staging_on_worker_start(sender=None, **kwargs):
    """A worker that starts removes what exports killed with a previous worker left in its staging folder."""
    from requests.staging import staging_sweep

    try:
        removed = staging_sweep()
    except Exception:
        # The worker still serves; the stall sweep tries again within minutes.
        logger.exception("Sweeping the export staging folder at worker start failed")
        return
    if removed:
        logger.warning("Worker start: removed %d folders of exports no longer running", removed)
