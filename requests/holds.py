"""Legal holds: a request's footage and package preserved beyond their retention, and lifted again.

A hold does not change the request's status (that is `requests.workflow`'s); placing and lifting one are ledger
events, and the footage is copied into the holding area by a task after commit.
"""

import datetime as dt
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record_event
from audit.models import Action
from governance.models import User
from requests import permissions
from requests.locking import lock_request
from requests.models import FootageRequest, LegalHold
from requests.permissions import WorkflowRefused
from requests.sources import source_for
from requests.sources.files import confined


def hold_create(
    footage_request: FootageRequest,
    *,
    actor: User | None,
    reason: str = "",
    reason_code: str = "",
    http_request: HttpRequest | None = None,
) -> LegalHold | None:
    """Place a hold unless one is active (None then); the caller holds the request's lock and has checked who acts.

    `actor` None is the system's own hold (an emergency request preserved on submission), with its `reason_code`.
    """
    if LegalHold.objects.filter(footage_request=footage_request, released_at__isnull=True).exists():
        return None
    hold = LegalHold.objects.create(footage_request=footage_request, reason=reason, reason_code=reason_code, placed_by=actor)
    record_event(
        actor=actor,
        action=Action.HOLD_PLACE,
        target=footage_request,
        data={"hold": hold.pk, "reason": reason, "reason_code": reason_code, "automatic": actor is None},
        http_request=http_request,
    )
    transaction.on_commit(lambda: hold_dispatch(hold.pk))
    return hold


def hold_dispatch(hold_id: int) -> None:
    """Send the copy to the queue of each recorder site holding the request's footage (`requests.sites`)."""
    from requests.sites import export_plan
    from requests.tasks import preserve_held_footage

    hold = LegalHold.objects.filter(pk=hold_id).values("footage_request_id").first()
    if hold is None:
        return
    plan = export_plan(hold["footage_request_id"]) or [("", "", "")]
    # The copies the hold waits for are those sent now, wherever the cameras are moved later.
    LegalHold.objects.filter(pk=hold_id, preserved_at__isnull=True).update(sites_planned=[code for code, _n, _q in plan])
    for code, _name, queue in plan:
        preserve_held_footage.apply_async((hold_id, code), queue=queue or None)


@transaction.atomic(durable=True)
def hold_place(
    *, actor: User, footage_request: FootageRequest, reason: str, http_request: HttpRequest | None = None
) -> LegalHold:
    """A custodian preserves the request's footage and package beyond their retention."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_hold(actor, footage_request)
    if not reason.strip():
        raise WorkflowRefused(_("Give the reason for the legal hold."))
    hold = hold_create(footage_request, actor=actor, reason=reason, http_request=http_request)
    if hold is None:
        raise WorkflowRefused(_("A legal hold is already in place on this request."))
    return hold


@transaction.atomic(durable=True)
def hold_release(
    *, actor: User, footage_request: FootageRequest, reason: str = "", http_request: HttpRequest | None = None
) -> LegalHold:
    """Lift the active legal hold; the preserved copies are removed and retention applies again."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_hold(actor, footage_request)
    hold = LegalHold.objects.select_for_update().filter(footage_request=footage_request, released_at__isnull=True).first()
    if hold is None:
        raise WorkflowRefused(_("No legal hold is in place on this request."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    record_event(
        actor=actor,
        action=Action.HOLD_RELEASE,
        target=footage_request,
        data={"hold": hold.pk, "reason": reason, "segments_held": hold.segments_held},
        http_request=http_request,
    )
    if hold.path:
        path = hold.path
        transaction.on_commit(lambda: shutil.rmtree(path, ignore_errors=True))
    return hold


def hold_preserve(hold_id: int, site_code: str | None = None) -> int:
    """Hard-link (or copy, across file systems) every segment the held request covers into the holding area.

    With `site_code`, only the segments of the cameras at that recorder site ("" for those without a site), on a
    worker of its queue; the hold is preserved once every site's copy is in."""
    from requests.sites import export_plan

    hold = LegalHold.objects.select_related("footage_request").get(pk=hold_id)
    if hold.released_at is not None:
        return 0
    target = Path(settings.LEGAL_HOLD_ROOT) / hold.footage_request.reference / str(hold.pk)
    count = 0
    items = hold.footage_request.items.select_related("camera", "camera__site")
    if site_code is not None:
        items = [item for item in items if (item.camera.site.code if item.camera.site_id else "") == site_code]
    for item in items:
        source = source_for(item.camera.code)
        for segment in source.list_segments(item.start, item.end).segments:
            # The holding area is itself a "generic" layout in UTC, so an export can read it like any recorder.
            destination = confined(
                target, target / item.camera.code / f"{segment.start.astimezone(dt.UTC):%Y-%m-%d/%H-%M-%S}.mp4"
            )
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists():
                count += 1
                continue
            local = source.local_path(segment)
            try:
                if local is None:
                    raise OSError("remote segment")
                os.link(local, destination)
            except OSError:
                with source.open_segment(segment) as src, open(destination, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            count += 1
    with transaction.atomic():
        # Locked as `hold_release` locks it: a hold lifted while its copy ran leaves no copy behind.
        current = LegalHold.objects.select_for_update().get(pk=hold.pk)
        lifted = current.released_at is not None
        if not lifted and current.preserved_at is None:
            # A copy run again (a task delivered twice) keeps the first finishing time and count: a report of a
            # period may have printed them. Each site's copy counts once; the hold is preserved when all are in.
            sites = set(current.sites_planned) or {code for code, _name, _queue in export_plan(current.footage_request_id)}
            done = dict(current.sites_preserved)
            done.setdefault("*" if site_code is None else site_code, count)
            current.sites_preserved = done
            current.path = str(target)
            fields = ["path", "sites_preserved"]
            if "*" in done or sites <= set(done):
                current.segments_held = sum(done.values()) if "*" not in done else done["*"]
                current.preserved_at = timezone.now()
                fields += ["segments_held", "preserved_at"]
            current.save(update_fields=fields)
    if lifted:
        shutil.rmtree(target, ignore_errors=True)
        return 0
    return count
