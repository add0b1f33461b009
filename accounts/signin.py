"""Sign-in protection: lock-out per account and per address (django-axes), and failed sign-ins in the ledger by burst.

An account is locked after SIGNIN_FAILURES_ALLOWED failures within the cool-off
(the next wrong password locks it, and then the right one is refused too); an
address after SIGNIN_ADDRESS_FAILURES_ALLOWED, higher because a whole office
may sign in from behind one address. The lock lifts after SIGNIN_LOCKOUT_MINUTES
or when a system administrator unlocks it.

Anyone can fail a sign-in, so failures must not grow the append-only ledger at
will: within a window of SIGNIN_FAILURE_WINDOW_MINUTES, one account or one
address gets one ledger event (its first failure, carrying the count of its
previous window), and a lock-out gets one more, with the counts. Failures with
an unknown user name are counted against their address only.
"""

import datetime as dt

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SigninBurst
from audit import record_event
from audit.models import Action, AuditEvent, Outcome
from audit.services import client_address
from governance.models import User
from governance.second_factor import requires_second_factor

# Rows of accounts and addresses quiet for this long are forgotten.
BURST_KEEP = dt.timedelta(days=2)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address axes counts against: the same one the ledger records."""
    return client_address(request) or None


def _window():
    return dt.timedelta(minutes=settings.SIGNIN_FAILURE_WINDOW_MINUTES)


class SigninLockHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: one per account, a higher one per address.

    Axes compares one count with one limit; an address past its own limit is
    reported at the account limit, so that the address is locked as well.
    """

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        by_account, by_address = _attempt_counts(self.get_user_attempts(request, credentials))
        if by_address >= settings.SIGNIN_ADDRESS_FAILURES_ALLOWED + 1:
            return max(by_account, get_failure_limit(request, credentials))
        return by_account


def _attempt_counts(querysets):
    # AXES_LOCKOUT_PARAMETERS is ["username", "ip_address"]: one queryset for each, in that order.
    counts = [qs.aggregate(n=Sum("failures_since_start"))["n"] or 0 for qs in querysets]
    if len(counts) != 2:
        raise RuntimeError('AXES_LOCKOUT_PARAMETERS must be ["username", "ip_address"]')
    return counts


def lockout_minutes() -> int:
    return settings.SIGNIN_LOCKOUT_MINUTES


def _cool_off():
    minutes = settings.SIGNIN_LOCKOUT_MINUTES
    return dt.timedelta(minutes=minutes) if minutes else None


def _recent_attempts(**lookup):
    attempts = AccessAttempt.objects.filter(**lookup)
    cool_off = _cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def _known_user(username):
    return get_user_model().objects.filter(username=username).first() if username else None


def _open_or_count(kind, key, now):
    """Count one failure against `key`; return (whether it opens a window, the previous window's count)."""
    burst, created = SigninBurst.objects.select_for_update().get_or_create(
        kind=kind, key=key, defaults={"started_at": now, "last_at": now, "failures": 1}
    )
    if created:
        return True, 0
    if now - burst.started_at >= _window():
        previous = burst.failures
        burst.started_at, burst.last_at, burst.failures, burst.locked_at = now, now, 1, None
        burst.save()
        return True, previous
    burst.failures += 1
    burst.last_at = now
    burst.save(update_fields=["failures", "last_at"])
    return False, 0


def signin_failure_record(*, username: str | None, http_request: HttpRequest | None) -> AuditEvent | None:
    """Count a failed sign-in; write a ledger event only when it opens a window for its account or its address."""
    username = (username or "")[:150]
    address = client_address(http_request)
    known = _known_user(username)
    now = timezone.now()
    with transaction.atomic():
        SigninBurst.objects.filter(last_at__lt=now - BURST_KEEP).delete()
        opened, previous = [], {}
        if known is not None:
            new, count = _open_or_count(SigninBurst.Kind.ACCOUNT, username, now)
            if new:
                opened.append("account")
                if count > 1:
                    previous["account"] = count
        if address:
            new, count = _open_or_count(SigninBurst.Kind.ADDRESS, address, now)
            if new:
                opened.append("address")
                if count > 1:
                    previous["address"] = count
        if not opened:
            return None
        data = {
            "username": username,
            "known_user": known is not None,
            "window_minutes": settings.SIGNIN_FAILURE_WINDOW_MINUTES,
            "opens_window_for": opened,
        }
        if known is not None:
            data["privileged"] = requires_second_factor(known)
        if previous:
            data["previous_window_failures"] = previous
        return record_event(
            actor=None, action=Action.LOGIN_FAILED, target=known, data=data, http_request=http_request, outcome=Outcome.DENIED
        )


def signin_lockout_record(*, username: str | None, http_request: HttpRequest | None) -> AuditEvent | None:
    """One ledger event per lock-out: of a known account, or of an address (unknown names lock nothing real)."""
    username = (username or "")[:150]
    address = client_address(http_request)
    known = _known_user(username)
    by_account = _recent_attempts(username=username) if username else 0
    by_address = _recent_attempts(ip_address=address) if address else 0
    locked = []
    if known is not None and by_account >= settings.SIGNIN_FAILURES_ALLOWED + 1:
        locked.append((SigninBurst.Kind.ACCOUNT, username))
    if address and by_address >= settings.SIGNIN_ADDRESS_FAILURES_ALLOWED + 1:
        locked.append((SigninBurst.Kind.ADDRESS, address))
    now = timezone.now()
    with transaction.atomic():
        newly = []
        for kind, key in locked:
            burst, _created = SigninBurst.objects.select_for_update().get_or_create(
                kind=kind, key=key, defaults={"started_at": now, "last_at": now}
            )
            if burst.locked_at is None:
                burst.locked_at = now
                burst.save(update_fields=["locked_at"])
                newly.append(str(kind))
        if not newly:
            return None
        return record_event(
            actor=None,
            action=Action.LOGIN_LOCKOUT,
            target=known,
            data={
                "username": username,
                "known_user": known is not None,
                "locked": newly,
                "failures_account": by_account,
                "failures_address": by_address,
                "failures_allowed": settings.SIGNIN_FAILURES_ALLOWED,
                "address_failures_allowed": settings.SIGNIN_ADDRESS_FAILURES_ALLOWED,
                "lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES,
            },
            http_request=http_request,
            outcome=Outcome.DENIED,
        )


def locked_signins() -> tuple[list[dict], list[dict]]:
    """Accounts and addresses locked out now, with their failure counts, for the administrators' page."""
    limit_account = settings.SIGNIN_FAILURES_ALLOWED + 1
    limit_address = settings.SIGNIN_ADDRESS_FAILURES_ALLOWED + 1
    attempts = AccessAttempt.objects.all()
    cool_off = _cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    accounts = (
        attempts.exclude(username__isnull=True)
        .values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=limit_account)
        .order_by("username")
    )
    addresses = (
        attempts.exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=limit_address)
        .order_by("ip_address")
    )
    return list(accounts[:200]), list(addresses[:200])


def signin_unlock(*, actor: User, username: str = "", address: str = "", http_request: HttpRequest | None = None) -> int:
    """Lift the lock of an account or an address (axes' counts are cleared) and record who did it."""
    lookup = {"username": username} if username else {"ip_address": address}
    with transaction.atomic():
        cleared = AccessAttempt.objects.filter(**lookup).aggregate(n=Sum("failures_since_start"))["n"] or 0
        AccessAttempt.objects.filter(**lookup).delete()
        SigninBurst.objects.filter(
            kind=SigninBurst.Kind.ACCOUNT if username else SigninBurst.Kind.ADDRESS, key=username or address
        ).update(locked_at=None)
        record_event(
            actor=actor,
            action=Action.LOGIN_UNLOCK,
            target=_known_user(username),
            data={"username": username, "address": address, "failures_cleared": cleared},
            http_request=http_request,
        )
    return cleared
