"""The four documents the system issues (the period report, the request dossier, the hand-over record and the
verification record) are laid out as Decree 30/2020/NĐ-CP asks: the national header, a number of the issuing
agency's own series for the year, the place and date, and the signer's block."""

import datetime as dt
import threading
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from documents.models import DocumentSeries
from documents.numbering import allocate_number
from documents.pdf import document_date
from oversight.models import Report
from oversight.reports import dossier_build, report_request
from requests.export import HANDOVER_NAME
from tests.factories import AgencyFactory
from tests.oversight.test_reports import district_auditor
from tests.pdf import embedded_fonts, pdf_text
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world
from tests.requests.footage import approved, footage, segment_bank  # noqa: F401 - fixtures
from tests.requests.footage import export as run_export
from tests.requests.test_verification_record import _clip, _link, _result_token

pytestmark = pytest.mark.django_db


def _first_page(pdf):
    pages, reader = pdf_text(pdf)
    assert embedded_fonts(reader) <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"}
    return " ".join(unicodedata.normalize("NFC", pages[0]).split()), pages


def _dated_today():
    """The place-and-date line as Decree 30 writes it, for today in Vietnam: "Hà Nội, ngày 03 tháng 12 năm 2026"."""
    today = timezone.localdate()
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    return f"Hà Nội, ngày {today.day:02d} tháng {month} năm {today.year}"


def _assert_official(text, number):
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert f"Số: {number}" in text
    assert _dated_today() in text


@pytest.fixture
def released(world, footage, django_capture_on_commit_callbacks):  # noqa: F811
    world.centre.parent = world.committee
    world.centre.save()
    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    return run_export(world, footage_request, django_capture_on_commit_callbacks)


def _build_report(actor, capture):
    today = timezone.localdate()
    with capture(execute=True):
        report = report_request(actor=actor, date_from=today - dt.timedelta(days=6), date_to=today)
    report.refresh_from_db()
    assert report.status == Report.Status.READY
    return Path(report.pdf_path).read_bytes()


def test_period_reports_are_numbered_one_after_another_for_the_agency_that_ordered_them(
    world,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.DOCUMENT_SUPERIOR_BODY = "Ủy ban nhân dân quận Hoàn Kiếm"
    settings.DOCUMENT_AGENCY_SYMBOLS = {"thanh-tra-quan": "TTr"}
    auditor = district_auditor(world)
    auditor.first_name, auditor.last_name = "Hương", "Nguyễn Thị"
    auditor.save()

    first, _pages = _first_page(_build_report(auditor, django_capture_on_commit_callbacks))
    second, pages = _first_page(_build_report(auditor, django_capture_on_commit_callbacks))

    _assert_official(first, "01/BC-TTr")
    _assert_official(second, "02/BC-TTr")
    assert "ỦY BAN NHÂN DÂN QUẬN HOÀN KIẾM" in first and "THANH TRA QUẬN" in first
    assert "BÁO CÁO TÌNH HÌNH CUNG CẤP, KHAI THÁC DỮ LIỆU CAMERA" in first
    assert f"Trang 1/{len(pages)}" in first
    last = " ".join(unicodedata.normalize("NFC", pages[-1]).split())
    assert "NGƯỜI LẬP BÁO CÁO" in last and "(Ký số của tổ chức trên tệp PDF)" in last and "Nguyễn Thị Hương" in last
    assert "Nơi nhận:" in last

    # Another agency's reports have a series of their own.
    other = AgencyFactory(code="thanh-tra-tp", name_vi="Thanh tra thành phố", kind="inspectorate", area=world.province)
    auditor.agency = other
    auditor.save()
    third, _pages = _first_page(_build_report(auditor, django_capture_on_commit_callbacks))
    assert "Số: 01/BC-THANH-TRA-TP" in third
    assert DocumentSeries.objects.get(agency__code="thanh-tra-quan", kind="BC").last == 2


def test_the_dossier_is_numbered_signed_by_who_ordered_it_and_its_sections_run_on(world, released):  # noqa: F811
    auditor = district_auditor(world)
    assert not released.comments.exists()

    content, _code, _sha256 = dossier_build(actor=auditor, footage_request=released)
    again, _code, _sha256 = dossier_build(actor=auditor, footage_request=released)

    text, pages = _first_page(content)
    _assert_official(text, "01/HS-THANH-TRA-QUAN")
    assert "Số: 02/HS-THANH-TRA-QUAN" in _first_page(again)[0]
    assert f"HỒ SƠ YÊU CẦU CUNG CẤP DỮ LIỆU CAMERA {released.reference}" in text
    whole = " ".join(unicodedata.normalize("NFC", "\n".join(pages)).split())
    # Without an exchange of comments the sections still count 1, 2, 3, … with no number missing.
    headings = ["1. Yêu cầu", "2. Các lần gửi", "3. Camera", "4. Tài liệu", "5. Các quyết định", "6. Dữ liệu đã cung cấp"]
    headings.append("7. Nhật ký hệ thống của yêu cầu")
    positions = [whole.index(heading) for heading in headings]
    assert positions == sorted(positions) and "Trao đổi" not in whole and "8. " not in whole.split("7. Nhật ký")[1][:2000]
    assert "NGƯỜI LẬP HỒ SƠ" in whole and auditor.display_name in whole.split("NGƯỜI LẬP HỒ SƠ")[1]


def test_the_hand_over_record_is_issued_by_the_exporting_centre_under_its_parent(world, released):  # noqa: F811
    with zipfile.ZipFile(released.release.package_path) as archive:
        record = archive.read(f"{released.reference}/{HANDOVER_NAME}")

    text, pages = _first_page(record)

    _assert_official(text, "01/BBGN-IOC")
    assert "UBND QUẬN" in text and "TRUNG TÂM GIÁM SÁT CAMERA" in text
    assert "BIÊN BẢN GIAO NHẬN DỮ LIỆU ĐIỆN TỬ" in text
    assert f"Trang 1/{len(pages)}" in text
    last = " ".join(unicodedata.normalize("NFC", pages[-1]).split())
    assert "CÁN BỘ VẬN HÀNH XUẤT DỮ LIỆU" in last and world.custodian.display_name in last
    assert "ĐẠI DIỆN BÊN NHẬN" in last and released.requester.display_name in last


def test_each_verification_record_gets_the_centres_next_number_and_says_no_person_signed_it(
    world,  # noqa: F811
    released,
    client,
):
    _video, content = _clip(released)
    link = _link(released.release)
    page = client.post(link, {"file": SimpleUploadedFile("clip.mp4", content)})
    token = _result_token(page)

    first, pages = _first_page(client.post(f"{link}record/", {"result": token}).content)
    second, _pages = _first_page(client.post(f"{link}record/", {"result": token}).content)

    _assert_official(first, "01/BBKT-IOC")
    assert "Số: 02/BBKT-IOC" in second
    assert "TRUNG TÂM GIÁM SÁT CAMERA" in first and "BIÊN BẢN KIỂM TRA TỆP DỮ LIỆU" in first
    last = " ".join(unicodedata.normalize("NFC", pages[-1]).split())
    assert "HỆ THỐNG KIỂM CHỨNG DỮ LIỆU CAMERA" in last and "tự động" in last
    assert f"Trang {len(pages)}/{len(pages)}" in last


def test_a_number_given_back_by_a_rolled_back_document_is_given_again(world):  # noqa: F811
    class Failed(Exception):
        pass

    with pytest.raises(Failed), transaction.atomic():
        assert allocate_number(world.centre, "BC", year=2026) == "01/BC-IOC"
        raise Failed
    with transaction.atomic():
        assert allocate_number(world.centre, "BC", year=2026) == "01/BC-IOC"
        assert allocate_number(world.centre, "BC", year=2027) == "01/BC-IOC"
        assert allocate_number(world.centre, "BBGN", year=2026) == "01/BBGN-IOC"
        assert allocate_number(world.centre, "BC", year=2026) == "02/BC-IOC"


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (dt.date(2026, 12, 3), "ngày 03 tháng 12 năm 2026"),
        (dt.date(2026, 1, 15), "ngày 15 tháng 01 năm 2026"),
        (dt.date(2026, 2, 9), "ngày 09 tháng 02 năm 2026"),
        (dt.date(2026, 3, 1), "ngày 01 tháng 3 năm 2026"),
    ],
)
def test_a_documents_date_is_written_as_the_decree_writes_it(day, written):
    assert document_date(day) == written


@pytest.mark.django_db(transaction=True)
def test_documents_issued_at_the_same_moment_never_share_a_number():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the row lock is exercised on PostgreSQL")
    centre = AgencyFactory(code="ioc-song-song", kind="monitoring_centre")
    start, numbers = threading.Barrier(6), []

    def issue():
        try:
            start.wait()
            with transaction.atomic():
                numbers.append(allocate_number(centre, "BBKT", year=2026))
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(numbers, key=lambda n: int(n.split("/")[0])) == [f"{n:02d}/BBKT-IOC-SONG-SONG" for n in range(1, 7)]
