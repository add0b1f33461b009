"""The rows of a request table, built in one pass.

A list page shows fifty requests with eight cells each; rendered cell by cell through template includes that is
most of the page's time. This tag writes the same markup from Python: the labels are translated once per table,
each value escaped."""

import unicodedata
from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _

from requests.models import Status, Urgency

register = template.Library()

PURPOSE_CHARS = 90
_URGENCY_BADGES = {
    Urgency.EMERGENCY: ("badge badge-emergency", mark_safe('<span aria-hidden="true">⚠ </span>')),  # noqa: S308
    Urgency.URGENT: ("badge badge-urgent", ""),
}


def _short(text, chars=PURPOSE_CHARS):
    """`truncatechars:<chars>` of the text: Truncator's result, without its character-by-character walk where it is
    plain."""
    if len(text) <= chars:
        return text  # never longer once normalised, so never cut
    text = unicodedata.normalize("NFC", text)
    head = text[: chars + 1]
    if len(head) > chars and not any(unicodedata.combining(char) for char in head):
        return text[: chars - 1] + "…"
    return Truncator(text).chars(chars)


def _urgency_badge(urgency, urgencies):
    """requests/includes/urgency.html: the urgency's badge."""
    badge = _URGENCY_BADGES.get(urgency, ("badge badge-muted", ""))
    return f'<span class="{badge[0]}">{badge[1]}{urgencies.get(urgency, escape(urgency))}</span>'


def _local(moment, zone):
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")


@register.simple_tag
def task_items(group):
    """The <li> items of one task group of requests/includes/tasks.html (the home page's "To do"), every value
    escaped as in `request_rows`."""
    urgencies = {value: escape(str(text)) for value, text in Urgency.choices}
    overdue_label = escape(str(_("Overdue")))
    due_label = escape(str(group.due_label))
    zone = timezone.get_current_timezone()
    detail_prefix = escape(reverse("requests:detail", args=["REF"])[: -len("REF/")])
    items = []
    for task in group.tasks:
        footage_request = task.footage_request
        classes = "task" + (" task-overdue" if task.overdue else "") + (" task-emergency" if task.emergency else "")
        urgency = footage_request.urgency
        badge = f" {_urgency_badge(urgency, urgencies)}" if urgency != Urgency.NORMAL else ""
        about = f"{escape(str(footage_request.agency.name))} · " if group.show_agency else ""
        if footage_request.case_reference:
            about += f"{escape(footage_request.case_reference)} · "
        about += escape(_short(footage_request.purpose, 80))
        due = ""
        if task.due_at:
            late = f'<strong class="overdue">{overdue_label}:</strong> ' if task.overdue else ""
            local = task.due_at.astimezone(zone)
            due = (
                f'<span class="task-due small">{late}{due_label} '
                f'<time datetime="{local.isoformat()}">{local.strftime("%d/%m/%Y %H:%M")}</time></span>'
            )
        items.append(
            f'<li class="{classes}"><span class="task-what">'
            f'<a class="mono" href="{detail_prefix}{quote(footage_request.reference)}/">{escape(footage_request.reference)}</a>'
            f'{badge} <span class="task-about">{about}</span></span>{due}</li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag
def home_items(footage_requests):
    """The <li> items of requests/includes/home_list.html, every value escaped as in `request_rows`."""
    statuses = {value: escape(str(text)) for value, text in Status.choices}
    urgencies = {value: escape(str(text)) for value, text in Urgency.choices}
    due_word = escape(str(_("due")))
    zone = timezone.get_current_timezone()
    detail_prefix = escape(reverse("requests:detail", args=["REF"])[: -len("REF/")])
    items = []
    for footage_request in footage_requests:
        status = escape(footage_request.status)
        urgency = footage_request.urgency
        badge = f" {_urgency_badge(urgency, urgencies)}" if urgency != Urgency.NORMAL else ""
        about = f"{escape(footage_request.case_reference)} · " if footage_request.case_reference else ""
        about += f"{escape(_short(footage_request.purpose, 70))} · {escape(footage_request.legal_basis.code)}"
        if footage_request.due_at:
            about += f" · {due_word} {_local(footage_request.due_at, zone)}"
        items.append(
            f'<li><a class="mono" href="{detail_prefix}{quote(footage_request.reference)}/">{escape(footage_request.reference)}</a> '
            f'<span><span class="badge badge-req badge-req-{status}">{statuses.get(footage_request.status, status)}</span>'
            f'{badge}</span> <span class="small muted home-about">{about}</span></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag
def request_rows(footage_requests, show_agency=False, show_requester=False):
    """The <tr> rows of requests/includes/request_table.html for `footage_requests`.

    Every value is passed through `html.escape` (what Django's `escape` does) before it is placed in the markup."""
    label = {
        key: escape(str(text))
        for key, text in (
            ("reference", _("Reference")),
            ("status", _("Status")),
            ("urgency", _("Urgency")),
            ("agency", _("Requesting agency")),
            ("basis", _("Legal basis")),
            ("case", _("Case and purpose")),
            ("officer", _("Officer")),
            ("due", _("Due")),
            ("overdue", _("Overdue")),
        )
    }
    statuses = {value: escape(str(text)) for value, text in Status.choices}
    urgencies = {value: escape(str(text)) for value, text in Urgency.choices}
    zone = timezone.get_current_timezone()
    detail_prefix = escape(reverse("requests:detail", args=["REF"])[: -len("REF/")])
    rows = []
    for footage_request in footage_requests:
        overdue = getattr(footage_request, "is_overdue", False)
        urgency = footage_request.urgency
        classes = ("is-overdue" if overdue else "") + (" is-emergency" if urgency == Urgency.EMERGENCY else "")
        reference = escape(footage_request.reference)
        status = escape(footage_request.status)
        note = getattr(footage_request, "waiting_note", "")
        note = f'<br><span class="small muted">{escape(str(note))}</span>' if note else ""
        badge = _URGENCY_BADGES.get(urgency, ("badge badge-muted", ""))
        if footage_request.due_at:
            due = footage_request.due_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")
            due = f'<span class="nowrap">{due}</span>'
            if overdue:
                due += f' <span class="badge badge-overdue">{label["overdue"]}</span>'
        else:
            due = '<span class="muted">—</span>'
        basis = footage_request.legal_basis
        row = [
            f'<tr class="{classes}">',
            f'<td class="nowrap" data-label="{label["reference"]}">'
            f'<a class="mono" href="{detail_prefix}{quote(footage_request.reference)}/">{reference}</a></td>',
            f'<td class="nowrap" data-label="{label["status"]}"><span class="badge badge-req badge-req-{status}">'
            f"{statuses.get(footage_request.status, status)}</span>{note}</td>",
            f'<td class="nowrap" data-label="{label["urgency"]}"><span class="{badge[0]}">{badge[1]}'
            f"{urgencies.get(urgency, escape(urgency))}</span></td>",
        ]
        if show_agency:
            row.append(f'<td data-label="{label["agency"]}">{escape(str(footage_request.agency.name))}</td>')
        row += [
            f'<td data-label="{label["basis"]}"><span class="mono small">{escape(basis.code)}</span><br>'
            f'<span class="small">{escape(str(basis.title))}</span></td>',
            f'<td data-label="{label["case"]}"><span class="small">{escape(footage_request.case_reference or "—")}</span>'
            f'<br><span class="small muted break">{escape(_short(footage_request.purpose))}</span></td>',
        ]
        if show_requester:
            row.append(f'<td data-label="{label["officer"]}">{escape(footage_request.requester.display_name)}</td>')
        row.append(f'<td data-label="{label["due"]}">{due}</td></tr>')
        rows.append("".join(row))
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


@register.simple_tag
def window_rows(items):
    """The <tr> rows of a scope card (requests/includes/window_head.html's columns): each camera window of `items`,
    every value escaped as in `request_rows`."""
    label = {
        key: escape(str(text))
        for key, text in (
            ("camera", _("Camera")),
            ("area", _("Area")),
            ("from", _("From")),
            ("to", _("To")),
            ("duration", _("Duration")),
            ("data", _("Data")),
        )
    }
    sensitive = f' <span class="badge badge-warn">{escape(str(_("sensitive")))}</span>'
    zone = timezone.get_current_timezone()
    rows = []
    for item in items:
        camera, category = item.camera, item.data_category
        rows.append(
            f'<tr><td data-label="{label["camera"]}"><span class="mono">{escape(camera.code)}</span><br>'
            f'<span class="small">{escape(camera.name)}</span></td>'
            f'<td data-label="{label["area"]}">{escape(str(camera.area.name))}</td>'
            f'<td class="nowrap" data-label="{label["from"]}">{_local(item.start, zone)}</td>'
            f'<td class="nowrap" data-label="{label["to"]}">{_local(item.end, zone)}</td>'
            f'<td class="nowrap" data-label="{label["duration"]}">{escape(str(item.duration_text))}</td>'
            f'<td data-label="{label["data"]}">{escape(str(category.name))}{sensitive if category.is_sensitive else ""}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


@register.simple_tag
def timeline_items(events):
    """The <li> items of a request's timeline (requests.views.TimelineEntry), every value escaped as in
    `request_rows`."""
    system = escape(str(_("System")))
    zone = timezone.get_current_timezone()
    items = []
    for event in events:
        agency = f' <span class="muted small">· {escape(str(event.agency_name))}</span>' if event.agency_name else ""
        items.append(
            f'<li class="timeline-{escape(slugify(event.action))}">'
            f'<span class="timeline-time nowrap">{event.occurred_at.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")}</span> '
            f'<span class="timeline-action">{escape(str(event.label))}</span> '
            f'<span class="timeline-actor">{escape(event.actor) if event.actor else system}{agency}</span></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value above is escaped
