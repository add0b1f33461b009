"""Is cutting an hour of 1080p footage by stream copy at least half as fast as copying its segment bytes with cp,
and what does decoding every frame of the clip (the export's decode check) add?

Writes one minute of 1080p H.264 at a camera's constant bitrate, lays it out
as an hour of one-minute Frigate segments, then times, on the same bytes and
in the same run (each write is followed by a sync, as cp's is):

- cp: copying the hour's segment files;
- ffmpeg: ffmpeg alone, with the command the export gives it when it cannot
  copy samples itself (`requests.export.prepare_cut`), no hash at all;
- export: `requests.export.cut_window` as `export_build` calls it: listing
  the segments, the cut (by copying samples, `requests.mp4cut`, for these
  plain MP4 segments) and every SHA-256 the manifest records (each source
  segment and the clip), the clip flushed to disk. This is the bar;
- export + package: the same, then the bag zipped and the package hashed
  (`requests.zipwriter.pack_bag`), as a release is built: reported beside it;
- decode check: `requests.media.decode_check` alone on the clip (every frame
  decoded, as the export does it): frames per second;
- whole export: as `export_build` runs it: the cut, then the clip decoded in
  a thread of its own (`requests.export.ClipChecker`) while it is zipped,
  then the manifest with the check's result and the end of the package. The
  decode check's share of it is the decode check's time over this one.

    python benchmarks/export_stream_copy.py [--bitrate 4M] [--minutes 60] [--runs 3] [--keep]

The runs are interleaved (cp, stream copy, export, export + package, then
again), so a burst of load elsewhere on the machine hits all of them; the
best run of each counts (all read from a warm page cache, as cp would right
after the NVR wrote the files), and the range of the per-run ratios is
printed too.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
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

from requests.export import DECODE_THREADS, ClipChecker, cut_window, prepare_cut  # noqa: E402
from requests.integrity import integrity_section  # noqa: E402
from requests.media import decode_check  # noqa: E402
from requests.sources import source_for  # noqa: E402
from requests.sources.testpattern import segment_path, write_segments  # noqa: E402
from requests.zipwriter import PackageWriter, finish_bag, pack_bag  # noqa: E402

CAMERA = "BENCH-1080"


def timed(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bitrate", default="4M", help="camera bitrate of the 1080p stream (default 4M)")
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
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
        window_start = start + dt.timedelta(seconds=0.5)
        print(f"{len(segments)} segments, {total / 1e6:.0f} MB of 1080p footage", flush=True)
        os.sync()

        copies = scratch / "cp"
        out = scratch / "out"

        def fresh(folder):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            os.sync()

        def copy():
            subprocess.run(["cp", *map(str, segments), str(copies)], check=True)
            os.sync()

        def listing():
            source = source_for(CAMERA)
            return source, source.list_segments(window_start, end)

        def stream_copy():
            source, found = listing()
            plan = prepare_cut(
                source=source, segments=found.segments, start=window_start, end=end, out_path=out / "clip.mp4", workdir=out
            )
            subprocess.run(plan.command(), check=True)
            os.sync()

        def export():
            source, found = listing()
            bag = out / "YC-BENCH"
            (bag / "data").mkdir(parents=True)
            export.facts = cut_window(
                source=source,
                segments=found.segments,
                start=window_start,
                end=end,
                out_path=bag / "data" / "clip.mp4",
                workdir=out,
            )
            os.sync()
            return bag

        def export_and_package():
            bag = export()
            export_and_package.package = pack_bag(bag, out / "YC-BENCH.zip")
            os.sync()

        def check():
            # The clip the export before it left, still in the page cache as the export's own would be.
            check.report = decode_check(out / "YC-BENCH" / "data" / "clip.mp4", threads=DECODE_THREADS)

        def whole_export():
            checker = ClipChecker()
            try:
                bag = export()
                clip = bag / "data" / "clip.mp4"
                checker.submit(clip)
                packer = PackageWriter(out / "YC-BENCH.zip")
                packer.add(clip, clip.relative_to(bag.parent).as_posix())
                (report,) = checker.reports()
                facts = dict(export.facts)
                layout = facts.pop("_layout")
                section = integrity_section(report, layout=layout, source_segments=facts["source_segments"])
                (bag / "manifest.json").write_text(json.dumps({"integrity": section}), encoding="utf-8")
                whole_export.section, whole_export.decoding = section, report.seconds
                finish_bag(packer, bag, added={clip})
            finally:
                checker.close()
            os.sync()

        names = ["cp", "ffmpeg", "export", "export + package", "decode check", "whole export"]
        actions = [copy, stream_copy, export, export_and_package, check, whole_export]
        folders = [copies, out, out, out, None, out]
        times = {name: [] for name in names}
        with override_settings(FOOTAGE_ROOT=root, FOOTAGE_LAYOUT="frigate", FOOTAGE_CAMERAS={}):
            for run in range(args.runs):
                for name, action, folder in zip(names, actions, folders, strict=True):
                    if folder is not None:
                        fresh(folder)
                    times[name].append(timed(action))
                load = os.getloadavg()[0]
                print(f"run {run + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names) + f"  (load {load:.2f})")
        facts = export.facts
        print()
        for name in names:
            best = min(times[name])
            print(
                f"{name:17}: best {best:6.2f} s {total / 1e6 / best:6.0f} MB/s, range {min(times[name]):.2f}-{max(times[name]):.2f} s"
            )
        print(
            f"clip {facts['size'] / 1e6:.0f} MB, {facts['duration']:.0f} s, cut by {facts['cut_method']}, "
            f"{len(facts['source_segments'])} source segments "
            f"hashed, lead-in {facts['lead_in_seconds']} s from the preceding keyframe; "
            f"package {export_and_package.package[2] / 1e6:.0f} MB"
        )
        report, section = check.report, whole_export.section
        decode_best, whole_best = min(times["decode check"]), min(times["whole export"])
        sequential = min(times["export + package"]) + decode_best
        decoding = whole_export.decoding  # the check's own time inside the last whole export
        print(
            f"decode check: {report.frames_decoded} of {report.frames_in_file} frames in {decode_best:.2f} s, "
            f"{report.frames_decoded / decode_best:.0f} frames/s ({report.checked_with}, decoder threads "
            f"{DECODE_THREADS or 'auto'} on {os.cpu_count()} cores); decoded: {section['decoded']}"
        )
        print(
            f"decode check share of the whole export: {decoding / times['whole export'][-1]:.0%} "
            f"({decoding:.2f} of {times['whole export'][-1]:.2f} s, last run); "
            f"export + package then the decode check one after the other: {sequential:.2f} s, whole export {whole_best:.2f} s"
        )
        cp_best = min(times["cp"])
        verdict = 0
        for name in names[1:]:
            if name == "decode check":
                continue
            ratios = [c / t for c, t in zip(times["cp"], times[name], strict=True)]
            ratio = cp_best / min(times[name])
            line = f"{name} speed relative to cp: {ratio:.2f} (per run {min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f})"
            if name == "export":
                line += (
                    f"  copy stage; bar: at least 0.50 with every SHA-256 of the manifest -> {'PASS' if ratio >= 0.5 else 'FAIL'}"
                )
                verdict = 0 if ratio >= 0.5 else 1
            print(line)
        return verdict
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
