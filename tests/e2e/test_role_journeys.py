"""Each role's day in the browser, in Vietnamese, on a phone (390 px) and a laptop (1366 px).

On every page of every journey: nothing pushes the page wider than the screen, no English text of the catalogue
shows, and axe-core finds no WCAG 2.2 AA violation. The state each journey starts from is made with the services;
the clicks are the journey itself.
"""

import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from audit.checkpoints import checkpoint_create, ensure_signing_key
from governance.models import Agency
from oversight.models import Report
from requests import workflow
from requests.models import FootageRequest, Status
from requests.selectors import verification_token
from tests.auth import sign_in_verified
from tests.e2e.axe import AXE, assert_accessible, require_axe
from tests.e2e.english import assert_no_english
from tests.e2e.screens import PHONE, assert_fits_width
from tests.factories import DEFAULT_PASSWORD, AgencyFactory, UserFactory
from tests.requests.conftest import PDF_BYTES, world  # noqa: F401 - the workflow's small world
from tests.requests.footage import approved, footage, segment_bank  # noqa: F401 - recordings to export

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
SCREENS = [pytest.param(PHONE, id="390px"), pytest.param(LAPTOP, id="1366px")]


class Journey:
    """One browser context at one width, in Vietnamese; `see(name)` checks the page as it stands and photographs it."""

    def __init__(self, browser, base_url, screen, shots, role):
        phone = screen is PHONE
        self.context = browser.new_context(viewport=screen, locale="vi-VN", is_mobile=phone, has_touch=phone)
        self.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "vi", "url": base_url}])
        self.page = self.context.new_page()
        self.base_url = base_url
        self.prefix = f"{role}-{screen['width']}"
        self.shots = shots
        self.problems = []
        self.seen = []

    def sign_in_as(self, user):
        """A session that passed the second factor, as after the sign-in pages (those are the requester's journey)."""
        client = sign_in_verified(Client(), user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": self.base_url}])

    def go(self, path, name):
        response = self.page.goto(self.base_url + path)
        assert response.status < 500, f"{path}: {response.status}"
        self.see(name)

    def see(self, name):
        page = self.page
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == "vi", page.url
        self.seen.append(name)
        for check in (assert_fits_width, assert_no_english, *([assert_accessible] if AXE.exists() else [])):
            try:
                check(page)
            except AssertionError as problem:
                self.problems.append(f"[{self.prefix} {name}] {problem}")
        self.photograph(name)

    def photograph(self, name):
        page = self.page
        width = page.viewport_size["width"]
        height = min(page.evaluate("document.documentElement.scrollHeight"), 3000)
        clip = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=str(self.shots / f"{self.prefix}-{name}.png"), full_page=True, clip=clip)

    def focused(self, selector):
        return self.page.evaluate("(selector) => document.activeElement.matches(selector)", selector)

    def finish(self):
        self.context.close()
        assert not self.problems, "\n\n".join(self.problems)
        require_axe()  # everything else held; without axe-core the journey says it is not fully checked


@pytest.fixture
def journey(live_server, browser, screenshot_dir):
    opened = []

    def start(screen, role):
        opened.append(Journey(browser, live_server.url, screen, screenshot_dir, role))
        return opened[-1]

    yield start
    for one in opened:
        one.context.close()


@pytest.fixture
def people(world):  # noqa: F811
    """The inspector of the world's city and the monitoring centre's administrator."""
    inspectorate = AgencyFactory(
        code="thanh-tra", name_vi="Thanh tra thành phố", name_en="City Inspectorate", kind=Agency.Kind.INSPECTORATE
    )
    inspectorate.area = world.province
    inspectorate.save()
    auditor = UserFactory(username="thanhtra", first_name="Thu Hà", last_name="Vũ", agency=inspectorate, roles=["auditor"])
    administrator = UserFactory(
        username="quantri", first_name="Minh", last_name="Trần", agency=world.centre, is_staff=True, roles=["administrator"]
    )
    return {"auditor": auditor, "administrator": administrator}


@pytest.fixture
def released(world, footage):  # noqa: F811
    """A request exported and released: its package is on disk and its verification link works."""
    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.RELEASED
    return footage_request


def local(moment):
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


@pytest.mark.parametrize("screen", SCREENS)
def test_requester_signs_in_files_a_request_and_follows_it(journey, world, screen):  # noqa: F811
    trip = journey(screen, "requester")
    page = trip.page
    trip.go("/accounts/login/", "login")
    page.fill("#id_username", world.insider.username)
    page.fill("#id_password", "not-the-password")
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-error-summary]")
    assert trip.focused("[data-error-summary]")  # a failed sign-in takes the focus to what went wrong
    trip.see("login-refused")
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{trip.base_url}/")
    trip.see("home")

    trip.go("/requests/new/", "new")
    page.focus("#id_basis")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert "basis=" not in page.url  # arrowing through the bases submits nothing
    page.select_option("#id_basis", world.basis.code)
    page.click("#basis-form [data-continue]")
    page.wait_for_url("**/requests/new/?basis=*")
    trip.see("form")

    page.fill("#id_purpose", "Xác minh vụ trộm xe máy trước số 12 phố Hàng Bạc")
    page.click("button[name=action][value=submit]")
    page.wait_for_selector("[data-error-summary]")
    assert trip.focused("[data-error-summary]")
    first = page.locator("[data-error-summary] a").first
    target = first.get_attribute("href")
    trip.see("form-errors")
    first.click()
    assert trip.focused(target)  # each item of the summary takes the focus to its field

    page.fill("#id_letter_number", "128/CV-CAHB")
    page.set_input_files("#id_letter", files=[{"name": "cong-van-128.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    end = timezone.now() - timezone.timedelta(hours=5)
    page.fill("#id_items-0-camera", world.camera.code)
    page.fill("#id_items-0-start", local(end - timezone.timedelta(hours=2)))
    page.fill("#id_items-0-end", local(end))
    page.click("button[name=action][value=submit]")
    page.wait_for_selector("h1 .badge-req")
    assert FootageRequest.objects.get().status == Status.SUBMITTED
    trip.see("filed")

    trip.go("/requests/", "list")
    trip.go("/requests/notifications/", "notifications")
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_reviewer_finds_the_request_in_the_queue_and_recommends(journey, world, screen):  # noqa: F811
    footage_request = world.submitted()
    trip = journey(screen, "reviewer")
    trip.sign_in_as(world.reviewer)
    page = trip.page
    trip.go("/", "home")
    trip.go("/requests/queue/", "queue")
    page.click(f"main a:text-is('{footage_request.reference}')")
    page.wait_for_selector("button[data-action=review]")
    trip.see("request")
    page.check("input[name=recommendation][value=approve]")
    page.fill("#review_reason", "Đủ căn cứ, phạm vi phù hợp")
    page.click("button[data-action=review]")
    page.wait_for_selector(".message-success")
    trip.see("reviewed")
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_approver_signs_and_reads_the_decisions(journey, world, screen):  # noqa: F811
    footage_request = world.reviewed()
    trip = journey(screen, "approver")
    trip.sign_in_as(world.approver)
    page = trip.page
    trip.go("/", "home")
    trip.go("/requests/queue/", "queue")
    trip.go(f"/requests/{footage_request.reference}/", "request")
    page.click("details.narrowing summary")
    trip.see("narrowing")
    page.fill("#approve_reason", "Đồng ý cung cấp")
    page.click("button[data-action=approve]")
    page.wait_for_selector(".message-success")
    trip.see("approved")
    # The decisions scroll inside their frame: the frame is reached with the keyboard and says what it holds.
    frame = page.locator(".table-wrap:has(.table-decisions)")
    assert frame.get_attribute("tabindex") == "0" and frame.get_attribute("role") == "region"
    assert frame.get_attribute("aria-label")
    frame.focus()
    assert trip.focused(".table-wrap")
    page.keyboard.press("ArrowRight")  # scrolls it sideways where it is wider than the screen
    box = frame.bounding_box()
    around = {"x": 0, "y": max(box["y"] - 12, 0), "width": page.viewport_size["width"], "height": box["height"] + 24}
    page.screenshot(path=str(trip.shots / f"{trip.prefix}-decisions-focused.png"), clip=around)
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_custodian_exports_and_follows_the_progress_without_losing_focus(journey, world, footage, screen):  # noqa: F811
    to_export = approved(world, [(footage.at(3), footage.at(7))])
    trip = journey(screen, "custodian")
    trip.sign_in_as(world.custodian)
    page = trip.page
    trip.go("/", "home")
    trip.go("/requests/", "list")
    trip.go(f"/requests/{to_export.reference}/", "approved")
    page.click("button[data-action=export]")
    page.wait_for_selector("h1 .badge-req-released", timeout=60_000)
    trip.see("released")
    trip.go(f"/requests/{to_export.reference}/release/", "release")

    if screen is not PHONE:
        # An export under way: the page asks for its progress and says it, and reloads once, when it ends.
        running = approved(world, [(footage.at(9), footage.at(13))])
        FootageRequest.objects.filter(pk=running.pk).update(status=Status.EXPORTING, export_progress=20)
        trip.go(f"/requests/{running.reference}/", "exporting")
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        assert page.locator("[data-export-refresh]").is_hidden()  # the script took over from the manual refresh
        page.focus("#hold_reason")
        FootageRequest.objects.filter(pk=running.pk).update(export_progress=60)
        page.wait_for_selector("[data-export-announce]:has-text('60%')", state="attached", timeout=15_000)
        assert page.locator("[data-export-bar]").get_attribute("value") == "60"
        assert trip.focused("#hold_reason")  # nothing reloaded under the reader's feet
        trip.photograph("exporting-60")
        FootageRequest.objects.filter(pk=running.pk).update(status=Status.EXPORT_FAILED, export_error="")
        page.wait_for_selector("h1 .badge-req-export_failed", timeout=15_000)
        trip.see("export-failed")
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_auditor_reads_the_ledger_reports_and_a_request(journey, world, people, released, screen, settings, tmp_path):  # noqa: F811
    trip = journey(screen, "auditor")
    trip.sign_in_as(people["auditor"])
    page = trip.page
    trip.go("/", "home")
    trip.go("/audit/", "ledger")
    page.locator("table.ledger a[href*='/audit/events/']").first.click()
    page.wait_for_load_state("load")
    trip.see("event")
    trip.go("/audit/reports/", "reports")
    trip.go("/requests/", "requests")
    trip.go(f"/requests/{released.reference}/", "request")
    trip.go(f"/requests/{released.reference}/release/", "release")

    # The offline bundle for a period, with one button: the page that follows its build, then the ZIP.
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    settings.REPORT_ROOT = tmp_path / "reports"
    ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)
    checkpoint_create()
    trip.go("/audit/verify/", "verify")
    page.fill("#id_date_from", timezone.localdate().strftime("%d/%m/%Y"))
    page.fill("#id_date_to", timezone.localdate().strftime("%d/%m/%Y"))
    page.click("#offline-bundle ~ form button[type=submit], section[aria-labelledby=offline-bundle] button[type=submit]")
    page.wait_for_url("**/audit/bundles/*/")
    trip.see("bundle")
    with page.expect_download() as download:
        page.click("a[href$='/zip/']")
    assert download.value.suggested_filename.startswith("goi-kiem-chung_")

    if screen is not PHONE:
        # A report being built: its status follows the build in place, said in a polite live region, and the page
        # reloads once, when it is ready; the focus stays where the reader left it meanwhile.
        report = Report.objects.create(
            requested_by=people["auditor"], date_from=timezone.localdate(), date_to=timezone.localdate(), progress=10
        )
        trip.go(f"/audit/reports/{report.pk}/", "report-building")
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        assert page.locator("[data-live-manual]").is_hidden()  # the script took over from the refresh by hand
        page.focus("a[href='/audit/reports/']")
        Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, progress=60)
        page.wait_for_selector("#report-status-card progress[value='60']", timeout=15_000)
        page.wait_for_selector("p[aria-live=polite]:has-text('60%')", state="attached", timeout=15_000)
        assert trip.focused("a[href='/audit/reports/']")  # nothing reloaded under the reader's feet
        Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, error="")
        page.wait_for_selector("#report-status-card .alert", timeout=15_000)
        trip.see("report-failed")
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_administrator_opens_the_administration(journey, world, people, screen):  # noqa: F811
    trip = journey(screen, "administrator")
    trip.sign_in_as(people["administrator"])
    page = trip.page
    trip.go("/", "home")
    trip.go("/admin/", "admin")
    trip.go("/admin/governance/camera/", "admin-cameras")
    page.locator("#result_list a[href*='/change/']").first.click()
    page.wait_for_load_state("load")
    trip.see("admin-camera")
    trip.go("/admin/governance/user/", "admin-users")
    trip.finish()


@pytest.mark.parametrize("screen", SCREENS)
def test_court_clerk_without_an_account_checks_files_against_a_release(journey, released, screen):
    release = released.release
    video = release.files.get(kind="video")
    with zipfile.ZipFile(release.package_path) as package:
        video_bytes = package.read(f"{released.reference}/{video.name}")
    trip = journey(screen, "clerk")
    page = trip.page
    link = f"/requests/verify/{verification_token(release)}/"
    trip.go(link, "verify")

    page.set_input_files("#id_file", files=[{"name": Path(video.name).name, "mimeType": "video/mp4", "buffer": video_bytes}])
    page.click("button[data-action=verify]")
    page.wait_for_selector("[data-result=match]")
    trip.see("match")

    page.set_input_files("#id_file", files=[{"name": "khac.mp4", "mimeType": "video/mp4", "buffer": video_bytes[:-1] + b"\0"}])
    page.click("button[data-action=verify]")
    page.wait_for_selector("[data-result=no-match]")
    trip.see("no-match")

    trip.go("/requests/verify/khong-phai-duong-dan/", "unknown-link")
    assert page.locator("[data-verify-gone=unknown]").is_visible()
    trip.finish()
