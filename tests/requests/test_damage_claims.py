"""What an export says of damaged recordings is no more than its check saw, on every surface that says it.

Each test damages the recordings the way a recorder, a disk or a hand does,
runs the real workflow and reads what manifest.json, the hand-over record,
the release page, the dossier and the release check page then claim.
"""

import hashlib
import html
import io
import json
import random
import re
import struct
import subprocess
from fractions import Fraction

import av
import pytest
from av.video.frame import PictureType
from django.urls import reverse
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from documents.pdf import REGULAR, register_fonts
from oversight.reports import dossier_build
from requests import integrity, media, mp4boxes, releases, workflow
from requests.models import DownloadGrant, Release, Status
from requests.permissions import WorkflowRefused
from requests.selectors import verification_token
from tests.factories import UserFactory
from tests.requests import probe
from tests.requests.footage import add_sound, approved
from tests.requests.footage import export as run_export
from tests.requests.test_decode_check import _manifest, _text, damage_payload

# Words a record in plain Vietnamese has no business printing: the decoder's English, or a claim nobody checked.
ENGLISH = ("h264:", "decoder", "Invalid", "via PyAV", "full decode", "frame not decoded", "NAL")
OVERCLAIMS = ("nguyên vẹn", "không có lỗi giải mã")


def _page(client, url, **data):
    """The page in English (the assertions quote its English wording): (its text, its markup)."""
    if data:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    else:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode().split("<main", 1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split()), content


def _exported(world, footage, capture, window=(3, 9)):
    footage_request = approved(world, [(footage.at(window[0]), footage.at(window[1]))])
    footage_request = run_export(world, footage_request, capture)
    release = Release.objects.get(footage_request=footage_request)
    manifest, handover = _manifest(release)
    (entry,) = manifest["files"]
    return footage_request, release, entry, handover


def _faststart(path, tmp_path):
    """Rewrite a segment with its header first, as recorders that write it first leave it."""
    moved = tmp_path / f"faststart-{path.name}"
    subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-c", "copy", "-movflags", "+faststart", str(moved)],
        check=True,
        capture_output=True,
    )
    path.write_bytes(moved.read_bytes())


def _noisy_segment(path, *, fps=10, frames=20, seed=0):
    """A segment like the test footage's, of noise: its P-frames are thousands of bytes of real slice data."""
    randomness = random.Random(seed)
    written = path.with_suffix(".noise.mp4")
    with av.open(str(written), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": str(fps), "qp": "32"})
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.thread_count = 1
        for number in range(frames):
            frame = av.VideoFrame(320, 180, "yuv420p")
            for plane in frame.planes:
                memory = memoryview(plane)
                memory[:] = randomness.randbytes(len(memory))
            frame.pts, frame.time_base = number, Fraction(1, fps)
            if number % fps == 0:
                frame.pict_type = PictureType.I
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    written.replace(path)


def _slice(path, sample):
    """(offset, length) of the coded slice in a sample (the picture's data, past its length prefix)."""
    segment = mp4boxes.read_segment(path)
    data = path.read_bytes()
    at, end = segment.offsets[sample], segment.offsets[sample] + segment.sizes[sample]
    while at < end:
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4] & 0x1F in (1, 5):
            return at + 4, length
        at += 4 + length
    raise AssertionError("no slice in the sample")


def _plain_vietnamese(text):
    for word in ENGLISH + OVERCLAIMS:
        assert word not in text, word


def _fits(pdf):
    """Every run of text of every page lies within the page's margins (18 mm either side)."""
    register_fonts()
    right = A4[0] - 18 * mm + 1
    runs = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((tm[4] + cm[4], text, size)))
    assert runs
    for x, text, size in runs:
        if text.strip():
            assert x >= 18 * mm - 1 and x + stringWidth(text.rstrip(), REGULAR, size) <= right, text


# Damage the decoder sees ------------------------------------------------------------------------------------------


def test_a_damaged_keyframe_declares_the_frames_decoded_from_it(world, footage, django_capture_on_commit_callbacks, client):
    damage_payload(footage.segment(4))
    footage_request, release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)

    (found,) = entry["integrity"]["damaged"]
    assert found["kind"] == "decode" and found["frames"] == 1 and found["frames_without_picture"] == 0
    # The keyframe is one second into the segment (2 s into the clip); the next keyframe comes a second later,
    # and every frame in between is predicted from the damaged one.
    assert found["from_seconds"] == pytest.approx(2.0) and found["propagates_to_seconds"] == pytest.approx(3.0)
    assert found["propagates_to_utc"].startswith(footage.at(6).strftime("%Y-%m-%dT%H:%M:%S"))

    text = _text(handover)
    assert "1 khung hình giải mã có lỗi" in text
    assert "được giải mã dựa trên khung hình lỗi nên cũng có thể bị sai lệch" in text
    _plain_vietnamese(text)
    _fits(handover)

    client.force_login(world.custodian)
    page, _html = _page(client, reverse("requests:release", args=[footage_request.reference]))
    assert "1 frame decoded with errors" in page and "are decoded from it and may show the damage too" in page


def test_a_damaged_p_frame_is_found_and_its_consequences_declared(world, footage, django_capture_on_commit_callbacks):
    segment = footage.segment(4)
    _noisy_segment(segment)
    offset, length = _slice(segment, 3)
    assert length > 2048
    with open(segment, "r+b") as handle:
        handle.seek(offset + length // 2 - 256)
        handle.write(random.Random(2).randbytes(512))
    _footage_request, _release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)

    (found,) = entry["integrity"]["damaged"]
    assert found["segment"] == segment.name and found["kind"] == "decode"
    assert found["from_seconds"] == pytest.approx(1.3) and found["propagates_to_seconds"] == pytest.approx(2.0)
    text = _text(handover)
    assert "giây 1,3 – 1,4 của tệp" in text and "có thể bị sai lệch" in text
    _plain_vietnamese(text)


@pytest.mark.parametrize("fill", ["zeros", "garbage"])
def test_a_segment_whose_samples_are_overwritten_has_no_picture(world, footage, django_capture_on_commit_callbacks, fill):
    segment = footage.segment(4)
    table = mp4boxes.read_segment(segment)
    randomness = random.Random(5)
    with open(segment, "r+b") as handle:
        for offset, size in zip(table.offsets, table.sizes, strict=True):
            handle.seek(offset)
            handle.write(b"\0" * size if fill == "zeros" else randomness.randbytes(size))
    _footage_request, _release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)

    checked = entry["integrity"]
    (found,) = checked["damaged"]
    assert checked["frames_decoded"] == 40 and checked["frames_in_file"] == 60
    assert found["segment"] == segment.name and found["frames"] == found["frames_without_picture"] == 20
    assert (found["from_seconds"], found["to_seconds"]) == (pytest.approx(1.0), pytest.approx(3.0))
    text = _text(handover)
    assert "20 khung hình không giải mã được (bộ giải mã không trả về hình)" in text
    _plain_vietnamese(text)
    _fits(handover)


# Footage that is not there ----------------------------------------------------------------------------------------


def test_a_segment_cut_short_under_a_header_that_lists_it_whole_is_missing_footage(
    world, footage, django_capture_on_commit_callbacks, client, tmp_path, settings
):
    settings.EXPORT_ON_DAMAGE = "hold"
    # The recorder wrote the header first, then stopped half a second into the samples: the header still lists two
    # seconds, and nothing about the frames that are there is wrong.
    segment = footage.segment(6)
    _faststart(segment, tmp_path)
    table = mp4boxes.read_segment(segment)
    segment.write_bytes(segment.read_bytes()[: table.offsets[5]])
    footage_request, release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks, (3, 11))

    checked = entry["integrity"]
    assert entry["gaps"] == [] and checked["frames_decoded"] == checked["frames_in_file"] == 65
    (found,) = checked["damaged"]
    assert checked["decoded"] is False and found["kind"] == "missing" and found["segment"] == segment.name
    assert (found["from_seconds"], found["to_seconds"]) == (pytest.approx(3.5), pytest.approx(5.0))
    assert found["from_utc"].startswith(footage.at(6).strftime("%Y-%m-%dT%H:%M:%S.5"))
    # Not released as though the footage were whole.
    assert footage_request.status == Status.DAMAGE_HELD and release.damaged_files == 1

    text = _text(handover)
    assert "1 đoạn không có khung hình nào (thiếu ghi hình)" in text
    assert "tệp không có khung hình nào trong 1,5 giây này" in text and segment.name in text
    _plain_vietnamese(text)
    client.force_login(world.custodian)
    page, _html = _page(client, reverse("requests:release", args=[footage_request.reference]))
    assert "footage missing from the recording" in page


def test_a_last_segment_cut_short_moves_the_clips_end_to_where_its_footage_ends(
    world, footage, django_capture_on_commit_callbacks, tmp_path
):
    segment = footage.segment(8)
    _faststart(segment, tmp_path)
    table = mp4boxes.read_segment(segment)
    segment.write_bytes(segment.read_bytes()[: table.offsets[5] + 100])  # mid-sample: its last frame is cut too
    _footage_request, release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks, (3, 10))

    kinds = [(found["kind"], found["segment"]) for found in entry["integrity"]["damaged"]]
    assert kinds == [("decode", segment.name), ("missing", segment.name)]
    missing = entry["integrity"]["damaged"][1]
    assert missing["to_utc"].startswith(footage.at(10).strftime("%Y-%m-%dT%H:%M:%S"))
    # The file's footage ends where its frames end, not where the window or the segment's header said it would.
    assert entry["last_timestamp"] == missing["from_utc"]
    video = release.files.get(kind="video")
    assert video.last_timestamp.isoformat() == missing["from_utc"]
    assert "thiếu ghi hình" in _text(handover)


def test_a_segment_cut_short_before_its_header_was_written_is_a_gap(world, footage, django_capture_on_commit_callbacks):
    # Header last (as the test footage): cut mid-sample, the file has no header and cannot be read at all.
    segment = footage.segment(6)
    table = mp4boxes.read_segment(segment)
    segment.write_bytes(segment.read_bytes()[: table.offsets[10] + 100])
    _footage_request, _release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks, (3, 11))

    (gap,) = entry["gaps"]
    assert gap["cause"] == "unreadable segment" and gap["unreadable_segments"] == [segment.name]
    # The gap is listed once, as a gap: the hole it leaves in the clip is not also declared missing footage.
    assert entry["integrity"]["decoded"] is True and entry["integrity"]["damaged"] == []
    assert "tệp nguồn không đọc được" in _text(handover)


def test_a_segment_missing_from_the_recorder_is_a_gap_not_damage(world, footage, django_capture_on_commit_callbacks):
    footage.segment(4).unlink()
    _footage_request, _release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)

    (gap,) = entry["gaps"]
    assert gap["cause"] == "no recording" and gap["seconds"] == 2.0
    assert entry["integrity"]["decoded"] is True and entry["integrity"]["damaged"] == []
    assert "không có bản ghi" in _text(handover)


# What was not checked --------------------------------------------------------------------------------------------


def test_sound_is_declared_not_checked_wherever_the_check_is_described(
    world, footage, django_capture_on_commit_callbacks, client
):
    for seconds in (2, 4, 6, 8):
        add_sound(footage.segment(seconds))
    segment = footage.segment(4)
    with av.open(str(segment)) as container:
        keyframes = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size and p.is_keyframe]
        sound = [(p.pos, p.size) for p in container.demux(container.streams.audio[0]) if p.size]
    with open(segment, "r+b") as handle:
        position, size = keyframes[1]
        handle.seek(position + size // 2 - 256)
        handle.write(random.Random(1).randbytes(512))
        # The sound is destroyed outright: no check decodes it, so nothing may suggest it was checked.
        for position, size in sound:
            handle.seek(position)
            handle.write(random.Random(position).randbytes(size))
    footage_request, release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)

    assert entry["cut_method"] == "ffmpeg concat stream copy"
    checked = entry["integrity"]
    assert checked["not_checked"] == ["audio"] and "not_checked" in checked["scope"]
    (found,) = checked["damaged"]
    assert found["segment"] == segment.name and found["propagates_to_seconds"] == pytest.approx(3.0, abs=0.05)
    video = release.files.get(kind="video")
    assert video.not_checked == ["audio"]

    text = _text(handover)
    assert "Phần âm thanh của tệp không được giải mã nên không được kiểm tra" in text
    _plain_vietnamese(text)
    content, _code, _sha256 = dossier_build(actor=world.custodian, footage_request=footage_request)
    assert "Phần âm thanh của tệp không được giải mã nên không được kiểm tra" in _text(content)

    client.force_login(world.custodian)
    page, markup = _page(client, reverse("requests:release", args=[footage_request.reference]))
    assert 'data-integrity="not-checked"' in markup and "The sound of these clips was not decoded" in page
    clip = hashlib.sha256(_clip_bytes(release)).hexdigest()
    client.logout()
    page, markup = _page(client, reverse("requests:verify-release", args=[verification_token(release)]), sha256=clip)
    assert 'data-integrity="not-checked"' in markup


def test_an_intact_clip_with_sound_says_only_its_pictures_decoded(world, footage, django_capture_on_commit_callbacks):
    for seconds in (2, 4, 6, 8):
        add_sound(footage.segment(seconds))
    _footage_request, _release, entry, handover = _exported(world, footage, django_capture_on_commit_callbacks)
    assert entry["integrity"]["decoded"] is True and entry["integrity"]["not_checked"] == ["audio"]
    text = _text(handover)
    assert "đã giải mã toàn bộ 60 khung hình của phần hình ảnh" in text
    assert "Phần âm thanh của tệp không được giải mã nên không được kiểm tra" in text


def _clip_bytes(release):
    import zipfile

    with zipfile.ZipFile(release.package_path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".mp4")]
        return archive.read(name)


# A held package ---------------------------------------------------------------------------------------------------


def test_the_release_check_says_a_held_package_was_not_released(
    world, footage, django_capture_on_commit_callbacks, client, settings
):
    settings.EXPORT_ON_DAMAGE = "hold"
    damage_payload(footage.segment(4))
    footage_request, release, _entry, _handover = _exported(world, footage, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.DAMAGE_HELD
    clip = hashlib.sha256(_clip_bytes(release)).hexdigest()
    check = reverse("requests:verify-release", args=[verification_token(release)])

    page, markup = _page(client, check, sha256=clip)
    assert 'data-result="held"' in markup and 'data-result="match"' not in markup
    assert "matches a released file" not in page and "has not been released" in page
    assert 'data-match="held"' in markup and "held for damaged footage, not released" in page
    # What the check found in that file is shown with the match.
    assert 'data-integrity="damaged"' in markup and "1 frame decoded with errors" in page
    # So with the package's own hash, and on the signed-in check page.
    client.force_login(world.custodian)
    page, markup = _page(client, reverse("requests:verify"), sha256=release.package_sha256)
    assert 'data-result="held"' in markup and "the package declares damaged footage in 1 file" in page

    # The dossier does not call it provided either.
    content, _code, _sha256 = dossier_build(actor=world.custodian, footage_request=footage_request)
    dossier = _text(content)
    assert "đang bị giữ lại, chưa cung cấp" in dossier and "Trích xuất lúc" in dossier and "Cung cấp lúc" not in dossier

    workflow.request_acknowledge_damage(actor=world.custodian, footage_request=footage_request, note="Đã xem.")
    client.logout()
    page, markup = _page(client, check, sha256=clip)
    assert 'data-result="match"' in markup and 'data-match="released"' in markup
    assert 'data-integrity="damaged"' in markup


def test_a_held_package_cannot_be_downloaded_or_acknowledged_but_by_its_custodian(
    world, footage, django_capture_on_commit_callbacks, client, settings
):
    settings.EXPORT_ON_DAMAGE = "hold"
    damage_payload(footage.segment(4))
    footage_request, release, _entry, _handover = _exported(world, footage, django_capture_on_commit_callbacks)
    reference = footage_request.reference
    acknowledge = reverse("requests:release-acknowledge", args=[reference])
    elsewhere = UserFactory(username="vanhanh-ubnd", agency=world.committee, roles=["custodian"])
    administrator = UserFactory(username="quantri-ioc", agency=world.centre, roles=["administrator"])

    # The requesting officer is told the package is held, and given no way to it.
    client.force_login(world.insider)
    _page_text, markup = _page(client, reverse("requests:detail", args=[reference]))
    assert 'data-integrity="held"' in markup and reverse("requests:release", args=[reference]) not in markup
    assert client.get(reverse("requests:release", args=[reference])).status_code == 404
    client.post(reverse("requests:release-link", args=[reference]))
    assert release.grants.count() == 0
    with pytest.raises(WorkflowRefused):
        releases.release_link_issue(actor=world.insider, footage_request=footage_request)
    # A link made behind the workflow's back does not open it either.
    grant = DownloadGrant.objects.create(release=release, user=world.insider, expires_at=release.purge_after, max_downloads=5)
    token = releases._signer().sign_object({"g": grant.pk, "u": world.insider.pk, "r": release.pk})
    response = client.get(reverse("requests:download", args=[token]))
    assert response.status_code == 404 and not hasattr(response, "streaming_content")
    grant.refresh_from_db()
    assert grant.downloads == 0

    # Only a custodian assigned to the export may acknowledge; for everybody else there is nothing there.
    for someone in (world.insider, world.outsider, world.approver, world.reviewer, elsewhere, administrator):
        client.force_login(someone)
        assert client.post(acknowledge, {"confirm": "on"}).status_code == 404, someone.username
        footage_request.refresh_from_db()
        assert footage_request.status == Status.DAMAGE_HELD
    # The custodian reaches it (whether the act then goes through is the workflow's to say: tested elsewhere).
    client.force_login(world.custodian)
    assert client.post(acknowledge, {"confirm": "on"}).status_code == 302


# The pieces ------------------------------------------------------------------------------------------------------


def test_a_listed_gap_is_not_missing_footage_but_an_unlisted_hole_is(footage):
    report = media.DecodeReport(
        frames_in_file=40,
        frames_decoded=40,
        damage=[],
        checked_with=media.checked_with("h264"),
        frame_interval=0.1,
        shown_to=6.0,
        holes=[(1.0, 3.0), (4.2, 5.0)],
    )
    layout = integrity.TimeLayout(starts=[footage.at(0), footage.at(4), footage.at(6)], first_frame=footage.at(0))
    gaps = [{"from": footage.at(1).isoformat(), "to": footage.at(3).isoformat()}]
    segments = [{"name": "a.mp4", "sha256": "a" * 64}, {"name": "b.mp4", "sha256": "b" * 64}, {"name": "c.mp4"}]
    section = integrity.integrity_section(report, layout=layout, source_segments=segments, gaps=gaps, covered_to=footage.at(7))
    assert [(f["kind"], f["segment"], f["from_seconds"], f["to_seconds"]) for f in section["damaged"]] == [
        ("missing", "b.mp4", 4.2, 5.0),
        ("missing", "c.mp4", 6.0, 7.0),
    ]
    assert section["decoded"] is False
    lines = integrity.damage_lines_vi(section)
    assert lines[0].startswith("phát hiện lỗi: 2 đoạn không có khung hình nào (thiếu ghi hình)")
    _plain_vietnamese(" ".join(lines))
    # The same clip with its hole listed as a gap, and covering what it shows, is whole.
    gaps.append({"from": footage.at(4).isoformat(), "to": footage.at(5).isoformat()})
    section = integrity.integrity_section(report, layout=layout, source_segments=segments, gaps=gaps, covered_to=footage.at(6))
    assert section["decoded"] is True and section["damaged"] == []


def test_how_the_check_was_made_is_said_in_vietnamese():
    said = integrity.checked_with_vi(media.checked_with("h264"))
    assert said.startswith("bộ giải mã h264 của FFmpeg ") and "dùng qua PyAV" in said
    assert "via" not in said and "full decode" not in said
    assert integrity.scope_lines_vi([None]) == []
    assert (
        json.dumps(integrity.scope_lines_vi([{"checked_with": media.checked_with()}]), ensure_ascii=False).count(
            "không khẳng định hình ảnh không bị thay đổi"
        )
        == 1
    )
