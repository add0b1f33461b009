"""Importing cameras from CSV: every row is checked, then all are written in one go, or none."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from audit.models import Action, AuditEvent
from governance.imports import COLUMNS, CameraImportError, camera_import_csv
from governance.models import Agency, Area, Camera, RecorderSite
from tests.factories import AgencyFactory, CameraFactory, DistrictFactory, ProvinceFactory, WardFactory

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "examples" / "cameras.csv"

GOOD = {
    "code": "HK-HB-001",
    "name": "Ngã tư Hàng Bạc – Mã Mây",
    "kind": "ptz",
    "area_code": "hn-hk-hang-bac",
    "managing_agency_code": "ioc-hk",
    "address": "Số 2 Hàng Bạc, phường Hàng Bạc",
    "latitude": "21.034210",
    "longitude": "105.852710",
    "has_video": "1",
    "has_plate_events": "0",
    "has_face_events": "không",
    "retention_days": "30",
    "status": "active",
    "source_url": "rtsp://10.20.1.11:554/Streaming/Channels/101",
    "credential_ref": "nvr-hk-01",
}


def csv_bytes(*rows, columns=COLUMNS, bom=False):
    out = io.StringIO()
    out.write(",".join(columns) + "\r\n")
    for row in rows:
        cells = []
        for column in columns:
            value = str(row.get(column, ""))
            cells.append(f'"{value}"' if ("," in value or "\n" in value) else value)
        out.write(",".join(cells) + "\r\n")
    data = out.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def upload(data, name="cameras.csv"):
    file = io.BytesIO(data)
    file.name = name
    return file


def row(**changes):
    return {**GOOD, **changes}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def ward(db):
    district = DistrictFactory(code="hn-hk", name_vi="Quận Hoàn Kiếm")
    return WardFactory(code="hn-hk-hang-bac", name_vi="Phường Hàng Bạc", parent=district)


@pytest.fixture
def centre(db):
    return AgencyFactory(code="ioc-hk", name_vi="Trung tâm giám sát Hoàn Kiếm", kind=Agency.Kind.MONITORING_CENTRE)


@pytest.fixture
def places(ward, centre):
    return ward, centre


def import_events():
    return AuditEvent.objects.filter(action=Action.CAMERA_IMPORT)


def test_import_creates_cameras_and_writes_one_ledger_event(places, admin_user):
    ward, centre = places
    data = csv_bytes(row(), row(code="HK-HB-002", kind="anpr", has_plate_events="có", latitude="", longitude=""))

    result = camera_import_csv(actor=admin_user, file=upload(data, name="hang-bac.csv"))

    assert (result.created, result.updated, result.rows) == (2, 0, 2)
    first = Camera.objects.get(code="HK-HB-001")
    assert first.name == "Ngã tư Hàng Bạc – Mã Mây"
    assert first.area == ward and first.managing_agency == centre
    assert first.latitude == Decimal("21.034210")
    assert (first.has_video, first.has_plate_events, first.has_face_events) == (True, False, False)
    second = Camera.objects.get(code="HK-HB-002")
    assert second.has_plate_events is True and second.latitude is None
    [event] = import_events()
    assert event.actor == admin_user
    assert event.data["created"] == 2 and event.data["updated"] == 0 and event.data["rows"] == 2
    assert event.data["filename"] == "hang-bac.csv"
    assert event.data["sha256"] == result.sha256 and len(result.sha256) == 64


def test_import_updates_existing_camera_by_code(places, admin_user):
    ward, centre = places
    CameraFactory(code="HK-HB-001", name="Tên cũ", area=ward, managing_agency=centre, status=Camera.Status.OFFLINE)

    result = camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(name="Tên mới"), row(code="HK-HB-009"))))

    assert (result.created, result.updated) == (1, 1)
    camera = Camera.objects.get(code="HK-HB-001")
    assert camera.name == "Tên mới" and camera.status == Camera.Status.ACTIVE
    assert Camera.objects.count() == 2


def test_reimporting_the_same_file_leaves_cameras_unchanged(places, admin_user):
    data = csv_bytes(row(), row(code="HK-HB-002"))
    camera_import_csv(actor=admin_user, file=upload(data))
    stamp = Camera.objects.get(code="HK-HB-001").updated_at

    result = camera_import_csv(actor=admin_user, file=upload(data))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert Camera.objects.get(code="HK-HB-001").updated_at == stamp
    assert import_events().count() == 2


def test_optional_column_left_out_keeps_the_existing_value(places, admin_user):
    ward, centre = places
    CameraFactory(code="HK-HB-001", area=ward, managing_agency=centre, retention_days=90, source_url="nvr://hk/1")
    columns = ("code", "name", "kind", "area_code", "managing_agency_code")

    camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(name="Đổi tên"), columns=columns)))

    camera = Camera.objects.get(code="HK-HB-001")
    assert camera.name == "Đổi tên"
    assert camera.retention_days == 90 and camera.source_url == "nvr://hk/1"


def test_import_with_bad_rows_imports_nothing_and_names_each_line(places, admin_user):
    data = csv_bytes(
        row(code="OK-1"),
        row(code="BAD-KIND", kind="dome"),
        row(code="BAD-AREA", area_code="hn-nowhere"),
        row(code="BAD-LAT", latitude="123.5"),
        row(code="OK-2"),
        row(code="BAD-AGENCY", managing_agency_code="no-such-agency", retention_days="-3"),
    )

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    lines = [line for line, _ in refused.value.errors]
    assert lines == [3, 4, 5, 7, 7]
    messages = dict(refused.value.errors)
    assert "dome" in messages[3] and "ptz" in messages[3]
    assert "hn-nowhere" in messages[4]
    assert "latitude" in messages[5]
    assert any("no-such-agency" in m for line, m in refused.value.errors if line == 7)
    assert any("retention_days" in m for line, m in refused.value.errors if line == 7)
    assert "line 3:" in refused.value.messages[0]
    assert not Camera.objects.exists()
    assert not import_events().exists()


def test_a_vietnamese_administrator_reads_each_refused_line_in_vietnamese(places, admin_user):
    data = csv_bytes(
        row(code="OK-1"),
        row(code="BAD-KIND", kind="dome"),
        row(code="BAD-AREA", area_code="hn-nowhere"),
        row(code="BAD-AGENCY", managing_agency_code="no-such-agency"),
    )

    with translation.override("vi"), pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    assert refused.value.messages == [
        "dòng 3: dome không phải giá trị hợp lệ của cột kind; hãy dùng một trong các giá trị: ptz / PTZ (quay quét), "
        "fixed / Cố định, anpr / Nhận dạng biển số (ANPR), face / Nhận dạng khuôn mặt.",
        "dòng 4: Không có địa bàn nào có mã hn-nowhere.",
        "dòng 5: Không có đơn vị nào có mã no-such-agency.",
    ]
    assert not Camera.objects.exists()
    assert not import_events().exists()


def data_line(values):
    return csv_bytes(values).decode().split("\r\n", 1)[1]


def test_line_numbers_are_lines_of_the_file_with_blank_lines_and_multiline_cells(places, admin_user):
    text = (
        ",".join(COLUMNS)
        + "\r\n"  # line 1
        + "\r\n"  # line 2, blank
        + data_line(row(code="A-1", address="Số 2 Hàng Bạc,\nphường Hàng Bạc"))  # lines 3 and 4
        + "\r\n"  # line 5, blank
        + data_line(row(code="A-2", name=""))  # line 6
    )

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(text.encode()))

    [(line, message)] = refused.value.errors
    assert line == 6 and "name" in message


def test_duplicate_code_inside_the_file_is_refused_naming_the_first_line(places, admin_user):
    data = csv_bytes(row(), row(name="Trùng mã"))

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    [(line, message)] = refused.value.errors
    assert line == 3 and "HK-HB-001" in message and "line 2" in message
    assert not Camera.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "rtsp://admin:matkhau123@10.20.1.11:554/stream",
        "rtsp://admin@10.20.1.11/stream",
        "http://10.20.1.11/cgi-bin/snapshot.cgi?user=admin&password=matkhau",
        "ftp://10.20.1.11/video",
    ],
)
def test_source_address_with_password_is_refused(places, admin_user, address):
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(source_url=address))))

    [(line, message)] = refused.value.errors
    assert line == 2 and "source address" in message
    assert "matkhau" not in message
    assert not Camera.objects.exists()


def test_values_longer_than_the_field_are_refused(places, admin_user):
    data = csv_bytes(row(code="X" * 41), row(code="HK-2", name="N" * 201), row(code="HK-3", credential_ref="c" * 121))

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    assert [line for line, _ in refused.value.errors] == [2, 3, 4]


def test_missing_and_unknown_header_columns_are_refused(places, admin_user):
    columns = ("code", "name", "kind", "area_code", "camera_brand")

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(), columns=columns)))

    messages = " ".join(message for _, message in refused.value.errors)
    assert {line for line, _ in refused.value.errors} == {1}
    assert "camera_brand" in messages and "managing_agency_code" in messages


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\r\n"])
def test_empty_file_is_refused(db, admin_user, data):
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    assert "empty" in refused.value.errors[0][1]


def test_header_without_rows_is_refused(places, admin_user):
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes()))

    assert "no cameras" in refused.value.errors[0][1]


def test_file_over_the_size_limit_is_refused(places, admin_user, settings):
    settings.CAMERA_IMPORT_MAX_BYTES = 200

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(), row(code="HK-2"))))

    assert "200 bytes" in refused.value.errors[0][1]
    assert not Camera.objects.exists()


def test_file_that_is_not_utf8_is_refused_naming_the_line(places, admin_user):
    data = csv_bytes(row(), row(code="HK-2")) + data_line(row(code="HK-3", name="Café Phố Cổ")).encode("latin-1", "replace")

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))

    [(line, message)] = refused.value.errors
    assert line == 4 and "UTF-8" in message
    assert not Camera.objects.exists()


def test_bom_and_text_file_objects_are_accepted(places, admin_user):
    camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(), bom=True)))
    text = io.StringIO(csv_bytes(row(code="HK-HB-002")).decode())

    result = camera_import_csv(actor=admin_user, file=text)

    assert result.created == 1
    assert set(Camera.objects.values_list("code", flat=True)) == {"HK-HB-001", "HK-HB-002"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [("1", True), ("true", True), ("Có", True), ("yes", True), ("0", False), ("FALSE", False), ("không", False), ("no", False)],
)
def test_yes_no_columns_accept_vietnamese_and_english_words(places, admin_user, word, expected):
    camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(has_face_events=word))))

    assert Camera.objects.get(code="HK-HB-001").has_face_events is expected


def test_unclear_yes_no_value_is_refused(places, admin_user):
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(has_video="maybe"))))

    assert "has_video" in refused.value.errors[0][1]


def test_latitude_without_longitude_is_refused(places, admin_user):
    with pytest.raises(CameraImportError):
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(longitude=""))))


def test_example_file_imports_cleanly_against_the_demo_codes(db, admin_user):
    province = ProvinceFactory(code="hn")
    district = Area.objects.create(code="hn-hk", name_vi="Quận Hoàn Kiếm", level=Area.Level.DISTRICT, parent=province)
    for code in ("hn-hk-hang-bac", "hn-hk-hang-dao", "hn-hk-trang-tien", "hn-hk-phuc-tan", "hn-hk-ly-thai-to"):
        Area.objects.create(code=code, name_vi=code, level=Area.Level.WARD, parent=district)
    AgencyFactory(code="ioc-hk", kind=Agency.Kind.MONITORING_CENTRE)

    with EXAMPLE_FILE.open("rb") as file:
        result = camera_import_csv(actor=admin_user, file=file)

    assert result.created == 20 and result.filename == "cameras.csv"
    assert Camera.objects.filter(area__parent=district).count() == 20
    assert Camera.objects.get(code="HK-HB-101").name == "Ngã tư Hàng Bạc – Mã Mây"


def test_import_makes_a_fixed_number_of_queries_whatever_the_row_count(places, admin_user, django_assert_max_num_queries):
    rows = [row(code=f"HK-{n:04d}") for n in range(300)]

    with django_assert_max_num_queries(40):
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(*rows)))

    assert Camera.objects.count() == 300


# The management command ---------------------------------------------------------


def test_management_command_imports_the_file_and_reports_counts(places, admin_user, tmp_path):
    path = tmp_path / "cameras.csv"
    path.write_bytes(csv_bytes(row(), row(code="HK-HB-002")))
    out = io.StringIO()

    call_command("import_cameras", str(path), "--actor", admin_user.username, stdout=out)

    assert "2" in out.getvalue()
    assert Camera.objects.count() == 2
    assert import_events().get().actor == admin_user


def test_management_command_exits_nonzero_on_bad_rows(places, tmp_path):
    path = tmp_path / "cameras.csv"
    path.write_bytes(csv_bytes(row(), row(code="HK-2", kind="dome"), row(code="HK-3", area_code="nowhere")))
    err = io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("import_cameras", str(path), stderr=err)

    assert "nothing was imported" in str(refused.value)
    printed = err.getvalue().splitlines()
    assert printed[0].startswith("line 3:") and "dome" in printed[0]
    assert printed[1].startswith("line 4:") and "nowhere" in printed[1]
    assert not Camera.objects.exists()


def test_management_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("import_cameras", str(tmp_path / "missing.csv"))

    assert "missing.csv" in str(refused.value)


def test_management_command_refuses_an_unknown_actor(places, tmp_path):
    path = tmp_path / "cameras.csv"
    path.write_bytes(csv_bytes(row()))

    with pytest.raises(CommandError):
        call_command("import_cameras", str(path), "--actor", "nobody")

    assert not Camera.objects.exists()


def test_a_camera_is_placed_at_its_recorder_site_by_code_and_an_unknown_site_is_named(places, admin_user):
    site = RecorderSite.objects.create(code="dg-hk-1", name="Đầu ghi Hoàn Kiếm 1", queue="site-hk-1")
    camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(site_code="dg-hk-1"), row(code="HK-HB-002"))))
    assert Camera.objects.get(code="HK-HB-001").site == site
    assert Camera.objects.get(code="HK-HB-002").site is None

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(csv_bytes(row(site_code="dg-khong-co"))))
    assert refused.value.errors == [(2, "No recorder site has the code dg-khong-co.")]
    assert Camera.objects.get(code="HK-HB-001").site == site
