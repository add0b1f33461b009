"""Oversight reports and dossiers: figures that match the data, Vietnamese that survives the PDF, scopes that hold."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import csv
import datetime as dt
import hashlib
import io
import json
import re
import statistics
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from audit.models import Action, AuditEvent, Outcome
from governance.models import Agency
from governance.timefmt import DATE_TIME_SECONDS, local_time
from oversight import report_pdf
from oversight.models import Report
from oversight.permissions import ReportRefused
from oversight.report_data import ReportScope, collect
from oversight.reports import report_request
from requests import releases, workflow
from requests.models import Decision, FootageRequest, Release, ReleaseFile, Status, StatusChange, Submission
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.pdf import embedded_fonts, pdf_text
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world
from tests.requests.footage import approved, footage, segment_bank  # noqa: F401 - fixtures
from tests.requests.footage import export as run_export

pytestmark = pytest.mark.django_db

AGENCY_A = "Công an phường Hàng Bạc"


@pytest.fixture
def week(world, footage, django_capture_on_commit_callbacks):
    """A week at the centre: one request released (exported for real), one rejected, one withdrawn,
    one still open past its deadline and near its basis's window limit, one emergency without its letter."""
    released = approved(world, [(footage.at(3), footage.at(7))])
    released = run_export(world, released, django_capture_on_commit_callbacks)
    assert released.status == Status.RELEASED
    _grant, token = releases.release_link_issue(actor=world.insider, footage_request=released)
    for _ in range(2):
        releases.release_download_open(actor=world.insider, token=token)

    rejected = world.reviewed()
    workflow.request_reject(actor=world.approver, footage_request=rejected, reason="Không đủ căn cứ: thiếu số quyết định")
    withdrawn = world.submitted()
    workflow.request_withdraw(actor=world.insider, footage_request=withdrawn, reason="Đã có dữ liệu khác")
    late = world.submitted(items=world.items(hours=23))
    # Filed thirty hours ago with a day to answer, and still waiting: five hours past its deadline.
    overdue, sent = timezone.now() - dt.timedelta(hours=5), timezone.now() - dt.timedelta(hours=30)
    FootageRequest.objects.filter(pk=late.pk).update(due_at=overdue, submitted_at=sent, first_submitted_at=sent)
    Submission.objects.filter(footage_request=late).update(due_at=overdue, submitted_at=sent)
    StatusChange.objects.filter(footage_request=late, to_status=Status.SUBMITTED).update(at=sent)
    emergency = world.draft(urgency="emergency", attach=False)
    workflow.request_submit(actor=world.insider, footage_request=emergency)
    filed = timezone.now() - dt.timedelta(days=4)
    FootageRequest.objects.filter(pk=emergency.pk).update(submitted_at=filed, first_submitted_at=filed)
    Submission.objects.filter(footage_request=emergency).update(submitted_at=filed)
    return {
        "released": released,
        "rejected": rejected,
        "withdrawn": withdrawn,
        "late": late,
        "emergency": emergency,
    }


def this_week():
    today = timezone.localdate()
    return ReportScope(date_from=today - dt.timedelta(days=6), date_to=today)


def district_auditor(world):
    inspectorate = AgencyFactory(
        code="thanh-tra-quan", name_vi="Thanh tra quận", kind=Agency.Kind.INSPECTORATE, area=world.province
    )
    return UserFactory(username="thanhtra", agency=inspectorate, roles=["auditor"])


def in_period(moment, scope):
    return moment is not None and scope.start <= moment < scope.end


def test_summary_and_breakdowns_equal_the_figures_counted_straight_from_the_data(world, week):
    scope = this_week()
    data = collect(scope)
    everything = list(FootageRequest.objects.all())
    expected = {
        "filed": sum(in_period(r.submitted_at, scope) for r in everything),
        "approved": sum(in_period(r.decided_at, scope) and r.status == Status.RELEASED for r in everything),
        "rejected": sum(in_period(r.decided_at, scope) and r.status == Status.REJECTED for r in everything),
        "withdrawn": sum(in_period(r.decided_at, scope) and r.status == Status.WITHDRAWN for r in everything),
        "expired": 0,
        "released": Release.objects.count(),
    }
    assert expected == {"filed": 5, "approved": 1, "rejected": 1, "withdrawn": 1, "expired": 0, "released": 1}
    assert {key: data.summary[key] for key in expected} == expected
    released_items = list(week["released"].items.all())
    assert data.summary["footage_hours"] == pytest.approx(sum(i.hours for i in released_items))
    assert data.summary["cameras"] == 1
    agency_row = next(row for row in data.by_agency if row.label == AGENCY_A)
    assert agency_row.counts == expected
    assert sum(row.counts["filed"] for row in data.by_urgency) == 5
    emergency_row = next(row for row in data.by_urgency if row.label == "Khẩn")
    assert emergency_row.counts["filed"] == 1


def test_turnaround_and_late_requests_match_the_requests(world, week):
    data = collect(this_week())
    decided = [r for r in FootageRequest.objects.all() if r.status in (Status.RELEASED, Status.REJECTED)]
    hours = [(r.decided_at - r.submitted_at).total_seconds() / 3600 for r in decided]
    assert data.turnaround["decisions"] == 2
    assert data.turnaround["decision_median"] == pytest.approx(statistics.median(hours))
    release = Release.objects.get()
    assert data.turnaround["release_median"] == pytest.approx(
        (release.created_at - week["released"].submitted_at).total_seconds() / 3600
    )
    late = {row.reference: row for row in data.turnaround["late"]}
    assert set(late) == {week["late"].reference}
    assert late[week["late"].reference].decided_at is None and late[week["late"].reference].hours_late == pytest.approx(
        5, abs=0.1
    )


def test_register_lists_each_release_with_its_approvers_windows_files_and_downloads(world, week):
    (row,) = list(collect(this_week()).register_rows())
    release = Release.objects.get()
    assert row.reference == week["released"].reference and row.agency == AGENCY_A
    assert row.approvers == [f"{world.approver.display_name} ({world.approver.username})"]
    assert row.recipients == [f"{world.insider.display_name} ({world.insider.username})"]
    assert row.custodian == f"{world.custodian.display_name} ({world.custodian.username})"
    assert row.downloads == 2
    files = set(release.files.values_list("kind", "name", "sha256"))
    assert set(row.files) == files and {kind for kind, _n, _s in files} == {"video", "manifest", "handover", "package"}
    videos = list(release.files.filter(kind=ReleaseFile.Kind.VIDEO).values_list("name", "sha256"))
    assert row.videos == videos and set(row.spans) == {name for name, _sha in videos}
    assert [(code, start, end) for code, start, end in row.windows] == [
        (i.camera.code, i.start, i.end) for i in week["released"].items.all()
    ]


def test_refusals_and_unusual_patterns_are_found(world, week):
    data = collect(this_week())
    (refusal,) = data.refusals
    assert refusal.reference == week["rejected"].reference and refusal.reason.startswith("Không đủ căn cứ")
    assert refusal.official == f"{world.approver.display_name} ({world.approver.username})"
    assert [f.reference for f in data.patterns["paperwork"]] == [week["emergency"].reference]
    assert week["late"].reference in [f.reference for f in data.patterns["near_limit"]]
    # Six requests from one agency in a week after none before: far above its own baseline.
    assert [f.subject for f in data.patterns["volume"]] == [AGENCY_A]


def test_an_after_hours_approval_is_flagged(world, week):
    decision = Decision.objects.get(footage_request=week["released"], outcome=Decision.Outcome.APPROVE)
    # A weekend night of the week's first six days: in the past, and in the week whatever day and hour it is now
    # (any six days running hold a Saturday or a Sunday).
    weekend_night = timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=1), dt.time(23, 30)))
    while weekend_night.weekday() not in (5, 6):
        weekend_night -= dt.timedelta(days=1)
    Decision.objects.filter(pk=decision.pk).update(created_at=weekend_night)
    findings = collect(this_week()).patterns["after_hours"]
    at = f"phê duyệt lúc {weekend_night:%d/%m/%Y} 23:30 (UTC+7)"
    assert any(f.reference == week["released"].reference and at in f.detail for f in findings)


def test_integrity_section_verifies_the_periods_events(world, week):
    data = collect(this_week())
    events = AuditEvent.objects.order_by("seq")
    assert data.integrity.ok is True
    assert data.integrity.first_seq == events.first().seq and data.integrity.last_hash == events.last().hash
    assert data.integrity.events == events.count()


def test_auditor_builds_the_report_and_its_hash_is_in_the_ledger(world, week, client, django_capture_on_commit_callbacks):
    auditor = district_auditor(world)
    sign_in_verified(client, auditor, language="en")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("oversight:reports"), {"date_from": (today - dt.timedelta(days=6)).isoformat(), "date_to": today.isoformat()}
        )
    report = Report.objects.get()
    assert response.status_code == 302 and response.url == reverse("oversight:report", args=[report.pk])
    assert report.status == Report.Status.READY and report.releases == 1 and report.jurisdiction == world.province
    pdf = Path(report.pdf_path).read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    generated = AuditEvent.objects.get(action=Action.REPORT_GENERATE)
    assert json.loads(generated.payload)["pdf_sha256"] == report.pdf_sha256
    assert json.loads(generated.payload)["csv_sha256"] == report.csv_sha256

    download = client.get(reverse("oversight:report-file", args=[report.pk, "pdf"]))
    assert b"".join(download.streaming_content) == pdf
    assert AuditEvent.objects.filter(action=Action.REPORT_DOWNLOAD, actor=auditor).count() == 1
    page = client.get(reverse("oversight:report", args=[report.pk])).content.decode()
    assert report.pdf_sha256 in page


def test_pdf_text_round_trips_vietnamese_and_every_font_is_embedded_dejavu(world, week, tmp_path):
    out = tmp_path / "report.pdf"
    data = collect(this_week())
    with open(out, "wb") as stream:
        pages = report_pdf.render_period_report(data, stream, code="BC-TEST", author="Nguyễn Thị Hương — Thanh tra")
    texts, reader = pdf_text(out)
    assert pages == len(reader.pages)
    text = unicodedata.normalize("NFC", "\n".join(texts))
    for phrase in (
        AGENCY_A,
        "BÁO CÁO TÌNH HÌNH CUNG CẤP, KHAI THÁC DỮ LIỆU CAMERA",
        "Sổ theo dõi cung cấp dữ liệu",
        "Không đủ căn cứ: thiếu số quyết định",
        "Nguyễn Thị Hương",
        week["released"].reference,
        ReleaseFile.objects.filter(kind=ReleaseFile.Kind.VIDEO).first().sha256,
        # Times are Vietnam time, and say so.
        f"lập lúc {local_time(data.generated_at, DATE_TIME_SECONDS)}",
    ):
        assert phrase in text, phrase
    assert f"Trang 1/{pages}" in texts[0]
    fonts = embedded_fonts(reader)
    assert fonts <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"} and "DejaVuSans" in fonts


def test_csv_tables_carry_the_same_figures(world, week, tmp_path):
    from oversight.report_csv import write_report_csv

    out = tmp_path / "report.zip"
    with open(out, "wb") as stream:
        write_report_csv(collect(this_week()), stream, code="BC-TEST")
    with zipfile.ZipFile(out) as archive:
        summary = dict(csv.reader(io.TextIOWrapper(archive.open("01_tong_hop.csv"), encoding="utf-8-sig")))
        register = list(csv.DictReader(io.TextIOWrapper(archive.open("09_so_theo_doi.csv"), encoding="utf-8-sig")))
        files = list(csv.DictReader(io.TextIOWrapper(archive.open("10_so_theo_doi_tep.csv"), encoding="utf-8-sig")))
    assert summary["filed"] == "5" and summary["released"] == "1"
    assert [row["so_yeu_cau"] for row in register] == [week["released"].reference]
    assert register[0]["co_quan"] == AGENCY_A and register[0]["luot_tai_den_cuoi_ky"] == "2"
    assert {(row["loai"], row["tep"], row["sha256"]) for row in files} == set(
        ReleaseFile.objects.values_list("kind", "name", "sha256")
    )


def test_an_emergency_and_an_urgent_request_read_the_same_word_on_the_page_in_the_pdf_and_in_the_csv(
    client, world, week, tmp_path
):
    from oversight.report_csv import write_report_csv

    urgent = world.submitted(urgency="urgent")
    words = {}
    sign_in_verified(client, world.insider, language="vi")
    for footage_request in (week["emergency"], urgent):
        page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
        badge = re.search(rf'class="badge badge-{footage_request.urgency}">(?:<span aria-hidden="true">⚠ </span>)?([^<]+)<', page)
        words[footage_request.urgency] = badge.group(1)
    assert words == {"emergency": "Khẩn", "urgent": "Gấp"}  # the regulation's KHẨN and GẤP

    data = collect(this_week())
    stream = io.BytesIO()
    report_pdf.render_period_report(data, stream, code="BC-TEST", author="Thanh tra")
    text = " ".join(unicodedata.normalize("NFC", "\n".join(pdf_text(stream.getvalue())[0])).split())
    out = tmp_path / "report.zip"
    with open(out, "wb") as archive_stream:
        write_report_csv(data, archive_stream, code="BC-TEST")
    with zipfile.ZipFile(out) as archive:
        by_urgency = list(csv.DictReader(io.TextIOWrapper(archive.open("04_theo_muc_do.csv"), encoding="utf-8-sig")))
        paperwork = list(csv.reader(io.TextIOWrapper(archive.open("12_dau_hieu.csv"), encoding="utf-8-sig")))
    assert {row["muc_do"] for row in by_urgency} == {"Thường", "Gấp", "Khẩn"}
    assert "Khẩn cấp" not in text and "Khẩn cấp" not in str(paperwork)
    section = text.split("1.4. Theo mức độ khẩn", 1)[1].split("1.5.", 1)[0]
    assert [word for word in ("Thường", "Gấp", "Khẩn") if word in section] == ["Thường", "Gấp", "Khẩn"]


def test_an_empty_period_renders_a_sensible_report(world, tmp_path):
    scope = ReportScope(date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31))
    out = tmp_path / "empty.pdf"
    with open(out, "wb") as stream:
        report_pdf.render_period_report(collect(scope), stream, code="BC-EMPTY", author="Thanh tra")
    text = "\n".join(pdf_text(out)[0])
    assert "Không có lần cung cấp dữ liệu nào trong kỳ." in text
    assert "Không có yêu cầu nào bị từ chối trong kỳ." in text
    assert "Không có sự kiện nào trong kỳ." in text


def test_a_long_table_splits_across_pages_repeating_its_header():
    rows = [[f"YC-2026-{n:06d}", "Công an phường Hàng Bạc", "x" * 30] for n in range(450)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(report_pdf.table(["Số yêu cầu", "Cơ quan", "Ghi chú"], rows, [120, 200, 150]))
    texts, reader = pdf_text(buffer.getvalue())
    assert len(reader.pages) >= 5
    assert all(text.lstrip().startswith("Số yêu cầu") for text in texts)
    assert "YC-2026-000449" in texts[-1]


def test_a_report_beyond_the_auditors_jurisdiction_is_refused_and_logged(world, client):
    auditor = UserFactory(
        username="thanhtra-phuong",
        agency=AgencyFactory(code="tt-phuong", name_vi="Thanh tra phường", kind=Agency.Kind.INSPECTORATE, area=world.ward),
        roles=["auditor"],
    )
    today = timezone.localdate()
    with pytest.raises(ReportRefused):
        report_request(actor=auditor, date_from=today, date_to=today, agency=world.agency_b)
    assert not Report.objects.exists()
    assert AuditEvent.objects.filter(action=Action.REPORT_REQUEST, outcome=Outcome.DENIED, actor=auditor).count() == 1

    sign_in_verified(client, auditor, language="en")
    response = client.post(
        reverse("oversight:reports"), {"date_from": today.isoformat(), "date_to": today.isoformat(), "agency": world.agency_b.pk}
    )
    assert response.status_code == 200 and "Choose an agency within your jurisdiction." in response.content.decode()
    assert not Report.objects.exists()


def test_only_oversight_bodies_reach_reports_and_nobody_opens_anothers_report(world, week, client):
    owner = district_auditor(world)
    today = timezone.localdate()
    report = report_request(actor=owner, date_from=today, date_to=today)
    other = UserFactory(username="thanhtra2", agency=owner.agency, roles=["auditor"])
    for user in (world.insider, world.approver, world.custodian):
        client.force_login(user)
        assert client.get(reverse("oversight:reports")).status_code == 404
        assert client.get(reverse("oversight:report-file", args=[report.pk, "pdf"])).status_code == 404
    sign_in_verified(client, other)
    assert client.get(reverse("oversight:report", args=[report.pk])).status_code == 404
    assert client.get(reverse("oversight:report-file", args=[report.pk, "csv"])).status_code == 404
    assert client.get(reverse("oversight:report-file", args=[report.pk + 1, "pdf"])).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.REPORT_DOWNLOAD).exists()


def test_bad_report_form_input_is_explained_and_changes_nothing(world, client):
    sign_in_verified(client, district_auditor(world), language="en")
    today = timezone.localdate()
    response = client.post(
        reverse("oversight:reports"), {"date_from": today.isoformat(), "date_to": (today - dt.timedelta(days=1)).isoformat()}
    )
    assert "The end date cannot be before the start date." in response.content.decode()
    response = client.post(reverse("oversight:reports"), {"date_from": "31/02/2026", "date_to": today.isoformat()})
    assert "Write the date as dd/mm/yyyy, for example 02/12/2026." in response.content.decode()
    assert not Report.objects.exists()


def test_dossier_carries_the_request_decisions_release_and_timeline(world, week, client):
    auditor = district_auditor(world)
    sign_in_verified(client, auditor)
    reference = week["released"].reference
    page = client.get(reverse("requests:detail", args=[reference])).content.decode()
    assert reverse("oversight:dossier", args=[reference]) in page
    response = client.get(reverse("oversight:dossier", args=[reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = unicodedata.normalize("NFC", "\n".join(pdf_text(response.content)[0]))
    assert reference in text and AGENCY_A in text and "Phê duyệt" in text
    assert f"Quyết định lúc\n{local_time(week['released'].decided_at)}" in text
    assert Release.objects.get().package_sha256 in text
    generated = AuditEvent.objects.filter(action=Action.REPORT_GENERATE, reference=reference).get()
    assert json.loads(generated.payload)["pdf_sha256"] == hashlib.sha256(response.content).hexdigest()

    client.force_login(world.outsider)
    assert client.get(reverse("oversight:dossier", args=[reference])).status_code == 404
    client.force_login(world.insider)
    assert client.get(reverse("oversight:dossier", args=[reference])).status_code == 404
    assert (
        reverse("oversight:dossier", args=[reference])
        not in client.get(reverse("requests:detail", args=[reference])).content.decode()
    )


def test_audit_report_command_writes_the_file_and_records_it(world, week, tmp_path):
    out = tmp_path / "so-theo-doi.zip"
    today = timezone.localdate()
    stdout = io.StringIO()
    call_command(
        "audit_report",
        "--from",
        (today - dt.timedelta(days=6)).isoformat(),
        "--to",
        today.isoformat(),
        "--format",
        "csv",
        "--out",
        str(out),
        stdout=stdout,
    )
    sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    assert sha256 in stdout.getvalue()
    event = AuditEvent.objects.get(action=Action.REPORT_GENERATE)
    assert json.loads(event.payload)["csv_sha256"] == sha256 and event.actor is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-31"], "is not a date"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], "The end date cannot be before the start date."),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--agency", "khong-co"], "No agency has the code khong-co."),
    ],
)
def test_audit_report_command_refuses_bad_input_and_records_nothing(world, tmp_path, arguments, message):
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("audit_report", *arguments, "--out", str(tmp_path / "r.pdf"))
    assert AuditEvent.objects.count() == before and not Report.objects.exists()


def test_a_report_that_cannot_be_written_is_marked_failed_and_logged(
    world, settings, tmp_path, django_capture_on_commit_callbacks
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    settings.REPORT_ROOT = blocked
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        report_request(actor=district_auditor(world), date_from=today, date_to=today)
    report = Report.objects.get()
    assert report.status == Report.Status.FAILED and "not-a-folder" in report.error
    failure = AuditEvent.objects.get(action=Action.REPORT_GENERATE)
    assert failure.outcome == Outcome.FAILURE and failure.target_id == str(report.pk)


def test_a_row_longer_than_a_page_continues_on_the_next_page():
    reason = "\n".join(f"Dòng {n} của lý do từ chối rất dài" for n in range(160))
    rows = [["YC-2026-000001", reason], ["YC-2026-000002", "Ngắn"]]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(report_pdf.table(["Số yêu cầu", "Lý do"], rows, [120, 300]))
    texts, reader = pdf_text(buffer.getvalue())
    text = "\n".join(texts)
    assert len(reader.pages) >= 2 and "Dòng 0 của" in texts[0] and "Dòng 159 của" in text and "YC-2026-000002" in text


def test_typed_text_that_looks_like_a_formula_is_written_as_text_in_the_csv(world, week, tmp_path):
    from oversight.report_csv import write_report_csv

    FootageRequest.objects.filter(pk=week["released"].pk).update(case_reference='=HYPERLINK("http://x")')
    out = tmp_path / "report.zip"
    with open(out, "wb") as stream:
        write_report_csv(collect(this_week()), stream, code="BC-TEST")
    with zipfile.ZipFile(out) as archive:
        register = list(csv.DictReader(io.TextIOWrapper(archive.open("09_so_theo_doi.csv"), encoding="utf-8-sig")))
    assert register[0]["so_vu_viec"] == '\'=HYPERLINK("http://x")'


def test_a_withdrawn_draft_is_no_outcome_of_the_period(world, week):
    draft = world.draft()
    workflow.request_withdraw(actor=world.insider, footage_request=draft)
    assert collect(this_week()).summary["withdrawn"] == 1  # the filed request withdrawn in the week, not the draft


def test_a_dossier_with_a_purpose_longer_than_a_page_still_renders(world, week, client):
    FootageRequest.objects.filter(pk=week["released"].pk).update(purpose="\n".join(f"Mục đích dòng {n}" for n in range(120)))
    sign_in_verified(client, district_auditor(world))
    response = client.get(reverse("oversight:dossier", args=[week["released"].reference]))
    assert response.status_code == 200
    assert "Mục đích dòng 119" in unicodedata.normalize("NFC", "\n".join(pdf_text(response.content)[0]))


def test_a_command_report_can_be_downloaded_from_the_report_pages(world, week, tmp_path, client):
    today = timezone.localdate()
    call_command("audit_report", "--from", today.isoformat(), "--to", today.isoformat(), "--out", str(tmp_path / "r.pdf"))
    report = Report.objects.get()
    admin = UserFactory(username="quantri", agency=world.centre, roles=["administrator"])
    sign_in_verified(client, admin)
    download = client.get(reverse("oversight:report-file", args=[report.pk, "pdf"]))
    assert b"".join(download.streaming_content) == (tmp_path / "r.pdf").read_bytes()
    assert client.get(reverse("oversight:report-file", args=[report.pk, "csv"])).status_code == 404


def test_a_report_asked_for_while_the_broker_is_down_waits_and_is_built_later(
    world, week, client, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from oversight.tasks import report_build_task
    from oversight.tasks import resume_waiting as resume_waiting_work

    auditor = district_auditor(world)
    sign_in_verified(client, auditor, language="en")
    today = timezone.localdate()
    deliver = report_build_task.delay

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(report_build_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("oversight:reports"), {"date_from": (today - dt.timedelta(days=6)).isoformat(), "date_to": today.isoformat()}
        )
    # The inspector sees the report waiting, not an error; the request is in the ledger.
    report = Report.objects.get()
    assert response.status_code == 302 and report.status == Report.Status.PENDING
    assert AuditEvent.objects.filter(action=Action.REPORT_REQUEST, target_id=str(report.pk)).count() == 1

    monkeypatch.setattr(report_build_task, "delay", deliver)
    assert resume_waiting_work() == 0  # not waited long enough yet
    assert resume_waiting_work(now=timezone.now() + dt.timedelta(minutes=11)) == 1
    report.refresh_from_db()
    assert report.status == Report.Status.READY
    assert resume_waiting_work(now=timezone.now() + dt.timedelta(minutes=11)) == 0
    # Beat runs the sweep.
    from django.conf import settings

    from oversight.tasks import resume_waiting_reports as sweep

    assert settings.CELERY_BEAT_SCHEDULE["oversight-resume-waiting"]["task"] == sweep.name
