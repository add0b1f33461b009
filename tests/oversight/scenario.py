"""November 2026 at a monitoring centre, played through the real workflow on a frozen clock, with a tally of every act.

`Month` files, reviews, decides, exports, hands over, holds and downloads through `requests.workflow`,
`requests.releases` and `requests.holds`, each act at the local moment it names, and writes down what it did:
when each request was filed, its deadline (from the basis's own hours), where it stood at every moment, who
signed, what was released and downloaded. Its `expected_*` methods say what the period report must state,
from that tally alone: they never read the fields the report reads.
"""

import copy
import datetime as dt
import math
import statistics
import zoneinfo
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import time_machine
from django.db import transaction
from django.test import TestCase

from audit.models import Action
from governance.models import Agency, AssignmentRule, Camera
from governance.services import regulation_publish
from requests import holds, releases, workflow
from requests.models import FootageRequest, ReleaseFile, Status
from requests.releases import DownloadRefused
from requests.sources.testpattern import write_segments
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    DistrictFactory,
    LegalBasisFactory,
    ProvinceFactory,
    RegulationVersionFactory,
    UserFactory,
    WardFactory,
    category,
)
from tests.requests.conftest import pdf_file

VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def local(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, year: int = 2026) -> dt.datetime:
    """A moment in Vietnam time."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM)


DATE_FROM, DATE_TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
START, END = local(11, 1), local(12, 1)
# Six two-second segments per camera from here: the windows of every request that is exported lie inside.
ORIGIN = local(10, 31, 21)
SEGMENTS, SEGMENT_SECONDS = 6, 2
FOOTAGE_CAMERAS = ("HB-001", "HB-002", "HD-001", "HBU-001")
WORKING_HOURS = (7, 18)
EXPIRY_DAYS = 14
PAPERWORK_HOURS = 72
SYSTEM = "hệ thống (tự động)"
EMERGENCY_HOLD_REASON = "Yêu cầu khẩn: dữ liệu được bảo toàn ngay khi gửi"


def footage(seconds_from: float, seconds_to: float) -> tuple[dt.datetime, dt.datetime]:
    """A window inside the recorded footage, in seconds from its start."""
    return ORIGIN + dt.timedelta(seconds=seconds_from), ORIGIN + dt.timedelta(seconds=seconds_to)


@dataclass(frozen=True)
class Basis:
    code: str
    title: str
    hours: dict  # urgency -> calendar hours to answer
    max_window_hours: int
    max_cameras: int
    categories: tuple
    case_required: bool = False


POLICE_BASIS = Basis(
    "CAND_YEU_CAU_TT",
    "Yêu cầu của cơ quan Công an về trật tự, an toàn xã hội",
    {"normal": 120, "urgent": 24, "emergency": 2},
    24,
    3,
    ("video", "still_image", "plate_events"),
)
CASE_BASIS = Basis(
    "TTHS_THU_THAP_CHUNG_CU",
    "Thu thập chứng cứ trong tố tụng hình sự",
    {"normal": 72, "urgent": 12, "emergency": 2},
    24,
    10,
    ("video",),
    case_required=True,
)
URGENCY_VI = {"normal": "Thường", "urgent": "Gấp", "emergency": "Khẩn"}  # the regulation's words: THƯỜNG, GẤP, KHẨN
STATE_VI = {"submitted": "Chờ xem xét", "in_review": "Đang xem xét", "needs_info": "Chờ bổ sung thông tin"}
APPROVED_FAMILY = {"approved", "exporting", "released", "closed", "export_failed", "damage_held"}
SENSITIVE = {"plate_events", "face_events"}


@dataclass(frozen=True)
class Item:
    camera: str
    area: str
    category: str
    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass
class Filing:
    at: dt.datetime
    due: dt.datetime
    items: list


@dataclass
class Tracked:
    """One request as the scenario handled it."""

    key: str
    reference: str
    agency: str
    agency_code: str
    basis: Basis
    urgency: str
    requester: object
    case_reference: str
    letter: bool
    items: list  # the scope now (as approved, when narrowed)
    filings: list = field(default_factory=list)
    states: list = field(default_factory=list)  # (moment, status) in the order the scenario moved it
    decided: tuple | None = None  # (moment, "approved" | "rejected" | "withdrawn" | "expired")
    released_at: dt.datetime | None = None
    custodian: str = ""
    signers: list = field(default_factory=list)  # (moment, person) on the content as it now stands
    recipients: list = field(default_factory=list)  # (moment, person) for each link issued
    downloads: list = field(default_factory=list)  # moments of downloads made
    info_asked_at: dt.datetime | None = None
    regions_blurred: int | None = None  # released as redacted copies: the regions the custodian drew

    @property
    def first_filed(self) -> dt.datetime | None:
        return self.filings[0].at if self.filings else None

    def filing_before(self, moment: dt.datetime) -> Filing | None:
        before = [f for f in self.filings if f.at < moment]
        return before[-1] if before else None

    def state_at(self, moment: dt.datetime) -> str:
        before = [status for at, status in self.states if at < moment]
        return before[-1] if before else ""

    def decided_before(self, moment: dt.datetime) -> bool:
        return self.decided is not None and self.decided[0] < moment


@dataclass
class Event:
    at: dt.datetime
    reference: str
    action: str
    who: str
    refused: bool = False
    detail: str = ""


@dataclass
class Hold:
    reference: str
    agency: str
    placed_at: dt.datetime
    placed_by: str
    reason: str
    segments: int
    lifted_at: dt.datetime | None = None
    lifted_by: str = ""


@dataclass
class Signature:
    at: dt.datetime
    reference: str
    agency: str
    urgency: str
    who: str


def person(user) -> str:
    return f"{user.last_name} {user.first_name} ({user.username})"


def in_period(moment: dt.datetime | None) -> bool:
    return moment is not None and START <= moment < END


def hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def nearest_rank(values: list, fraction: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def working_time(moment: dt.datetime) -> bool:
    """Monday to Friday, 7:00 to 18:00 Vietnam time: November 2026 has no public holiday in Vietnam."""
    moment = moment.astimezone(VIETNAM)
    return moment.weekday() < 5 and WORKING_HOURS[0] <= moment.hour < WORKING_HOURS[1]


class Month:
    """The centre's people, cameras and bases, the acts played so far and what they add up to."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: dict[str, Tracked] = {}
        self.events: list[Event] = []
        self.holds: list[Hold] = []
        self.signatures: list[Signature] = []
        self.refusals: list[tuple] = []
        self.ended: list[tuple] = []
        self.narrowings: list[tuple] = []
        with self.clock(local(10, 1, 9)):
            self._build_world()
        for code in FOOTAGE_CAMERAS:
            write_segments(root=root / "footage", camera=code, start=ORIGIN, count=SEGMENTS, seconds=SEGMENT_SECONDS)

    # The world -------------------------------------------------------------------------------------

    def _build_world(self):
        province = ProvinceFactory()
        district = DistrictFactory(parent=province, code="hoan-kiem", name_vi="Quận Hoàn Kiếm")
        self.area = {
            code: WardFactory(parent=district, code=code, name_vi=name)
            for code, name in (
                ("hang-bac", "Phường Hàng Bạc"),
                ("hang-dao", "Phường Hàng Đào"),
                ("hang-buom", "Phường Hàng Buồm"),
            )
        }
        self.agency_a = AgencyFactory(code="cap-hb", name_vi="Công an phường Hàng Bạc", area=self.area["hang-bac"])
        self.agency_b = AgencyFactory(code="cap-hd", name_vi="Công an phường Hàng Đào", area=self.area["hang-dao"])
        self.agency_c = AgencyFactory(
            code="csgt", name_vi="Phòng Cảnh sát giao thông", kind=Agency.Kind.TRAFFIC_POLICE, area=province
        )
        self.centre = AgencyFactory(
            code="ioc", name_vi="Trung tâm giám sát camera", kind=Agency.Kind.MONITORING_CENTRE, area=district
        )

        def user(username, last, first, agency, role):
            return UserFactory(username=username, last_name=last, first_name=first, agency=agency, roles=[role])

        self.alice = user("alice", "Phạm", "Thị Lan", self.agency_a, "requester")
        self.anh = user("anh", "Đỗ", "Văn Anh", self.agency_a, "requester")
        self.dung = user("dung", "Vũ", "Minh Dũng", self.agency_b, "requester")
        self.bao = user("bao", "Hoàng", "Quốc Bảo", self.agency_c, "requester")
        self.reviewer = user("thamdinh", "Ngô", "Thị Mai", self.centre, "reviewer")
        self.approver = user("pheduyet", "Trần", "Văn Bình", self.centre, "approver")
        self.approver2 = user("pheduyet2", "Lê", "Thị Hoa", self.centre, "approver")
        self.custodian = user("vanhanh", "Bùi", "Đức Long", self.centre, "custodian")

        self.bases = {}
        for basis in (POLICE_BASIS, CASE_BASIS):
            self.bases[basis.code] = LegalBasisFactory(
                code=basis.code,
                title_vi=basis.title,
                max_window_hours=basis.max_window_hours,
                max_cameras=basis.max_cameras,
                deadline_hours_normal=basis.hours["normal"],
                deadline_hours_urgent=basis.hours["urgent"],
                deadline_hours_emergency=basis.hours["emergency"],
                case_number_required=basis.case_required,
                case_number_label_vi="số quyết định khởi tố" if basis.case_required else "",
                categories=list(basis.categories),
            )
        version = RegulationVersionFactory()
        version.legal_bases.set(self.bases.values())
        for duty in (AssignmentRule.Duty.REVIEW, AssignmentRule.Duty.APPROVE, AssignmentRule.Duty.EXPORT):
            AssignmentRuleFactory(version=version, duty=duty, agency=self.centre, area=district)
        with transaction.atomic():
            regulation_publish(actor=None, version=version)

        self.cameras = {
            "HB-001": CameraFactory(code="HB-001", area=self.area["hang-bac"], managing_agency=self.centre),
            "HB-002": CameraFactory(
                code="HB-002",
                area=self.area["hang-bac"],
                managing_agency=self.centre,
                kind=Camera.Kind.ANPR,
                has_plate_events=True,
            ),
            "HD-001": CameraFactory(code="HD-001", area=self.area["hang-dao"], managing_agency=self.centre),
            "HBU-001": CameraFactory(code="HBU-001", area=self.area["hang-buom"], managing_agency=self.centre),
        }

    @contextmanager
    def clock(self, moment: dt.datetime):
        """Everything inside happens at `moment`, and what it leaves for after the commit (the export, the copy of held
        footage, e-mail) runs then too, as a worker would."""
        with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
            yield

    @contextmanager
    def tally_kept(self):
        """Acts played inside are forgotten by the tally afterwards, as the database forgets them when a test ends."""
        names = ("requests", "events", "holds", "signatures", "refusals", "ended", "narrowings")
        kept = {name: copy.deepcopy(getattr(self, name)) for name in names}
        try:
            yield
        finally:
            for name, value in kept.items():
                setattr(self, name, value)

    def item(self, camera: str, window: tuple, category_code: str = "video") -> Item:
        return Item(camera, self.cameras[camera].area.name_vi, category_code, *window)

    def _item_dicts(self, items):
        return [
            {"camera": self.cameras[i.camera], "start": i.start, "end": i.end, "data_category": category(i.category)}
            for i in items
        ]

    @property
    def requests_by_reference(self) -> dict[str, Tracked]:
        return {t.reference: t for t in self.requests.values()}

    def fr(self, key: str) -> FootageRequest:
        return FootageRequest.objects.get(reference=self.requests[key].reference)

    def _event(self, at, t, action, who, **kwargs):
        self.events.append(Event(at, t.reference, action, who, **kwargs))

    @staticmethod
    def _segments(items) -> int:
        """How many recorded segments the windows touch: what a legal hold copies."""
        count = 0
        for i in items:
            if i.camera not in FOOTAGE_CAMERAS:
                continue
            for n in range(SEGMENTS):
                start = ORIGIN + dt.timedelta(seconds=n * SEGMENT_SECONDS)
                if start < i.end and start + dt.timedelta(seconds=SEGMENT_SECONDS) > i.start:
                    count += 1
        return count

    # Acts ---------------------------------------------------------------------------------------------

    def _fields(self, basis, urgency, case, at):
        return {
            "legal_basis": self.bases[basis.code],
            "letter_number": "123/CV",
            "letter_date": at.date(),
            "case_reference": case,
            "purpose": "Xác minh vụ việc",
            "urgency": urgency,
        }

    def file(
        self,
        key: str,
        *,
        by,
        at: dt.datetime,
        items: list[Item],
        basis: Basis = POLICE_BASIS,
        urgency: str = "normal",
        case: str = "",
        letter: bool = True,
    ) -> Tracked:
        """File a request: drafted, the letter attached (not for an emergency without one) and submitted at once."""
        with self.clock(at):
            footage_request = workflow.request_file(
                actor=by,
                items=self._item_dicts(items),
                letter=pdf_file() if letter else None,
                submit=True,
                **self._fields(basis, urgency, case, at),
            )
        t = Tracked(key, footage_request.reference, by.agency.name_vi, by.agency.code, basis, urgency, by, case, letter, items)
        t.filings.append(Filing(at, at + dt.timedelta(hours=basis.hours[urgency]), list(items)))
        t.states += [(at, "draft"), (at, "submitted")]
        self.requests[key] = t
        self._event(at, t, Action.REQUEST_SUBMIT, person(by))
        if urgency == "emergency":
            self._hold(t, at, SYSTEM, EMERGENCY_HOLD_REASON)
        return t

    def draft(self, key: str, *, by, at: dt.datetime, items: list[Item], basis: Basis = POLICE_BASIS) -> Tracked:
        with self.clock(at):
            footage_request = workflow.request_file(
                actor=by, items=self._item_dicts(items), letter=pdf_file(), **self._fields(basis, "normal", "", at)
            )
        t = Tracked(key, footage_request.reference, by.agency.name_vi, by.agency.code, basis, "normal", by, "", True, items)
        t.states.append((at, "draft"))
        self.requests[key] = t
        return t

    def review(self, key: str, *, at: dt.datetime, recommend: bool = True, reason: str = "Đủ căn cứ") -> None:
        t = self.requests[key]
        with self.clock(at):
            workflow.request_review(
                actor=self.reviewer, footage_request=self.fr(key), recommend_approval=recommend, reason=reason
            )
        t.states.append((at, "in_review"))
        self._event(at, t, Action.REQUEST_REVIEW, person(self.reviewer))

    def ask_info(self, key: str, *, at: dt.datetime, by=None, question: str = "Đề nghị bổ sung thông tin") -> None:
        t, by = self.requests[key], by or self.reviewer
        with self.clock(at):
            workflow.request_ask_info(actor=by, footage_request=self.fr(key), question=question)
        t.states.append((at, "needs_info"))
        t.info_asked_at = at
        self._event(at, t, Action.REQUEST_ASK_INFO, person(by))

    def resubmit(self, key: str, *, at: dt.datetime, by=None, items: list | None = None) -> None:
        t = self.requests[key]
        by = by or t.requester
        items = items or t.items
        with self.clock(at):
            workflow.request_file(
                actor=by,
                footage_request=self.fr(key),
                items=self._item_dicts(items),
                submit=True,
                **self._fields(t.basis, t.urgency, t.case_reference, at),
            )
        t.items = list(items)
        t.signers = []  # a change voids earlier signatures; there are none here to void
        t.filings.append(Filing(at, at + dt.timedelta(hours=t.basis.hours[t.urgency]), list(items)))
        t.states.append((at, "submitted"))
        self._event(at, t, Action.REQUEST_SUBMIT, person(by))

    def approve(self, key: str, *, at: dt.datetime, by, narrow: dict | None = None, reason: str = "Đồng ý") -> None:
        """Sign; `narrow` maps a camera code to the shorter window approved for it."""
        t = self.requests[key]
        with self.clock(at):
            footage_request = self.fr(key)
            cut = {}
            for camera, window in (narrow or {}).items():
                cut[footage_request.items.get(camera__code=camera).pk] = window
            workflow.request_approve(actor=by, footage_request=footage_request, reason=reason, narrow=cut or None)
        if narrow:
            requested = [(i.camera, i.start, i.end) for i in t.filing_before(at).items]
            t.items = [self.item(i.camera, narrow.get(i.camera, (i.start, i.end)), i.category) for i in t.items]
            approved = [(i.camera, i.start, i.end) for i in t.items]
            self.narrowings.append((at, t.reference, t.agency, person(by), sorted(requested), sorted(approved)))
        t.signers.append((at, person(by)))
        self.signatures.append(Signature(at, t.reference, t.agency, t.urgency, person(by)))
        self._event(at, t, Action.REQUEST_APPROVE, person(by))
        needed = 2 if any(i.category in SENSITIVE for i in t.items) else 1
        if len({who for _at, who in t.signers}) >= needed:
            t.decided = (at, "approved")
            t.states.append((at, "approved"))
        assert self.fr(key).status == t.state_at(at + dt.timedelta(seconds=1))

    def reject(self, key: str, *, at: dt.datetime, by, reason: str) -> None:
        t = self.requests[key]
        with self.clock(at):
            workflow.request_reject(actor=by, footage_request=self.fr(key), reason=reason)
        t.decided = (at, "rejected")
        t.states.append((at, "rejected"))
        self.refusals.append((t.reference, at, t.agency, t.basis.code, person(by), self.centre.name_vi, reason))
        self._event(at, t, Action.REQUEST_REJECT, person(by))

    def withdraw(self, key: str, *, at: dt.datetime, by=None, reason: str = "") -> None:
        t = self.requests[key]
        by = by or t.requester
        filed = bool(t.filings)
        with self.clock(at):
            workflow.request_withdraw(actor=by, footage_request=self.fr(key), reason=reason)
        t.decided = (at, "withdrawn")
        t.states.append((at, "withdrawn"))
        if filed:
            self.ended.append((t.reference, t.agency, t.basis.code, "Rút lại", t.first_filed, at, person(by), reason))
        self._event(at, t, Action.REQUEST_WITHDRAW, person(by))

    def expire_stale(self, *, at: dt.datetime) -> list[Tracked]:
        """The daily sweep: requests whose question went unanswered for EXPIRY_DAYS expire."""
        due = [
            t
            for t in self.requests.values()
            if t.state_at(at) == "needs_info" and t.info_asked_at < at - dt.timedelta(days=EXPIRY_DAYS)
        ]
        with self.clock(at):
            assert workflow.request_expire_stale(now=at) == len(due)
        for t in sorted(due, key=lambda t: t.reference):
            t.decided = (at, "expired")
            t.states.append((at, "expired"))
            self.ended.append(
                (t.reference, t.agency, t.basis.code, "Hết hạn (không bổ sung thông tin)", t.first_filed, at, SYSTEM, "")
            )
            self._event(at, t, Action.REQUEST_EXPIRE, SYSTEM)
        return due

    def export(self, key: str, *, at: dt.datetime, redact: bool = False) -> None:
        """A custodian starts the export; the worker cuts the footage, packs it and releases it at once.

        With `redact`, the custodian first requires redacted copies, draws one region (kept in place) on the first
        clip and reviews it: the release hands over redacted copies, one region blurred."""
        t = self.requests[key]
        if redact:
            from requests import redactions

            footage_request = self.fr(key)
            item = next(
                i
                for i in footage_request.items.select_related("camera").order_by("camera__code", "start", "pk")
                if i.camera.code in FOOTAGE_CAMERAS
            )
            with self.clock(at):
                redactions.redaction_require(actor=self.custodian, footage_request=footage_request, reason="Che biển số xe")
                redactions.redaction_region_add(
                    actor=self.custodian,
                    footage_request=footage_request,
                    item=item,
                    label="plate",
                    at=0.0,
                    box=(4, 146, 100, 20),
                    track=False,
                )
                redactions.redaction_review(actor=self.custodian, footage_request=footage_request)
            for action in (Action.REDACTION_REQUIRE, Action.REDACTION_REGION_ADD, Action.REDACTION_REVIEW):
                self._event(at, t, action, person(self.custodian))
            t.regions_blurred = 1
        with self.clock(at):
            workflow.request_export_start(actor=self.custodian, footage_request=self.fr(key))
        assert self.fr(key).status == Status.RELEASED
        t.released_at = at
        t.custodian = person(self.custodian)
        t.states += [(at, "exporting"), (at, "released")]
        self._event(at, t, Action.REQUEST_EXPORT_START, person(self.custodian))
        self._event(at, t, Action.RELEASE_CREATE, SYSTEM)

    def link(self, key: str, *, at: dt.datetime, user) -> str:
        t = self.requests[key]
        with self.clock(at):
            _grant, token = releases.release_link_issue(actor=user, footage_request=self.fr(key))
        t.recipients.append((at, person(user)))
        self._event(at, t, Action.RELEASE_LINK, person(user))
        return token

    def video_name(self, key: str) -> str:
        return self.fr(key).release.files.filter(kind=ReleaseFile.Kind.VIDEO).order_by("name").first().name

    def download(self, key: str, *, at: dt.datetime, user, token: str, file_name: str | None = None) -> None:
        t = self.requests[key]
        with self.clock(at):
            releases.release_download_open(actor=user, token=token, file_name=file_name)
        t.downloads.append(at)
        self._event(at, t, Action.RELEASE_DOWNLOAD, person(user), detail=file_name or "package")

    def download_refused(self, key: str, *, at: dt.datetime, user, token: str, reason: str) -> None:
        t = self.requests[key]
        with self.clock(at):
            try:
                releases.release_download_open(actor=user, token=token)
            except DownloadRefused as refusal:
                assert refusal.reason == reason
            else:
                raise AssertionError("the download was not refused")
        action = Action.RELEASE_LINK_EXPIRED if reason == "expired" else Action.RELEASE_DOWNLOAD_REFUSED
        self._event(at, t, action, person(user), refused=True, detail=reason)

    def _hold(self, t, at, by, reason):
        self.holds.append(Hold(t.reference, t.agency, at, by, reason, self._segments(t.items)))
        self._event(at, t, Action.HOLD_PLACE, by)

    def hold(self, key: str, *, at: dt.datetime, reason: str) -> None:
        t = self.requests[key]
        with self.clock(at):
            holds.hold_place(actor=self.custodian, footage_request=self.fr(key), reason=reason)
        self._hold(t, at, person(self.custodian), reason)

    def lift(self, key: str, *, at: dt.datetime) -> None:
        t = self.requests[key]
        with self.clock(at):
            holds.hold_release(actor=self.custodian, footage_request=self.fr(key), reason="Hết thời hạn lưu giữ")
        (hold,) = [h for h in self.holds if h.reference == t.reference and h.lifted_at is None]
        hold.lifted_at, hold.lifted_by = at, person(self.custodian)
        self._event(at, t, Action.HOLD_RELEASE, person(self.custodian))

    def close(self, key: str, *, at: dt.datetime, by=None) -> None:
        t = self.requests[key]
        by = by or t.requester
        with self.clock(at):
            workflow.request_close(actor=by, footage_request=self.fr(key))
        t.states.append((at, "closed"))
        self._event(at, t, Action.REQUEST_CLOSE, person(by))

    # What the report must say, from the tally -------------------------------------------------------------

    def filed(self, t: Tracked) -> bool:
        return in_period(t.first_filed)

    def outcome(self, t: Tracked) -> str:
        if t.decided and in_period(t.decided[0]) and t.first_filed is not None:
            return t.decided[1]
        return ""

    def released(self, t: Tracked) -> bool:
        return in_period(t.released_at)

    def counts(self, t: Tracked) -> dict:
        outcome = self.outcome(t)
        return {
            "filed": int(self.filed(t)),
            "approved": int(outcome == "approved"),
            "rejected": int(outcome == "rejected"),
            "withdrawn": int(outcome == "withdrawn"),
            "expired": int(outcome == "expired"),
            "released": int(self.released(t)),
        }

    def open_at_end(self, t: Tracked) -> bool:
        return t.first_filed is not None and t.first_filed < END and not t.decided_before(END)

    def due_at_end(self, t: Tracked) -> dt.datetime | None:
        """The deadline in force at the period's end, or at the decision."""
        moment = t.decided[0] if t.decided_before(END) else END
        filing = t.filing_before(moment + dt.timedelta(microseconds=1))
        return filing.due if filing else None

    def overdue_at_end(self, t: Tracked) -> bool:
        return self.open_at_end(t) and t.state_at(END) in ("submitted", "in_review") and self.due_at_end(t) < END

    def late(self, t: Tracked) -> float | None:
        """Hours by which a deadline was missed in the period, or None."""
        if self.outcome(t) in ("approved", "rejected"):
            due = self.due_at_end(t)
            return hours(due, t.decided[0]) if t.decided[0] > due else None
        if self.overdue_at_end(t) and self.due_at_end(t) >= START:
            return hours(self.due_at_end(t), END)
        return None

    def narrowed_in_period(self, t: Tracked) -> bool:
        return any(reference == t.reference and in_period(at) for at, reference, *_rest in self.narrowings)

    def in_report(self) -> list[Tracked]:
        """Every request a figure of the period speaks of."""
        return [
            t
            for t in self.requests.values()
            if self.filed(t) or self.outcome(t) or self.released(t) or self.open_at_end(t) or self.narrowed_in_period(t)
        ]

    def areas_filed(self, t: Tracked) -> set:
        return {i.area for f in t.filings if f.at < END for i in f.items}

    def expected_summary(self) -> dict:
        totals = Counter()
        for t in self.in_report():
            totals.update(self.counts(t))
        released = [t for t in self.in_report() if self.released(t)]
        return {
            **{key: totals[key] for key in ("filed", "approved", "rejected", "withdrawn", "expired", "released")},
            "footage_hours": sum(i.hours for t in released for i in t.items),
            "cameras": len({i.camera for t in released for i in t.items}),
            "open_at_end": sum(self.open_at_end(t) and t.state_at(END) in STATE_VI for t in self.in_report()),
            "overdue_at_end": sum(self.overdue_at_end(t) for t in self.in_report()),
            "late": sum(self.late(t) is not None for t in self.in_report()),
            "narrowed": sum(self.narrowed_in_period(t) for t in self.in_report()),
            # Nobody came to the counter in November; one release was handed over as redacted copies.
            "subject_requests": 0,
            "redacted_releases": sum(1 for t in released if t.regions_blurred is not None),
            "redacted_hours": sum(i.hours for t in released if t.regions_blurred is not None for i in t.items),
            "regions_blurred": sum(t.regions_blurred or 0 for t in released),
        }

    def expected_breakdown(self, labels_of: Callable[[Tracked], list]) -> dict:
        rows = {}
        for t in self.in_report():
            counts = self.counts(t)
            if not any(counts.values()):
                continue
            for label in labels_of(t):
                row = rows.setdefault(label, Counter())
                row.update(counts)
        return {label: {key: row[key] for key in self.counts(t)} for label, row in rows.items()}

    def expected_by_agency(self) -> dict:
        return self.expected_breakdown(lambda t: [t.agency])

    def expected_by_basis(self) -> dict:
        return self.expected_breakdown(lambda t: [f"{t.basis.code} — {t.basis.title}"])

    def expected_by_urgency(self) -> dict:
        return self.expected_breakdown(lambda t: [URGENCY_VI[t.urgency]])

    def expected_by_camera_area(self) -> dict:
        return self.expected_breakdown(lambda t: sorted(self.areas_filed(t)))

    def expected_by_category(self) -> dict:
        """category name -> (requests filed with it, items first filed, items released, hours released)."""
        names = {code: category(code).name_vi for code in ("video", "still_image", "plate_events")}
        rows = {}
        for t in self.in_report():
            if self.filed(t):
                first = t.filings[0].items
                for code in {i.category for i in first}:
                    rows.setdefault(names[code], [0, 0, 0, 0.0])[0] += 1
                for i in first:
                    rows[names[i.category]][1] += 1
            if self.released(t):
                for i in t.items:
                    row = rows.setdefault(names[i.category], [0, 0, 0, 0.0])
                    row[2] += 1
                    row[3] += i.hours
        return {name: tuple(row) for name, row in rows.items()}

    def expected_weekly(self) -> dict:
        weeks = {}
        monday = DATE_FROM - dt.timedelta(days=DATE_FROM.weekday())
        while monday <= DATE_TO:
            weeks[monday] = {"approved": 0, "rejected": 0, "ended": 0, "open": 0}
            monday += dt.timedelta(days=7)
        for t in self.in_report():
            if not self.filed(t):
                continue
            day = t.first_filed.astimezone(VIETNAM).date()
            state = t.state_at(END)
            series = (
                "approved"
                if state in APPROVED_FAMILY
                else "rejected"
                if state == "rejected"
                else "ended"
                if state in ("withdrawn", "expired")
                else "open"
            )
            weeks[day - dt.timedelta(days=day.weekday())][series] += 1
        return weeks

    def expected_turnaround(self) -> dict:
        decisions = [hours(t.first_filed, t.decided[0]) for t in self.in_report() if self.outcome(t) in ("approved", "rejected")]
        to_release = [hours(t.first_filed, t.released_at) for t in self.in_report() if self.released(t)]
        return {
            "decisions": len(decisions),
            "decision_median": statistics.median(decisions) if decisions else None,
            "decision_p90": nearest_rank(decisions, 0.9),
            "releases": len(to_release),
            "release_median": statistics.median(to_release) if to_release else None,
            "release_p90": nearest_rank(to_release, 0.9),
        }

    def expected_late(self) -> list[tuple]:
        """(reference, first filed, due, decided or None, hours late), by due time."""
        rows = []
        for t in self.in_report():
            late = self.late(t)
            if late is None:
                continue
            decided = t.decided[0] if t.decided_before(END) else None
            rows.append((t.reference, t.first_filed, self.due_at_end(t), decided, late))
        return sorted(rows, key=lambda r: (r[2], r[0]))

    def expected_open_at_end(self) -> list[tuple]:
        """(reference, state in Vietnamese, first filed, due, hours overdue or None), most overdue first."""
        rows = [
            (
                t.reference,
                STATE_VI[t.state_at(END)],
                t.first_filed,
                self.due_at_end(t),
                hours(self.due_at_end(t), END) if self.overdue_at_end(t) else None,
            )
            for t in self.in_report()
            if self.open_at_end(t) and t.state_at(END) in STATE_VI
        ]
        return sorted(rows, key=lambda r: (r[4] is None, -(r[4] or 0), r[2], r[0]))

    def expected_register(self) -> list[dict]:
        rows = []
        for t in sorted((t for t in self.in_report() if self.released(t)), key=lambda t: t.released_at):
            rows.append(
                {
                    "reference": t.reference,
                    "released_at": t.released_at,
                    "agency": t.agency,
                    "legal_basis": t.basis.code,
                    "case_reference": t.case_reference,
                    "approvers": list(dict.fromkeys(who for _at, who in sorted(t.signers))),
                    "custodian": t.custodian,
                    "recipients": list(dict.fromkeys(who for at, who in t.recipients if at < END)),
                    "downloads": sum(at < END for at in t.downloads),
                    "windows": sorted((i.camera, i.start, i.end) for i in t.items),
                }
            )
        return rows

    def expected_refusals(self) -> list[tuple]:
        return sorted((r for r in self.refusals if in_period(r[1])), key=lambda r: r[1])

    def expected_ended(self) -> list[tuple]:
        return sorted((r for r in self.ended if in_period(r[5])), key=lambda r: r[5])

    def expected_narrowed(self) -> list[tuple]:
        return sorted((n for n in self.narrowings if in_period(n[0])), key=lambda n: n[0])

    def expected_holds(self) -> list[tuple]:
        """(reference, agency, placed at, by, reason, segments, lifted at or None, lifted by) as the period's end saw them."""
        rows = []
        for h in sorted(self.holds, key=lambda h: h.placed_at):
            in_force = h.placed_at < END and (h.lifted_at is None or h.lifted_at >= END)
            if not (in_period(h.placed_at) or in_period(h.lifted_at) or in_force):
                continue
            lifted = h.lifted_at is not None and h.lifted_at < END
            rows.append(
                (
                    h.reference,
                    h.agency,
                    h.placed_at,
                    h.placed_by,
                    h.reason,
                    h.segments,
                    h.lifted_at if lifted else None,
                    h.lifted_by if lifted else "",
                )
            )
        return rows

    def expected_activity(self) -> Counter:
        return Counter((e.at, e.reference, e.action, e.who, e.refused) for e in self.events if in_period(e.at))

    def expected_downloads(self) -> list[tuple]:
        kinds = (Action.RELEASE_DOWNLOAD, Action.RELEASE_DOWNLOAD_REFUSED, Action.RELEASE_LINK_EXPIRED)
        return [
            (e.at, e.reference, e.action, e.who, e.refused, e.detail)
            for e in self.events
            if in_period(e.at) and e.action in kinds
        ]

    def expected_after_hours(self) -> list[tuple]:
        """(subject, reference): approvals signed, and releases made, outside working time."""
        found = [
            (s.who, s.reference)
            for s in sorted(self.signatures, key=lambda s: s.at)
            if in_period(s.at) and not working_time(s.at)
        ]
        for t in sorted(self.requests.values(), key=lambda t: t.released_at or END):
            if self.released(t) and not working_time(t.released_at):
                found.append((t.agency, t.reference))
        return found

    def expected_volume(self) -> list[str]:
        """Agencies that filed at least 5 requests, over twice their average of the 4 periods of 30 days before."""
        baseline_from = START - 4 * dt.timedelta(days=(END - START).days)
        found = []
        for agency in sorted({t.agency for t in self.requests.values()}):
            mine = [t for t in self.requests.values() if t.agency == agency and t.first_filed]
            filed = sum(in_period(t.first_filed) for t in mine)
            usual = sum(baseline_from <= t.first_filed < START for t in mine) / 4
            if filed >= 5 and filed > 2 * usual:
                found.append(agency)
        return found

    def expected_paperwork(self) -> list[str]:
        grace = dt.timedelta(hours=PAPERWORK_HOURS)
        return [
            t.reference
            for t in sorted(self.requests.values(), key=lambda t: t.first_filed or END)
            if self.filed(t) and t.urgency == "emergency" and not t.letter and t.first_filed <= END - grace
        ]

    def expected_near_limit(self) -> list[str]:
        found = []
        for t in sorted(self.requests.values(), key=lambda t: t.reference):
            if not self.filed(t):
                continue
            items = [i for f in t.filings if f.at < END for i in f.items]
            longest = max(i.hours for i in items)
            cameras = len({i.camera for i in items})
            if longest >= 0.9 * t.basis.max_window_hours or cameras >= 0.9 * t.basis.max_cameras:
                found.append(t.reference)
        return found

    def expected_one_approver(self) -> list[str]:
        found = []
        for agency in sorted({s.agency for s in self.signatures}):
            signed = [s for s in self.signatures if s.agency == agency and in_period(s.at)]
            total = len({s.reference for s in signed})
            by_signer = Counter()
            for who in {s.who for s in signed}:
                by_signer[who] = len({s.reference for s in signed if s.who == who})
            if total >= 5 and max(by_signer.values()) / total > 0.8:
                found.append(agency)
        return found


# November ------------------------------------------------------------------------------------------------

HB1, HB2, HD1, HBU1 = FOOTAGE_CAMERAS


def play_november(m: Month) -> None:
    """The month in the order it happened, with what came just before it and in the first days after it.

    Acts are played in time order: the ledger's order is the clock's."""
    case = CASE_BASIS

    # October: one left in review past its deadline, one decided in November, one filed a minute before midnight.
    m.file(
        "oct_overdue",
        by=m.alice,
        at=local(10, 28, 10),
        urgency="urgent",
        items=[m.item(HB1, (local(10, 27, 20), local(10, 27, 22)))],
    )
    m.review("oct_overdue", at=local(10, 28, 15))
    m.file(
        "oct_then_approved",
        by=m.bao,
        at=local(10, 30, 14),
        basis=case,
        case="101/QĐ-KTHS",
        items=[m.item(HBU1, (local(10, 29, 8), local(10, 29, 9)))],
    )
    m.review("oct_then_approved", at=local(10, 31, 9))
    m.file("oct_last_minute", by=m.dung, at=local(10, 31, 23, 59), items=[m.item(HD1, (local(10, 31, 10), local(10, 31, 11)))])

    # From Sunday 1 November: filed a minute after midnight, approved that Sunday, released on Monday.
    m.file("first_minute", by=m.alice, at=local(11, 1, 0, 1), items=[m.item(HB1, footage(3, 7))])
    m.review("first_minute", at=local(11, 1, 8))
    m.approve("first_minute", at=local(11, 1, 10), by=m.approver)
    m.export("first_minute", at=local(11, 2, 9))
    m.approve("oct_then_approved", at=local(11, 2, 9), by=m.approver)
    m.file("expired", by=m.dung, at=local(11, 2, 9, 30), items=[m.item(HD1, (local(11, 1, 10), local(11, 1, 11)))])
    m.review("oct_last_minute", at=local(11, 2, 10), recommend=False, reason="Thiếu căn cứ")
    token = m.link("first_minute", at=local(11, 3, 8), user=m.alice)
    m.download("first_minute", at=local(11, 3, 8, 5), user=m.alice, token=token)
    m.download("first_minute", at=local(11, 3, 8, 10), user=m.alice, token=token, file_name=m.video_name("first_minute"))
    m.ask_info("expired", at=local(11, 3, 9), question="Đề nghị bổ sung công văn có chữ ký")
    m.reject("oct_last_minute", at=local(11, 3, 10), by=m.approver, reason="Không đủ căn cứ: thiếu số quyết định")
    m.file("approved_waiting", by=m.dung, at=local(11, 3, 10, 30), items=[m.item(HD1, footage(2, 8))])
    m.review("approved_waiting", at=local(11, 3, 14))
    token_anh = m.link("first_minute", at=local(11, 4, 9), user=m.anh)
    m.download("first_minute", at=local(11, 4, 9, 1), user=m.anh, token=token_anh)
    m.download_refused("first_minute", at=local(11, 4, 9, 5), user=m.anh, token=token, reason="someone else's link")
    m.approve("approved_waiting", at=local(11, 4, 10), by=m.approver2)
    # Asked for information, answered with a wider scope, approved in time for the new deadline (not the first).
    m.file("resubmitted", by=m.anh, at=local(11, 4, 10, 30), items=[m.item(HB1, footage(1, 5))])
    m.ask_info("resubmitted", at=local(11, 5, 10), question="Bổ sung số công văn gốc")
    # Plate events need two signatures: two approvers of the centre sign at night.
    m.file(
        "two_approvers",
        by=m.bao,
        at=local(11, 5, 22, 30),
        urgency="urgent",
        items=[m.item(HB2, footage(2, 6), "plate_events"), m.item(HBU1, footage(4, 10))],
    )
    m.review("two_approvers", at=local(11, 5, 23))
    m.approve("two_approvers", at=local(11, 5, 23, 10), by=m.approver)
    m.approve("two_approvers", at=local(11, 5, 23, 20), by=m.approver2)
    m.export("two_approvers", at=local(11, 6, 8))
    token_bao = m.link("two_approvers", at=local(11, 6, 9), user=m.bao)
    m.download("two_approvers", at=local(11, 6, 9, 5), user=m.bao, token=token_bao)
    m.resubmit("resubmitted", at=local(11, 6, 10), items=[m.item(HB1, footage(1, 5)), m.item(HB2, footage(6, 10), "still_image")])
    m.review("resubmitted", at=local(11, 6, 14))
    m.file(
        "quick", by=m.dung, at=local(11, 6, 14, 30), urgency="urgent", items=[m.item(HD1, (local(11, 5, 19), local(11, 5, 20)))]
    )
    m.review("quick", at=local(11, 6, 15))
    m.approve("quick", at=local(11, 6, 16), by=m.approver)
    # An emergency on a Sunday night, without its letter: preserved on submission, approved within the hour.
    m.file(
        "emergency",
        by=m.bao,
        at=local(11, 8, 3),
        urgency="emergency",
        letter=False,
        items=[m.item(HB1, footage(1, 5)), m.item(HD1, footage(1, 5))],
    )
    m.review("emergency", at=local(11, 8, 3, 30))
    m.approve("emergency", at=local(11, 8, 4), by=m.approver2)

    # From Monday 9 November.
    m.file("withdrawn", by=m.alice, at=local(11, 9, 9), items=[m.item(HB1, (local(11, 8, 10), local(11, 8, 11)))])
    m.file("narrowed", by=m.dung, at=local(11, 10, 9), basis=case, case="45/QĐ-KTHS", items=[m.item(HD1, footage(1, 11))])
    m.review("narrowed", at=local(11, 10, 10))
    m.approve("resubmitted", at=local(11, 10, 10, 30), by=m.approver)
    m.withdraw("withdrawn", at=local(11, 10, 16), reason="Đã có dữ liệu khác")
    m.export("resubmitted", at=local(11, 11, 10), redact=True)
    m.approve("narrowed", at=local(11, 11, 14), by=m.approver2, narrow={HD1: footage(3, 9)})
    m.draft("draft_withdrawn", by=m.alice, at=local(11, 12, 9), items=[m.item(HB1, (local(11, 11, 9), local(11, 11, 10)))])
    m.export("narrowed", at=local(11, 12, 10))
    m.withdraw("draft_withdrawn", at=local(11, 12, 10, 30))
    token_dung = m.link("narrowed", at=local(11, 12, 11), user=m.dung)
    m.download("narrowed", at=local(11, 12, 11, 5), user=m.dung, token=token_dung)
    token_anh2 = m.link("resubmitted", at=local(11, 12, 15), user=m.anh)
    m.download("resubmitted", at=local(11, 12, 15, 2), user=m.anh, token=token_anh2)
    m.file(
        "next_morning",
        by=m.bao,
        at=local(11, 12, 16),
        urgency="urgent",
        items=[m.item(HBU1, (local(11, 12, 7), local(11, 12, 8)))],
    )
    m.review("next_morning", at=local(11, 12, 17))
    m.approve("next_morning", at=local(11, 13, 8), by=m.approver)
    m.file(
        "due_to_the_minute",
        by=m.alice,
        at=local(11, 13, 9),
        basis=case,
        case="12/QĐ-KTHS",
        items=[m.item(HB1, (local(11, 12, 18), local(11, 12, 19)))],
    )
    m.review("due_to_the_minute", at=local(11, 13, 10))
    m.hold("narrowed", at=local(11, 13, 10, 30), reason="Phục vụ điều tra vụ án 45/QĐ-KTHS")
    m.draft("draft_kept", by=m.bao, at=local(11, 14, 9), items=[m.item(HBU1, (local(11, 13, 9), local(11, 13, 10)))])

    # From Monday 16 November: a decision six hours late, a link used after it expired, a question left unanswered.
    m.approve("due_to_the_minute", at=local(11, 16, 9), by=m.approver2)  # exactly at its deadline: in time
    m.file("decided_late", by=m.alice, at=local(11, 16, 9), urgency="urgent", items=[m.item(HB1, footage(6, 12))])
    m.download_refused("narrowed", at=local(11, 16, 12), user=m.dung, token=token_dung, reason="expired")
    m.review("decided_late", at=local(11, 17, 8))
    m.expire_stale(at=local(11, 17, 10))
    m.file("rejected", by=m.bao, at=local(11, 17, 11), items=[m.item(HBU1, (local(11, 16, 9), local(11, 16, 10)))])
    m.review("rejected", at=local(11, 17, 14), recommend=False, reason="Ngoài thẩm quyền")
    m.approve("decided_late", at=local(11, 17, 15), by=m.approver)
    m.export("decided_late", at=local(11, 18, 10))
    m.reject("rejected", at=local(11, 18, 10, 30), by=m.approver2, reason="Không thuộc thẩm quyền")
    m.file(
        "rejected_late",
        by=m.bao,
        at=local(11, 19, 8),
        basis=case,
        urgency="urgent",
        case="77/QĐ-KTHS",
        items=[m.item(HBU1, (local(11, 18, 20), local(11, 18, 22)))],
    )
    m.review("rejected_late", at=local(11, 19, 9))
    m.reject("rejected_late", at=local(11, 20, 9), by=m.approver2, reason="Phạm vi không liên quan đến vụ án")
    m.file("near_limit", by=m.bao, at=local(11, 20, 10), items=[m.item(HB1, (local(11, 19), local(11, 19, 23)))])
    m.lift("narrowed", at=local(11, 20, 10, 30))
    m.review("near_limit", at=local(11, 20, 14))
    m.file(
        "emergency_with_letter",
        by=m.anh,
        at=local(11, 21, 22),
        urgency="emergency",
        items=[m.item(HB1, (local(11, 21, 20), local(11, 21, 21)))],
    )
    m.review("emergency_with_letter", at=local(11, 21, 22, 10))
    m.approve("emergency_with_letter", at=local(11, 21, 22, 30), by=m.approver)

    # From Monday 23 November: what is still open when the month ends.
    m.file(
        "withdrawn_in_review",
        by=m.dung,
        at=local(11, 23, 10),
        basis=case,
        urgency="urgent",
        case="81/QĐ-KTHS",
        items=[m.item(HD1, (local(11, 22, 18), local(11, 22, 20)))],
    )
    m.review("withdrawn_in_review", at=local(11, 23, 11))
    m.withdraw("withdrawn_in_review", at=local(11, 23, 12), reason="Vụ việc đã được giải quyết")
    m.file("needs_info_open", by=m.bao, at=local(11, 24, 9), items=[m.item(HD1, (local(11, 23, 8), local(11, 23, 9)))])
    m.file("approved_late_month", by=m.dung, at=local(11, 24, 10), items=[m.item(HD1, (local(11, 23, 14), local(11, 23, 15)))])
    m.reject("near_limit", at=local(11, 24, 11), by=m.approver, reason="Khoảng thời gian quá rộng")
    m.review("approved_late_month", at=local(11, 24, 14))
    m.ask_info("needs_info_open", at=local(11, 25, 9), by=m.approver, question="Làm rõ mục đích sử dụng")
    m.approve("approved_late_month", at=local(11, 25, 10), by=m.approver2)
    m.hold("decided_late", at=local(11, 25, 10, 30), reason="Lưu giữ theo đề nghị của Viện kiểm sát")
    m.file(
        "open_review_overdue",
        by=m.alice,
        at=local(11, 26, 10),
        basis=case,
        case="90/QĐ-KTHS",
        items=[m.item(HB1, (local(11, 25, 7), local(11, 25, 8, 30)))],
    )
    m.review("open_review_overdue", at=local(11, 26, 15))
    m.file("open_submitted", by=m.bao, at=local(11, 27, 15), items=[m.item(HBU1, (local(11, 26, 12), local(11, 26, 13)))])
    m.file(
        "late_decided_after",
        by=m.dung,
        at=local(11, 28, 9),
        urgency="urgent",
        items=[m.item(HD1, (local(11, 27, 20), local(11, 27, 21)))],
    )
    m.review("late_decided_after", at=local(11, 28, 10))

    # The last day: filed in the morning and asked for information; filed a minute before midnight.
    m.file("last_day_info", by=m.alice, at=local(11, 30, 9), items=[m.item(HB1, (local(11, 29, 14), local(11, 29, 15)))])
    m.ask_info("last_day_info", at=local(11, 30, 15), question="Bổ sung biên bản vụ việc")
    m.file("last_minute", by=m.dung, at=local(11, 30, 23, 59), items=[m.item(HD1, (local(11, 30, 10), local(11, 30, 11)))])

    # After the period: none of it may change the November report.
    m.file("after_end", by=m.bao, at=local(12, 1, 0, 1), items=[m.item(HBU1, (local(11, 30, 8), local(11, 30, 9)))])
    m.close("first_minute", at=local(12, 2, 8))
    token_late = m.link("first_minute", at=local(12, 2, 8, 30), user=m.alice)
    m.download("first_minute", at=local(12, 2, 8, 31), user=m.alice, token=token_late)
    m.resubmit("last_day_info", at=local(12, 2, 9))
    m.approve("late_decided_after", at=local(12, 2, 9, 10), by=m.approver)
    m.lift("decided_late", at=local(12, 2, 9, 20))
    m.export("approved_waiting", at=local(12, 2, 10))
    m.expire_stale(at=local(12, 2, 11))


def play_more_after_the_period(m: Month) -> None:
    """Early December, more of it: a request that fell due in November decided, downloads, a hold lifted, a question
    answered, a new filing, a receipt confirmed, an open request withdrawn and an old one rejected."""
    m.approve("open_review_overdue", at=local(12, 3, 10), by=m.approver)
    token = m.link("two_approvers", at=local(12, 3, 11), user=m.bao)
    m.download("two_approvers", at=local(12, 3, 11, 5), user=m.bao, token=token)
    m.lift("emergency", at=local(12, 3, 12))
    m.resubmit("needs_info_open", at=local(12, 3, 13))
    m.file("december", by=m.dung, at=local(12, 3, 14), items=[m.item(HD1, (local(12, 2, 8), local(12, 2, 9)))])
    m.close("two_approvers", at=local(12, 3, 15))
    m.withdraw("open_submitted", at=local(12, 3, 16), reason="Không còn cần thiết")
    m.reject("oct_overdue", at=local(12, 3, 17), by=m.approver2, reason="Quá thời hạn xử lý")


def settings_for(root: Path) -> dict:
    """The settings the month is played under: its own folders, and every rule it counts with stated here."""
    return {
        "MEDIA_ROOT": root / "media",
        "FOOTAGE_ROOT": root / "footage",
        "FOOTAGE_LAYOUT": "frigate",
        "FOOTAGE_CAMERAS": {},
        "EXPORT_ROOT": root / "exports",
        "LEGAL_HOLD_ROOT": root / "holds",
        "EXPORT_ON_DAMAGE": "release",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "REQUEST_INFO_EXPIRY_DAYS": EXPIRY_DAYS,
        "WORKING_HOURS": WORKING_HOURS,
        "EMERGENCY_PAPERWORK_HOURS": PAPERWORK_HOURS,
        "RELEASE_LINK_HOURS": 72,
        "RELEASE_MAX_DOWNLOADS": 5,
        "REPORT_VOLUME_FACTOR": 2.0,
        "REPORT_VOLUME_MIN": 5,
        "REPORT_BASELINE_PERIODS": 4,
        "REPORT_APPROVER_SHARE": 0.8,
        "REPORT_APPROVER_MIN": 5,
        "REPORT_NEAR_LIMIT": 0.9,
    }
