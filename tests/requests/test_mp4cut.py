"""Cutting by copying samples: the same frames as ffmpeg's cut, a file every player reads, every hash of the bytes."""

import datetime as dt
import errno
import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from requests import export, media, mp4boxes, mp4cut, zipwriter
from requests.models import Status
from requests.sources import source_for
from tests.requests import probe
from tests.requests.footage import add_sound, approved
from tests.requests.footage import export as run_export


def _packets(path):
    """Each video packet's data hash, keyframe flag, and decoding and presentation times from the first packet's."""
    packets = probe.packets(path)
    origin = packets[0][2]
    return [(digest, flag, dts - origin, pts - origin) for digest, flag, dts, pts in packets]


def _decoding_errors(path):
    result = subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    return result.returncode, result.stderr


def _top_boxes(path):
    data = Path(path).read_bytes()
    return [kind for kind, *_ in mp4boxes.boxes_in(data)]


def _segments(footage, start, end):
    return source_for("HB-001").list_segments(footage.at(start), footage.at(end)).segments


def _both_cuts(footage, tmp_path, start, end):
    """The same window cut by copying samples and by ffmpeg: (sample copy facts, ffmpeg facts)."""
    window = {
        "source": source_for("HB-001"),
        "segments": _segments(footage, start, end),
        "start": footage.at(start),
        "end": footage.at(end),
    }
    for name in ("copy", "ffmpeg"):
        (tmp_path / name).mkdir()
    cut = export.cut_window(**window, out_path=tmp_path / "copy" / "clip.mp4", workdir=tmp_path / "copy")
    plan = export.prepare_cut(**window, out_path=tmp_path / "ffmpeg" / "clip.mp4", workdir=tmp_path / "ffmpeg")
    sha256, size, duration, _ = export._cut_with_ffmpeg(plan)
    return cut, {"sha256": sha256, "size": size, "duration": duration, "keyframe": plan.keyframe}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (3.5, 11.5),  # from inside a segment, across segment and hour boundaries, to inside another
        (2, 8),  # on segment boundaries
        (4.2, 5.6),  # inside one segment
        (-10, 40),  # wider than the recordings on both sides
    ],
)
def test_copying_samples_gives_the_frames_ffmpeg_gives(footage, tmp_path, start, end):
    cut, ffmpeg = _both_cuts(footage, tmp_path, start, end)

    clip = tmp_path / "copy" / "clip.mp4"
    assert cut["cut_method"] == export.CUT_BY_SAMPLE_COPY
    assert _packets(clip) == _packets(tmp_path / "ffmpeg" / "clip.mp4")
    assert _decoding_errors(clip) == (0, "")
    assert cut["duration"] == pytest.approx(ffmpeg["duration"], abs=0.05)
    assert (cut["sha256"], cut["size"]) == (hashlib.sha256(clip.read_bytes()).hexdigest(), clip.stat().st_size)
    for segment in cut["source_segments"]:
        data = Path(segment["locator"]).read_bytes()
        assert (segment["sha256"], segment["size"]) == (hashlib.sha256(data).hexdigest(), len(data))


def test_the_clip_says_what_it_holds_before_the_frames(footage, tmp_path):
    cut, _ = _both_cuts(footage, tmp_path, 3.5, 11.5)

    # A player (or a browser) can start before it has read the whole file.
    assert _top_boxes(tmp_path / "copy" / "clip.mp4") == [b"ftyp", b"moov", b"mdat"]
    assert cut["starts_at_preceding_keyframe"] is True
    assert cut["lead_in_seconds"] == pytest.approx(0.5, abs=0.01)


def _write_b_frame_segments(root, count=3):
    """Segments with B-frames, whose frames are shown in another order than they are decoded."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10", "-t", str(2 * count)]
        + ["-c:v", "libx264", "-preset", "fast", "-bf", "2", "-g", "10", "-pix_fmt", "yuv420p"]
        + ["-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", str(root / "seg%03d.mp4")],
        check=True,
        capture_output=True,
    )
    return sorted(root.glob("seg*.mp4"))


def _shown_times(path):
    """Seconds at which each decoded frame is shown, in the order shown."""
    return probe.shown_times(path)


def test_frames_shown_out_of_decoding_order_are_all_kept_and_shown_without_a_jump(tmp_path):
    paths = _write_b_frame_segments(tmp_path / "b")
    plan = mp4cut.plan_cut(paths, inpoint=1.2, outpoint=1.5)
    clip = tmp_path / "clip.mp4"
    mp4cut.write_clip(plan, clip)

    packets = [{"data_hash": digest, "dts": dts, "pts": pts} for digest, _, dts, pts in probe.packets(clip)]
    assert any(p["pts"] != p["dts"] for p in packets)
    recorded = [probe.packet_hashes(path) for path in paths]
    # From the keyframe at 1 s in the first segment, all of the second, then the third up to 1.5 s (and the
    # frames those are decoded from).
    assert [p["data_hash"] for p in packets][: 10 + 20] == recorded[0][10:] + recorded[1]
    assert 15 <= len(packets) - 30 <= 17
    assert [p["data_hash"] for p in packets][30:] == recorded[2][: len(packets) - 30]
    assert _decoding_errors(clip) == (0, "")
    # Shown from time zero at the keyframe, every tenth of a second, across the joins, to the out-point.
    shown = _shown_times(clip)
    assert shown[:45] == [round(0.1 * i, 3) for i in range(45)]
    assert plan.keyframe == pytest.approx(1.0, abs=0.001)


def test_segments_with_sound_are_cut_by_ffmpeg(world, footage, django_capture_on_commit_callbacks):
    # The same camera recorded sound for two segments: the copy of samples handles one video track only.
    add_sound(footage.segment(4))
    footage_request = run_export(world, approved(world, [(footage.at(3), footage.at(7))]), django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    release = footage_request.release
    with zipfile.ZipFile(release.package_path) as archive:
        manifest = json.loads(archive.read(f"{footage_request.reference}/manifest.json"))
    (entry,) = manifest["files"]
    assert entry["cut_method"] == export.CUT_BY_FFMPEG


def test_fragmented_segments_are_left_to_ffmpeg(footage, tmp_path):
    fragmented = tmp_path / "fragmented.mp4"
    subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-i", str(footage.segment(0)), "-c", "copy"]
        + ["-movflags", "frag_keyframe+empty_moov", str(fragmented)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(mp4cut.Unsupported, match="fragmented"):
        mp4cut.plan_cut([footage.segment(0), fragmented])


def test_a_truncated_segment_is_left_to_ffmpeg(footage, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(footage.segment(0).read_bytes()[:-500])
    with pytest.raises(mp4cut.Unsupported):
        mp4cut.plan_cut([broken])


def test_a_segment_that_changes_while_it_is_cut_fails_the_attempt(footage, tmp_path):
    plan = mp4cut.plan_cut([footage.segment(0), footage.segment(2)], inpoint=0.5)
    stat = footage.segment(2).stat()
    os.utime(footage.segment(2), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    with pytest.raises(mp4cut.SourceChanged):
        mp4cut.write_clip(plan, tmp_path / "clip.mp4")
    # A transient error: the export task tries again, from the plan up.
    assert isinstance(mp4cut.SourceChanged(errno.EAGAIN, "x"), export.TRANSIENT_ERRORS)


@pytest.mark.parametrize("refused", ["copy_file_range", "sendfile"])
def test_the_clip_is_the_same_where_the_kernel_cannot_copy_between_the_files(footage, tmp_path, monkeypatch, refused):
    plan = mp4cut.plan_cut([footage.segment(0), footage.segment(2), footage.segment(4)], inpoint=0.5, outpoint=1.2)
    expected = mp4cut.write_clip(plan, tmp_path / "expected.mp4")

    def refuse(*args, **kwargs):
        raise OSError(errno.EXDEV if refused == "copy_file_range" else errno.EINVAL, "refused")

    monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    if refused == "sendfile":
        monkeypatch.setattr(os, "sendfile", refuse)
    assert mp4cut.write_clip(plan, tmp_path / "clip.mp4") == expected
    data = (tmp_path / "clip.mp4").read_bytes()
    assert data == (tmp_path / "expected.mp4").read_bytes()
    assert expected[:2] == (hashlib.sha256(data).hexdigest(), len(data))


def test_a_clip_past_four_gigabytes_is_laid_out_with_64_bit_offsets(footage, tmp_path, monkeypatch):
    paths = [footage.segment(0), footage.segment(2), footage.segment(4)]
    small = tmp_path / "small.mp4"
    mp4cut.write_clip(mp4cut.plan_cut(paths, inpoint=0.5), small)
    monkeypatch.setattr(mp4cut, "LARGE_FILE", 0)
    large = tmp_path / "large.mp4"
    mp4cut.write_clip(mp4cut.plan_cut(paths, inpoint=0.5), large)

    data = large.read_bytes()
    boxes = list(mp4boxes.boxes_in(data))
    assert [kind for kind, *_ in boxes] == [b"ftyp", b"moov", b"mdat"]
    _, mdat_start, mdat_content, _ = boxes[2]
    assert mdat_content - mdat_start == 16
    assert b"co64" in data[:mdat_start] and b"stco" not in data[:mdat_start]
    assert _packets(large) == _packets(small)
    assert _decoding_errors(large) == (0, "")


def test_times_count_from_where_the_recorders_edit_list_starts_showing(footage, tmp_path):
    # A recorder that starts a segment half a second after a keyframe keeps the frames before it, hidden.
    trimmed = tmp_path / "trimmed.mp4"
    subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-ss", "0.5", "-i", str(footage.segment(0)), "-c", "copy", str(trimmed)],
        check=True,
        capture_output=True,
    )
    plan = mp4cut.plan_cut([trimmed], inpoint=0.3, outpoint=1.0)
    clip = tmp_path / "clip.mp4"
    mp4cut.write_clip(plan, clip)

    # It starts at the keyframe half a second before the segment's first frame shown, and ends a second after that.
    assert plan.keyframe == pytest.approx(-0.5, abs=0.001)
    assert len(probe.packets(clip)) == 15
    assert _decoding_errors(clip) == (0, "")


def test_a_segment_with_two_headers_is_left_to_ffmpeg(footage, tmp_path):
    data = footage.segment(0).read_bytes()
    (moov,) = [data[start:end] for kind, start, _, end in mp4boxes.boxes_in(data) if kind == b"moov"]
    doubled = tmp_path / "doubled.mp4"
    doubled.write_bytes(data + moov)
    with pytest.raises(mp4cut.Unsupported, match="two moov"):
        mp4cut.plan_cut([doubled])


def _creation_time(moment):
    """A moment as FFmpeg's libraries read an MP4 creation time back: the second it falls in, in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _refuse(*args, **kwargs):
    raise mp4cut.Unsupported("left to ffmpeg by the test")


@pytest.mark.parametrize("by_ffmpeg", [False, True], ids=["sample-copy", "ffmpeg"])
def test_a_clip_across_a_recording_gap_shows_every_frame_at_its_wall_clock_time(footage, tmp_path, monkeypatch, by_ffmpeg):
    footage.segment(6).unlink()  # nothing was recorded from 6 s to 8 s
    if by_ffmpeg:
        monkeypatch.setattr(mp4cut, "plan_cut", _refuse)
    clip = tmp_path / "clip.mp4"
    cut = export.cut_window(
        source=source_for("HB-001"),
        segments=_segments(footage, 3.5, 11.5),
        start=footage.at(3.5),
        end=footage.at(11.5),
        out_path=clip,
        workdir=tmp_path,
    )

    assert cut["cut_method"] == (export.CUT_BY_FFMPEG if by_ffmpeg else export.CUT_BY_SAMPLE_COPY)
    # From the keyframe at 3 s, ten frames a second up to 6 s; the frames recorded from 8 s on are shown 5 s in.
    shown = probe.shown_times(clip)
    assert shown == pytest.approx([0.1 * i for i in range(30)] + [5 + 0.1 * i for i in range(35)], abs=0.05)
    assert cut["duration"] == pytest.approx(8.5, abs=0.15)
    assert cut["start_utc"] == cut["first_timestamp"] == footage.at(3).isoformat(timespec="microseconds")
    assert probe.creation_times(clip) == (_creation_time(footage.at(3)),) * 2
    assert _decoding_errors(clip) == (0, "")


def test_frames_shown_out_of_decoding_order_keep_their_time_across_a_gap(tmp_path):
    paths = _write_b_frame_segments(tmp_path / "b")
    recorded = dt.datetime(2026, 3, 1, 1, 0, 0, 400000, tzinfo=dt.UTC)
    # The middle segment was lost: the third starts four seconds after the first.
    plan = mp4cut.plan_cut([paths[0], paths[2]], inpoint=1.2, outpoint=1.5, starts=[recorded, recorded + dt.timedelta(seconds=4)])
    clip = tmp_path / "clip.mp4"
    mp4cut.write_clip(plan, clip)

    shown = probe.shown_times(clip)
    assert shown[:25] == pytest.approx([0.1 * i for i in range(10)] + [3 + 0.1 * i for i in range(15)], abs=0.001)
    # The first frame shown, the keyframe at 1 s, was recorded at 01:00:01.4; MP4 counts whole seconds.
    assert probe.creation_times(clip) == ("2026-03-01T01:00:01.000000Z",) * 2
    assert _decoding_errors(clip) == (0, "")


def test_a_hole_finer_than_the_start_times_is_closed_up(footage):
    paths = [footage.segment(0), footage.segment(2)]
    # Start times read from file names are whole seconds: half a second between two segments may be nothing at all.
    starts = [footage.at(0), footage.at(2.5)]

    assert mp4cut.plan_cut(paths, starts=starts, tolerance=1.0).duration == pytest.approx(4.0)
    assert mp4cut.plan_cut(paths, starts=starts).duration == pytest.approx(4.5)
    assert mp4cut.plan_cut(paths).duration == pytest.approx(4.0)


@pytest.mark.parametrize("zip64", [False, True])
def test_a_clip_cut_into_the_package_is_the_clip_cut_to_a_file(footage, tmp_path, monkeypatch, zip64):
    """Written once, straight into its zip member: the same bytes, the same hashes, and the decode check reads it there."""
    if zip64:
        monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 0)
    plan = mp4cut.plan_cut([footage.segment(0), footage.segment(2), footage.segment(4)], inpoint=0.5, outpoint=1.2)
    reference = tmp_path / "reference.mp4"
    expected = mp4cut.write_clip(plan, reference)

    package = zipwriter.PackageWriter(tmp_path / "package.zip")
    name = "YC-2026-000001/data/01_HB-001.mp4"
    *facts, entry = mp4cut.write_clip_into(plan, package, name)
    package_path, _, _ = package.finish()

    assert tuple(facts) == expected
    with zipfile.ZipFile(package_path) as archive:
        assert archive.testzip() is None
        data = archive.read(name)
    assert data == reference.read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected[0]
    in_package = media.decode_check(export.package_member(package_path, entry))
    on_disk = media.decode_check(reference)
    assert (in_package.frames_in_file, in_package.frames_decoded, in_package.damage) == (
        on_disk.frames_in_file,
        on_disk.frames_decoded,
        [],
    )
    assert in_package.frames_decoded > 0


def test_a_damaged_frame_in_the_package_is_placed_where_it_lies_in_the_clip(footage, tmp_path):
    plan = mp4cut.plan_cut([footage.segment(0), footage.segment(2)])
    package = zipwriter.PackageWriter(tmp_path / "package.zip")
    *_, entry = mp4cut.write_clip_into(plan, package, "YC-2026-000001/data/clip.mp4")
    package_path, _, _ = package.finish()
    # Spoil a sample's bytes in the middle of the second segment's part of the clip, inside the package.
    _, offset, length = plan.ranges[-1]
    where = len(plan.header) + plan.payload - length // 2
    with open(package_path, "r+b") as handle:
        handle.seek(entry.data_offset + where)
        handle.write(b"\xff" * 2000)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(package_path.read_bytes()[entry.data_offset : entry.data_offset + entry.size])

    in_package = media.decode_check(export.package_member(package_path, entry), threads=1)
    on_disk = media.decode_check(clip, threads=1)
    assert in_package.damage and in_package.damage == on_disk.damage
    assert all(d.position is None or d.position < entry.size for d in in_package.damage)
