"""Time the CSV camera import at city scale: create N cameras, update all N, re-import unchanged.

    python benchmarks/import_cameras.py [--rows 40000] [--keep]

Runs against whatever database the settings pick (DATABASE_URL, or SQLite in
VAR_DIR), migrated beforehand. It makes its own province, districts, wards and
agency with codes unique to this run, and removes them and its cameras at the
end unless --keep is given (the ledger events stay: the ledger is append-only).
"""

import argparse
import io
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from governance.imports import COLUMNS, camera_import_csv  # noqa: E402
from governance.models import Agency, Area, Camera  # noqa: E402

DISTRICTS = 12
WARDS_PER_DISTRICT = 15
KINDS = ["fixed", "fixed", "ptz", "fixed", "anpr", "fixed", "ptz", "face"]
STREETS = ["Hàng Bạc", "Hàng Đào", "Tràng Tiền", "Phúc Tân", "Lý Thái Tổ", "Đinh Tiên Hoàng", "Trần Hưng Đạo", "Lê Duẩn"]


def make_places(tag):
    """A province with districts and wards, and a monitoring centre, all with codes unique to this run."""
    with transaction.atomic():
        province = Area.objects.create(code=f"bp-{tag}", name_vi=f"Tỉnh thử {tag}", level=Area.Level.PROVINCE)
        wards = []
        for d in range(DISTRICTS):
            district = Area.objects.create(
                code=f"bp-{tag}-d{d}", name_vi=f"Quận thử {d}", level=Area.Level.DISTRICT, parent=province
            )
            for w in range(WARDS_PER_DISTRICT):
                wards.append(
                    Area.objects.create(
                        code=f"bp-{tag}-d{d}-w{w}", name_vi=f"Phường thử {w}", level=Area.Level.WARD, parent=district
                    ).code
                )
        agency = Agency.objects.create(
            code=f"bp-{tag}-ioc", name_vi="Trung tâm giám sát thử", kind=Agency.Kind.MONITORING_CENTRE, area=province
        )
    return province, wards, agency


def make_csv(*, tag, rows, wards, agency_code, revision):
    """The whole file as bytes; `revision` changes every camera's name and retention so a re-import updates all."""
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for n in range(rows):
        kind = KINDS[n % len(KINDS)]
        street = STREETS[n % len(STREETS)]
        out.write(
            ",".join(
                [
                    f"BP-{tag}-{n:06d}",
                    f"Ngã tư {street} số {n} (r{revision})",
                    kind,
                    wards[n % len(wards)],
                    agency_code,
                    f'"Số {n % 300 + 1} {street}, Hà Nội"',
                    f"{20.9 + (n % 1000) * 0.0002:.6f}",
                    f"{105.7 + (n % 997) * 0.0003:.6f}",
                    "1",
                    "1" if kind == "anpr" else "0",
                    "có" if kind == "face" else "không",
                    str(30 + revision),
                    "active" if n % 50 else "maintenance",
                    f"rtsp://10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}:554/Streaming/Channels/101",
                    f"nvr-{tag}-{n // 1000}",
                ]
            )
            + "\n"
        )
    return out.getvalue().encode("utf-8")


def timed_import(label, data, rows):
    file = io.BytesIO(data)
    file.name = f"{label}.csv"
    started = time.perf_counter()
    result = camera_import_csv(actor=None, file=file)
    seconds = time.perf_counter() - started
    print(
        f"{label:<10} {seconds:7.2f} s  {rows / seconds:9.0f} rows/s  "
        f"(created {result.created}, updated {result.updated}, unchanged {result.unchanged})"
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--keep", action="store_true", help="leave the cameras, areas and agency in the database")
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:8]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; rows: {args.rows}; run tag: {tag}")
    province, wards, agency = make_places(tag)
    first = make_csv(tag=tag, rows=args.rows, wards=wards, agency_code=agency.code, revision=0)
    second = make_csv(tag=tag, rows=args.rows, wards=wards, agency_code=agency.code, revision=1)
    print(f"file size: {len(first) / 1024 / 1024:.1f} MiB")
    try:
        created = timed_import("create", first, args.rows)
        updated = timed_import("update", second, args.rows)
        unchanged = timed_import("unchanged", second, args.rows)
        assert created.created == args.rows, created
        assert updated.updated == args.rows, updated
        assert unchanged.unchanged == args.rows, unchanged
    finally:
        if not args.keep:
            with transaction.atomic():
                Camera.objects.filter(code__startswith=f"BP-{tag}-").delete()
                agency.delete()
                for level in (Area.Level.WARD, Area.Level.DISTRICT, Area.Level.PROVINCE):
                    Area.objects.filter(path__startswith=province.path, level=level).delete()


if __name__ == "__main__":
    main()
