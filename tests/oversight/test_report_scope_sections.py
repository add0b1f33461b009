"""The period report's sections keep to the report's scope, and say the same of a period however much later it is built.

Scope: an auditor of Hàng Bạc, and reports narrowed to ward police A, to Hàng Bạc or to A's legal basis, list
nothing of the traffic police (B) in any section, CSV member or PDF page — not even of B's requests for cameras
that stand in Hàng Bạc. Period: what happens after the period's end (a damaged release acknowledged, a hold lifted,
links revoked, a filing changed, a letter attached) leaves every CSV member as it was.
"""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from governance.models import Agency
from oversight.report_csv import write_report_csv
from oversight.report_data import ReportScope, collect
from oversight.report_pdf import render_period_report
from oversight.reports import report_request
from requests import holds, releases, services, workflow
from requests.models import FootageRequest, Status
from requests.releases import DownloadRefused
from tests.factories import AgencyFactory, UserFactory, category
from tests.pdf import pdf_text
from tests.requests.conftest import pdf_file, world  # noqa: F401 - the workflow's fixture world
from tests.requests.footage import export as run_export
from tests.requests.footage import footage, segment_bank  # noqa: F401 - fixtures
from tests.requests.test_decode_check import damage_payload

pytestmark = pytest.mark.django_db


# A week of local days that starts the day after tomorrow: every act is played on a frozen clock inside it, after
# the world was made, and the clock only moves forward.


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone())


@dataclass(frozen=True)
class Week:
    first: dt.date

    def at(self, day: int, hour: int, minute: int = 0) -> dt.datetime:
        """Day `day` (0 to 6) of the week at `hour`:`minute`, local time; day 7 is the first day after it."""
        return local(self.first + dt.timedelta(days=day), hour, minute)

    def scope(self, **narrowed) -> ReportScope:
        return ReportScope(date_from=self.first, date_to=self.first + dt.timedelta(days=6), **narrowed)

    @property
    def built(self) -> dt.datetime:
        """When the report is first built: an hour after the period ended."""
        return self.at(7, 1)


@pytest.fixture
def week(settings, tmp_path):
    """The week, with thresholds low enough that every unusual pattern shows in a handful of requests."""
    settings.REPORT_ROOT = tmp_path / "reports"
    settings.EMERGENCY_PAPERWORK_HOURS = 24
    settings.REQUEST_INFO_EXPIRY_DAYS = 1
    settings.REPORT_VOLUME_MIN = 2
    settings.REPORT_APPROVER_MIN = 1
    settings.REPORT_APPROVER_SHARE = 0.5
    settings.REPORT_NEAR_LIMIT = 0.9
    return Week(timezone.localdate() + dt.timedelta(days=2))


@contextmanager
def clock(moment: dt.datetime):
    with time_machine.travel(moment, tick=False):
        yield


def video(camera, start, end, code="video"):
    return {"camera": camera, "start": start, "end": end, "data_category": category(code)}


def csv_zip(data) -> bytes:
    out = io.BytesIO()
    write_report_csv(data, out, code="BC-THU")
    return out.getvalue()


def members(payload: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}


def pdf_words(payload: bytes) -> str:
    """The PDF's text, its lines joined by single spaces."""
    return " ".join(unicodedata.normalize("NFC", "\n".join(pdf_text(payload)[0])).split())


def pdf_bytes(data) -> bytes:
    out = io.BytesIO()
    render_period_report(data, out, code="BC-THU", author="Thanh tra")
    return out.getvalue()


# Scope ------------------------------------------------------------------------------------------------------------


@dataclass
class Side:
    """One requesting agency's week: the officer who files, the basis and what was filed."""

    officer: object
    basis: object
    case: str
    tag: str  # put in every reason typed for this side, to find it wherever it is printed
    released: FootageRequest = None
    rejected: FootageRequest = None
    withdrawn: FootageRequest = None
    expired: FootageRequest = None
    overdue: FootageRequest = None
    emergency: FootageRequest = None

    @property
    def requests(self) -> list[FootageRequest]:
        return [self.released, self.rejected, self.withdrawn, self.expired, self.overdue, self.emergency]

    @property
    def references(self) -> set[str]:
        return {r.reference for r in self.requests}

    def fields(self, **more) -> dict:
        return {"actor": self.officer, "basis": self.basis, "case_reference": self.case, **more}


def play_week(world, footage, capture, week, sides):
    """The same week for every side, each act a few minutes apart: a request narrowed at night, released, downloaded,
    its link revoked and a download refused, held and let go; one rejected, one withdrawn, one expired unanswered,
    one urgent and near its basis's window limit left overdue, one emergency without its letter (held on filing)."""
    for n, side in enumerate(sides):
        with clock(week.at(1, 8, 10 * n)):
            side.released = world.submitted(items=[video(world.camera, footage.at(3), footage.at(9))], **side.fields())
            side.rejected = world.submitted(**side.fields())
            side.withdrawn = world.submitted(**side.fields())
            side.expired = world.submitted(**side.fields())
            side.overdue = world.submitted(items=world.items(hours=23), **side.fields(urgency="urgent"))
            side.emergency = world.draft(attach=False, **side.fields(urgency="emergency"))
            workflow.request_submit(actor=side.officer, footage_request=side.emergency)
    for n, side in enumerate(sides):
        with clock(week.at(1, 10, 10 * n)):
            for footage_request in (side.released, side.rejected):
                workflow.request_review(
                    actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ căn cứ"
                )
            workflow.request_reject(actor=world.approver, footage_request=side.rejected, reason=f"Thiếu căn cứ {side.tag}")
            workflow.request_withdraw(actor=side.officer, footage_request=side.withdrawn, reason=f"Không cần nữa {side.tag}")
            workflow.request_ask_info(actor=world.reviewer, footage_request=side.expired, question=f"Bổ sung {side.tag}")
    for n, side in enumerate(sides):
        with clock(week.at(1, 21, 10 * n)):  # after working hours
            (item,) = side.released.items.all()
            workflow.request_approve(
                actor=world.approver,
                footage_request=side.released,
                reason=f"Đồng ý một phần {side.tag}",
                narrow={item.pk: (footage.at(3), footage.at(7))},
            )
    for n, side in enumerate(sides):
        with clock(week.at(2, 9, 10 * n)):
            side.released = run_export(world, side.released, capture)
            assert side.released.status == Status.RELEASED
            _grant, token = releases.release_link_issue(actor=side.officer, footage_request=side.released)
            releases.release_download_open(actor=side.officer, token=token)
        with clock(week.at(2, 10, 10 * n)):
            releases.release_revoke(actor=world.custodian, footage_request=side.released, reason=f"Thu hồi {side.tag}")
            with pytest.raises(DownloadRefused):
                releases.release_download_open(actor=side.officer, token=token)
            with capture(execute=True):
                holds.hold_place(actor=world.custodian, footage_request=side.released, reason=f"Lưu giữ {side.tag}")
    for n, side in enumerate(sides):
        with clock(week.at(3, 9, 10 * n)):
            holds.hold_release(actor=world.custodian, footage_request=side.released, reason=f"Hết hạn {side.tag}")
    with clock(week.at(3, 11)):
        assert workflow.request_expire_stale() == len(sides)
    for side in sides:
        for footage_request in side.requests:
            footage_request.refresh_from_db()


@pytest.fixture
def two_agencies(world, footage, django_capture_on_commit_callbacks, week):
    """Ward police A and the traffic police B play the same week; B's requests ask for Hàng Bạc's cameras too, under the
    criminal-procedure basis, filed by an officer whose name and account appear nowhere else."""
    trinh = UserFactory(
        username="csgt.khang", last_name="Trịnh", first_name="Văn Khang", agency=world.agency_b, roles=["requester"]
    )
    a = Side(world.insider, world.basis, "", "[phía A]")
    b = Side(trinh, world.case_basis, "45/QĐ-CSĐT", "[phía B]")
    play_week(world, footage, django_capture_on_commit_callbacks, week, [a, b])
    assert {r.agency_id for r in b.requests} == {world.agency_b.pk}
    assert all(item.camera.area == world.ward for r in b.requests for item in r.items.all())
    return a, b


def markers_of(world, side) -> list[str]:
    """Everything that names B or its requests."""
    officer = side.officer
    return [
        *side.references,
        officer.username,
        f"{officer.last_name} {officer.first_name}",
        world.agency_b.name_vi,
        world.agency_b.code,
        side.basis.code,
        side.case,
        side.tag,
    ]


def section_references(data) -> dict[str, set[str]]:
    """The requests each section of the report lists, by section."""
    return {
        "facts": {f.reference for f in data.facts},
        "open_at_end": {r.reference for r in data.open_at_end},
        "late": {r.reference for r in data.turnaround["late"]},
        "register": {r.reference for r in data.register_rows()},
        "refusals": {r.reference for r in data.refusals},
        "ended": {r.reference for r in data.ended},
        "narrowed": {r.reference for r in data.narrowed},
        "holds": {r.reference for r in data.holds},
        "activity": {r.reference for r in data.activity},
        "downloads": {r.reference for r in data.downloads},
        **{f"pattern:{kind}": {f.reference for f in findings if f.reference} for kind, findings in data.patterns.items()},
    }


def expected_sections(side) -> dict[str, set[str]]:
    """What each section lists of one side's week."""
    return {
        "facts": side.references,
        "open_at_end": {side.overdue.reference, side.emergency.reference},
        "late": {side.overdue.reference, side.emergency.reference},
        "register": {side.released.reference},
        "refusals": {side.rejected.reference},
        "ended": {side.withdrawn.reference, side.expired.reference},
        "narrowed": {side.released.reference},
        "holds": {side.released.reference, side.emergency.reference},
        "activity": side.references,
        "downloads": {side.released.reference},
        "pattern:volume": set(),
        "pattern:after_hours": {side.released.reference},
        "pattern:one_approver": set(),
        "pattern:paperwork": {side.emergency.reference},
        "pattern:near_limit": {side.overdue.reference},
    }


def assert_only_a(world, week, data, zip_payload, pdf_payload, a, b):
    # Every section lists A's requests, and only A's.
    assert section_references(data) == expected_sections(a)
    assert {f.subject for f in data.patterns["volume"]} == {world.agency_a.name_vi}
    assert {f.subject for f in data.patterns["one_approver"]} == {world.agency_a.name_vi}
    # Both sides asked for Hàng Bạc's cameras: the ward counts A's requests alone.
    assert [(row.label, row.counts["filed"], row.counts["released"]) for row in data.by_camera_area] == [
        ("Phường Hàng Bạc", 6, 1)
    ]
    assert [row.label for row in data.by_agency] == [world.agency_a.name_vi]
    scope = data.scope
    a_events = AuditEvent.objects.filter(
        occurred_at__gte=scope.start, occurred_at__lt=scope.end, reference__in=a.references
    ).count()
    assert data.integrity.scoped_events == a_events
    assert data.integrity.events > a_events  # the chain is checked whole, B's events with it

    # Nothing of B in any CSV member, nor in the PDF; A's requests are there, so a name would be found if printed.
    tables = members(zip_payload)
    facts = list(csv.DictReader(io.StringIO(tables["14_yeu_cau_theo_chi_so.csv"])))
    assert {row["so_yeu_cau"] for row in facts} == a.references
    integrity = dict(csv.reader(io.StringIO(tables["13_toan_ven_nhat_ky.csv"])))
    assert integrity["so_su_kien_thuoc_pham_vi_bao_cao"] == str(a_events)
    for name, text in tables.items():
        for marker in markers_of(world, b):
            assert marker not in text, (name, marker)
    for name in ("08b_mo_cuoi_ky.csv", "09_so_theo_doi.csv", "11_tu_choi.csv", "11b_rut_lai_het_han.csv"):
        assert any(reference in tables[name] for reference in a.references), name
    for name in ("11c_thu_hep_pham_vi.csv", "11d_luu_giu.csv", "11e_hoat_dong.csv", "12_dau_hieu.csv"):
        assert a.released.reference in tables[name], name
    assert a.tag in tables["11d_luu_giu.csv"] and a.tag in tables["11e_hoat_dong.csv"]
    words = pdf_words(pdf_payload)
    assert all(reference in words for reference in a.references)
    for marker in markers_of(world, b):
        assert marker not in words, marker


def test_the_whole_system_report_lists_both_agencies_so_the_markers_are_found_where_printed(world, week, two_agencies):
    a, b = two_agencies
    with clock(week.built):
        data = collect(week.scope(), now=week.built)
        tables = members(csv_zip(data))
    everything = "\n".join(tables.values())
    for marker in markers_of(world, b):
        assert marker in everything, marker
    assert section_references(data)["facts"] == a.references | b.references
    assert [(row.label, row.counts["filed"]) for row in data.by_camera_area] == [("Phường Hàng Bạc", 12)]


def test_a_ward_auditors_report_says_nothing_of_another_agencys_requests_for_the_wards_cameras(
    world, week, two_agencies, django_capture_on_commit_callbacks
):
    a, b = two_agencies
    inspectorate = AgencyFactory(code="thanh-tra-hang-bac", kind=Agency.Kind.INSPECTORATE, area=world.ward)
    auditor = UserFactory(username="thanhtra-hb", agency=inspectorate, roles=["auditor"])
    with clock(week.built), django_capture_on_commit_callbacks(execute=True):
        report = report_request(actor=auditor, date_from=week.first, date_to=week.first + dt.timedelta(days=6))
    report.refresh_from_db()
    assert report.status == report.Status.READY and report.jurisdiction == world.ward
    with clock(week.built):
        data = collect(week.scope(jurisdiction=world.ward), now=week.built)

    assert_only_a(world, week, data, Path(report.csv_path).read_bytes(), Path(report.pdf_path).read_bytes(), a, b)


@pytest.mark.parametrize("narrowed_to", ["agency", "area", "legal_basis"])
def test_a_report_narrowed_to_agency_area_or_basis_says_nothing_of_the_rest(world, week, two_agencies, narrowed_to):
    a, b = two_agencies
    narrowing = {"agency": world.agency_a, "area": world.ward, "legal_basis": world.basis}[narrowed_to]
    with clock(week.built):
        data = collect(week.scope(**{narrowed_to: narrowing}), now=week.built)
        zip_payload, pdf_payload = csv_zip(data), pdf_bytes(data)

    assert_only_a(world, week, data, zip_payload, pdf_payload, a, b)


# The period's figures do not move -----------------------------------------------------------------------------------


def tables_built(scope: ReportScope, at: dt.datetime) -> dict[str, list[list[str]]]:
    """Every CSV member of the report of `scope` built at `at`, row by row, without the build's own code and time."""
    with clock(at):
        payload = csv_zip(collect(scope, now=at))
    tables = {name: list(csv.reader(io.StringIO(text))) for name, text in members(payload).items()}
    tables["00_pham_vi.csv"] = [row for row in tables["00_pham_vi.csv"] if row[0] not in ("ma_bao_cao", "lap_luc")]
    return tables


def changed_members(before: dict, after: dict) -> dict[str, tuple[list, list]]:
    """Each member that differs: the rows only before, and the rows only after."""
    return {
        name: ([row for row in before[name] if row not in after[name]], [row for row in after[name] if row not in before[name]])
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }


@pytest.fixture
def later(week):
    """Two days after the period: the later acts happen then, and the report is built again the day after."""
    return week.at(9, 10)


def rebuilt_after(week, later, act, **narrowed) -> tuple[dict, dict]:
    """The report of the week built before `act`, played at `later`, and what differs when it is built again after."""
    before = tables_built(week.scope(**narrowed), week.built)
    with clock(later):
        act()
    return before, changed_members(before, tables_built(week.scope(**narrowed), later + dt.timedelta(days=1)))


def rows_of(tables, name, reference) -> list[list[str]]:
    return [row for row in tables[name] if reference in row]


def released_in_week(world, footage, capture, week) -> FootageRequest:
    """A request filed, approved and exported on the week's second day."""
    with clock(week.at(1, 9)):
        footage_request = world.reviewed(items=[video(world.camera, footage.at(3), footage.at(9))])
        workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
        return run_export(world, footage_request, capture)


def test_a_damaged_release_acknowledged_after_the_period_stays_out_of_its_register(
    world, footage, week, later, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_ON_DAMAGE = "hold"
    damage_payload(footage.segment(4))
    held = released_in_week(world, footage, django_capture_on_commit_callbacks, week)
    assert held.status == Status.DAMAGE_HELD

    def act():
        workflow.request_acknowledge_damage(actor=world.custodian, footage_request=held, note="Giao nguyên trạng")
        _grant, token = releases.release_link_issue(actor=world.insider, footage_request=held)
        releases.release_download_open(actor=world.insider, token=token)

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    assert rows_of(before, "09_so_theo_doi.csv", held.reference) == []
    (fact,) = rows_of(before, "14_yeu_cau_theo_chi_so.csv", held.reference)
    assert fact[10] == Status.DAMAGE_HELD and fact[9] == ""  # approved, held at the end, not handed over


def test_a_legal_hold_lifted_after_the_period_is_still_in_force_at_its_end(
    world, footage, week, later, django_capture_on_commit_callbacks
):
    released = released_in_week(world, footage, django_capture_on_commit_callbacks, week)
    with clock(week.at(2, 9)), django_capture_on_commit_callbacks(execute=True):
        holds.hold_place(actor=world.custodian, footage_request=released, reason="Lưu giữ theo yêu cầu VKS")

    before, changed = rebuilt_after(
        week, later, lambda: holds.hold_release(actor=world.custodian, footage_request=released, reason="Hết thời hạn")
    )
    assert changed == {}
    (hold,) = rows_of(before, "11d_luu_giu.csv", released.reference)
    assert hold[6] == "còn hiệu lực cuối kỳ" and hold[7] == ""


def test_links_revoked_refused_and_issued_after_the_period_change_no_download_figure(
    world, footage, week, later, django_capture_on_commit_callbacks
):
    released = released_in_week(world, footage, django_capture_on_commit_callbacks, week)
    with clock(week.at(2, 9)):
        _grant, token = releases.release_link_issue(actor=world.insider, footage_request=released)
        releases.release_download_open(actor=world.insider, token=token)

    def act():
        releases.release_revoke(actor=world.custodian, footage_request=released, reason="Thu hồi")
        with pytest.raises(DownloadRefused):
            releases.release_download_open(actor=world.insider, token=token)
        _grant, again = releases.release_link_issue(actor=world.colleague, footage_request=released)
        releases.release_download_open(actor=world.colleague, token=again)

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    (row,) = rows_of(before, "09_so_theo_doi.csv", released.reference)
    assert row[7] == f"{world.insider.display_name} ({world.insider.username})" and row[10] == "1"


def test_a_filing_changed_after_the_period_leaves_its_cameras_categories_and_limits_as_filed(world, week, later):
    with clock(week.at(1, 9)):
        # The traffic police may ask for any camera of the city: the second filing reaches another ward.
        changed = world.submitted(actor=world.outsider)
        workflow.request_ask_info(actor=world.reviewer, footage_request=changed, question="Bổ sung")

    def act():
        end = timezone.now() - dt.timedelta(hours=1)
        items = [
            video(world.far_camera, end - dt.timedelta(hours=23), end),
            video(world.anpr, end - dt.timedelta(hours=2), end, "plate_events"),
            video(world.camera, end - dt.timedelta(hours=2), end, "still_image"),
        ]
        workflow.request_file(actor=world.outsider, footage_request=changed, items=items, submit=True)

    before, changed_tables = rebuilt_after(week, later, act)
    assert changed_tables == {}
    assert before["04b_theo_dia_ban_camera.csv"][1:] == [["Phường Hàng Bạc", "1", "0", "0", "0", "0", "0"]]
    assert [row[:3] for row in before["05_theo_loai_du_lieu.csv"][1:]] == [["Dữ liệu video ghi hình", "1", "1"]]
    assert rows_of(before, "12_dau_hieu.csv", changed.reference) == []


def emergency_asked_for_its_letter(world, week) -> FootageRequest:
    """An emergency filed without its letter on the week's second day and asked for it on the fourth."""
    with clock(week.at(1, 9)):
        emergency = world.draft(urgency="emergency", attach=False)
        workflow.request_submit(actor=world.insider, footage_request=emergency)
    with clock(week.at(3, 9)):
        workflow.request_ask_info(actor=world.reviewer, footage_request=emergency, question="Đề nghị gửi công văn")
    return emergency


def test_an_emergencys_letter_attached_after_the_period_does_not_clear_the_periods_finding(world, week, later):
    emergency = emergency_asked_for_its_letter(world, week)

    def act():
        services.request_attach(actor=world.insider, footage_request=emergency, uploaded_file=pdf_file())
        workflow.request_submit(actor=world.insider, footage_request=emergency)

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    assert [row[0] for row in rows_of(before, "12_dau_hieu.csv", emergency.reference)] == ["paperwork"]


# Acts after the period on what a filing or an approval recorded then.


def test_an_emergency_refiled_after_the_period_as_normal_under_another_basis_keeps_its_periods_figures(world, week, later):
    emergency = emergency_asked_for_its_letter(world, week)

    def act():
        items = [video(i.camera, i.start, i.end, i.data_category.code) for i in emergency.items.all()]
        workflow.request_file(
            actor=world.insider,
            footage_request=emergency,
            items=items,
            letter=pdf_file(),
            submit=True,
            urgency="normal",
            legal_basis=world.case_basis,
            case_reference="45/QĐ-KT",
        )

    # Narrowed to the basis it was filed under: refiled under another, it would leave the period's report altogether.
    _before, changed = rebuilt_after(week, later, act, legal_basis=world.basis)
    assert changed == {}


def test_a_narrowing_in_the_period_shows_the_scope_it_approved_after_a_second_narrowing(world, week, later):
    with clock(week.at(1, 9)):
        end = timezone.now() - dt.timedelta(hours=3)
        # Plate events need two approvers: the first narrows in the period, the second narrows further after it.
        sensitive = world.reviewed(items=[video(world.anpr, end - dt.timedelta(hours=4), end, "plate_events")])
        (item,) = sensitive.items.all()
        workflow.request_approve(
            actor=world.approver, footage_request=sensitive, narrow={item.pk: (item.start, end - dt.timedelta(hours=1))}
        )

    def act():
        (item,) = sensitive.items.all()
        workflow.request_approve(
            actor=world.approver2, footage_request=sensitive, narrow={item.pk: (item.start, end - dt.timedelta(hours=2))}
        )

    _before, changed = rebuilt_after(week, later, act)
    assert changed == {}


def test_a_camera_moved_to_another_ward_after_the_period_is_counted_where_it_stood(world, week, later):
    with clock(week.at(1, 9)):
        world.submitted()

    def act():
        world.camera.area = world.other_ward
        world.camera.save()

    _before, changed = rebuilt_after(week, later, act)
    assert changed == {}


# Deadlines missed while the request waited on the authority.


def test_a_deadline_missed_before_the_reviewer_asked_for_information_stays_missed(world, week, later):
    with clock(week.at(1, 9)):
        waited = world.submitted(urgency="urgent")
    due = waited.submissions.get().due_at
    asked = due + dt.timedelta(hours=3)
    assert asked < week.at(7, 0), "the deadline and the question fall in the week"
    with clock(asked):
        workflow.request_ask_info(actor=world.reviewer, footage_request=waited, question="Bổ sung số quyết định")

    def act():  # answered, then approved in time for the new deadline
        workflow.request_comment(actor=world.insider, footage_request=waited, body="Số quyết định: 12/QĐ")
        workflow.request_submit(actor=world.insider, footage_request=waited)
        workflow.request_review(actor=world.reviewer, footage_request=waited, recommend_approval=True, reason="Đủ")
        workflow.request_approve(actor=world.approver, footage_request=waited, reason="Đồng ý")

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    (row,) = rows_of(before, "08_qua_han.csv", waited.reference)
    header = before["08_qua_han.csv"][0]
    late = dict(zip(header, row, strict=True))
    assert late["quyet_dinh_luc"] == "" and late["qua_han_phut"] == "180"
    assert late["xu_ly_sau_han"] == "đề nghị bổ sung thông tin"
    with clock(week.built):
        words = pdf_words(pdf_bytes(collect(week.scope(), now=week.built)))
    assert "đề nghị bổ sung thông tin" in words


def test_a_deadline_replaced_by_a_resubmission_before_it_fell_is_not_missed(world, week):
    with clock(week.at(1, 9)):
        answered = world.submitted()
        workflow.request_ask_info(actor=world.reviewer, footage_request=answered, question="Bổ sung")
    with clock(week.at(1, 10)):
        workflow.request_comment(actor=world.insider, footage_request=answered, body="Đã bổ sung")
        workflow.request_submit(actor=world.insider, footage_request=answered)
    first, second = answered.submissions.all()
    assert first.due_at < second.due_at
    with clock(min(second.due_at, week.at(6, 12)) - dt.timedelta(minutes=5)):
        workflow.request_review(actor=world.reviewer, footage_request=answered, recommend_approval=True, reason="Đủ")
        workflow.request_approve(actor=world.approver, footage_request=answered, reason="Đồng ý")
    assert first.due_at < week.at(7, 0)
    assert rows_of(tables_built(week.scope(), week.built), "08_qua_han.csv", answered.reference) == []


def test_a_hold_placed_a_minute_before_the_end_and_copied_after_it_reports_the_copy_unfinished(
    world, footage, week, later, django_capture_on_commit_callbacks
):
    released = released_in_week(world, footage, django_capture_on_commit_callbacks, week)
    with clock(week.at(6, 23, 59)), django_capture_on_commit_callbacks(execute=False):
        hold = holds.hold_place(actor=world.custodian, footage_request=released, reason="Lưu giữ theo yêu cầu VKS")

    def act():  # the copy into the holding area finishes after midnight
        assert holds.hold_preserve(hold.pk) > 0

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    (row,) = rows_of(before, "11d_luu_giu.csv", released.reference)
    assert row[5] == "đang sao lưu cuối kỳ"


def test_an_after_hours_signature_keeps_the_urgency_filed_when_the_request_is_edited_after_the_period(world, week, later):
    with clock(week.at(1, 21)):  # after working hours; plate events need a second approver, so it stays open
        end = timezone.now() - dt.timedelta(hours=3)
        signed = world.reviewed(items=[video(world.anpr, end - dt.timedelta(hours=4), end, "plate_events")])
        workflow.request_approve(actor=world.approver, footage_request=signed, reason="Đồng ý")

    def act():
        workflow.request_ask_info(actor=world.reviewer, footage_request=signed, question="Bổ sung")
        items = [video(i.camera, i.start, i.end, i.data_category.code) for i in signed.items.all()]
        workflow.request_update(actor=world.insider, footage_request=signed, items=items, urgency="urgent")

    before, changed = rebuilt_after(week, later, act)
    assert changed == {}
    (finding,) = rows_of(before, "12_dau_hieu.csv", signed.reference)
    assert "(Thường)" in " ".join(finding)


def test_a_hold_copy_run_again_after_the_period_keeps_its_count_and_time(
    world, footage, week, later, django_capture_on_commit_callbacks
):
    released = released_in_week(world, footage, django_capture_on_commit_callbacks, week)
    with clock(week.at(2, 9)), django_capture_on_commit_callbacks(execute=True):
        hold = holds.hold_place(actor=world.custodian, footage_request=released, reason="Lưu giữ theo yêu cầu VKS")

    before, changed = rebuilt_after(week, later, lambda: holds.hold_preserve(hold.pk))  # the task delivered twice
    assert changed == {}
    (row,) = rows_of(before, "11d_luu_giu.csv", released.reference)
    assert row[5].isdigit() and int(row[5]) > 0


def test_a_request_withdrawn_after_a_change_of_basis_is_listed_under_the_basis_it_was_filed_under(world, week):
    with clock(week.at(1, 9)):
        changed = world.submitted()
        workflow.request_ask_info(actor=world.reviewer, footage_request=changed, question="Bổ sung")
        items = [video(i.camera, i.start, i.end, i.data_category.code) for i in changed.items.all()]
        workflow.request_update(
            actor=world.insider, footage_request=changed, items=items, legal_basis=world.case_basis, case_reference="45/QĐ"
        )
        workflow.request_withdraw(actor=world.insider, footage_request=changed, reason="Không cần nữa")

    tables = tables_built(week.scope(legal_basis=world.basis), week.built)
    (ended,) = rows_of(tables, "11b_rut_lai_het_han.csv", changed.reference)
    (fact,) = rows_of(tables, "14_yeu_cau_theo_chi_so.csv", changed.reference)
    assert world.basis.code in ended and world.basis.code in fact
    assert world.case_basis.code not in ended
