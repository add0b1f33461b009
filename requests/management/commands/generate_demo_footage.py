import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Camera
from requests.sources.files import LAYOUTS
from requests.sources.testpattern import segment_path, write_segments

DEFAULT_CAMERAS = 4


class Command(BaseCommand):
    help = _(
        "Write recent H.264 recordings (a moving test pattern with the camera code and time burned in) for demo "
        "cameras, so that demo requests export real video. Only missing minutes are written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=2, help=_("How far back from now (default 2)."))
        parser.add_argument("--cameras", default="", help=_("Comma-separated camera codes (default: the first demo cameras)."))
        parser.add_argument("--segment-seconds", type=int, default=60)
        parser.add_argument("--size", default="320x180")
        parser.add_argument("--fps", type=int, default=2)

    def handle(self, *args, **options):
        codes = [c.strip() for c in options["cameras"].split(",") if c.strip()]
        if not codes:
            codes = list(
                Camera.objects.filter(code__startswith="HK-", status=Camera.Status.ACTIVE)
                .order_by("code")
                .values_list("code", flat=True)[:DEFAULT_CAMERAS]
            )
        if not codes:
            raise CommandError(_("No demo camera found: run seed_demo first."))
        seconds = options["segment_seconds"]
        now = timezone.now().astimezone(dt.UTC)
        end = now.replace(second=0, microsecond=0)
        start = end - dt.timedelta(hours=options["hours"])
        start = start.replace(second=0, microsecond=0)
        jobs = []
        for code in codes:
            camera_options = settings.FOOTAGE_CAMERAS.get(code, {})
            root = camera_options.get("root") or settings.FOOTAGE_ROOT
            layout = camera_options.get("layout") or settings.FOOTAGE_LAYOUT
            tz = camera_options.get("tz", "UTC")
            if layout not in LAYOUTS and "{camera}" not in layout:
                raise CommandError(_("Unknown footage layout %(layout)s.") % {"layout": layout})
            cursor = start
            while cursor < end and segment_path(root, layout, code, cursor, tz).exists():
                cursor += dt.timedelta(seconds=seconds)
            count = int((end - cursor).total_seconds() // seconds)
            if count <= 0:
                self.stdout.write(_("%(camera)s: recordings already in place.") % {"camera": code})
                continue
            Path(root).mkdir(parents=True, exist_ok=True)
            jobs.append(
                {
                    "root": root,
                    "camera": code,
                    "start": cursor,
                    "count": count,
                    "seconds": seconds,
                    "layout": layout,
                    "size": options["size"],
                    "fps": options["fps"],
                    "keyframe_seconds": 10,
                    "tz": tz,
                }
            )
        if not jobs:
            return
        # One camera per process, as many at once as there are processors: in threads, drawing and handing frames
        # to the encoder under the GIL costs a third more time.
        with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            for job, written in [(job, pool.submit(write_segments, **job)) for job in jobs]:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("%(camera)s: %(n)d segments written.") % {"camera": job["camera"], "n": len(written.result())}
                    )
                )
