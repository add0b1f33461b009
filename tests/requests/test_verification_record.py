"""The court clerk's printable record of a check: it says what file was checked, when, the result and exactly what
was and was not compared; it is printed only from a result the server signed, and each one is in the ledger."""

import html
import json
import re
import time
import unicodedata
import zipfile

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from requests import releases, verification
from requests.selectors import verification_token
from requests.verification_record import render_verification_record
from tests.pdf import embedded_fonts, pdf_text
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


def _link(release):
    return f"/requests/verify/{verification_token(release)}/"


def _clip(footage_request):
    video = footage_request.release.files.get(kind="video")
    with zipfile.ZipFile(footage_request.release.package_path) as archive:
        return video, archive.read(f"{footage_request.reference}/{video.name}")


def _result_token(page):
    found = re.search(r'name="result" value="([^"]+)"', page.content.decode())
    assert found, "the result offers no record to download"
    return html.unescape(found.group(1))


def _text(pdf):
    pages, reader = pdf_text(pdf)
    assert embedded_fonts(reader) <= {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"}
    return " ".join(unicodedata.normalize("NFC", "\n".join(pages)).split())


def _records():
    return list(AuditEvent.objects.filter(action=Action.RELEASE_VERIFY_RECORD).order_by("seq"))


def test_a_court_clerk_downloads_a_match_record_after_checking_a_released_file(world, released, client):  # noqa: F811
    video, content = _clip(released)
    link = _link(released.release)
    page = client.post(link, {"file": SimpleUploadedFile("camera-hang-bac.mp4", content)})
    assert b'data-result="match"' in page.content and b'data-action="verification-record"' in page.content

    response = client.post(f"{link}record/", {"result": _result_token(page)})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = _text(response.content)
    assert "BIÊN BẢN KIỂM TRA TỆP DỮ LIỆU" in text
    assert "Tên tệp (do người kiểm tra tải lên): camera-hang-bac.mp4" in text
    assert f"{len(content):,}".replace(",", ".") + " byte" in text
    assert video.sha256 in "".join(text.split())
    assert "KẾT QUẢ: KHỚP" in text and "KHÔNG KHỚP" not in text.split("5. Những gì KHÔNG")[0]
    assert released.reference in text and video.name in "".join(text.split())
    assert f"{timezone.localtime(released.release.created_at):%d/%m/%Y %H:%M:%S} (UTC+7)" in text
    checked = re.search(r"Kiểm tra lúc: (\d\d/\d\d/\d{4} \d\d:\d\d:\d\d) \(UTC\+7\)", text)
    assert checked, "the time of the check, in Vietnam time with the offset"
    # Exactly what was compared, and what was not.
    assert "so sánh giá trị SHA-256 do hệ thống tính trên các byte của tệp nhận được" in text
    assert "như đã ghi vào sổ nhật ký kiểm toán khi gói được giao" in text
    assert "Tệp không được giải mã, không được xem và không được lưu lại" in text
    assert "không chứng minh điều gì về nội dung ghi hình ngoài việc đó" in text
    # Nothing the check page does not show: no requester, agency, purpose or case.
    for hidden in (world.insider.display_name, world.agency_a.name_vi, released.purpose):
        assert hidden not in text
    (record,) = _records()
    data = json.loads(record.payload)
    assert record.actor is None and record.outcome == Outcome.SUCCESS and record.reference == released.reference
    assert data["sha256"] == video.sha256 and data["matches"] == [[released.reference, video.name]]
    assert data["record"] in text and len(data["record_sha256"]) == 64


def test_a_file_that_does_not_match_gets_a_no_match_record(world, released, client):  # noqa: F811
    _video, content = _clip(released)
    changed = content[:-1] + bytes([content[-1] ^ 1])
    link = _link(released.release)
    page = client.post(link, {"file": SimpleUploadedFile("ban-sao.mp4", changed)})
    assert b'data-result="no-match"' in page.content

    text = _text(client.post(f"{link}record/", {"result": _result_token(page)}).content)

    assert "KẾT QUẢ: KHÔNG KHỚP" in text and "KẾT QUẢ: KHỚP " not in text
    assert f"Không có tệp nào trong gói dữ liệu {released.reference} có giá trị SHA-256 này" in text
    assert "Tên tệp (do người kiểm tra tải lên): ban-sao.mp4" in text
    (record,) = _records()
    assert record.outcome == Outcome.NO_MATCH and json.loads(record.payload)["matches"] == []


def test_a_pasted_hash_is_recorded_as_pasted_not_as_a_file_the_system_hashed(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    link = _link(released.release)
    page = client.post(link, {"sha256": video.sha256})

    text = _text(client.post(f"{link}record/", {"result": _result_token(page)}).content)

    assert "KẾT QUẢ: KHỚP" in text
    assert "Không có tệp nào được tải lên" in text and "Hệ thống không nhận tệp và không tự tính giá trị này" in text
    assert "do người kiểm tra dán vào" in text and "Tên tệp (do người kiểm tra tải lên)" not in text


def test_a_forged_or_tampered_result_is_refused_with_a_message_and_writes_nothing(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    link = _link(released.release)
    unmatched = _result_token(client.post(link, {"sha256": "0" * 64}))
    claims = signing.TimestampSigner(salt=verification.RECORD_SALT).unsign_object(unmatched)
    # "It matched", for a hash that did not.
    forged_claims = {**claims, "h": "0" * 64, "m": [[released.reference, video.name, False]]}
    attempts = [
        "",
        unmatched[:-2] + ("AA" if not unmatched.endswith("AA") else "BB"),  # its signature tampered with
        signing.TimestampSigner(salt=verification.RECORD_SALT, key="not-the-server-key").sign_object(forged_claims),
        signing.TimestampSigner(salt="requests.release-verify").sign_object(forged_claims),  # a link's signer
        # Signed properly but claiming a match for a file whose hash is not the one checked: still refused.
        signing.TimestampSigner(salt=verification.RECORD_SALT).sign_object(forged_claims, compress=True),
    ]
    before = AuditEvent.objects.count()
    for forged in attempts:
        response = client.post(f"{link}record/", {"result": forged}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
        assert b'data-refused="record"' in response.content
        assert b"This result was not given by this page: no record was made." in response.content
    assert AuditEvent.objects.count() == before and _records() == []


def test_a_result_from_another_page_or_too_old_is_refused(world, released, client, monkeypatch, superuser):  # noqa: F811
    video = released.release.files.get(kind="video")
    link = _link(released.release)
    client.force_login(superuser)
    general = _result_token(client.post("/requests/verify/", {"sha256": video.sha256}))
    client.logout()
    # A result of the signed-in check page, which compared against every release, is not one of this link's.
    assert client.post(f"{link}record/", {"result": general}).status_code == 400
    mine = _result_token(client.post(link, {"sha256": video.sha256}))
    later = time.time() + (verification.RECORD_MINUTES + 1) * 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.post(f"{link}record/", {"result": mine}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"This result is too old to be printed" in response.content
    assert _records() == []


def test_a_signed_in_officer_downloads_the_record_of_a_check_against_every_release(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    client.force_login(world.outsider)
    page = client.post("/requests/verify/", {"sha256": video.sha256})
    response = client.post("/requests/verify/record/", {"result": _result_token(page)})
    text = _text(response.content)
    assert "KẾT QUẢ: KHỚP" in text and "các tệp của mọi gói dữ liệu có trong hệ thống" in text
    (record,) = _records()
    assert record.actor == world.outsider


def test_the_record_address_takes_only_a_posted_result(world, released, client):  # noqa: F811
    link = _link(released.release)
    assert client.get(f"{link}record/").status_code == 405
    assert client.post("/requests/verify/not-a-token/record/", {"result": "x"}).status_code == 404
    assert client.post("/requests/verify/record/", {"result": "x"}).status_code == 302  # to the sign-in page
    assert _records() == []


def test_downloading_records_without_an_account_counts_against_the_checks_limit(world, released, client, settings):  # noqa: F811
    settings.VERIFY_CHECKS_PER_MINUTE = 2
    video = released.release.files.get(kind="video")
    link = _link(released.release)
    token = _result_token(client.post(link, {"sha256": video.sha256}))
    assert client.post(f"{link}record/", {"result": token}).status_code == 200
    refused = client.post(f"{link}record/", {"result": token})
    assert refused.status_code == 429 and b'data-refused="throttled"' in refused.content
    assert len(_records()) == 1


def test_a_file_of_a_package_held_for_damage_is_not_recorded_as_a_released_match(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    video.held = True  # as the check page marks a file of a package held for damaged footage
    token = verification.record_token(
        sha256=video.sha256, file_name=None, size=None, checked_at=timezone.now(), release=None, matches=[video]
    )
    result = verification.record_result(token, release=None)
    assert result["released_match"] is False

    text = _text(render_verification_record(result=result, record_id="TEST"))

    assert "KẾT QUẢ: KHỚP VỚI TỆP CHƯA ĐƯỢC GIAO" in text and "gói này chưa được giao" in text
    assert "bị giữ lại, chưa giao" in text


def test_a_result_checked_through_a_revoked_link_prints_through_no_link(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    result = _result_token(client.post(_link(released.release), {"sha256": video.sha256}))
    releases.release_verification_revoke(actor=world.custodian, footage_request=released, reason="Lộ đường dẫn")
    released.release.refresh_from_db()

    response = client.post(f"{_link(released.release)}record/", {"result": result})

    assert response.status_code == 400 and _records() == []


def test_each_record_made_is_its_own_document_with_its_own_number(world, released, client):  # noqa: F811
    video = released.release.files.get(kind="video")
    link = _link(released.release)
    result = _result_token(client.post(link, {"sha256": video.sha256}))
    for _ in range(2):
        assert client.post(f"{link}record/", {"result": result}).status_code == 200
    first, second = (json.loads(record.payload) for record in _records())
    assert first["record"] != second["record"]
