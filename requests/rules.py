"""The regulation's rules for what may be requested. Each broken rule is one clear, translated message."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from governance.models import Camera
from governance.timefmt import duration_text


def camera_requestable_by(camera, agency):
    """An agency may request cameras inside its own area (city-wide agencies: every camera)."""
    if camera.status == Camera.Status.DECOMMISSIONED:
        return False
    if agency.area_id is None:
        return False
    return camera.area.path.startswith(agency.area.path)


def _when(moment):
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def check_request_content(*, agency, legal_basis, case_reference, items, filed_on=None, now=None):
    """Return every rule the content breaks, as messages (empty when it may be filed).

    `items` is a sequence of objects or dicts with camera, start, end, data_category.
    """
    now = now or timezone.now()
    filed_on = filed_on or timezone.localdate(now)
    errors = []
    if legal_basis is None:
        return [_("Choose the legal basis for this request.")]
    if not legal_basis.is_valid_on(filed_on):
        errors.append(
            _("The legal basis %(code)s is not in force on %(day)s.")
            % {"code": legal_basis.code, "day": formats.date_format(filed_on, "SHORT_DATE_FORMAT")}
        )
    if legal_basis.case_number_required and not (case_reference or "").strip():
        label = legal_basis.case_number_label or _("case or document number")
        errors.append(_("This legal basis requires the %(label)s.") % {"label": label})
    if not items:
        errors.append(_("Add at least one camera and time window."))
        return errors

    allowed = {c.pk: c for c in legal_basis.allowed_categories.all()}
    cameras = set()
    for number, item in enumerate(items, start=1):
        get = item.get if isinstance(item, dict) else lambda name, item=item: getattr(item, name)
        camera, start, end, category = get("camera"), get("start"), get("end"), get("data_category")
        where = _("Item %(n)d (%(camera)s)") % {"n": number, "camera": camera.code}
        cameras.add(camera.pk)
        if category.pk not in allowed:
            errors.append(
                _("%(where)s: the legal basis %(code)s does not allow %(category)s.")
                % {"where": where, "code": legal_basis.code, "category": category.name}
            )
        if category.code not in camera.capability_codes():
            errors.append(
                _("%(where)s: this camera does not produce %(category)s.") % {"where": where, "category": category.name}
            )
        if not camera_requestable_by(camera, agency):
            errors.append(_("%(where)s: your agency may not request footage from this camera.") % {"where": where})
        if end <= start:
            errors.append(_("%(where)s: the end of the window must be after its start.") % {"where": where})
            continue
        if end > now:
            errors.append(_("%(where)s: the window ends in the future (%(end)s).") % {"where": where, "end": _when(end)})
        seconds = (end - start).total_seconds()
        if seconds > legal_basis.max_window_hours * 3600:
            errors.append(
                _("%(where)s: the window lasts %(length)s; this legal basis allows at most %(max)s.")
                % {
                    "where": where,
                    "length": duration_text(seconds),
                    "max": duration_text(legal_basis.max_window_hours * 3600),
                }
            )
        oldest = now - dt.timedelta(days=camera.retention_days)
        if start < oldest:
            errors.append(
                _("%(where)s: the window starts before %(oldest)s; this camera keeps recordings for %(days)d days only.")
                % {"where": where, "oldest": _when(oldest), "days": camera.retention_days}
            )
    if len(cameras) > legal_basis.max_cameras:
        errors.append(
            _("The request names %(n)d cameras; this legal basis allows at most %(max)d.")
            % {"n": len(cameras), "max": legal_basis.max_cameras}
        )
    return errors


def ensure_request_content(**kwargs):
    errors = check_request_content(**kwargs)
    if errors:
        raise ValidationError(errors)
