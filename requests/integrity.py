"""What the decode check of a released clip found, in the terms of the recording: which source segment, when.

`requests.media.decode_check` decodes a clip and names the frames that did
not decode cleanly by their place in the clip (seconds from its first frame,
byte offset). The export knows what the clip was made of; the layouts here
turn that back into the source segment each damaged frame was copied from
(its name and SHA-256, as the manifest lists it) and the wall-clock time it
was recorded, and `integrity_section` groups neighbouring frames into the
damaged ranges manifest.json lists, with how far the frames predicted from a
damaged one run and any time the clip shows no frame although the manifest
lists no gap there (footage missing from a segment whose header says
otherwise). `damage_lines_vi` and `scope_lines_vi` put them into the plain
Vietnamese of the hand-over record and the dossier, without the decoder's
English messages, which manifest.json keeps.

Like the rest of manifest.json, the section's keys and notes are fixed
English values; the decoder's own messages are quoted as FFmpeg wrote them.
"""

import bisect
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

from audit.chain import format_time
from governance.timefmt import local, zone_name
from requests import media

# What "decoded" means in manifest.json (a fixed value): never more than the check did.
SCOPE = (
    "every frame of the video stream decoded once; a frame is damaged when FFmpeg's decoder reports an error "
    "for it, marks it corrupt or returns no picture for it, and the frames decoded after it up to the next keyframe "
    "may carry its damage (propagates_to); a time with no frame that is not a listed gap is missing footage; "
    "changed bytes that still decode are not detected, and streams listed in not_checked (sound…) are not decoded"
)
# What a damaged range is (manifest.json's `kind`): frames the decoder found fault with, a time with no frame at all,
# or a file that could not be decoded.
KIND_DECODE = "decode"
KIND_MISSING = "missing"
KIND_FILE = "file"
# A damaged range's decoder messages are cut to this length.
MESSAGE_LIMIT = 500


@dataclass
class SampleLayout:
    """A clip cut by copying samples (`requests.mp4cut`): a header, then byte ranges of the segments, in order."""

    header: int  # bytes before the first copied sample
    ranges: list  # (segment index, source offset, length)
    segments: list  # mp4boxes.Segment of each source segment: its sample tables
    starts: list  # wall-clock start of each source segment
    first_frame: dt.datetime  # when the clip's first frame was recorded
    _offsets: dict = field(default_factory=dict, repr=False)
    _shown: dict = field(default_factory=dict, repr=False)

    def locate(self, damage):
        """(segment index, wall-clock time) of a damaged frame, found by where its bytes came from."""
        if damage.position is not None:
            place = damage.position - self.header
            start = 0
            for index, offset, length in self.ranges:
                if start <= place < start + length:
                    sample = self._sample_at(index, offset + place - start)
                    if sample is not None:
                        return index, self.starts[index] + dt.timedelta(seconds=self._seconds(index, sample))
                    break
                start += length
        # Not a sample's first byte (the point where reading stopped): found by time, as TimeLayout does.
        return TimeLayout(starts=self.starts, first_frame=self.first_frame).locate(damage)

    def _sample_at(self, index, offset):
        if index not in self._offsets:
            self._offsets[index] = {value: n for n, value in enumerate(self.segments[index].offsets)}
        return self._offsets[index].get(offset)

    def _seconds(self, index, sample):
        """Seconds from the segment's first frame shown to when this sample is shown."""
        segment = self.segments[index]
        if index not in self._shown:
            composition = segment.composition or itertools.repeat(0)
            decoding = itertools.accumulate(segment.durations, initial=0)
            shown = [time + offset for time, offset in zip(decoding, composition, strict=False)][: len(segment.durations)]
            origin = min(shown) if segment.start is None else segment.start
            self._shown[index] = (shown, origin)
        shown, origin = self._shown[index]
        return (shown[sample] - origin) / segment.timescale


@dataclass
class TimeLayout:
    """A clip of any other kind (ffmpeg's concat demuxer): found by time alone.

    The export places every segment at its wall-clock offset from the clip's
    first frame (a hole in the recording is kept), so a frame shown t seconds
    into the clip was recorded t seconds after the first one, to within the
    precision of the segments' start times.
    """

    starts: list  # wall-clock start of each source segment
    first_frame: dt.datetime

    def locate(self, damage):
        moment = self.first_frame + dt.timedelta(seconds=damage.seconds)
        return max(0, bisect.bisect_right(self.starts, moment) - 1), moment


def _clip_seconds(moment, first_frame):
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (moment - first_frame).total_seconds()


def _unexplained(hole, explained, limit):
    """The parts of a hole (from, to) that no explained interval covers and that last longer than `limit`."""
    pieces = [hole]
    for start, end in explained:
        pieces = [part for a, b in pieces for part in ((a, min(b, start)), (max(a, end), b)) if part[1] > part[0]]
    return [(a, b) for a, b in pieces if b - a > limit]


def missing_footage(report, *, first_frame, gaps=(), covered_to=None, tolerance=1.0):
    """(from, to) in seconds of the clip where no frame is shown although the manifest lists no gap there.

    A gap in the recordings (the manifest's `gaps`) stays a hole in the clip;
    any other hole is footage the source segments were listed as holding and
    the clip does not have (a segment cut short, with a header that says
    otherwise), as is a clip ending before `covered_to`, the end the manifest
    gives its footage.
    """
    limit = media.hole_threshold(report.frame_interval)
    holes = list(report.holes)
    if covered_to is not None:
        end = _clip_seconds(covered_to, first_frame)
        if end - report.shown_to > limit:
            holes.append((report.shown_to, end))
    margin = tolerance + (report.frame_interval or 0.0)
    explained = [
        (_clip_seconds(gap["from"], first_frame) - margin, _clip_seconds(gap["to"], first_frame) + margin) for gap in gaps
    ]
    return [piece for hole in holes for piece in _unexplained(hole, explained, limit)]


def integrity_section(report, *, layout, source_segments, gaps=(), covered_to=None, tolerance=1.0):
    """The `integrity` section of a file in manifest.json, from its DecodeReport.

    `source_segments` are the file's source segments as the manifest lists
    them (name and SHA-256), in the order of `layout`; `gaps` the gaps the
    manifest lists for its window and `covered_to` (aware) the end it gives
    the clip's footage: a hole in the clip's pictures they do not explain is
    listed as missing footage.
    """
    ranges = []
    for damage in report.damage:
        if damage.whole_file:
            ranges.append(
                {
                    "kind": KIND_FILE,
                    "_index": None,
                    "_from": 0.0,
                    "_to": 0.0,
                    "_start": None,
                    "_end": None,
                    "_affects": None,
                    "frames": 0,
                    "frames_without_picture": 0,
                    "_messages": damage.problems,
                }
            )
            continue
        index, moment = layout.locate(damage)
        end = moment + dt.timedelta(seconds=damage.duration)
        last = ranges[-1] if ranges else None
        # Frames next to each other in the same segment make one range.
        if (
            last is not None
            and last["kind"] == KIND_DECODE
            and last["_index"] == index
            and damage.seconds <= last["_to"] + max(0.5 * damage.duration, 1e-3)
        ):
            last["_to"] = max(last["_to"], damage.seconds + damage.duration)
            last["_end"] = max(last["_end"], end)
            last["frames"] += damage.frames
            last["frames_without_picture"] += damage.pictureless
            last["_messages"].extend(damage.problems)
            if damage.affects_to is not None:
                last["_affects"] = max(last["_affects"] or 0.0, damage.affects_to)
            continue
        ranges.append(
            {
                "kind": KIND_DECODE,
                "_index": index,
                "_from": damage.seconds,
                "_to": damage.seconds + damage.duration,
                "_start": moment,
                "_end": end,
                "_affects": damage.affects_to,
                "frames": damage.frames,
                "frames_without_picture": damage.pictureless,
                "_messages": list(damage.problems),
            }
        )
    if not any(found["kind"] == KIND_FILE for found in ranges):
        for start, stop in missing_footage(
            report, first_frame=layout.first_frame, gaps=gaps, covered_to=covered_to, tolerance=tolerance
        ):
            index, moment = TimeLayout(starts=layout.starts, first_frame=layout.first_frame).locate(
                media.Damage(index=0, seconds=start, duration=0.0, position=None)
            )
            ranges.append(
                {
                    "kind": KIND_MISSING,
                    "_index": index,
                    "_from": start,
                    "_to": stop,
                    "_start": moment,
                    "_end": moment + dt.timedelta(seconds=stop - start),
                    "_affects": None,
                    "frames": 0,
                    "frames_without_picture": 0,
                    "_messages": [
                        f"no frame in the clip for {stop - start:.1f} s of a time its source segments are listed as "
                        "recording: footage missing from the recording, not a gap the manifest lists"
                    ],
                }
            )
        ranges.sort(key=lambda found: found["_from"])
    damaged = []
    for found in ranges:
        index = found["_index"]
        segment = source_segments[index] if index is not None and index < len(source_segments) else {}
        message = "; ".join(dict.fromkeys(found["_messages"]))
        affects = found["_affects"] if found["_affects"] is not None and found["_affects"] > found["_to"] + 1e-6 else None
        damaged.append(
            {
                "kind": found["kind"],
                "segment": segment.get("name"),
                "segment_sha256": segment.get("sha256"),
                "from_seconds": round(found["_from"], 3),
                "to_seconds": round(found["_to"], 3),
                "from_utc": format_time(found["_start"]) if found["_start"] else None,
                "to_utc": format_time(found["_end"]) if found["_end"] else None,
                "frames": found["frames"],
                "frames_without_picture": found["frames_without_picture"],
                "propagates_to_seconds": round(affects, 3) if affects is not None else None,
                "propagates_to_utc": (
                    format_time(found["_start"] + dt.timedelta(seconds=affects - found["_from"])) if affects is not None else None
                ),
                "message": message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…",
            }
        )
    section = {
        "decoded": report.decoded and not damaged,
        "frames_in_file": report.frames_in_file,
        "frames_decoded": report.frames_decoded,
        "damaged": damaged,
        "checked_with": report.checked_with,
        "scope": SCOPE,
    }
    if report.not_checked:
        section["not_checked"] = sorted(set(report.not_checked))
    return section


def damaged_frames(integrity):
    return sum(found["frames"] for found in integrity.get("damaged", []))


# In Vietnamese, for the hand-over record and the dossier ------------------------------------------------------------

# The kinds of the streams a check does not decode (manifest.json's `not_checked`), in Vietnamese.
STREAM_KINDS_VI = {"audio": "âm thanh", "subtitle": "phụ đề", "data": "dữ liệu kèm theo", "attachment": "tệp đính kèm"}
_CHECKED_WITH = re.compile(
    r"FFmpeg (?P<ffmpeg>\S+) \(libavcodec (?P<libavcodec>[^,)]+)(?:, (?P<codec>\S+) decoder)?\) via PyAV (?P<pyav>[^,]+)"
)


def checked_with_vi(checked_with):
    """How a file was checked (manifest.json's `checked_with`), in Vietnamese."""
    found = _CHECKED_WITH.match(checked_with or "")
    if not found:
        return checked_with or "—"
    decoder = f"bộ giải mã {found['codec']}" if found["codec"] else "bộ giải mã"
    return f"{decoder} của FFmpeg {found['ffmpeg']} (libavcodec {found['libavcodec']}, dùng qua PyAV {found['pyav']})"


def _seconds_vi(value):
    return f"{value:.1f}".replace(".", ",")


def _clock_vi(moment):
    return f"{moment:%H:%M:%S},{moment.microsecond // 100000}"


def _span_vi(found):
    """When a damaged range was recorded, to a tenth of a second, in Vietnam time: the date once when it is one day."""
    start, end = local(found["from_utc"]), local(found["to_utc"])
    zone = zone_name(start)
    if start.date() == end.date():
        when = f"từ {_clock_vi(start)} đến {_clock_vi(end)} ngày {start:%d/%m/%Y} ({zone})"
    else:
        when = f"từ {_clock_vi(start)} ngày {start:%d/%m/%Y} đến {_clock_vi(end)} ngày {end:%d/%m/%Y} ({zone})"
    return f"{when}, tức giây {_seconds_vi(found['from_seconds'])} – {_seconds_vi(found['to_seconds'])} của tệp"


def _upper_first(text):
    return text[:1].upper() + text[1:]


def _source_vi(found):
    if not found.get("segment"):
        return ""
    sha256 = f" (SHA-256 {found['segment_sha256']})" if found.get("segment_sha256") else ""
    return f" Tệp nguồn: {found['segment']}{sha256}."


def _range_vi(found):
    kind = found.get("kind", KIND_DECODE)
    if kind == KIND_FILE or not found.get("from_utc"):
        reason = (
            "tệp không có phần hình ảnh" if "no video stream" in (found.get("message") or "") else "bộ giải mã không mở được tệp"
        )
        return f"Không giải mã được cả tệp: {reason}."
    if kind == KIND_MISSING:
        seconds = _seconds_vi(found["to_seconds"] - found["from_seconds"])
        return (
            f"{_upper_first(_span_vi(found))}: tệp không có khung hình nào trong {seconds} giây này, dù tệp nguồn được ghi "
            "nhận là có ghi hình trong khoảng thời gian đó; đây là phần ghi hình bị thiếu, không phải lỗi giải mã."
            + _source_vi(found)
        )
    frames, pictureless = found["frames"], found.get("frames_without_picture") or 0
    if pictureless >= frames:
        what = f"{frames} khung hình không giải mã được (bộ giải mã không trả về hình)"
    elif pictureless:
        what = (
            f"{frames} khung hình bị lỗi: {pictureless} khung hình không giải mã được, {frames - pictureless} khung hình "
            "giải mã có lỗi (hình có thể bị sai lệch)"
        )
    else:
        what = f"{frames} khung hình giải mã có lỗi; bộ giải mã che phần hỏng nên hình có thể bị sai lệch"
    line = f"{_upper_first(_span_vi(found))}: {what}."
    if found.get("propagates_to_utc"):
        until = local(found["propagates_to_utc"])
        line += (
            f" Các khung hình tiếp theo, đến {_clock_vi(until)} (giây {_seconds_vi(found['propagates_to_seconds'])} của "
            "tệp), được giải mã dựa trên khung hình lỗi nên cũng có thể bị sai lệch."
        )
    return line + _source_vi(found)


def _not_checked_vi(integrity):
    kinds = [STREAM_KINDS_VI.get(kind, kind) for kind in integrity.get("not_checked") or []]
    if not kinds:
        return ""
    return f" Phần {', '.join(kinds)} của tệp không được giải mã nên không được kiểm tra."


def damage_lines_vi(integrity):
    """What the check found for one file, in plain Vietnamese: a line saying how it went, then one line per range."""
    if not integrity:
        return ["chưa được kiểm tra giải mã."]
    unchecked = _not_checked_vi(integrity)
    if integrity.get("decoded"):
        return [
            f"đã giải mã toàn bộ {integrity['frames_decoded']} khung hình của phần hình ảnh; bộ giải mã không báo lỗi nào."
            + unchecked
        ]
    damaged = integrity.get("damaged", [])
    decode = [found for found in damaged if found.get("kind", KIND_DECODE) == KIND_DECODE]
    missing = [found for found in damaged if found.get("kind") == KIND_MISSING]
    parts = []
    if decode or integrity["frames_decoded"] < integrity["frames_in_file"]:
        parts.append(
            f"bộ giải mã trả về {integrity['frames_decoded']}/{integrity['frames_in_file']} khung hình, "
            f"{damaged_frames(integrity)} khung hình bị lỗi trong {len(decode)} đoạn"
        )
    if missing:
        parts.append(f"{len(missing)} đoạn không có khung hình nào (thiếu ghi hình)")
    if any(found.get("kind") == KIND_FILE or not found.get("from_utc") for found in damaged):
        parts = ["không giải mã được tệp"]
    lines = [f"phát hiện lỗi: {'; '.join(parts)}; chi tiết như sau." + unchecked]
    return lines + [_range_vi(found) for found in damaged]


def scope_lines_vi(integrities):
    """What the check can and cannot say, in plain Vietnamese, once for the files whose `integrity` sections are given."""
    how = list(dict.fromkeys(checked_with_vi(i["checked_with"]) for i in integrities if i and i.get("checked_with")))
    if not how:
        return []
    return [
        f"Cách kiểm tra: giải mã từng khung hình của phần hình ảnh bằng {'; '.join(how)}. Một khung hình được coi là lỗi "
        "khi bộ giải mã báo lỗi, đánh dấu hỏng hoặc không trả về hình; một khoảng thời gian không có khung hình nào mà "
        "không phải khoảng trống đã nêu được coi là thiếu ghi hình.",
        "Dữ liệu bị thay đổi mà vẫn giải mã được thì phép kiểm tra này không phát hiện được: kết quả “không báo lỗi” "
        "không khẳng định hình ảnh không bị thay đổi. Thông báo nguyên văn của bộ giải mã cho từng đoạn lỗi có trong tệp "
        "manifest.json (mục “integrity”).",
    ]
