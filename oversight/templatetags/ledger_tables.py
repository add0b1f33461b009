"""The rows of the ledger list, built in one pass (fifty events of eight cells: rendered cell by cell through the
template engine they were most of the page's time). Every value is passed through `html.escape`, which is what
Django's `escape` does, before it is placed in the markup."""

from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from audit.models import Action, Outcome

register = template.Library()


def _prefix(name, placeholder):
    url = reverse(name, args=[placeholder])
    return url[: url.index(str(placeholder))]


@register.simple_tag
def ledger_rows(events):
    """The <tr> rows of oversight/ledger.html for `events` (each with `role_labels` and `object_kind` set)."""
    if not events:
        return mark_safe(f'<tr><td colspan="8">{escape(_("No events match these filters."))}</td></tr>')  # noqa: S308
    nobody = escape(_("(system or unknown)"))
    actions = {value: escape(str(label)) for value, label in Action.choices}
    outcomes = {value: escape(str(label)) for value, label in Outcome.choices}
    event_prefix = escape(_prefix("oversight:event", 1))
    request_prefix = escape(_prefix("requests:detail", "REF"))
    zone = timezone.get_current_timezone()
    rows = []
    for event in events:
        outcome = escape(event.outcome)
        at = event.occurred_at.astimezone(zone)
        actor = escape(event.actor_username) if event.actor_username else f"<em>{nobody}</em>"
        if event.actor_agency:
            actor += f"<br><small>{escape(event.actor_agency)}</small>"
        if event.role_labels:
            actor += f"<br><small>{escape(', '.join(str(label) for label in event.role_labels))}</small>"
        target = ""
        if event.target_type:
            target = escape(str(event.object_kind))
            if not event.reference:
                target += f' <span class="muted small">#{escape(event.target_id)}</span>'
        reference = (
            f'<a href="{request_prefix}{quote(event.reference)}/">{escape(event.reference)}</a>' if event.reference else ""
        )
        label = outcomes.get(event.outcome, outcome)
        if event.outcome == Outcome.SUCCESS:
            result = label
        else:
            result = f'<span class="badge badge-outcome-{outcome}">{label}</span>'
        refused = "" if event.outcome == Outcome.SUCCESS else f' class="is-refused" data-outcome="{outcome}"'
        rows.append(
            f"<tr{refused}>"
            f'<td><a href="{event_prefix}{event.seq}/">{event.seq}</a></td>'
            f'<td><time datetime="{at.isoformat()}">{at.strftime("%d/%m/%Y %H:%M:%S")}</time></td>'
            f"<td>{actor}</td>"
            f"<td>{actions.get(event.action, escape(event.action))}</td>"
            f"<td>{target}</td>"
            f"<td>{reference}</td>"
            f"<td>{result}</td>"
            f'<td><code title="{escape(event.hash)}">{escape(event.hash[:12])}</code></td>'
            "</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped
