"""What reading the ledger writes to it."""

from django.db import transaction

from audit.models import Action
from audit.services import record_event


def recorded_filters(filters):
    return {name: str(value) for name, value in filters.items()}


def ledger_view_record(*, actor, filters, page, http_request=None) -> None:
    """Reading a page of the ledger is itself an event: the filters and the first and last sequence numbers shown."""
    with transaction.atomic():
        record_event(
            actor=actor,
            action=Action.LEDGER_VIEW,
            data={
                "filters": recorded_filters(filters),
                "first_seq": page.rows[0].seq if page.rows else None,
                "last_seq": page.rows[-1].seq if page.rows else None,
            },
            http_request=http_request,
        )
