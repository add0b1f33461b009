"""The home page's "Việc cần làm": what waits for the signed-in user, role by role.

Each group is one kind of task (a question to answer, a recommendation or a signature due, an export to run, a
receipt to confirm), the emergencies first and then the nearest deadline, and says whether the next step is the
user's own or somebody else's ("waiting for the reviewer"). Every group reads from `requests_visible_to` or the
same group permissions the queues use, so nothing outside the user's scope is counted."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Role, User
from requests.models import (
    CUSTODIAN_STATUSES,
    OPEN_STATUSES,
    Decision,
    DownloadGrant,
    FootageRequest,
    Status,
    Urgency,
)
from requests.selectors import (
    _group_permission,
    _with_group_permission,
    waiting_in_queue,
)

# How many tasks of one kind the home page lists; the rest are counted and reached through the group's link.
SHOWN = 5
COUNT_CAP = 100


@dataclass(frozen=True)
class Task:
    footage_request: FootageRequest
    due_at: dt.datetime | None
    overdue: bool

    @property
    def emergency(self) -> bool:
        return self.footage_request.urgency == Urgency.EMERGENCY


@dataclass
class TaskGroup:
    key: str
    title: str
    # What the user does about each task, or, for a group that waits on somebody else, what it waits for.
    hint: str
    due_label: str
    tasks: list[Task] = field(default_factory=list)
    count: int = 0
    mine: bool = True
    more_url: str = ""
    # A requester's tasks are all of their own agency: naming it on each row says nothing.
    show_agency: bool = True

    # The count stopped at a cap: there are at least `count`.
    capped: bool = False

    @property
    def count_text(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)

    def add(self, footage_request, due_at, now):
        """One more task of this kind, read in the order the page lists them: the first SHOWN are listed."""
        self.count += 1
        if len(self.tasks) < SHOWN:
            self.show(footage_request, due_at, now)

    def show(self, footage_request, due_at, now):
        overdue = self.mine and due_at is not None and due_at < now
        self.tasks.append(Task(footage_request, due_at, overdue=overdue))

    @property
    def overdue(self) -> int:
        return sum(task.overdue for task in self.tasks)


def _granted_group(key, title, hint, due_label, granted, *, more_url=""):
    """A requester's group from the ids of its rows on which one of the user's groups holds the view grant, in its
    order up to the cap (`_granted_in_each`); with the ids of the rows it lists, which the caller reads whole for
    every group at once."""
    group = TaskGroup(key, title, hint, due_label, more_url=more_url, show_agency=False)
    group.count, group.capped = min(len(granted), COUNT_CAP), len(granted) > COUNT_CAP
    return group, granted[:SHOWN]


def _granted_in_each(user, ordered):
    """For each ordered queryset of `ordered` (key: (status, queryset), each of requests of its own status), the ids of
    its first COUNT_CAP + 1 requests on which one of the user's groups holds the view grant, in its order.

    The ids are read up to the cap first (a subquery with its own limit) and only those probed for a grant (an
    EXISTS over the whole agency would be read as a hash of every grant it ever had). Where the database takes a
    limit in each part of a UNION, that is one query for every queryset, each one's rows then sorted here in its
    order; elsewhere one query each."""
    if not connection.features.supports_slicing_ordering_in_compound:
        return {key: _granted_only(user, qs) for key, (_status, qs) in ordered.items()}
    firsts = [qs.values("pk")[: COUNT_CAP + 1] for _status, qs in ordered.values()]
    candidates = firsts[0].union(*firsts[1:], all=True)
    orders = {key: qs.query.order_by for key, (_status, qs) in ordered.items()}
    fields = {name.lstrip("-") for order in orders.values() for name in order} | {"pk", "status"}
    rows = _with_group_permission(user, "view_footagerequest").filter(pk__in=candidates).order_by().values(*fields)
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    granted = {}
    for key, (status, _qs) in ordered.items():
        listed = by_status.get(status, [])
        # The database's order: the last key first, each sort stable; no value last going up, first going down.
        for name in reversed(orders[key]):
            field = name.lstrip("-")
            listed.sort(key=lambda row, field=field: (row[field] is None, row[field]), reverse=name.startswith("-"))
        granted[key] = [row["pk"] for row in listed]
    return granted


def _granted_only(user, qs):
    """The ids of the first COUNT_CAP + 1 requests of the ordered `qs` on which one of the user's groups holds the
    view grant, in its order: the ids are read up to the cap first (a subquery with its own limit), and only those
    probed for a grant."""
    first = qs.values("pk")[: COUNT_CAP + 1]
    granted = _with_group_permission(user, "view_footagerequest").filter(pk__in=first)
    return list(granted.order_by(*qs.query.order_by).values_list("pk", flat=True))


def _sorted_into(groups, qs, kind_of, now, *, columns=(), due=None):
    """Read the most urgent COUNT_CAP rows of `qs` (in the order of its partial index, so that the scan stops there)
    once and hand each to its group by `kind_of(row)`; every group counted from those rows, "+" when more remain.

    The rows are read as their id, status and `columns` (what `kind_of` and `due` name); only the SHOWN of each group
    are then read whole, in one query."""
    fields = list(dict.fromkeys(["pk", "status", *columns, *([due] if due else [])]))
    rows = list(qs.values_list(*fields, named=True)[: COUNT_CAP + 1])
    capped = len(rows) > COUNT_CAP
    by_key = {group.key: group for group in groups}
    shown = {group.key: [] for group in groups}
    for row in rows[:COUNT_CAP]:
        key = kind_of(row)
        if key in by_key:
            by_key[key].count += 1
            if len(shown[key]) < SHOWN:
                shown[key].append(row)
    whole = FootageRequest.objects.select_related("agency", "legal_basis").in_bulk(
        [row.pk for listed in shown.values() for row in listed]
    )
    for group in groups:
        group.capped = capped
        for row in shown[group.key]:
            if row.pk in whole:  # not gone between the two reads
                group.show(whole[row.pk], getattr(row, due) if due else None, now)
    return groups


def _by_urgency_then(qs: QuerySet, *order) -> QuerySet:
    return qs.order_by("priority", *order, "id")


def _listed(status):
    return f"{reverse('requests:list')}?status={status}"


def _requester_groups(user, now):
    # The agency's requests, each kept only where the user's groups hold the view grant (_granted_in_each).
    own = FootageRequest.objects.filter(agency_id=user.agency_id)
    expiry = dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)
    granted = _granted_in_each(
        user,
        {
            "questions": (Status.NEEDS_INFO, _by_urgency_then(own.filter(status=Status.NEEDS_INFO), "info_requested_at")),
            "receipts": (Status.RELEASED, _by_urgency_then(own.filter(status=Status.RELEASED), "decided_at")),
            "drafts": (Status.DRAFT, _by_urgency_then(own.filter(status=Status.DRAFT, requester=user), "-updated_at")),
        },
    )
    listed = [
        _granted_group(
            "questions",
            _("Questions to answer"),
            _("The reviewers asked for more information: answer in the request, or it expires."),
            _("answer by"),
            granted["questions"],
            more_url=_listed(Status.NEEDS_INFO),
        ),
        _granted_group(
            "receipts",
            _("Footage to download and confirm"),
            _("Released to your agency: download the package, check it, and confirm receipt."),
            _("link valid until"),
            granted["receipts"],
            more_url=_listed(Status.RELEASED),
        ),
        _granted_group(
            "drafts",
            _("Drafts to file"),
            _("Your requests not yet submitted."),
            "",
            granted["drafts"],
            more_url=_listed(Status.DRAFT),
        ),
    ]
    # The rows every group lists, read whole in one query; a released one with the first expiry of the user's
    # download links.
    grant_ends = (
        DownloadGrant.objects.filter(release__footage_request=OuterRef("pk"), user=user, revoked_at__isnull=True)
        .values("release__footage_request")
        .annotate(first=Min("expires_at"))
        .values("first")
    )
    whole = (
        FootageRequest.objects.select_related("agency", "legal_basis")
        .annotate(download_by=Subquery(grant_ends))
        .in_bulk([pk for _group, shown in listed for pk in shown])
    )
    due = {
        "questions": lambda row: row.info_requested_at + expiry if row.info_requested_at else None,
        "receipts": lambda row: row.download_by,
        "drafts": lambda row: None,
    }
    for group, shown in listed:
        for pk in shown:
            if pk in whole:  # not gone between the two reads
                group.show(whole[pk], due[group.key](whole[pk]), now)
    return [group for group, _shown in listed]


def _signed_by(user):
    return Exists(
        Decision.objects.filter(
            footage_request=OuterRef("pk"),
            actor=user,
            step=Decision.Step.APPROVAL,
            outcome=Decision.Outcome.APPROVE,
            content_hash=OuterRef("content_hash"),
        )
    )


def _examiner_groups(user, roles, now):
    """A reviewer's and an approver's groups, read in one pass over the open requests assigned to them."""
    reviewer, approver = Role.REVIEWER in roles, Role.APPROVER in roles
    # The most urgent rows of the user's groups' queues (read in queue order from their entries), then what the
    # groups below need to know of each, for those rows only.
    first = waiting_in_queue(
        user, size=COUNT_CAP + 1, statuses=OPEN_STATUSES if approver else (Status.SUBMITTED,), keys_only=True
    )
    qs = FootageRequest.objects.filter(pk__in=[row.pk for row in first])
    # Holding one of the two roles, the filter above already says which it is: an EXISTS in the row would be read
    # as a hashed subplan over every grant the agency ever had.
    both = reviewer and approver
    qs = qs.annotate(
        can_review=_group_permission(user, "review_footagerequest") if both else Value(reviewer),
        can_approve=_group_permission(user, "approve_footagerequest") if both else Value(approver),
        signed=_signed_by(user) if approver else Value(False),
    ).order_by("priority", "due_at", "id")

    def kind_of(footage_request):
        if footage_request.status == Status.SUBMITTED:
            # What the user reviews is theirs to recommend; what only they approve waits for the reviewer.
            return "review" if footage_request.can_review else "reviewer"
        if footage_request.can_approve:
            return "second" if footage_request.signed else "sign"
        return None  # reviewed, waiting for the approvers of another agency: nothing for this user

    queue = reverse("requests:queue")
    groups = []
    if reviewer:
        groups.append(
            TaskGroup(
                "review",
                _("Recommendations due"),
                _("Check the legal basis, the scope and data minimisation, then recommend."),
                _("due"),
                more_url=queue,
            )
        )
    if approver:
        groups += [
            TaskGroup(
                "sign",
                _("Waiting for my signature"),
                _("Reviewed and recommended: approve, narrow, reject or ask for information."),
                _("due"),
                more_url=queue,
            ),
            TaskGroup(
                "reviewer",
                _("Waiting for the reviewer"),
                _("Not yet reviewed: you can sign once the reviewer has recommended."),
                _("due"),
                mine=False,
            ),
            TaskGroup(
                "second",
                _("Signed by me, waiting for another approver"),
                _("The legal basis asks for more than one signature."),
                _("due"),
                mine=False,
            ),
        ]
    return _sorted_into(groups, qs, kind_of, now, columns=("can_review", "can_approve", "signed"), due="due_at")


def _custodian_groups(user, now):
    """A custodian's groups, read in one pass over the requests their agency exports that are not yet released."""
    qs = (
        _with_group_permission(user, "export_footagerequest")
        .filter(status__in=CUSTODIAN_STATUSES)
        .order_by("priority", "decided_at", "id")
    )
    kinds = {Status.DAMAGE_HELD: "damage", Status.EXPORTING: "exporting"}
    groups = [
        TaskGroup("export", _("Exports to run"), _("Approved: cut the footage, check it and release the package."), ""),
        TaskGroup(
            "damage",
            _("Damaged exports to acknowledge"),
            _("The decode check found damage: read the findings and acknowledge them before the footage is released."),
            "",
        ),
        TaskGroup(
            "exporting",
            _("Exports in progress"),
            _("Being cut and checked by the worker; the request page shows the progress."),
            "",
            mine=False,
        ),
    ]
    return _sorted_into(groups, qs, lambda footage_request: kinds.get(footage_request.status, "export"), now)


def tasks_for(user: User, *, now: dt.datetime | None = None) -> list[TaskGroup]:
    """The user's task groups that hold at least one task: their own first, then what waits on others."""
    now = now or timezone.now()
    roles = user.role_set()
    groups = []
    if Role.REQUESTER in roles and user.agency_id is not None:
        groups += _requester_groups(user, now)
    if Role.REVIEWER in roles or Role.APPROVER in roles:
        groups += _examiner_groups(user, roles, now)
    if Role.CUSTODIAN in roles:
        groups += _custodian_groups(user, now)
    groups = [group for group in groups if group.count]
    return sorted(groups, key=lambda group: not group.mine)


def waiting_notes(user: User, footage_requests: list[FootageRequest]) -> dict[int, str]:
    """For an approver's queue: the requests whose next step is not theirs, with whom they wait for."""
    if Role.APPROVER not in user.role_set() or not footage_requests:
        return {}
    ids = [footage_request.pk for footage_request in footage_requests]
    reviewable = set()
    if Role.REVIEWER in user.role_set():
        reviewable = set(_with_group_permission(user, "review_footagerequest").filter(pk__in=ids).values_list("pk", flat=True))
    signed = set(
        FootageRequest.objects.filter(pk__in=ids, status=Status.IN_REVIEW).filter(_signed_by(user)).values_list("pk", flat=True)
    )
    notes = {}
    for footage_request in footage_requests:
        if footage_request.status == Status.SUBMITTED and footage_request.pk not in reviewable:
            notes[footage_request.pk] = _("Waiting for the reviewer")
        elif footage_request.pk in signed:
            notes[footage_request.pk] = _("Signed by me, waiting for another approver")
    return notes
