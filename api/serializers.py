"""What the API answers and takes. Inputs are checked again by the pages' own forms (api.views): these describe the
shape for the OpenAPI document; the rules live in one place."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from requests.models import Status, Urgency


class Text(serializers.CharField):
    """Text, and only text: a number, a list or true is refused rather than turned into words."""

    default_error_messages = {"invalid": _("Write this as text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


_MOMENT = serializers.DateTimeField()


def moment(value):
    """A time as every answer writes it (ISO 8601, Vietnam time), or None."""
    return _MOMENT.to_representation(value) if value else None


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="Tên theo ngôn ngữ của lời gọi (Accept-Language: vi / en).")


class DataCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name_vi = serializers.CharField()
    name_en = serializers.CharField()
    sensitive = serializers.BooleanField(source="is_sensitive")


class LegalBasisSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_vi = serializers.CharField()
    title_en = serializers.CharField()
    citation = serializers.CharField()
    case_number_required = serializers.BooleanField()
    categories = serializers.ListField(child=serializers.CharField(), help_text="Mã các loại dữ liệu được phép yêu cầu.")
    citable = serializers.BooleanField(help_text="Có thể viện dẫn hôm nay (thuộc quy chế đang có hiệu lực).")

    def to_representation(self, basis):
        return {
            "code": basis.code,
            "title_vi": basis.title_vi,
            "title_en": basis.title_en,
            "citation": basis.citation,
            "case_number_required": basis.case_number_required,
            "categories": sorted(category.code for category in basis.allowed_categories.all()),
            "citable": basis.pk in self.context.get("citable", ()),
        }


class CameraSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    area = CodeNameSerializer()
    managing_agency = serializers.CharField(allow_null=True, help_text="Mã đơn vị quản lý camera.")
    address = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    retention_days = serializers.IntegerField()

    def to_representation(self, camera):
        return {
            "code": camera.code,
            "name": camera.name,
            "kind": camera.kind,
            "status": camera.status,
            "area": {"code": camera.area.code, "name": camera.area.name},
            "managing_agency": camera.managing_agency.code if camera.managing_agency_id else None,
            "address": camera.address,
            "capabilities": sorted(camera.capability_codes()),
            "retention_days": camera.retention_days,
        }


class CameraPageSerializer(serializers.Serializer):
    results = CameraSerializer(many=True)
    page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)


class ItemSerializer(serializers.Serializer):
    camera = Text(max_length=40, help_text="Mã camera, ví dụ HK-HB-001.")
    start = serializers.DateTimeField(help_text="Bắt đầu (ISO 8601; không ghi múi giờ thì hiểu là giờ Việt Nam).")
    end = serializers.DateTimeField(help_text="Kết thúc, sau thời điểm bắt đầu.")
    data_category = Text(max_length=40, help_text="Mã loại dữ liệu, ví dụ video.")


class RequestInputSerializer(serializers.Serializer):
    legal_basis = Text(max_length=40, help_text="Mã căn cứ pháp lý được viện dẫn.")
    letter_number = Text(max_length=80, help_text="Số công văn đề nghị, ví dụ 123/CV-CAP.")
    letter_date = serializers.DateField(help_text="Ngày công văn (không được sau hôm nay).")
    case_reference = Text(max_length=120, required=False, allow_blank=True, help_text="Số vụ việc / tin báo.")
    purpose = Text(max_length=4000, help_text="Mục đích sử dụng dữ liệu.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    items = ItemSerializer(many=True, help_text="Camera và khung giờ cần trích xuất (1 đến 50 dòng).")


class ReviewInputSerializer(serializers.Serializer):
    recommendation = serializers.ChoiceField(choices=["approve", "reject"], help_text="Đề xuất phê duyệt hay từ chối.")
    reason = Text(max_length=4000, required=False, allow_blank=True)


class QuestionInputSerializer(serializers.Serializer):
    question = Text(max_length=4000, help_text="Câu hỏi gửi đơn vị yêu cầu.")


class ReasonInputSerializer(serializers.Serializer):
    reason = Text(max_length=4000)


class CommentInputSerializer(serializers.Serializer):
    body = Text(max_length=4000)


class NarrowItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="id của dòng (items[].id của yêu cầu).")
    drop = serializers.BooleanField(required=False, default=False)
    start = serializers.DateTimeField(required=False, allow_null=True)
    end = serializers.DateTimeField(required=False, allow_null=True)


class ApproveInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    items = NarrowItemSerializer(many=True, required=False, help_text="Chỉ các dòng bị bỏ hoặc rút ngắn.")


class WithdrawInputSerializer(serializers.Serializer):
    reason = Text(max_length=4000, required=False, allow_blank=True)


class RequestItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    camera = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    data_category = serializers.CharField()


class RequestSerializer(serializers.Serializer):
    """A request as its agency and its officials see it."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    agency = CodeNameSerializer()
    legal_basis = serializers.CharField()
    letter_number = serializers.CharField()
    letter_date = serializers.DateField()
    case_reference = serializers.CharField()
    purpose = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    content_sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    first_submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    web_url = serializers.CharField(help_text="Địa chỉ trang của yêu cầu trên giao diện web.")
    items = RequestItemOutSerializer(many=True, required=False, help_text="Chỉ có khi xem một yêu cầu.")

    def to_representation(self, footage_request):
        data = {
            "reference": footage_request.reference,
            "status": footage_request.status,
            "status_label": str(footage_request.get_status_display()),
            "agency": {"code": footage_request.agency.code, "name": footage_request.agency.name},
            "legal_basis": footage_request.legal_basis.code,
            "letter_number": footage_request.letter_number,
            "letter_date": footage_request.letter_date.isoformat(),
            "case_reference": footage_request.case_reference,
            "purpose": footage_request.purpose,
            "urgency": footage_request.urgency,
            "content_sha256": footage_request.content_hash,
            "created_at": moment(footage_request.created_at),
            "first_submitted_at": moment(footage_request.first_submitted_at),
            "submitted_at": moment(footage_request.submitted_at),
            "due_at": moment(footage_request.due_at),
            "decided_at": moment(footage_request.decided_at),
            "closed_at": moment(footage_request.closed_at),
            "web_url": reverse("requests:detail", args=[footage_request.reference]),
        }
        items = self.context.get("items")
        if items is not None:
            data["items"] = [
                {
                    "id": item.pk,
                    "camera": item.camera.code,
                    "start": moment(item.start),
                    "end": moment(item.end),
                    "data_category": item.data_category.code,
                }
                for item in items
            ]
        return data


class RequestPageSerializer(serializers.Serializer):
    results = RequestSerializer(many=True)
    next_before = serializers.IntegerField(allow_null=True, help_text="Truyền vào tham số before để lấy trang cũ hơn.")


class EventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    actor_agency = serializers.CharField()
    actor_roles = serializers.ListField(child=serializers.CharField())
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    reference = serializers.CharField()
    outcome = serializers.CharField()
    payload = serializers.CharField(help_text="Nội dung sự kiện (JSON chuẩn hoá, đúng như khi băm).")
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, event):
        return {
            "seq": event.seq,
            "occurred_at": moment(event.occurred_at),
            "actor": event.actor_username,
            "actor_agency": event.actor_agency,
            "actor_roles": list(event.actor_roles or []),
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "reference": event.reference,
            "outcome": event.outcome,
            "payload": event.payload,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


class LedgerPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    next_after = serializers.IntegerField(allow_null=True, help_text="Truyền vào tham số after để lấy trang cũ hơn.")


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(
        help_text="video, manifest, handover, package; original: bản gốc do Trung tâm lưu giữ, không có trong gói và không tải được."
    )
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    camera = serializers.CharField()
    first_timestamp = serializers.DateTimeField(allow_null=True)
    last_timestamp = serializers.DateTimeField(allow_null=True)
    decoded = serializers.BooleanField(allow_null=True, help_text="Giải mã toàn bộ không lỗi (null: không phải video).")
    frames_in_file = serializers.IntegerField(allow_null=True)
    frames_decoded = serializers.IntegerField(allow_null=True)
    damage = serializers.ListField(child=serializers.DictField())
    not_checked = serializers.ListField(child=serializers.JSONField())
    redacted_from = serializers.CharField(
        allow_null=True, help_text="Với bản che mờ: tên tệp bản gốc (loại original) mà bản này được tạo từ đó."
    )


class ReleaseSerializer(serializers.Serializer):
    released_at = serializers.DateTimeField()
    package_sha256 = serializers.CharField()
    package_size = serializers.IntegerField()
    manifest_sha256 = serializers.CharField()
    handover_sha256 = serializers.CharField()
    gaps = serializers.IntegerField()
    damaged_files = serializers.IntegerField()
    purge_after = serializers.DateTimeField()
    purged = serializers.BooleanField()
    files = ReleaseFileSerializer(many=True)


class ReleaseStatusSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    progress = serializers.IntegerField(help_text="Tiến độ trích xuất, %.")
    stage = serializers.CharField()
    error = serializers.CharField()
    release = ReleaseSerializer(allow_null=True)


class DownloadLinkSerializer(serializers.Serializer):
    download_url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_downloads = serializers.IntegerField()


class VerifyInputSerializer(serializers.Serializer):
    sha256 = serializers.RegexField(r"^\s*[0-9a-fA-F]{64}\s*$", help_text="64 ký tự thập lục phân.")


class VerifyMatchSerializer(serializers.Serializer):
    reference = serializers.CharField()
    file = serializers.CharField()
    kind = serializers.CharField()
    size = serializers.IntegerField()
    released_at = serializers.DateTimeField()
    handed_over = serializers.BooleanField(
        help_text="false: bản gốc do Trung tâm lưu giữ (loại original), không được giao; bên nhận được giao bản che mờ."
    )


class VerifyResultSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    matches = VerifyMatchSerializer(many=True)


class PeriodInputSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class ReportInputSerializer(PeriodInputSerializer):
    agency = Text(required=False, allow_blank=True, help_text="Mã đơn vị (trong phạm vi giám sát).")
    area = Text(required=False, allow_blank=True, help_text="Mã địa bàn.")
    legal_basis = Text(required=False, allow_blank=True, help_text="Mã căn cứ pháp lý.")


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    agency = serializers.CharField(allow_null=True)
    area = serializers.CharField(allow_null=True)
    legal_basis = serializers.CharField(allow_null=True)
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    pages = serializers.IntegerField()
    releases = serializers.IntegerField()
    pdf_sha256 = serializers.CharField()
    csv_sha256 = serializers.CharField()
    pdf_url = serializers.CharField(allow_null=True, help_text="Tải bằng phiên đăng nhập đã xác thực hai lớp.")
    csv_url = serializers.CharField(allow_null=True)
    web_url = serializers.CharField()


class BundleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    events = serializers.IntegerField()
    zip_sha256 = serializers.CharField()
    zip_url = serializers.CharField(allow_null=True)
    web_url = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Mã lỗi ổn định cho máy đọc, ví dụ not_found, invalid, refused.")
    message = serializers.CharField(help_text="Thông báo theo ngôn ngữ của lời gọi.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()
