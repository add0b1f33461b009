"""A small world for the workflow: two wards, a requesting ward police (A), a traffic police (B),
the monitoring centre that reviews, approves and exports, and a published regulation."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from governance.models import Agency, AssignmentRule, Camera
from governance.services import regulation_publish
from requests import services, workflow
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    DistrictFactory,
    LegalBasisFactory,
    ProvinceFactory,
    RegulationVersionFactory,
    UserFactory,
    WardFactory,
    category,
)
from tests.requests.footage import footage, segment_bank  # noqa: F401 - fixtures for the release tests

# A one-page PDF that parses (the letter is checked as a PDF document, not by its first bytes only).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n203\n%%EOF\n"
)


def pdf_file(name="cong-van.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@dataclass
class World:
    province: object
    ward: object
    other_ward: object
    agency_a: object
    agency_b: object
    centre: object
    committee: object
    insider: object
    colleague: object
    outsider: object
    reviewer: object
    approver: object
    approver2: object
    committee_approver: object
    custodian: object
    basis: object
    case_basis: object
    camera: object
    anpr: object
    far_camera: object
    version: object

    def items(self, *cameras, hours=2, ago_hours=3, code="video"):
        end = timezone.now() - dt.timedelta(hours=ago_hours)
        return [
            {"camera": cam, "start": end - dt.timedelta(hours=hours), "end": end, "data_category": category(code)}
            for cam in (cameras or (self.camera,))
        ]

    def draft(self, actor=None, *, items=None, basis=None, attach=True, **fields):
        actor = actor or self.insider
        values = {
            "legal_basis": basis or self.basis,
            "letter_number": "123/CV-CAP",
            "letter_date": timezone.localdate(),
            "case_reference": "",
            "purpose": "Xác minh vụ trộm xe máy tại phố Hàng Bạc",
            "urgency": "normal",
        }
        values.update(fields)
        footage_request = workflow.request_create(actor=actor, items=items if items is not None else self.items(), **values)
        if attach:
            services.request_attach(actor=actor, footage_request=footage_request, uploaded_file=pdf_file())
        return footage_request

    def submitted(self, **kwargs):
        footage_request = self.draft(**kwargs)
        return workflow.request_submit(actor=kwargs.get("actor") or self.insider, footage_request=footage_request)

    def reviewed(self, **kwargs):
        footage_request = self.submitted(**kwargs)
        workflow.request_review(actor=self.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ căn cứ")
        footage_request.refresh_from_db()
        return footage_request


@pytest.fixture
def world(db, agency_a, agency_b, insider, colleague, outsider, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    province = ProvinceFactory()
    district = DistrictFactory(parent=province)
    ward = WardFactory(parent=district, code="hang-bac", name_vi="Phường Hàng Bạc")
    other_ward = WardFactory(parent=district, code="hang-dao", name_vi="Phường Hàng Đào")
    agency_a.area = ward
    agency_a.save()
    agency_b.area = province
    agency_b.save()
    centre = AgencyFactory(code="ioc", name_vi="Trung tâm giám sát camera", kind=Agency.Kind.MONITORING_CENTRE, area=district)
    committee = AgencyFactory(code="ubnd", name_vi="UBND quận", kind=Agency.Kind.PEOPLES_COMMITTEE, area=district)
    basis = LegalBasisFactory(
        code="CAND_YEU_CAU_TT", max_window_hours=24, max_cameras=3, categories=["video", "still_image", "plate_events"]
    )
    case_basis = LegalBasisFactory(
        code="TTHS_THU_THAP_CHUNG_CU",
        case_number_required=True,
        case_number_label_vi="số quyết định khởi tố",
        case_number_label_en="case-opening decision number",
    )
    # A person's own request for footage of themselves, filed at the centre's counter (requests.subjects).
    subject_basis = LegalBasisFactory(code="CHU_THE", data_subject_access=True, max_window_hours=2, categories=["video"])
    version = RegulationVersionFactory()
    version.legal_bases.set([basis, case_basis, subject_basis])
    for duty, agency in [
        (AssignmentRule.Duty.REVIEW, centre),
        (AssignmentRule.Duty.REVIEW, committee),
        (AssignmentRule.Duty.APPROVE, centre),
        (AssignmentRule.Duty.APPROVE, committee),
        (AssignmentRule.Duty.EXPORT, centre),
    ]:
        AssignmentRuleFactory(version=version, duty=duty, agency=agency, area=district)
    with transaction.atomic():
        regulation_publish(actor=None, version=version)
    return World(
        province=province,
        ward=ward,
        other_ward=other_ward,
        agency_a=agency_a,
        agency_b=agency_b,
        centre=centre,
        committee=committee,
        insider=insider,
        colleague=colleague,
        outsider=outsider,
        reviewer=UserFactory(username="thamdinh", agency=centre, roles=["reviewer"]),
        approver=UserFactory(username="pheduyet", agency=centre, roles=["approver"]),
        approver2=UserFactory(username="pheduyet2", agency=centre, roles=["approver"]),
        committee_approver=UserFactory(username="ubnd-pheduyet", agency=committee, roles=["approver"]),
        custodian=UserFactory(username="vanhanh", agency=centre, roles=["custodian"]),
        basis=basis,
        case_basis=case_basis,
        camera=CameraFactory(code="HB-001", area=ward, managing_agency=centre),
        anpr=CameraFactory(code="HB-002", area=ward, managing_agency=centre, kind=Camera.Kind.ANPR, has_plate_events=True),
        far_camera=CameraFactory(code="HD-001", area=other_ward, managing_agency=centre),
        version=version,
    )
