"""Time the request queues and the agency list at a city's scale (a million requests), on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres cg_h5bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_h5bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_h5bench python benchmarks/request_queues.py [--requests 1000000]

Use a scratch database. The first run fills it with a city (ten districts,
a hundred wards, about three hundred agencies, 40,000 cameras, users in every
role) and a million requests over three years, with their items, the group
object permissions the workflow would have granted, and the history it keeps
(first filing time, each filed request's filing with its items as filed, every
status change); later runs find the city and skip the fill. Then it times, for
an approver of the busiest monitoring centre and a requesting officer of the
busiest agency (and a quiet one of each), their home page's tasks
(`requests.todo.tasks_for`) and the whole home page through its view and
template, the pages of `review_queue` and
`agency_requests`, a detail lookup through `requests_visible_to`, and
guardian's generic `get_objects_for_user` asked the same question; and for
overseers (the auditors of the busiest district and of the city, the
administrators of a busy and a quiet agency) the request list: `listed_requests`
first, later and filtered pages, and for the auditors the whole page through
the view and its template, signed in. It prints p50 / p95 of the database time
(each query's execution, summed) and of the wall time, and the number of
queries for page sizes 10, 50 and 200, which must not change (a page's size is
the view's own).

--explain prints EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each
case (without it, of each case over the bar).
"""

import argparse
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

from governance.models import (  # noqa: E402
    Agency,
    AgencyGroupObjectPermission,
    Area,
    AssignmentRule,
    DataCategory,
    LegalBasis,
    Membership,
    RegulationVersion,
    Role,
    User,
    role_group_name,
)
from governance.services import role_group  # noqa: E402
from requests import selectors, todo  # noqa: E402
from requests.models import OPEN_STATUSES, FootageRequest  # noqa: E402

CITY = "hcm"
# code, Vietnamese name, English name, share of the city's requests (weight)
DISTRICTS = [
    ("q1", "Quận 1", "District 1", 30),
    ("q3", "Quận 3", "District 3", 12),
    ("q4", "Quận 4", "District 4", 6),
    ("q5", "Quận 5", "District 5", 8),
    ("q10", "Quận 10", "District 10", 9),
    ("binh-thanh", "Quận Bình Thạnh", "Binh Thanh District", 12),
    ("phu-nhuan", "Quận Phú Nhuận", "Phu Nhuan District", 6),
    ("tan-binh", "Quận Tân Bình", "Tan Binh District", 11),
    ("go-vap", "Quận Gò Vấp", "Go Vap District", 10),
    ("thu-duc", "Thành phố Thủ Đức", "Thu Duc City", 16),
]
WARDS_PER_DISTRICT = 10
CAMERAS_PER_WARD = 400  # 40,000 in all
REQUESTERS_PER_AGENCY = 3
PICK_SLOTS = 10_000
SPAN_DAYS = 1095
RECENT_DAYS = 60

# Requests a district's agencies file, per unit of the district's weight.
WARD_KINDS = [
    ("ca", "Công an phường", "Ward Police", Agency.Kind.WARD_POLICE, 4.0),
    ("ubnd", "UBND phường", "Ward People's Committee", Agency.Kind.PEOPLES_COMMITTEE, 0.3),
]
DISTRICT_KINDS = [
    ("ioc", "Trung tâm giám sát camera", "Camera Monitoring Centre", Agency.Kind.MONITORING_CENTRE, 0),
    ("csgt", "Đội Cảnh sát giao thông", "Traffic Police Team", Agency.Kind.TRAFFIC_POLICE, 8),
    ("cshs", "Đội Cảnh sát hình sự", "Criminal Police Team", Agency.Kind.CRIMINAL_POLICE, 10),
    ("ca", "Công an", "Police", Agency.Kind.OTHER, 3),
    ("vks", "Viện kiểm sát nhân dân khu vực", "Regional People's Procuracy", Agency.Kind.PROCURACY, 2),
    ("tand", "Tòa án nhân dân khu vực", "Regional People's Court", Agency.Kind.COURT, 1),
    ("ubnd", "UBND", "People's Committee", Agency.Kind.PEOPLES_COMMITTEE, 1),
    ("thanh-tra", "Thanh tra", "Inspectorate", Agency.Kind.INSPECTORATE, 0),
]
# City-wide agencies: share of all requests (in PICK_SLOTS units).
CITY_AGENCIES = [
    (
        "pc02-hcm",
        "Phòng Cảnh sát hình sự (PC02) Công an TP.HCM",
        "HCMC Criminal Police Division",
        Agency.Kind.CRIMINAL_POLICE,
        500,
    ),
    (
        "pc08-hcm",
        "Phòng Cảnh sát giao thông (PC08) Công an TP.HCM",
        "HCMC Traffic Police Division",
        Agency.Kind.TRAFFIC_POLICE,
        400,
    ),
    ("vks-hcm", "Viện kiểm sát nhân dân TP.HCM", "HCMC People's Procuracy", Agency.Kind.PROCURACY, 100),
    ("tand-hcm", "Tòa án nhân dân TP.HCM", "HCMC People's Court", Agency.Kind.COURT, 50),
    ("ubnd-hcm", "UBND TP.HCM", "HCMC People's Committee", Agency.Kind.PEOPLES_COMMITTEE, 50),
    ("thanh-tra-hcm", "Thanh tra TP.HCM", "HCMC Inspectorate", Agency.Kind.INSPECTORATE, 0),
]
CENTRE_STAFF = {Role.REVIEWER: 4, Role.APPROVER: 2, Role.CUSTODIAN: 3}

LEGAL_BASES = [
    ("TTHS_THU_THAP_CHUNG_CU", "Thu thập chứng cứ trong vụ án hình sự", "BLTTHS 101/2015/QH13 Điều 88", True),
    ("TTHS_XAC_MINH_TIN_BAO", "Kiểm tra, xác minh tố giác, tin báo về tội phạm", "BLTTHS 101/2015/QH13 Điều 145, 147", True),
    ("VPHC_GIAO_THONG", "Xử lý vi phạm hành chính về giao thông", "Luật XLVPHC 15/2012/QH13 Điều 64", False),
    ("VPHC_TRAT_TU", "Xử lý vi phạm hành chính về an ninh, trật tự", "Luật XLVPHC 15/2012/QH13 Điều 64", False),
]
BASIS_BY_KIND = {
    Agency.Kind.WARD_POLICE: "TTHS_XAC_MINH_TIN_BAO",
    Agency.Kind.TRAFFIC_POLICE: "VPHC_GIAO_THONG",
    Agency.Kind.CRIMINAL_POLICE: "TTHS_THU_THAP_CHUNG_CU",
    Agency.Kind.PROCURACY: "TTHS_THU_THAP_CHUNG_CU",
    Agency.Kind.COURT: "TTHS_THU_THAP_CHUNG_CU",
    Agency.Kind.PEOPLES_COMMITTEE: "VPHC_TRAT_TU",
    Agency.Kind.OTHER: "TTHS_XAC_MINH_TIN_BAO",
}
CATEGORIES = [
    ("video", "Dữ liệu video ghi hình", "basic"),
    ("still_image", "Hình ảnh trích xuất", "basic"),
    ("plate_events", "Sự kiện nhận dạng biển số", "sensitive"),
    ("face_events", "Sự kiện nhận dạng khuôn mặt", "sensitive"),
]
PURPOSES = [
    "Xác minh vụ trộm cắp tài sản",
    "Xác minh vụ va chạm giao thông",
    "Truy tìm phương tiện bỏ chạy sau tai nạn",
    "Xác minh tin báo cướp giật",
    "Xử lý vi phạm trật tự đô thị",
    "Làm rõ vụ cố ý gây thương tích",
    "Xác minh đơn tố giác lừa đảo",
    "Tìm người thất lạc",
]
BIG_TABLES = [
    "requests_footagerequest",
    "requests_requestitem",
    "requests_footagerequestgroupobjectpermission",
    "requests_submission",
    "requests_submitteditem",
    "requests_statuschange",
    "requests_queueentry",
]

SIZES = (10, 50, 200)
PAGE = 50
BAR_MS = 20.0


def log(message=""):
    print(message, flush=True)


# Fill ---------------------------------------------------------------------------


def district_area_code(d):
    return f"{CITY}-{DISTRICTS[d][0]}"


def ward_area_code(d, w):
    return f"{district_area_code(d)}-p{w + 1:02d}"


def agency_plan():
    """Every agency as (code, name_vi, name_en, kind, area code, district, ward, weight), ward = district * 10 + n."""
    plan = []
    for d, (dcode, dname, dname_en, _weight) in enumerate(DISTRICTS):
        for w in range(WARDS_PER_DISTRICT):
            ward = d * WARDS_PER_DISTRICT + w
            for prefix, name_vi, name_en, kind, units in WARD_KINDS:
                plan.append(
                    (
                        f"{prefix}-{dcode}-p{w + 1:02d}",
                        f"{name_vi} {w + 1}, {dname}",
                        f"Ward {w + 1} ({dname_en}) {name_en}",
                        kind,
                        ward_area_code(d, w),
                        d,
                        ward,
                        units,
                    )
                )
        for prefix, name_vi, name_en, kind, units in DISTRICT_KINDS:
            plan.append(
                (f"{prefix}-{dcode}", f"{name_vi} {dname}", f"{dname_en} {name_en}", kind, district_area_code(d), d, None, units)
            )
    for code, name_vi, name_en, kind, slots in CITY_AGENCIES:
        plan.append((code, name_vi, name_en, kind, CITY, None, None, -slots))
    return plan


def pick_slots(plan):
    """PICK_SLOTS entries, each an agency index; agencies appear in proportion to how many requests they file."""
    city_slots = sum(-units for *_, units in plan if units < 0)
    district_units = sum(units * DISTRICTS[d][3] for *_, d, _w, units in plan if units > 0)
    scale = (PICK_SLOTS - city_slots) / district_units
    slots = []
    for n, (*_, d, _w, units) in enumerate(plan):
        count = -units if units < 0 else round(units * DISTRICTS[d][3] * scale) if units > 0 else 0
        slots += [n] * count
    return slots[:PICK_SLOTS]


def is_filled(target):
    if not Area.objects.filter(code=CITY).exists():
        return False
    have = FootageRequest.objects.filter(agency__area__path__startswith=f"{CITY}/").count()
    if have < target:
        sys.exit(f"The database holds the city with {have:,} requests, fewer than {target:,}: use a fresh scratch database.")
    log(f"the city is already filled ({have:,} requests)")
    return True


def fill_places():
    province = Area.objects.create(
        code=CITY, name_vi="Thành phố Hồ Chí Minh", name_en="Ho Chi Minh City", level=Area.Level.PROVINCE
    )
    wards = []
    for d, (_code, dname, dname_en, _weight) in enumerate(DISTRICTS):
        district = Area.objects.create(
            code=district_area_code(d), name_vi=dname, name_en=dname_en, level=Area.Level.DISTRICT, parent=province
        )
        wards += [
            Area(
                code=ward_area_code(d, w),
                name_vi=f"Phường {w + 1}",
                name_en=f"Ward {w + 1}",
                level=Area.Level.WARD,
                parent=district,
                path=f"{district.path}{ward_area_code(d, w)}/",
            )
            for w in range(WARDS_PER_DISTRICT)
        ]
    Area.objects.bulk_create(wards)
    for code, name_vi, sensitivity in CATEGORIES:
        DataCategory.objects.get_or_create(code=code, defaults={"name_vi": name_vi, "sensitivity": sensitivity})
    for code, title_vi, citation, verified in LEGAL_BASES:
        basis, created = LegalBasis.objects.get_or_create(
            code=code,
            defaults={"title_vi": title_vi, "citation": citation, "verified": verified, "valid_from": dt.date(2018, 1, 1)},
        )
        if created:  # one already in the database (seed_demo's) may belong to a published regulation: left as it is
            basis.allowed_categories.add(*DataCategory.objects.all())


def fill_people(plan):
    """Agencies, their role groups (with the agency permission role_group grants), users and memberships."""
    areas = dict(Area.objects.filter(path__startswith=f"{CITY}/").values_list("code", "pk"))
    Agency.objects.bulk_create(
        [Agency(code=code, name_vi=vi, name_en=en, kind=kind, area_id=areas[area]) for code, vi, en, kind, area, *_ in plan]
    )
    agencies = {a.code: a for a in Agency.objects.filter(code__in=[p[0] for p in plan])}
    members = []  # (agency, role, username)
    for code, _vi, _en, kind, *_ in plan:
        if kind == Agency.Kind.MONITORING_CENTRE:
            for role, count in CENTRE_STAFF.items():
                members += [(code, role, f"{code}-{role}-{n}") for n in range(count)]
            # The head of the centre both reviews and approves.
            members += [(code, Role.REVIEWER, f"{code}-head"), (code, Role.APPROVER, f"{code}-head")]
        elif kind == Agency.Kind.INSPECTORATE:
            members += [(code, Role.AUDITOR, f"{code}-auditor-{n}") for n in range(2)]
        else:
            members += [(code, Role.REQUESTER, f"{code}-requester-{n}") for n in range(REQUESTERS_PER_AGENCY)]
    group_names = {role_group_name(agencies[code], role): (code, role) for code, role, _u in members}
    Group.objects.bulk_create([Group(name=name) for name in group_names])
    groups = dict(Group.objects.filter(name__in=group_names).values_list("name", "pk"))
    view_agency = Permission.objects.get(content_type__app_label="governance", codename="view_agency")
    AgencyGroupObjectPermission.objects.bulk_create(
        [
            AgencyGroupObjectPermission(group_id=groups[name], permission=view_agency, content_object=agencies[code])
            for name, (code, _role) in group_names.items()
        ]
    )
    usernames = {}
    for code, _role, username in members:
        usernames.setdefault(username, code)
    User.objects.bulk_create(
        [
            User(username=username, password="!", agency=agencies[code], first_name=username)
            for username, code in usernames.items()
        ]
    )
    users = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    Membership.objects.bulk_create(
        [Membership(user_id=users[username], agency=agencies[code], role=role) for code, role, username in members]
    )
    through = User.groups.through
    through.objects.bulk_create(
        [
            through(user_id=users[username], group_id=groups[role_group_name(agencies[code], role)])
            for code, role, username in members
        ]
    )
    return agencies, groups


def fill_regulation(agencies):
    version = RegulationVersion.objects.create(
        number="QC-HCM-2023-01",
        title="Quy chế khai thác dữ liệu camera giám sát TP.HCM",
        effective_from=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
    )
    version.legal_bases.add(*LegalBasis.objects.filter(code__in=[b[0] for b in LEGAL_BASES]))
    areas = dict(Area.objects.filter(level=Area.Level.DISTRICT, path__startswith=f"{CITY}/").values_list("code", "pk"))
    # Created in bulk: the model refuses writes to a published version one by one.
    AssignmentRule.objects.bulk_create(
        [
            AssignmentRule(
                version=version, duty=duty, agency=agencies[f"ioc-{DISTRICTS[d][0]}"], area_id=areas[district_area_code(d)]
            )
            for d in range(len(DISTRICTS))
            for duty in AssignmentRule.Duty.values
        ]
    )
    # Published once its content is in place: the models refuse writes to a published version and its bases.
    published_at = dt.datetime(2022, 12, 20, tzinfo=dt.UTC)
    RegulationVersion.objects.filter(pk=version.pk).update(status=RegulationVersion.Status.PUBLISHED, published_at=published_at)
    version.status, version.published_at = RegulationVersion.Status.PUBLISHED, published_at
    return version


def create_staging(cursor, plan, agencies, groups, version):
    """Temporary lookup tables the INSERT ... SELECT statements join to."""
    bases = dict(LegalBasis.objects.values_list("code", "pk"))
    categories = dict(DataCategory.objects.values_list("code", "pk"))
    wards = dict(Area.objects.filter(level=Area.Level.WARD, path__startswith=f"{CITY}/").values_list("code", "pk"))
    cursor.execute("CREATE TEMP TABLE bench_pick (slot int PRIMARY KEY, agency_id bigint, grp int, basis bigint, d int, w int)")
    rows = []
    for slot, n in enumerate(pick_slots(plan)):
        code, _vi, _en, kind, _area, d, w, _units = plan[n]
        agency = agencies[code]
        grp = groups[role_group_name(agency, Role.REQUESTER)]
        rows.append((slot, agency.pk, grp, bases[BASIS_BY_KIND[kind]], d, w))
    with cursor.copy("COPY bench_pick FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    # City-wide agencies ask for footage of a district in proportion to its weight.
    cursor.execute("CREATE TEMP TABLE bench_district_pick (slot int PRIMARY KEY, d int)")
    slots = [d for d, district in enumerate(DISTRICTS) for _ in range(district[3])]
    with cursor.copy("COPY bench_district_pick FROM STDIN") as copy:
        for slot, d in enumerate(slots):
            copy.write_row((slot, d))
    cursor.execute(
        "CREATE TEMP TABLE bench_centre (d int PRIMARY KEY, centre bigint, reviewers int, approvers int, custodians int)"
    )
    with cursor.copy("COPY bench_centre FROM STDIN") as copy:
        for d, district in enumerate(DISTRICTS):
            centre = agencies[f"ioc-{district[0]}"]
            copy.write_row(
                (
                    d,
                    centre.pk,
                    *(groups[role_group_name(centre, role)] for role in (Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN)),
                )
            )
    cursor.execute("CREATE TEMP TABLE bench_requester (agency_id bigint, n int, user_id bigint, PRIMARY KEY (agency_id, n))")
    cursor.execute(
        """
        INSERT INTO bench_requester
        SELECT u.agency_id, (row_number() OVER (PARTITION BY u.agency_id ORDER BY u.username) - 1)::int, u.id
        FROM governance_user u JOIN governance_membership m ON m.user_id = u.id AND m.role = 'requester'
        """
    )
    cursor.execute("CREATE TEMP TABLE bench_ward (w int PRIMARY KEY, area_id bigint, code text)")
    with cursor.copy("COPY bench_ward FROM STDIN") as copy:
        for d in range(len(DISTRICTS)):
            for w in range(WARDS_PER_DISTRICT):
                code = ward_area_code(d, w)
                copy.write_row((d * WARDS_PER_DISTRICT + w, wards[code], code))
    return {"version": version.pk, "categories": categories}


CAMERA_SQL = f"""
INSERT INTO governance_camera (code, name, kind, area_id, managing_agency_id, address, has_video, has_plate_events,
                               has_face_events, retention_days, status, source_url, credential_ref, updated_at)
SELECT upper(w.code) || '-' || lpad((s.i % {CAMERAS_PER_WARD} + 1)::text, 4, '0'),
       'Camera ' || (ARRAY['Nguyễn Huệ', 'Lê Lợi', 'Hai Bà Trưng', 'Điện Biên Phủ', 'Cách Mạng Tháng Tám',
                           'Võ Văn Kiệt', 'Nguyễn Thị Minh Khai', 'Lý Thường Kiệt'])[1 + s.i % 8]
           || ' ' || (s.i % {CAMERAS_PER_WARD} + 1),
       k.kind, w.area_id, c.centre, 'Số ' || (1 + s.i % 300), k.kind <> 'face', k.kind = 'anpr', k.kind = 'face',
       30, CASE WHEN s.i % 50 = 0 THEN 'maintenance' ELSE 'active' END, '', '', now()
FROM generate_series(0, {CAMERAS_PER_WARD * WARDS_PER_DISTRICT * len(DISTRICTS) - 1}) AS s(i)
JOIN bench_ward w ON w.w = s.i / {CAMERAS_PER_WARD}
JOIN bench_centre c ON c.d = s.i / {CAMERAS_PER_WARD * WARDS_PER_DISTRICT}
CROSS JOIN LATERAL (SELECT (ARRAY['fixed', 'fixed', 'ptz', 'fixed', 'anpr', 'fixed', 'ptz', 'face'])[1 + s.i % 8] AS kind) k
"""

# One row per request with everything derived from hashes of its number; ids follow creation time.
STAGE_SQL = f"""
CREATE TEMP TABLE bench_fr AS
SELECT x.*,
       CASE WHEN x.status = 'draft' THEN NULL ELSE x.created_at + make_interval(mins => 5 + x.h4 %% 120) END AS submitted_at
FROM (
    SELECT g.i + %(offset)s AS id, g.i, t.created_at, p.agency_id, p.grp, p.basis, coalesce(p.d, dp.d) AS d,
           coalesce(p.w, coalesce(p.d, dp.d) * {WARDS_PER_DISTRICT} + h.h3 %% {WARDS_PER_DISTRICT}) AS w,
           r.user_id AS requester_id,
           CASE WHEN h.u < 3 THEN 'emergency' WHEN h.u < 20 THEN 'urgent' ELSE 'normal' END AS urgency,
           CASE WHEN h.u < 3 THEN 0 WHEN h.u < 20 THEN 1 ELSE 2 END AS priority,
           CASE
             WHEN t.recent AND h.s < 1200 THEN 'submitted'
             WHEN t.recent AND h.s < 2500 THEN 'in_review'
             WHEN t.recent AND h.s < 2700 THEN 'needs_info'
             WHEN t.recent AND h.s < 2900 THEN 'draft'
             WHEN NOT t.recent AND h.s < 50 THEN 'submitted'
             WHEN NOT t.recent AND h.s < 100 THEN 'in_review'
             WHEN NOT t.recent AND h.s < 130 THEN 'needs_info'
             WHEN NOT t.recent AND h.s < 150 THEN 'draft'
             WHEN t.recent AND h.f < 6 THEN 'approved'
             WHEN t.recent AND h.f < 7 THEN 'export_failed'
             WHEN t.recent AND h.f < 30 THEN 'released'
             WHEN h.f < 70 THEN 'closed'
             WHEN h.f < 83 THEN 'rejected'
             WHEN h.f < 93 THEN 'withdrawn'
             ELSE 'expired'
           END AS status,
           h.h4
    FROM generate_series(1, %(count)s) AS g(i)
    CROSS JOIN LATERAL (
        SELECT now() - interval '{SPAN_DAYS} days' + (g.i - 1) * (interval '{SPAN_DAYS} days' / %(count)s) AS created_at
    ) AS t0
    CROSS JOIN LATERAL (SELECT t0.created_at, t0.created_at > now() - interval '{RECENT_DAYS} days' AS recent) AS t
    CROSS JOIN LATERAL (
        SELECT abs(hashtext('a' || g.i)) %% {PICK_SLOTS} AS a,
               abs(hashtext('d' || g.i)) %% {sum(d[3] for d in DISTRICTS)} AS dd,
               abs(hashtext('w' || g.i)) AS h3,
               abs(hashtext('u' || g.i)) %% 100 AS u,
               abs(hashtext('s' || g.i)) %% 10000 AS s,
               abs(hashtext('f' || g.i)) %% 100 AS f,
               abs(hashtext('r' || g.i)) %% {REQUESTERS_PER_AGENCY} AS rq,
               abs(hashtext('t' || g.i)) AS h4
    ) AS h
    JOIN bench_pick p ON p.slot = h.a
    JOIN bench_district_pick dp ON dp.slot = h.dd
    JOIN bench_requester r ON r.agency_id = p.agency_id AND r.n = h.rq
) AS x
"""

REQUEST_SQL = """
INSERT INTO requests_footagerequest (id, reference, agency_id, requester_id, legal_basis_id, letter_number, letter_date,
    case_reference, purpose, urgency, priority, status, regulation_version_id, content_hash, created_at, updated_at,
    first_submitted_at, submitted_at, due_at, info_requested_at, decided_at, closed_at, export_progress, export_stage,
    export_error, for_data_subject)
SELECT r.id,
       'YC-' || y.year || '-' || lpad((coalesce(e.n, 0) + row_number() OVER (PARTITION BY y.year ORDER BY r.id))::text, 6, '0'),
       r.agency_id, r.requester_id, r.basis, (100 + r.h4 %% 900) || '/CV-' || r.agency_id, (r.created_at - interval '1 day')::date,
       CASE WHEN r.basis = %(criminal)s THEN 'VA-' || y.year || '-' || (r.h4 %% 5000) ELSE '' END,
       (%(purposes)s::text[])[1 + r.h4 %% %(purpose_count)s],
       r.urgency, r.priority, r.status,
       CASE WHEN r.status = 'draft' THEN NULL ELSE %(version)s END,
       md5(r.id::text) || md5('c' || r.id::text),
       r.created_at,
       coalesce(d.decided_at, d.info_at, r.submitted_at, r.created_at),
       r.submitted_at,
       r.submitted_at,
       r.submitted_at + CASE r.priority WHEN 0 THEN interval '2 hours' WHEN 1 THEN interval '24 hours' ELSE interval '120 hours' END,
       d.info_at,
       d.decided_at,
       CASE WHEN r.status = 'closed' THEN d.decided_at + interval '3 days' END,
       CASE WHEN r.status IN ('released', 'closed') THEN 100 ELSE 0 END,
       '',
       CASE WHEN r.status = 'export_failed' THEN 'Recorder unreachable' ELSE '' END,
       false
FROM bench_fr r
CROSS JOIN LATERAL (SELECT extract(year FROM r.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int AS year) y
-- Numbered after the requests already in the database (seed_demo's, say), year by year.
LEFT JOIN (
    SELECT substring(reference FROM 4 FOR 4)::int AS year, max(substring(reference FROM 9)::int) AS n
    FROM requests_footagerequest WHERE reference ~ '^YC-[0-9]{4}-[0-9]+$' GROUP BY 1
) e ON e.year = y.year
CROSS JOIN LATERAL (
    SELECT CASE WHEN r.status IN ('needs_info', 'expired') THEN r.submitted_at + make_interval(hours => 1 + r.h4 %% 20) END
               AS info_at,
           CASE WHEN r.status IN ('approved', 'export_failed', 'released', 'closed', 'rejected', 'withdrawn', 'expired')
                THEN r.submitted_at + make_interval(hours => 2 + r.h4 %% 100) END AS decided_at
) d
"""

ITEM_SQL = f"""
INSERT INTO requests_requestitem (footage_request_id, camera_id, start, "end", data_category_id)
SELECT r.id, c.id, x.start, x.start + make_interval(mins => 15 + x.h %% 345), x.category
FROM bench_fr r
CROSS JOIN LATERAL generate_series(1, 1 + r.h4 %% 3) AS k(n)
CROSS JOIN LATERAL (
    SELECT abs(hashtext(r.id || ':' || k.n)) AS h,
           date_trunc('hour', r.created_at) - make_interval(hours => 2 + abs(hashtext('s' || r.id || ':' || k.n)) %% 96) AS start,
           CASE WHEN abs(hashtext('c' || r.id || ':' || k.n)) %% 100 < 85 THEN %(video)s
                WHEN abs(hashtext('c' || r.id || ':' || k.n)) %% 100 < 93 THEN %(still_image)s
                WHEN abs(hashtext('c' || r.id || ':' || k.n)) %% 100 < 98 THEN %(plate_events)s
                ELSE %(face_events)s END AS category
) x
JOIN bench_camera c ON c.slot = r.w * {CAMERAS_PER_WARD} + x.h %% {CAMERAS_PER_WARD}
"""

# What request_create, request_submit and request_approve grant (see requests/workflow.py).
GRANT_SQL = """
INSERT INTO requests_footagerequestgroupobjectpermission (content_object_id, group_id, permission_id)
SELECT r.id, v.grp, v.perm
FROM bench_fr r
JOIN bench_centre c ON c.d = r.d
CROSS JOIN LATERAL (VALUES
    (r.grp, %(view)s, true),
    (r.grp, %(change)s, true),
    (c.reviewers, %(view)s, r.status <> 'draft'),
    (c.reviewers, %(review)s, r.status <> 'draft'),
    (c.approvers, %(view)s, r.status <> 'draft'),
    (c.approvers, %(approve)s, r.status <> 'draft'),
    (c.custodians, %(view)s, r.status IN ('approved', 'export_failed', 'released', 'closed')),
    (c.custodians, %(export)s, r.status IN ('approved', 'export_failed', 'released', 'closed'))
) AS v(grp, perm, granted)
WHERE v.granted
"""

# The open requests' queue entries (what request_submit writes beside the grants, see requests/workflow._enqueue).
QUEUE_SQL = """
INSERT INTO requests_queueentry (footage_request_id, group_id, priority, due_at)
SELECT r.id, v.grp, f.priority, f.due_at
FROM bench_fr r
JOIN requests_footagerequest f ON f.id = r.id
JOIN bench_centre c ON c.d = r.d
CROSS JOIN LATERAL (VALUES (c.reviewers), (c.approvers)) AS v(grp)
WHERE r.status IN ('submitted', 'in_review')
"""

# What request_submit keeps: each filed request's one filing (numbered as its request, shifted past existing rows).
SUBMISSION_SQL = """
INSERT INTO requests_submission (id, footage_request_id, number, submitted_at, submitted_by_id, due_at, content_hash,
    items_recorded, legal_basis_id, urgency)
SELECT f.id + %(submissions)s, f.id, 1, f.submitted_at, f.requester_id, f.due_at, f.content_hash, true, f.legal_basis_id,
    f.urgency
FROM requests_footagerequest f
WHERE f.id > %(offset)s AND f.submitted_at IS NOT NULL
"""

SUBMITTED_ITEM_SQL = """
INSERT INTO requests_submitteditem (submission_id, camera_id, area_id, start, "end", data_category_id)
SELECT i.footage_request_id + %(submissions)s, i.camera_id, c.area_id, i.start, i."end", i.data_category_id
FROM requests_requestitem i
JOIN bench_fr r ON r.id = i.footage_request_id
JOIN governance_camera c ON c.id = i.camera_id
WHERE r.status <> 'draft'
"""

# Every status each request moved into (what workflow._move writes): half of those asked for more information or
# withdrawn had been taken into review first; exports start half an hour after the approval and end half an hour later.
STATUS_CHANGE_SQL = """
INSERT INTO requests_statuschange (footage_request_id, from_status, to_status, at)
SELECT f.id, v.from_status, v.to_status, v.at
FROM requests_footagerequest f
CROSS JOIN LATERAL (
    SELECT f.status IN ('in_review', 'approved', 'export_failed', 'released', 'closed', 'rejected')
           OR (f.status IN ('needs_info', 'withdrawn', 'expired') AND f.id %% 2 = 0) AS reviewed,
           f.status IN ('approved', 'export_failed', 'released', 'closed') AS approved,
           f.status IN ('export_failed', 'released', 'closed') AS exported
) AS p
CROSS JOIN LATERAL (VALUES
    (1, '', 'draft', f.created_at, true),
    (2, 'draft', 'submitted', f.submitted_at, f.submitted_at IS NOT NULL),
    (3, 'submitted', 'in_review', f.submitted_at + make_interval(mins => 10 + (f.id %% 50)::int), p.reviewed),
    (4, CASE WHEN p.reviewed THEN 'in_review' ELSE 'submitted' END, 'needs_info', f.info_requested_at,
     f.info_requested_at IS NOT NULL),
    (5, 'in_review', 'approved', f.decided_at, p.approved),
    (5, CASE WHEN f.status = 'expired' THEN 'needs_info' WHEN p.reviewed THEN 'in_review' ELSE 'submitted' END,
     f.status, f.decided_at, f.status IN ('rejected', 'withdrawn', 'expired')),
    (6, 'approved', 'exporting', f.decided_at + interval '30 minutes', p.exported),
    (7, 'exporting', CASE WHEN f.status = 'export_failed' THEN 'export_failed' ELSE 'released' END,
     f.decided_at + interval '1 hour', p.exported),
    (8, 'released', 'closed', f.closed_at, f.status = 'closed')
) AS v(n, from_status, to_status, at, kept)
WHERE f.id > %(offset)s AND v.kept
"""


def secondary_indexes(cursor, table):
    """(index name, CREATE statement, constraint name, constraint definition) for every index but the primary key."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_indexes i
        LEFT JOIN pg_constraint c ON c.conname = i.indexname AND c.conrelid = %s::regclass
        WHERE i.tablename = %s AND i.indexname <> %s
        """,
        [table, table, f"{table}_pkey"],
    )
    return cursor.fetchall()


@contextmanager
def indexes_dropped(cursor, tables=BIG_TABLES):
    """Drop the tables' secondary indexes while loading and rebuild them under their own names (PostgreSQL)."""
    dropped = []
    for table in tables:
        for name, definition, constraint, condef in secondary_indexes(cursor, table):
            if constraint:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            else:
                cursor.execute(f'DROP INDEX "{name}"')
            dropped.append((table, name, definition, constraint, condef))
    # Callers load inside one transaction: an error rolls the drops back with the rows.
    yield
    started = time.perf_counter()
    for table, _name, definition, constraint, condef in dropped:
        if constraint:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {condef}')
        else:
            cursor.execute(definition)
    log(f"  rebuilt {len(dropped)} indexes in {time.perf_counter() - started:.1f} s")


def timed(cursor, label, sql, params=None):
    started = time.perf_counter()
    cursor.execute(sql, params)
    log(f"  {label}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s")


def fill(target):
    if is_filled(target):
        return None
    started = time.perf_counter()
    plan = agency_plan()
    # One transaction: a fill that stops half-way leaves nothing behind.
    with transaction.atomic(), connection.cursor() as cursor:
        fill_places()
        agencies, groups = fill_people(plan)
        version = fill_regulation(agencies)
        log(
            f"  {len(plan)} agencies, {User.objects.filter(agency__in=agencies.values()).count()} users, {len(groups)} role groups"
        )
        ids = create_staging(cursor, plan, agencies, groups, version)
        timed(cursor, "cameras", CAMERA_SQL)
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_camera AS
            SELECT (w.w * {CAMERAS_PER_WARD} + substring(c.code FROM '[0-9]+$')::int - 1) AS slot, c.id
            FROM governance_camera c JOIN bench_ward w ON w.area_id = c.area_id
            """
        )
        cursor.execute("ALTER TABLE bench_camera ADD PRIMARY KEY (slot)")
        cursor.execute("SELECT coalesce(max(id), 0) FROM requests_footagerequest")
        offset = cursor.fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        timed(cursor, "staged requests", STAGE_SQL, {"offset": offset, "count": target})
        for table in (
            "bench_pick",
            "bench_district_pick",
            "bench_centre",
            "bench_requester",
            "bench_ward",
            "bench_camera",
            "bench_fr",
        ):
            cursor.execute(f"ANALYZE {table}")
        perms = dict(
            Permission.objects.filter(content_type__app_label="requests", content_type__model="footagerequest").values_list(
                "codename", "pk"
            )
        )
        # Rows are consistent by construction; skip the per-row foreign key triggers while loading.
        cursor.execute("SET LOCAL session_replication_role = replica")
        with indexes_dropped(cursor):
            timed(
                cursor,
                "requests",
                REQUEST_SQL,
                {
                    "criminal": LegalBasis.objects.get(code="TTHS_THU_THAP_CHUNG_CU").pk,
                    "purposes": PURPOSES,
                    "purpose_count": len(PURPOSES),
                    "version": ids["version"],
                },
            )
            timed(cursor, "items", ITEM_SQL, ids["categories"])
            timed(cursor, "permission rows", GRANT_SQL, {name.split("_")[0]: pk for name, pk in perms.items()})
            timed(cursor, "queue entries", QUEUE_SQL)
            submissions = one_value(cursor, "SELECT coalesce(max(id), 0) FROM requests_submission")[0]
            history = {"offset": offset, "submissions": submissions}
            timed(cursor, "submissions", SUBMISSION_SQL, history)
            timed(cursor, "submitted items", SUBMITTED_ITEM_SQL, history)
            timed(cursor, "status changes", STATUS_CHANGE_SQL, history)
        cursor.execute("SET LOCAL session_replication_role = origin")
        for table in ("requests_footagerequest", "requests_submission"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # The application numbers its next filings after the fill's.
        cursor.execute(
            """
            INSERT INTO requests_referencecounter (year, last)
            SELECT substring(reference FROM 4 FOR 4)::int, max(substring(reference FROM 9)::int)
            FROM requests_footagerequest WHERE reference ~ '^YC-[0-9]{4}-[0-9]+$' GROUP BY 1
            ON CONFLICT (year) DO UPDATE SET last = greatest(requests_referencecounter.last, EXCLUDED.last)
            """
        )
    fill_seconds = time.perf_counter() - started
    log(f"filled in {fill_seconds:.0f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in BIG_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("ANALYZE")  # the small tables, so that plans know a user has a handful of groups
    log(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")
    return fill_seconds


# Measure ------------------------------------------------------------------------


class QueryTimer:
    """An execute wrapper: counts queries and sums their execution time (result rows fetched included)."""

    def __init__(self):
        self.count = 0
        self.ms = 0.0
        self.slowest = (0.0, "", None)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.count += 1
            self.ms += elapsed
            if elapsed > self.slowest[0]:
                self.slowest = (elapsed, sql, params)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def one_value(cursor, sql, params=()):
    cursor.execute(sql, params)
    return cursor.fetchone()


def choose_people():
    """The approver of the centre with most open requests assigned, of the one with fewest, and requesters likewise."""
    approve = selectors._permission_id("approve_footagerequest")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT substring(g.name FROM '^agency:(.*):approver$'), count(*)
            FROM requests_footagerequest r
            JOIN requests_footagerequestgroupobjectpermission p ON p.content_object_id = r.id AND p.permission_id = %s
            JOIN auth_group g ON g.id = p.group_id
            WHERE r.status IN ('submitted', 'in_review') AND g.name LIKE 'agency:%%:approver'
            GROUP BY 1 ORDER BY 2 DESC
            """,
            [approve],
        )
        centres = cursor.fetchall()
        cursor.execute(
            """
            SELECT a.code, count(*) FROM requests_footagerequest r JOIN governance_agency a ON a.id = r.agency_id
            GROUP BY 1 ORDER BY 2 DESC
            """
        )
        agencies = cursor.fetchall()

    def member(code, role):
        return (
            User.objects.filter(agency__code=code, memberships__role=role)
            .exclude(username__endswith="-head")
            .order_by("username")
            .first()
        )

    people = {
        "approver, busiest centre": (member(centres[0][0], Role.APPROVER), centres[0]),
        "head (reviewer+approver), busiest": (User.objects.get(username=f"{centres[0][0]}-head"), centres[0]),
        "approver, quietest centre": (member(centres[-1][0], Role.APPROVER), centres[-1]),
        "custodian, busiest centre": (member(centres[0][0], Role.CUSTODIAN), centres[0]),
        "requester, busiest agency": (member(agencies[0][0], Role.REQUESTER), agencies[0]),
        "requester, quiet agency": (
            member(agencies[len(agencies) * 9 // 10][0], Role.REQUESTER),
            agencies[len(agencies) * 9 // 10],
        ),
    }
    for label, (user, (code, count)) in people.items():
        what = "open requests assigned" if "requester" not in label else "requests"
        log(f"  {label}: {user.username} ({code}: {count:,} {what})")
    return {label: user for label, (user, _count) in people.items()}


def guardian_queue(user, size):
    footage_requests = get_objects_for_user(user, "requests.view_footagerequest", klass=FootageRequest)
    return list(
        footage_requests.filter(status__in=OPEN_STATUSES)
        .exclude(agency_id=user.agency_id)
        .select_related("agency", "legal_basis")
        .order_by("priority", "due_at", "id")[:size]
    )


def guardian_agency(user, size):
    footage_requests = get_objects_for_user(user, "requests.view_footagerequest", klass=FootageRequest)
    return list(
        footage_requests.filter(agency_id=user.agency_id).select_related("legal_basis", "requester").order_by("-id")[:size]
    )


def later(rng, rows):
    """The position of a page's last row somewhere after the first page (or anywhere in a short list)."""
    return rng.randrange(PAGE - 1, len(rows)) if len(rows) > PAGE else rng.randrange(len(rows))


def home_page(user):
    """The home page ("Việc cần làm" and the role cards) as the browser gets it: middleware, view and template."""
    client = Client()
    client.force_login(user)

    def call(u, size, n):
        response = client.get(reverse("home"))
        if response.status_code != 200:
            raise RuntimeError(f"home answered {response.status_code}")
        return [None] * response.content.count(b'<li class="task')

    return call


def build_cases(people, rng):
    """(case, user, call(user, size, n)) for every case; cursors and references drawn beforehand."""
    cases = []
    for label, user in people.items():
        # Every role's first page: its task groups, then the whole home page.
        cases += [
            (f"tasks_for [{label}]", user, lambda u, size, n: [task for group in todo.tasks_for(u) for task in group.tasks]),
            (f"page: home [{label}]", user, home_page(user)),
        ]
        if "requester" in label:
            rows = selectors.agency_requests(user, size=5000)
            before = [rows[later(rng, rows)].pk for _ in range(100)]
            references = [rng.choice(rows).reference for _ in range(100)]
            cases += [
                (f"agency_requests first page [{label}]", user, lambda u, size, n: selectors.agency_requests(u, size=size)),
                (
                    f"agency_requests later page [{label}]",
                    user,
                    lambda u, size, n, before=before: selectors.agency_requests(u, size=size, before_id=before[n % len(before)]),
                ),
                (
                    f"visible + get(reference) [{label}]",
                    user,
                    lambda u, size, n, refs=references: [selectors.requests_visible_to(u).get(reference=refs[n % len(refs)])],
                ),
                (f"guardian, same list [{label}]", user, lambda u, size, n: guardian_agency(u, size)),
            ]
        elif "custodian" in label:
            rows = selectors.awaiting_export(user, size=2000)
            after = [(r.decided_at, r.pk) for r in (rows[later(rng, rows)] for _ in range(100))]
            cases += [
                (f"awaiting_export first page [{label}]", user, lambda u, size, n: selectors.awaiting_export(u, size=size)),
                (
                    f"awaiting_export after cursor [{label}]",
                    user,
                    lambda u, size, n, after=after: selectors.awaiting_export(u, size=size, after=after[n % len(after)]),
                ),
            ]
        else:
            rows = selectors.review_queue(user, size=2000)
            after = [(r.priority, r.due_at, r.pk) for r in (rows[later(rng, rows)] for _ in range(100))]
            references = [rng.choice(rows).reference for _ in range(100)]
            cases += [
                (f"review_queue first page [{label}]", user, lambda u, size, n: selectors.review_queue(u, size=size)),
                (
                    f"review_queue after cursor [{label}]",
                    user,
                    lambda u, size, n, after=after: selectors.review_queue(u, size=size, after=after[n % len(after)]),
                ),
            ]
            if label.startswith("approver"):
                cases += [
                    (
                        f"visible + get(reference) [{label}]",
                        user,
                        lambda u, size, n, refs=references: [selectors.requests_visible_to(u).get(reference=refs[n % len(refs)])],
                    ),
                    (f"guardian, same queue [{label}]", user, lambda u, size, n: guardian_queue(u, size)),
                ]
    return cases


def choose_overseers():
    """The auditors of the busiest district's inspectorate and of the city's, and administrators of a busy and a quiet
    agency (made on first use: the fill gives no agency an administrator), each with the agencies they oversee."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, count(*) FROM requests_footagerequest r JOIN governance_agency a ON a.id = r.agency_id
            GROUP BY 1 ORDER BY 2 DESC
            """
        )
        agencies = cursor.fetchall()
    people = {
        "auditor, busiest district": User.objects.get(username=f"thanh-tra-{DISTRICTS[0][0]}-auditor-0"),
        "auditor, city": User.objects.get(username=f"thanh-tra-{CITY}-auditor-0"),
    }
    for label, (code, _count) in (
        ("administrator, busiest agency", agencies[0]),
        ("administrator, quiet agency", agencies[len(agencies) * 9 // 10]),
    ):
        agency = Agency.objects.get(code=code)
        with transaction.atomic():
            user, _created = User.objects.get_or_create(
                username=f"{code}-administrator", defaults={"password": "!", "agency": agency, "first_name": code}
            )
            Membership.objects.get_or_create(user=user, role=Role.ADMINISTRATOR, defaults={"agency": agency})
            user.groups.add(role_group(agency=agency, role=Role.ADMINISTRATOR))
        people[label] = user
    overseers = {}
    for label, user in people.items():
        scope = selectors.overseen_agencies(user)
        counts = dict(agencies)
        ranked = sorted(scope, key=lambda agency: counts.get(agency.code, 0), reverse=True)
        overseers[label] = (user, ranked, counts)
        total = sum(counts.get(agency.code, 0) for agency in ranked)
        log(f"  {label}: {user.username} ({len(ranked)} agencies, {total:,} requests)")
    return overseers


def request_list_page(user, query):
    """The request list as the browser gets it: through the middleware, the view and the template, signed in."""
    client = Client()
    client.force_login(user)
    url = reverse("requests:list") + (f"?{urlencode(query)}" if query else "")

    def call(u, size, n):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return [None] * response.content.count(b'<tr class="')

    return call


def build_overseer_cases(overseers, rng):
    """The overseers' request list: `listed_requests` (first, later and filtered pages) and, for auditors, the page."""
    cases = []
    for label, (user, ranked, counts) in overseers.items():
        rows = selectors.listed_requests(user, size=5000)
        before = [rows[later(rng, rows)].pk for _ in range(100)]
        cases += [
            (f"listed_requests first page [{label}]", user, lambda u, size, n: selectors.listed_requests(u, size=size)),
            (
                f"listed_requests later page [{label}]",
                user,
                lambda u, size, n, before=before: selectors.listed_requests(u, size=size, before_id=before[n % len(before)]),
            ),
        ]
        if not label.startswith("auditor"):
            continue
        # Filtered by the quietest agency that files at all: a page of its requests reaches years back.
        quiet = min((agency for agency in ranked if counts.get(agency.code)), key=lambda agency: counts[agency.code])
        filters = [
            (f"agency {ranked[0].code}", {"agency": ranked[0]}),
            (f"agency {quiet.code} ({counts.get(quiet.code, 0)})", {"agency": quiet}),
            ("status needs_info", {"status": "needs_info"}),
        ]
        for name, given in filters:
            cases.append(
                (
                    f"listed_requests {name} [{label}]",
                    user,
                    lambda u, size, n, given=given: selectors.listed_requests(u, **given, size=size),
                )
            )
        cases.append((f"page: first [{label}]", user, request_list_page(user, {})))
        for name, given in filters:
            query = {key: value.pk if isinstance(value, Agency) else value for key, value in given.items()}
            cases.append((f"page: {name} [{label}]", user, request_list_page(user, query)))
    return cases


def run_case(user, call, size, n):
    """One call as a page view makes it: a freshly loaded user (no role cache), timed query by query."""
    user = User.objects.get(pk=user.pk)
    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        rows = call(user, size, n)
        wall = (time.perf_counter() - started) * 1000
    return timer, wall, len(rows)


def measure(cases, runs):
    results = []
    for name, user, call in cases:
        counts = {}
        # A first call fills the process-wide caches (content types, permission ids) that any page view finds warm.
        try:
            run_case(user, call, PAGE, 0)
        except Exception:  # noqa: BLE001, S110 - reported by the counting calls below
            pass
        for size in SIZES:
            try:
                timer, _wall, _rows = run_case(user, call, size, 0)
            except Exception as error:  # noqa: BLE001 - a failing case is reported, the others still run
                log(f"  {name}: {type(error).__name__}: {error}")
                counts = None
                break
            counts[size] = timer.count
        if counts is None:
            results.append({"name": name, "error": True})
            continue
        db, wall, rows, slowest = [], [], 0, (0.0, "", None)
        for n in range(runs):
            timer, elapsed, count = run_case(user, call, PAGE, n)
            db.append(timer.ms)
            wall.append(elapsed)
            rows += count
            if timer.slowest[0] > slowest[0]:
                slowest = timer.slowest
        results.append(
            {
                "name": name,
                "db50": statistics.median(db),
                "db95": percentile(db, 0.95),
                "wall50": statistics.median(wall),
                "wall95": percentile(wall, 0.95),
                "counts": counts,
                "rows": rows / runs,
                "slowest": slowest,
            }
        )
    return results


def print_table(title, results):
    log("")
    log(title)
    log(f"{'case':<68} {'db p50':>7} {'db p95':>7} {'wall p50':>8} {'wall p95':>8} {'queries 10/50/200':>17} {'rows':>5}")
    for r in results:
        if r.get("error"):
            log(f"{r['name']:<68} {'failed':>7}")
            continue
        counts = "/".join(str(r["counts"][size]) for size in SIZES)
        flag = " over bar" if r["db95"] > BAR_MS else ""
        log(
            f"{r['name']:<68} {r['db50']:>7.2f} {r['db95']:>7.2f} {r['wall50']:>8.2f} {r['wall95']:>8.2f} {counts:>17} "
            f"{r['rows']:>5.0f}{flag}"
        )


def check_constant(results):
    for r in results:
        # A page's size is the view's, and the session's activity stamp is written once a minute.
        if not r.get("error") and not r["name"].startswith("page:"):
            assert len(set(r["counts"].values())) == 1, f"{r['name']}: queries per page change with the page size: {r['counts']}"


def explain_slowest(results, wanted, label):
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest query of each result `wanted(result)` selects, headed `label(result)`."""
    with connection.cursor() as cursor:
        for r in results:
            if r.get("error") or not wanted(r):
                continue
            elapsed, sql, params = r["slowest"]
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            log(f"\nEXPLAIN of the slowest query of '{label(r)}' ({elapsed:.1f} ms):")
            log("\n".join(row[0] for row in cursor.fetchall()))


def explain(results, everything):
    explain_slowest(results, lambda r: everything or r["db95"] > BAR_MS, lambda r: r["name"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of every case")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL to a scratch database (it refuses to fill SQLite).")

    fill_seconds = fill(options.requests)
    log("people measured:")
    people = choose_people()
    cases = build_cases(people, random.Random(5))
    results = measure(cases, options.runs)
    check_constant(results)
    print_table(
        f"as the code stands: page of {PAGE}, {options.runs} runs each, milliseconds (bar: p95 database time <= {BAR_MS:g} ms)",
        results,
    )
    log("\noverseers measured:")
    overseer_results = measure(build_overseer_cases(choose_overseers(), random.Random(6)), options.runs)
    check_constant(overseer_results)
    print_table(
        f"the request list for overseers: page of {PAGE}, {options.runs} runs each, milliseconds "
        f"(bar: p95 database time <= {BAR_MS:g} ms)",
        overseer_results,
    )
    explain(results + overseer_results, options.explain)
    if fill_seconds is not None:
        log(f"\nfill took {fill_seconds:.0f} s")


if __name__ == "__main__":
    main()
