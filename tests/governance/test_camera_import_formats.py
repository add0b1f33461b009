"""Camera CSV files as a Vietnamese centre has them: Excel's semicolons, tabs, Vietnamese names, and the template."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from governance.imports import COLUMNS, CameraImportError, camera_import_csv
from governance.models import Agency, Camera
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, DistrictFactory, ProvinceFactory, UserFactory, WardFactory

BOM = b"\xef\xbb\xbf"
ROWS = [
    {
        "code": "HK-HB-001",
        "name": "Ngã tư Hàng Bạc – Mã Mây",
        "kind": "ptz",
        "area_code": "hn-hk-hang-bac",
        "managing_agency_code": "ioc-hk",
        "address": "Số 2 Hàng Bạc, phường Hàng Bạc; Hoàn Kiếm",
        "latitude": "21.034210",
        "longitude": "105.852710",
        "has_video": "có",
        "has_plate_events": "0",
        "has_face_events": "không",
        "retention_days": "30",
        "status": "active",
        "source_url": "nvr://ioc-hk/hb-001",
        "credential_ref": "nvr-hk-readonly",
    },
    {
        "code": "HK-HD-002",
        "name": "Đầu phố Hàng Đào",
        "kind": "anpr",
        "area_code": "hn-hk-hang-dao",
        "managing_agency_code": "ioc-hk",
        "address": "",
        "latitude": "",
        "longitude": "",
        "has_video": "1",
        "has_plate_events": "1",
        "has_face_events": "0",
        "retention_days": "90",
        "status": "maintenance",
        "source_url": "",
        "credential_ref": "",
    },
]


def csv_file(rows=ROWS, *, delimiter=",", columns=COLUMNS, bom=False, name="cameras.csv"):
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    data = out.getvalue().encode("utf-8")
    file = io.BytesIO(BOM + data if bom else data)
    file.name = name
    return file


def raw_file(data):
    file = io.BytesIO(data)
    file.name = "cameras.csv"
    return file


def cameras():
    """Every imported field of every camera, as the admin would compare them."""
    return sorted(
        Camera.objects.values_list(
            "code",
            "name",
            "kind",
            "area__code",
            "managing_agency__code",
            "address",
            "latitude",
            "longitude",
            "has_video",
            "has_plate_events",
            "has_face_events",
            "retention_days",
            "status",
            "source_url",
            "credential_ref",
        )
    )


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def places(db):
    """The demo's areas and centre (governance/demo.py) that the example rows and the template name."""
    district = DistrictFactory(code="hn-hk", name_vi="Quận Hoàn Kiếm", parent=ProvinceFactory(code="hn"))
    WardFactory(code="hn-hk-hang-bac", name_vi="Phường Hàng Bạc", parent=district)
    WardFactory(code="hn-hk-hang-dao", name_vi="Phường Hàng Đào", parent=district)
    return AgencyFactory(code="ioc-hk", kind=Agency.Kind.MONITORING_CENTRE, area=district)


# Separators ---------------------------------------------------------------------------


def test_a_semicolon_file_gives_the_same_cameras_as_a_comma_file(places, admin_user):
    camera_import_csv(actor=admin_user, file=csv_file(delimiter=","))
    from_commas = cameras()

    result = camera_import_csv(actor=admin_user, file=csv_file(delimiter=";"))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert cameras() == from_commas


@pytest.mark.parametrize(("delimiter", "bom"), [(";", False), (";", True), ("\t", False), ("\t", True)])
def test_semicolon_and_tab_files_with_or_without_bom_create_the_cameras(places, admin_user, delimiter, bom):
    result = camera_import_csv(actor=admin_user, file=csv_file(delimiter=delimiter, bom=bom))

    assert result.created == 2
    first = Camera.objects.get(code="HK-HB-001")
    assert first.name == "Ngã tư Hàng Bạc – Mã Mây"
    assert first.address == "Số 2 Hàng Bạc, phường Hàng Bạc; Hoàn Kiếm"
    assert (first.latitude, first.longitude) == (Decimal("21.034210"), Decimal("105.852710"))
    second = Camera.objects.get(code="HK-HD-002")
    assert (second.kind, second.status, second.retention_days, second.has_plate_events) == ("anpr", "maintenance", 90, True)


def test_excel_decimal_commas_in_a_semicolon_file_are_read(places, admin_user):
    rows = [{**ROWS[0], "latitude": "21,034210", "longitude": "105,852710"}]

    camera_import_csv(actor=admin_user, file=csv_file(rows, delimiter=";", bom=True))

    camera = Camera.objects.get(code="HK-HB-001")
    assert (camera.latitude, camera.longitude) == (Decimal("21.034210"), Decimal("105.852710"))


def test_a_comma_inside_a_quoted_heading_does_not_decide_the_separator(places, admin_user):
    data = b'"code";"name";"kind";"area_code";"managing_agency_code, the agency"\r\n'

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(data + b"HK-1;A;ptz;hn-hk-hang-bac;ioc-hk\r\n"))

    [(line, message)] = [error for error in refused.value.errors if "Unknown columns" in error[1]]
    assert line == 1 and "managing_agency_code, the agency" in message


def test_a_header_without_an_accepted_separator_is_refused_naming_them(places, admin_user):
    data = b"code|name|kind|area_code|managing_agency_code\r\nHK-1|A|ptz|hn-hk-hang-bac|ioc-hk\r\n"

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(data))

    [(line, message)] = refused.value.errors
    assert line == 1
    assert "commas (,)" in message and "semicolons (;)" in message and "tabs" in message
    assert not Camera.objects.exists()


def test_a_header_of_a_single_known_column_still_names_the_missing_columns(places, admin_user):
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(b"code\r\nHK-1\r\n"))

    [(line, message)] = refused.value.errors
    assert line == 1 and "Missing required columns" in message and "managing_agency_code" in message


def test_nul_bytes_are_still_refused_in_a_semicolon_file(places, admin_user):
    rows = [{**ROWS[0], "name": "Hàng\x00Bạc"}]

    with pytest.raises(CameraImportError) as in_a_cell:
        camera_import_csv(actor=admin_user, file=csv_file(rows, delimiter=";"))
    with pytest.raises(CameraImportError) as in_the_header:
        camera_import_csv(
            actor=admin_user, file=raw_file(b"code;name\x00;kind;area_code;managing_agency_code\r\nHK-1;A;ptz;x;y\r\n")
        )

    [(line, message)] = in_a_cell.value.errors
    assert line == 2 and "control character" in message and "name" in message
    assert "control character" in in_the_header.value.errors[0][1]
    assert not Camera.objects.exists()


def test_invisible_characters_that_reorder_or_hide_text_are_refused(places, admin_user):
    for invisible in ("\u202e", "\u2028", "\u200b", "\u2066"):
        rows = [{**ROWS[0], "name": f"Hàng{invisible}Bạc"}]
        with pytest.raises(CameraImportError) as refused:
            camera_import_csv(actor=admin_user, file=csv_file(rows, delimiter=";"))
        [(line, message)] = refused.value.errors
        assert line == 2 and "name" in message, repr(invisible)
    assert not Camera.objects.exists()


def test_blank_lines_before_the_header_are_skipped_and_lines_keep_their_numbers(places, admin_user):
    rows = [{**ROWS[0], "kind": "dome"}]
    data = b"\r\n\r\n" + csv_file(rows, delimiter=";").getvalue()

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(data))

    [(line, message)] = refused.value.errors
    assert line == 4 and "dome" in message  # the header is line 3 of the file


def test_a_very_long_unknown_column_is_named_back_shortened(places, admin_user):
    data = ("code;name;kind;area_code;managing_agency_code;" + "x" * 70_000 + "\r\n").encode()

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(data))

    message = " ".join(m for _line, m in refused.value.errors)
    assert "x" * 59 + "…" in message and len(message) < 2000


def test_a_file_saved_as_plain_csv_by_vietnamese_excel_is_refused_with_the_way_to_save_it(places, admin_user):
    rows = [{**ROWS[0], "name": "Hàng Bè", "address": ""}]  # letters Windows-1258 holds precomposed
    data = csv_file(rows, delimiter=";").getvalue().decode().encode("cp1258")

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=raw_file(data))

    [(line, message)] = refused.value.errors
    assert line == 2 and "CSV UTF-8 (Comma delimited)" in message
    assert not Camera.objects.exists()


# Vietnamese names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Cố định", "fixed"),
        ("co dinh", "fixed"),
        ("  CỐ   ĐỊNH ", "fixed"),
        ("PTZ (quay quét)", "ptz"),
        ("quay quet", "ptz"),
        ("Nhận dạng biển số (ANPR)", "anpr"),
        ("biển số", "anpr"),
        ("Nhận dạng khuôn mặt", "face"),
        ("FIXED", "fixed"),
        ("Face recognition", "face"),
    ],
)
def test_kind_accepts_vietnamese_names_without_regard_to_case_or_diacritics(places, admin_user, kind, expected):
    camera_import_csv(actor=admin_user, file=csv_file([{**ROWS[0], "kind": kind}], delimiter=";"))

    assert Camera.objects.get(code="HK-HB-001").kind == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("hoat dong", "active"),
        ("Đang hoạt động", "active"),
        ("đang bảo trì", "maintenance"),
        ("MẤT KẾT NỐI", "offline"),
        ("Ngừng sử dụng", "decommissioned"),
        ("decommissioned", "decommissioned"),
        ("", "active"),
    ],
)
def test_status_accepts_vietnamese_names_without_regard_to_case_or_diacritics(places, admin_user, status, expected):
    camera_import_csv(actor=admin_user, file=csv_file([{**ROWS[0], "status": status}]))

    assert Camera.objects.get(code="HK-HB-001").status == expected


def test_an_unknown_kind_is_refused_naming_the_codes_and_their_vietnamese_names(places, admin_user):
    with translation.override("vi"), pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=csv_file([{**ROWS[0], "kind": "dome"}], delimiter=";"))

    [(line, message)] = refused.value.errors
    assert line == 2 and "dome" in message
    assert "ptz / PTZ (quay quét)" in message and "fixed / Cố định" in message and "face / Nhận dạng khuôn mặt" in message
    assert not Camera.objects.exists()


def test_columns_may_be_headed_by_their_vietnamese_names(places, admin_user):
    headings = ["Mã camera", "Tên camera", "loai camera", "Mã địa bàn", "MÃ ĐƠN VỊ QUẢN LÝ", "Trạng thái", "Vĩ độ", "Kinh độ"]
    data = csv_file(delimiter=";", columns=headings).getvalue().decode()
    # The cells follow the English column names, in the order of the headings.
    values = ";".join(
        ROWS[0][c] for c in ("code", "name", "kind", "area_code", "managing_agency_code", "status", "latitude", "longitude")
    )
    data = data.split("\r\n", 1)[0] + "\r\n" + values + "\r\n"

    camera_import_csv(actor=admin_user, file=raw_file(data.encode()))

    camera = Camera.objects.get(code="HK-HB-001")
    assert (camera.name, camera.kind, camera.area.code, camera.status) == (
        "Ngã tư Hàng Bạc – Mã Mây",
        "ptz",
        "hn-hk-hang-bac",
        "active",
    )
    assert camera.latitude == Decimal("21.034210")


def test_a_column_given_by_both_its_code_and_its_vietnamese_heading_is_refused(places, admin_user):
    columns = (*COLUMNS[:5], "Mã camera")

    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=csv_file(columns=columns, delimiter=";"))

    [(line, message)] = refused.value.errors
    assert line == 1 and "more than once" in message and "code" in message


# The template and the import page -------------------------------------------------------------


def template_url():
    return reverse("admin:governance_camera_import_template")


def test_the_template_downloads_as_utf8_with_bom_and_every_column(client, admin_user):
    sign_in_verified(client, admin_user, language="en")

    response = client.get(template_url())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(BOM)
    text = response.content.decode("utf-8-sig")
    header, *rows = [line for line in text.split("\r\n") if line]
    assert header.split(";") == list(COLUMNS)
    assert len(rows) == 2 and "Hàng Bạc" in text


def test_the_template_imported_as_it_is_creates_its_example_cameras(client, admin_user, places):
    sign_in_verified(client, admin_user, language="en")
    template = client.get(template_url()).content

    response = client.post(
        reverse("admin:governance_camera_import"),
        {"file": SimpleUploadedFile("mau-nhap-camera.csv", template, content_type="text/csv")},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("admin:governance_camera_changelist")
    first, second = Camera.objects.order_by("code")
    assert (first.code, first.kind, first.status, first.area.code) == ("HK-HB-901", "fixed", "active", "hn-hk-hang-bac")
    assert first.latitude == Decimal("21.034210") and first.has_video and not first.has_plate_events
    assert (second.code, second.kind, second.status, second.area.code) == ("HK-HD-902", "anpr", "maintenance", "hn-hk-hang-dao")
    assert second.managing_agency == places and second.retention_days == 90


def test_only_those_who_may_import_download_the_template(client, agency_a):
    staff = UserFactory(username="nhanvien", agency=agency_a, is_staff=True, roles=["requester"])
    ward_admin = UserFactory(username="ca-hang-bac.admin", agency=agency_a, is_staff=True, roles=["administrator"])

    for user in (staff, ward_admin):
        sign_in_verified(client, user, language="en")
        import_page = client.get(reverse("admin:governance_camera_import"))
        template = client.get(template_url())
        assert import_page.status_code == 403, user
        assert template.status_code == 403, user
        assert b"HK-HB-901" not in template.content


def test_the_template_is_behind_the_admin_login(client):
    response = client.get(template_url())

    assert response.status_code == 302 and "login" in response["Location"]


def test_the_import_page_links_the_template_and_lists_the_columns_in_vietnamese(client, admin_user):
    sign_in_verified(client, admin_user, language="vi")

    page = client.get(reverse("admin:governance_camera_import")).content.decode()

    assert f'href="{template_url()}"' in page
    assert 'id="import-columns"' in page
    for column in COLUMNS:
        assert f"<code>{column}</code>" in page, column
    assert "fixed / Cố định" in page and "active / Đang hoạt động" in page
    assert "mã đơn vị quản lý" in page
