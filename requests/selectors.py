"""Reads of footage requests. Every list, detail, download and report starts from `requests_visible_to` (or the
same rule split into its ways, `visibility`)."""

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.contrib.auth.models import Permission
from django.db.models import (
    BooleanField,
    CharField,
    Expression,
    F,
    Field,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.query import EmptyQuerySet
from django.http import Http404

from governance.models import Agency, Role, User, display_name
from governance.permissions import agencies_overseen_by
from governance.timefmt import local_midnight, local_time
from requests.models import (
    EXPORT_QUEUE_STATUSES,
    OPEN_STATUSES,
    ApprovedItem,
    Attachment,
    Comment,
    Decision,
    FootageRequest,
    FootageRequestGroupObjectPermission,
    LegalHold,
    Redaction,
    Release,
    RequestItem,
    Status,
    Submission,
    SubmittedItem,
)
from requests.transitions import allows, past_approval

# The roles whose groups the workflow grants permissions on requests to.
GRANTED_ROLES = (Role.REQUESTER, Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN)


@lru_cache(maxsize=8)
def _permission_id(codename):
    return Permission.objects.get(content_type__app_label="requests", codename=codename).pk


def requests_visible_to(user: User | None) -> QuerySet[FootageRequest]:
    """Requests the user may see: through their agency-role groups' object permissions, or as an overseer.

    What an overseer reads is `governance.permissions.agencies_overseen_by`: every
    request for a system administrator, its area's agencies' for an auditor, its
    own agency's for an agency's administrator. The ledger reads the same scope
    (`oversight.selectors.reader_scope`)."""
    ways = visibility(user)
    if ways is None:
        return FootageRequest.objects.all()
    if not ways:
        return FootageRequest.objects.none()
    return FootageRequest.objects.filter(functools.reduce(operator.or_, ways))


def visibility(user: User | None) -> list[Q] | None:
    """The ways a request is visible to `user`, any one of which suffices; None: every request.

    One condition per way (the overseen agencies first, then the groups' grants), so that a list can read each on its own
    index and merge them (`listed_requests`) where one OR of both would scan the whole table."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    overseen = agencies_overseen_by(user)
    if overseen is None:
        return None
    ways = []
    if not isinstance(overseen, EmptyQuerySet):
        ways.append(Q(agency__in=overseen.values("pk")))
    # Grants on requests go only to the groups of these roles (requests.workflow): an auditor or an administrator
    # reads through its oversight alone, without a query for grants it cannot hold.
    if user.has_role(*GRANTED_ROLES):
        granted = _group_permission(user, "view_footagerequest")
        if granted is not None:
            ways.append(Q(granted))
    return ways


def _group_permission(user, *codenames):
    """EXISTS one of the user's groups holding any of these permissions on the request; None when the user has no group."""
    group_ids = list(user.group_ids())
    if not group_ids:
        return None
    return _GroupGranted(group_ids, [_permission_id(codename) for codename in codenames])


class _GroupGranted(Expression):
    """EXISTS a grant row of one of `group_ids` holding one of `permission_ids` on the request of the row.

    The same condition as Exists() over FootageRequestGroupObjectPermission, written straight: every list, queue and
    page of a role holder asks it, and building and compiling that subquery took longer than the database took to
    answer it. The request's id is an expression of the outer query (F("pk") resolved there), so the condition
    follows the query wherever Django aliases it, a subquery included."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, group_ids, permission_ids, pk=None):
        super().__init__()
        self.group_ids = tuple(int(group_id) for group_id in group_ids)
        self.permission_ids = tuple(int(permission_id) for permission_id in permission_ids)
        self.pk = F("pk") if pk is None else pk

    def get_source_expressions(self):
        return [self.pk]

    def set_source_expressions(self, exprs):
        (self.pk,) = exprs

    def as_sql(self, compiler, connection):
        pk_sql, pk_params = compiler.compile(self.pk)
        grants = FootageRequestGroupObjectPermission._meta
        quote = connection.ops.quote_name
        column = {name: quote(grants.get_field(name).column) for name in ("content_object", "group", "permission")}
        groups = ", ".join(["%s"] * len(self.group_ids))
        kinds = ", ".join(["%s"] * len(self.permission_ids))
        # Names from the model; the request's id compiled by the outer query; the ids bound as parameters.
        sql = (
            f"EXISTS (SELECT 1 FROM {quote(grants.db_table)} grant_row WHERE grant_row.{column['content_object']} = {pk_sql}"  # noqa: S608
            f" AND grant_row.{column['group']} IN ({groups}) AND grant_row.{column['permission']} IN ({kinds}))"
        )
        return sql, (*pk_params, *self.group_ids, *self.permission_ids)


def _with_group_permission(user, *codenames):
    """Requests on which one of the user's groups holds any of these permissions: one EXISTS, whatever their number."""
    granted = _group_permission(user, *codenames)
    return FootageRequest.objects.filter(granted) if granted is not None else FootageRequest.objects.none()


class _Row(Func):
    """A row value `(a, b, c)`. Compared as a whole it is one range of the queue index; an OR of ANDs is not."""

    template = "(%(expressions)s)"
    output_field = Field()


def get_visible_request_or_404(user: User, reference: str, *, for_update: bool = False) -> FootageRequest:
    footage_requests = requests_visible_to(user)
    if for_update:
        footage_requests = footage_requests.select_for_update()
    try:
        return footage_requests.select_related("agency", "requester", "legal_basis", "regulation_version").get(
            reference=reference
        )
    except FootageRequest.DoesNotExist:
        raise Http404 from None


# What a request's page asks it has (`has_<name>`): the rows of a model naming the request, with a condition on them.
_PRESENT = (
    ("hold", LegalHold, "released_at IS NULL"),
    ("redaction", Redaction, ""),
    ("attachments", Attachment, ""),
    ("comments", Comment, ""),
    ("decisions", Decision, ""),
)


def get_request_page_or_404(user: User, reference: str) -> FootageRequest:
    """The request as its page shows it (`get_visible_request_or_404`), read with whether it has what the page lists
    only when there is some: an active legal hold, required redaction, attachments, comments, decisions (`has_*`).
    The page reads each only where the request has it."""
    footage_requests = (
        requests_visible_to(user)
        .select_related("agency", "legal_basis")
        .annotate(
            # Of the officer who filed it and of the regulation applied, the page shows a name and a number.
            requester_last_name=F("requester__last_name"),
            requester_first_name=F("requester__first_name"),
            requester_username=F("requester__username"),
            regulation_number=F("regulation_version__number"),
            present=_present(),
            granted_permissions=_granted_permissions(user),
            views_before=_views_counted(reference),
        )
    )
    try:
        footage_request = footage_requests.get(reference=reference)
    except FootageRequest.DoesNotExist:
        raise Http404 from None
    footage_request.requester_name = display_name(
        footage_request.requester_last_name, footage_request.requester_first_name, footage_request.requester_username
    )
    for bit, (name, _model, _condition) in enumerate(_PRESENT):
        setattr(footage_request, f"has_{name}", bool(footage_request.present & (1 << bit)))
    # What the user's groups and the user hold on it, read with it: the page's questions of the grants ask these
    # (requests.permissions._has_perm), not the grant tables again.
    footage_request.grants_read = (
        user.pk,
        frozenset(int(pk) for pk in (footage_request.granted_permissions or "").split(",") if pk),
    )
    return footage_request


def _present() -> RawSQL:
    """One number whose bits say which of _PRESENT the request has: one expression, cheap to build, where an EXISTS
    annotation for each took longer to build than the database took to answer them."""
    request_table = FootageRequest._meta.db_table
    bits = []
    for bit, (_name, model, condition) in enumerate(_PRESENT):
        where = f'x.footage_request_id = "{request_table}"."id"' + (f" AND x.{condition}" if condition else "")
        exists = f'EXISTS (SELECT 1 FROM "{model._meta.db_table}" x WHERE {where})'  # noqa: S608 - names from the models
        bits.append(f"CASE WHEN {exists} THEN {1 << bit} ELSE 0 END")
    return RawSQL(" + ".join(bits), (), output_field=IntegerField())  # noqa: S611 - no input in it


def _views_counted(reference: str) -> Subquery:
    """How many times the page of the request `reference` was opened, as the ledger records it (read before this
    opening is). The reference is given, not taken from the row: the ledger's index on it is read for that value."""
    from audit.models import Action, AuditEvent

    views = AuditEvent.objects.filter(reference=reference, action=Action.REQUEST_VIEW).order_by()
    return Subquery(views.annotate(n=Func(F("seq"), function="COUNT")).values("n")[:1], output_field=IntegerField())


def _granted_permissions(user: User) -> RawSQL:
    """The ids of the permissions that `user` holds on the request, through its groups or its own, joined with commas
    (as guardian's checker reads them: the grant tables of this model)."""
    from django.db import connections

    from governance.models import joined_text
    from requests.models import FootageRequestUserObjectPermission

    vendor = connections[FootageRequest.objects.db].vendor
    request_table = FootageRequest._meta.db_table
    by_group = FootageRequestGroupObjectPermission._meta.db_table
    by_user = FootageRequestUserObjectPermission._meta.db_table
    group_ids = list(user.group_ids())
    # Table names from the models; the user and its groups bound as parameters.
    parts = [f'SELECT permission_id FROM "{by_user}" WHERE content_object_id = "{request_table}"."id" AND user_id = %s']  # noqa: S608
    params = [user.pk]
    if group_ids:
        marks = ", ".join(["%s"] * len(group_ids))
        by_groups = f'SELECT permission_id FROM "{by_group}" WHERE content_object_id = "{request_table}"."id"'  # noqa: S608
        parts.append(f"{by_groups} AND group_id IN ({marks})")
        params += group_ids
    sql = f"SELECT {joined_text(vendor, 'CAST(p.permission_id AS TEXT)')} FROM ({' UNION ALL '.join(parts)}) p"  # noqa: S608
    return RawSQL(sql, params, output_field=CharField())  # noqa: S611


def _newest_first(footage_requests, *, status, size, before_id):
    if status:
        footage_requests = footage_requests.filter(status=status)
    if before_id:
        footage_requests = footage_requests.filter(id__lt=before_id)
    return list(footage_requests.order_by("-id")[:size])


# What a row of a request table reads (requests/templatetags/request_tables.py, the list views' overdue mark): a
# page of fifty read whole builds fifty requests, agencies, bases and officers of every column.
TABLE_COLUMNS = (
    "reference",
    "status",
    "urgency",
    "priority",
    "due_at",
    "case_reference",
    "purpose",
    "agency_id",
    "requester_id",
    "legal_basis_id",
    "agency__name_vi",
    "agency__name_en",
    "legal_basis__code",
    "legal_basis__title_vi",
    "legal_basis__title_en",
    "requester__first_name",
    "requester__last_name",
    "requester__username",
)


def _columns(qs, columns):
    return qs.only(*columns) if columns else qs


def agency_requests(
    user: User,
    *,
    status: str | None = None,
    size: int = 50,
    before_id: int | None = None,
    columns: tuple[str, ...] = (),
    **filters,
) -> list[FootageRequest]:
    """The user's agency's requests, newest first (keyset on id), with the list's filters but the agency; each read
    as its `columns` only where given (TABLE_COLUMNS for a table)."""
    if user.agency_id is None:
        return []
    qs = requests_visible_to(user).filter(agency_id=user.agency_id).select_related("agency", "legal_basis", "requester")
    return _newest_first(_columns(_filtered(qs, **filters), columns), status=status, size=size, before_id=before_id)


def overseen_agencies(user: User) -> QuerySet[Agency]:
    """The agencies whose requests `user` reads as an overseer, by name (all of them for a system administrator)."""
    overseen = agencies_overseen_by(user)
    return (Agency.objects.all() if overseen is None else overseen).order_by("name_vi")


def _filtered(qs, *, agency=None, reference=None, case=None, legal_basis=None, filed_from=None, filed_to=None):
    """A list's filters: the agency, a reference or case-number beginning, the legal basis, first filing days."""
    if agency is not None:
        qs = qs.filter(agency=agency)
    if reference:
        qs = qs.filter(reference__startswith=reference)
    if case:
        qs = qs.filter(case_reference__istartswith=case)
    if legal_basis is not None:
        qs = qs.filter(legal_basis=legal_basis)
    if filed_from is not None:
        qs = qs.filter(first_submitted_at__gte=local_midnight(filed_from))
    if filed_to is not None:
        qs = qs.filter(first_submitted_at__lt=local_midnight(filed_to + dt.timedelta(days=1)))
    return qs


# An overseer of at most this many agencies has its list read agency by agency (listed_requests).
FEW_AGENCIES = 12


def listed_requests(
    user: User,
    *,
    status: str | None = None,
    size: int = 50,
    before_id: int | None = None,
    columns: tuple[str, ...] = (),
    **filters,
) -> list[FootageRequest]:
    """Every request the user may see, newest first (keyset on id), narrowed to one agency, a status, a reference prefix;
    each read as its `columns` only where given (TABLE_COLUMNS for a table).

    Each way the user sees requests is read as its own page and the pages merged: the newest `size` of the
    union are the newest `size` of the pages put together."""
    ways = visibility(user)
    if ways == []:
        return []
    overseen = agencies_overseen_by(user)
    if ways and overseen is not None and not isinstance(overseen, EmptyQuerySet) and filters.get("agency") is None:
        agency_ids = list(overseen.values_list("pk", flat=True)[: FEW_AGENCIES + 1])
        if len(agency_ids) <= FEW_AGENCIES:
            # A few agencies, each read through its own (agency, id) index range: as one condition the planner may
            # walk the whole table newest first for agencies whose requests are all old.
            ways = [Q(agency_id=agency_id) for agency_id in agency_ids] + ways[1:]
    merged = {}
    for way in [Q()] if ways is None else ways:
        qs = _filtered(FootageRequest.objects.filter(way).select_related("agency", "legal_basis", "requester"), **filters)
        qs = _columns(qs, columns)
        merged.update((r.pk, r) for r in _newest_first(qs, status=status, size=size, before_id=before_id))
    return sorted(merged.values(), key=lambda r: r.pk, reverse=True)[:size]


# A queue's table names the agency, not the officer.
QUEUE_COLUMNS = tuple(column for column in TABLE_COLUMNS if not column.startswith("requester"))


def review_queue(user: User, *, size: int = 50, after: tuple | None = None) -> list[FootageRequest]:
    """Requests waiting for this reviewer or approver: emergencies first, then by due date (keyset); each read as its
    table's columns."""
    if not user.has_role(Role.REVIEWER, Role.APPROVER):
        return []
    return waiting_in_queue(user, size=size, after=after, columns=QUEUE_COLUMNS)


def waiting_in_queue(
    user: User,
    *,
    size: int,
    after: tuple | None = None,
    statuses=OPEN_STATUSES,
    keys_only: bool = False,
    columns: tuple[str, ...] = (),
) -> list[FootageRequest]:
    """The first `size` requests in the queues of the user's groups (in `statuses`, not the user's own agency's), in
    queue order: priority, due time, id; after the (priority, due_at, id) `after` when given. With `keys_only`, each
    is a row of its pk, status, priority and due_at only (for a caller that needs which requests, not the requests);
    with `columns`, each request is read as those columns only.

    Each group is read as its own range of the queue entries' index, in that order, and the pages are merged: a page
    costs the page, whatever the centre or the city has open. A request's status is checked on the rows read, not in
    the query, where the planner would take it for a filter that drops most rows and sort them all (entries exist
    only while a request is open, so for the open statuses nothing is dropped)."""
    merged = {}
    for group_id in user.group_ids():
        qs = (
            FootageRequest.objects.filter(queue_entries__group_id=group_id)
            .exclude(agency_id=user.agency_id)
            .alias(queue_key=_Row("queue_entries__priority", "queue_entries__due_at", "queue_entries__footage_request_id"))
            .order_by("queue_entries__priority", "queue_entries__due_at", "pk")
        )
        qs = (
            qs.values_list("pk", "status", "priority", "due_at", named=True)
            if keys_only
            else _columns(qs.select_related("agency", "legal_basis"), columns)
        )
        cursor, found = after, 0
        while True:
            page = list(
                (qs if cursor is None else qs.filter(queue_key__gt=_Row(Value(cursor[0]), Value(cursor[1]), Value(cursor[2]))))[
                    :size
                ]
            )
            for row in page:
                if row.status in statuses:
                    merged[row.pk] = row
                    found += 1
            if len(page) < size or found >= size:
                break
            cursor = (page[-1].priority, page[-1].due_at, page[-1].pk)
    return sorted(merged.values(), key=lambda r: (r.priority, r.due_at, r.pk))[:size]


def needs_info_older_than(moment: dt.datetime) -> QuerySet[FootageRequest]:
    return FootageRequest.objects.filter(status=Status.NEEDS_INFO, info_requested_at__lt=moment)


def is_overdue(footage_request: FootageRequest, now: dt.datetime) -> bool:
    """Waiting for a review or a decision past its due time."""
    return footage_request.status in OPEN_STATUSES and footage_request.due_at is not None and footage_request.due_at < now


def _binding(content_hash) -> Q:
    # An approval binds the content it was signed on: a change to the request voids the approvals signed before it.
    return Q(step=Decision.Step.APPROVAL, outcome=Decision.Outcome.APPROVE, content_hash=content_hash)


def binding_approvals(footage_request: FootageRequest) -> QuerySet[Decision]:
    """The approvals that bind the request as it is now: signed on its current content."""
    return footage_request.decisions.filter(_binding(footage_request.content_hash))


def binds(decision: Decision, footage_request: FootageRequest) -> bool:
    """`binding_approvals`'s rule for one decision already read."""
    return (
        decision.step == Decision.Step.APPROVAL
        and decision.outcome == Decision.Outcome.APPROVE
        and decision.content_hash == footage_request.content_hash
    )


def binding_approvals_among(requests: QuerySet[FootageRequest] | list[int]) -> QuerySet[Decision]:
    """The same rule for many requests at once (a report's register): each request's approvals on its current content."""
    return Decision.objects.filter(_binding(F("footage_request__content_hash")), footage_request__in=requests)


def _windows(items):
    return sorted((item.camera_id, item.start, item.end, item.data_category_id) for item in items)


@dataclass(frozen=True)
class FiledScope:
    """Every filing of a request, the scope as last filed beside the scope now, and the approvals that narrowed it."""

    footage_request: FootageRequest
    submissions: list[Submission]  # first filing first, each with its items and who sent it
    current: list[RequestItem]
    narrowings: list[Decision]  # approvals since the latest filing that narrowed the scope, oldest first

    @property
    def latest(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None

    @cached_property
    def requested(self) -> list[SubmittedItem] | None:
        """The camera windows as last filed; None when never filed or when that filing's scope was not recorded."""
        latest = self.latest
        if latest is None or not latest.items_recorded:
            return None
        if "items" in getattr(latest, "_prefetched_objects_cache", {}):
            return list(latest.items.all())
        return list(latest.items.select_related("camera__area", "data_category"))

    @property
    def unchanged(self) -> bool:
        """Whether the last filing's content hash is the request's now: it covers every window, so the windows filed
        are the request's windows now (read without reading the filing's)."""
        latest = self.latest
        return (
            latest is not None
            and latest.items_recorded
            and bool(latest.content_hash)
            and latest.content_hash == self.footage_request.content_hash
        )

    @property
    def requested_hours(self) -> float | None:
        """The camera-hours as last filed; None when never filed or when that filing's scope was not recorded."""
        if self.unchanged:
            return sum(item.hours for item in self.current)
        requested = self.requested
        return sum(item.hours for item in requested) if requested is not None else None

    @property
    def differs(self) -> bool:
        """Whether the scope now is not the scope as last filed (narrowed by an approver, or changed since)."""
        if self.unchanged:
            return False
        requested = self.requested
        if requested is None:
            return bool(self.narrowings)
        return _windows(requested) != _windows(self.current)

    @property
    def current_kind(self) -> str:
        """What the scope now is when it differs: "changed" (not yet filed again), "approved" or "narrowed"."""
        if allows("update", self.footage_request.status):
            return "changed"
        return "approved" if past_approval(self.footage_request.status) else "narrowed"


def filed_scope(
    footage_request: FootageRequest,
    current: list[RequestItem] | None = None,
    decisions: list[Decision] | None = None,
    *,
    with_items: bool = True,
) -> FiledScope:
    """The request's filings and its scope as filed and as it is now; `current` saves reading the items again, and
    `decisions` (all of the request's, oldest first, with actor and agency) its decisions. Without `with_items` the
    filings are read without their windows: the last filing's are read when asked for (`requested`)."""
    submissions = footage_request.submissions.select_related("submitted_by")
    if with_items:
        submissions = submissions.prefetch_related(
            Prefetch("items", SubmittedItem.objects.select_related("camera__area", "data_category"))
        )
    submissions = list(submissions)
    if current is None:
        current = list(footage_request.items.select_related("camera__area", "data_category"))
    since = submissions[-1].submitted_at if submissions else None
    if decisions is not None:
        narrowings = [
            decision
            for decision in decisions
            if decision.outcome == Decision.Outcome.APPROVE
            and decision.narrowed_from
            and (since is None or decision.created_at >= since)
        ]
    else:
        narrowings = footage_request.decisions.filter(outcome=Decision.Outcome.APPROVE).exclude(narrowed_from="")
        if since is not None:
            narrowings = narrowings.filter(created_at__gte=since)
        narrowings = list(narrowings.select_related("actor", "actor_agency").order_by("created_at", "id"))
    return FiledScope(footage_request=footage_request, submissions=submissions, current=current, narrowings=narrowings)


@dataclass(frozen=True)
class Minimisation:
    """How much footage was asked for, approved and handed over, in camera-hours, and how much of it redacted."""

    requested: float | None  # as last filed; None when never filed
    approved: float | None  # the scope approved; None before approval
    released: float | None  # the clips handed over; None before the release
    redacted: float  # of the released hours, those handed over as redacted copies

    @property
    def redacted_percent(self) -> int | None:
        return round(100 * self.redacted / self.released) if self.released else None


def minimisation(scope: FiledScope, release) -> Minimisation:
    """The request's figures of data minimisation: what was requested against what was approved and released."""
    past = allows("export", scope.footage_request.status) or release is not None
    released = redacted = None
    if release is not None:
        clips = [(f.duration, f.redacted_from) for f in release.files.all() if f.kind == "video"]  # read with the release
        released = sum(duration or 0.0 for duration, _o in clips) / 3600
        redacted = sum(duration or 0.0 for duration, original in clips if original) / 3600
    return Minimisation(
        requested=scope.requested_hours,
        approved=sum(item.hours for item in scope.current) if past else None,
        released=released,
        redacted=redacted or 0.0,
    )


@dataclass(frozen=True)
class ScopeRow:
    """One camera window of a scope comparison. A requested window is "kept" (approved as asked), "shortened" or
    "dropped" (not approved); an approved window is "approved"."""

    item: object  # a SubmittedItem, ApprovedItem or RequestItem
    state: str

    @property
    def window_text(self) -> str:
        """The window in Vietnam time with the zone named, for text read away from a page (an e-mail)."""
        return f"{local_time(self.item.start)} – {local_time(self.item.end)}"


@dataclass(frozen=True)
class ScopeComparison:
    """The windows as requested beside the windows as approved, when an approver narrowed them."""

    requested: list[ScopeRow]
    approved: list[ScopeRow]
    narrowings: list[Decision]


def _key(item):
    return (item.camera_id, item.data_category_id)


def compare_scope(requested, approved, narrowings=()) -> ScopeComparison:
    """Mark each requested window kept, shortened or dropped against the approved ones (a narrowing only drops
    windows or shortens them, so an approved window lies inside the requested one it came from)."""
    left = list(approved)
    rows = []
    for item in sorted(requested, key=lambda i: (i.camera.code, i.start, i.pk or 0)):
        exact = next((a for a in left if _key(a) == _key(item) and (a.start, a.end) == (item.start, item.end)), None)
        inside = exact or next((a for a in left if _key(a) == _key(item) and item.start <= a.start and a.end <= item.end), None)
        if inside is not None:
            left.remove(inside)
        rows.append(ScopeRow(item, "kept" if exact else "shortened" if inside else "dropped"))
    return ScopeComparison(
        requested=rows,
        approved=[ScopeRow(item, "approved") for item in sorted(approved, key=lambda i: (i.camera.code, i.start, i.pk or 0))],
        narrowings=list(narrowings),
    )


def narrowed_scope(scope: FiledScope) -> ScopeComparison | None:
    """The request's scope as last filed beside its scope now, when an approver narrowed it; None otherwise (never
    narrowed, changed by the requester and not yet filed again, or a filing whose scope was not recorded)."""
    if not scope.differs or scope.current_kind == "changed" or not scope.narrowings or scope.requested is None:
        return None
    return compare_scope(scope.requested, scope.current, scope.narrowings)


def notification_scope(notification) -> ScopeComparison | None:
    """For an approval or narrowing notification: the scope as filed beside the scope the approvals up to that
    notification left, read from the stored filing (`SubmittedItem`) and the narrowing approvals (`ApprovedItem`);
    None when no approver narrowed it."""
    from requests.models import Notification

    if notification.verb not in (Notification.Verb.APPROVED, Notification.Verb.NARROWED):
        return None
    footage_request = notification.footage_request
    submission = footage_request.submissions.filter(submitted_at__lte=notification.created_at).order_by("-number").first()
    if submission is None or not submission.items_recorded:
        return None
    narrowings = list(
        footage_request.decisions.filter(
            outcome=Decision.Outcome.APPROVE,
            created_at__gte=submission.submitted_at,
            created_at__lte=notification.created_at,
        )
        .exclude(narrowed_from="")
        .select_related("actor", "actor_agency")
        .prefetch_related(Prefetch("items", ApprovedItem.objects.select_related("camera", "data_category")))
        .order_by("created_at", "id")
    )
    if not narrowings:
        return None
    requested = list(submission.items.select_related("camera", "data_category"))
    return compare_scope(requested, list(narrowings[-1].items.all()), narrowings)


def request_export_pending(footage_request_id: int) -> bool:
    """Whether an export task still has work to do (a duplicate or late delivery finds none)."""
    return FootageRequest.objects.filter(pk=footage_request_id, status=Status.EXPORTING).exists()


def awaiting_export(user: User, *, size: int = 50, after: tuple | None = None) -> list[FootageRequest]:
    """Approved requests (and failed exports) this custodian's agency is assigned to export, oldest decision first.

    `after` is the (decided_at, id) of the last row of the previous page."""
    if not user.has_role(Role.CUSTODIAN):
        return []
    qs = _with_group_permission(user, "export_footagerequest").filter(status__in=EXPORT_QUEUE_STATUSES)
    if after is not None:
        decided_at, pk = after
        qs = qs.alias(export_key=_Row("decided_at", "id")).filter(export_key__gt=_Row(Value(decided_at), Value(pk)))
    return list(qs.select_related("agency", "legal_basis").order_by("decided_at", "id")[:size])


def unread_count() -> RawSQL:
    """The count of a user's unread notifications, as an annotation of the user's own row (read with it on every
    page: accounts.backends)."""
    from requests.models import Notification

    user, notifications = User._meta.db_table, Notification._meta.db_table
    # Table names from the models, no input: nothing to bind.
    sql = f'SELECT COUNT(*) FROM "{notifications}" n WHERE n.user_id = "{user}"."id" AND n.read_at IS NULL'  # noqa: S608
    return RawSQL(sql, (), output_field=IntegerField())  # noqa: S611


def release_of(footage_request: FootageRequest) -> Release | None:
    """The request's release with its files, or None."""
    return Release.objects.filter(footage_request=footage_request).prefetch_related("files").first()


def active_hold(footage_request: FootageRequest) -> LegalHold | None:
    return LegalHold.objects.filter(footage_request=footage_request, released_at__isnull=True).first()


def get_release_for_verification_or_404(token: str) -> Release:
    """The release a verification link was made for (a court clerk may hold one without an account).

    Http404 for a link that is not ours; requests.verification.VerificationLinkGone for one that expired or was revoked.
    """
    from requests.verification import release_for_token

    return release_for_token(token)


def verification_token(release: Release) -> str:
    from requests.verification import verification_token as token_for

    return token_for(release)
