"""Demo requests, so that every role finds something on its first sign-in: filed through the real workflow.

Written once, into a database that has no request yet; the windows fall in
the last two hours, where `generate_demo_footage` writes recordings, so the
approved request can be exported for real.
"""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from governance.models import Agency, AssignmentRule, Camera, DataCategory, LegalBasis, Membership, Role, User
from governance.selectors import assigned_agencies, regulation_in_force
from requests import workflow
from requests.models import FootageRequest

BASIS = "CAND_YEU_CAU_TT"
REQUESTER, REVIEWER, APPROVER = "ca-hang-bac.requester", "ioc-hk.reviewer", "ioc-hk.approver"
REQUESTS = [
    # (letter number, purpose, urgency, minutes ago the window ends, length in minutes, how far it goes)
    ("112/CV-CAHB", "Xác minh vụ trộm xe máy trước số 12 phố Hàng Bạc", "normal", 30, 20, "approved"),
    ("113/CV-CAHB", "Xác minh tin báo cướp giật túi xách tại phố Mã Mây", "urgent", 50, 15, "in_review"),
    ("114/CV-CAHB", "Tìm người già đi lạc khỏi nhà tại phố Tạ Hiện", "emergency", 20, 10, "submitted"),
    ("115/CV-CAHB", "Xác minh va chạm giao thông tại ngã tư Đinh Liệt", "normal", 70, 30, "needs_info"),
    ("116/CV-CAHB", "Xác minh đơn trình báo mất ví trên phố Hàng Buồm", "normal", 90, 60, "rejected"),
    ("117/CV-CAHB", "Kiểm tra tình hình trật tự tại phố Hàng Bạc", "normal", 40, 10, "draft"),
]


def _letter(number):
    """A one-page official letter, as a real PDF."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from documents.pdf import REGULAR, register_fonts

    register_fonts()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, initialFontName=REGULAR)
    page.setFont(REGULAR, 12)
    page.drawString(72, 760, "CÔNG AN PHƯỜNG HÀNG BẠC")
    page.drawString(72, 740, f"Số: {number}")
    page.drawString(72, 700, "V/v đề nghị cung cấp dữ liệu camera (dữ liệu minh họa)")
    page.showPage()
    page.save()
    return SimpleUploadedFile(f"cong-van-{number.split('/')[0]}.pdf", buffer.getvalue(), content_type="application/pdf")


def seed_requests():
    """File the demo requests and take each as far as its stage; returns how many were written (0 if any existed)."""
    if FootageRequest.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=[REQUESTER, REVIEWER, APPROVER])}
    basis = LegalBasis.objects.filter(code=BASIS).first()
    cameras = list(
        Camera.objects.filter(code__startswith="HK-HB-", status=Camera.Status.ACTIVE, has_video=True).order_by("code")[:4]
    )
    if len(users) < 3 or basis is None or not cameras:
        return 0
    video = DataCategory.objects.get(code="video")
    now = timezone.now()
    for n, (number, purpose, urgency, ago, minutes, stage) in enumerate(REQUESTS):
        end = now - dt.timedelta(minutes=ago)
        items = [
            {
                "camera": cameras[n % len(cameras)],
                "start": end - dt.timedelta(minutes=minutes),
                "end": end,
                "data_category": video,
            }
        ]
        with transaction.atomic():
            footage_request = workflow.request_file(
                actor=users[REQUESTER],
                items=items,
                letter=None if urgency == "emergency" else _letter(number),
                submit=stage != "draft",
                legal_basis=basis,
                letter_number=number,
                letter_date=timezone.localdate(),
                case_reference="",
                purpose=purpose,
                urgency=urgency,
            )
        _advance(footage_request, stage, users)
    return len(REQUESTS)


def _advance(footage_request, stage, users):
    reviewer, approver = users[REVIEWER], users[APPROVER]
    if stage == "needs_info":
        workflow.request_ask_info(
            actor=reviewer, footage_request=footage_request, question="Đề nghị bổ sung số tiếp nhận tin báo và thời điểm xảy ra."
        )
    if stage in ("in_review", "approved", "rejected"):
        workflow.request_review(
            actor=reviewer, footage_request=footage_request, recommend_approval=stage != "rejected", reason="Đã kiểm tra căn cứ"
        )
    if stage == "approved":
        workflow.request_approve(actor=approver, footage_request=footage_request, reason="Đồng ý cung cấp")
    if stage == "rejected":
        workflow.request_reject(
            actor=approver, footage_request=footage_request, reason="Mất ví không thuộc trường hợp được khai thác dữ liệu camera"
        )


def journey():
    """(role, username) of the demo accounts that take the approved demo request from filing to oversight, in order.

    Read from the demo data, whichever agencies hold these duties there: the custodian is one the regulation
    sends this request's export to, the auditor one of an inspectorate. Accounts not found are left out.
    """
    accounts = [(Role.REQUESTER, REQUESTER), (Role.REVIEWER, REVIEWER), (Role.APPROVER, APPROVER)]
    number = next(number for number, *_, stage in REQUESTS if stage == "approved")
    footage_request = FootageRequest.objects.filter(letter_number=number).order_by("pk").first()
    exporters = set()
    version = footage_request and (footage_request.regulation_version or regulation_in_force())
    for item in footage_request.items.select_related("camera__area", "data_category") if version else ():
        found = set(
            assigned_agencies(
                version=version, duty=AssignmentRule.Duty.EXPORT, area=item.camera.area, category=item.data_category
            )
        )
        exporters = found if not exporters else exporters & found
    custodians = Membership.objects.filter(role=Role.CUSTODIAN, agency__in=exporters)
    auditors = Membership.objects.filter(role=Role.AUDITOR, agency__kind=Agency.Kind.INSPECTORATE)
    for role, members in ((Role.CUSTODIAN, custodians), (Role.AUDITOR, auditors)):
        username = members.order_by("user__username").values_list("user__username", flat=True).first()
        if username:
            accounts.append((role, username))
    present = set(User.objects.filter(username__in=[username for _, username in accounts]).values_list("username", flat=True))
    return [(role, username) for role, username in accounts if username in present]
