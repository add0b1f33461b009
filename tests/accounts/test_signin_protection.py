"""Sign-in protection: lock-out after repeated failures, failures in the ledger by burst, Argon2id, idle sessions."""

import datetime as dt
import json
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import LAST_ACTIVITY
from accounts.models import SigninBurst
from audit.models import Action, AuditEvent
from config import settings as project_settings
from tests.auth import sign_in_verified
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=DEFAULT_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def ledger_since(seq):
    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def head():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_five_wrong_passwords_are_allowed_and_the_right_one_still_signs_in(client, insider):
    for _ in range(settings.SIGNIN_FAILURES_ALLOWED):
        assert sign_in(client, "alice", "not-the-password").status_code == 200
    response = sign_in(client, "alice")
    assert response.status_code == 302 and signed_in_as(client) == str(insider.pk)


def test_the_sixth_wrong_password_locks_the_account_and_then_the_right_one_is_refused(client, insider):
    for _ in range(5):
        sign_in(client, "alice", "not-the-password")
    locked = sign_in(client, "alice", "not-the-password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in paused" in page and "Even the right password is refused for now." in page
    assert "Try again in 30 minutes" in page

    refused = sign_in(client, "alice")
    assert refused.status_code == 429 and signed_in_as(client) is None


def test_thirty_wrong_passwords_write_a_handful_of_ledger_events_not_thirty(client, insider):
    start = head()
    for _ in range(30):
        sign_in(client, "alice", "not-the-password")
    events = ledger_since(start)
    assert len(events) <= 3
    assert [e.action for e in events] == [Action.LOGIN_FAILED, Action.LOGIN_LOCKOUT]
    failed, lockout = (json.loads(e.payload) for e in events)
    assert failed["username"] == "alice" and failed["opens_window_for"] == ["account", "address"]
    assert lockout["locked"] == ["account"] and lockout["failures_account"] == 6
    assert events[1].target_id == str(insider.pk)


def test_unknown_user_names_tried_from_one_address_are_counted_against_the_address(client, insider):
    start = head()
    for n in range(40):
        sign_in(client, f"nobody-{n}", "guess")
    actions = [e.action for e in ledger_since(start)]
    assert actions == [Action.LOGIN_FAILED, Action.LOGIN_LOCKOUT]
    assert not SigninBurst.objects.filter(kind=SigninBurst.Kind.ACCOUNT).exists()
    # The address is locked: even a real officer signing in from it waits.
    assert sign_in(client, "alice").status_code == 429


def test_a_new_window_gets_one_new_event_carrying_the_previous_windows_count(client, insider):
    for _ in range(3):
        sign_in(client, "alice", "not-the-password")
    SigninBurst.objects.update(started_at=timezone.now() - dt.timedelta(minutes=settings.SIGNIN_FAILURE_WINDOW_MINUTES + 1))
    start = head()
    sign_in(client, "alice", "not-the-password")
    (event,) = ledger_since(start)
    assert event.action == Action.LOGIN_FAILED
    assert json.loads(event.payload)["previous_window_failures"] == {"account": 3, "address": 3}


def test_a_system_administrator_unlocks_an_account_and_the_ledger_says_who(client, insider, admin_user):
    for _ in range(6):
        sign_in(client, "alice", "not-the-password")
    sign_in_verified(client, admin_user)
    page = client.get(reverse("accounts:security"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "alice" in page
    client.post(reverse("accounts:security"), {"action": "unlock", "username": "alice"})
    assert not AccessAttempt.objects.filter(username="alice").exists()
    unlock = AuditEvent.objects.get(action=Action.LOGIN_UNLOCK)
    assert unlock.actor_username == "quantri" and json.loads(unlock.payload)["failures_cleared"] == 6
    client.logout()
    assert sign_in(client, "alice").status_code == 302 and signed_in_as(client) == str(insider.pk)


def test_the_sign_in_security_page_is_for_system_administrators_only(client, insider, auditor):
    for user in (insider, auditor):
        sign_in_verified(client, user)
        assert client.get(reverse("accounts:security")).status_code == 404


def test_a_pbkdf2_password_is_rehashed_with_argon2id_at_the_next_sign_in(client, insider, settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    insider.password = make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
    insider.save(update_fields=["password"])
    sign_in(client, "alice")
    insider.refresh_from_db()
    assert insider.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    client.logout()
    assert sign_in(client, "alice").status_code == 302


def test_an_idle_session_is_signed_out_and_the_next_page_asks_for_the_password(client, insider):
    client.force_login(insider)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - (settings.SESSION_IDLE_MINUTES * 60 + 5)
    session.save()
    response = client.get(reverse("requests:list"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor_username="alice").exists()
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You were signed out after 30 minutes without activity." in page


def test_an_active_session_stays_signed_in(client, insider):
    client.force_login(insider)
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - (settings.SESSION_IDLE_MINUTES * 60 - 60)
    session.save()
    assert client.get(reverse("requests:list")).status_code == 200
    assert signed_in_as(client) == str(insider.pk)


def test_unlocking_from_the_admin_is_in_the_ledger_too(client, insider, admin_user):
    for _ in range(6):
        sign_in(client, "alice", "not-the-password")
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    sign_in_verified(client, admin_user)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "alice" in client.get(changelist).content.decode()
    client.post(changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert not AccessAttempt.objects.exists()
    unlock = AuditEvent.objects.get(action=Action.LOGIN_UNLOCK)
    assert unlock.actor_username == "quantri" and json.loads(unlock.payload)["username"] == "alice"


def test_an_agency_administrator_does_not_see_the_lockouts(client, agency_a):
    ward_admin = UserFactory(username="ward-admin", agency=agency_a, is_staff=True, roles=["administrator"])
    sign_in_verified(client, ward_admin)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
