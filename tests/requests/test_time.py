"""Time as people read it: a clip keeps the recording's time across a gap and says when it starts; names and the
hand-over record give Vietnam time, with the zone named."""

import datetime as dt
import json
import unicodedata
import zipfile

import pytest

from requests import mp4cut
from tests.pdf import pdf_text
from tests.requests import probe
from tests.requests.footage import approved
from tests.requests.footage import export as run_export

VIETNAM = dt.timedelta(hours=7)


def _refuse(*args, **kwargs):
    raise mp4cut.Unsupported("left to ffmpeg by the test")


def _package(footage_request, tmp_path):
    """(manifest, the one clip's manifest entry, the clip's path, the hand-over record's text) of a release."""
    reference = footage_request.reference
    with zipfile.ZipFile(footage_request.release.package_path) as archive:
        manifest = json.loads(archive.read(f"{reference}/manifest.json"))
        (entry,) = manifest["files"]
        clip = tmp_path / "clip.mp4"
        clip.write_bytes(archive.read(f"{reference}/{entry['path']}"))
        handover = archive.read(f"{reference}/bien-ban-giao-nhan.pdf")
    return manifest, entry, clip, unicodedata.normalize("NFC", "\n".join(pdf_text(handover)[0]))


@pytest.mark.parametrize("by_ffmpeg", [False, True], ids=["sample-copy", "ffmpeg"])
def test_a_released_clip_keeps_a_recording_gap_and_says_when_it_starts(
    world, footage, django_capture_on_commit_callbacks, tmp_path, monkeypatch, by_ffmpeg
):
    footage.segment(6).unlink()  # nothing was recorded from 6 s to 8 s
    if by_ffmpeg:
        monkeypatch.setattr(mp4cut, "plan_cut", _refuse)
    footage_request = run_export(world, approved(world, [(footage.at(3), footage.at(11))]), django_capture_on_commit_callbacks)

    _, entry, clip, _ = _package(footage_request, tmp_path)
    assert entry["cut_method"] == ("ffmpeg concat stream copy" if by_ffmpeg else "mp4 sample copy")
    (gap,) = entry["gaps"]
    assert (gap["from"], gap["to"]) == (
        footage.at(6).isoformat(timespec="microseconds"),
        footage.at(8).isoformat(timespec="microseconds"),
    )
    # The frames recorded after the gap are shown at their own time from the clip's start, not straight after 6 s.
    shown = probe.shown_times(clip)
    assert shown == pytest.approx([0.1 * i for i in range(30)] + [5 + 0.1 * i for i in range(30)], abs=0.05)
    assert entry["duration"] == pytest.approx(8, abs=0.15)
    # When the first frame was recorded: in the manifest (UTC) and in the clip's own header.
    assert entry["start_utc"] == entry["first_timestamp"] == footage.at(3).isoformat(timespec="microseconds")
    created = f"{footage.at(3):%Y-%m-%dT%H:%M:%S}.000000Z"
    assert probe.creation_times(clip) == (created, created)


def test_file_names_and_the_handover_record_give_vietnam_time_with_the_zone_named(
    world, footage, django_capture_on_commit_callbacks, tmp_path
):
    footage.segment(6).unlink()
    footage_request = run_export(
        world, approved(world, [(footage.at(3.5), footage.at(11.5))]), django_capture_on_commit_callbacks
    )

    manifest, entry, _, text = _package(footage_request, tmp_path)
    start, end = footage.at(3.5) + VIETNAM, footage.at(11.5) + VIETNAM
    assert entry["path"] == f"data/01_HB-001_{start:%Y%m%dT%H%M%S}+0700_{end:%Y%m%dT%H%M%S}+0700.mp4"
    # The manifest stays in UTC.
    assert manifest["items"][0]["requested_from"] == footage.at(3.5).isoformat(timespec="microseconds")
    first, last = footage.at(3) + VIETNAM, footage.at(11.5) + VIETNAM
    assert f"{first:%d/%m/%Y %H:%M:%S} (UTC+7)\n– {last:%d/%m/%Y %H:%M:%S} (UTC+7)" in text
    gap_from, gap_to = footage.at(6) + VIETNAM, footage.at(8) + VIETNAM
    assert f"HB-001: {gap_from:%d/%m/%Y %H:%M:%S} (UTC+7) – {gap_to:%d/%m/%Y %H:%M:%S} (UTC+7)" in text
    assert "(UTC+7), chúng tôi gồm:" in text
