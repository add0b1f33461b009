"""After the export: personal download links, receipt, legal holds, purges and verification, each in the ledger."""

import datetime as dt
import hashlib
import importlib
import json
import time
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from requests import holds, releases, workflow
from requests.models import LegalHold, Release, Status
from requests.selectors import verification_token
from tests.auth import sign_in_verified
from tests.factories import category
from tests.requests.footage import approved
from tests.requests.footage import export as run_export


@pytest.fixture
def released(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED
    return footage_request


migration = importlib.import_module("requests.migrations.0011_hold_reason_code")


def _link(world, footage_request, user=None):
    _grant, token = releases.release_link_issue(actor=user or world.insider, footage_request=footage_request)
    return f"/requests/download/{token}/", token


def _refusals(footage_request, action=Action.RELEASE_DOWNLOAD_REFUSED):
    return [json.loads(e.payload)["reason"] for e in AuditEvent.objects.filter(action=action).order_by("seq")]


def test_requester_downloads_the_package_streamed_and_logged(world, released, client):
    url, _ = _link(world, released)
    client.force_login(world.insider)
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == released.release.package_sha256
    event = AuditEvent.objects.get(action=Action.RELEASE_DOWNLOAD)
    assert event.actor == world.insider and event.reference == released.reference


def test_one_file_of_the_package_can_be_downloaded_alone(world, released, client):
    url, _ = _link(world, released)
    video = released.release.files.get(kind="video")
    client.force_login(world.insider)
    response = client.get(url, {"file": video.name})
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == video.sha256


def test_a_tampered_link_is_refused_and_logged(world, released, client):
    url, token = _link(world, released)
    client.force_login(world.insider)
    response = client.get(f"/requests/download/{token[:-2]}xx/")
    assert response.status_code == 404
    assert _refusals(released) == ["tampered"]


def test_a_colleagues_link_is_refused_and_logged(world, released, client):
    url, _ = _link(world, released)
    client.force_login(world.colleague)
    assert client.get(url).status_code == 404
    assert _refusals(released) == ["someone else's link"]


def test_an_outsider_cannot_see_the_release_or_use_a_link(world, released, client):
    url, _ = _link(world, released)
    client.force_login(world.outsider)
    assert client.get(f"/requests/{released.reference}/release/").status_code == 404
    assert client.get(url).status_code == 404
    with pytest.raises(workflow.WorkflowRefused):
        releases.release_link_issue(actor=world.outsider, footage_request=released)


def test_an_expired_link_is_refused_and_logged(world, released, client, monkeypatch):
    url, _ = _link(world, released)
    later = time.time() + 73 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    client.force_login(world.insider)
    assert client.get(url).status_code == 410
    assert AuditEvent.objects.filter(action=Action.RELEASE_LINK_EXPIRED, outcome=Outcome.DENIED).count() == 1


def test_the_download_limit_is_enforced(world, released, client, settings):
    settings.RELEASE_MAX_DOWNLOADS = 2
    url, _ = _link(world, released)
    client.force_login(world.insider)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 410]
    assert _refusals(released) == ["download limit reached"]


def test_a_custodian_revokes_the_links(world, released, client):
    url, _ = _link(world, released)
    with pytest.raises(workflow.WorkflowRefused):
        releases.release_revoke(actor=world.insider, footage_request=released)
    assert releases.release_revoke(actor=world.custodian, footage_request=released, reason="sai người nhận") == 1
    client.force_login(world.insider)
    assert client.get(url).status_code == 410
    assert _refusals(released) == ["revoked"]
    assert AuditEvent.objects.filter(action=Action.RELEASE_REVOKE, actor=world.custodian).count() == 1


def test_a_revoked_link_is_refused_in_the_requesters_vietnamese(world, released, client):
    url, _ = _link(world, released)
    releases.release_revoke(actor=world.custodian, footage_request=released, reason="sai người nhận")
    client.force_login(world.insider)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 410
    page = response.content.decode()
    assert "<h1>Từ chối tải về</h1>" in page
    assert (
        "Liên kết tải về này không còn sử dụng được: liên kết đã hết hạn, bị thu hồi hoặc hết lượt tải, "
        "hoặc gói dữ liệu đã bị xóa. Đề nghị yêu cầu cấp liên kết mới tại trang bàn giao."
    ) in page
    assert "Lượt truy cập này đã được ghi nhận." in page
    assert _refusals(released) == ["revoked"]


def test_the_release_page_lists_files_with_hashes(world, released, client):
    client.force_login(world.insider)
    page = client.get(f"/requests/{released.reference}/release/")
    assert page.status_code == 200
    for released_file in released.release.files.all():
        assert released_file.sha256.encode() in page.content
    page = client.post(f"/requests/{released.reference}/release/link/")
    assert b"/requests/download/" in page.content


def test_confirming_receipt_closes_the_request(world, released, client):
    with pytest.raises(workflow.WorkflowRefused):
        workflow.request_close(actor=world.custodian, footage_request=released)
    client.force_login(world.insider)
    client.post(f"/requests/{released.reference}/release/confirm/")
    released.refresh_from_db()
    assert released.status == Status.CLOSED and released.closed_at is not None
    assert AuditEvent.objects.filter(action=Action.REQUEST_CLOSE, actor=world.insider).count() == 1


def test_a_hold_preserves_the_segments_and_lifting_it_removes_the_copies(
    world, footage, released, django_capture_on_commit_callbacks
):
    with pytest.raises(workflow.WorkflowRefused):
        holds.hold_place(actor=world.insider, footage_request=released, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        hold = holds.hold_place(actor=world.custodian, footage_request=released, reason="Vụ án đang điều tra")
    hold.refresh_from_db()
    assert hold.segments_held == 3 and hold.preserved_at >= hold.placed_at
    kept = sorted(Path(hold.path).rglob("*.mp4"))
    assert len(kept) == 3
    # The camera overwrites its recordings; the held copies survive.
    for segment in footage.root.rglob("*.mp4"):
        segment.unlink()
    assert all(path.stat().st_size > 0 for path in kept)
    with django_capture_on_commit_callbacks(execute=True):
        holds.hold_release(actor=world.custodian, footage_request=released)
    assert not Path(hold.path).exists()
    actions = list(AuditEvent.objects.filter(reference=released.reference).values_list("action", flat=True))
    assert Action.HOLD_PLACE in actions and Action.HOLD_RELEASE in actions


def test_an_export_reads_the_held_copy_once_the_recorder_has_overwritten_the_footage(
    world, footage, django_capture_on_commit_callbacks
):
    footage_request = world.submitted(
        urgency="emergency",
        attach=False,
        items=[{"camera": world.camera, "start": footage.at(3), "end": footage.at(9), "data_category": category("video")}],
    )
    hold = LegalHold.objects.get(footage_request=footage_request)
    assert holds.hold_preserve(hold.pk) == 4
    hold.refresh_from_db()
    for segment in footage.root.rglob("*.mp4"):
        segment.unlink()
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Khẩn")
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    footage_request.refresh_from_db()
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED
    with zipfile.ZipFile(footage_request.release.package_path) as archive:
        manifest = json.loads(archive.read(f"{footage_request.reference}/manifest.json"))
    (entry,) = manifest["items"]
    assert entry["source"]["root"] == hold.path and entry["gaps"] == []


def test_purge_honours_legal_holds(world, footage, django_capture_on_commit_callbacks):
    held = run_export(world, approved(world, [(footage.at(3), footage.at(5))]), django_capture_on_commit_callbacks)
    free = run_export(world, approved(world, [(footage.at(5), footage.at(7))]), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        holds.hold_place(actor=world.custodian, footage_request=held, reason="Lưu giữ theo yêu cầu VKS")
    later = timezone.now() + dt.timedelta(days=365)
    with django_capture_on_commit_callbacks(execute=True):
        assert releases.release_purge_expired(now=later) == 1
    free_release, held_release = Release.objects.get(footage_request=free), Release.objects.get(footage_request=held)
    assert free_release.purged_at is not None and not Path(free_release.package_path).exists()
    assert held_release.purged_at is None and Path(held_release.package_path).exists()
    (event,) = AuditEvent.objects.filter(action=Action.RELEASE_PURGE)
    assert event.reference == free.reference

    # Once the hold is lifted, retention applies again.
    with django_capture_on_commit_callbacks(execute=True):
        holds.hold_release(actor=world.custodian, footage_request=held)
        assert releases.release_purge_expired(now=later) == 1
    assert not Path(held_release.package_path).exists()


def test_a_purged_package_can_no_longer_be_downloaded(world, released, client, django_capture_on_commit_callbacks):
    url, _ = _link(world, released)
    with django_capture_on_commit_callbacks(execute=True):
        releases.release_purge_expired(now=timezone.now() + dt.timedelta(days=365))
    client.force_login(world.insider)
    assert client.get(url).status_code == 410
    assert _refusals(released) == ["purged"]


def test_an_emergency_request_is_held_on_submission_and_its_reason_reads_in_the_readers_language(world, client):
    footage_request = world.submitted(urgency="emergency", attach=False)
    hold = LegalHold.objects.get(footage_request=footage_request)
    assert hold.placed_by is None and hold.active
    assert (hold.reason, hold.reason_code) == ("", LegalHold.ReasonCode.EMERGENCY_FILING)
    event = AuditEvent.objects.get(action=Action.HOLD_PLACE, reference=footage_request.reference)
    payload = json.loads(event.payload)
    assert payload["automatic"] is True and payload["reason_code"] == "emergency_filing"
    detail = reverse("requests:detail", args=[footage_request.reference])
    pages = {}
    for language in ("vi", "en"):
        sign_in_verified(client, world.insider, language=language)
        pages[language] = client.get(detail).content.decode()
    assert "Yêu cầu khẩn: dữ liệu được bảo toàn ngay khi gửi" in pages["vi"]
    assert "Emergency request: its footage is preserved as soon as it is filed" in pages["en"]
    assert "lưu giữ" not in pages["en"].split("Legal hold", 1)[1].split("</p>", 1)[0]


def test_emergency_holds_stored_with_a_sentence_are_given_the_code(world):
    footage_request = world.submitted(urgency="emergency", attach=False)
    LegalHold.objects.filter(footage_request=footage_request).update(
        reason="emergency request: preserved on submission", reason_code=""
    )
    typed = LegalHold.objects.create(
        footage_request=world.submitted(), reason="Lưu giữ theo yêu cầu VKS", placed_by=world.custodian
    )

    migration.emergency_holds_as_code(apps, None)

    hold = LegalHold.objects.get(footage_request=footage_request)
    assert (hold.reason, hold.reason_code) == ("", "emergency_filing")
    typed.refresh_from_db()
    assert (typed.reason, typed.reason_code) == ("Lưu giữ theo yêu cầu VKS", "")


def test_verification_by_upload_and_by_pasted_hash(world, released, client, superuser):
    release = released.release
    with zipfile.ZipFile(release.package_path) as archive:
        video = release.files.get(kind="video")
        content = archive.read(f"{released.reference}/{video.name}")
    client.force_login(world.outsider)
    page = client.post("/requests/verify/", {"file": SimpleUploadedFile("clip.mp4", content)}, HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-result="match"' in page.content and released.reference.encode() in page.content
    page = client.post("/requests/verify/", {"sha256": "0" * 64}, HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-result="no-match"' in page.content
    changed = content[:-1] + bytes([content[-1] ^ 1])
    page = client.post("/requests/verify/", {"file": SimpleUploadedFile("clip.mp4", changed)})
    assert b'data-result="no-match"' in page.content
    events = AuditEvent.objects.filter(action=Action.RELEASE_VERIFY).order_by("seq")
    assert [len(json.loads(e.payload)["matches"]) for e in events] == [1, 0, 0]
    assert [e.outcome for e in events] == [Outcome.SUCCESS, Outcome.NO_MATCH, Outcome.NO_MATCH]  # never "success" unmatched
    ledger = sign_in_verified(client, superuser, language="vi").get("/audit/", {"outcome": Outcome.NO_MATCH})
    assert ledger.content.decode().count("badge-outcome-no_match") == 2 and "Không khớp" in ledger.content.decode()


def test_a_court_clerk_with_a_verification_link_checks_without_an_account(world, released, client):
    video = released.release.files.get(kind="video")
    url = f"/requests/verify/{verification_token(released.release)}/"
    page = client.post(url, {"sha256": video.sha256.upper()})
    assert b'data-result="match"' in page.content
    event = AuditEvent.objects.filter(action=Action.RELEASE_VERIFY).latest("seq")
    assert event.actor is None and event.reference == released.reference
    assert client.get("/requests/verify/not-a-token/").status_code == 404


def test_a_file_outside_the_package_is_refused(world, released, client):
    url, _ = _link(world, released)
    client.force_login(world.insider)
    package = released.release.files.get(kind="package")
    assert client.get(url, {"file": package.name}).status_code == 404
    assert client.get(url, {"file": "../../etc/passwd"}).status_code == 404
    assert _refusals(released) == ["unknown file", "unknown file"]


def test_a_custodian_sees_no_empty_actions_card_on_a_released_request(world, released, client):
    client.force_login(world.custodian)
    client.cookies["django_language"] = "en"
    page = client.get(f"/requests/{released.reference}/").content.decode()
    assert "Export and release" in page and "Your actions" not in page


def test_a_hold_lifted_while_its_copy_runs_leaves_no_copy_behind(
    world, footage, released, django_capture_on_commit_callbacks, settings, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        hold = holds.hold_place(actor=world.custodian, footage_request=released, reason="Vụ án đang điều tra")
    real_source_for = holds.source_for

    def lifted_midway(code):
        # The custodian lifts the hold while the copy reads the recorder.
        if LegalHold.objects.filter(pk=hold.pk, released_at__isnull=True).exists():
            holds.hold_release(actor=world.custodian, footage_request=released, reason="Đã có quyết định")
        return real_source_for(code)

    monkeypatch.setattr(holds, "source_for", lifted_midway)
    assert holds.hold_preserve(hold.pk) == 0
    assert not (Path(settings.LEGAL_HOLD_ROOT) / released.reference / str(hold.pk)).exists()
    hold.refresh_from_db()
    assert hold.preserved_at is None and hold.segments_held == 0


def test_the_release_page_shows_the_scope_asked_for_beside_the_narrowed_scope_released(
    world, footage, client, django_capture_on_commit_callbacks
):
    asked = [{"camera": world.camera, "start": footage.at(3), "end": footage.at(9), "data_category": category("video")}]
    footage_request = world.reviewed(items=asked)
    (item,) = footage_request.items.all()
    workflow.request_approve(
        actor=world.approver, footage_request=footage_request, reason="Đủ", narrow={item.pk: (footage.at(3), footage.at(7))}
    )
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    sign_in_verified(client, world.insider, language="en")

    page = client.get(reverse("requests:release", args=[footage_request.reference])).content.decode()

    requested = page[page.index("Requested scope</h2>") : page.index("Approved scope</h2>")]
    approved = page[page.index("Approved scope</h2>") : page.index("Files</h2>")]
    assert f"{timezone.localtime(footage.at(9)):%d/%m/%Y %H:%M}" in requested
    assert f"{timezone.localtime(footage.at(7)):%d/%m/%Y %H:%M}" in approved
    assert f"Narrowed by {world.approver.display_name} ({world.approver.username})" in approved
    assert "Documents</h3>" not in page


def test_the_release_page_of_an_unnarrowed_request_shows_no_second_scope(world, released, client):
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:release", args=[released.reference])).content.decode()
    assert "Requested scope</h2>" not in page and "Approved scope</h2>" not in page


def test_the_request_page_shows_its_release_and_after_receipt_still_does(world, released, client):
    sign_in_verified(client, world.insider, language="en")
    detail = reverse("requests:detail", args=[released.reference])
    release_page = reverse("requests:release", args=[released.reference])

    page = client.get(detail).content.decode()
    assert "Released on" in page and release_page in page

    workflow.request_close(actor=world.insider, footage_request=released)
    page = client.get(detail).content.decode()
    assert "Released on" in page and release_page in page
