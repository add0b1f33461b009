"""A clock in the past, for ledgers whose period is over: events recorded yesterday, the checkpoint that fixes them today.

A bundle fixes its events only up to a signed checkpoint at or after the
requested period's last event, and the ledger's head is never under one (its
own checkpoint's record follows it), so a period that includes the present is
never fully anchored. Tests that want a bundle to pass record its period in
the past.
"""

import datetime as dt
from contextlib import contextmanager
from unittest import mock

from django.utils import timezone


def yesterday():
    """Noon yesterday, local time (settings.TIME_ZONE), as an aware datetime."""
    return (timezone.localtime() - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


@contextmanager
def clock_at(start):
    """timezone.now() runs from start, one millisecond further at each call, so every event and signature has its own time."""
    ticks = iter(range(10**9))
    with mock.patch.object(timezone, "now", lambda: start + dt.timedelta(milliseconds=next(ticks))):
        yield
