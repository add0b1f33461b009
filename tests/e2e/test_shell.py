"""In a real browser: sign in, switch language, and read every governance page on a laptop and on a phone."""

import datetime as dt
import zoneinfo

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.models import Agency, AssignmentRule, Camera, User
from governance.second_factor import requires_second_factor
from governance.services import regulation_publish
from tests.auth import enrol_for_browser, fresh_code
from tests.e2e.screens import DESKTOP, PHONE, assert_fits_width
from tests.factories import (
    DEFAULT_PASSWORD,
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    DistrictFactory,
    LegalBasisFactory,
    RegulationVersionFactory,
    UserFactory,
    WardFactory,
    category,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STREETS = ["Hàng Bạc", "Đinh Tiên Hoàng", "Lê Thái Tổ", "Tràng Tiền", "Hàng Đào", "Phố Huế"]


@pytest.fixture
def city():
    """A ward centre with cameras, two legal bases and a published regulation."""
    centre = AgencyFactory(
        code="ttgs-hk",
        name_vi="Trung tâm giám sát Hoàn Kiếm",
        name_en="Hoan Kiem Monitoring Centre",
        kind=Agency.Kind.MONITORING_CENTRE,
    )
    ward_police = AgencyFactory(code="ca-hang-bac", name_vi="Công an phường Hàng Bạc", name_en="Hang Bac Ward Police")
    district = DistrictFactory(code="hoan-kiem", name_vi="Quận Hoàn Kiếm", name_en="Hoan Kiem District")
    wards = [
        WardFactory(code="hang-bac", name_vi="Phường Hàng Bạc", name_en="Hang Bac Ward", parent=district),
        WardFactory(code="trang-tien", name_vi="Phường Tràng Tiền", name_en="Trang Tien Ward", parent=district),
    ]
    for n in range(60):
        CameraFactory(
            code=f"HK-{n:04d}",
            name=f"Ngã tư {STREETS[n % len(STREETS)]} – {STREETS[(n + 1) % len(STREETS)]} số {n}",
            kind=[Camera.Kind.FIXED, Camera.Kind.PTZ, Camera.Kind.ANPR, Camera.Kind.FACE][n % 4],
            status=Camera.Status.MAINTENANCE if n % 9 == 0 else Camera.Status.ACTIVE,
            area=wards[n % 2],
            managing_agency=centre,
            address=f"Số {n + 1} phố {STREETS[n % len(STREETS)]}, Hoàn Kiếm, Hà Nội",
            has_plate_events=n % 4 == 2,
            has_face_events=n % 4 == 3,
            source_url=f"rtsp://10.20.0.{n + 10}:554/Streaming/Channels/101",
            credential_ref=f"vault:cameras/hk-{n:04d}",
        )
    evidence = LegalBasisFactory(
        code="TTHS_THU_THAP_CHUNG_CU",
        title_vi="Thu thập chứng cứ trong vụ án hình sự",
        title_en="Evidence collection in a criminal case",
        citation="BLTTHS 101/2015/QH13 Điều 88 khoản 1, khoản 4",
        verified=True,
        case_number_required=True,
        case_number_label_vi="Số quyết định khởi tố vụ án",
        case_number_label_en="Decision to open a criminal case (number)",
        approvals_required=2,
        valid_from=dt.date(2016, 7, 1),
        categories=["video", "still_image", "plate_events", "face_events"],
    )
    local = LegalBasisFactory(
        code="QUY_CHE_DIA_PHUONG",
        title_vi="Theo quy chế quản lý, khai thác camera của địa phương",
        title_en="Under the city/province camera regulation",
        citation="Quyết định 01/2022/QĐ-UBND (chưa xác minh)",
        verified=False,
        valid_from=dt.date(2022, 1, 1),
        categories=["video"],
    )
    administrator = UserFactory(
        username="quantri", first_name="Minh", last_name="Trần Quang", agency=centre, is_staff=True, roles=["administrator"]
    )
    version = RegulationVersionFactory(
        number="QC-2026-01",
        decision_reference="Quyết định số 12/QĐ-UBND ngày 20/12/2025",
        effective_from=dt.datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")),
    )
    version.legal_bases.add(evidence, local)
    for duty in AssignmentRule.Duty:
        AssignmentRuleFactory(version=version, duty=duty, agency=centre, area=district)
    AssignmentRuleFactory(
        version=version,
        duty=AssignmentRule.Duty.APPROVE,
        agency=ward_police,
        area=wards[0],
        data_category=category("face_events"),
    )
    with transaction.atomic():
        regulation_publish(actor=administrator, version=version)
    custodian = UserFactory(
        username="vanhanh", first_name="Thị Hương", last_name="Nguyễn", agency=centre, roles=["custodian", "reviewer"]
    )
    requester = UserFactory(username="alice", first_name="Thị Lan", last_name="Phạm", agency=ward_police, roles=["requester"])
    return {"custodian": custodian, "requester": requester, "administrator": administrator}


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url
    user = User.objects.get(username=username)
    if requires_second_factor(user) and not TOTPDevice.objects.filter(user=user).exists():
        enrol_for_browser(user)
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    if requires_second_factor(user):
        # The second step of the sign-in: the code of the authenticator app, as a person types it.
        page.wait_for_url(f"{base_url}/accounts/second-factor/**")
        page.fill("#id_code", fresh_code(user))
        page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def screenshot(page, path):
    """The whole page, cut at 2,000 pixels so that a long list stays legible."""
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), 2000)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})


def tour(page, base_url, shots, prefix):
    """Visit every governance page, check it fits the window, and photograph it."""

    def shoot(name):
        page.wait_for_load_state("load")  # the stylesheet too, before measuring
        assert_fits_width(page)
        screenshot(page, shots / f"{prefix}-{name}.png")

    shoot("home")
    page.click("nav.nav a[href='/cameras/']")
    page.fill("#id_q", "HK-001")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("text=HK-0010")
    assert page.locator("table tbody tr").count() == 10
    shoot("cameras-search")
    page.goto(f"{base_url}/cameras/")
    shoot("cameras")
    page.click("text=HK-0002")
    page.wait_for_selector("h1 >> text=HK-0002")
    shoot("camera")
    page.click("nav.nav a[href='/legal-bases/']")
    shoot("legal-bases")
    page.click("table a[href$='/legal-bases/QUY_CHE_DIA_PHUONG/']")
    page.wait_for_selector(".alert-warn")
    shoot("legal-basis")
    page.click("nav.nav a[href='/regulation/']")
    page.wait_for_selector("text=QC-2026-01")
    shoot("regulation")


def test_officer_signs_in_switches_language_and_reads_the_governance_pages(live_server, browser, city, screenshot_dir):
    base_url = live_server.url

    desktop = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = desktop.new_page()
    page.goto(f"{base_url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "vi"
    screenshot(page, screenshot_dir / "desktop-login.png")
    sign_in(page, base_url, "vanhanh")
    assert page.locator("text=Trung tâm giám sát Hoàn Kiếm").first.is_visible()
    screenshot(page, screenshot_dir / "desktop-home-vi.png")

    page.click(".lang-switch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("text=Hoan Kiem Monitoring Centre").first.is_visible()
    tour(page, base_url, screenshot_dir, "desktop-en")
    page.goto(f"{base_url}/cameras/HK-0002/")
    assert page.locator("text=rtsp://10.20.0.12:554").is_visible()  # the managing centre's custodian sees the source

    page.click(".lang-switch button[value=vi]")
    page.wait_for_selector("html[lang=vi]")
    page.click(".nav-user button[type=submit]")
    page.wait_for_url(f"{base_url}/accounts/login/")
    desktop.close()

    phone = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.new_page()
    page.goto(f"{base_url}/accounts/login/")
    assert_fits_width(page)
    screenshot(page, screenshot_dir / "phone-login.png")
    sign_in(page, base_url, "alice")
    tour(page, base_url, screenshot_dir, "phone-vi")
    page.goto(f"{base_url}/cameras/HK-0002/")
    assert page.locator("text=rtsp://").count() == 0  # a requester never sees it
    phone.close()

    assert len(list(screenshot_dir.glob("*.png"))) >= 16
