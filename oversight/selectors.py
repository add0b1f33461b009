"""What each reader may read of the ledger. Every list, detail and report goes through `events_visible_to`."""

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.models import AuditEvent, Checkpoint, VerificationRun
from audit.selectors import seq_range_for_dates
from governance.models import User
from governance.permissions import agencies_overseen_by
from oversight.permissions import can_read_ledger, reports_visible_to
from requests.models import FootageRequest
from requests.selectors import GRANTED_ROLES, requests_visible_to

PAGE_SIZE = 50
# Events about an account (sign-ins, role grants, password changes) follow the account's agency.
USER_TARGET = "governance.user"
MAX_PAGE_SIZE = 200
# A run still waiting after this long lost its worker; it no longer blocks a new one.
VERIFICATION_STALE_AFTER = dt.timedelta(hours=1)


@dataclass
class LedgerPage:
    """One page of events, newest first, and the cursors to its neighbours."""

    rows: list = field(default_factory=list)
    size: int = PAGE_SIZE
    has_next: bool = False  # older events exist
    has_previous: bool = False  # newer events exist
    next_cursor: int | None = None  # pass as `after`
    previous_cursor: int | None = None  # pass as `before`


def reader_scope(user: User | None) -> Q | None:
    """How much of the ledger `user` reads: None for all of it, else a Q on events.

    The reader sees the events of exactly the requests they can open (the
    request pages' own selector), of the accounts of the agencies they
    oversee, and of those agencies' officials."""
    overseen = agencies_overseen_by(user)
    if overseen is None:
        return None
    # Each event's request is looked up by its reference (one probe of a unique index per event read), not the
    # reader's visible requests listed in full: a district's hundreds of thousands would be read for every page.
    # The second, redundant comparison with the event's reference keeps PostgreSQL from turning the EXISTS into a
    # hash of every visible reference (it may only do so when the event's columns appear in one equality alone).
    same_request = requests_visible_to(user).filter(reference=OuterRef("reference"), reference__gte=OuterRef("reference"))
    return Q(Exists(same_request)) | (Q(reference="") & _about_no_request(overseen))


def _about_no_request(overseen) -> Q:
    """What a reader of the `overseen` agencies reads of the events about no request, the system's own excepted: its
    agencies' officials' events and the events about its agencies' accounts."""
    return Q(actor_agency__in=overseen.values("code")) | Q(target_type=USER_TARGET, target_id__in=_user_ids_text(overseen))


# Events about no request and by no agency, not about an account: the system's own (checkpoints, keys, anonymous
# checks, accounts of no agency), which every ledger reader reads.
SYSTEM_EVENTS = Q(reference="", actor_agency="") & ~Q(target_type=USER_TARGET)


def _user_ids_text(agencies):
    """The ids, as the ledger writes an event's target, of the accounts of these agencies."""
    return (
        get_user_model()
        .objects.filter(agency__in=agencies.values("pk"))
        .annotate(id_text=Cast("pk", output_field=CharField()))
        .values("id_text")
    )


def events_visible_to(user: User | None) -> QuerySet[AuditEvent]:
    """The events a ledger reader may see, scoped like the request pages.

    An event about a request is visible when the request is; an event about an
    account when the account belongs to an overseen agency; any other event
    when its actor's agency is overseen, or when it has no agency (the system
    itself: checkpoints, keys, anonymous checks, accounts of no agency).
    """
    if not can_read_ledger(user):
        return AuditEvent.objects.none()
    scope = reader_scope(user)
    if scope is None:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(scope | SYSTEM_EVENTS)


def get_visible_event_or_404(user: User | None, seq: int) -> AuditEvent:
    event = events_visible_to(user).filter(seq=seq).first()
    if event is None:
        raise Http404
    return event


def event_neighbours(user: User | None, event: AuditEvent) -> tuple[int | None, int | None]:
    """Sequence numbers of the events just before and just after `event` (None at either end)."""
    events = events_visible_to(user)
    previous = events.filter(seq__lt=event.seq).order_by("-seq").values_list("seq", flat=True).first()
    following = events.filter(seq__gt=event.seq).order_by("seq").values_list("seq", flat=True).first()
    return previous, following


@dataclass
class EventObject:
    """The object of an event as a reader names it: its kind, its name and, when the reader may open it, its page."""

    kind: str
    name: str
    url: str = ""
    named_by_kind: bool = False  # the name says the kind already ("Request YC-2026-000123")


# Governance records that are the regulation itself, public to every signed-in official: named by their own text.
PUBLIC_GOVERNANCE = {"governance.agency", "governance.area", "governance.camera", "governance.datacategory"}
PUBLIC_GOVERNANCE |= {"governance.legalbasis", "governance.dayoff", "governance.regulationversion", "governance.assignmentrule"}


def _object_kind(target_type):
    try:
        return capfirst(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


def event_object(user: User | None, event: AuditEvent) -> EventObject | None:
    """What the event is about, named for `user`: a name only for what the reader may see, a link only to what it may open.

    Outside the reader's scope the object keeps what the ledger row shows: its kind and id.
    """
    if not event.target_type:
        return None
    kind = str(_object_kind(event.target_type))
    target_id = event.target_id
    fallback = EventObject(kind=kind, name=f"#{target_id}")
    if event.target_type == "requests.footagerequest" and event.reference:
        # The reference is on the ledger row already; only the link depends on the reader.
        visible = requests_visible_to(user).filter(reference=event.reference).exists()
        url = reverse("requests:detail", args=[event.reference]) if visible else ""
        name = _("Request %(reference)s") % {"reference": event.reference}
        return EventObject(kind=kind, name=name, url=url, named_by_kind=True)
    if not target_id.isdigit():
        return EventObject(kind=kind, name=target_id)
    if event.target_type == "audit.auditevent":
        url = reverse("oversight:event", args=[target_id]) if events_visible_to(user).filter(seq=target_id).exists() else ""
        name = _("Ledger event %(seq)s") % {"seq": target_id}
        return EventObject(kind=kind, name=name, url=url, named_by_kind=True)
    if event.target_type == "oversight.report":
        report = reports_visible_to(user).filter(pk=target_id).first()
        if report is None:
            return fallback
        return EventObject(kind=kind, name=report.code, url=reverse("oversight:report", args=[report.pk]))
    if event.target_type == USER_TARGET:
        account = get_user_model().objects.filter(pk=target_id).first()
        overseen = agencies_overseen_by(user)
        if account is None or (overseen is not None and not overseen.filter(pk=account.agency_id).exists()):
            return fallback
        return EventObject(kind=kind, name=account.get_username())
    if event.target_type in PUBLIC_GOVERNANCE:
        record = apps.get_model(event.target_type).objects.filter(pk=target_id).first()
        return EventObject(kind=kind, name=str(record)) if record is not None else fallback
    return fallback


def filter_events(events: QuerySet[AuditEvent], filters: dict | None) -> QuerySet[AuditEvent]:
    """Narrow `events` by the ledger filter form's cleaned data; each filter leads an index ending in seq."""
    filters = filters or {}
    if filters.get("actor"):
        actor_id = get_user_model().objects.filter(username=filters["actor"]).values_list("pk", flat=True).first()
        if actor_id is None:
            return events.none()
        events = events.filter(actor_id=actor_id)
    if filters.get("agency"):
        events = events.filter(actor_agency=filters["agency"])
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("target_type"):
        events = events.filter(target_type=filters["target_type"])
        if filters.get("target_id"):
            events = events.filter(target_id=filters["target_id"])
    if filters.get("reference"):
        events = events.filter(reference=filters["reference"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("date_from") or filters.get("date_to"):
        bounds = seq_range_for_dates(filters.get("date_from"), filters.get("date_to"))
        if bounds is False:
            return events.none()
        lowest, highest = bounds
        if lowest is not None:
            events = events.filter(seq__gte=lowest)
        if highest is not None:
            events = events.filter(seq__lte=highest)
    return events


# A reader who may open at most this many requests reads the ledger from its requests' side (see _event_sources).
FEW_REQUESTS = 2000
# A reader found to open more is remembered as such for this long: the probe that finds it is two queries on
# every page, and the requests one may open only grow. Either way the same events are read (_event_sources).
WIDE_READER_SECONDS = 600


def _wide_reader_key(user):
    return f"oversight:ledger-wide-reader:{user.pk}"


def _event_sources(user: User | None) -> list[QuerySet[AuditEvent]]:
    """The reader's events as one or more querysets whose union is `events_visible_to(user)`.

    Read newest first, the events of a reader who sees much of the ledger are met soon: one query walks the
    sequence and keeps the visible ones. A reader who may open few requests (an agency with little activity, a
    new inspectorate) would walk the whole ledger that way. Their events are read from two sides instead, each
    in sequence order through its own index: the events of their requests (by reference) and the events about no
    request (reference empty), then merged."""
    events = events_visible_to(user)
    overseen = agencies_overseen_by(user) if can_read_ledger(user) else None
    if overseen is None or cache.get(_wide_reader_key(user)):
        return [events]
    # The references of the requests the reader may open (requests_visible_to: the overseen agencies', then those
    # its groups were granted), read as lists: as subqueries they would be planned as if they held any number.
    agency_ids = list(overseen.values_list("pk", flat=True))
    # At most as many as one statement may carry as parameters (999 on SQLite), the agencies' ids included.
    most = connection.features.max_query_params
    few = FEW_REQUESTS if most is None else min(FEW_REQUESTS, most - len(agency_ids) - 100)
    if few <= 0:
        return [events]
    own = FootageRequest.objects.order_by().filter(agency_id__in=agency_ids)
    # The references, up to one more than `few`: more, and the reader is wide (remembered, so that this is read once).
    references = list(own.values_list("reference", flat=True)[: few + 1])
    if len(references) <= few and user.has_role(*GRANTED_ROLES):
        granted = requests_visible_to(user).exclude(agency_id__in=agency_ids).order_by()
        references += list(granted.values_list("reference", flat=True)[: few + 1])
    if len(references) > few:
        cache.set(_wide_reader_key(user), True, WIDE_READER_SECONDS)
        return [events]
    about_requests = AuditEvent.objects.filter(reference__in=references)
    # What events_visible_to shows of the events about no request, for them alone (no request has an empty
    # reference), so that the reference index reads them in sequence order.
    about_no_request = AuditEvent.objects.filter(Q(reference="") & (_about_no_request(overseen) | SYSTEM_EVENTS))
    return [about_requests, about_no_request]


def ledger_page(
    *, user: User | None, filters: dict | None, after: int | None = None, before: int | None = None, size: int = PAGE_SIZE
) -> LedgerPage:
    """A page of visible events, newest first, by keyset on seq: never OFFSET, never COUNT."""
    size = max(1, min(int(size), MAX_PAGE_SIZE))
    sources = [filter_events(events, filters) for events in _event_sources(user)]

    def read(condition, order):
        # Each source's own first size + 1 rows, merged: the first size + 1 of their union.
        merged = {}
        for events in sources:
            merged.update((row.seq, row) for row in events.filter(**condition).order_by(order)[: size + 1])
        return sorted(merged.values(), key=lambda row: row.seq, reverse=order == "-seq")[: size + 1]

    if before is not None:
        # Newer page: the `size` events just above the cursor, read upwards, shown newest first.
        rows = read({"seq__gt": before}, "seq")
        if len(rows) > size:
            rows = rows[:size]
            rows.reverse()
            return _page(rows, size, has_next=True, has_previous=True)
        # Fewer than a full page above the cursor: that is the first page.
        after = None
    rows = read({"seq__lt": after} if after is not None else {}, "-seq")
    has_next = len(rows) > size
    return _page(rows[:size], size, has_next=has_next, has_previous=after is not None and bool(rows))


def _page(rows, size, *, has_next, has_previous):
    return LedgerPage(
        rows=rows,
        size=size,
        has_next=has_next,
        has_previous=has_previous,
        next_cursor=rows[-1].seq if has_next and rows else None,
        previous_cursor=rows[0].seq if has_previous and rows else None,
    )


def latest_verification_runs(user: User | None, limit: int = 20) -> QuerySet[VerificationRun]:
    if not can_read_ledger(user):
        return VerificationRun.objects.none()
    return VerificationRun.objects.select_related("requested_by").order_by("-requested_at", "-pk")[:limit]


def verification_under_way(user: User | None) -> bool:
    """True when a run is waiting or running (the page then refreshes itself)."""
    if not can_read_ledger(user):
        return False
    return VerificationRun.objects.filter(
        status__in=[VerificationRun.Status.PENDING, VerificationRun.Status.RUNNING],
        requested_at__gte=timezone.now() - VERIFICATION_STALE_AFTER,
    ).exists()


def latest_checkpoint(user: User | None) -> Checkpoint | None:
    if not can_read_ledger(user):
        return None
    return Checkpoint.objects.order_by("-seq").first()
