"""Is a release of an hour of 1080p footage — from the start of the export to a package ready for download — at least
half as fast as copying the hour's segment bytes with cp, and what does decoding every frame of the clip (the
export's decode check) add?

Writes one minute of 1080p H.264 at a camera's constant bitrate, lays it out
as an hour of one-minute Frigate segments, then times, on the same bytes and
in the same run (each write is followed by a sync, as cp's is):

- cp: copying the hour's segment files;
- ffmpeg: ffmpeg alone, with the command the export gives it when it cannot
  copy samples itself (`requests.export.prepare_cut`), no hash at all;
- cut to a file: `requests.export.cut_window` writing the clip to a file of
  its own: listing the segments, the cut (by copying samples,
  `requests.mp4cut`, for these plain MP4 segments) and every SHA-256 the
  manifest records (each source segment and the clip);
- cut to a file, then zipped: that, then the bag zipped and the package
  hashed (`requests.zipwriter.pack_bag`): how a release was built before the
  clip went straight into the package, its bytes written twice;
- release: as `export_build` builds one, without the decode check: listing
  the segments, the clip cut straight into its member of the zip package
  (`cut_window` with the package; its bytes written once), every SHA-256 the
  manifest records, the bag's tag files (manifest.json, the BagIt manifests;
  a stand-in for the hand-over record, whose rendering and signature need
  the database) and the end of the package with its SHA-256. This is the
  bar;
- decode check: `requests.media.decode_check` alone on the clip as it lies in
  the package (every frame decoded, as the export does it): frames per second;
- release + decode check: the release with the clip decoded from the package
  in a thread of its own (`requests.export.ClipChecker`) and the manifest
  written with the check's result, as `export_build` runs it. The decode
  check's share of it is the decode check's time over this one.

    python benchmarks/export_stream_copy.py [--bitrate 4M] [--minutes 60] [--runs 3] [--keep]

The runs are interleaved (cp, ffmpeg, cut to a file, ..., then again), so a
burst of load elsewhere on the machine hits all of them; the best run of
each counts (all read from a warm page cache, as cp would right after the
NVR wrote the files), and the range of the per-run ratios is printed too,
with the CPU time each used (this process's threads and the programs it
ran): on a machine shared with other work, what its wall-clock time cannot
say. Needs no database.
"""

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

from requests.export import (  # noqa: E402
    DECODE_THREADS,
    HANDOVER_NAME,
    ClipChecker,
    _write_bag_files,
    cut_window,
    package_member,
    prepare_cut,
)
from requests.integrity import integrity_section  # noqa: E402
from requests.media import decode_check  # noqa: E402
from requests.sources import source_for  # noqa: E402
from requests.sources.testpattern import segment_path, write_segments  # noqa: E402
from requests.zipwriter import PackageWriter, finish_bag, pack_bag  # noqa: E402

CAMERA = "BENCH-1080"
REFERENCE = "YC-BENCH"
BAR = 0.5


def one_minute_1080p(folder, camera, start, bitrate):
    """One minute of 1080p H.264 at 25 frames/s, a keyframe every 2 s, at a camera's constant `bitrate`: its path."""
    (minute,) = write_segments(
        root=folder,
        camera=camera,
        start=start,
        count=1,
        seconds=60,
        size="1920x1080",
        fps=25,
        keyframe_seconds=2,
        bitrate=bitrate,
    )
    return minute


def lay_out(minute, root, camera, start, count):
    """`count` copies of the minute under root as the camera's consecutive one-minute Frigate segments: their paths."""
    paths = []
    for index in range(count):
        target = segment_path(root, "frigate", camera, start + dt.timedelta(minutes=index))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(minute, target)
        paths.append(target)
    return paths


def cpu_seconds():
    """CPU time used so far by this process and the programs it ran (cp, ffmpeg), in seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action, cpu):
    """Wall-clock seconds of action(); appends the CPU seconds it used to `cpu`."""
    started, used = time.perf_counter(), cpu_seconds()
    action()
    cpu.append(cpu_seconds() - used)
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
        minute = one_minute_1080p(scratch / "seed", CAMERA, start, args.bitrate)
        print(f"  {time.perf_counter() - started:.1f} s")
        segments = lay_out(minute, root, CAMERA, start, args.minutes)
        total = sum(p.stat().st_size for p in segments)
        end = start + dt.timedelta(minutes=args.minutes)
        window_start = start + dt.timedelta(seconds=0.5)
        print(f"{len(segments)} segments, {total / 1e6:.0f} MB of 1080p footage", flush=True)
        os.sync()

        copies = scratch / "cp"
        out = scratch / "out"
        # What _write_bag_files reads of the request.
        request = SimpleNamespace(reference=REFERENCE, agency=SimpleNamespace(name_vi="Trung tâm giám sát"))

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

        def cut(package=None):
            source, found = listing()
            bag = out / REFERENCE
            (bag / "data").mkdir(parents=True)
            facts = cut_window(
                source=source,
                segments=found.segments,
                start=window_start,
                end=end,
                out_path=bag / "data" / "clip.mp4",
                workdir=out,
                package=package,
                member=f"{REFERENCE}/data/clip.mp4",
            )
            return bag, facts

        def cut_to_file():
            cut()
            os.sync()

        def cut_then_zip():
            bag, _ = cut()
            pack_bag(bag, out / f"{REFERENCE}.zip")
            os.sync()

        def release(check=False):
            packer = PackageWriter(out / f"{REFERENCE}.zip")
            checker = ClipChecker() if check else None
            try:
                bag, facts = cut(package=packer)
                facts.pop("_first"), facts.pop("_last")
                layout, entry = facts.pop("_layout"), facts.pop("_entry")
                if checker is not None:
                    checker.submit(package_member(packer.package, entry))
                    (report,) = checker.reports()
                    facts["integrity"] = integrity_section(report, layout=layout, source_segments=facts["source_segments"])
                    release.decoding = report.seconds
                manifest = {"reference": REFERENCE, "files": [facts]}
                (bag / "manifest.json").write_bytes(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode())
                (bag / HANDOVER_NAME).write_bytes(b"%PDF-1.7\n% stand-in for the signed hand-over record\n%%EOF\n")
                _write_bag_files(bag, request, [facts])
                release.package = finish_bag(packer, bag)
                release.facts, release.entry = facts, entry
            except BaseException:
                packer.abandon()
                raise
            finally:
                if checker is not None:
                    checker.close()
            os.sync()

        def check():
            # The clip the release before it left in its package, still in the page cache as the export's own would be.
            check.report = decode_check(package_member(release.package[0], release.entry), threads=DECODE_THREADS)

        def release_and_check():
            release(check=True)

        names = [
            "cp",
            "ffmpeg",
            "cut to a file",
            "cut to a file, then zipped",
            "release",
            "decode check",
            "release + decode check",
        ]
        actions = [copy, stream_copy, cut_to_file, cut_then_zip, release, check, release_and_check]
        folders = [copies, out, out, out, out, None, out]
        times = {name: [] for name in names}
        cpu = {name: [] for name in names}
        with override_settings(FOOTAGE_ROOT=root, FOOTAGE_LAYOUT="frigate", FOOTAGE_CAMERAS={}):
            for run in range(args.runs):
                for name, action, folder in zip(names, actions, folders, strict=True):
                    if folder is not None:
                        fresh(folder)
                    times[name].append(timed(action, cpu[name]))
                load = os.getloadavg()[0]
                print(
                    f"run {run + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names) + f"  (load {load:.2f})",
                    flush=True,
                )
        facts, (package, _, package_size) = release.facts, release.package
        with zipfile.ZipFile(package) as archive:
            members = archive.namelist()
            held = archive.getinfo(f"{REFERENCE}/data/clip.mp4").file_size
        print()
        for name in names:
            best = min(times[name])
            print(
                f"{name:26}: best {best:6.2f} s {total / 1e6 / best:6.0f} MB/s, range {min(times[name]):.2f}-{max(times[name]):.2f} s, "
                f"CPU {min(cpu[name]):.1f}-{max(cpu[name]):.1f} s"
            )
        print(
            f"clip {facts['size'] / 1e6:.0f} MB, {facts['duration']:.0f} s, cut by {facts['cut_method']} straight into the "
            f"package ({'its member of the same size' if held == facts['size'] else 'ITS MEMBER DIFFERS IN SIZE'}), "
            f"{len(facts['source_segments'])} source segments hashed, lead-in {facts['lead_in_seconds']} s from the "
            f"preceding keyframe; package {package_size / 1e6:.0f} MB, {len(members)} members"
        )
        cp_best = min(times["cp"])
        verdict = 0
        for name in names[1:]:
            if name == "decode check":
                continue
            ratios = [c / t for c, t in zip(times["cp"], times[name], strict=True)]
            ratio = cp_best / min(times[name])
            line = (
                f"{name} speed relative to cp: {ratio:.2f} (per run {min(ratios):.2f}-{max(ratios):.2f}, "
                f"median {statistics.median(ratios):.2f})"
            )
            if name == "release":
                line += (
                    f"  export start to downloadable package, every SHA-256 of the manifest; bar: at least {BAR:.2f} "
                    f"-> {'PASS' if ratio >= BAR else 'FAIL'}"
                )
                verdict = 0 if ratio >= BAR else 1
            print(line)
        report, section = check.report, release.facts["integrity"]
        decode_best = min(times["decode check"])
        whole_best, whole_last = min(times["release + decode check"]), times["release + decode check"][-1]
        print(
            f"decode check (beside the bar): {report.frames_decoded} of {report.frames_in_file} frames in "
            f"{decode_best:.2f} s, {report.frames_decoded / decode_best:.0f} frames/s, read from the package "
            f"({report.checked_with}, decoder threads {DECODE_THREADS or 'auto'} on {os.cpu_count()} cores); "
            f"decoded: {section['decoded']}"
        )
        print(
            f"decode check share of release + decode check: {release.decoding / whole_last:.0%} "
            f"({release.decoding:.2f} of {whole_last:.2f} s, last run); release then the decode check one after "
            f"the other: {min(times['release']) + decode_best:.2f} s, release + decode check {whole_best:.2f} s "
            f"({cp_best / whole_best:.2f} of cp's speed)"
        )
        print(f"machine shared with other work: load average {os.getloadavg()[0]:.2f} at the end")
        return verdict
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
