"""Redacted copies required for a request, the regions to blur, and their review (`requests.models.Redaction`).

Each change takes the request's lock, checks who acts (`requests.permissions`) and is a ledger event in the same
transaction. The export (`requests.export`) reads the plan with `export_plan`.
"""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record_event
from audit.models import Action
from governance.models import User
from requests import permissions
from requests.locking import lock_request
from requests.models import FootageRequest, Redaction, RedactionRegion, RequestItem
from requests.permissions import WorkflowRefused
from requests.redactor import MIN_SIDE, DrawnRegion


def _region_facts(region):
    return {
        "region": region.pk,
        "item": region.item_id,
        "camera": region.item.camera.code,
        "label": region.label,
        "at": region.at,
        "box": list(region.box),
        "until": region.until,
        "track": region.track,
        "note": region.note,
    }


@transaction.atomic(durable=True)
def redaction_require(
    *, actor: User, footage_request: FootageRequest, reason: str, faces: bool = True, http_request: HttpRequest | None = None
) -> Redaction:
    """The recipient gets redacted copies only: required by the approver deciding, or an assigned custodian."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_require_redaction(actor, footage_request)
    if not reason.strip():
        raise WorkflowRefused(_("Say why the footage must be redacted."))
    if Redaction.objects.filter(footage_request=footage_request).exists():
        raise WorkflowRefused(_("Redacted copies are already required for this request."))
    redaction = Redaction.objects.create(footage_request=footage_request, reason=reason.strip(), faces=faces, required_by=actor)
    record_event(
        actor=actor,
        action=Action.REDACTION_REQUIRE,
        target=footage_request,
        data={"reason": redaction.reason, "faces": faces, "status": footage_request.status},
        http_request=http_request,
    )
    return redaction


def redaction_required_by_rule(
    footage_request: FootageRequest, *, reason: str, facts: dict, http_request: HttpRequest | None = None
) -> Redaction:
    """Redacted copies required by a rule rather than a person (the request's legal basis, a data subject's request),
    in the caller's transaction, with its ledger event."""
    redaction = Redaction.objects.create(footage_request=footage_request, reason=reason, faces=True, required_by=None)
    record_event(
        actor=None,
        action=Action.REDACTION_REQUIRE,
        target=footage_request,
        data={"faces": True, **facts},
        http_request=http_request,
    )
    return redaction


def _redaction_for_change(actor, footage_request):
    footage_request = lock_request(footage_request)
    permissions.ensure_can_edit_redaction(actor, footage_request)
    redaction = Redaction.objects.filter(footage_request=footage_request).first()
    if redaction is None:
        raise WorkflowRefused(_("Redacted copies are not required for this request."))
    return footage_request, redaction


@transaction.atomic(durable=True)
def redaction_region_add(
    *,
    actor: User,
    footage_request: FootageRequest,
    item: RequestItem,
    label: str,
    at: float,
    box: tuple[int, int, int, int],
    until: float | None = None,
    track: bool = True,
    note: str = "",
    http_request: HttpRequest | None = None,
) -> RedactionRegion:
    """A custodian draws a region to blur on one of the request's clips; the regions need a review again."""
    footage_request, redaction = _redaction_for_change(actor, footage_request)
    if item.footage_request_id != footage_request.pk:
        raise WorkflowRefused(_("Choose one of this request's cameras."))
    length = (item.end - item.start).total_seconds()
    if at < 0 or at >= length:
        raise WorkflowRefused(
            _("The moment the box is drawn at must lie within the window (0 to %(n)d seconds).") % {"n": length}
        )
    if until is not None and not at < until <= length:
        raise WorkflowRefused(_("The end of the region must come after the moment it is drawn at, within the window."))
    x, y, width, height = box
    if min(x, y) < 0 or min(width, height) <= 0:
        raise WorkflowRefused(_("Give the box as its left and top edge and a width and height greater than zero."))
    if min(width, height) < MIN_SIDE:
        raise WorkflowRefused(_("A region must be at least %(n)d pixels wide and high.") % {"n": MIN_SIDE})
    if label == RedactionRegion.Label.SUBJECT:
        # Left visible, it lifts the blurring of the faces inside it: only for the person asking for their own footage,
        # once per clip, and never the whole picture (requests.redactor refuses a box over a quarter of the frame).
        if not footage_request.for_data_subject:
            raise WorkflowRefused(_("Only a person's request for their own footage has a person left visible."))
        if redaction.regions.filter(item=item, label=RedactionRegion.Label.SUBJECT).exists():
            raise WorkflowRefused(_("The person asking is already marked on this clip: remove that region first."))
    region = RedactionRegion.objects.create(
        redaction=redaction,
        item=item,
        label=label,
        at=at,
        x=x,
        y=y,
        width=width,
        height=height,
        until=until,
        track=track,
        note=note.strip(),
        added_by=actor,
    )
    Redaction.objects.filter(pk=redaction.pk).update(reviewed_by=None, reviewed_at=None)
    record_event(
        actor=actor,
        action=Action.REDACTION_REGION_ADD,
        target=footage_request,
        data=_region_facts(region),
        http_request=http_request,
    )
    return region


@transaction.atomic(durable=True)
def redaction_region_remove(
    *, actor: User, footage_request: FootageRequest, region_id: int, http_request: HttpRequest | None = None
) -> None:
    footage_request, redaction = _redaction_for_change(actor, footage_request)
    region = RedactionRegion.objects.select_related("item__camera").filter(redaction=redaction, pk=region_id).first()
    if region is None:
        raise WorkflowRefused(_("That region is not one of this request's."))
    facts = _region_facts(region)
    region.delete()
    Redaction.objects.filter(pk=redaction.pk).update(reviewed_by=None, reviewed_at=None)
    record_event(
        actor=actor, action=Action.REDACTION_REGION_REMOVE, target=footage_request, data=facts, http_request=http_request
    )


@transaction.atomic(durable=True)
def redaction_review(*, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None) -> Redaction:
    """A custodian confirms the regions as they stand; the export may then start."""
    footage_request, redaction = _redaction_for_change(actor, footage_request)
    regions = list(redaction.regions.select_related("item__camera"))
    redaction.reviewed_by, redaction.reviewed_at = actor, timezone.now()
    redaction.save(update_fields=["reviewed_by", "reviewed_at"])
    record_event(
        actor=actor,
        action=Action.REDACTION_REVIEW,
        target=footage_request,
        data={"faces": redaction.faces, "regions": [_region_facts(region) for region in regions]},
        http_request=http_request,
    )
    return redaction


class FrameUnavailable(Exception):
    """No frame can be shown here; the message says why (no footage at that moment, footage held at a recorder site)."""


@transaction.atomic(durable=True)
def redaction_frame(
    *, actor: User, footage_request: FootageRequest, item: RequestItem, at: float, http_request: HttpRequest | None = None
) -> tuple[bytes, tuple[int, int]]:
    """The frame of `item`'s window `at` seconds from its start, as a PNG with the regions drawn on it shown as
    outlines, for a custodian drawing regions; (PNG, (width, height)). Seeing footage is a ledger event."""
    import datetime as dt

    import cv2
    import numpy as np

    from requests.export import _best_source
    from requests.redactor import RedactionError, frame_at

    footage_request, redaction = _redaction_for_change(actor, footage_request)
    if item.footage_request_id != footage_request.pk:
        raise WorkflowRefused(_("Choose one of this request's cameras."))
    length = (item.end - item.start).total_seconds()
    if not 0 <= at < length:
        raise WorkflowRefused(
            _("The moment the box is drawn at must lie within the window (0 to %(n)d seconds).") % {"n": length}
        )
    moment = item.start + dt.timedelta(seconds=at)
    camera = item.camera
    if camera.site_id is not None:
        raise FrameUnavailable(_("This camera's footage is held at its recorder site: its frames are not shown here."))
    source, listing = _best_source(footage_request, item)
    segment = next((s for s in listing.segments if s.readable and s.start <= moment and (s.end is None or moment < s.end)), None)
    if segment is None or not hasattr(source, "local_path"):
        raise FrameUnavailable(_("No recorded footage at that moment."))
    try:
        png, size = frame_at(source.local_path(segment), (moment - segment.start).total_seconds())
    except (RedactionError, OSError, ValueError) as error:  # PyAV's errors are OSError or ValueError
        raise FrameUnavailable(_("The frame could not be read: %(error)s") % {"error": error}) from None
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    for region in redaction.regions.filter(item=item):
        if region.at <= at and (region.until is None or at <= region.until):
            colour = (80, 200, 60) if region.label == RedactionRegion.Label.SUBJECT else (40, 40, 230)
            cv2.rectangle(image, (region.x, region.y), (region.x + region.width, region.y + region.height), colour, 2)
            cv2.putText(image, f"#{region.pk}", (region.x + 3, region.y + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1)
    ok, drawn = cv2.imencode(".png", image)
    record_event(
        actor=actor,
        action=Action.REDACTION_FRAME_VIEW,
        target=footage_request,
        data={"item": item.pk, "camera": camera.code, "at": at, "moment": moment.isoformat()},
        http_request=http_request,
    )
    return drawn.tobytes(), size


def redaction_of(footage_request: FootageRequest) -> Redaction | None:
    """The request's redaction with its regions (`regions_listed`), as the request page shows it; None: none required."""
    redaction = Redaction.objects.select_related("required_by", "reviewed_by").filter(footage_request=footage_request).first()
    if redaction is not None:
        redaction.regions_listed = list(redaction.regions.select_related("item__camera", "added_by"))
    return redaction


def export_plan(footage_request: FootageRequest) -> dict | None:
    """What the export needs to make the redacted copies (None: the originals are released as they are): whether
    faces are blurred, the regions per requested item, and who required and reviewed them (for the manifest)."""
    redaction = (
        Redaction.objects.select_related("required_by__agency", "reviewed_by__agency")
        .filter(footage_request=footage_request)
        .first()
    )
    if redaction is None:
        return None
    regions = {}
    for region in redaction.regions.all():
        regions.setdefault(region.item_id, []).append(
            DrawnRegion(
                label=region.label, at=region.at, box=region.box, until=region.until, track=region.track, note=region.note
            )
        )
    return {
        "faces": redaction.faces,
        "regions": regions,
        "record": {
            "reason": redaction.reason,
            # None: required by the legal basis or by a data subject's request (the reason says which).
            "required_by": redaction.required_by.display_name if redaction.required_by else None,
            "required_at": redaction.required_at.isoformat(),
            "reviewed_by": redaction.reviewed_by.display_name if redaction.reviewed_by else None,
            "reviewed_at": redaction.reviewed_at.isoformat() if redaction.reviewed_at else None,
        },
    }
