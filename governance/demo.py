"""Demo data: a district with wards, agencies of every kind, users for the roles the regulation gives each agency,
the legal bases and a published regulation.

`seed_demo` is idempotent: objects are looked up by their codes and written
(and recorded in the ledger) only when they are missing or differ.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.db import transaction

from governance import services
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    Camera,
    DataCategory,
    DeadlineUnit,
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

ALL = ("video", "still_image", "plate_events", "face_events")
BASIC = ("video", "still_image")
WITH_PLATES = ("video", "still_image", "plate_events")

Kind = Agency.Kind


class Deadlines(NamedTuple):
    """Response deadlines by urgency, in the basis's deadline unit."""

    normal: int
    urgent: int
    emergency: int


@dataclass(frozen=True)
class DemoLegalBasis:
    """A legal basis of the demo (LEGAL_BASES.md); what an entry leaves out takes the default given here."""

    code: str
    title_vi: str
    title_en: str
    citation: str
    categories: tuple[str, ...]
    requester_kinds: tuple[str, ...]
    deadlines: Deadlines
    valid_from: dt.date
    verified: bool = False
    case_number_required: bool = False
    case_number_label_vi: str = ""
    case_number_label_en: str = ""
    max_window_hours: int = 24
    max_cameras: int = 10
    approvals_required: int = 1
    deadline_unit: str = DeadlineUnit.CALENDAR_HOURS
    notes: str = ""
    data_subject_access: bool = False

    def field_values(self) -> dict[str, object]:
        """The LegalBasis columns this entry sets (all but the code and the allowed categories)."""
        return {
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "citation": self.citation,
            "verified": self.verified,
            "requester_kinds": list(self.requester_kinds),
            "case_number_required": self.case_number_required,
            "case_number_label_vi": self.case_number_label_vi,
            "case_number_label_en": self.case_number_label_en,
            "max_window_hours": self.max_window_hours,
            "max_cameras": self.max_cameras,
            "approvals_required": self.approvals_required,
            "deadline_hours_normal": self.deadlines.normal,
            "deadline_hours_urgent": self.deadlines.urgent,
            "deadline_hours_emergency": self.deadlines.emergency,
            "deadline_unit": self.deadline_unit,
            "valid_from": self.valid_from,
            "valid_to": None,
            "notes": self.notes,
            "data_subject_access": self.data_subject_access,
        }


LEGAL_BASES = [
    DemoLegalBasis(
        code="TTHS_THU_THAP_CHUNG_CU",
        title_vi="Thu thập chứng cứ trong vụ án hình sự",
        title_en="Evidence collection in a criminal case",
        citation="BLTTHS 101/2015/QH13 Điều 88 khoản 1, khoản 4",
        verified=True,
        categories=ALL,
        requester_kinds=(Kind.CRIMINAL_POLICE, Kind.TRAFFIC_POLICE, Kind.PROCURACY, Kind.COURT),
        case_number_required=True,
        case_number_label_vi="Số quyết định khởi tố vụ án hoặc số hồ sơ vụ án",
        case_number_label_en="Case-opening decision or case number",
        max_window_hours=72,
        max_cameras=20,
        deadlines=Deadlines(normal=120, urgent=24, emergency=4),
        valid_from=dt.date(2018, 1, 1),
        notes="Biên bản giao nhận theo Điều 88.4.",
    ),
    DemoLegalBasis(
        code="TTHS_XAC_MINH_TIN_BAO",
        title_vi="Kiểm tra, xác minh tố giác, tin báo về tội phạm",
        title_en="Checking a crime report (before a case is opened)",
        citation="BLTTHS 101/2015/QH13 Điều 145, Điều 147 khoản 3 điểm a",
        verified=True,
        categories=WITH_PLATES,
        requester_kinds=(Kind.CRIMINAL_POLICE, Kind.WARD_POLICE),
        case_number_required=True,
        case_number_label_vi="Số tố giác, tin báo về tội phạm",
        case_number_label_en="Crime-report reference",
        max_window_hours=48,
        deadlines=Deadlines(normal=72, urgent=24, emergency=4),
        valid_from=dt.date(2018, 1, 1),
        notes="Thời hạn giải quyết tin báo 20 ngày.",
    ),
    DemoLegalBasis(
        code="TTHS_SAO_LUU_BAO_TOAN",
        title_vi="Sao lưu, bảo toàn dữ liệu điện tử",
        title_en="Copying and preserving electronic data",
        citation="BLTTHS 101/2015/QH13 Điều 107, Điều 196",
        verified=True,
        categories=ALL,
        requester_kinds=(Kind.CRIMINAL_POLICE,),
        case_number_required=True,
        case_number_label_vi="Số hồ sơ vụ án và biên bản sao lưu",
        case_number_label_en="Case number and written record",
        max_window_hours=168,
        max_cameras=30,
        deadlines=Deadlines(normal=48, urgent=12, emergency=2),
        valid_from=dt.date(2018, 1, 1),
        notes="Khẩn trước khi dữ liệu bị ghi đè.",
    ),
    DemoLegalBasis(
        code="TTDS_TOA_AN_YEU_CAU",
        title_vi="Tòa án yêu cầu cung cấp tài liệu, chứng cứ (dân sự)",
        title_en="Civil court order to produce evidence",
        citation="BLTTDS 92/2015/QH13 Điều 106 khoản 3",
        verified=True,
        categories=BASIC,
        requester_kinds=(Kind.COURT,),
        case_number_required=True,
        case_number_label_vi="Số quyết định của Tòa án và số thụ lý",
        case_number_label_en="Court decision and case acceptance number",
        max_cameras=5,
        deadlines=Deadlines(normal=360, urgent=120, emergency=24),
        valid_from=dt.date(2016, 7, 1),
        notes="Cung cấp trong 15 ngày hoặc trả lời bằng văn bản nêu lý do.",
    ),
    DemoLegalBasis(
        code="CAND_YEU_CAU_TT",
        title_vi="Yêu cầu cung cấp thông tin, tài liệu (Luật CAND)",
        title_en="Police information request on security/public-order grounds",
        citation="Luật Công an nhân dân 37/2018/QH14 Điều 16 khoản 16",
        verified=True,
        categories=WITH_PLATES,
        requester_kinds=(Kind.WARD_POLICE, Kind.CRIMINAL_POLICE),
        deadlines=Deadlines(normal=120, urgent=24, emergency=4),
        valid_from=dt.date(2019, 7, 1),
        notes="Công văn nêu rõ căn cứ; không cần số vụ án.",
    ),
    DemoLegalBasis(
        code="VPHC_TTATGT",
        title_vi="Phát hiện, xử lý vi phạm hành chính về TTATGT",
        title_en="Administrative traffic violation",
        citation=(
            "Luật TTATGTĐB 36/2024/QH15 Điều 67, 70.2, 71.1(c); NĐ 61/2026/NĐ-CP Điều 14.3, 21, 22 (NĐ 135/2021 trước 01/04/2026)"
        ),
        verified=True,
        categories=WITH_PLATES,
        requester_kinds=(Kind.TRAFFIC_POLICE, Kind.WARD_POLICE),
        case_number_label_vi="Số biên bản vi phạm (nếu có)",
        case_number_label_en="Violation record number (if any)",
        deadlines=Deadlines(normal=120, urgent=48, emergency=8),
        valid_from=dt.date(2025, 1, 1),
        notes="Chỉ sử dụng trong thời hiệu xử phạt.",
    ),
    DemoLegalBasis(
        code="VPHC_KHAC",
        title_vi="Xác minh vi phạm hành chính khác (trật tự đô thị, môi trường…)",
        title_en="Other administrative violations",
        citation="Luật Xử lý vi phạm hành chính Điều 64 (câu chữ chưa kiểm chứng); NĐ 61/2026/NĐ-CP Điều 17–21",
        categories=BASIC,
        requester_kinds=(Kind.PEOPLES_COMMITTEE, Kind.INSPECTORATE),
        case_number_required=True,
        case_number_label_vi="Số hồ sơ vụ việc",
        case_number_label_en="Case file reference",
        max_cameras=5,
        deadlines=Deadlines(normal=120, urgent=48, emergency=8),
        valid_from=dt.date(2013, 7, 1),
    ),
    DemoLegalBasis(
        code="BVDLCN_KHAN_CAP",
        title_vi="Khẩn cấp bảo vệ tính mạng, sức khỏe",
        title_en="Emergency — life or health",
        citation="Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(a); NĐ 13/2023/NĐ-CP Điều 17.1 (trước 01/01/2026)",
        categories=ALL,
        requester_kinds=(Kind.WARD_POLICE, Kind.CRIMINAL_POLICE, Kind.TRAFFIC_POLICE, Kind.MONITORING_CENTRE),
        max_window_hours=12,
        deadlines=Deadlines(normal=24, urgent=4, emergency=1),
        valid_from=dt.date(2026, 1, 1),
        notes="Được cung cấp trước, bổ sung hồ sơ sau; bên cung cấp chịu trách nhiệm chứng minh.",
    ),
    DemoLegalBasis(
        code="BVDLCN_CHU_THE_YEU_CAU",
        title_vi="Chủ thể dữ liệu yêu cầu được cung cấp dữ liệu hình ảnh của chính mình",
        title_en="A person's request for footage of themselves (data subject)",
        citation="Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 (quyền của chủ thể dữ liệu); NĐ 356/2025/NĐ-CP",
        categories=("video",),
        requester_kinds=(Kind.MONITORING_CENTRE,),
        max_window_hours=2,
        max_cameras=3,
        deadlines=Deadlines(normal=72, urgent=72, emergency=72),
        valid_from=dt.date(2026, 1, 1),
        notes="Điều khoản và thời hạn cần đối chiếu văn bản; 72 giờ theo NĐ 13/2023/NĐ-CP Điều 14 (trước 01/01/2026)."
        " Tiếp nhận tại Trung tâm, kiểm tra giấy tờ tùy thân; luôn giao bản che mờ người khác.",
        data_subject_access=True,
    ),
    DemoLegalBasis(
        code="BVDLCN_ANQG_TTATXH",
        title_vi="Xử lý của cơ quan có thẩm quyền vì ANQG, TTATXH, phòng chống tội phạm",
        title_en="Competent authority: security, public order, crime prevention",
        citation="Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(b); NĐ 13/2023/NĐ-CP Điều 17.3",
        categories=ALL,
        requester_kinds=(Kind.WARD_POLICE, Kind.CRIMINAL_POLICE, Kind.TRAFFIC_POLICE),
        max_window_hours=48,
        max_cameras=20,
        deadlines=Deadlines(normal=72, urgent=24, emergency=4),
        valid_from=dt.date(2026, 1, 1),
        notes="Khuyến nghị có công văn.",
    ),
    DemoLegalBasis(
        code="BVDLCN_LUAT_CHUYEN_NGANH",
        title_vi="Phục vụ hoạt động cơ quan nhà nước theo luật chuyên ngành",
        title_en="State agency duty under a specialised law",
        citation="Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 19.1(c); NĐ 13/2023/NĐ-CP Điều 17.5",
        categories=BASIC,
        requester_kinds=(Kind.PEOPLES_COMMITTEE, Kind.INSPECTORATE),
        max_cameras=5,
        deadlines=Deadlines(normal=120, urgent=48, emergency=8),
        valid_from=dt.date(2026, 1, 1),
        notes="Phải nêu rõ luật và điều khoản cụ thể.",
    ),
    DemoLegalBasis(
        code="DU_LIEU_CUNG_CAP_NN",
        title_vi="Cung cấp dữ liệu cho cơ quan nhà nước (khẩn cấp, thảm họa, bạo loạn, khủng bố)",
        title_en="Law on Data: mandatory provision to the state",
        citation="Luật Dữ liệu 60/2024/QH15 Điều 18; NĐ 165/2025/NĐ-CP",
        categories=WITH_PLATES,
        requester_kinds=(Kind.WARD_POLICE, Kind.CRIMINAL_POLICE, Kind.PEOPLES_COMMITTEE),
        max_window_hours=72,
        max_cameras=50,
        deadlines=Deadlines(normal=48, urgent=12, emergency=2),
        valid_from=dt.date(2025, 7, 1),
        notes="Văn bản yêu cầu nêu đủ các nội dung tại Điều 18.2.",
    ),
    DemoLegalBasis(
        code="GHI_HINH_NOI_CONG_CONG",
        title_vi="Khai thác nội bộ dữ liệu ghi hình nơi công cộng",
        title_en="Centre's own use of public-place recordings",
        citation="Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 Điều 32; NĐ 13/2023/NĐ-CP Điều 18",
        categories=BASIC,
        requester_kinds=(Kind.MONITORING_CENTRE,),
        max_window_hours=8,
        max_cameras=5,
        deadlines=Deadlines(normal=120, urgent=24, emergency=4),
        valid_from=dt.date(2026, 1, 1),
        notes="Phiếu yêu cầu nội bộ.",
    ),
    DemoLegalBasis(
        code="QUY_CHE_DIA_PHUONG",
        title_vi="Theo quy chế quản lý, khai thác camera của địa phương",
        title_en="Under the city/province camera regulation",
        citation="Quy chế của địa phương (ví dụ QĐ 01/2022/QĐ-UBND TP.HCM) — cần ghi số quyết định của địa phương",
        categories=BASIC,
        requester_kinds=(Kind.PEOPLES_COMMITTEE, Kind.MONITORING_CENTRE),
        deadlines=Deadlines(normal=120, urgent=48, emergency=8),
        valid_from=dt.date(2022, 1, 1),
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
        return self._write(model.objects.filter(**lookup).first(), model, lookup, values)

    def _write(self, obj, model, lookup, values):
        """Create the object (`obj` None) or bring `obj` to exactly `values`; ledger only what changed."""
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean()
            obj.save()
            services.governance_record_saved(actor=None, obj=obj, created=True)
            self.changes += 1
            return obj
        changed = [name for name, value in values.items() if _stored(obj, name) != _comparable(value)]
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
        rows = list(_camera_rows())
        existing = Camera.objects.in_bulk([row["code"] for row in rows], field_name="code")
        for row in rows:
            code = row.pop("code")
            row["area"] = areas[row["area"]]
            row["managing_agency"] = agencies["ioc-hk"]
            self._write(existing.get(code), Camera, {"code": code}, row)

    def seed_legal_bases(self, categories):
        bases = {}
        for demo in LEGAL_BASES:
            basis = self._upsert(LegalBasis, {"code": demo.code}, demo.field_values())
            wanted = {categories[c].pk for c in demo.categories}
            if set(basis.allowed_categories.values_list("pk", flat=True)) != wanted:
                basis.allowed_categories.set(wanted)
                services.governance_record_saved(actor=None, obj=basis, created=False, changed_fields=["allowed_categories"])
                self.changes += 1
            bases[demo.code] = basis
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


def _stored(obj, name):
    """A field's value as `_comparable` gives it; a foreign key by its id, without loading the row it names."""
    field = obj._meta.get_field(name)
    if field.many_to_one:
        return getattr(obj, field.attname)
    return _comparable(getattr(obj, name))


def _comparable(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, float):
        return round(value, 6)
    return str(value) if value is not None and not isinstance(value, (bool, int, list)) else value
