"""Every exported clip is decoded in full; damage is declared wherever the clip is described, or held for a custodian."""

import hashlib
import json
import random
import unicodedata
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from oversight.report_data import ReportScope, register_count
from oversight.reports import dossier_build
from requests import integrity, media, mp4boxes, mp4cut, releases
from requests.models import Release, Status
from requests.permissions import WorkflowRefused
from tests.auth import sign_in_verified
from tests.pdf import pdf_text
from tests.requests.footage import approved
from tests.requests.footage import export as run_export


def damage_payload(path, *, seed=10):
    """Write 512 random bytes inside the video payload of a segment: in the middle of its largest sample after the
    first (the second keyframe), clear of the header and of the sample's own length prefix. Returns its index."""
    segment = mp4boxes.read_segment(path)
    sample = max(range(1, len(segment.sizes)), key=segment.sizes.__getitem__)
    assert segment.sync[sample] and segment.sizes[sample] > 1024
    with open(path, "r+b") as handle:
        handle.seek(segment.offsets[sample] + segment.sizes[sample] // 2 - 256)
        handle.write(random.Random(seed).randbytes(512))
    return sample


def _manifest(release):
    with zipfile.ZipFile(release.package_path) as archive:
        reference = release.footage_request.reference
        return json.loads(archive.read(f"{reference}/manifest.json")), archive.read(f"{reference}/bien-ban-giao-nhan.pdf")


def _text(pdf):
    """The PDF's text, its lines joined: a phrase is found wherever the page wrapped it."""
    return " ".join(unicodedata.normalize("NFC", "\n".join(pdf_text(pdf)[0])).split())


def _events(footage_request, action):
    return [json.loads(e.payload) for e in AuditEvent.objects.filter(reference=footage_request.reference, action=action)]


def test_an_intact_export_says_every_frame_decoded(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(9))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    manifest, handover = _manifest(footage_request.release)
    (entry,) = manifest["files"]
    integrity = entry["integrity"]
    assert integrity["decoded"] is True and integrity["damaged"] == []
    assert integrity["frames_decoded"] == integrity["frames_in_file"] == 60
    assert "full decode" in integrity["checked_with"] and "PyAV" in integrity["checked_with"]
    video = footage_request.release.files.get(kind="video")
    assert video.decoded is True and video.frames_decoded == 60 and video.damage == []
    assert footage_request.release.damaged_files == 0
    assert _events(footage_request, Action.RELEASE_DAMAGE) == []
    text = _text(handover)
    assert "đã giải mã toàn bộ 60 khung hình của phần hình ảnh; bộ giải mã không báo lỗi nào" in text
    # What a decode cannot see is said as plainly as what it saw.
    assert "không khẳng định hình ảnh không bị thay đổi" in text
    assert "nguyên vẹn" not in text and "âm thanh" not in text


def test_a_damaged_segment_is_named_in_the_manifest_the_handover_record_and_the_ledger(
    world, footage, django_capture_on_commit_callbacks, client
):
    damaged = footage.segment(4)
    sample = damage_payload(damaged)
    damaged_sha256 = hashlib.sha256(damaged.read_bytes()).hexdigest()
    footage_request = approved(world, [(footage.at(3), footage.at(9))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    # Evidence is not withheld: released, with the damage declared.
    assert footage_request.status == Status.RELEASED
    release = footage_request.release
    manifest, handover = _manifest(release)
    (entry,) = manifest["files"]
    integrity = entry["integrity"]
    assert integrity["decoded"] is False
    (found,) = integrity["damaged"]
    assert found["segment"] == damaged.name and found["segment_sha256"] == damaged_sha256
    assert damaged.name in [s["name"] for s in entry["source_segments"]]
    assert found["frames"] > 0 and "h264" in found["message"]
    # The keyframe hit is one second into the segment that starts 4 s in: 2 s into the clip, which starts at 3 s.
    recorded = footage.at(4 + sample / 10)
    assert found["from_utc"].startswith(recorded.strftime("%Y-%m-%dT%H:%M:%S"))
    assert found["from_seconds"] == pytest.approx(4 + sample / 10 - 3, abs=0.05)
    assert found["to_seconds"] > found["from_seconds"]

    text = _text(handover)
    assert "1 khung hình giải mã có lỗi" in text and "có thể bị sai lệch" in text
    assert damaged.name in text and damaged_sha256 in text
    assert "nguyên vẹn" not in text

    video = release.files.get(kind="video")
    assert video.decoded is False and video.damage == integrity["damaged"]
    assert release.damaged_files == 1
    (declared,) = _events(footage_request, Action.RELEASE_DAMAGE)
    assert declared["held"] is False
    assert declared["files"][0]["damaged"][0]["segment"] == damaged.name
    assert _events(footage_request, Action.RELEASE_CREATE)

    # The release page shows it, to the requesting officer as to the custodian.
    client.force_login(world.insider)
    page = client.get(reverse("requests:release", args=[footage_request.reference])).content.decode()
    assert 'data-integrity="damaged"' in page and damaged.name in page

    # So does the request's dossier.
    content, _code, _sha256 = dossier_build(actor=world.custodian, footage_request=footage_request)
    dossier = _text(content)
    assert "Kết quả kiểm tra giải mã" in dossier and "1 khung hình giải mã có lỗi" in dossier


def test_with_hold_a_damaged_export_waits_for_a_custodian_to_acknowledge_it(
    world, footage, django_capture_on_commit_callbacks, client, settings
):
    settings.EXPORT_ON_DAMAGE = "hold"
    damage_payload(footage.segment(4))
    footage_request = approved(world, [(footage.at(3), footage.at(9))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.DAMAGE_HELD
    release = Release.objects.get(footage_request=footage_request)
    assert release.damage_acknowledged_at is None
    (declared,) = _events(footage_request, Action.RELEASE_DAMAGE)
    assert declared["held"] is True and declared["package"]["package_sha256"] == release.package_sha256
    assert _events(footage_request, Action.RELEASE_CREATE) == []
    # Nobody downloads it meanwhile, and the release register does not list it as handed over.
    with pytest.raises(WorkflowRefused):
        releases.release_link_issue(actor=world.insider, footage_request=footage_request)
    today = timezone.localdate()
    assert register_count(ReportScope(date_from=today, date_to=today)) == 0

    # The custodian sees the damage, and the form that lets it go.
    url = reverse("requests:release-acknowledge", args=[footage_request.reference])
    sign_in_verified(client, world.custodian)
    page = client.get(reverse("requests:release", args=[footage_request.reference])).content.decode()
    assert 'data-integrity="damaged"' in page and url in page

    # Nobody but a custodian assigned to the export may acknowledge: for the others the address does not exist.
    for someone in (world.outsider, world.insider):
        client.force_login(someone)
        assert client.post(url, {"confirm": "on"}).status_code == 404
    footage_request.refresh_from_db()
    assert footage_request.status == Status.DAMAGE_HELD

    sign_in_verified(client, world.custodian)
    response = client.post(url, {"confirm": "on", "note": "Đã xem đoạn lỗi; giao nguyên trạng."})
    assert response.status_code == 302
    footage_request.refresh_from_db()
    release.refresh_from_db()
    assert footage_request.status == Status.RELEASED
    assert release.damage_acknowledged_by == world.custodian
    assert release.damage_acknowledgement == "Đã xem đoạn lỗi; giao nguyên trạng."
    (acknowledged,) = AuditEvent.objects.filter(reference=footage_request.reference, action=Action.RELEASE_DAMAGE_ACKNOWLEDGE)
    (created,) = AuditEvent.objects.filter(reference=footage_request.reference, action=Action.RELEASE_CREATE)
    assert acknowledged.actor_username == created.actor_username == world.custodian.username
    assert json.loads(acknowledged.payload)["files"][0]["damaged"]
    grant, _token = releases.release_link_issue(actor=world.insider, footage_request=footage_request)
    assert grant.release == release
    assert register_count(ReportScope(date_from=today, date_to=today)) == 1


def test_with_hold_an_intact_export_is_released_at_once(world, footage, django_capture_on_commit_callbacks, settings):
    settings.EXPORT_ON_DAMAGE = "hold"
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED


def test_the_decoder_ties_each_error_to_its_frame(footage, tmp_path):
    # Bytes written from the middle of a sample over the length prefixes of those after it: those are not decoded.
    path = tmp_path / "segment.mp4"
    path.write_bytes(footage.segment(4).read_bytes())
    segment = mp4boxes.read_segment(path)
    start = segment.offsets[3] + segment.sizes[3] // 2
    assert start + 512 < segment.offsets[-1] + segment.sizes[-1]
    with open(path, "r+b") as handle:
        handle.seek(start)
        handle.write(random.Random(3).randbytes(512))
    touched = {i for i, offset in enumerate(segment.offsets) if offset < start + 512 and offset + segment.sizes[i] > start}
    for threads in (0, 1):
        report = media.decode_check(path, threads=threads)
        assert not report.decoded
        assert report.frames_in_file == 20
        assert report.damage[0].index in touched
        assert report.damage[0].seconds == pytest.approx(report.damage[0].index / 10)
        assert any("frame not decoded" in d.problems and d.index in touched for d in report.damage)


def test_a_clip_that_ends_early_has_its_missing_frames_counted(footage, tmp_path):
    path = tmp_path / "clip.mp4"
    plan = mp4cut.plan_cut([footage.segment(2), footage.segment(4)])
    mp4cut.write_clip(plan, path)
    path.write_bytes(path.read_bytes()[: plan.size * 2 // 3])
    report = media.decode_check(path)
    assert not report.decoded
    assert report.frames_in_file == 40 and report.frames_decoded < 40
    assert sum(d.frames for d in report.damage) >= 40 - report.frames_decoded - 1


def test_a_file_that_does_not_decode_at_all_is_declared_whole(tmp_path, footage):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00not a video" * 100)
    report = media.decode_check(path)
    assert not report.decoded and report.frames_decoded == 0
    layout = integrity.TimeLayout(starts=[footage.at(0)], first_frame=footage.at(0))
    section = integrity.integrity_section(report, layout=layout, source_segments=[{"name": "00.00.mp4", "sha256": "0" * 64}])
    (found,) = section["damaged"]
    assert section["decoded"] is False and found["segment"] is None and found["from_utc"] is None
    assert integrity.damage_lines_vi(section)[1] == "Không giải mã được cả tệp: bộ giải mã không mở được tệp."
