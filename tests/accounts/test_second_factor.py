"""The second factor in the web pages: sign-in in two steps, enrolment, backup codes, admin pages and recovery."""

import json
import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action, AuditEvent
from oversight.models import Report
from tests.auth import authenticator, sign_in_verified
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(agency_b):
    return UserFactory(username="pheduyet", agency=agency_b, roles=["approver"])


def sign_in(client, username, *, follow=False):
    return client.post(
        reverse("login"), {"username": username, "password": DEFAULT_PASSWORD}, follow=follow, HTTP_ACCEPT_LANGUAGE="en"
    )


def current_code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def is_verified(client):
    return "otp_device_id" in client.session


def test_a_requester_signs_in_with_the_password_alone(client, insider):
    response = sign_in(client, "alice")
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_privileged_officer_without_a_device_is_taken_to_enrol_an_authenticator_app(client, approver):
    response = sign_in(client, "pheduyet", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:setup"))
    assert "Add an authenticator app" in response.content.decode()

    # The app: a QR code drawn here, the key spelled out, and the first code confirms it.
    response = client.post(reverse("accounts:totp-new"), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    device = TOTPDevice.objects.get(user=approver, confirmed=False)
    page = response.content.decode()
    assert reverse("accounts:totp-qr", args=[device.pk]) in page and 'id="totp-secret"' in page
    qr = client.get(reverse("accounts:totp-qr", args=[device.pk]))
    assert qr["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")

    wrong = client.post(reverse("accounts:totp-confirm", args=[device.pk]), {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "The code does not match." in wrong.content.decode() and not is_verified(client)
    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next one wait a second; a person takes longer than that

    done = client.post(
        reverse("accounts:totp-confirm", args=[device.pk]), {"code": current_code(device)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    codes = re.findall(r"<li>([a-z0-9]{10})</li>", done.content.decode())
    assert len(codes) == 10 and "they are shown only now" in done.content.decode()
    assert is_verified(client)
    device.refresh_from_db()
    assert device.confirmed
    enrolled = [
        json.loads(e.payload)["kind"] for e in AuditEvent.objects.filter(action=Action.SECOND_FACTOR_ENROL).order_by("seq")
    ]
    assert enrolled == ["totp", "backup_codes"]
    # Shown once: the setup page counts them but never shows them again.
    setup = client.get(reverse("accounts:setup"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10 unused backup codes left." in setup and codes[0] not in setup


def test_an_enrolled_officer_confirms_the_sign_in_with_the_apps_code(client, approver):
    device, code = authenticator(approver)
    response = sign_in(client, "pheduyet")
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    assert not is_verified(client)
    bad = client.post(reverse("accounts:second-factor"), {"code": "123456"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "This code is not valid." in bad.content.decode() and not is_verified(client)
    device.refresh_from_db()
    device.throttle_reset()
    client.post(reverse("accounts:second-factor"), {"code": code(), "next": reverse("requests:queue")})
    assert is_verified(client)
    event = AuditEvent.objects.get(action=Action.LOGIN_SECOND_FACTOR)
    assert event.actor_username == "pheduyet" and json.loads(event.payload)["kind"] == "totp"


def test_a_backup_code_works_once(client, approver):
    authenticator(approver)
    backup = StaticDevice.objects.create(user=approver, name="Backup codes", confirmed=True)
    backup.token_set.create(token="abcdefgh23")
    sign_in(client, "pheduyet")
    client.post(reverse("accounts:second-factor"), {"code": "ABCD EFGH 23"})
    assert is_verified(client)
    client.logout()
    sign_in(client, "pheduyet")
    client.post(reverse("accounts:second-factor"), {"code": "abcdefgh23"})
    assert not is_verified(client)


def test_a_device_cannot_be_added_by_a_session_that_has_not_passed_the_existing_one(client, approver):
    authenticator(approver)
    sign_in(client, "pheduyet")
    response = client.post(reverse("accounts:totp-new"))
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    assert TOTPDevice.objects.filter(user=approver).count() == 1


def test_removing_a_device_is_in_the_ledger(client, approver):
    device, _code = authenticator(approver)
    sign_in_verified(client, approver)
    client.post(reverse("accounts:device-remove", args=["totp", device.pk]))
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert json.loads(AuditEvent.objects.get(action=Action.SECOND_FACTOR_REMOVE).payload)["kind"] == "totp"


def test_every_admin_page_needs_the_second_factor(client, admin_user):
    client.force_login(admin_user)
    for url in (reverse("admin:index"), reverse("admin:governance_camera_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:second-factor"))
    sign_in_verified(client, admin_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_packages_device_admin_pages_are_not_offered(client, superuser):
    sign_in_verified(client, superuser)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_a_system_administrator_resets_a_lost_second_factor_and_the_ledger_says_why(client, admin_user, approver):
    authenticator(approver)
    StaticDevice.objects.create(user=approver, name="Backup codes", confirmed=True)
    sign_in_verified(client, admin_user)
    response = client.post(
        reverse("accounts:security"), {"action": "reset", "username": "pheduyet", "reason": "Mất điện thoại"}, follow=True
    )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=approver).exists() and not StaticDevice.objects.filter(user=approver).exists()
    event = AuditEvent.objects.get(action=Action.SECOND_FACTOR_RESET)
    payload = json.loads(event.payload)
    assert event.actor_username == "quantri" and event.target_id == str(approver.pk)
    assert payload["reason"] == "Mất điện thoại" and payload["removed"]["totp"] == 1


def test_a_reset_without_a_reason_changes_nothing(client, admin_user, approver):
    authenticator(approver)
    sign_in_verified(client, admin_user)
    client.post(reverse("accounts:security"), {"action": "reset", "username": "pheduyet", "reason": ""})
    assert TOTPDevice.objects.filter(user=approver).exists()
    assert not AuditEvent.objects.filter(action=Action.SECOND_FACTOR_RESET).exists()


def test_an_administrator_without_the_second_factor_is_sent_to_it_before_the_security_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("accounts:security"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:second-factor"))


def test_a_report_is_not_requested_by_a_session_without_the_second_factor(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("oversight:reports"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This needs your second factor" in page
    client.post(reverse("oversight:reports"), {"date_from": "2026-01-01", "date_to": "2026-01-31"})
    assert not Report.objects.exists()
    sign_in_verified(client, admin_user)
    client.post(reverse("oversight:reports"), {"date_from": "2026-01-01", "date_to": "2026-01-31"})
    assert Report.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_code_is_checked_outside_any_test_transaction_as_in_production(client, agency_b):
    # Devices are read FOR UPDATE: on PostgreSQL that needs the view's own transaction, which a test
    # wrapped in one would hide.
    officer = UserFactory(username="pheduyet2", agency=agency_b, roles=["approver"])
    device, code = authenticator(officer)
    sign_in(client, "pheduyet2")
    response = client.post(reverse("accounts:second-factor"), {"code": code(), "next": reverse("requests:queue")})
    assert response.status_code == 302 and is_verified(client)
