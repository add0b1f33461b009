"""The charts that open the period report: what they count is what was filed, released and decided, month by month."""

import datetime as dt
import hashlib
import unicodedata
import zoneinfo

import pytest

from oversight.report_data import ReportScope, collect
from oversight.report_pdf import NO_DATA, render_period_report
from requests.models import FootageRequest, Release, Status, StatusChange, Submission
from tests.factories import AgencyFactory, LegalBasisFactory, UserFactory
from tests.pdf import embedded_fonts, pdf_text

pytestmark = pytest.mark.django_db

VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
OCTOBER_AND_NOVEMBER = ReportScope(date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 11, 30))
NOVEMBER = ReportScope(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30))
BUILT = dt.datetime(2026, 12, 3, 8, tzinfo=VIETNAM)
TITLES = (
    "Yêu cầu gửi theo cơ quan đề nghị",
    "Yêu cầu gửi theo căn cứ pháp lý",
    "Quyết định đúng hạn và trễ hạn theo mức độ khẩn",
)


def at(month, day, hour=10, minute=0):
    """A moment in Vietnam time, in 2026."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VIETNAM)


class Centre:
    """Requests written straight into the tables with the dates that matter, each filing kept as the workflow keeps it."""

    def __init__(self):
        self.agencies = [AgencyFactory(name_vi=f"Công an phường Số {k:02d}") for k in range(1, 13)]
        self.requesters = {a.pk: UserFactory(agency=a) for a in self.agencies}
        self.evidence = LegalBasisFactory(code="TTHS", title_vi="Thu thập chứng cứ trong vụ án hình sự")
        self.traffic = LegalBasisFactory(code="VPHC", title_vi="Xử lý vi phạm hành chính về giao thông")
        self.missing = LegalBasisFactory(code="TKNMT", title_vi="Tìm kiếm người mất tích")
        self.count = 0

    def file(self, agency, basis, first, *, urgency="normal", due=None, status=Status.SUBMITTED, decided=None, released=None):
        self.count += 1
        due = due or first + dt.timedelta(days=5)
        requester = self.requesters[self.agencies[agency - 1].pk]
        footage_request = FootageRequest.objects.create(
            reference=f"YC-2026-{self.count:06d}",
            agency=requester.agency,
            requester=requester,
            legal_basis=basis,
            letter_number=f"{self.count}/CV-CAP",
            letter_date=first.date(),
            purpose="Xác minh vụ việc",
            urgency=urgency,
            status=status,
            first_submitted_at=first,
            submitted_at=first,
            due_at=due,
            decided_at=decided,
        )
        self.refile(footage_request, first, basis, number=1, due=due)
        StatusChange.objects.create(footage_request=footage_request, to_status=Status.SUBMITTED, at=first)
        if released:
            token = hashlib.md5(footage_request.reference.encode()).hexdigest()  # noqa: S324 - an id, not a secret
            release = Release.objects.create(
                footage_request=footage_request,
                token=token,
                package_path=f"/exports/{token}.zip",
                package_sha256="a" * 64,
                package_size=1000,
                manifest_sha256="b" * 64,
                handover_sha256="c" * 64,
                purge_after=released + dt.timedelta(days=30),
            )
            Release.objects.filter(pk=release.pk).update(created_at=released)
        return footage_request

    def refile(self, footage_request, moment, basis, *, number, due=None):
        Submission.objects.create(
            footage_request=footage_request,
            number=number,
            submitted_at=moment,
            submitted_by=footage_request.requester,
            due_at=due or moment + dt.timedelta(days=5),
            legal_basis=basis,
            urgency=footage_request.urgency,
        )


@pytest.fixture
def centre(db):
    """Two months of requests from twelve agencies under three bases, with what came before and after them.

    October: 4 filed (one at 23:30 on the 31st), 3 released (two of requests filed in September).
    November: 14 filed (one at 00:30 on the 1st), 2 released; a release on 1 December is after the period.
    Decided in the period: normal 2 on time and 1 late, urgent 1 and 1, emergency 2 on time.
    """
    c = Centre()
    evidence, traffic, missing = c.evidence, c.traffic, c.missing
    released = {"status": Status.RELEASED}
    # Before the period: filed in September, decided and released in it or before it.
    c.file(5, evidence, at(9, 28), decided=at(9, 30), released=at(10, 1, 9), **released)
    c.file(1, evidence, at(9, 29), due=at(10, 4), decided=at(10, 2), released=at(10, 2, 15), **released)
    # October.
    c.file(1, evidence, at(10, 3, 9), due=at(10, 8), decided=at(10, 4), released=at(10, 4, 15), **released)
    c.file(1, evidence, at(10, 10), due=at(10, 15), decided=at(10, 20), status=Status.REJECTED)
    c.file(
        2,
        traffic,
        at(10, 31, 23, 30),
        urgency="urgent",
        due=at(11, 1, 23, 30),
        decided=at(11, 1, 8),
        released=at(11, 2),
        **released,
    )
    # Filed in October under the evidence basis, filed again after the period under another.
    refiled = c.file(3, evidence, at(10, 15))
    c.refile(refiled, at(12, 2), missing, number=2)
    FootageRequest.objects.filter(pk=refiled.pk).update(legal_basis=missing)
    # November.
    c.file(
        1,
        traffic,
        at(11, 1, 0, 30),
        urgency="emergency",
        due=at(11, 1, 4, 30),
        decided=at(11, 1, 2),
        released=at(11, 1, 3),
        **released,
    )
    c.file(1, traffic, at(11, 5), urgency="urgent", due=at(11, 6), decided=at(11, 9), released=at(12, 1), **released)
    c.file(2, missing, at(11, 12), urgency="emergency", due=at(11, 13), decided=at(11, 12, 16), status=Status.APPROVED)
    c.file(2, evidence, at(11, 20), decided=at(11, 22), status=Status.WITHDRAWN)
    for agency in range(4, 13):
        c.file(agency, evidence, at(11, 25))
    c.file(3, evidence, at(11, 28), decided=at(12, 2), status=Status.APPROVED)
    return c


def agency(k):
    return f"Công an phường Số {k:02d}"


def test_chart_figures_count_what_was_filed_released_and_decided_month_by_month(centre):
    data = collect(OCTOBER_AND_NOVEMBER, now=BUILT)
    charts = data.charts
    assert charts.unit == "month"
    # Local months: 23:30 on 31 October is October, 00:30 on 1 November is November; a release in December is not here.
    assert charts.timeline == [(dt.date(2026, 10, 1), 4, 3), (dt.date(2026, 11, 1), 14, 2)]
    assert sum(filed for _m, filed, _r in charts.timeline) == data.summary["filed"] == 18
    assert sum(released for _m, _f, released in charts.timeline) == data.summary["released"] == 5

    # The ten agencies that filed most, then the two left over summed as "Khác".
    assert [(bar.label, bar.value) for bar in charts.by_agency] == [
        (agency(1), 4),
        (agency(2), 3),
        (agency(3), 2),
        *((agency(k), 1) for k in range(4, 11)),
        ("Khác", 2),
    ]
    assert charts.by_agency[-1].folded == 2
    table = {row.label: row.counts["filed"] for row in data.by_agency}
    assert all(table[bar.label] == bar.value for bar in charts.by_agency[:-1])

    # By the basis each request stood under at the end: the one refiled in December under another stays put.
    assert [(bar.label, bar.value) for bar in charts.by_legal_basis] == [
        ("Thu thập chứng cứ trong vụ án hình sự", 14),
        ("Xử lý vi phạm hành chính về giao thông", 3),
        ("Tìm kiếm người mất tích", 1),
    ]

    # Approvals and rejections of the period against their deadline; the withdrawal and December's approval are not.
    assert [(d.urgency, d.label, d.on_time, d.late) for d in charts.deadlines] == [
        ("normal", "Thường", 2, 1),
        ("urgent", "Gấp", 1, 1),
        ("emergency", "Khẩn", 2, 0),
    ]
    assert sum(d.on_time + d.late for d in charts.deadlines) == data.turnaround["decisions"]


def test_a_period_inside_one_month_is_charted_week_by_week(centre):
    charts = collect(NOVEMBER, now=BUILT).charts
    assert charts.unit == "week"
    # Weeks run Monday to Sunday; 1 November 2026 is a Sunday, the last day of the week from 26 October.
    assert charts.timeline == [
        (dt.date(2026, 10, 26), 1, 1),
        (dt.date(2026, 11, 2), 1, 1),
        (dt.date(2026, 11, 9), 1, 0),
        (dt.date(2026, 11, 16), 1, 0),
        (dt.date(2026, 11, 23), 10, 0),
        (dt.date(2026, 11, 30), 0, 0),
    ]


def first_pages(data, out):
    with open(out, "wb") as stream:
        render_period_report(data, stream, code="BC-BIEUDO", author="Nguyễn Thị Hương — Thanh tra")
    texts, reader = pdf_text(out)
    return unicodedata.normalize("NFC", "\n".join(texts[:2])), reader


def test_the_report_opens_with_the_four_charts_in_dejavu(centre, tmp_path):
    text, reader = first_pages(collect(OCTOBER_AND_NOVEMBER, now=BUILT), tmp_path / "report.pdf")
    for phrase in (
        "Yêu cầu gửi và lần cung cấp dữ liệu theo tháng",
        *TITLES,
        "10/2026",
        agency(1),
        "Khác (2 cơ quan)",
        "Tìm kiếm người mất tích",
        # The share decided on time, the Vietnamese way: overall 5 of 7, and per urgency.
        "71,4% đúng hạn (5/7)",
        "66,7% đúng hạn",
        "50,0% đúng hạn",
        "100,0% đúng hạn",
    ):
        assert phrase in text, phrase
    assert NO_DATA not in text
    # The charts come before the summary tables.
    assert text.index(TITLES[0]) < text.index("1. Tổng hợp")
    fonts = embedded_fonts(reader)
    assert fonts <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"} and "DejaVuSans" in fonts


def test_a_month_report_titles_its_timeline_by_week(centre, tmp_path):
    text, _reader = first_pages(collect(NOVEMBER, now=BUILT), tmp_path / "report.pdf")
    assert "Yêu cầu gửi và lần cung cấp dữ liệu theo tuần" in text
    assert "02/11–08/11" in text


def test_an_empty_period_says_so_in_place_of_each_chart(centre, tmp_path):
    quiet = ReportScope(date_from=dt.date(2026, 6, 1), date_to=dt.date(2026, 7, 31))
    data = collect(quiet, now=BUILT)
    assert data.charts.by_agency == data.charts.by_legal_basis == []
    text, reader = first_pages(data, tmp_path / "report.pdf")
    assert "Yêu cầu gửi và lần cung cấp dữ liệu theo tháng" in text and all(title in text for title in TITLES)
    assert text.count(NO_DATA) == 4
    assert embedded_fonts(reader) <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"}
