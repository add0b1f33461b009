"""What an oversight report states, computed from the requests, releases and ledger of one period and scope.

Everything here reads; nothing writes. Figures are counted in the database
where they are sums, and in Python only where a list is needed anyway (the
register, the lists of late or unusual requests). The register is read in
chunks so that memory and time grow with the number of releases, not faster.
"""

import collections
import dataclasses
import datetime as dt
import functools
import json
import math
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth, TruncWeek
from django.db.models.lookups import Exact
from django.utils import timezone, translation

from audit.ledger_check import verify_range
from audit.models import Action, AuditEvent, Checkpoint, Outcome, VerificationRun
from audit.selectors import current_signing_key, signing_keys_for_range
from governance import calendar
from governance.models import Area, DataCategory, LegalBasis, display_name
from governance.selectors import agencies_within
from governance.timefmt import duration_text, local_midnight, local_time
from requests.models import (
    ApprovedItem,
    Attachment,
    Decision,
    DownloadGrant,
    FootageRequest,
    LegalHold,
    Release,
    ReleaseFile,
    RequestItem,
    Status,
    StatusChange,
    Submission,
    SubmittedItem,
    Urgency,
)
from requests.selectors import binding_approvals_among
from requests.transitions import PAST_APPROVAL

# Approved, whatever happened after: being exported, released, closed, a failed or held export.
APPROVED_FAMILY = tuple(sorted(PAST_APPROVAL))
STILL_OPEN = (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO)
# Waiting on the authority: a request sent back for information waits on the requester instead.
AWAITING_DECISION = (Status.SUBMITTED, Status.IN_REVIEW)
OUTCOMES = ("filed", "approved", "rejected", "withdrawn", "expired", "released")
REGISTER_CHUNK = 500
FILE_ORDER = (ReleaseFile.Kind.VIDEO, ReleaseFile.Kind.MANIFEST, ReleaseFile.Kind.HANDOVER, ReleaseFile.Kind.PACKAGE)


@dataclass(frozen=True)
class ReportScope:
    """A period of whole local days, optionally narrowed to one agency, area or legal basis, inside a jurisdiction."""

    date_from: dt.date
    date_to: dt.date
    agency: object = None
    area: object = None
    legal_basis: object = None
    jurisdiction: object = None  # an Area; None means the whole system (system administrators)
    # Set (by `collect`) only while the period is still running: the figures are then counted up to this moment.
    as_of: dt.datetime | None = None

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.date_from)

    @property
    def period_end(self) -> dt.datetime:
        return local_midnight(self.date_to + dt.timedelta(days=1))

    @property
    def end(self) -> dt.datetime:
        """The moment every figure is counted up to: the period's end, or the build time of a period still running."""
        return min(self.period_end, self.as_of) if self.as_of else self.period_end

    @property
    def unfinished(self) -> bool:
        return self.end < self.period_end

    @property
    def whole_system(self) -> bool:
        return self.agency is None and self.area is None and self.legal_basis is None and self.jurisdiction is None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def requests(self) -> QuerySet[FootageRequest]:
        """Every request the report may speak of, whatever its dates."""
        qs = FootageRequest.objects.all()
        if self.jurisdiction is not None:
            # The same agencies an auditor of that area reads on the request pages and in the ledger.
            qs = qs.filter(agency__in=agencies_within(self.jurisdiction).values("pk"))
        if self.agency is not None:
            qs = qs.filter(agency=self.agency)
        if self.area is not None:
            qs = qs.filter(agency__area__path__startswith=self.area.path)
        if self.legal_basis is not None:
            # The basis the request stood under at the end: a refiling under another basis later leaves it here.
            qs = qs.filter(Exact(filed_as("legal_basis", self.end), self.legal_basis.pk))
        return qs

    def during(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})


def filed_as(field_name: str, moment: dt.datetime, *, first: bool = False, via: str = ""):
    """A request's legal basis or urgency as filed: at its latest filing before `moment` (or its first filing).

    Falls back to the request as it is now where the filing did not record it (filings rebuilt from the
    ledger whose content has changed since), and for a request not yet filed then. `via` names the request
    from another model's rows ("footage_request" for a decision or a release)."""
    request, present = (f"{via}_id", f"{via}__{field_name}") if via else ("pk", field_name)
    filings = Submission.objects.filter(footage_request=OuterRef(request), submitted_at__lt=moment)
    filings = filings.filter(number=1) if first else filings.order_by("-number")
    if field_name == "urgency":
        return Coalesce(NullIf(Subquery(filings.values("urgency")[:1]), Value("")), F(present))
    output = IntegerField()  # a key: the subquery's and the request's column
    return Coalesce(Subquery(filings.values(field_name)[:1], output_field=output), F(present), output_field=output)


def hours_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: a value that occurred, as an inspector would count it by hand."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# Who: a person by name and account ---------------------------------------------------

SYSTEM = "hệ thống (tự động)"


@functools.lru_cache(maxsize=4096)  # the same few people on thousands of rows: one string each
def person(last_name: str, first_name: str, username: str | None) -> str:
    """A person as every list names them: display name and account ("Nguyễn Văn An (ioc-hk.approver)")."""
    if not username:
        return SYSTEM
    name = display_name(last_name or "", first_name or "", username)
    return name if name == username else f"{name} ({username})"


# The requests behind every count ------------------------------------------------------

OUTCOME_OF_STATUS = {
    **dict.fromkeys(APPROVED_FAMILY, "approved"),
    Status.REJECTED: "rejected",
    Status.WITHDRAWN: "withdrawn",
    Status.EXPIRED: "expired",
}
STATE_VI = {
    Status.DRAFT: "Bản nháp",
    Status.SUBMITTED: "Chờ xem xét",
    Status.IN_REVIEW: "Đang xem xét",
    Status.NEEDS_INFO: "Chờ bổ sung thông tin",
}


@functools.cache
def _urgency_words() -> dict[str, str]:
    # The pages' own words (the catalogue's), so that an emergency reads the same on screen, in the PDF and the CSV.
    with translation.override("vi"):
        return {value: str(label) for value, label in Urgency.choices}


def hold_reason_vi(code: str) -> str:
    """A system reason for a legal hold, in Vietnamese (the catalogue's words)."""
    with translation.override("vi"):
        return str(dict(LegalHold.ReasonCode.choices).get(code, code))


def urgency_vi(code: str) -> str:
    """The urgency as the pages say it in Vietnamese: Khẩn (emergency), Gấp (urgent), Thường (normal)."""
    return _urgency_words().get(code, code)


@dataclass(slots=True)  # one per request of the period: kept small
class RequestFact:
    """One request the period's figures speak of, with every count it adds to, as of the period's end."""

    pk: int
    reference: str
    agency: str
    agency_code: str
    legal_basis: str
    urgency: str
    first_filed_at: dt.datetime | None
    due_at: dt.datetime | None  # the deadline in force at the period's end (or at the decision)
    decided_at: dt.datetime | None  # only when decided before the period's end
    released_at: dt.datetime | None  # only when handed over in the period
    state_at_end: str
    outcome: str  # approved, rejected, withdrawn or expired when decided in the period, else ""
    filed: bool = False
    released: bool = False
    late: bool = False
    hours_late: float | None = None
    late_due_at: dt.datetime | None = None  # the deadline missed
    late_acted_at: dt.datetime | None = None  # when the authority acted after it; None: still waiting at the end
    late_acted: str = ""  # the status it moved to then
    open_at_end: bool = False
    overdue_at_end: bool = False
    narrowed: bool = False
    camera_areas: tuple = ()

    @property
    def counts(self) -> dict[str, int]:
        return {
            "filed": int(self.filed),
            "approved": int(self.outcome == "approved"),
            "rejected": int(self.outcome == "rejected"),
            "withdrawn": int(self.outcome == "withdrawn"),
            "expired": int(self.outcome == "expired"),
            "released": int(self.released),
        }


def _handed_over():
    """Releases whose footage was handed over: not those held for damage a custodian has yet to acknowledge.

    A held release is handed over when the damage is acknowledged, and `created_at` moves to that moment."""
    return Release.objects.exclude(footage_request__status=Status.DAMAGE_HELD)


def _releases(scope):
    return _handed_over().filter(scope.during("created_at"), footage_request__in=scope.requests())


def _undecided_at_end(scope) -> Q:
    return Q(first_submitted_at__lt=scope.end) & (Q(decided_at__isnull=True) | Q(decided_at__gte=scope.end))


def states_at(request_ids: list[int], moment: dt.datetime) -> dict[int, str]:
    """Each request's status at `moment`: the last status it moved into before then."""
    states = {}
    for part in _chunks(request_ids):
        for request_id, status in (
            StatusChange.objects.filter(footage_request_id__in=part, at__lt=moment)
            .order_by("footage_request_id", "at", "id")
            .values_list("footage_request_id", "to_status")
        ):
            states[request_id] = status
    return states


def _filings_at(request_ids, moment) -> dict[int, tuple[dt.datetime | None, int | None, str]]:
    """Each request's latest filing before `moment`: (its deadline, legal basis id, urgency); the basis and
    urgency are None and "" where that filing did not record them (rebuilt from the ledger)."""
    filings = {}
    for part in _chunks(request_ids):
        for request_id, due_at, basis_id, urgency in (
            Submission.objects.filter(footage_request_id__in=part, submitted_at__lt=moment)
            .order_by("footage_request_id", "number")
            .values_list("footage_request_id", "due_at", "legal_basis_id", "urgency")
        ):
            filings[request_id] = (due_at, basis_id, urgency)
    return filings


def _chunks(ids, size=5000):
    ids = list(ids)
    for offset in range(0, len(ids), size):
        yield ids[offset : offset + size]


def _filed_items(request_ids, moment):
    """Items as filed before `moment`: (request id, camera id, area id, data category id, start, end).

    The area is where the camera stood when the item was filed. A submission whose scope was not recorded
    (filed before submissions were kept) counts the request's present items, and their cameras' present areas.
    """
    rows, unrecorded = [], set()
    for part in _chunks(request_ids):
        submissions = Submission.objects.filter(footage_request_id__in=part, submitted_at__lt=moment)
        unrecorded.update(submissions.filter(items_recorded=False).order_by().values_list("footage_request_id", flat=True))
        rows.extend(
            SubmittedItem.objects.filter(submission__in=submissions.filter(items_recorded=True)).values_list(
                "submission__footage_request_id",
                "camera_id",
                Coalesce("area_id", "camera__area_id"),
                "data_category_id",
                "start",
                "end",
            )
        )
    for part in _chunks(unrecorded):
        rows.extend(
            RequestItem.objects.filter(footage_request_id__in=part).values_list(
                "footage_request_id", "camera_id", "camera__area_id", "data_category_id", "start", "end"
            )
        )
    return rows


def _filed_areas(request_ids, moment) -> dict[int, set[int]]:
    """The areas the cameras of each request's filings before `moment` stood in when filed (present items and areas
    for a filing whose scope was not recorded)."""
    areas, unrecorded = {}, set()
    for part in _chunks(request_ids):
        submissions = Submission.objects.filter(footage_request_id__in=part, submitted_at__lt=moment)
        unrecorded.update(submissions.filter(items_recorded=False).order_by().values_list("footage_request_id", flat=True))
        pairs = (
            SubmittedItem.objects.filter(submission__in=submissions.filter(items_recorded=True))
            .order_by()
            .values_list("submission__footage_request_id", Coalesce("area_id", "camera__area_id"))
            .distinct()
        )
        for request_id, area_id in pairs:
            areas.setdefault(request_id, set()).add(area_id)
    for part in _chunks(unrecorded):
        pairs = (
            RequestItem.objects.filter(footage_request_id__in=part)
            .order_by()
            .values_list("footage_request_id", "camera__area_id")
            .distinct()
        )
        for request_id, area_id in pairs:
            areas.setdefault(request_id, set()).add(area_id)
    return areas


def _window():
    return ExpressionWrapper(F("end") - F("start"), output_field=DurationField())


def _hours(duration: dt.timedelta | None) -> float:
    return duration.total_seconds() / 3600 if duration else 0.0


def _released_items(scope):
    """The items (the approved scope) of the requests handed over in the period."""
    return RequestItem.objects.filter(footage_request__in=_releases(scope).values("footage_request_id")).order_by()


def missed_deadlines(scope: ReportScope) -> dict[int, tuple[dt.datetime, dt.datetime | None, str]]:
    """Deadlines that fell in the period while the request waited on the authority.

    {request: (deadline, when the authority acted or None if still waiting at the end, the status it moved to)}.

    A deadline is missed when the request was still submitted or in review at that moment (not answered, asked
    for information, decided or withdrawn); the hours run until it left that state (the authority decided or
    asked for information, or the requesting agency withdrew it) or the period ended. A
    deadline replaced by a resubmission before it fell is not one. The latest missed deadline of a request counts."""
    start, end = scope.start, scope.end
    moves = StatusChange.objects.filter(footage_request_id=OuterRef("footage_request_id"))
    state_at_due = moves.filter(at__lte=OuterRef("due_at")).order_by("-at", "-id").values("to_status")[:1]
    # The authority acted when the request moved out of waiting on it: the first such move after the deadline.
    first_act = moves.filter(at__gt=OuterRef("due_at"), at__lt=end).exclude(to_status__in=AWAITING_DECISION).order_by("at", "id")
    replaced = Submission.objects.filter(
        footage_request_id=OuterRef("footage_request_id"), number=OuterRef("number") + 1, submitted_at__lte=OuterRef("due_at")
    )
    rows = (
        Submission.objects.filter(due_at__gte=start, due_at__lt=end, submitted_at__lt=end, footage_request__in=scope.requests())
        .exclude(Exists(replaced))
        .alias(state_at_due=Subquery(state_at_due))
        .filter(state_at_due__in=AWAITING_DECISION)
        .annotate(acted_at=Subquery(first_act.values("at")[:1]), acted=Subquery(first_act.values("to_status")[:1]))
        .order_by("footage_request_id", "number")
        .values_list("footage_request_id", "due_at", "acted_at", "acted")
    )
    return {request_id: (due_at, acted_at, acted or "") for request_id, due_at, acted_at, acted in rows}


def request_facts(scope: ReportScope) -> list[RequestFact]:
    """Every request filed, decided, released or narrowed in the period, or open at its end, oldest filing first."""
    narrowed_ids = set(
        Decision.objects.filter(scope.during("created_at"), footage_request__in=scope.requests())
        .exclude(narrowed_from="")
        .values_list("footage_request_id", flat=True)
    )
    # Each way into the report is one indexed read; the rows are then read by key.
    requests = scope.requests()
    ids = narrowed_ids | set(
        Release.objects.filter(scope.during("created_at"), footage_request__in=requests).values_list(
            "footage_request_id", flat=True
        )
    )
    for reason in (
        scope.during("first_submitted_at"),
        scope.during("decided_at") & Q(first_submitted_at__isnull=False),
        _undecided_at_end(scope),
    ):
        ids.update(requests.filter(reason).values_list("pk", flat=True))
    rows = []
    for part in _chunks(sorted(ids)):
        rows += (
            FootageRequest.objects.filter(pk__in=part)
            .order_by()
            .values_list(
                "pk",
                "reference",
                "agency__name_vi",
                "agency__code",
                "legal_basis_id",
                "urgency",
                "first_submitted_at",
                "decided_at",
                "status",
                "due_at",
                "release__created_at",
            )
        )
    start, end = scope.start, scope.end
    # Basis and urgency as last filed before the end (a later refiling under others leaves them).
    filings = _filings_at([row[0] for row in rows], end)
    basis_codes = dict(LegalBasis.objects.values_list("pk", "code"))
    facts = []
    for pk, reference, agency, agency_code, basis_id, urgency, first, decided, status, due, released in rows:
        _due, basis_then, urgency_then = filings.get(pk, (None, None, ""))
        basis, urgency = basis_codes[basis_then or basis_id], urgency_then or urgency
        decided_before_end = decided is not None and decided < end
        in_period = decided_before_end and decided >= start and first is not None
        facts.append(
            RequestFact(
                pk=pk,
                reference=reference,
                # Names shared by thousands of requests: one copy each.
                agency=sys.intern(agency),
                agency_code=sys.intern(agency_code),
                legal_basis=basis,
                urgency=urgency,
                first_filed_at=first,
                due_at=due if decided_before_end else None,
                decided_at=decided if decided_before_end else None,
                released_at=released if released and start <= released < end and status != Status.DAMAGE_HELD else None,
                state_at_end=status if decided_before_end else "",
                outcome=OUTCOME_OF_STATUS.get(status, "") if in_period else "",
                filed=first is not None and start <= first < end,
                narrowed=pk in narrowed_ids,
            )
        )
    open_ids = [f.pk for f in facts if f.decided_at is None and f.first_filed_at is not None and f.first_filed_at < end]
    # An approved request may have been exported, released or closed since the period ended: its state then is read.
    moved_on = [
        f.pk
        for f in facts
        if f.decided_at is not None and f.state_at_end in APPROVED_FAMILY and f.state_at_end != Status.APPROVED
    ]
    states = states_at(open_ids + moved_on, end)
    missed = missed_deadlines(scope)
    areas = _filed_areas([f.pk for f in facts], end)
    area_names = dict(Area.objects.filter(pk__in={a for s in areas.values() for a in s}).values_list("pk", "name_vi"))
    placed = {}  # the same few sets of areas: one tuple each
    for fact in facts:
        fact.released = fact.released_at is not None
        names = tuple(sorted(area_names.get(a, "?") for a in areas.get(fact.pk, ())))
        fact.camera_areas = placed.setdefault(names, names)
        if fact.decided_at is None and fact.pk in states:
            fact.state_at_end = states[fact.pk]
            fact.due_at = filings.get(fact.pk, (None,))[0]
            fact.open_at_end = fact.state_at_end in STILL_OPEN
            fact.overdue_at_end = fact.state_at_end in AWAITING_DECISION and fact.due_at is not None and fact.due_at < end
        if fact.outcome in ("approved", "rejected") and fact.due_at and fact.decided_at > fact.due_at:
            # Decided in the period after the deadline in force then, wherever that deadline fell.
            fact.late, fact.late_due_at = True, fact.due_at
            fact.late_acted_at, fact.late_acted = fact.decided_at, fact.outcome
        elif fact.pk in missed:
            fact.late = True
            fact.late_due_at, fact.late_acted_at, fact.late_acted = missed[fact.pk]
        if fact.late:
            fact.hours_late = hours_between(fact.late_due_at, fact.late_acted_at or end)
        if fact.decided_at is not None and fact.pk in states:
            fact.state_at_end = states[fact.pk]
    facts.sort(key=lambda f: (f.first_filed_at or end, f.reference))
    return facts


# Summary and breakdowns --------------------------------------------------------


@dataclass
class Breakdown:
    label: str
    counts: dict


def _group(facts, keys_of):
    groups = {}
    for fact in facts:
        if not any(fact.counts.values()):
            continue
        for key in keys_of(fact):
            counts = groups.setdefault(key, dict.fromkeys(OUTCOMES, 0))
            for name, n in fact.counts.items():
                counts[name] += n
    breakdowns = [Breakdown(label, counts) for label, counts in groups.items()]
    return sorted(breakdowns, key=lambda b: (-b.counts["filed"], -sum(b.counts.values()), b.label))


def summary(scope: ReportScope, facts: list[RequestFact]) -> dict:
    counts = dict.fromkeys(OUTCOMES, 0)
    for fact in facts:
        for name, n in fact.counts.items():
            counts[name] += n
    released = _released_items(scope).aggregate(duration=Sum(_window()), cameras=Count("camera_id", distinct=True))
    return {
        **counts,
        "footage_hours": _hours(released["duration"]),
        "cameras": released["cameras"],
        "open_at_end": sum(f.open_at_end for f in facts),
        "overdue_at_end": sum(f.overdue_at_end for f in facts),
        "late": sum(f.late for f in facts),
        "narrowed": sum(f.narrowed for f in facts),
        **_personal_data(scope),
    }


def _personal_data(scope) -> dict:
    """Personal data (Law 91/2025/QH15): people's requests for their own footage filed in the period, releases handed
    over as redacted copies, the footage hours of those copies and the regions of other people they blurred."""
    copies = ReleaseFile.objects.filter(release__in=_releases(scope), kind=ReleaseFile.Kind.VIDEO).exclude(redacted_from="")
    totals = copies.aggregate(
        releases=Count("release_id", distinct=True), seconds=Sum("duration"), regions=Sum("regions_blurred")
    )
    return {
        "subject_requests": scope.requests().filter(scope.during("first_submitted_at"), for_data_subject=True).count(),
        "redacted_releases": totals["releases"] or 0,
        "redacted_hours": (totals["seconds"] or 0.0) / 3600,
        "regions_blurred": totals["regions"] or 0,
    }


def by_agency(facts: list[RequestFact]) -> list[Breakdown]:
    return _group(facts, lambda f: [f.agency])


def by_legal_basis(facts: list[RequestFact]) -> list[Breakdown]:
    titles = dict(LegalBasis.objects.values_list("code", "title_vi"))
    return _group(facts, lambda f: [f"{f.legal_basis} — {titles.get(f.legal_basis, '?')}"])


def by_urgency(facts: list[RequestFact]) -> list[Breakdown]:
    labels = list(_urgency_words().values())
    rows = _group(facts, lambda f: [urgency_vi(f.urgency)])
    return sorted(rows, key=lambda b: labels.index(b.label) if b.label in labels else len(labels))


def by_camera_area(facts: list[RequestFact]) -> list[Breakdown]:
    """Where the cameras were: a request counts once in every area one of its filed cameras stands in."""
    return _group(facts, lambda f: f.camera_areas or ("?",))


@dataclass
class CategoryRow:
    label: str
    requests_filed: int
    items_filed: int
    released_items: int
    released_hours: float


def by_category(scope: ReportScope, facts: list[RequestFact]) -> list[CategoryRow]:
    """Items as first filed (requests filed in the period) and as released (the approved scope)."""
    names = dict(DataCategory.objects.values_list("pk", "name_vi"))
    first_filings = Submission.objects.filter(
        number=1, footage_request__in=scope.requests().filter(scope.during("first_submitted_at"))
    )
    filed = [
        SubmittedItem.objects.filter(submission__in=first_filings.filter(items_recorded=True))
        .order_by()
        .values("data_category_id")
        .annotate(items=Count("id"), requests=Count("submission__footage_request_id", distinct=True)),
        # A first filing whose scope was not recorded counts the request's present items.
        RequestItem.objects.filter(footage_request__in=first_filings.filter(items_recorded=False).values("footage_request_id"))
        .order_by()
        .values("data_category_id")
        .annotate(items=Count("id"), requests=Count("footage_request_id", distinct=True)),
    ]
    rows = {}
    for counted in filed:
        for group in counted:
            row = rows.setdefault(group["data_category_id"], [0, 0, 0, 0.0])
            row[0] += group["requests"]
            row[1] += group["items"]
    for group in _released_items(scope).values("data_category_id").annotate(items=Count("id"), duration=Sum(_window())):
        row = rows.setdefault(group["data_category_id"], [0, 0, 0, 0.0])
        row[2] += group["items"]
        row[3] += _hours(group["duration"])
    return sorted(
        (CategoryRow(names.get(pk, "?"), *values) for pk, values in rows.items()), key=lambda r: (-r.requests_filed, r.label)
    )


# Turnaround, deadlines and what stood open at the end ------------------------------------------


@dataclass
class LateRow:
    reference: str
    agency: str
    legal_basis: str
    urgency: str
    submitted_at: dt.datetime  # first filing
    due_at: dt.datetime
    decided_at: dt.datetime | None  # None: not decided when the period ended
    hours_late: float
    acted_at: dt.datetime | None  # when the authority acted after the deadline; None: still waiting at the end
    acted: str  # what it did then, in Vietnamese


# What ended a wait on the authority.
ACTED_VI = {
    Status.APPROVED: "phê duyệt",
    Status.REJECTED: "từ chối",
    Status.NEEDS_INFO: "đề nghị bổ sung thông tin",
    Status.WITHDRAWN: "cơ quan đề nghị rút yêu cầu",
    Status.EXPIRED: "hết hiệu lực",
}


def turnaround(scope: ReportScope, facts: list[RequestFact]) -> dict:
    """Hours from first filing to decision and to release (median, p90), and every deadline missed in the period.

    A deadline is missed in the period when a decision in the period came after it, or when it fell in the
    period while the request waited on the authority: counted until the authority acted (decided or asked for
    information), the requesting agency withdrew the request, or the period ended."""
    to_decision = [
        hours_between(f.first_filed_at, f.decided_at) for f in facts if f.outcome in ("approved", "rejected") and f.first_filed_at
    ]
    to_release = [hours_between(f.first_filed_at, f.released_at) for f in facts if f.released and f.first_filed_at]
    late = [
        LateRow(
            f.reference,
            f.agency,
            f.legal_basis,
            urgency_vi(f.urgency),
            f.first_filed_at,
            f.late_due_at,
            f.decided_at,
            f.hours_late,
            f.late_acted_at,
            ACTED_VI.get(f.late_acted, f.late_acted),
        )
        for f in facts
        if f.late
    ]
    late.sort(key=lambda row: (row.due_at, row.reference))
    return {
        "decisions": len(to_decision),
        "decision_median": median(to_decision),
        "decision_p90": percentile(to_decision, 0.9),
        "releases": len(to_release),
        "release_median": median(to_release),
        "release_p90": percentile(to_release, 0.9),
        "late": late,
    }


@dataclass
class OpenRow:
    reference: str
    agency: str
    legal_basis: str
    urgency: str
    first_filed_at: dt.datetime
    state: str  # in Vietnamese
    due_at: dt.datetime | None
    hours_overdue: float | None  # None: not overdue at the period's end (or waiting on the requester)


def open_at_end(scope: ReportScope, facts: list[RequestFact]) -> list[OpenRow]:
    """Requests filed and not decided when the period ended, overdue ones first, however old."""
    rows = [
        OpenRow(
            f.reference,
            f.agency,
            f.legal_basis,
            urgency_vi(f.urgency),
            f.first_filed_at,
            STATE_VI.get(f.state_at_end, f.state_at_end),
            f.due_at,
            hours_between(f.due_at, scope.end) if f.overdue_at_end else None,
        )
        for f in facts
        if f.open_at_end
    ]
    return sorted(rows, key=lambda r: (r.hours_overdue is None, -(r.hours_overdue or 0), r.first_filed_at, r.reference))


# The release register ------------------------------------------------------------------


@dataclass(slots=True)  # one per release of the period: kept small
class RegisterRow:
    reference: str
    released_at: dt.datetime
    agency: str
    legal_basis: str
    case_reference: str
    approvers: list
    windows: list  # (camera code, start, end)
    files: list  # (kind, name, sha256): the video files, then manifest, hand-over record and package
    downloads: int  # downloads made before the period's end
    spans: dict = field(default_factory=dict)  # video file name -> (camera code, first timestamp, last timestamp)
    custodian: str = ""
    recipients: list = field(default_factory=list)  # download links issued before the period's end

    @property
    def videos(self) -> list[tuple[str, str]]:
        return [(name, sha256) for kind, name, sha256 in self.files if kind == ReleaseFile.Kind.VIDEO]

    @property
    def package_sha256(self) -> str:
        return next((sha256 for kind, _name, sha256 in self.files if kind == ReleaseFile.Kind.PACKAGE), "")


def register_count(scope: ReportScope) -> int:
    return _releases(scope).count()


def register(
    scope: ReportScope, *, chunk: int = REGISTER_CHUNK, downloads: dict[str, int] | None = None
) -> Iterator[RegisterRow]:
    """One row per release in the period, oldest first, read `chunk` releases at a time.

    `downloads` are the downloads of each reference counted from the period's activity (`collect` has read
    those events already); without it they are counted in the ledger, chunk by chunk."""
    ids = list(_releases(scope).order_by("created_at", "id").values_list("pk", flat=True))
    for offset in range(0, len(ids), chunk):
        part = ids[offset : offset + chunk]
        # Plain tuples: at twenty thousand releases, model instances cost more than the queries.
        releases = list(
            Release.objects.filter(pk__in=part)
            .order_by("created_at", "id")
            .values_list(
                "pk",
                "created_at",
                "footage_request_id",
                "footage_request__reference",
                "footage_request__agency__name_vi",
                "footage_request__legal_basis__code",
                "footage_request__case_reference",
                "footage_request__export_requested_by__last_name",
                "footage_request__export_requested_by__first_name",
                "footage_request__export_requested_by__username",
            )
        )
        # Counted in the ledger up to the period's end: a download made later never changes this report.
        counted = downloads if downloads is not None else _downloads_of([row[3] for row in releases], scope.end)
        recipients = {}
        for release_id, last, first, username in (
            DownloadGrant.objects.filter(release_id__in=part, created_at__lt=scope.end)
            .order_by("release_id", "created_at", "id")
            .values_list("release_id", "user__last_name", "user__first_name", "user__username")
        ):
            recipients.setdefault(release_id, []).append(person(last, first, username))
        request_ids = [row[2] for row in releases]
        windows, approvers, files = {}, {}, {}
        for request_id, code, start, end in (
            RequestItem.objects.filter(footage_request_id__in=request_ids)
            .order_by("footage_request_id", "camera__code", "start")
            .values_list("footage_request_id", "camera__code", "start", "end")
        ):
            windows.setdefault(request_id, []).append((code, start, end))
        # Only signatures on the content that was released count as its approvals.
        for request_id, last, first, username in (
            binding_approvals_among(request_ids)
            .order_by("footage_request_id", "created_at", "id")
            .values_list("footage_request_id", "actor__last_name", "actor__first_name", "actor__username")
        ):
            approvers.setdefault(request_id, []).append(person(last, first, username))
        order = {kind: n for n, kind in enumerate(FILE_ORDER)}
        spans = {}
        for release_id, kind, name, sha256, camera, first, last in (
            ReleaseFile.objects.filter(release_id__in=part)
            .order_by("release_id", "name")
            .values_list("release_id", "kind", "name", "sha256", "camera_code", "first_timestamp", "last_timestamp")
        ):
            files.setdefault(release_id, []).append((kind, name, sha256))
            if kind == ReleaseFile.Kind.VIDEO:
                spans.setdefault(release_id, {})[name] = (camera, first, last)
        for listed in files.values():
            listed.sort(key=lambda f: order.get(f[0], len(order)))
        for (
            release_id,
            released_at,
            request_id,
            reference,
            agency,
            basis,
            case_reference,
            *custodian,
        ) in releases:
            signed = approvers.get(request_id, [])
            yield RegisterRow(
                reference=reference,
                released_at=released_at,
                agency=agency,
                legal_basis=basis,
                case_reference=case_reference,
                approvers=list(dict.fromkeys(signed)),
                windows=windows.get(request_id, []),
                files=files.get(release_id, []),
                spans=spans.get(release_id, {}),
                downloads=counted.get(reference) or 0,
                custodian=person(*custodian) if custodian[2] else "",
                recipients=list(dict.fromkeys(recipients.get(release_id, []))),
            )


def _downloads_of(references, end):
    return dict(
        AuditEvent.objects.filter(
            action=Action.RELEASE_DOWNLOAD, outcome=Outcome.SUCCESS, reference__in=references, occurred_at__lt=end
        )
        .values_list("reference")
        .annotate(n=Count("seq"))
        .values_list("reference", "n")
    )


def downloads_counted(rows: list["ActivityRow"]) -> dict[str, int]:
    """Successful downloads per request among the period's activity: a release of the period is downloaded only
    after it was made, so these are all its downloads up to the period's end."""
    return collections.Counter(r.reference for r in rows if r.action == Action.RELEASE_DOWNLOAD and not r.refused)


# Refusals ------------------------------------------------------------------------------


@dataclass
class RefusalRow:
    reference: str
    decided_at: dt.datetime
    agency: str
    legal_basis: str
    official: str
    official_agency: str
    reason: str


def refusals(scope: ReportScope) -> list[RefusalRow]:
    rows = (
        Decision.objects.filter(scope.during("created_at"), outcome=Decision.Outcome.REJECT, footage_request__in=scope.requests())
        .order_by("created_at", "id")
        .values_list(
            "footage_request__reference",
            "created_at",
            "footage_request__agency__name_vi",
            "footage_request__legal_basis__code",
            "actor__last_name",
            "actor__first_name",
            "actor__username",
            "actor_agency__name_vi",
            "reason",
        )
    )
    return [
        RefusalRow(reference, at, agency, basis, person(last, first, username), official_agency, reason)
        for reference, at, agency, basis, last, first, username, official_agency, reason in rows
    ]


# Unusual patterns ------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str
    subject: str
    detail: str
    reference: str = ""


PATTERN_TITLES = {
    "volume": "Số yêu cầu vượt xa mức thường lệ của cơ quan",
    "after_hours": "Phê duyệt hoặc cung cấp dữ liệu ngoài giờ hành chính",
    "one_approver": "Một người phê duyệt phần lớn yêu cầu của một cơ quan",
    "paperwork": "Yêu cầu khẩn chưa bổ sung công văn sau thời hạn",
    "near_limit": "Yêu cầu sát giới hạn của căn cứ pháp lý",
}


def _volume_findings(scope):
    length = dt.timedelta(days=scope.days)
    periods = settings.REPORT_BASELINE_PERIODS
    before = scope.requests().filter(first_submitted_at__gte=scope.start - periods * length, first_submitted_at__lt=scope.start)
    baseline = dict(before.values_list("agency_id").annotate(n=Count("pk")).values_list("agency_id", "n"))
    current = (
        scope.requests()
        .filter(scope.during("first_submitted_at"))
        .values_list("agency_id", "agency__name_vi")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "agency__name_vi", "n")
    )
    findings = []
    for agency_id, name, filed in current:
        usual = baseline.get(agency_id, 0) / periods
        if filed >= settings.REPORT_VOLUME_MIN and filed > settings.REPORT_VOLUME_FACTOR * usual:
            ratio = f"gấp {_vi(filed / usual)} lần" if usual else "trước đó không có yêu cầu nào"
            findings.append(
                Finding(
                    "volume",
                    name,
                    f"{filed} yêu cầu trong kỳ; trung bình {_vi(usual)} mỗi kỳ trong {periods} kỳ trước ({ratio})",
                )
            )
    return sorted(findings, key=lambda f: f.subject)


def _after_hours_findings(scope):
    findings = []
    approvals = (
        Decision.objects.filter(
            scope.during("created_at"),
            step=Decision.Step.APPROVAL,
            outcome=Decision.Outcome.APPROVE,
            footage_request__in=scope.requests(),
        )
        .order_by("created_at", "id")
        .annotate(urgency_then=filed_as("urgency", scope.end, via="footage_request"))
        .values_list(
            "created_at",
            "footage_request__reference",
            "urgency_then",
            "actor__last_name",
            "actor__first_name",
            "actor__username",
        )
    )
    for at, reference, urgency, last, first, username in approvals:
        if not calendar.is_working_time(at):
            who = person(last, first, username)
            findings.append(Finding("after_hours", who, f"phê duyệt lúc {local_time(at)} ({urgency_vi(urgency)})", reference))
    releases = (
        _releases(scope)
        .order_by("created_at", "id")
        .annotate(urgency_then=filed_as("urgency", scope.end, via="footage_request"))
        .values_list("created_at", "footage_request__reference", "urgency_then", "footage_request__agency__name_vi")
    )
    for at, reference, urgency, agency in releases:
        if not calendar.is_working_time(at):
            findings.append(
                Finding(
                    "after_hours",
                    agency,
                    f"dữ liệu cung cấp lúc {local_time(at)} ({urgency_vi(urgency)})",
                    reference,
                )
            )
    return findings


def _one_approver_findings(scope):
    signatures = (
        Decision.objects.filter(
            scope.during("created_at"),
            step=Decision.Step.APPROVAL,
            outcome=Decision.Outcome.APPROVE,
            footage_request__in=scope.requests(),
        )
        .values_list(
            "footage_request__agency_id",
            "footage_request__agency__name_vi",
            "actor_id",
            "actor__last_name",
            "actor__first_name",
            "actor__username",
        )
        .annotate(n=Count("footage_request_id", distinct=True))
    )
    per_agency = {}
    for agency_id, agency, _actor_id, last, first, username, n in signatures:
        per_agency.setdefault((agency_id, agency), []).append((n, person(last, first, username)))
    approved = dict(
        scope.requests()
        .filter(
            pk__in=Decision.objects.filter(
                scope.during("created_at"), step=Decision.Step.APPROVAL, outcome=Decision.Outcome.APPROVE
            ).values("footage_request_id")
        )
        .values_list("agency_id")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "n")
    )
    findings = []
    for (agency_id, agency), signers in per_agency.items():
        total = approved.get(agency_id, 0)
        n, name = max(signers)
        if total >= settings.REPORT_APPROVER_MIN and n / total > settings.REPORT_APPROVER_SHARE:
            findings.append(
                Finding("one_approver", agency, f"{name} ký {n} trên {total} yêu cầu được phê duyệt ({round(100 * n / total)}%)")
            )
    return sorted(findings, key=lambda f: f.subject)


def _paperwork_findings(scope):
    """Emergencies filed in the period with no official letter attached within the grace, judged at the period's end."""
    grace = dt.timedelta(hours=settings.EMERGENCY_PAPERWORK_HOURS)
    in_time = Attachment.objects.filter(
        footage_request=OuterRef("pk"),
        kind=Attachment.Kind.OFFICIAL_LETTER,
        uploaded_at__lte=OuterRef("first_submitted_at") + grace,
    )
    missing = (
        scope.requests()
        .filter(scope.during("first_submitted_at"), first_submitted_at__lte=scope.end - grace)
        .filter(Exact(filed_as("urgency", scope.end, first=True), Urgency.EMERGENCY))
        .exclude(Exists(in_time))
        .order_by("first_submitted_at", "id")
        .values_list("reference", "agency__name_vi", "first_submitted_at")
    )
    return [
        Finding(
            "paperwork",
            agency,
            f"gửi lúc {local_time(submitted_at)}, quá {settings.EMERGENCY_PAPERWORK_HOURS} giờ chưa có công văn",
            reference,
        )
        for reference, agency, submitted_at in missing
    ]


def _near_limit_findings(scope):
    """Requests filed in the period whose filed scope came close to its legal basis's limits."""
    share = settings.REPORT_NEAR_LIMIT
    filed = scope.requests().filter(scope.during("first_submitted_at"))
    rows = list(
        filed.annotate(basis_then=filed_as("legal_basis", scope.end)).values_list(
            "pk", "reference", "agency__name_vi", "basis_then"
        )
    )
    bases = {
        pk: (max_hours, max_cameras)
        for pk, max_hours, max_cameras in LegalBasis.objects.filter(pk__in={row[3] for row in rows}).values_list(
            "pk", "max_window_hours", "max_cameras"
        )
    }
    limits = {pk: (reference, agency, *bases[basis]) for pk, reference, agency, basis in rows}
    filings = Submission.objects.filter(footage_request__in=filed, submitted_at__lt=scope.end)
    longest, cameras = {}, {}
    for group in (
        SubmittedItem.objects.filter(submission__in=filings)
        .order_by()
        .values("submission__footage_request_id")
        .annotate(longest=Max(_window()), cameras=Count("camera_id", distinct=True))
    ):
        longest[group["submission__footage_request_id"]] = _hours(group["longest"])
        cameras[group["submission__footage_request_id"]] = group["cameras"]
    # Requests with a filing whose scope was not recorded: counted with their present items, one by one.
    unrecorded = set(filings.filter(items_recorded=False).order_by().values_list("footage_request_id", flat=True))
    windows = {}
    for request_id, camera_id, _area, _category, start, end in _filed_items(list(unrecorded), scope.end):
        longest[request_id] = max(longest.get(request_id, 0.0), hours_between(start, end))
        windows.setdefault(request_id, set()).add(camera_id)
    cameras.update({request_id: len(ids) for request_id, ids in windows.items()})
    findings = []
    for pk, (reference, agency, max_hours, max_cameras) in sorted(limits.items(), key=lambda kv: kv[1][0]):
        notes = []
        if max_hours and longest.get(pk, 0) >= share * max_hours:
            notes.append(f"khoảng dài nhất {_duration_vi(longest[pk])} (giới hạn {max_hours} giờ)")
        if max_cameras and cameras.get(pk, 0) >= share * max_cameras:
            notes.append(f"{cameras[pk]}/{max_cameras} camera")
        if notes:
            findings.append(Finding("near_limit", agency, "; ".join(notes), reference))
    return findings


def patterns(scope: ReportScope) -> dict[str, list[Finding]]:
    return {
        "volume": _volume_findings(scope),
        "after_hours": _after_hours_findings(scope),
        "one_approver": _one_approver_findings(scope),
        "paperwork": _paperwork_findings(scope),
        "near_limit": _near_limit_findings(scope),
    }


# Holds, ended requests, narrowing and who did what ------------------------------------------


@dataclass
class HoldRow:
    reference: str
    agency: str
    placed_at: dt.datetime
    placed_by: str
    reason: str
    segments_held: int | None  # None: the copy into the holding area had not finished when the period ended
    lifted_at: dt.datetime | None  # None: still in force when the period ended
    lifted_by: str


def holds(scope: ReportScope) -> list[HoldRow]:
    """Legal holds placed or lifted in the period, and those in force at its end."""
    in_force_at_end = Q(placed_at__lt=scope.end) & (Q(released_at__isnull=True) | Q(released_at__gte=scope.end))
    rows = (
        LegalHold.objects.filter(
            scope.during("placed_at") | scope.during("released_at") | in_force_at_end,
            footage_request__in=scope.requests(),
        )
        .order_by("placed_at", "id")
        .values_list(
            "footage_request__reference",
            "footage_request__agency__name_vi",
            "placed_at",
            "placed_by__last_name",
            "placed_by__first_name",
            "placed_by__username",
            "reason",
            "reason_code",
            "segments_held",
            "preserved_at",
            "path",
            "released_at",
            "released_by__last_name",
            "released_by__first_name",
            "released_by__username",
        )
    )
    result = []
    for reference, agency, placed_at, pl, pf, pu, typed, code, segments, preserved_at, path, lifted_at, ll, lf, lu in rows:
        reason = hold_reason_vi(code) if code else typed
        lifted = lifted_at is not None and lifted_at < scope.end
        # Holds preserved before the finishing time was kept have a holding area but no time: their count stands.
        preserved = preserved_at < scope.end if preserved_at else bool(path)
        result.append(
            HoldRow(
                reference,
                agency,
                placed_at,
                person(pl, pf, pu),
                reason,
                segments if preserved else None,
                lifted_at if lifted else None,
                person(ll, lf, lu) if lifted else "",
            )
        )
    return result


@dataclass
class EndedRow:
    reference: str
    agency: str
    legal_basis: str
    outcome: str  # in Vietnamese: withdrawn or expired
    first_filed_at: dt.datetime | None
    ended_at: dt.datetime
    by: str
    reason: str


ENDED_VI = {Status.WITHDRAWN: "Rút lại", Status.EXPIRED: "Hết hạn (không bổ sung thông tin)"}
ENDING_ACTIONS = {Status.WITHDRAWN: Action.REQUEST_WITHDRAW, Status.EXPIRED: Action.REQUEST_EXPIRE}


def ended(scope: ReportScope) -> list[EndedRow]:
    """Requests withdrawn or expired in the period (filed ones: a draft withdrawn was never a request), who ended them, why."""
    rows = list(
        scope.requests()
        .filter(scope.during("decided_at"), status__in=list(ENDED_VI), first_submitted_at__isnull=False)
        .order_by("decided_at", "id")
        .annotate(basis_then=filed_as("legal_basis", scope.end))
        .values_list("reference", "agency__name_vi", "basis_then", "status", "first_submitted_at", "decided_at")
    )
    codes = dict(LegalBasis.objects.values_list("pk", "code"))
    rows = [(reference, agency, codes[basis], *rest) for reference, agency, basis, *rest in rows]
    events = {}
    for part in _chunks([row[0] for row in rows]):
        for reference, action, actor_id, username, payload in (
            AuditEvent.objects.filter(reference__in=part, action__in=list(ENDING_ACTIONS.values()))
            .order_by("seq")
            .values_list("reference", "action", "actor_id", "actor_username", "payload")
        ):
            events[(reference, action)] = (actor_id, username, json.loads(payload or "{}"))
    names = {
        pk: (last, first)
        for pk, last, first in get_user_model()
        .objects.filter(pk__in={e[0] for e in events.values() if e[0]})
        .values_list("pk", "last_name", "first_name")
    }
    result = []
    for reference, agency, basis, status, first_filed, ended_at in rows:
        actor_id, username, payload = events.get((reference, ENDING_ACTIONS[status]), (None, "", {}))
        last, first = names.get(actor_id, ("", ""))
        result.append(
            EndedRow(
                reference,
                agency,
                basis,
                ENDED_VI[status],
                first_filed,
                ended_at,
                person(last, first, username),
                str(payload.get("reason") or ""),
            )
        )
    return result


@dataclass
class NarrowedRow:
    reference: str
    agency: str
    narrowed_at: dt.datetime
    by: str
    requested: list  # (camera code, start, end) as last filed; None when that scope was not recorded
    approved: list  # (camera code, start, end) as this approval narrowed it; None when that scope was not recorded


def narrowed(scope: ReportScope) -> list[NarrowedRow]:
    """Approvals in the period that narrowed the scope, with the scope as filed and as approved."""
    rows = list(
        Decision.objects.filter(scope.during("created_at"), footage_request__in=scope.requests())
        .exclude(narrowed_from="")
        .order_by("created_at", "id")
        .values_list(
            "pk",
            "footage_request_id",
            "footage_request__reference",
            "footage_request__agency__name_vi",
            "created_at",
            "actor__last_name",
            "actor__first_name",
            "actor__username",
            "content_hash",
            "footage_request__content_hash",
        )
    )
    request_ids = {row[1] for row in rows}
    requested, approved = {}, {}
    for request_id, number, recorded, code, start, end in (
        Submission.objects.filter(footage_request_id__in=request_ids, submitted_at__lt=scope.end)
        .order_by("footage_request_id", "number", "items__camera__code", "items__start")
        .values_list("footage_request_id", "number", "items_recorded", "items__camera__code", "items__start", "items__end")
    ):
        windows = requested.get(request_id)
        if windows is None or windows[0] != number:
            requested[request_id] = windows = (number, [] if recorded else None)
        if windows[1] is not None and code:
            windows[1].append((code, start, end))
    for decision_id, code, start, end in (
        ApprovedItem.objects.filter(decision_id__in=[row[0] for row in rows])
        .order_by("decision_id", "camera__code", "start")
        .values_list("decision_id", "camera__code", "start", "end")
    ):
        approved.setdefault(decision_id, []).append((code, start, end))
    # Narrowings signed before approved scopes were kept: the request's present scope is the one signed only
    # when its content is still what the approval signed.
    unrecorded = {row[1] for row in rows if row[0] not in approved and row[8] == row[9]}
    present = {}
    for request_id, code, start, end in (
        RequestItem.objects.filter(footage_request_id__in=unrecorded)
        .order_by("footage_request_id", "camera__code", "start")
        .values_list("footage_request_id", "camera__code", "start", "end")
    ):
        present.setdefault(request_id, []).append((code, start, end))
    return [
        NarrowedRow(
            reference,
            agency,
            at,
            person(last, first, username),
            requested.get(request_id, (0, None))[1],
            approved[pk] if pk in approved else present.get(request_id) if signed == now else None,
        )
        for pk, request_id, reference, agency, at, last, first, username, signed, now in rows
    ]


# The actions an official's activity section lists. Their words are the ledger's (`Action` labels in Vietnamese), the
# same on the ledger page, in this report and in its CSV.
ACTIVITY_ACTIONS = (
    Action.REQUEST_SUBMIT,
    Action.REQUEST_REVIEW,
    Action.REQUEST_ASK_INFO,
    Action.REQUEST_APPROVE,
    Action.REQUEST_REJECT,
    Action.REQUEST_WITHDRAW,
    Action.REQUEST_EXPIRE,
    Action.REQUEST_EXPORT_START,
    Action.REQUEST_EXPORT_FAIL,
    Action.RELEASE_CREATE,
    Action.RELEASE_DAMAGE,
    Action.RELEASE_DAMAGE_ACKNOWLEDGE,
    Action.RELEASE_LINK,
    Action.RELEASE_DOWNLOAD,
    Action.RELEASE_DOWNLOAD_REFUSED,
    Action.RELEASE_LINK_EXPIRED,
    Action.RELEASE_REVOKE,
    Action.RELEASE_PURGE,
    Action.HOLD_PLACE,
    Action.HOLD_RELEASE,
    Action.REQUEST_CLOSE,
    # Personal data: a person's request taken at the counter, redacted copies required, the regions drawn and
    # reviewed, and the frames seen to draw them (counted among the other acts).
    Action.SUBJECT_REQUEST_FILE,
    Action.REDACTION_REQUIRE,
    Action.REDACTION_REGION_ADD,
    Action.REDACTION_REGION_REMOVE,
    Action.REDACTION_REVIEW,
    Action.REDACTION_FRAME_VIEW,
)


def action_vi(action: str) -> str:
    """An action as the ledger page names it in Vietnamese."""
    return _action_labels_vi().get(action, action)


@functools.cache
def _action_labels_vi() -> dict[str, str]:
    with translation.override("vi"):
        return {value: str(label) for value, label in Action.choices}


DOWNLOAD_ACTIONS = (Action.RELEASE_DOWNLOAD, Action.RELEASE_DOWNLOAD_REFUSED, Action.RELEASE_LINK_EXPIRED)
# Why the download check refused a download (the ledger keeps its code), in words.
DOWNLOAD_REFUSAL_VI = {
    "tampered": "liên kết bị sửa đổi",
    "unknown link": "liên kết không tồn tại",
    "expired": "liên kết đã hết hạn",
    "someone else's link": "dùng liên kết cấp cho người khác",
    "no longer a recipient": "không còn là người được nhận dữ liệu",
    "revoked": "liên kết đã bị thu hồi",
    "download limit reached": "đã dùng hết số lượt tải",
    "purged": "gói dữ liệu đã bị xóa",
    "unknown file": "tệp không có trong gói dữ liệu",
}
RECOMMENDATION_VI = {"recommend_approve": "đề nghị phê duyệt", "recommend_reject": "đề nghị từ chối"}
# The kinds of act a person's activity is summed by (the columns of the report's per-person table).
ACTIVITY_KINDS = {
    Action.REQUEST_SUBMIT: "Gửi",
    Action.REQUEST_REVIEW: "Thẩm định",
    Action.REQUEST_ASK_INFO: "Hỏi thêm",
    Action.REQUEST_APPROVE: "Phê duyệt",
    Action.REQUEST_REJECT: "Từ chối",
    Action.REQUEST_EXPORT_START: "Trích xuất",
    Action.REQUEST_EXPORT_FAIL: "Trích xuất",
    Action.RELEASE_CREATE: "Trích xuất",
    Action.RELEASE_DAMAGE: "Trích xuất",
    Action.RELEASE_DAMAGE_ACKNOWLEDGE: "Trích xuất",
    Action.RELEASE_LINK: "Liên kết",
    Action.RELEASE_REVOKE: "Liên kết",
    Action.RELEASE_DOWNLOAD: "Tải",
    Action.RELEASE_DOWNLOAD_REFUSED: "Bị từ chối tải",
    Action.RELEASE_LINK_EXPIRED: "Bị từ chối tải",
    Action.HOLD_PLACE: "Bảo toàn",
    Action.HOLD_RELEASE: "Bảo toàn",
}
OTHER_KIND = "Khác"
KIND_ORDER = (*dict.fromkeys(ACTIVITY_KINDS.values()), OTHER_KIND)


@dataclass(slots=True)  # one per ledger event of the period: kept small
class ActivityRow:
    at: dt.datetime
    reference: str
    action: str  # the ledger's action code
    label: str  # in Vietnamese
    who: str
    agency: str  # the actor's agency code when the event was written
    refused: bool
    detail: str  # in Vietnamese
    seq: int
    file: str = ""  # a download: the file taken ("package": the whole package)
    reason: str = ""  # a refusal: the download check's code; otherwise the reason given, as typed


def _detail(action, payload):
    """What an event says beyond who and when, in words."""
    if action == Action.RELEASE_DOWNLOAD:
        return "cả gói dữ liệu" if payload.get("file") in (None, "package") else str(payload["file"])
    if action in (Action.RELEASE_DOWNLOAD_REFUSED, Action.RELEASE_LINK_EXPIRED):
        reason = str(payload.get("reason") or "")
        return DOWNLOAD_REFUSAL_VI.get(reason, reason)
    parts = []
    if payload.get("outcome") in RECOMMENDATION_VI:
        parts.append(RECOMMENDATION_VI[payload["outcome"]])
    if payload.get("reason_code"):
        parts.append(hold_reason_vi(str(payload["reason_code"])))
    for key in ("reason", "question"):
        if payload.get(key):
            parts.append(str(payload[key]))
    if payload.get("narrowed"):
        parts.append("thu hẹp phạm vi: " + ", ".join(sorted(payload["narrowed"])))
    if payload.get("grants"):
        parts.append(f"thu hồi {len(payload['grants'])} liên kết")
    if payload.get("segments_held"):
        parts.append(f"{payload['segments_held']} đoạn ghi hình được bảo toàn")
    if payload.get("retry"):
        parts.append("chạy lại sau lỗi")
    return "; ".join(parts)


@dataclass
class PersonActivity:
    who: str
    agency: str
    counts: dict  # kind (ACTIVITY_KINDS' values, "Khác") -> events
    first_at: dt.datetime
    last_at: dt.datetime

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def activity_by_person(rows: list[ActivityRow]) -> list[PersonActivity]:
    """Each person's acts in the period, summed by kind: the short form of the activity list."""
    people = {}
    for row in rows:
        entry = people.get((row.who, row.agency))
        if entry is None:
            entry = people[(row.who, row.agency)] = PersonActivity(
                row.who, row.agency, dict.fromkeys(KIND_ORDER, 0), row.at, row.at
            )
        entry.counts[ACTIVITY_KINDS.get(row.action, OTHER_KIND)] += 1
        entry.first_at, entry.last_at = min(entry.first_at, row.at), max(entry.last_at, row.at)
    return sorted(people.values(), key=lambda p: (p.agency, -p.total, p.who))


def activity(scope: ReportScope) -> list[ActivityRow]:
    """Who did what to the scope's requests in the period, from the ledger: every decision, export, link, download
    (and refused download), hold and receipt, each with the person's name and account."""
    concerned = ~Q(reference="") if scope.whole_system else Q(reference__in=scope.requests().values("reference"))
    events = (
        AuditEvent.objects.filter(scope.during("occurred_at"), concerned, action__in=list(ACTIVITY_ACTIONS))
        .order_by("seq")
        .values_list(
            "seq", "occurred_at", "reference", "action", "actor_id", "actor_username", "actor_agency", "outcome", "payload"
        )
    )
    actors = events.order_by().exclude(actor_id=None).values_list("actor_id", flat=True).distinct()
    names = {
        pk: (last, first)
        for pk, last, first in get_user_model().objects.filter(pk__in=actors).values_list("pk", "last_name", "first_name")
    }
    result = []
    # Read in chunks: the events' rows (with their payloads) are never all held beside the list they become.
    for seq, at, reference, action, actor_id, username, agency, outcome, payload_text in events.iterator(chunk_size=5000):
        reference = sys.intern(reference)  # a request's events share one copy of its reference
        last, first = names.get(actor_id, ("", ""))
        payload = json.loads(payload_text or "{}")
        downloaded = action == Action.RELEASE_DOWNLOAD
        result.append(
            ActivityRow(
                at=at,
                reference=reference,
                action=action,
                label=action_vi(action),
                who=person(last, first, username),
                agency=agency,
                refused=outcome != Outcome.SUCCESS,
                detail=_detail(action, payload),
                seq=seq,
                file=str(payload.get("file") or "package") if downloaded else "",
                reason=hold_reason_vi(str(payload["reason_code"]))
                if payload.get("reason_code")
                else str(payload.get("reason") or ""),
            )
        )
    return result


# Ledger integrity ---------------------------------------------------------------------------


@dataclass
class Integrity:
    events: int
    first_seq: int | None
    first_hash: str
    last_seq: int | None
    last_hash: str
    ok: bool | None  # None: no event in the period
    problem: str
    seconds: float
    checkpoint: object  # the latest signed Checkpoint when the report was built, or None
    last_full_run: object  # the latest finished whole-chain VerificationRun, or None
    current_key: object = None  # the SigningKey that signs checkpoints now, or None
    signing_keys: list = field(default_factory=list)  # SigningKeys of the checkpoints fixing the period's events
    # The first signed checkpoint at or after the period's last event: it fixes every event of the period.
    # None: no signed checkpoint covers the period yet, and the period's events are proved only by the chain.
    covering_checkpoint: object = None
    scoped_events: int = 0  # events of the period that concern the report's scope
    whole_system: bool = True  # whether the report's scope is the whole system


def _covering_checkpoint(scope, first, last):
    """The first signed checkpoint that fixes every event of the period.

    A checkpoint's own record in the ledger is written after the head it signs, so the record of the period's last
    checkpoint is never fixed by it; records of signing are left out of what must be covered."""
    last_fact = (
        AuditEvent.objects.filter(seq__gte=first, seq__lte=last)
        .exclude(action=Action.LEDGER_CHECKPOINT)
        .aggregate(last=Max("seq"))["last"]
    )
    if last_fact is None:
        return None
    return Checkpoint.objects.filter(seq__gte=last_fact).order_by("seq").first()


def integrity(scope: ReportScope) -> Integrity:
    """The chain check of every event of the period, system-wide (the chain is one, whatever the report's scope)."""
    bounds = AuditEvent.objects.filter(scope.during("occurred_at")).aggregate(first=Min("seq"), last=Max("seq"))
    first, last = bounds["first"], bounds["last"]
    checkpoint = Checkpoint.objects.order_by("-seq").first()
    last_full_run = (
        VerificationRun.objects.filter(status__in=[VerificationRun.Status.PASSED, VerificationRun.Status.FAILED])
        .order_by("-finished_at")
        .first()
    )
    current_key = current_signing_key()
    whole = scope.whole_system
    if first is None:
        return Integrity(0, None, "", None, "", None, "", 0.0, checkpoint, last_full_run, current_key, whole_system=whole)
    result = verify_range(first, last)
    hashes = dict(AuditEvent.objects.filter(seq__in=[first, last]).values_list("seq", "hash"))
    scoped = (
        last - first + 1
        if whole
        else AuditEvent.objects.filter(scope.during("occurred_at"), reference__in=scope.requests().values("reference")).count()
    )
    return Integrity(
        events=last - first + 1,
        first_seq=first,
        first_hash=hashes.get(first, ""),
        last_seq=last,
        last_hash=hashes.get(last, ""),
        ok=result.ok,
        problem=str(result.problem) if result.problem else "",
        seconds=result.seconds,
        checkpoint=checkpoint,
        last_full_run=last_full_run,
        current_key=current_key,
        signing_keys=signing_keys_for_range(first, last),
        covering_checkpoint=_covering_checkpoint(scope, first, last),
        scoped_events=scoped,
        whole_system=whole,
    )


# Charts -------------------------------------------------------------------------------------

WEEK_SERIES = (
    ("approved", "Được phê duyệt", APPROVED_FAMILY),
    ("rejected", "Bị từ chối", (Status.REJECTED,)),
    ("ended", "Rút lại / hết hạn", (Status.WITHDRAWN, Status.EXPIRED)),
    ("open", "Đang xử lý", STILL_OPEN),
)


def weekly(scope: ReportScope, facts: list[RequestFact]) -> list[tuple[dt.date, dict[str, int]]]:
    """Requests filed per week (weeks start on Monday, local time), split by where they stood at the period's end."""
    series_of = {status: key for key, _label, statuses in WEEK_SERIES for status in statuses}
    keys = [key for key, _l, _s in WEEK_SERIES]
    weeks = {}
    for fact in facts:
        if not fact.filed:
            continue
        day = timezone.localtime(fact.first_filed_at).date()
        monday = day - dt.timedelta(days=day.weekday())
        bucket = weeks.setdefault(monday, dict.fromkeys(keys, 0))
        bucket[series_of.get(fact.state_at_end, "open")] += 1
    first = scope.date_from - dt.timedelta(days=scope.date_from.weekday())
    result, day = [], first
    while day <= scope.date_to:
        result.append((day, weeks.get(day, dict.fromkeys(keys, 0))))
        day += dt.timedelta(days=7)
    return result


CHART_TOP = 10  # bars a ranking chart names; the rest are summed in one "Khác" bar
OTHERS = "Khác"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    folded: int = 0  # the "Khác" bar: how many agencies or bases it sums


@dataclass(frozen=True)
class DeadlineBar:
    urgency: str  # the code: normal, urgent, emergency
    label: str  # in Vietnamese, as the pages say it
    on_time: int  # decided (approved or rejected) in the period at or before the deadline in force
    late: int  # decided after it


@dataclass
class Charts:
    """What the report's opening charts draw, each counted in the database: a row per month or week, agency, legal
    basis or urgency, however many requests and releases the period holds."""

    unit: str  # "month" or "week" (a period inside one month): the buckets of `timeline`
    timeline: list  # (first day of the month or Monday of the week, requests filed, releases handed over)
    by_agency: list  # Bars of requests filed, the most first, then "Khác"
    by_legal_basis: list  # Bars of requests filed, by the basis as last filed before the end
    deadlines: list  # DeadlineBars: normal, urgent, emergency


def _ranked(counts: dict[str, int], top: int = CHART_TOP) -> list[Bar]:
    """The `top` largest counts, then one "Khác" bar summing the rest (when there is a rest)."""
    ranked = sorted(((label, n) for label, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))
    bars = [Bar(label, n) for label, n in ranked[:top]]
    rest = ranked[top:]
    if rest:
        bars.append(Bar(OTHERS, sum(n for _label, n in rest), folded=len(rest)))
    return bars


def _bucketed(queryset, field_name: str, trunc) -> dict[dt.date, int]:
    """Rows of `queryset` counted per local month or week of `field_name`: one row per bucket comes back."""
    bucket = trunc(field_name, output_field=DateField(), tzinfo=timezone.get_default_timezone())
    return dict(
        queryset.order_by().annotate(bucket=bucket).values_list("bucket").annotate(n=Count("pk")).values_list("bucket", "n")
    )


def _timeline(scope: ReportScope) -> tuple[str, list[tuple[dt.date, int, int]]]:
    by_month = (scope.date_from.year, scope.date_from.month) != (scope.date_to.year, scope.date_to.month)
    trunc = TruncMonth if by_month else TruncWeek
    filed = _bucketed(scope.requests().filter(scope.during("first_submitted_at")), "first_submitted_at", trunc)
    released = _bucketed(_releases(scope), "created_at", trunc)
    day = scope.date_from.replace(day=1) if by_month else scope.date_from - dt.timedelta(days=scope.date_from.weekday())
    buckets = []
    while day <= scope.date_to:
        buckets.append((day, filed.get(day, 0), released.get(day, 0)))
        day = (day + dt.timedelta(days=31)).replace(day=1) if by_month else day + dt.timedelta(days=7)
    return ("month" if by_month else "week"), buckets


def _deadline_bars(scope: ReportScope) -> list[DeadlineBar]:
    """Approvals and rejections in the period, within or after the deadline in force at the decision, by urgency as
    last filed (the same requests and deadlines the turnaround figures count)."""
    decided = scope.requests().filter(
        scope.during("decided_at"), first_submitted_at__isnull=False, status__in=[*APPROVED_FAMILY, Status.REJECTED]
    )
    late = Q(due_at__isnull=False, decided_at__gt=F("due_at"))
    counted = collections.defaultdict(lambda: (0, 0))
    for urgency, total, n_late in (
        decided.order_by()
        .annotate(urgency_then=filed_as("urgency", scope.end))
        .values_list("urgency_then")
        .annotate(total=Count("pk"), late=Count("pk", filter=late))
        .values_list("urgency_then", "total", "late")
    ):
        counted[urgency] = (total - n_late, n_late)
    return [DeadlineBar(code, urgency_vi(code), *counted[code]) for code in Urgency.values]


def chart_data(scope: ReportScope) -> Charts:
    """The opening charts' figures: requests and releases per month (per week inside one month), requests filed by
    agency and by legal basis, and decisions within and after their deadline by urgency."""
    unit, timeline = _timeline(scope)
    filed = scope.requests().filter(scope.during("first_submitted_at")).order_by()
    agencies = dict(filed.values_list("agency__name_vi").annotate(n=Count("pk")).values_list("agency__name_vi", "n"))
    bases = dict(
        filed.annotate(basis_then=filed_as("legal_basis", scope.end))
        .values_list("basis_then")
        .annotate(n=Count("pk"))
        .values_list("basis_then", "n")
    )
    named = {
        pk: (code, title or code)
        for pk, code, title in LegalBasis.objects.filter(pk__in=list(bases)).values_list("pk", "code", "title_vi")
    }
    # A basis reads by its title; two bases under one title are told apart by their codes.
    shared = collections.Counter(title for _code, title in named.values())
    by_basis = {}
    for pk, n in bases.items():
        code, title = named[pk]
        label = f"{title} ({code})" if shared[title] > 1 else title
        by_basis[label] = by_basis.get(label, 0) + n
    return Charts(
        unit=unit,
        timeline=timeline,
        by_agency=_ranked(agencies),
        by_legal_basis=_ranked(by_basis),
        deadlines=_deadline_bars(scope),
    )


# Everything -----------------------------------------------------------------------------------


@dataclass
class ReportData:
    scope: ReportScope
    generated_at: dt.datetime
    summary: dict
    by_agency: list
    by_legal_basis: list
    by_urgency: list
    by_camera_area: list
    by_category: list
    turnaround: dict
    open_at_end: list
    register_size: int
    refusals: list
    ended: list
    narrowed: list
    holds: list
    activity: list
    patterns: dict
    integrity: Integrity
    weekly: list
    facts: list = field(default_factory=list, repr=False)
    register_rows: object = field(default=None, repr=False)  # a fresh iterator over the register when called
    charts: Charts | None = None  # the opening charts' figures

    @property
    def downloads(self) -> list[ActivityRow]:
        """Downloads and refused downloads in the period."""
        return [row for row in self.activity if row.action in DOWNLOAD_ACTIONS]


def collect(
    scope: ReportScope, *, now: dt.datetime | None = None, progress: Callable[[int, str], None] | None = None
) -> ReportData:
    """Every section but the register, which is read while it is written out (see `register`).

    Every figure is a function of the period and scope alone: what happened after the period's end
    never changes one. `now` is the build stamp, and the moment figures are counted up to while the period is
    still running (the report then says so)."""
    step = progress or (lambda percent, stage: None)
    now = now or timezone.now()
    if now < scope.period_end:
        scope = dataclasses.replace(scope, as_of=now)
    step(5, "summary")
    facts = request_facts(scope)
    data = {"facts": facts, "summary": summary(scope, facts)}
    data["by_agency"] = by_agency(facts)
    data["by_legal_basis"] = by_legal_basis(facts)
    data["by_urgency"] = by_urgency(facts)
    data["by_camera_area"] = by_camera_area(facts)
    data["by_category"] = by_category(scope, facts)
    step(12, "turnaround")
    data["turnaround"] = turnaround(scope, facts)
    data["open_at_end"] = open_at_end(scope, facts)
    data["refusals"] = refusals(scope)
    data["ended"] = ended(scope)
    data["narrowed"] = narrowed(scope)
    data["holds"] = holds(scope)
    data["activity"] = activity(scope)
    step(18, "patterns")
    data["patterns"] = patterns(scope)
    data["weekly"] = weekly(scope, facts)
    data["charts"] = chart_data(scope)
    step(24, "integrity")
    data["integrity"] = integrity(scope)
    return ReportData(
        scope=scope,
        generated_at=now,
        register_size=register_count(scope),
        register_rows=lambda: register(scope, downloads=downloads_counted(data["activity"])),
        **data,
    )


def _duration_vi(hours):
    """A duration given in hours in Vietnamese words ("22 giờ 30 phút"), whatever language is active."""
    with translation.override("vi"):
        return duration_text(hours * 3600)


def _vi(value):
    """One decimal, written the Vietnamese way (12,5)."""
    return f"{value:.1f}".replace(".", ",")
