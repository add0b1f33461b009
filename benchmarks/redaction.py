"""How fast is a redacted copy made on this machine (CPU), at 720p and at 1080p, and how does it compare with the
stream-copy export of the same window?

For each size it writes one minute of H.264 at 25 frames/s (a keyframe every 2 s, a camera's constant bitrate),
lays it out as the camera's recordings, then times on the same bytes, in the same run:

- stream copy: `requests.export.cut_window` cutting the minute to a file, with every SHA-256 the manifest records
  (what a release does for an original clip, without its decode check);
- redacted copy, faces and a drawn region: `requests.redactor.redact` on that clip with the face detector on every
  frame and one tracked region (what a release with redaction adds per clip): frames/s and its time over the stream
  copy's;
- redacted copy, drawn region only: the same without the face detector, to show the detector's share.

    python benchmarks/redaction.py [--sizes 1280x720,1920x1080] [--seconds 60] [--keep]

Prints each figure; the issue's bar is that a minute of 1080p completes, and the ratio is reported beside it.
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

from requests.export import cut_window  # noqa: E402
from requests.redactor import DrawnRegion, redact, settings_used, tools  # noqa: E402
from requests.sources import source_for  # noqa: E402
from requests.sources.testpattern import write_segments  # noqa: E402

CAMERA = "BENCH-REDACT"
BITRATES = {"1280x720": "2M", "1920x1080": "4M"}


def log(message=""):
    print(message, flush=True)


def measure(size, seconds, folder):
    width, height = (int(n) for n in size.split("x"))
    start = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    root = folder / size
    written = time.perf_counter()
    write_segments(
        root=root,
        camera=CAMERA,
        start=start,
        count=1,
        seconds=seconds,
        size=size,
        fps=25,
        keyframe_seconds=2,
        bitrate=BITRATES.get(size, "4M"),
    )
    log(f"{size}: {seconds} s of footage written in {time.perf_counter() - written:.1f} s")
    work = folder / f"{size}-work"
    work.mkdir()
    with override_settings(FOOTAGE_ROOT=root, FOOTAGE_LAYOUT="frigate", FOOTAGE_CAMERAS={}):
        source = source_for(CAMERA)
        listing = source.list_segments(start, start + dt.timedelta(seconds=seconds))
        clip = folder / f"{size}.mp4"
        began = time.perf_counter()
        facts = cut_window(
            source=source,
            segments=listing.segments,
            start=start,
            end=start + dt.timedelta(seconds=seconds),
            out_path=clip,
            workdir=work,
        )
        copy_seconds = time.perf_counter() - began
    frames = seconds * 25
    # A number plate's size at this resolution, drawn on the first frame and followed by the tracker.
    plate = DrawnRegion("plate", 0.0, (width // 3, height // 2, width // 12, height // 20))
    results = {"size": size, "frames": frames, "copy": copy_seconds, "clip_bytes": facts["size"]}
    for label, faces in (("faces and a drawn region", True), ("drawn region only", False)):
        target = folder / f"{size}-redacted-{int(faces)}.mp4"
        began = time.perf_counter()
        record = redact(clip, target, regions=[plate], faces=faces)
        took = time.perf_counter() - began
        assert record["frames"] == frames, record["frames"]
        results[label] = took
        log(
            f"{size}: redacted copy, {label}: {took:.1f} s for {frames} frames = {frames / took:.1f} frames/s; "
            f"{took / copy_seconds:.0f}x the stream copy's {copy_seconds:.2f} s "
            f"(stream copy {copy_seconds / took:.3f}x the redaction's speed)"
        )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    log(f"cores: {os.cpu_count()}; {tools()['face_detector']}; {tools()['tracker']}; {tools()['encoder']}")
    log(f"settings: {settings_used(faces=True)}")
    folder = Path(tempfile.mkdtemp(prefix="bench-redaction-"))
    try:
        rows = [measure(size, args.seconds, folder) for size in args.sizes.split(",")]
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    log("")
    log(
        f"{'size':<10} {'frames':>7} {'stream copy s':>14} {'faces+region s':>15} {'frames/s':>9} {'x copy':>7} {'region only s':>14} {'frames/s':>9}"
    )
    for r in rows:
        full, drawn = r["faces and a drawn region"], r["drawn region only"]
        log(
            f"{r['size']:<10} {r['frames']:>7} {r['copy']:>14.2f} {full:>15.1f} {r['frames'] / full:>9.1f} "
            f"{full / r['copy']:>7.0f} {drawn:>14.1f} {r['frames'] / drawn:>9.1f}"
        )
    log("")
    if any(r["size"] == "1920x1080" for r in rows):
        log("bar: a minute of 1080p redacted on this machine: completed")


if __name__ == "__main__":
    main()
