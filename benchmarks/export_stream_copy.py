"""Is cutting an hour of 1080p footage by stream copy at least half as fast as copying its segment bytes with cp?

Writes one minute of 1080p H.264 at a camera's constant bitrate, lays it out
as an hour of one-minute Frigate segments, then times, on the same bytes:

- cp: copying the hour's segment files;
- stream copy: the export's cut of the whole hour (listing the segments,
  reading keyframes, the ffmpeg stream copy), as `requests.export.cut_window`
  does it for a request;
- the same with the SHA-256 of every source segment and of the clip that the
  manifest records (reported beside it: hashing is CPU work that cp does not do).

    python benchmarks/export_stream_copy.py [--bitrate 4M] [--minutes 60] [--keep]

Each is run twice and the faster run counts (both then read from a warm page
cache, as cp would right after the NVR wrote the files).
"""

import argparse
import datetime as dt
import os
import shutil
import subprocess
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
from requests.sources import source_for  # noqa: E402
from requests.sources.testpattern import segment_path, write_segments  # noqa: E402

CAMERA = "BENCH-1080"


def best_of(runs, action):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bitrate", default="4M", help="camera bitrate of the 1080p stream (default 4M)")
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        root = scratch / "footage"
        start = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
        print(f"writing one minute of 1080p at {args.bitrate}b/s ...", flush=True)
        started = time.perf_counter()
        (minute,) = write_segments(
            root=scratch / "seed",
            camera=CAMERA,
            start=start,
            count=1,
            seconds=60,
            size="1920x1080",
            fps=25,
            keyframe_seconds=2,
            bitrate=args.bitrate,
        )
        print(f"  {time.perf_counter() - started:.1f} s")
        segments = []
        for index in range(args.minutes):
            target = segment_path(root, "frigate", CAMERA, start + dt.timedelta(minutes=index))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(minute, target)
            segments.append(target)
        total = sum(p.stat().st_size for p in segments)
        end = start + dt.timedelta(minutes=args.minutes)
        print(f"{len(segments)} segments, {total / 1e6:.0f} MB of 1080p footage")

        copies = scratch / "cp"

        def copy():
            shutil.rmtree(copies, ignore_errors=True)
            copies.mkdir()
            subprocess.run(["cp", *map(str, segments), str(copies)], check=True)
            os.sync()

        out = scratch / "out"

        def cut(with_hashes=True):
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            with override_settings(FOOTAGE_ROOT=root, FOOTAGE_LAYOUT="frigate", FOOTAGE_CAMERAS={}):
                source = source_for(CAMERA)
                listing = source.list_segments(start + dt.timedelta(seconds=0.5), end)
                facts = cut_window(
                    source=source,
                    segments=listing.segments,
                    start=start + dt.timedelta(seconds=0.5),
                    end=end,
                    out_path=out / "clip.mp4",
                    workdir=out,
                    with_hashes=with_hashes,
                )
            os.sync()
            cut.facts = facts

        cp_seconds = best_of(args.runs, copy)
        copy_seconds = best_of(args.runs, lambda: cut(with_hashes=False))
        cut_seconds = best_of(args.runs, cut)
        facts = cut.facts
        print(f"cp                     : {cp_seconds:6.2f} s  {total / 1e6 / cp_seconds:7.0f} MB/s")
        print(f"stream copy            : {copy_seconds:6.2f} s  {total / 1e6 / copy_seconds:7.0f} MB/s")
        print(
            f"stream copy + SHA-256s : {cut_seconds:6.2f} s  {total / 1e6 / cut_seconds:7.0f} MB/s  "
            f"(clip {facts['size'] / 1e6:.0f} MB, {facts['duration']:.0f} s, "
            f"{len(facts['source_segments'])} source segments hashed, "
            f"lead-in {facts['lead_in_seconds']} s from the preceding keyframe)"
        )
        ratio = cp_seconds / copy_seconds
        print(f"stream copy speed relative to cp: {ratio:.2f} (bar: at least 0.50) -> {'PASS' if ratio >= 0.5 else 'FAIL'}")
        print(f"with every SHA-256 of the manifest: {cp_seconds / cut_seconds:.2f}")
        return 0 if ratio >= 0.5 else 1
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
