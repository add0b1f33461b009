"""When an approver narrows the scope, the requester is told what was asked and what was approved, and the
hand-over record says it too, beside a QR code of the page where the recipient checks the files."""

import json
import re
import unicodedata
import zipfile

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import Action, AuditEvent
from requests import export_handover, workflow
from requests.models import Notification, Status
from requests.tasks import send_notification_emails
from tests.factories import category
from tests.pdf import pdf_text
from tests.requests.footage import export as run_export

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def qr_data(monkeypatch):
    """What each QR code on the hand-over record holds."""
    made = []
    real = export_handover.qr_drawing

    def spy(data, *args, **kwargs):
        made.append(data)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(export_handover, "qr_drawing", spy)
    return made


def _flat(text):
    return " ".join(unicodedata.normalize("NFC", text).split())


def _local(moment, seconds=True):
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M{':%S' if seconds else ''}} (UTC+7)"


def _narrowed(world, footage):
    """Two windows asked; the approver shortens the first and drops the second."""
    asked = [
        {"camera": world.camera, "start": footage.at(3), "end": footage.at(9), "data_category": category("video")},
        {"camera": world.camera, "start": footage.at(12), "end": footage.at(16), "data_category": category("video")},
    ]
    footage_request = world.reviewed(items=asked)
    first, second = footage_request.items.order_by("start")
    workflow.request_approve(
        actor=world.approver,
        footage_request=footage_request,
        reason="Chỉ cần đoạn đầu",
        narrow={first.pk: (footage.at(3), footage.at(7)), second.pk: None},
    )
    footage_request.refresh_from_db()
    return footage_request


def _handover(footage_request):
    with zipfile.ZipFile(footage_request.release.package_path) as archive:
        return archive.read(f"{footage_request.reference}/bien-ban-giao-nhan.pdf")


def test_the_handover_record_strikes_the_windows_not_approved_and_lists_the_approved_ones(
    world, footage, django_capture_on_commit_callbacks, qr_data
):
    footage_request = run_export(world, _narrowed(world, footage), django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED

    text = _flat("\n".join(pdf_text(_handover(footage_request))[0]))

    section = text[text.index("Phạm vi đề nghị và phạm vi được phê duyệt") : text.index("Giá trị băm SHA-256 của tệp manifest")]
    asked = section[
        section.index("Phạm vi đề nghị (theo hồ sơ đã gửi)") : section.index("Phạm vi được phê duyệt (đã trích xuất)")
    ]
    given = section[section.index("Phạm vi được phê duyệt (đã trích xuất)") :]
    assert world.approver.display_name in section
    assert f"HB-001: {_local(footage.at(3))} – {_local(footage.at(9))} (video) — được duyệt một phần (rút ngắn)" in asked
    assert f"HB-001: {_local(footage.at(12))} – {_local(footage.at(16))} (video) — không được duyệt" in asked
    assert f"HB-001: {_local(footage.at(3))} – {_local(footage.at(7))} (video)" in given
    assert _local(footage.at(12)) not in given and _local(footage.at(9)) not in given


def test_the_handover_record_carries_a_qr_code_of_the_verification_link_that_opens_this_release(
    world, footage, django_capture_on_commit_callbacks, qr_data, settings, client
):
    settings.SITE_URL = "https://camera.example.org"
    footage_request = run_export(world, _narrowed(world, footage), django_capture_on_commit_callbacks)
    release = footage_request.release

    text = _flat("\n".join(pdf_text(_handover(footage_request))[0]))

    manifest_qr, link_qr = qr_data
    assert manifest_qr == release.manifest_sha256  # the manifest's QR code is still there
    assert link_qr.startswith("https://camera.example.org/requests/verify/")
    # The link is printed whole under its QR code (the PDF's text breaks it over lines), with what scanning does.
    assert link_qr in text.replace(" ", "") or link_qr in "".join(text.split())
    assert "Quét mã QR này để mở trang kiểm tra tệp của gói dữ liệu này" in text
    assert "Đường dẫn có hiệu lực đến" in text
    # The link opens the check page of this release, and a released file matches there, without an account.
    path = link_qr.removeprefix("https://camera.example.org")
    video = release.files.get(kind="video")
    page = client.post(path, {"sha256": video.sha256})
    assert page.status_code == 200 and b'data-result="match"' in page.content
    assert AuditEvent.objects.filter(action=Action.RELEASE_VERIFY).latest("seq").reference == footage_request.reference


def test_without_the_sites_address_the_record_prints_the_path_and_says_it_is_not_configured(
    world, footage, django_capture_on_commit_callbacks, qr_data, settings
):
    settings.SITE_URL = ""
    footage_request = run_export(world, _narrowed(world, footage), django_capture_on_commit_callbacks)

    text = _flat("\n".join(pdf_text(_handover(footage_request))[0]))

    assert qr_data == [footage_request.release.manifest_sha256]  # no QR code of a link that would not open
    assert "Địa chỉ trang web của hệ thống chưa được cấu hình" in text
    assert "/requests/verify/" in "".join(text.split()) and "https://" not in text


def test_revoking_the_verification_links_revokes_the_one_on_the_handover_record(
    world, footage, django_capture_on_commit_callbacks, qr_data, client
):
    from requests import releases

    footage_request = run_export(world, _narrowed(world, footage), django_capture_on_commit_callbacks)
    path = "/" + qr_data[1].split("/", 3)[3]
    assert client.get(path).status_code == 200
    releases.release_verification_revoke(actor=world.custodian, footage_request=footage_request)
    assert client.get(path).status_code == 410


def test_a_record_of_an_unnarrowed_request_has_no_scope_comparison(world, footage, django_capture_on_commit_callbacks):
    from tests.requests.footage import approved

    footage_request = run_export(world, approved(world, [(footage.at(3), footage.at(7))]), django_capture_on_commit_callbacks)
    text = _flat("\n".join(pdf_text(_handover(footage_request))[0]))
    assert "Phạm vi đề nghị" not in text and "không được duyệt" not in text


def test_the_requester_is_told_in_the_app_and_by_e_mail_which_windows_were_approved(world, footage, client, mailoutbox, settings):
    settings.LANGUAGE_CODE = "en"
    _narrowed(world, footage)
    (notification,) = Notification.objects.filter(user=world.insider, verb=Notification.Verb.APPROVED)

    send_notification_emails([notification.pk])

    (mail,) = mailoutbox
    body = mail.body
    asked = body[body.index("Requested:") : body.index("Approved:")]
    given = body[body.index("Approved:") :]
    assert "The approver narrowed the scope" in body
    assert f"HB-001, {_local(footage.at(3), seconds=False)} – {_local(footage.at(9), seconds=False)}: shortened" in asked
    assert f"HB-001, {_local(footage.at(12), seconds=False)} – {_local(footage.at(16), seconds=False)}: not approved" in asked
    assert f"HB-001, {_local(footage.at(3), seconds=False)} – {_local(footage.at(7), seconds=False)}" in given

    client.force_login(world.insider)
    page = client.get("/requests/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    change = page[page.index("data-scope-change") :]
    assert re.search(r'data-scope="shortened">.*?<del>', change, re.S)
    assert 'data-scope="dropped"' in change and "not approved" in change
    end = timezone.localtime(footage.at(7)).strftime("%d/%m/%Y %H:%M")
    assert (
        f'data-scope="approved"><span class="mono">HB-001</span> {timezone.localtime(footage.at(3)):%d/%m/%Y %H:%M} – {end}'
        in change
    )


def test_an_approval_as_filed_tells_no_scope_change(world, footage, client, mailoutbox):
    from tests.requests.footage import approved

    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    (notification,) = Notification.objects.filter(user=world.insider, verb=Notification.Verb.APPROVED)
    send_notification_emails([notification.pk])
    assert "Requested:" not in mailoutbox[0].body and "narrowed" not in mailoutbox[0].body
    client.force_login(world.insider)
    assert b"data-scope-change" not in client.get("/requests/notifications/").content
    assert footage_request.status == Status.APPROVED
    assert json.loads(AuditEvent.objects.filter(action=Action.REQUEST_APPROVE).latest("seq").payload)["narrowed"] == {}
