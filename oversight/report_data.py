"""What an oversight report states, computed from the requests, releases and ledger of one period and scope.

Everything here reads; nothing writes. Figures are counted in the database
where they are sums, and in Python only where a list is needed anyway (the
register, the lists of late or unusual requests). The register is read in
chunks so that memory and time grow with the number of releases, not faster.
"""

import datetime as dt
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from audit.ledger_check import verify_range
from audit.models import AuditEvent, Checkpoint, VerificationRun
from audit.selectors import current_signing_key, signing_keys_for_range
from governance import calendar
from governance.models import Agency, DataCategory, LegalBasis, display_name
from governance.selectors import agencies_within
from governance.timefmt import local_time
from requests.models import (
    Attachment,
    Decision,
    DownloadGrant,
    FootageRequest,
    Release,
    ReleaseFile,
    RequestItem,
    Status,
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

    @property
    def start(self) -> dt.datetime:
        return _local_midnight(self.date_from)

    @property
    def end(self) -> dt.datetime:
        return _local_midnight(self.date_to + dt.timedelta(days=1))

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
            qs = qs.filter(legal_basis=self.legal_basis)
        return qs

    def during(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lt": self.end})


def _local_midnight(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())


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


# Summary and breakdowns --------------------------------------------------------


def _measures(scope):
    # A draft can be withdrawn too; never filed, it is no outcome of the period.
    decided = scope.during("decided_at") & Q(submitted_at__isnull=False)
    return {
        "filed": Count("pk", filter=scope.during("submitted_at")),
        "approved": Count("pk", filter=decided & Q(status__in=APPROVED_FAMILY)),
        "rejected": Count("pk", filter=decided & Q(status=Status.REJECTED)),
        "withdrawn": Count("pk", filter=decided & Q(status=Status.WITHDRAWN)),
        "expired": Count("pk", filter=decided & Q(status=Status.EXPIRED)),
        "released": Count("pk", filter=scope.during("release__created_at") & ~Q(status=Status.DAMAGE_HELD)),
    }


def _active(scope):
    """Requests something happened to in the period: filed, decided or released."""
    return scope.requests().filter(
        scope.during("submitted_at") | scope.during("decided_at") | scope.during("release__created_at")
    )


@dataclass
class Breakdown:
    label: str
    counts: dict


def _breakdown(scope, key, label_of):
    rows = _active(scope).values(key).annotate(**_measures(scope)).order_by(key)
    breakdowns = [Breakdown(label_of(row[key]), {name: row[name] for name in OUTCOMES}) for row in rows]
    return sorted(breakdowns, key=lambda b: (-b.counts["filed"], -sum(b.counts.values()), b.label))


def summary(scope: ReportScope) -> dict:
    counts = _active(scope).aggregate(**_measures(scope))
    released_items = RequestItem.objects.filter(
        footage_request__in=scope.requests().filter(scope.during("release__created_at"))
    ).values_list("camera_id", "start", "end")
    cameras, hours = set(), 0.0
    for camera_id, start, end in released_items:
        cameras.add(camera_id)
        hours += hours_between(start, end)
    return {**counts, "footage_hours": hours, "cameras": len(cameras)}


def by_agency(scope: ReportScope) -> list[Breakdown]:
    names = dict(Agency.objects.values_list("pk", "name_vi"))
    return _breakdown(scope, "agency_id", lambda pk: names.get(pk, "?"))


def by_legal_basis(scope: ReportScope) -> list[Breakdown]:
    names = {pk: f"{code} — {title}" for pk, code, title in LegalBasis.objects.values_list("pk", "code", "title_vi")}
    return _breakdown(scope, "legal_basis_id", lambda pk: names.get(pk, "?"))


URGENCY_VI = {Urgency.NORMAL: "Thường", Urgency.URGENT: "Khẩn", Urgency.EMERGENCY: "Khẩn cấp"}


def by_urgency(scope: ReportScope) -> list[Breakdown]:
    order = list(URGENCY_VI)
    rows = _breakdown(scope, "urgency", lambda code: URGENCY_VI.get(code, code))
    labels = [URGENCY_VI[code] for code in order]
    return sorted(rows, key=lambda b: labels.index(b.label) if b.label in labels else len(labels))


@dataclass
class CategoryRow:
    label: str
    requests_filed: int
    items_filed: int
    released_items: int
    released_hours: float


def by_category(scope: ReportScope) -> list[CategoryRow]:
    names = dict(DataCategory.objects.values_list("pk", "name_vi"))
    filed = (
        RequestItem.objects.filter(footage_request__in=scope.requests().filter(scope.during("submitted_at")))
        .values("data_category_id")
        .annotate(requests=Count("footage_request_id", distinct=True), items=Count("pk"))
    )
    rows = {row["data_category_id"]: [row["requests"], row["items"], 0, 0.0] for row in filed}
    released = RequestItem.objects.filter(
        footage_request__in=scope.requests().filter(scope.during("release__created_at"))
    ).values_list("data_category_id", "start", "end")
    for category_id, start, end in released:
        row = rows.setdefault(category_id, [0, 0, 0, 0.0])
        row[2] += 1
        row[3] += hours_between(start, end)
    return sorted(
        (CategoryRow(names.get(pk, "?"), *values) for pk, values in rows.items()), key=lambda r: (-r.requests_filed, r.label)
    )


# Turnaround and deadlines -------------------------------------------------------------


@dataclass
class LateRow:
    reference: str
    agency: str
    legal_basis: str
    urgency: str
    submitted_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None  # None: still waiting
    hours_late: float


def _late(reference, agency, basis, urgency, submitted_at, due_at, decided_at, counted_until):
    label = URGENCY_VI.get(urgency, urgency)
    return LateRow(reference, agency, basis, label, submitted_at, due_at, decided_at, hours_between(due_at, counted_until))


def turnaround(scope: ReportScope, *, now: dt.datetime | None = None) -> dict:
    """Hours from submission to decision and to release (median, p90), and every deadline missed in the period."""
    now = now or timezone.now()
    decided = (
        scope.requests()
        .filter(scope.during("decided_at"), status__in=(*APPROVED_FAMILY, Status.REJECTED), submitted_at__isnull=False)
        .values_list("reference", "agency__name_vi", "legal_basis__code", "urgency", "submitted_at", "due_at", "decided_at")
    )
    to_decision, late = [], []
    for reference, agency, basis, urgency, submitted_at, due_at, decided_at in decided:
        to_decision.append(hours_between(submitted_at, decided_at))
        if due_at and decided_at > due_at:
            late.append(_late(reference, agency, basis, urgency, submitted_at, due_at, decided_at, decided_at))
    horizon = min(scope.end, now)
    waiting = (
        scope.requests()
        .filter(status__in=AWAITING_DECISION, due_at__gte=scope.start, due_at__lt=horizon)
        .values_list("reference", "agency__name_vi", "legal_basis__code", "urgency", "submitted_at", "due_at")
    )
    for reference, agency, basis, urgency, submitted_at, due_at in waiting:
        late.append(_late(reference, agency, basis, urgency, submitted_at, due_at, None, horizon))
    late.sort(key=lambda row: (row.due_at, row.reference))
    released = (
        _handed_over()
        .filter(scope.during("created_at"), footage_request__in=scope.requests(), footage_request__submitted_at__isnull=False)
        .values_list("footage_request__submitted_at", "created_at")
    )
    to_release = [hours_between(submitted_at, created_at) for submitted_at, created_at in released]
    return {
        "decisions": len(to_decision),
        "decision_median": median(to_decision),
        "decision_p90": percentile(to_decision, 0.9),
        "releases": len(to_release),
        "release_median": median(to_release),
        "release_p90": percentile(to_release, 0.9),
        "late": late,
    }


# The release register ------------------------------------------------------------------


@dataclass
class RegisterRow:
    reference: str
    released_at: dt.datetime
    agency: str
    legal_basis: str
    case_reference: str
    approvers: list
    windows: list  # (camera code, start, end)
    files: list  # (kind, name, sha256): the video files, then manifest, hand-over record and package
    downloads: int
    spans: dict = field(default_factory=dict)  # video file name -> (camera code, first timestamp, last timestamp)

    @property
    def videos(self) -> list[tuple[str, str]]:
        return [(name, sha256) for kind, name, sha256 in self.files if kind == ReleaseFile.Kind.VIDEO]

    @property
    def package_sha256(self) -> str:
        return next((sha256 for kind, _name, sha256 in self.files if kind == ReleaseFile.Kind.PACKAGE), "")


def register_count(scope: ReportScope) -> int:
    return _releases(scope).count()


def _handed_over():
    """Releases whose footage was handed over: not those held for damage a custodian has yet to acknowledge."""
    return Release.objects.exclude(footage_request__status=Status.DAMAGE_HELD)


def _releases(scope):
    return _handed_over().filter(scope.during("created_at"), footage_request__in=scope.requests())


def register(scope: ReportScope, *, chunk: int = REGISTER_CHUNK) -> Iterator[RegisterRow]:
    """One row per release in the period, oldest first, read `chunk` releases at a time."""
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
            )
        )
        downloads = dict(
            DownloadGrant.objects.filter(release_id__in=part)
            .values_list("release_id")
            .annotate(n=Sum("downloads"))
            .values_list("release_id", "n")
        )
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
            approvers.setdefault(request_id, []).append(display_name(last, first, username))
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
        for release_id, released_at, request_id, reference, agency, basis, case_reference in releases:
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
                downloads=downloads.get(release_id) or 0,
            )


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
        RefusalRow(reference, at, agency, basis, display_name(last, first, username), official_agency, reason)
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
    "paperwork": "Yêu cầu khẩn cấp chưa bổ sung công văn sau thời hạn",
    "near_limit": "Yêu cầu sát giới hạn của căn cứ pháp lý",
}


def _volume_findings(scope):
    length = dt.timedelta(days=scope.days)
    periods = settings.REPORT_BASELINE_PERIODS
    before = scope.requests().filter(submitted_at__gte=scope.start - periods * length, submitted_at__lt=scope.start)
    baseline = dict(before.values_list("agency_id").annotate(n=Count("pk")).values_list("agency_id", "n"))
    current = (
        scope.requests()
        .filter(scope.during("submitted_at"))
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
        .values_list(
            "created_at",
            "footage_request__reference",
            "footage_request__urgency",
            "actor__last_name",
            "actor__first_name",
            "actor__username",
        )
    )
    for at, reference, urgency, last, first, username in approvals:
        if not calendar.is_working_time(at):
            who = display_name(last, first, username)
            findings.append(
                Finding("after_hours", who, f"phê duyệt lúc {local_time(at)} ({URGENCY_VI.get(urgency, urgency)})", reference)
            )
    releases = (
        _releases(scope)
        .order_by("created_at", "id")
        .values_list("created_at", "footage_request__reference", "footage_request__urgency", "footage_request__agency__name_vi")
    )
    for at, reference, urgency, agency in releases:
        if not calendar.is_working_time(at):
            findings.append(
                Finding(
                    "after_hours",
                    agency,
                    f"dữ liệu cung cấp lúc {local_time(at)} ({URGENCY_VI.get(urgency, urgency)})",
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
        per_agency.setdefault((agency_id, agency), []).append((n, display_name(last, first, username)))
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


def _paperwork_findings(scope, now):
    grace = dt.timedelta(hours=settings.EMERGENCY_PAPERWORK_HOURS)
    letters = Attachment.objects.filter(footage_request=OuterRef("pk"), kind=Attachment.Kind.OFFICIAL_LETTER)
    missing = (
        scope.requests()
        .filter(scope.during("submitted_at"), urgency=Urgency.EMERGENCY, submitted_at__lt=now - grace)
        .exclude(Exists(letters))
        .order_by("submitted_at", "id")
        .values_list("reference", "agency__name_vi", "submitted_at")
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
    share = settings.REPORT_NEAR_LIMIT
    filed = scope.requests().filter(scope.during("submitted_at"))
    limits = {
        pk: (reference, agency, max_hours, max_cameras)
        for pk, reference, agency, max_hours, max_cameras in filed.values_list(
            "pk", "reference", "agency__name_vi", "legal_basis__max_window_hours", "legal_basis__max_cameras"
        )
    }
    longest, cameras = {}, {}
    for request_id, camera_id, start, end in RequestItem.objects.filter(footage_request__in=filed).values_list(
        "footage_request_id", "camera_id", "start", "end"
    ):
        longest[request_id] = max(longest.get(request_id, 0.0), hours_between(start, end))
        cameras.setdefault(request_id, set()).add(camera_id)
    findings = []
    for pk, (reference, agency, max_hours, max_cameras) in sorted(limits.items(), key=lambda kv: kv[1][0]):
        notes = []
        if max_hours and longest.get(pk, 0) >= share * max_hours:
            notes.append(f"khoảng dài nhất {_vi(longest[pk])}/{max_hours} giờ")
        if max_cameras and len(cameras.get(pk, ())) >= share * max_cameras:
            notes.append(f"{len(cameras[pk])}/{max_cameras} camera")
        if notes:
            findings.append(Finding("near_limit", agency, "; ".join(notes), reference))
    return findings


def patterns(scope: ReportScope, *, now: dt.datetime | None = None) -> dict[str, list[Finding]]:
    now = now or timezone.now()
    return {
        "volume": _volume_findings(scope),
        "after_hours": _after_hours_findings(scope),
        "one_approver": _one_approver_findings(scope),
        "paperwork": _paperwork_findings(scope, now),
        "near_limit": _near_limit_findings(scope),
    }


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
    checkpoint: object  # the latest signed Checkpoint, or None
    last_full_run: object  # the latest finished whole-chain VerificationRun, or None
    current_key: object = None  # the SigningKey that signs checkpoints now, or None
    signing_keys: list = field(default_factory=list)  # SigningKeys of the checkpoints fixing the period's events


def integrity(scope: ReportScope) -> Integrity:
    bounds = AuditEvent.objects.filter(scope.during("occurred_at")).aggregate(first=Min("seq"), last=Max("seq"))
    first, last = bounds["first"], bounds["last"]
    checkpoint = Checkpoint.objects.order_by("-seq").first()
    last_full_run = (
        VerificationRun.objects.filter(status__in=[VerificationRun.Status.PASSED, VerificationRun.Status.FAILED])
        .order_by("-finished_at")
        .first()
    )
    current_key = current_signing_key()
    if first is None:
        return Integrity(0, None, "", None, "", None, "", 0.0, checkpoint, last_full_run, current_key)
    result = verify_range(first, last)
    hashes = dict(AuditEvent.objects.filter(seq__in=[first, last]).values_list("seq", "hash"))
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
    )


# Charts -------------------------------------------------------------------------------------

WEEK_SERIES = (
    ("approved", "Được phê duyệt", APPROVED_FAMILY),
    ("rejected", "Bị từ chối", (Status.REJECTED,)),
    ("ended", "Rút lại / hết hạn", (Status.WITHDRAWN, Status.EXPIRED)),
    ("open", "Đang xử lý", STILL_OPEN),
)


def weekly(scope: ReportScope) -> list[tuple[dt.date, dict[str, int]]]:
    """Requests filed per week (weeks start on Monday, local time), split by where they stand now."""
    rows = (
        scope.requests()
        .filter(scope.during("submitted_at"))
        .annotate(week=TruncWeek("submitted_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values_list("week", "status")
        .annotate(n=Count("pk"))
        .values_list("week", "status", "n")
    )
    series_of = {status: key for key, _label, statuses in WEEK_SERIES for status in statuses}
    weeks = {}
    for week, status, n in rows:
        day = week.date() if isinstance(week, dt.datetime) else week
        bucket = weeks.setdefault(day, dict.fromkeys((key for key, _l, _s in WEEK_SERIES), 0))
        bucket[series_of.get(status, "open")] += n
    first = scope.date_from - dt.timedelta(days=scope.date_from.weekday())
    result, day = [], first
    while day <= scope.date_to:
        result.append((day, weeks.get(day, dict.fromkeys((key for key, _l, _s in WEEK_SERIES), 0))))
        day += dt.timedelta(days=7)
    return result


# Everything -----------------------------------------------------------------------------------


@dataclass
class ReportData:
    scope: ReportScope
    generated_at: dt.datetime
    summary: dict
    by_agency: list
    by_legal_basis: list
    by_urgency: list
    by_category: list
    turnaround: dict
    register_size: int
    refusals: list
    patterns: dict
    integrity: Integrity
    weekly: list
    register_rows: object = field(default=None, repr=False)  # a fresh iterator over the register when called


def collect(
    scope: ReportScope, *, now: dt.datetime | None = None, progress: Callable[[int, str], None] | None = None
) -> ReportData:
    """Every section but the register, which is read while it is written out (see `register`)."""
    now = now or timezone.now()
    step = progress or (lambda percent, stage: None)
    step(5, "summary")
    data = {"summary": summary(scope)}
    data["by_agency"] = by_agency(scope)
    data["by_legal_basis"] = by_legal_basis(scope)
    data["by_urgency"] = by_urgency(scope)
    data["by_category"] = by_category(scope)
    step(12, "turnaround")
    data["turnaround"] = turnaround(scope, now=now)
    data["refusals"] = refusals(scope)
    step(18, "patterns")
    data["patterns"] = patterns(scope, now=now)
    data["weekly"] = weekly(scope)
    step(24, "integrity")
    data["integrity"] = integrity(scope)
    return ReportData(
        scope=scope,
        generated_at=now,
        register_size=register_count(scope),
        register_rows=lambda: register(scope),
        **data,
    )


def _vi(value):
    """One decimal, written the Vietnamese way (12,5)."""
    return f"{value:.1f}".replace(".", ",")
