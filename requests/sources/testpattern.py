"""Synthetic recordings for the demo, the tests and the benchmark: a moving test pattern with the camera code and
the recording time burned in, written as H.264 MP4 segments in an NVR's layout.

Everything runs in this process, through FFmpeg's libraries (PyAV), with no ffmpeg program: colour bars drawn by
libavfilter, a white bar sweeping across them, the caption drawn by Pillow in the DejaVu font, libx264 to encode.
Each segment is a plain MP4 of one video track whose timestamps start at 0 and whose first frame is a keyframe,
as an NVR writes them.
"""

import datetime as dt
import os
import tempfile
import zoneinfo
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
from av.filter import Graph
from av.video.frame import PictureType
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from requests.sources.files import LAYOUTS

FONT = Path(settings.BASE_DIR) / "assets" / "fonts" / "DejaVuSans-Bold.ttf"
SWEEP_SECONDS = 8  # the bar crosses the picture in this long
BOX_SHADE = 0.4  # the caption's box lets this much of the picture through (black at 60 %)


def segment_path(root, layout, camera, start, tz="UTC"):
    pattern = LAYOUTS.get(layout, layout)
    zone = dt.UTC if layout == "frigate" else zoneinfo.ZoneInfo(tz)
    return Path(root) / start.astimezone(zone).strftime(pattern.replace("{camera}", camera))


def write_segments(
    *, root, camera, start, count, seconds=2, layout="frigate", size="320x180", fps=10, keyframe_seconds=1, bitrate=None, tz="UTC"
):
    """Write `count` consecutive segments of `seconds` each from `start` (aware); returns their paths.

        With `bitrate` (e.g. "4M") the stream is constant bitrate, as a camera streams: the benchmark's bytes per hour
        are those of real 1080p footage. Otherwise the quantiser is constant (QP 32): demo footage stays small, and x264
    encodes a quarter faster than at a constant rate factor, which spends time estimating each frame's complexity.
        A segment is written aside and moved into place once complete.
    """
    start = start.astimezone(dt.UTC).replace(microsecond=0)
    width, height = (int(n) for n in size.lower().split("x"))
    frames_per_segment = round(seconds * fps)
    time_base = Fraction(1, fps)
    pictures = _Pictures(camera, width, height, fps)
    paths = []
    Path(root).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as work:
        produced = Path(work) / "segment.mp4"
        for index in range(count):
            segment_start = start + dt.timedelta(seconds=index * seconds)
            with av.open(str(produced), "w", format="mp4") as container:
                stream = _h264_stream(container, width, height, fps, keyframe_seconds, bitrate)
                next_key = 0.0
                for number in range(frames_per_segment):
                    frame = pictures.frame(segment_start + dt.timedelta(seconds=number // fps))
                    frame.pts, frame.time_base = number, time_base
                    # A keyframe every keyframe_seconds from the segment's start, as -force_key_frames did.
                    if number / fps >= next_key:
                        frame.pict_type = PictureType.I
                        next_key += keyframe_seconds
                    container.mux(stream.encode(frame))
                container.mux(stream.encode(None))
            target = segment_path(root, layout, camera, segment_start, tz)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(produced, target)
            paths.append(target)
    return paths


def _h264_stream(container, width, height, fps, keyframe_seconds, bitrate):
    options = {"preset": "ultrafast", "g": str(round(fps * keyframe_seconds))}
    if bitrate:
        options |= {"b": bitrate, "maxrate": bitrate, "minrate": bitrate, "bufsize": bitrate, "x264-params": "nal-hrd=cbr"}
    else:
        options["qp"] = "32"
    stream = container.add_stream("libx264", rate=fps, options=options)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    # Small pictures encode faster on one thread; the demo runs its cameras side by side.
    stream.codec_context.thread_count = 1 if width * height <= 640 * 360 else 0
    return stream


@lru_cache(maxsize=8)
def _font(size):
    return ImageFont.truetype(str(FONT), size)


class _Pictures:
    """The pattern's frames, in yuv420p: SMPTE colour bars (drawn once, by libavfilter), a white bar sweeping across
    them, and the caption '<camera>  YYYY-MM-DD HH:MM:SS UTC' in white on a dark box at the bottom left.

    Nothing else moves, so a frame is the bars' planes copied, then two bands of rows written over them: the
    sweeping bar's (one per position, kept when they are few) and the caption's (drawn once a second; the text up
    to the minute once a minute). A recording of one hour draws text about a hundred times, not 3,600.
    """

    def __init__(self, camera, width, height, fps):
        self.camera, self.width, self.height, self.fps = camera, width, height, fps
        self.count = 0
        self.font = _font(max(8, height // 14))
        ascent, descent = self.font.getmetrics()
        pad = max(2, height // 90)
        left, _top, right, _bottom = self.font.getbbox(f"{camera}  2000-01-01 00:00:00 UTC")
        # Even edges, so that the caption's box and the bar cover whole chroma samples.
        self.box_left, self.box_bottom = 8, max(0, height - 8) // 2 * 2
        self.box_right = min(width, self.box_left + right - left + 2 * pad + 1) // 2 * 2
        self.box_top = max(0, self.box_bottom - ascent - descent - 2 * pad) // 2 * 2
        self.text_origin = (self.box_left + pad - left, pad)
        self.bar_width = max(2, width // 32) // 2 * 2
        self.bar_top = height // 8 // 2 * 2
        self.bar_bottom = max(self.bar_top, min(self.bar_top + height // 2, self.box_top) // 2 * 2)
        self.planes = self._background()
        self.bars = {}
        self.keep_bars = fps * SWEEP_SECONDS * len(self.planes[0]) <= 16 * 2**20
        self.moment, self.caption = None, None
        self.minute, self.prefix, self.seconds_x, self.seconds = None, None, 0, {}

    def frame(self, moment):
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        left = int(self.count / self.fps / SWEEP_SECONDS * self.width) % (self.width - self.bar_width) // 2 * 2
        self.count += 1
        if moment != self.moment:
            self.moment, self.caption = moment, self._caption(moment)
        bars = self.bars.get(left) or self._bar(left)
        for plane, background, bar, caption in zip(frame.planes, self.planes, bars, self.caption, strict=True):
            memory = memoryview(plane)
            memory[:] = background
            memory[bar[0]] = bar[1]
            if caption:
                memory[caption[0]] = caption[1]
        return frame

    def _rows(self, index, top, bottom):
        stride = self.stride[index]
        return slice(top * stride, bottom * stride)

    def _band(self, index, top, bottom):
        rows = self._rows(index, top, bottom)
        return Image.frombytes("L", (self.stride[index], bottom - top), self.planes[index][rows])

    def _background(self):
        graph = Graph()
        bars = graph.add("smptehdbars" if self.height >= 720 else "smptebars", f"size={self.width}x{self.height}:rate=1")
        convert = graph.add("format", "pix_fmts=yuv420p")
        sink = graph.add("buffersink")
        bars.link_to(convert)
        convert.link_to(sink)
        graph.configure()
        drawn = sink.pull()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        self.stride = [plane.line_size for plane in frame.planes]
        planes = []
        for index, (source, target) in enumerate(zip(drawn.planes, frame.planes, strict=True)):
            shift = 1 if index else 0
            memory, into = memoryview(source), memoryview(target)
            size = (self.width + shift) >> shift
            for row in range((self.height + shift) >> shift):
                into[row * target.line_size : row * target.line_size + size] = memory[
                    row * source.line_size : row * source.line_size + size
                ]
            planes.append(into.tobytes())
        self.planes = planes
        # The caption's box: black at 60 % over the luma, no colour under it.
        luma = self._band(0, self.box_top, self.box_bottom)
        shade = Image.new("L", (self.box_right - self.box_left, luma.height), round(255 * (1 - BOX_SHADE)))
        luma.paste(0, (self.box_left, 0), shade)
        planes[0] = self._replace(0, self.box_top, self.box_bottom, luma)
        for index in (1, 2):
            chroma = self._band(index, self.box_top // 2, self.box_bottom // 2)
            chroma.paste(128, (self.box_left // 2, 0, self.box_right // 2, chroma.height))
            planes[index] = self._replace(index, self.box_top // 2, self.box_bottom // 2, chroma)
        return planes

    def _replace(self, index, top, bottom, band):
        rows = self._rows(index, top, bottom)
        plane = self.planes[index]
        return plane[: rows.start] + band.tobytes() + plane[rows.stop :]

    def _bar(self, left):
        bars = []
        for index, value in enumerate((235, 128, 128)):
            shift = 1 if index else 0
            band = self._band(index, self.bar_top >> shift, self.bar_bottom >> shift)
            band.paste(value, (left >> shift, 0, (left + self.bar_width) >> shift, band.height))
            bars.append((self._rows(index, self.bar_top >> shift, self.bar_bottom >> shift), band.tobytes()))
        if self.keep_bars:
            self.bars[left] = bars
        return bars

    def _caption(self, moment):
        minute = moment.replace(second=0)
        if minute != self.minute:
            self.minute = minute
            prefix = f"{self.camera}  {moment:%Y-%m-%d %H:%M:}"
            self.prefix = self._text(prefix, self.text_origin[0], self.box_right)
            self.seconds_x = self.text_origin[0] + round(self.font.getlength(prefix))
        key = (self.seconds_x, moment.second)
        if key not in self.seconds:
            self.seconds[key] = self._text(f"{moment.second:02d} UTC", 0, max(1, self.box_right - self.seconds_x))
        band = self._band(0, self.box_top, self.box_bottom)
        band.paste(255, (0, 0), self.prefix)
        band.paste(255, (self.seconds_x, 0), self.seconds[key])
        return [(self._rows(0, self.box_top, self.box_bottom), band.tobytes()), None, None]

    def _text(self, text, x, width):
        mask = Image.new("L", (width, self.box_bottom - self.box_top))
        ImageDraw.Draw(mask).text((x, self.text_origin[1]), text, fill=255, font=self.font)
        return mask
