"""Writes around requests that are not status transitions (those live in requests/workflow.py)."""

import datetime as dt
import hashlib

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit import record_event
from audit.models import Action
from governance.models import User
from requests import permissions
from requests.locking import lock_request
from requests.models import Attachment, FootageRequest, Notification, Status


def notifications_mark_read(*, actor: User) -> int:
    """Mark every unread notification of the actor as read; returns how many."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def request_attach(
    *,
    actor: User,
    footage_request: FootageRequest,
    uploaded_file: UploadedFile,
    kind: str = Attachment.Kind.OFFICIAL_LETTER,
    http_request: HttpRequest | None = None,
) -> Attachment:
    """Attach a checked PDF (see requests.forms.validate_pdf) to a request."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_edit(actor, footage_request)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    attachment = Attachment(
        footage_request=footage_request,
        kind=kind,
        original_name=uploaded_file.name[:255],
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    attachment.file.save(f"{attachment.sha256[:16]}.pdf", uploaded_file, save=False)
    attachment.save()
    record_event(
        actor=actor,
        action=Action.REQUEST_ATTACH,
        target=footage_request,
        data={
            "attachment": attachment.pk,
            "kind": kind,
            "name": attachment.original_name,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
        http_request=http_request,
    )
    return attachment


def request_record_view(*, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None) -> None:
    """Viewing a request's detail is itself a ledger event."""
    with transaction.atomic(durable=True):
        record_event(actor=actor, action=Action.REQUEST_VIEW, target=footage_request, http_request=http_request)


def request_export_resume_stalled(*, now: dt.datetime | None = None) -> int:
    """Dispatch again the exports nobody has worked on for EXPORT_STALL_MINUTES (a lost message, a dead worker)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)
    stalled = list(
        FootageRequest.objects.filter(status=Status.EXPORTING, export_heartbeat__lt=cutoff).values_list("pk", flat=True)
    )
    from requests.sites import export_dispatch

    for pk in stalled:
        export_dispatch(pk)
    return len(stalled)
