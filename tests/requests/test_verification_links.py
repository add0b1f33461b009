"""The verification link a court clerk holds: it expires, the centre can revoke it, and checks without an account
are throttled per address and do not each grow the ledger."""

import json
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import Action, AuditEvent
from requests import releases, verification, workflow
from requests.models import Release
from requests.selectors import verification_token
from requests.verification import SALT
from tests.requests.test_release import released  # noqa: F401 - the released request fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts(time_machine):
    # Checks are counted per address and clock minute: each test starts at the beginning of a minute (the clock still
    # running), so that a slow machine never sees its count start again half way through.
    import datetime as dt
    import time as clock

    minute = (int(clock.time() // verification.WINDOW_SECONDS) + 1) * verification.WINDOW_SECONDS
    time_machine.move_to(dt.datetime.fromtimestamp(minute + 0.5, tz=dt.UTC), tick=True)
    cache.clear()
    yield
    cache.clear()


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def link(release):
    return f"/requests/verify/{verification_token(release)}/"


def test_a_custodian_revokes_the_verification_links_and_old_ones_no_longer_open(world, released, client):  # noqa: F811
    release = released.release
    old = link(release)
    video = release.files.get(kind="video")
    assert b'data-result="match"' in client.post(old, {"sha256": video.sha256}).content

    releases.release_verification_revoke(actor=world.custodian, footage_request=released, reason="đường dẫn gửi nhầm")

    response = client.get(old, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410
    assert b'data-verify-gone="revoked"' in response.content and b"was revoked" in response.content
    assert client.post(old, {"sha256": video.sha256}).status_code == 410
    release.refresh_from_db()
    assert b'data-result="match"' in client.post(link(release), {"sha256": video.sha256}).content
    [revoked] = events(Action.RELEASE_VERIFY_REVOKE)
    assert revoked.actor == world.custodian and revoked.reference == released.reference
    assert json.loads(revoked.payload)["reason"] == "đường dẫn gửi nhầm"


def test_only_the_assigned_custodians_and_system_administrators_revoke(world, released, client, superuser):  # noqa: F811
    for someone in (world.insider, world.approver, world.outsider):
        with pytest.raises(workflow.WorkflowRefused):
            releases.release_verification_revoke(actor=someone, footage_request=released)
    assert Release.objects.get(pk=released.release.pk).verify_generation == 0
    assert events(Action.RELEASE_VERIFY_REVOKE) == []
    releases.release_verification_revoke(actor=superuser, footage_request=released)
    assert Release.objects.get(pk=released.release.pk).verify_generation == 1


def test_the_release_page_offers_the_revocation_to_the_custodian_only(world, released, client):  # noqa: F811
    client.force_login(world.custodian)
    assert b'data-action="revoke-verification"' in client.get(f"/requests/{released.reference}/release/").content
    client.force_login(world.insider)
    page = client.get(f"/requests/{released.reference}/release/", HTTP_ACCEPT_LANGUAGE="en").content
    assert b'data-action="revoke-verification"' not in page and b"The link opens for 30 days." in page
    response = client.post(f"/requests/{released.reference}/release/verification/revoke/", {"reason": "x"})
    assert response.status_code == 302
    assert Release.objects.get(pk=released.release.pk).verify_generation == 0


def test_an_expired_link_says_so(world, released, client, monkeypatch):  # noqa: F811
    url = link(released.release)
    later = time.time() + 31 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410 and b'data-verify-gone="expired"' in response.content


def test_a_link_made_before_revocation_existed_still_opens_until_revoked(world, released, client):  # noqa: F811
    legacy = signing.TimestampSigner(salt=SALT).sign_object({"r": released.release.pk})
    assert client.get(f"/requests/verify/{legacy}/").status_code == 200
    releases.release_verification_revoke(actor=world.custodian, footage_request=released)
    assert client.get(f"/requests/verify/{legacy}/").status_code == 410


def test_checks_without_an_account_are_throttled_per_address(world, released, client, settings):  # noqa: F811
    settings.VERIFY_CHECKS_PER_MINUTE = 3
    url = link(released.release)
    statuses = [client.post(url, {"sha256": f"{n:064x}"}, HTTP_ACCEPT_LANGUAGE="en").status_code for n in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]
    refused = client.post(url, {"sha256": "0" * 64}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused["Retry-After"] == "60"
    assert b"Too many checks from your address in the last minute (at most 3)" in refused.content
    # Another address is not held back.
    assert client.post(url, {"sha256": "0" * 64}, REMOTE_ADDR="10.0.0.9").status_code == 200
    # The refusals are one ledger event per address and minute.
    assert len(events(Action.RELEASE_VERIFY_THROTTLED)) == 1


def test_signed_in_checks_are_not_throttled(world, released, client, settings):  # noqa: F811
    settings.VERIFY_CHECKS_PER_MINUTE = 1
    client.force_login(world.outsider)
    statuses = {client.post(link(released.release), {"sha256": "0" * 64}).status_code for _ in range(3)}
    assert statuses == {200}
    assert len(events(Action.RELEASE_VERIFY)) == 3


def test_unmatched_checks_without_an_account_are_one_ledger_event_per_address_and_minute(
    world,
    released,  # noqa: F811
    client,
    monkeypatch,
):
    url = link(released.release)
    video = released.release.files.get(kind="video")
    # All within one clock minute, whenever the test runs.
    monkeypatch.setattr(verification, "_window", lambda: 29_000_000)
    for n in range(5):
        client.post(url, {"sha256": f"{n:064x}"})
    client.post(url, {"sha256": video.sha256})
    client.post(url, {"sha256": video.sha256})
    recorded = [json.loads(e.payload) for e in events(Action.RELEASE_VERIFY)]
    assert [len(payload["matches"]) for payload in recorded] == [0, 1, 1]
    assert recorded[0]["sha256"] == f"{0:064x}"


def test_a_file_over_the_verification_limit_is_refused_with_a_way_out(world, released, client, settings):  # noqa: F811
    settings.VERIFY_UPLOAD_MAX_BYTES = 1000
    response = client.post(
        link(released.release), {"file": SimpleUploadedFile("clip.mp4", b"0" * 5000)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "files of at most 1000\xa0bytes are checked here" in page and "paste its SHA-256" in page
    assert events(Action.RELEASE_VERIFY) == []


@pytest.mark.parametrize("mangle", [lambda token: token[:-12], lambda token: token.upper(), lambda token: "abc"])
def test_a_mistyped_or_cut_link_gets_a_page_that_says_what_to_check_and_whom_to_ask(released, client, mangle):  # noqa: F811
    token = verification_token(released.release)
    response = client.get(f"/requests/verify/{mangle(token)}/", HTTP_ACCEPT_LANGUAGE="vi")
    page = response.content.decode()
    assert response.status_code == 404 and 'data-verify-gone="unknown"' in page
    assert "biên bản giao nhận" in page and "trung tâm giám sát" in page.lower()
    assert released.reference not in page


def test_the_result_says_khop_or_khong_khop_in_large_letters(released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    url = link(released.release)
    matched = client.post(url, {"sha256": video.sha256}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<strong class="verdict">KHỚP</strong>' in matched
    other = client.post(url, {"sha256": "0" * 64}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<strong class="verdict">KHÔNG KHỚP</strong>' in other and 'data-result="no-match"' in other
