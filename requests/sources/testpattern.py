"""Synthetic recordings for the demo, the tests and the benchmark: a moving test pattern with the camera code and
the recording time burned in, written as H.264 MP4 segments in an NVR's layout."""

import datetime as dt
import shutil
import subprocess
import tempfile
import zoneinfo
from pathlib import Path

from django.conf import settings

from requests.sources.files import LAYOUTS

FONT = Path(settings.BASE_DIR) / "assets" / "fonts" / "DejaVuSans-Bold.ttf"


def segment_path(root, layout, camera, start, tz="UTC"):
    pattern = LAYOUTS.get(layout, layout)
    zone = dt.UTC if layout == "frigate" else zoneinfo.ZoneInfo(tz)
    return Path(root) / start.astimezone(zone).strftime(pattern.replace("{camera}", camera))


def write_segments(
    *, root, camera, start, count, seconds=2, layout="frigate", size="320x180", fps=10, keyframe_seconds=1, bitrate=None, tz="UTC"
):
    """Write `count` consecutive segments of `seconds` each from `start` (aware); returns their paths."""
    start = start.astimezone(dt.UTC).replace(microsecond=0)
    epoch = int(start.timestamp())
    label = camera.replace("'", "").replace(":", " ").replace("\\", " ")
    text = f"{label}  %{{pts\\:gmtime\\:{epoch}}} UTC"
    drawtext = f"drawtext=fontfile='{FONT}':text='{text}':x=8:y=h-th-8:fontsize=h/14:fontcolor=white:box=1:boxcolor=black@0.6"
    if bitrate:
        # Constant bitrate, as a camera streams: the benchmark's bytes per hour are those of real 1080p footage.
        encoder = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        encoder += ["-b:v", bitrate, "-maxrate", bitrate, "-minrate", bitrate, "-bufsize", bitrate, "-x264-params", "nal-hrd=cbr"]
    else:
        encoder = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "32", "-pix_fmt", "yuv420p"]
    with tempfile.TemporaryDirectory(dir=root if Path(root).exists() else None) as work:
        subprocess.run(
            [
                settings.FFMPEG_BINARY,
                "-nostdin",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={size}:rate={fps}",
                "-t",
                str(count * seconds),
                "-vf",
                drawtext,
                *encoder,
                "-g",
                str(fps * keyframe_seconds),
                "-force_key_frames",
                f"expr:gte(t,n_forced*{keyframe_seconds})",
                "-f",
                "segment",
                "-segment_time",
                str(seconds),
                "-reset_timestamps",
                "1",
                str(Path(work) / "seg%06d.mp4"),
            ],
            check=True,
            capture_output=True,
        )
        paths = []
        for index, produced in enumerate(sorted(Path(work).glob("seg*.mp4"))):
            target = segment_path(root, layout, camera, start + dt.timedelta(seconds=index * seconds), tz)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(produced, target)
            paths.append(target)
    return paths
