"""The default footage source: segment files an NVR writes to disk, one file per camera per few seconds or minutes.

A layout is a path pattern under a root, with {camera} and the strftime
fields %Y %m %d %H %M %S. Two are known by name:

- "frigate": the Frigate NVR, recordings/%Y-%m-%d/%H/{camera}/%M.%S.mp4, in UTC;
- "generic": {camera}/%Y-%m-%d/%H-%M-%S.mp4, in the time zone given as "tz" (UTC by default).

A segment's end is its start plus the duration FFmpeg's libraries read from the file;
a file they cannot read is listed as unreadable, never skipped silently.
"""

import datetime as dt
import re
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings

from requests.media import probe_duration
from requests.mp4boxes import mp4_duration
from requests.sources import FootageSource, Listing, Segment

LAYOUTS = {
    "frigate": "recordings/%Y-%m-%d/%H/{camera}/%M.%S.mp4",
    "generic": "{camera}/%Y-%m-%d/%H-%M-%S.mp4",
}
FIELDS = {
    "Y": r"(?P<Y>\d{4})",
    "m": r"(?P<m>\d{2})",
    "d": r"(?P<d>\d{2})",
    "H": r"(?P<H>\d{2})",
    "M": r"(?P<M>\d{2})",
    "S": r"(?P<S>\d{2})",
}
# What a camera's name may be where it names a folder or a file: one path component, nothing a file system reads
# as a way up or across.
UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f]|^\.{1,2}$|^$")
# The longest segment we expect: the listing looks this far before the window for a segment that runs into it.
MAX_SEGMENT = dt.timedelta(hours=1)
PROBE_WORKERS = 8


class UnsafeFootagePath(ValueError):
    """A camera name or a recording path that would lead outside the footage root: refused, never read."""


def confined(root, path):
    """`path` resolved (links followed), provided it stays inside `root` (resolved too); UnsafeFootagePath otherwise."""
    resolved_root = Path(root).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(resolved_root):
        raise UnsafeFootagePath(f"{path} lies outside the footage root {resolved_root}")
    return resolved


def segment_duration(path):
    """Seconds of media in a segment file: from the MP4 header when there is one, else as FFmpeg's libraries read it."""
    if str(path).lower().endswith((".mp4", ".m4v", ".mov")):
        duration = mp4_duration(path)
        if duration:
            return duration
    return probe_duration(path)


def _component_regex(component, camera):
    out, i = [], 0
    while i < len(component):
        if component.startswith("{camera}", i):
            out.append(re.escape(camera))
            i += len("{camera}")
        elif component[i] == "%" and i + 1 < len(component) and component[i + 1] in FIELDS:
            out.append(FIELDS[component[i + 1]])
            i += 2
        else:
            out.append(re.escape(component[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


class SegmentFileSource(FootageSource):
    name = "segment-files"

    def __init__(self, *, camera_code, options=None):
        super().__init__(camera_code=camera_code, options=options)
        self.root = Path(self.options.get("root") or settings.FOOTAGE_ROOT)
        layout = self.options.get("layout") or settings.FOOTAGE_LAYOUT
        self.pattern = LAYOUTS.get(layout, layout)
        self.layout = layout
        self.camera_name = self.options.get("name") or camera_code
        if UNSAFE_NAME.search(self.camera_name):
            raise UnsafeFootagePath(f"the camera name {self.camera_name!r} cannot name a folder under {self.root}")
        self.tz = zoneinfo.ZoneInfo(self.options.get("tz") or "UTC") if layout != "frigate" else dt.UTC
        self.components = [_component_regex(part, self.camera_name) for part in self.pattern.split("/")]
        directories = "/".join(self.pattern.split("/")[:-1])
        self.step = dt.timedelta(hours=1) if "%H" in directories else dt.timedelta(days=1)
        self.directory_pattern = directories.replace("{camera}", self.camera_name)

    def describe(self):
        return {"source": self.name, "layout": self.layout, "root": str(self.root), "camera": self.camera_name}

    # Parsing ---------------------------------------------------------------

    def _parse(self, relative_parts):
        fields = {}
        for part, regex in zip(relative_parts, self.components, strict=True):
            match = regex.match(part)
            if not match:
                return None
            fields.update(match.groupdict())
        try:
            local = dt.datetime(
                int(fields["Y"]),
                int(fields["m"]),
                int(fields["d"]),
                int(fields.get("H", 0)),
                int(fields.get("M", 0)),
                int(fields.get("S", 0)),
            )
        except (KeyError, ValueError):
            return None
        return local.replace(tzinfo=self.tz).astimezone(dt.UTC)

    def _files_in(self, directory):
        try:
            return sorted(p for p in directory.iterdir() if p.is_file())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _candidates(self, start, end):
        """(start time, path) of every file whose name places it in [start - MAX_SEGMENT, end)."""
        first = (start - MAX_SEGMENT).astimezone(self.tz)
        if self.step == dt.timedelta(hours=1):
            cursor = first.replace(minute=0, second=0, microsecond=0)
        else:
            cursor = first.replace(hour=0, minute=0, second=0, microsecond=0)
        found, seen = [], set()
        depth = len(self.components)
        while cursor < end.astimezone(self.tz) + self.step:
            directory = self.root / cursor.strftime(self.directory_pattern) if self.directory_pattern else self.root
            if directory not in seen:
                seen.add(directory)
                confined(self.root, directory)
                for path in self._files_in(directory):
                    confined(self.root, path)
                    relative = path.relative_to(self.root).parts
                    if len(relative) != depth:
                        continue
                    moment = self._parse(relative)
                    if moment is not None and start - MAX_SEGMENT <= moment < end:
                        found.append((moment, path))
            # Walk by local wall-clock steps; a DST jump only repeats or skips a directory name, which `seen` absorbs.
            cursor = (cursor.replace(tzinfo=None) + self.step).replace(tzinfo=self.tz)
        return sorted(found)

    # Interface -------------------------------------------------------------

    def camera_exists(self):
        return self.oldest_kept() is not None

    def list_segments(self, start, end):
        candidates = self._candidates(start, end)
        with ThreadPoolExecutor(max_workers=PROBE_WORKERS) as pool:
            durations = list(pool.map(lambda c: segment_duration(c[1]), candidates))
        segments = []
        for index, ((moment, path), duration) in enumerate(zip(candidates, durations, strict=True)):
            if duration is None:
                # Unknown length: assume it runs to the next file, so the gap it leaves is reported in full.
                following = candidates[index + 1][0] if index + 1 < len(candidates) else None
                segment = Segment(self.camera_code, moment, following, str(path), readable=False, problem="unreadable")
            else:
                segment = Segment(self.camera_code, moment, moment + dt.timedelta(seconds=duration), str(path))
            seg_end = segment.end or segment.start
            if segment.start < end and (seg_end > start or (not segment.readable and segment.start >= start)):
                segments.append(segment)
        return Listing(segments=segments, camera_found=bool(candidates) or self.camera_exists())

    def open_segment(self, segment):
        return open(confined(self.root, segment.locator), "rb")  # noqa: SIM115 - the caller closes it

    def local_path(self, segment):
        return confined(self.root, segment.locator)

    def oldest_kept(self):
        """The first file in time order: directories are walked in name order, which is time order for these layouts."""
        return self._walk_first(self.root, 0, ())

    def _walk_first(self, directory, depth, parts):
        try:
            names = sorted(entry.name for entry in directory.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return None
        regex = self.components[depth]
        for name in names:
            if not regex.match(name):
                continue
            if depth == len(self.components) - 1:
                moment = self._parse((*parts, name))
                if moment is not None:
                    return moment
            else:
                confined(self.root, directory / name)
                found = self._walk_first(directory / name, depth + 1, (*parts, name))
                if found is not None:
                    return found
        return None
