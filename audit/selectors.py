"""Unscoped reads of the ledger that any layer may need: date bounds as sequence numbers, the key register.

Who reads which events is decided above the ledger, in `oversight.selectors`."""

import datetime as dt
from typing import Literal

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent, Checkpoint, SigningKey


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def seq_range_for_dates(
    date_from: dt.date | None = None, date_to: dt.date | None = None
) -> tuple[int | None, int | None] | Literal[False]:
    """(lowest, highest) sequence number of events on those local dates, inclusive; None for an open end.

    record_event reads the clock only after it holds the ledger head, so time
    never goes backwards along the sequence: one indexed lookup on
    occurred_at per bound turns a date range into a seq range, and the page
    query stays on the seq indexes. Returns False when no event can match.
    """
    lowest = highest = None
    if date_from is not None:
        start = _local_midnight(date_from)
        lowest = AuditEvent.objects.filter(occurred_at__gte=start).order_by("occurred_at").values_list("seq", flat=True).first()
        if lowest is None:
            return False
    if date_to is not None:
        end = _local_midnight(date_to + dt.timedelta(days=1))
        highest = AuditEvent.objects.filter(occurred_at__lt=end).order_by("-occurred_at").values_list("seq", flat=True).first()
        if highest is None:
            return False
    if lowest is not None and highest is not None and lowest > highest:
        return False
    return lowest, highest


# Key fingerprints are public on purpose: they are printed on reports and
# hand-over records so that anyone can check a ledger bundle against them.


def current_signing_key() -> SigningKey | None:
    """The key that signs checkpoints now: the newest registered key not retired; None before any is registered."""
    return SigningKey.objects.filter(retired_at__isnull=True).order_by("-valid_from", "-id").first()


def current_signing_key_fingerprint() -> str:
    """The current signing key's fingerprint in its readable form (16 groups of 4 hex digits), or ""."""
    signing_key = current_signing_key()
    return signing_key.display_fingerprint if signing_key else ""


def signing_keys() -> QuerySet[SigningKey]:
    """The whole key register, newest first."""
    return SigningKey.objects.order_by("-valid_from", "-id")


def signing_keys_for_range(first_seq: int | None, last_seq: int | None) -> list[SigningKey]:
    """The registered keys that signed the checkpoints fixing events first_seq..last_seq.

    The same checkpoints a bundle of those events carries: those inside the
    range and the first one after it.
    """
    if first_seq is None:
        return []
    key_ids = set(Checkpoint.objects.filter(seq__gte=first_seq, seq__lte=last_seq).values_list("key_id", flat=True).distinct())
    following = Checkpoint.objects.filter(seq__gt=last_seq).order_by("seq").values_list("key_id", flat=True).first()
    if following:
        key_ids.add(following)
    return list(SigningKey.objects.filter(key_id__in=key_ids).order_by("valid_from", "id"))
