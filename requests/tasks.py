import logging
import shutil

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


def _build_or_retry(task, footage_request_id, build):
    """Run an export step; a failure fails the export, a transient error is tried again (then gives up). Returns
    the step's result, or None when the export failed."""
    from requests import export, workflow

    try:
        return build()
    except export.ExportFailed as exc:
        workflow.request_export_fail(footage_request_id=footage_request_id, reason=str(exc))
        return None
    except export.TRANSIENT_ERRORS as exc:
        if task.request.retries >= settings.EXPORT_MAX_RETRIES:
            reason = export.coded("gave_up", error=f"{type(exc).__name__}: {exc}"[:300])
            workflow.request_export_fail(footage_request_id=footage_request_id, reason=reason)
            return None
        raise task.retry(exc=exc, countdown=min(600, 5 * 2**task.request.retries)) from exc


def _progress(footage_request_id):
    from requests import workflow

    return lambda percent, stage: workflow.request_export_progress(footage_request_id, percent, stage)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def export_request(self, footage_request_id):
    """Export an approved request. Safe to deliver twice or to rerun after a dead worker: only one release is ever made.

    Runs on the queue of the recorder site holding the request's footage; a request whose cameras sit at several
    sites is sent on to each of them (`requests.sites`)."""
    from requests import export, sites, workflow
    from requests.selectors import request_export_pending

    if not request_export_pending(footage_request_id):
        return "nothing to do"
    if sites.in_parts(footage_request_id):
        sites.export_dispatch(footage_request_id)
        return "sent to the sites"
    built = _build_or_retry(
        self, footage_request_id, lambda: export.export_build(footage_request_id, progress=_progress(footage_request_id))
    )
    if built is None:
        return "failed"
    release = workflow.request_release(footage_request_id=footage_request_id, built=built)
    return "released" if release else "already released"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def export_part(self, footage_request_id, site_code, token=None):
    """Cut and check one recorder site's clips of a request (on that site's queue); the last part sends the
    packaging on (`export_assemble`)."""
    from celery.exceptions import Retry

    from requests import export, sites

    part = sites.part_claim(token) if token else None
    if part is None:
        return "nothing to do"
    folder = sites.part_folder(part.footage_request.reference, site_code)

    def progress(percent, stage):
        sites.part_renew(token)
        _progress(footage_request_id)(percent, stage)

    try:
        result = _build_or_retry(
            self, footage_request_id, lambda: export.part_build(footage_request_id, part.items, folder, progress=progress)
        )
    except Retry:
        sites.part_let_go(token)
        raise
    if result is None:
        return "failed"
    last = sites.part_done(footage_request_id, token, folder, result)
    if last is None:
        shutil.rmtree(folder, ignore_errors=True)
        return "already done"
    return "all sites done" if last else "waiting for other sites"


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def export_assemble(self, footage_request_id):
    """Package the clips every site cut, when the worker that was to do it died (sent by `sites.export_dispatch`)."""
    from requests.selectors import request_export_pending

    if not request_export_pending(footage_request_id):
        return "nothing to do"
    return _assemble(self, footage_request_id)


def _assemble(task, footage_request_id):
    from requests import export, sites, workflow

    def build():
        return export.assemble_build(
            footage_request_id, sites.done_parts(footage_request_id), progress=_progress(footage_request_id)
        )

    built = _build_or_retry(task, footage_request_id, build)
    if built is None:
        return "failed"
    release = workflow.request_release(footage_request_id=footage_request_id, built=built)
    return "released" if release else "already released"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def preserve_held_footage(hold_id, site_code=None):
    """Copy a held request's footage of one recorder site (on its queue) into the holding area."""
    from requests.holds import hold_preserve

    return hold_preserve(hold_id, site_code)


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
