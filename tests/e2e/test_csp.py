"""In a real browser, under the Content-Security-Policy: no page, the admin's included, trips it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from governance.models import Camera, LegalBasis, RegulationVersion
from tests.e2e.test_shell import city, sign_in  # noqa: F401 - the fixture and the sign-in helper
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Collected in the page itself: every violation the browser reports, whether or not it reaches the console.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def watched_page(browser):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    reported = []

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text or "Permissions-Policy" in text:
            reported.append(f"{page.url}: {text}")

    page.on("console", on_console)
    return page, reported


def visit(page, reported, url):
    response = page.goto(url)
    assert response.status < 500, f"{url}: {response.status}"
    assert response.headers.get("content-security-policy"), url
    assert response.headers.get("permissions-policy"), url
    page.wait_for_load_state("networkidle")
    reported.extend(f"{url}: {v}" for v in page.evaluate("window.__cspViolations || []"))


def test_pages_and_admin_report_no_policy_violation(live_server, browser, city):  # noqa: F811
    base_url = live_server.url
    superuser = UserFactory(username="root", agency=None, is_staff=True, is_superuser=True)
    page, reported = watched_page(browser)

    sign_in(page, base_url, city["requester"].username)
    basis = LegalBasis.objects.order_by("code").first()
    for url in [
        "/",
        "/cameras/",
        "/cameras/?q=HK",
        "/cameras/HK-0002/",
        "/legal-bases/",
        f"/legal-bases/{basis.code}/",
        "/regulation/",
        "/requests/",
        "/requests/new/",
        "/requests/notifications/",
        "/requests/verify/",
    ]:
        visit(page, reported, base_url + url)
    # The request form's script: choosing a basis, the camera search (fetch) and adding a row.
    visit(page, reported, base_url + "/requests/new/")
    page.select_option("#basis-form select", basis.code)
    page.click("#basis-form [data-continue]")
    page.wait_for_url("**/requests/new/?basis=*")
    page.fill("input.camera-code", "HK-00")
    page.wait_for_timeout(600)
    if page.locator("[data-add-item]").is_visible():
        page.click("[data-add-item]")
    reported.extend(page.evaluate("window.__cspViolations || []"))
    # The second-factor pages: the security-key script (django-otp-webauthn) and an authenticator app's QR code.
    visit(page, reported, base_url + "/accounts/second-factor/setup/")
    page.click("#add-authenticator")
    page.wait_for_load_state("networkidle")
    assert page.locator("img").count() >= 1
    reported.extend(page.evaluate("window.__cspViolations || []"))

    page.context.clear_cookies()
    sign_in(page, base_url, city["custodian"].username)
    visit(page, reported, base_url + "/requests/queue/")
    visit(page, reported, base_url + "/accounts/second-factor/setup/")

    page.context.clear_cookies()
    sign_in(page, base_url, superuser.username)
    for url in ["/audit/", "/audit/verify/", "/audit/reports/", "/accounts/security/"]:
        visit(page, reported, base_url + url)
    visit(page, reported, base_url + "/admin/")
    for model in admin.site._registry:
        opts = model._meta
        visit(page, reported, base_url + reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        visit(page, reported, base_url + reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    camera = Camera.objects.order_by("code").first()
    visit(page, reported, base_url + reverse("admin:governance_camera_change", args=[camera.pk]))
    # An autocomplete field (select2): opening it fetches choices and draws the dropdown.
    page.click(".field-area .select2-selection")
    page.wait_for_selector(".select2-results__option")
    visit(page, reported, base_url + reverse("admin:governance_camera_import"))
    version = RegulationVersion.objects.first()
    visit(page, reported, base_url + reverse("admin:governance_regulationversion_change", args=[version.pk]))
    visit(page, reported, base_url + reverse("admin:governance_user_change", args=[city["requester"].pk]))
    visit(page, reported, base_url + reverse("admin:governance_user_change", args=[city["requester"].pk]) + "password/")

    assert reported == []
