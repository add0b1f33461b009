"""Footage sources: where recorded video for a camera comes from.

The export asks a source three things: which segments exist for a camera in a
time window, a way to read one segment, and the oldest moment it still keeps.
The default source reads the segment files an NVR writes to disk
(`requests.sources.files`); an ONVIF Profile G replay client or a VMS export
API implements the same class and is named in FOOTAGE_SOURCE (or per camera
in FOOTAGE_CAMERAS as {"source": "dotted.path"}), without any change to the
workflow or the export.
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Segment:
    """One recorded piece of a camera's footage; times are aware (UTC)."""

    camera_code: str
    start: dt.datetime
    end: dt.datetime | None
    locator: str
    readable: bool = True
    problem: str = ""

    @property
    def duration(self):
        return (self.end - self.start).total_seconds() if self.end else 0.0


@dataclass
class Listing:
    """What a source holds for one camera and window: the segments, in time order, and what is wrong with any."""

    segments: list = field(default_factory=list)
    camera_found: bool = True


class FootageSource:
    """The interface every source implements."""

    name = "abstract"

    def __init__(self, *, camera_code, options=None):
        self.camera_code = camera_code
        self.options = options or {}

    def list_segments(self, start, end):
        """A Listing of the segments that overlap [start, end), unreadable ones included and marked."""
        raise NotImplementedError

    def open_segment(self, segment):
        """A binary file object with the segment's bytes."""
        raise NotImplementedError

    def local_path(self, segment):
        """The segment as a local file ffmpeg can read directly, or None when it must be copied through open_segment."""
        return None

    def oldest_kept(self):
        """The earliest moment the source still holds for this camera, or None when it holds nothing."""
        raise NotImplementedError

    def describe(self):
        return {"source": self.name, **{k: str(v) for k, v in self.options.items() if k != "source"}}


def source_for(camera_code):
    """The configured source for one camera."""
    options = dict(settings.FOOTAGE_CAMERAS.get(camera_code, {}))
    dotted = options.get("source") or settings.FOOTAGE_SOURCE
    return import_string(dotted)(camera_code=camera_code, options=options)


def to_path(value):
    return value if isinstance(value, Path) else Path(value)
