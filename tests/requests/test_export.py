"""The export: exact windows cut by stream copy from segment files, gaps reported, one release whatever happens."""

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from config.celery import app
from requests import export, media, releases, services, workflow
from requests.models import Decision, Release, Status
from requests.sources import source_for
from requests.sources.files import SegmentFileSource
from requests.sources.testpattern import write_segments
from requests.tasks import export_request
from tests.auth import sign_in_verified
from tests.pdf import embedded_fonts, pdf_text
from tests.requests import probe
from tests.requests.footage import approved
from tests.requests.footage import export as run_export


def _bag(release):
    with zipfile.ZipFile(release.package_path) as archive:
        names = archive.namelist()
        reference = release.footage_request.reference
        manifest = json.loads(archive.read(f"{reference}/manifest.json"))
        return archive, names, manifest


def _member_sha256(release, name):
    with zipfile.ZipFile(release.package_path) as archive:
        return hashlib.sha256(archive.read(f"{release.footage_request.reference}/{name}")).hexdigest()


def test_source_lists_segments_across_an_hour_boundary(footage):
    source = source_for("HB-001")
    listing = source.list_segments(footage.at(3), footage.at(9))
    assert [s.start for s in listing.segments] == [footage.at(2), footage.at(4), footage.at(6), footage.at(8)]
    assert {s.start.hour for s in listing.segments} == {footage.at(2).hour, footage.at(8).hour}
    assert source.oldest_kept() == footage.at(0)


def test_generic_layout_is_read_too(footage, settings, tmp_path):
    from requests.sources.testpattern import write_segments

    write_segments(root=tmp_path / "generic", camera="HB-009", start=footage.at(0), count=2, layout="generic")
    settings.FOOTAGE_CAMERAS = {"HB-009": {"root": str(tmp_path / "generic"), "layout": "generic"}}
    listing = source_for("HB-009").list_segments(footage.at(0), footage.at(4))
    assert len(listing.segments) == 2
    assert Path(listing.segments[0].locator).relative_to(tmp_path / "generic").parts[0] == "HB-009"


def test_export_cuts_the_window_across_segment_and_hour_boundaries(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3.5), footage.at(11.5))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    release = Release.objects.get(footage_request=footage_request)
    archive, names, manifest = _bag(release)
    reference = footage_request.reference
    for tag in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "manifest.json"):
        assert f"{reference}/{tag}" in names
    (entry,) = manifest["files"]
    assert entry["starts_at_preceding_keyframe"] is True
    assert entry["lead_in_seconds"] == pytest.approx(0.5, abs=0.01)
    assert entry["first_timestamp"].startswith(footage.at(3).strftime("%Y-%m-%dT%H:%M:%S"))
    assert entry["last_timestamp"].startswith(footage.at(11).strftime("%Y-%m-%dT%H:%M:%S"))
    assert entry["duration"] == pytest.approx(8.5, abs=0.3)
    assert [s["name"] for s in entry["source_segments"]] == ["59.56.mp4", "59.58.mp4", "00.00.mp4", "00.02.mp4", "00.04.mp4"]
    for segment in entry["source_segments"]:
        assert segment["sha256"] == hashlib.sha256(Path(segment["locator"]).read_bytes()).hexdigest()
    assert entry["gaps"] == []
    assert manifest["approvals"][0]["username"] == world.approver.username
    assert manifest["legal_basis"]["code"] == world.basis.code

    # Every released file's SHA-256 matches the manifest, the record in the database and the hand-over PDF.
    video = release.files.get(kind="video")
    assert _member_sha256(release, entry["path"]) == entry["sha256"] == video.sha256
    assert _member_sha256(release, "manifest.json") == release.manifest_sha256
    assert hashlib.sha256(Path(release.package_path).read_bytes()).hexdigest() == release.package_sha256
    pdf = Path(footage.exports) / "check.pdf"
    pdf.write_bytes(zipfile.ZipFile(release.package_path).read(f"{reference}/bien-ban-giao-nhan.pdf"))
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        flat = "".join(text.split())
        assert entry["sha256"] in flat and release.manifest_sha256 in flat
        assert "BIÊN BẢN GIAO NHẬN" in text
    assert embedded_fonts(pdf_text(pdf.read_bytes())[1]) == {"DejaVuSans", "DejaVuSans-Bold"}

    # The clip is H.264 video, not re-encoded into anything else.
    clip = pdf.parent / "clip.mp4"
    clip.write_bytes(zipfile.ZipFile(release.package_path).read(f"{reference}/{entry['path']}"))
    assert probe.codecs(clip) == ["h264"]
    event = AuditEvent.objects.get(action=Action.RELEASE_CREATE, reference=reference)
    assert json.loads(event.payload)["manifest_sha256"] == release.manifest_sha256


def test_a_gap_in_the_recordings_is_reported_not_hidden(world, footage, django_capture_on_commit_callbacks):
    footage.segment(6).unlink()
    footage_request = approved(world, [(footage.at(3), footage.at(11))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    _, _, manifest = _bag(footage_request.release)
    (gap,) = manifest["files"][0]["gaps"]
    assert gap["cause"] == "no recording"
    assert gap["seconds"] == pytest.approx(2, abs=0.2)
    assert gap["from"].startswith(footage.at(6).strftime("%Y-%m-%dT%H:%M:%S"))
    assert footage_request.release.gaps == 1


def test_a_corrupt_segment_is_reported_as_unreadable(world, footage, django_capture_on_commit_callbacks):
    footage.segment(4).write_bytes(b"\x00not an mp4 at all" * 100)
    footage_request = approved(world, [(footage.at(3), footage.at(9))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    _, _, manifest = _bag(footage_request.release)
    (gap,) = manifest["items"][0]["gaps"]
    assert gap["cause"] == "unreadable segment"
    assert gap["unreadable_segments"] == [footage.segment(4).name]


def test_a_camera_without_recordings_is_listed_and_the_rest_released(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(
        world, [(footage.at(3), footage.at(7)), (footage.at(3), footage.at(7))], cameras=[world.camera, world.anpr]
    )
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    _, _, manifest = _bag(footage_request.release)
    missing = next(item for item in manifest["items"] if item["camera"] == world.anpr.code)
    assert missing["file"] is None and missing["note"] == "no recordings for this camera"
    assert missing["gaps"][0]["seconds"] == pytest.approx(4)
    assert len(manifest["files"]) == 1


def test_no_footage_at_all_fails_the_export_and_keeps_the_approvals(world, footage, django_capture_on_commit_callbacks, client):
    footage_request = approved(world, [(footage.at(3), footage.at(7))], cameras=[world.anpr])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.EXPORT_FAILED
    assert footage_request.decisions.filter(outcome=Decision.Outcome.APPROVE).count() == 1
    event = AuditEvent.objects.get(action=Action.REQUEST_EXPORT_FAIL, reference=footage_request.reference)
    assert event.outcome == Outcome.FAILURE
    # The reason is stored as a code and shown in the reader's language; the ledger keeps it in Vietnamese words.
    assert json.loads(footage_request.export_error) == {
        "code": "no_footage",
        "reasons": [["HB-002", "no recordings for this camera"]],
    }
    assert json.loads(event.payload)["reason"] == (
        "Không tìm thấy dữ liệu hình ảnh cho bất kỳ khoảng thời gian nào đã được phê duyệt "
        "(HB-002: không có bản ghi nào của camera này)."
    )
    client.force_login(world.custodian)
    progress = f"/requests/{footage_request.reference}/export/progress/"
    assert client.get(progress, HTTP_ACCEPT_LANGUAGE="en").json()["error"] == (
        "No footage could be found for any approved window (HB-002: no recordings for this camera)."
    )
    page = client.get(f"/requests/{footage_request.reference}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Trích xuất không thành công." in page and "HB-002: không có bản ghi nào của camera này" in page
    assert not list(Path(footage.exports, ".staging").glob("*"))

    # Retrying is allowed, and succeeds once the recordings are there.
    shutil.copytree(footage.root / "recordings", footage.root / "tmp", dirs_exist_ok=True)
    for path in list((footage.root / "recordings").rglob("HB-001")):
        path.rename(path.parent / world.anpr.code)
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED


def test_a_window_entirely_outside_retention_fails_with_the_reason(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(-600), footage.at(-300))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.EXPORT_FAILED
    assert "before the oldest footage kept" in export.failure_text(footage_request.export_error)


def test_a_duplicate_delivery_never_creates_a_second_release(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    # Two deliveries both build a package before either has released it.
    with django_capture_on_commit_callbacks(execute=False):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    first = export.export_build(footage_request.pk)
    second = export.export_build(footage_request.pk)
    assert workflow.request_release(footage_request_id=footage_request.pk, built=first) is not None
    assert workflow.request_release(footage_request_id=footage_request.pk, built=second) is None
    assert not second.staging.path.exists()
    # A late redelivery of the task finds nothing to do.
    assert export_request.delay(footage_request.pk).get() == "nothing to do"
    assert Release.objects.filter(footage_request=footage_request).count() == 1
    assert AuditEvent.objects.filter(action=Action.RELEASE_CREATE, reference=footage_request.reference).count() == 1
    # And the database itself refuses a second release.
    release = footage_request.release
    with pytest.raises(IntegrityError), transaction.atomic():
        Release.objects.create(
            footage_request=footage_request,
            token="x" * 32,
            package_path="/nowhere",
            package_sha256="0" * 64,
            package_size=0,
            manifest_sha256="0" * 64,
            handover_sha256="0" * 64,
            purge_after=release.purge_after,
        )


@pytest.fixture
def eager_retries():
    # Inline runs retry only when the failure is not handed straight back to the caller.
    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_a_transient_error_is_retried(world, footage, django_capture_on_commit_callbacks, monkeypatch, eager_retries):
    real_build = export.export_build
    calls = []

    def flaky(pk, **kwargs):
        calls.append(pk)
        if len(calls) == 1:
            raise OSError("disk briefly unavailable")
        return real_build(pk, **kwargs)

    monkeypatch.setattr(export, "export_build", flaky)
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    run_export(world, footage_request, django_capture_on_commit_callbacks)
    footage_request.refresh_from_db()
    assert len(calls) == 2
    assert footage_request.status == Status.RELEASED


def test_transient_errors_past_the_retry_limit_fail_the_export(
    world, footage, django_capture_on_commit_callbacks, monkeypatch, settings, eager_retries
):
    settings.EXPORT_MAX_RETRIES = 1

    def broken(pk, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(export, "export_build", broken)
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    run_export(world, footage_request, django_capture_on_commit_callbacks)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.EXPORT_FAILED
    assert export.failure_text(footage_request.export_error) == "The export stopped after repeated errors (OSError: disk gone)."


def test_only_assigned_custodians_may_export(world, footage):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    for user in (world.insider, world.outsider, world.approver):
        with pytest.raises(workflow.WorkflowRefused):
            workflow.request_export_start(actor=user, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED


def test_progress_is_shown_on_the_request_page_in_the_readers_language(world, footage, client):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    workflow.request_export_progress(footage_request.pk, 40, export.coded("cutting", camera="HB-001", n=1, total=2))
    footage_request.refresh_from_db()
    assert json.loads(footage_request.export_stage) == {"code": "cutting", "camera": "HB-001", "n": 1, "total": 2}
    client.force_login(world.custodian)
    page = client.get(f"/requests/{footage_request.reference}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'value="40"' in page.content and b"Cutting camera HB-001 (1 of 2)" in page.content
    page = client.get(f"/requests/{footage_request.reference}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert "Đang cắt dữ liệu camera HB-001 (1/2)" in page.content.decode()
    url = f"/requests/{footage_request.reference}/export/progress/"
    progress = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert progress == {
        "status": "exporting",
        "status_label": "Exporting",
        "progress": 40,
        "stage": "Cutting camera HB-001 (1 of 2)",
        "error": "",
    }
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="vi").json()["stage"] == "Đang cắt dữ liệu camera HB-001 (1/2)"


def test_the_export_reports_its_stages_as_codes(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(5)), (footage.at(6), footage.at(8))])
    with django_capture_on_commit_callbacks(execute=False):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    stages = []
    built = export.export_build(footage_request.pk, progress=lambda percent, stage: stages.append((percent, json.loads(stage))))
    export.discard(built)
    assert stages == [
        (0, {"code": "cutting", "camera": "HB-001", "n": 1, "total": 2}),
        (35, {"code": "cutting", "camera": "HB-001", "n": 2, "total": 2}),
        (75, {"code": "checking", "n": 1, "total": 2}),
        (85, {"code": "writing"}),
        (92, {"code": "packing"}),
    ]
    # Text stored before stages were codes is still shown as it was written.
    assert export.stage_text("Đang đóng gói tệp zip") == "Đang đóng gói tệp zip"
    assert export.failure_text("") == ""


def _packet_hashes(path):
    return probe.packet_hashes(path)


def _released_clip(release, folder):
    """The one video file of a release, taken out of its package: (its manifest entry, its path)."""
    _, _, manifest = _bag(release)
    (entry,) = manifest["files"]
    clip = folder / "clip.mp4"
    clip.write_bytes(zipfile.ZipFile(release.package_path).read(f"{release.footage_request.reference}/{entry['path']}"))
    return entry, clip


def test_the_clip_carries_the_recorded_packets_unchanged(world, footage, django_capture_on_commit_callbacks, tmp_path):
    footage_request = approved(world, [(footage.at(2), footage.at(8))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    release = footage_request.release
    entry, clip = _released_clip(release, tmp_path)
    recorded = [h for segment in entry["source_segments"] for h in _packet_hashes(segment["locator"])]
    assert [s["name"] for s in entry["source_segments"]] == ["59.56.mp4", "59.58.mp4", "00.00.mp4"]
    assert _packet_hashes(clip) == recorded


def test_each_clip_is_written_once_straight_into_the_package_and_verifies(
    world, footage, django_capture_on_commit_callbacks, monkeypatch, tmp_path
):
    def no_clip_file(*args, **kwargs):
        raise AssertionError("the export wrote a clip to a file of its own")

    monkeypatch.setattr(export.mp4cut, "write_clip", no_clip_file)
    footage_request = approved(world, [(footage.at(2.5), footage.at(8)), (footage.at(12), footage.at(15))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    release = footage_request.release
    reference = footage_request.reference
    _, names, manifest = _bag(release)
    clips = [f["path"] for f in manifest["files"]]
    assert len(clips) == 2 and all(f["cut_method"] == export.CUT_BY_SAMPLE_COPY for f in manifest["files"])
    # The layout users see: the clips first, in the manifest's order, then the bag's tag files.
    assert names[:2] == [f"{reference}/{path}" for path in clips]
    assert sorted(names[2:]) == sorted(
        f"{reference}/{tag}"
        for tag in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "manifest.json")
        + (export.HANDOVER_NAME,)
    )
    with zipfile.ZipFile(release.package_path) as archive:
        assert archive.testzip() is None
        bagit = archive.read(f"{reference}/manifest-sha256.txt").decode()
        for f in manifest["files"]:
            data = archive.read(f"{reference}/{f['path']}")
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (f["sha256"], f["size"])
            assert f"{f['sha256']}  {f['path']}\n" in bagit
            # The shipped check finds the clip by its hash, and the decode check read every frame of it.
            (match,) = releases.release_verify(actor=world.outsider, sha256=f["sha256"], release=release)
            assert match.name == f["path"] and f["integrity"]["decoded"] is True
            clip = tmp_path / Path(f["path"]).name
            clip.write_bytes(data)
            assert f["integrity"]["frames_decoded"] == media.decode_check(clip).frames_decoded > 0
    assert not any(Path(footage.exports, ".staging").glob("*"))


def test_segments_whose_parameters_change_still_give_a_clip_that_decodes(
    world, footage, django_capture_on_commit_callbacks, tmp_path
):
    # The camera was reconfigured for four seconds: those segments carry other parameter sets.
    write_segments(root=footage.root, camera="HB-001", start=footage.at(6), count=2, seconds=2, size="256x144")
    footage_request = approved(world, [(footage.at(3), footage.at(11))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    release = footage_request.release
    entry, clip = _released_clip(release, tmp_path)
    decoded = subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-i", str(clip), "-f", "null", "-"], capture_output=True, text=True, check=True
    )
    assert decoded.stderr == ""
    assert probe.frame_count(clip) == pytest.approx(entry["duration"] * 10, abs=2)
    assert _member_sha256(release, entry["path"]) == entry["sha256"]


class FetchedSource(SegmentFileSource):
    """A source ffmpeg cannot read in place (as a VMS export API): every segment is fetched first."""

    name = "fetched"

    def local_path(self, segment):
        return None


def test_segments_of_a_remote_source_are_fetched_and_hashed_once(world, footage, settings, django_capture_on_commit_callbacks):
    settings.FOOTAGE_CAMERAS = {"HB-001": {"source": f"{__name__}.FetchedSource"}}
    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    _, _, manifest = _bag(footage_request.release)
    (entry,) = manifest["files"]
    assert manifest["items"][0]["source"]["source"] == "fetched"
    assert len(entry["source_segments"]) == 3
    for segment in entry["source_segments"]:
        data = Path(segment["locator"]).read_bytes()
        assert (segment["sha256"], segment["size"]) == (hashlib.sha256(data).hexdigest(), len(data))


def test_keyframe_times_are_read_without_decoding(footage):
    assert media.keyframe_times(footage.segment(0))[:2] == pytest.approx([0.0, 1.0], abs=0.01)


def test_find_gaps_reports_the_edges_of_the_window(footage):
    listing = source_for("HB-001").list_segments(footage.at(-4), footage.at(4))
    gaps = export.find_gaps(listing.segments, footage.at(-4), footage.at(4))
    assert [g["seconds"] for g in gaps] == [4.0]
    assert gaps[0]["to"].startswith(footage.at(0).strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_custodian_starts_the_export_from_the_request_page(world, footage, client, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    sign_in_verified(client, world.custodian)
    page = client.get(f"/requests/{footage_request.reference}/")
    assert b'data-action="export"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/requests/{footage_request.reference}/export/")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.RELEASED
    client.force_login(world.insider)
    page = client.get(f"/requests/{footage_request.reference}/")
    assert f"/requests/{footage_request.reference}/release/".encode() in page.content


def test_a_stalled_export_is_dispatched_again(world, footage, settings):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    assert services.request_export_resume_stalled() == 0
    later = timezone.now() + dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES + 1)
    assert services.request_export_resume_stalled(now=later) == 1
    footage_request.refresh_from_db()
    assert footage_request.status == Status.RELEASED
