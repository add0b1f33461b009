"""In a real browser: an approver adds a security key and then confirms the sign-in with it (Chromium's virtual
authenticator stands in for the key; the page's script is the one served from our static files)."""

import json

import pytest

from audit.models import Action, AuditEvent
from tests.auth import enrol_for_browser, fresh_code
from tests.factories import DEFAULT_PASSWORD, AgencyFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_with_password(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/accounts/second-factor/**")


def test_an_approver_adds_a_security_key_and_signs_in_with_it(live_server, browser, settings, screenshot_dir):
    approver = UserFactory(username="pheduyet", agency=AgencyFactory(code="ioc", kind="monitoring_centre"), roles=["approver"])
    enrol_for_browser(approver)
    # A security key answers only to the configured address, and only over HTTPS or on localhost.
    base_url = live_server.url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [base_url]
    settings.OTP_WEBAUTHN_RP_ID = "localhost"

    context = browser.new_context(locale="en-US")
    context.add_cookies([{"name": "django_language", "value": "en", "url": base_url}])
    page = context.new_page()
    authenticator = context.new_cdp_session(page)
    authenticator.send("WebAuthn.enable")
    authenticator.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    sign_in_with_password(page, base_url, "pheduyet")
    page.screenshot(path=str(screenshot_dir / "second-factor.png"), full_page=True)
    page.fill("#id_code", fresh_code(approver))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")

    page.goto(f"{base_url}/accounts/second-factor/setup/")
    page.screenshot(path=str(screenshot_dir / "second-factor-setup.png"), full_page=True)
    page.click("#passkey-register-button")
    page.wait_for_selector("form[action*='/webauthn/']")  # the page reloads, listing the key with its Remove button
    enrolled = AuditEvent.objects.filter(action=Action.SECOND_FACTOR_ENROL).order_by("-seq").first()
    assert json.loads(enrolled.payload)["kind"] == "webauthn"

    page.click(".nav-user button[type=submit]")  # sign out
    sign_in_with_password(page, base_url, "pheduyet")
    page.click("#passkey-verification-button")
    page.wait_for_url(f"{base_url}/")
    verified = AuditEvent.objects.filter(action=Action.LOGIN_SECOND_FACTOR).order_by("-seq").first()
    assert verified.actor_username == "pheduyet" and json.loads(verified.payload)["kind"] == "webauthn"
    context.close()
