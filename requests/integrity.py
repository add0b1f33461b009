"""What the decode check of a released clip found, in the terms of the recording: which source segment, when.

`requests.media.decode_check` decodes a clip and names the frames that did
not decode cleanly by their place in the clip (seconds from its first frame,
byte offset). The export knows what the clip was made of; the layouts here
turn that back into the source segment each damaged frame was copied from
(its name and SHA-256, as the manifest lists it) and the wall-clock time it
was recorded, and `integrity_section` groups neighbouring frames into the
damaged ranges manifest.json lists. `damage_lines_vi` puts them into the
Vietnamese of the hand-over record and the dossier.

Like the rest of manifest.json, the section's keys and notes are fixed
English values; the decoder's own messages are quoted as FFmpeg wrote them.
"""

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass, field

from audit.verifier import format_time

# What "decoded" means in manifest.json (a fixed value): never more than the check did.
SCOPE = (
    "every frame of the video stream decoded once; a frame is damaged when FFmpeg's decoder reports an error "
    "for it, marks it corrupt or returns no picture for it (changed bytes that still decode are not detected)"
)
# A damaged range's decoder messages are cut to this length.
MESSAGE_LIMIT = 500


@dataclass
class SampleLayout:
    """A clip cut by copying samples (`requests.mp4cut`): a header, then byte ranges of the segments, in order."""

    header: int  # bytes before the first copied sample
    ranges: list  # (segment index, source offset, length)
    segments: list  # mp4cut.Segment of each source segment: its sample tables
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


def integrity_section(report, *, layout, source_segments):
    """The `integrity` section of a file in manifest.json, from its DecodeReport.

    `source_segments` are the file's source segments as the manifest lists
    them (name and SHA-256), in the order of `layout`.
    """
    ranges = []
    for damage in report.damage:
        if damage.whole_file:
            ranges.append(
                {
                    "_index": None,
                    "_from": 0.0,
                    "_to": 0.0,
                    "_start": None,
                    "_end": None,
                    "frames": 0,
                    "_messages": damage.problems,
                }
            )
            continue
        index, moment = layout.locate(damage)
        end = moment + dt.timedelta(seconds=damage.duration)
        last = ranges[-1] if ranges else None
        # Frames next to each other in the same segment make one range.
        if last is not None and last["_index"] == index and damage.seconds <= last["_to"] + max(0.5 * damage.duration, 1e-3):
            last["_to"] = max(last["_to"], damage.seconds + damage.duration)
            last["_end"] = max(last["_end"], end)
            last["frames"] += damage.frames
            last["_messages"].extend(damage.problems)
            continue
        ranges.append(
            {
                "_index": index,
                "_from": damage.seconds,
                "_to": damage.seconds + damage.duration,
                "_start": moment,
                "_end": end,
                "frames": damage.frames,
                "_messages": list(damage.problems),
            }
        )
    damaged = []
    for found in ranges:
        index = found["_index"]
        segment = source_segments[index] if index is not None and index < len(source_segments) else {}
        message = "; ".join(dict.fromkeys(found["_messages"]))
        damaged.append(
            {
                "segment": segment.get("name"),
                "segment_sha256": segment.get("sha256"),
                "from_seconds": round(found["_from"], 3),
                "to_seconds": round(found["_to"], 3),
                "from_utc": format_time(found["_start"]) if found["_start"] else None,
                "to_utc": format_time(found["_end"]) if found["_end"] else None,
                "frames": found["frames"],
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


def _seconds_vi(value):
    return f"{value:.1f}".replace(".", ",")


def damage_lines_vi(integrity, *, when):
    """What the check found for one file, in Vietnamese: a line saying what was checked and how it went, then one
    line per damaged range.

    `when` writes an ISO time as the document prints times.
    """
    if not integrity:
        return ["chưa được kiểm tra giải mã"]
    if integrity.get("decoded"):
        return [
            f"đã giải mã toàn bộ {integrity['frames_decoded']} khung hình, không có lỗi giải mã "
            f"(kiểm tra bằng {integrity['checked_with']})"
        ]
    damaged = integrity.get("damaged", [])
    lines = [
        f"có lỗi giải mã: {damaged_frames(integrity)} khung hình bị lỗi trong {len(damaged)} đoạn; bộ giải mã trả về "
        f"{integrity['frames_decoded']}/{integrity['frames_in_file']} khung hình (kiểm tra bằng {integrity['checked_with']})"
    ]
    for found in damaged:
        if not found.get("from_utc"):
            lines.append(f"tệp không giải mã được; bộ giải mã báo: {found['message']}")
            continue
        lines.append(
            "đoạn ghi hình bị lỗi, không giải mã được: "
            f"{when(found['from_utc'])} – {when(found['to_utc'])} "
            f"(giây {_seconds_vi(found['from_seconds'])} – {_seconds_vi(found['to_seconds'])} của tệp), "
            f"{found['frames']} khung hình; tệp nguồn {found['segment'] or '—'}"
            + (f" (SHA-256 {found['segment_sha256']})" if found.get("segment_sha256") else "")
            + f"; bộ giải mã báo: {found['message']}"
        )
    return lines
