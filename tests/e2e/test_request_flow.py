"""In a real browser: a ward police officer files a request, the centre reviews and approves it, an inspector reports on it."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.db import transaction
from django.utils import timezone

from governance.models import Agency, AssignmentRule, Camera, User
from governance.second_factor import requires_second_factor
from governance.services import regulation_publish
from oversight.models import Report
from requests.models import FootageRequest, Status
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
)
from tests.requests.conftest import PDF_BYTES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
PDF = PDF_BYTES
STREETS = ["Hàng Bạc", "Đinh Liệt", "Mã Mây", "Hàng Buồm", "Tạ Hiện"]


@pytest.fixture
def city():
    """A ward police that files, a monitoring centre that reviews, approves and exports, and a regulation in force."""
    district = DistrictFactory(code="hoan-kiem", name_vi="Quận Hoàn Kiếm", name_en="Hoan Kiem District")
    ward = WardFactory(code="hang-bac", name_vi="Phường Hàng Bạc", name_en="Hang Bac Ward", parent=district)
    centre = AgencyFactory(
        code="ttgs-hk",
        name_vi="Trung tâm giám sát Hoàn Kiếm",
        name_en="Hoan Kiem Monitoring Centre",
        kind=Agency.Kind.MONITORING_CENTRE,
        area=district,
    )
    ward_police = AgencyFactory(code="ca-hang-bac", name_vi="Công an phường Hàng Bạc", name_en="Hang Bac Ward Police", area=ward)
    for n, street in enumerate(STREETS):
        CameraFactory(
            code=f"HB-{n + 1:04d}",
            name=f"Ngã tư {street} – {STREETS[(n + 1) % len(STREETS)]}",
            kind=Camera.Kind.FIXED,
            area=ward,
            managing_agency=centre,
        )
    basis = LegalBasisFactory(
        code="CAND_YEU_CAU_TT",
        title_vi="Yêu cầu cung cấp thông tin, tài liệu (Luật CAND)",
        title_en="Police information request on security/public-order grounds",
        citation="Luật Công an nhân dân 37/2018/QH14 Điều 16 khoản 16",
        verified=True,
        max_window_hours=24,
        max_cameras=3,
        categories=["video", "still_image"],
    )
    LegalBasisFactory(
        code="TTHS_THU_THAP_CHUNG_CU",
        title_vi="Thu thập chứng cứ trong vụ án hình sự",
        title_en="Evidence collection in a criminal case",
        case_number_required=True,
        case_number_label_vi="Số quyết định khởi tố vụ án",
        case_number_label_en="Decision to open a criminal case (number)",
        categories=["video", "plate_events"],
    )
    version = RegulationVersionFactory(number="QC-2026-01")
    version.legal_bases.set(type(basis).objects.all())
    for duty in AssignmentRule.Duty:
        AssignmentRuleFactory(version=version, duty=duty, agency=centre, area=district)
    with transaction.atomic():
        regulation_publish(actor=None, version=version)
    UserFactory(username="alice", first_name="Thị Lan", last_name="Phạm", agency=ward_police, roles=["requester"])
    reviewer = UserFactory(username="thamdinh", first_name="Văn Hùng", last_name="Lê", agency=centre, roles=["reviewer"])
    approver = UserFactory(username="pheduyet", first_name="Quốc Bảo", last_name="Trần", agency=centre, roles=["approver"])
    inspectorate = AgencyFactory(
        code="thanh-tra-hk", name_vi="Thanh tra quận Hoàn Kiếm", kind=Agency.Kind.INSPECTORATE, area=district
    )
    auditor = UserFactory(username="thanhtra", first_name="Thu Hà", last_name="Vũ", agency=inspectorate, roles=["auditor"])
    for privileged in (reviewer, approver, auditor):
        enrol_for_browser(privileged)
    return {"basis": basis}


def new_page(browser, base_url, viewport, username):
    context = browser.new_context(viewport=viewport, locale="en-US", is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    context.add_cookies([{"name": "django_language", "value": "en", "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    pass_second_factor(page, base_url, username)
    page.wait_for_url(f"{base_url}/")
    return page


def pass_second_factor(page, base_url, username):
    """Reviewers, approvers and auditors confirm the sign-in with a code, as a person types it from the phone."""
    user = User.objects.get(username=username)
    if not requires_second_factor(user):
        return
    page.wait_for_url(f"{base_url}/accounts/second-factor/**")
    page.fill("#id_code", fresh_code(user))
    page.click("main button[type=submit]")


def shoot(page, path):
    page.wait_for_load_state("load")
    assert_fits_width(page)
    width = page.viewport_size["width"]
    height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})


def local(moment):
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")  # as the form asks, whatever the browser


def fill_request(page, base_url):
    page.goto(f"{base_url}/requests/new/")
    page.select_option("#id_basis", "CAND_YEU_CAU_TT")
    assert "basis=" not in page.url  # choosing is not applying: the keyboard may arrow through the list
    page.click("#basis-form [data-continue]")
    page.wait_for_selector("text=What this legal basis requires")
    assert "basis=CAND_YEU_CAU_TT" in page.url
    page.fill("#id_letter_number", "128/CV-CAHB")
    page.fill("#id_purpose", "Xác minh vụ trộm xe máy trước số 12 phố Hàng Bạc")
    page.select_option("#id_urgency", "urgent")
    page.set_input_files("#id_letter", files=[{"name": "cong-van-128.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    # The camera picker: typing part of a street name offers the matching cameras.
    page.fill("#id_items-0-camera", "Mã Mây")
    # A selector, not a predicate: the page's Content-Security-Policy forbids the eval a predicate would need.
    page.wait_for_selector("#camera-options option", state="attached")
    offered = page.eval_on_selector_all("#camera-options option", "options => options.map((o) => o.value)")
    assert offered == ["HB-0002", "HB-0003"]
    page.fill("#id_items-0-camera", "HB-0003")
    end = timezone.now() - dt.timedelta(hours=5)
    page.fill("#id_items-0-start", local(end - dt.timedelta(hours=2)))
    page.fill("#id_items-0-end", local(end))


def test_request_is_filed_reviewed_and_approved_in_the_browser(live_server, browser, city, screenshot_dir):
    base_url = live_server.url

    requester = new_page(browser, base_url, DESKTOP, "alice")
    fill_request(requester, base_url)
    shoot(requester, screenshot_dir / "request-form-desktop.png")
    requester.click("button[name=action][value=submit]")
    requester.wait_for_selector("text=was submitted for review")
    footage_request = FootageRequest.objects.get()
    assert footage_request.status == Status.SUBMITTED and footage_request.attachments.count() == 1
    assert requester.locator("h1 .badge-req").inner_text() == "Submitted"
    requester.context.close()

    phone_requester = new_page(browser, base_url, PHONE, "alice")
    fill_request(phone_requester, base_url)
    shoot(phone_requester, screenshot_dir / "request-form-phone.png")
    phone_requester.context.close()

    reviewer = new_page(browser, base_url, PHONE, "thamdinh")
    reviewer.goto(f"{base_url}/requests/queue/")
    shoot(reviewer, screenshot_dir / "request-queue-phone.png")
    reviewer.click(f"text={footage_request.reference}")
    shoot(reviewer, screenshot_dir / "request-review-phone.png")
    reviewer.check("input[name=recommendation][value=approve]")
    reviewer.fill("#review_reason", "Đủ căn cứ, phạm vi phù hợp")
    reviewer.click("button[data-action=review]")
    reviewer.wait_for_selector("text=Your recommendation was recorded")
    reviewer.context.close()

    approver = new_page(browser, base_url, DESKTOP, "pheduyet")
    approver.goto(f"{base_url}/requests/queue/")
    assert approver.locator(f"table >> text={footage_request.reference}").is_visible()
    shoot(approver, screenshot_dir / "request-queue-desktop.png")
    approver.click(f"text={footage_request.reference}")
    approver.click("details.narrowing summary")
    shoot(approver, screenshot_dir / "request-decide-desktop.png")
    approver.fill("#approve_reason", "Đồng ý cung cấp")
    approver.click("button[data-action=approve]")
    approver.wait_for_selector("text=Your approval was signed.")
    assert approver.locator("h1 .badge-req").inner_text() == "Approved"
    timeline = approver.locator("#timeline").inner_text()
    steps = ["Request drafted", "Document attached", "Request submitted", "Review recorded", "Approval signed"]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    assert approver.locator("text=Binds the current content").is_visible()
    shoot(approver, screenshot_dir / "request-detail-desktop.png")
    approver.context.close()

    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED

    phone = new_page(browser, base_url, PHONE, "alice")
    phone.goto(f"{base_url}/requests/{footage_request.reference}/")
    assert phone.locator("h1 .badge-req").inner_text() == "Approved"
    shoot(phone, screenshot_dir / "request-detail-phone.png")
    phone.goto(f"{base_url}/requests/")
    shoot(phone, screenshot_dir / "request-list-phone.png")
    phone.context.close()

    inspector = new_page(browser, base_url, DESKTOP, "thanhtra")
    inspector.click("nav >> text=Reports")
    shoot(inspector, screenshot_dir / "reports-desktop.png")
    inspector.fill("#id_date_from", (timezone.localdate() - dt.timedelta(days=6)).isoformat())
    inspector.click("text=Build the report")
    inspector.wait_for_selector("text=Download the PDF")
    report = Report.objects.get()
    assert report.status == Report.Status.READY and report.pdf_sha256 in inspector.content()
    shoot(inspector, screenshot_dir / "report-ready-desktop.png")
    with inspector.expect_download() as download:
        inspector.click("text=Download the PDF")
    # The file is named by the report's code and its build time in Vietnam time, with the offset.
    assert re.fullmatch(rf"{report.code}_\d{{8}}T\d{{6}}\+0700\.pdf", download.value.suggested_filename)
    inspector.context.close()

    phone_inspector = new_page(browser, base_url, PHONE, "thanhtra")
    phone_inspector.goto(f"{base_url}/audit/reports/")
    shoot(phone_inspector, screenshot_dir / "reports-phone.png")
    phone_inspector.goto(f"{base_url}/audit/")
    shoot(phone_inspector, screenshot_dir / "ledger-phone.png")
    inspector = new_page(browser, base_url, DESKTOP, "thanhtra")
    inspector.goto(f"{base_url}/audit/")
    shoot(inspector, screenshot_dir / "ledger-desktop.png")
    inspector.context.close()
    phone_inspector.context.close()
