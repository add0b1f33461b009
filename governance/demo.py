"""Demo data: a district with wards, agencies of every kind, users for the roles the regulation gives each agency,
the legal bases and a published regulation.

`seed_demo` is idempotent: objects are looked up by their codes and written
(and recorded in the ledger) only when they are missing or differ.
"""

import datetime as dt
import zoneinfo
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction

from governance import services
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    Camera,
    DataCategory,
    LegalBasis,
    Membership,
    RegulationVersion,
    Role,
    User,
)
from governance.selectors import roles_given_by_regulation

DEMO_PASSWORD = "demo-Camera-2026"
VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")

AREAS = [
    ("hn", "Thành phố Hà Nội", "Hanoi", Area.Level.PROVINCE, None),
    ("hn-hk", "Quận Hoàn Kiếm", "Hoan Kiem District", Area.Level.DISTRICT, "hn"),
    ("hn-hk-hang-bac", "Phường Hàng Bạc", "Hang Bac Ward", Area.Level.WARD, "hn-hk"),
    ("hn-hk-hang-dao", "Phường Hàng Đào", "Hang Dao Ward", Area.Level.WARD, "hn-hk"),
    ("hn-hk-trang-tien", "Phường Tràng Tiền", "Trang Tien Ward", Area.Level.WARD, "hn-hk"),
    ("hn-hk-phuc-tan", "Phường Phúc Tân", "Phuc Tan Ward", Area.Level.WARD, "hn-hk"),
    ("hn-hk-ly-thai-to", "Phường Lý Thái Tổ", "Ly Thai To Ward", Area.Level.WARD, "hn-hk"),
]

AREA_NAMES = {code: name_vi for code, name_vi, *_ in AREAS}

CATEGORIES = [
    ("video", "Dữ liệu video ghi hình", "Recorded video", DataCategory.Sensitivity.BASIC),
    ("still_image", "Hình ảnh trích xuất", "Still images", DataCategory.Sensitivity.BASIC),
    (
        "plate_events",
        "Sự kiện nhận dạng biển số (dữ liệu vị trí)",
        "Plate-recognition events (location data)",
        DataCategory.Sensitivity.SENSITIVE,
    ),
    (
        "face_events",
        "Sự kiện nhận dạng khuôn mặt (dữ liệu sinh trắc học)",
        "Face-recognition events (biometric data)",
        DataCategory.Sensitivity.SENSITIVE,
    ),
]

# code, Vietnamese name, English name, kind, area
AGENCIES = [
    (
        "ioc-hk",
        "Trung tâm giám sát camera quận Hoàn Kiếm",
        "Hoan Kiem Camera Monitoring Centre",
        Agency.Kind.MONITORING_CENTRE,
        "hn-hk",
    ),
    ("ubnd-hk", "UBND quận Hoàn Kiếm", "Hoan Kiem District People's Committee", Agency.Kind.PEOPLES_COMMITTEE, "hn-hk"),
    ("ca-hang-bac", "Công an phường Hàng Bạc", "Hang Bac Ward Police", Agency.Kind.WARD_POLICE, "hn-hk-hang-bac"),
    ("ca-hang-dao", "Công an phường Hàng Đào", "Hang Dao Ward Police", Agency.Kind.WARD_POLICE, "hn-hk-hang-dao"),
    ("csgt-hn", "Phòng Cảnh sát giao thông Công an TP Hà Nội", "Hanoi Traffic Police Division", Agency.Kind.TRAFFIC_POLICE, "hn"),
    (
        "pc02-hn",
        "Phòng Cảnh sát hình sự (PC02) Công an TP Hà Nội",
        "Hanoi Criminal Police Division (PC02)",
        Agency.Kind.CRIMINAL_POLICE,
        "hn",
    ),
    (
        "vks-hk",
        "Viện kiểm sát nhân dân khu vực Hoàn Kiếm",
        "Hoan Kiem Regional People's Procuracy",
        Agency.Kind.PROCURACY,
        "hn-hk",
    ),
    ("tand-hk", "Tòa án nhân dân khu vực Hoàn Kiếm", "Hoan Kiem Regional People's Court", Agency.Kind.COURT, "hn-hk"),
    (
        "ubnd-hang-bac",
        "UBND phường Hàng Bạc",
        "Hang Bac Ward People's Committee",
        Agency.Kind.PEOPLES_COMMITTEE,
        "hn-hk-hang-bac",
    ),
    ("thanh-tra-hn", "Thanh tra Thành phố Hà Nội", "Hanoi City Inspectorate", Agency.Kind.INSPECTORATE, "hn"),
]

ALL = ["video", "still_image", "plate_events", "face_events"]
BASIC = ["video", "still_image"]
WITH_PLATES = ["video", "still_image", "plate_events"]

# code, title vi, title en, citation, verified, categories, requester kinds, case required, case label vi, case label en,
# max window h, max cameras, approvals, deadlines (normal, urgent, emergency) h, valid from, notes
LEGAL_BASES = [
    (
        "TTHS_THU_THAP_CHUNG_CU",
        "Thu thập chứng cứ trong vụ án hình sự",
        "Evidence collection in a criminal case",
        "BLTTHS 101/2015/QH13 Điều 88 khoản 1, khoản 4",
        True,
        ALL,
        ["criminal_police", "traffic_police", "procuracy", "court"],
        True,
        "Số quyết định khởi tố vụ án hoặc số hồ sơ vụ án",
        "Case-opening decision or case number",
        72,
        20,
        1,
        (120, 24, 4),
        dt.date(2018, 1, 1),
        "Biên bản giao nhận theo Điều 88.4.",
    ),
    (
        "TTHS_XAC_MINH_TIN_BAO",
        "Kiểm tra, xác minh tố giác, tin báo về tội phạm",
        "Checking a crime report (before a case is opened)",
        "BLTTHS 101/2015/QH13 Điều 145, Điều 147 khoản 3 điểm a",
        True,
        WITH_PLATES,
        ["criminal_police", "ward_police"],
        True,
        "Số tố giác, tin báo về tội phạm",
        "Crime-report reference",
        48,
        10,
        1,
        (72, 24, 4),
        dt.date(2018, 1, 1),
        "Thời hạn giải quyết tin báo 20 ngày.",
    ),
    (
        "TTHS_SAO_LUU_BAO_TOAN",
        "Sao lưu, bảo toàn dữ liệu điện tử",
        "Copying and preserving electronic data",
        "BLTTHS 101/2015/QH13 Điều 107, Điều 196",
        True,
        ALL,
        ["criminal_police"],
        True,
        "Số hồ sơ vụ án và biên bản sao lưu",
        "Case number and written record",
        168,
        30,
        1,
        (48, 12, 2),
        dt.date(2018, 1, 1),
        "Khẩn trước khi dữ liệu bị ghi đè.",
    ),
    (
        "TTDS_TOA_AN_YEU_CAU",
        "Tòa án yêu cầu cung cấp tài liệu, chứng cứ (dân sự)",
        "Civil court order to produce evidence",
        "BLTTDS 92/2015/QH13 Điều 106 khoản 3",
        True,
        BASIC,
        ["court"],
        True,
        "Số quyết định của Tòa án và số thụ lý",
        "Court decision and case acceptance number",
        24,
        5,
        1,
        (360, 120, 24),
        dt.date(2016, 7, 1),
        "Cung cấp trong 15 ngày hoặc trả lời bằng văn bản nêu lý do.",
    ),
    (
        "CAND_YEU_CAU_TT",
        "Yêu cầu cung cấp thông tin, tài liệu (Luật CAND)",
        "Police information request on security/public-order grounds",
        "Luật Công an nhân dân 37/2018/QH14 Điều 16 khoản 16",
        True,
        WITH_PLATES,
        ["ward_police", "criminal_police"],
        False,
        "",
        "",
        24,
        10,
        1,
        (120, 24, 4),
        dt.date(2019, 7, 1),
        "Công văn nêu rõ căn cứ; không cần số vụ án.",
    ),
    (
        "VPHC_TTATGT",
        "Phát hiện, xử lý vi phạm hành chính về TTATGT",
        "Administrative traffic violation",
        "Luật TTATGTĐB 36/2024/QH15 Điều 67, 70.2, 71.1(c); NĐ 61/2026/NĐ-CP Điều 14.3, 21, 22 (NĐ 135/2021 trước 01/04/2026)",
        True,
        WITH_PLATES,
        ["traffic_police", "ward_police"],
        False,
        "Số biên bản vi phạm (nếu có)",
        "Violation record number (if any)",
        24,
        10,
        1,
        (120, 48, 8),
        dt.date(2025, 1, 1),
        "Chỉ sử dụng trong thời hiệu xử phạt.",
    ),
    (
        "VPHC_KHAC",
        "Xác minh vi phạm hành chính khác (trật tự đô thị, môi trường…)",
        "Other administrative violations",
        "Luật Xử lý vi phạm hành chính Điều 64 (câu chữ chưa kiểm chứng); NĐ 61/2026/NĐ-CP Điều 17–21",
        False,
        BASIC,
        ["peoples_committee", "inspectorate"],
        True,
        "Số hồ sơ vụ việc",
        "Case file reference",
        24,
        5,
        1,
        (120, 48, 8),
        dt.date(2013, 7, 1),
        "",
    ),
    (
        "BVDLCN_KHAN_CAP",
        "Khẩn cấp bảo vệ tính mạng, sức khỏe",
        "Emergency — life or health",
        "Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(a); NĐ 13/2023/NĐ-CP Điều 17.1 (trước 01/01/2026)",
        False,
        ALL,
        ["ward_police", "criminal_police", "traffic_police", "monitoring_centre"],
        False,
        "",
        "",
        12,
        10,
        1,
        (24, 4, 1),
        dt.date(2026, 1, 1),
        "Được cung cấp trước, bổ sung hồ sơ sau; bên cung cấp chịu trách nhiệm chứng minh.",
    ),
    (
        "BVDLCN_ANQG_TTATXH",
        "Xử lý của cơ quan có thẩm quyền vì ANQG, TTATXH, phòng chống tội phạm",
        "Competent authority: security, public order, crime prevention",
        "Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(b); NĐ 13/2023/NĐ-CP Điều 17.3",
        False,
        ALL,
        ["ward_police", "criminal_police", "traffic_police"],
        False,
        "",
        "",
        48,
        20,
        1,
        (72, 24, 4),
        dt.date(2026, 1, 1),
        "Khuyến nghị có công văn.",
    ),
    (
        "BVDLCN_LUAT_CHUYEN_NGANH",
        "Phục vụ hoạt động cơ quan nhà nước theo luật chuyên ngành",
        "State agency duty under a specialised law",
        "Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(c); NĐ 13/2023/NĐ-CP Điều 17.5",
        False,
        BASIC,
        ["peoples_committee", "inspectorate"],
        False,
        "",
        "",
        24,
        5,
        1,
        (120, 48, 8),
        dt.date(2026, 1, 1),
        "Phải nêu rõ luật và điều khoản cụ thể.",
    ),
    (
        "DU_LIEU_CUNG_CAP_NN",
        "Cung cấp dữ liệu cho cơ quan nhà nước (khẩn cấp, thảm họa, bạo loạn, khủng bố)",
        "Law on Data: mandatory provision to the state",
        "Luật Dữ liệu 60/2024/QH15 Điều 18; NĐ 165/2025/NĐ-CP",
        False,
        WITH_PLATES,
        ["ward_police", "criminal_police", "peoples_committee"],
        False,
        "",
        "",
        72,
        50,
        1,
        (48, 12, 2),
        dt.date(2025, 7, 1),
        "Văn bản yêu cầu nêu đủ các nội dung tại Điều 18.2.",
    ),
    (
        "GHI_HINH_NOI_CONG_CONG",
        "Khai thác nội bộ dữ liệu ghi hình nơi công cộng",
        "Centre's own use of public-place recordings",
        "Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 32; NĐ 13/2023/NĐ-CP Điều 18",
        False,
        BASIC,
        ["monitoring_centre"],
        False,
        "",
        "",
        8,
        5,
        1,
        (120, 24, 4),
        dt.date(2026, 1, 1),
        "Phiếu yêu cầu nội bộ.",
    ),
    (
        "QUY_CHE_DIA_PHUONG",
        "Theo quy chế quản lý, khai thác camera của địa phương",
        "Under the city/province camera regulation",
        "Quy chế của địa phương (ví dụ QĐ 01/2022/QĐ-UBND TP.HCM) — cần ghi số quyết định của địa phương",
        False,
        BASIC,
        ["peoples_committee", "monitoring_centre"],
        False,
        "",
        "",
        24,
        10,
        1,
        (120, 48, 8),
        dt.date(2022, 1, 1),
        "",
    ),
]

REGULATION_NUMBER = "QC-HK-2026-01"

ROLE_TITLES_VI = {
    Role.REQUESTER: "Cán bộ đề nghị",
    Role.REVIEWER: "Cán bộ thẩm định",
    Role.APPROVER: "Lãnh đạo phê duyệt",
    Role.CUSTODIAN: "Cán bộ vận hành",
    Role.AUDITOR: "Cán bộ giám sát",
    Role.ADMINISTRATOR: "Quản trị viên",
}

# duty, agency, area, category (None = all)
RULES = [
    (AssignmentRule.Duty.REVIEW, "ioc-hk", "hn-hk", None),
    (AssignmentRule.Duty.APPROVE, "ioc-hk", "hn-hk", None),
    (AssignmentRule.Duty.APPROVE, "ubnd-hk", "hn-hk", None),
    (AssignmentRule.Duty.EXPORT, "ioc-hk", "hn-hk", None),
]

STREETS = {
    "hn-hk-hang-bac": ["Hàng Bạc", "Mã Mây", "Tạ Hiện", "Đinh Liệt", "Hàng Buồm"],
    "hn-hk-hang-dao": ["Hàng Đào", "Hàng Ngang", "Hàng Đường", "Cầu Gỗ", "Hàng Bè"],
    "hn-hk-trang-tien": ["Tràng Tiền", "Hàng Bài", "Đinh Tiên Hoàng", "Lê Thạch", "Ngô Quyền"],
    "hn-hk-phuc-tan": ["Phúc Tân", "Trần Quang Khải", "Chương Dương Độ", "Nguyễn Hữu Huân", "Hàng Vôi"],
    "hn-hk-ly-thai-to": ["Lý Thái Tổ", "Lê Lai", "Hàng Khay", "Bà Triệu", "Lò Sũ"],
}
WARD_PREFIX = {
    "hn-hk-hang-bac": "HB",
    "hn-hk-hang-dao": "HD",
    "hn-hk-trang-tien": "TT",
    "hn-hk-phuc-tan": "PT",
    "hn-hk-ly-thai-to": "LTT",
}
CAMERAS_PER_WARD = 40
KIND_CYCLE = [
    Camera.Kind.FIXED,
    Camera.Kind.FIXED,
    Camera.Kind.PTZ,
    Camera.Kind.FIXED,
    Camera.Kind.ANPR,
    Camera.Kind.FIXED,
    Camera.Kind.PTZ,
    Camera.Kind.FACE,
]


def _camera_rows():
    for area_code, streets in STREETS.items():
        prefix = WARD_PREFIX[area_code]
        for n in range(1, CAMERAS_PER_WARD + 1):
            kind = KIND_CYCLE[n % len(KIND_CYCLE)]
            street = streets[n % len(streets)]
            other = streets[(n + 2) % len(streets)]
            yield {
                "code": f"HK-{prefix}-{n:03d}",
                "name": f"Ngã tư {street} – {other}" if n % 3 else f"Số {n * 7} {street}",
                "kind": kind,
                "area": area_code,
                "address": f"{street}, {AREA_NAMES[area_code]}, Hoàn Kiếm, Hà Nội",
                "latitude": f"{21.0245 + (n % 20) * 0.0006:.6f}",
                "longitude": f"{105.8500 + (n % 17) * 0.0007:.6f}",
                "has_plate_events": kind == Camera.Kind.ANPR,
                "has_face_events": kind == Camera.Kind.FACE,
                "retention_days": 90 if kind in (Camera.Kind.ANPR, Camera.Kind.FACE) else 30,
                "status": Camera.Status.MAINTENANCE if n == 13 else Camera.Status.ACTIVE,
                "source_url": f"nvr://ioc-hk/{prefix.lower()}-{n:03d}",
                "credential_ref": "nvr-hk-readonly",
            }


class Seeder:
    def __init__(self, stdout=None):
        self.stdout = stdout
        self.changes = 0
        self._password_hash = None

    @property
    def demo_password_hash(self):
        if self._password_hash is None:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash

    def _upsert(self, model, lookup, values):
        """Create or update to exactly `values`; ledger only what changed."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean()
            obj.save()
            services.governance_record_saved(actor=None, obj=obj, created=True)
            self.changes += 1
            return obj
        changed = [name for name, value in values.items() if _comparable(getattr(obj, name)) != _comparable(value)]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.full_clean()
            obj.save()
            services.governance_record_saved(actor=None, obj=obj, created=False, changed_fields=changed)
            self.changes += 1
        return obj

    def run(self):
        with transaction.atomic():
            areas = self.seed_areas()
            categories = self.seed_categories()
            agencies = self.seed_agencies(areas)
            self.seed_cameras(areas, agencies)
            bases = self.seed_legal_bases(categories)
            version = self.seed_regulation(agencies, areas, bases)
            users = self.seed_users(agencies, version)
        self.seed_signing_key()
        return users

    def seed_areas(self):
        areas = {}
        for code, name_vi, name_en, level, parent in AREAS:
            areas[code] = self._upsert(
                Area, {"code": code}, {"name_vi": name_vi, "name_en": name_en, "level": level, "parent": areas.get(parent)}
            )
        return areas

    def seed_categories(self):
        return {
            code: self._upsert(DataCategory, {"code": code}, {"name_vi": name_vi, "name_en": name_en, "sensitivity": sensitivity})
            for code, name_vi, name_en, sensitivity in CATEGORIES
        }

    def seed_agencies(self, areas):
        agencies = {}
        for code, name_vi, name_en, kind, area in AGENCIES:
            agencies[code] = self._upsert(
                Agency, {"code": code}, {"name_vi": name_vi, "name_en": name_en, "kind": kind, "area": areas[area]}
            )
        return agencies

    def seed_cameras(self, areas, agencies):
        for row in _camera_rows():
            code = row.pop("code")
            row["area"] = areas[row["area"]]
            row["managing_agency"] = agencies["ioc-hk"]
            self._upsert(Camera, {"code": code}, row)

    def seed_legal_bases(self, categories):
        bases = {}
        for (
            code,
            title_vi,
            title_en,
            citation,
            verified,
            cats,
            kinds,
            case_required,
            label_vi,
            label_en,
            max_hours,
            max_cameras,
            approvals,
            (normal, urgent, emergency),
            valid_from,
            notes,
        ) in LEGAL_BASES:
            basis = self._upsert(
                LegalBasis,
                {"code": code},
                {
                    "title_vi": title_vi,
                    "title_en": title_en,
                    "citation": citation,
                    "verified": verified,
                    "requester_kinds": kinds,
                    "case_number_required": case_required,
                    "case_number_label_vi": label_vi,
                    "case_number_label_en": label_en,
                    "max_window_hours": max_hours,
                    "max_cameras": max_cameras,
                    "approvals_required": approvals,
                    "deadline_hours_normal": normal,
                    "deadline_hours_urgent": urgent,
                    "deadline_hours_emergency": emergency,
                    "valid_from": valid_from,
                    "valid_to": None,
                    "notes": notes,
                },
            )
            wanted = {categories[c].pk for c in cats}
            if set(basis.allowed_categories.values_list("pk", flat=True)) != wanted:
                basis.allowed_categories.set(wanted)
                services.governance_record_saved(actor=None, obj=basis, created=False, changed_fields=["allowed_categories"])
                self.changes += 1
            bases[code] = basis
        return bases

    def seed_regulation(self, agencies, areas, bases):
        version = RegulationVersion.objects.filter(number=REGULATION_NUMBER).first()
        if version is not None and version.is_published:
            return version
        if version is None:
            version = self._upsert(
                RegulationVersion,
                {"number": REGULATION_NUMBER},
                {
                    "title": "Quy chế phân công quản lý, vận hành và khai thác dữ liệu camera quận Hoàn Kiếm",
                    "decision_reference": "Quyết định số 01/QĐ-UBND ngày 02/01/2026 (dữ liệu minh họa)",
                    "effective_from": dt.datetime(2026, 1, 1, tzinfo=VN),
                },
            )
        version.legal_bases.set(bases.values())
        for duty, agency, area, category in RULES:
            AssignmentRule.objects.get_or_create(
                version=version,
                duty=duty,
                agency=agencies[agency],
                area=areas[area],
                data_category=None if category is None else DataCategory.objects.get(code=category),
            )
        services.regulation_publish(actor=None, version=version)
        self.changes += 1
        return version

    def seed_users(self, agencies, version):
        """One account per role the regulation gives each agency: police request, the centre reviews, approves
        and exports, the inspectorate audits, and each agency has its own administrator (the centre's are the
        system administrators)."""
        users = []
        for code, agency in agencies.items():
            given = roles_given_by_regulation(agency, version=version)
            for role in given:
                username = f"{code}.{role}"
                users.append(self._demo_user(username, agency, role, staff=role == Role.ADMINISTRATOR))
            for role in Role:
                if role not in given:
                    self._retire_demo_user(f"{code}.{role}", agency)
        # Sensitive data needs two distinct approvers: the centre has a second one.
        users.append(self._demo_user("ioc-hk.approver2", agencies["ioc-hk"], Role.APPROVER))
        return users

    def _retire_demo_user(self, username, agency):
        """An account an earlier demo gave a role the regulation does not give its agency: roles revoked, deactivated.

        Kept, not deleted: whoever acted stays in the ledger."""
        user = User.objects.filter(username=username, agency=agency).first()
        if user is None:
            return
        for membership in user.memberships.select_related("agency", "user"):
            services.membership_revoke(actor=None, membership=membership)
            self.changes += 1
        if user.is_active or user.is_staff:
            user.is_active = user.is_staff = False
            user.save(update_fields=["is_active", "is_staff"])
            services.governance_record_saved(actor=None, obj=user, created=False, changed_fields=["is_active", "is_staff"])
            self.changes += 1

    def _demo_user(self, username, agency, role, staff=False):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username, agency=agency, is_staff=staff, first_name=ROLE_TITLES_VI[Role(role)], last_name=agency.code
            )
            # One hash for every demo account: hashing is slow on purpose and the password is public anyway.
            user.password = self.demo_password_hash
            user.save()
            services.governance_record_saved(
                actor=None, obj=user, created=True, changed_fields=["username", "agency", "is_staff"]
            )
            self.changes += 1
        if not Membership.objects.filter(user=user, role=role).exists():
            services.membership_grant(actor=None, user=user, role=role)
            self.changes += 1
        return user

    def seed_signing_key(self):
        from django.conf import settings

        from audit.checkpoints import ensure_signing_key, load_signing_key
        from audit.keys import signing_key_ensure_registered
        from audit.models import SigningKey

        if not Path(settings.AUDIT_SIGNING_KEY_FILE).exists():
            ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)
            self.changes += 1
        # Registered now, so its fingerprint is on the first reports and hand-over records.
        before = SigningKey.objects.count()
        signing_key_ensure_registered(actor=None, public_key=load_signing_key().public_key())
        self.changes += SigningKey.objects.count() - before


def _comparable(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, float):
        return round(value, 6)
    return str(value) if value is not None and not isinstance(value, (bool, int, list)) else value
