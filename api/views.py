"""The integration API, version 1. Every endpoint reads through the pages' selectors and permission functions, checks
input with the pages' own forms and acts through the workflow: no rule has a second copy here. An object the caller
may not see answers 404, as on the pages."""

import hashlib
import json
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.errors import ApiError
from api.models import IdempotentFiling, Scope
from api.parsers import JSONParser
from audit.models import Action, Outcome
from audit.services import record_event
from governance.models import Camera, DataCategory, LegalBasis
from governance.permissions import ensure_can_read_governance, get_visible_camera_or_404, get_visible_legal_basis_or_404
from governance.selectors import camera_search
from oversight.forms import LedgerFilterForm
from oversight.permissions import ensure_can_read_ledger
from oversight.selectors import ledger_page
from oversight.services import ledger_view_record
from requests import permissions, services, workflow
from requests.forms import (
    VIETNAM,
    RequestForm,
    RequestListForm,
    WithdrawForm,
    available_legal_bases,
    request_item_formset,
    validate_pdf,
)
from requests.models import Status
from requests.selectors import agency_requests, get_visible_request_or_404, listed_requests, overseen_agencies

PAGE_SIZE = 50
CAMERAS_PER_PAGE = 50
MAX_KEY_LENGTH = 200
# Printable ASCII, no space at either end (a header's value loses those on the way).
KEY_PATTERN = r"^[!-~](?:[ -~]{0,198}[!-~])?$"

ERRORS = {
    400: s.ErrorSerializer,
    401: s.ErrorSerializer,
    403: s.ErrorSerializer,
    404: s.ErrorSerializer,
    409: s.ErrorSerializer,
    422: s.ErrorSerializer,
    429: s.ErrorSerializer,
}


def _form_fields(*forms):
    """A form's (and formset's) errors as {field: [messages]}; the form's own under non_field_errors."""
    fields = {}
    for form in forms:
        for name, errors in form.errors.items():
            fields.setdefault("non_field_errors" if name == "__all__" else name, []).extend(str(e) for e in errors)
    return fields


def invalid(fields):
    return ApiError("invalid", _("The input was refused; see the fields."), status.HTTP_400_BAD_REQUEST, fields)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise invalid({name: [str(m) for m in messages] for name, messages in serializer.errors.items()})
    return serializer.validated_data


class ApiView(APIView):
    required_scopes = ()


# Catalogue ----------------------------------------------------------------------------------------------------------


class LegalBasisList(ApiView):
    required_scopes = (Scope.CATALOGUE_READ,)

    @extend_schema(
        operation_id="legal_bases_list",
        summary="Các căn cứ pháp lý",
        description="Mọi căn cứ pháp lý; citable cho biết căn cứ có thể viện dẫn hôm nay hay không.",
        responses={200: s.LegalBasisSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        ensure_can_read_governance(request.user)
        bases = LegalBasis.objects.prefetch_related("allowed_categories").order_by("code")
        citable = set(available_legal_bases().values_list("pk", flat=True))
        return Response(s.LegalBasisSerializer(bases, many=True, context={"citable": citable}).data)


class LegalBasisDetail(ApiView):
    required_scopes = (Scope.CATALOGUE_READ,)

    @extend_schema(
        operation_id="legal_basis_get", summary="Một căn cứ pháp lý", responses={200: s.LegalBasisSerializer, **ERRORS}
    )
    def get(self, request, code):
        basis = get_visible_legal_basis_or_404(request.user, code)
        citable = set(available_legal_bases().filter(pk=basis.pk).values_list("pk", flat=True))
        return Response(s.LegalBasisSerializer(basis, context={"citable": citable}).data)


class DataCategoryList(ApiView):
    required_scopes = (Scope.CATALOGUE_READ,)

    @extend_schema(
        operation_id="data_categories_list",
        summary="Các loại dữ liệu",
        responses={200: s.DataCategorySerializer(many=True), **ERRORS},
    )
    def get(self, request):
        ensure_can_read_governance(request.user)
        return Response(s.DataCategorySerializer(DataCategory.objects.order_by("code"), many=True).data)


class CameraList(ApiView):
    required_scopes = (Scope.CATALOGUE_READ,)

    @extend_schema(
        operation_id="cameras_list",
        summary="Tìm camera",
        description="Theo mã (phần đầu), tên hoặc khu vực; 50 camera mỗi trang.",
        parameters=[
            OpenApiParameter("q", str, description="Mã, tên hoặc khu vực.", examples=[OpenApiExample("Mã", value="HK-HB")]),
            OpenApiParameter("kind", str, enum=[value for value, _label in Camera.Kind.choices]),
            OpenApiParameter("status", str, enum=[value for value, _label in Camera.Status.choices]),
            OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 100000}, description="Trang, từ 1."),
        ],
        responses={200: s.CameraPageSerializer, **ERRORS},
    )
    def get(self, request):
        ensure_can_read_governance(request.user)
        params = request.query_params
        query = params.get("q", "").strip()
        if len(query) > 100:
            raise invalid({"q": [_("Ensure this value has at most %(limit_value)d characters.") % {"limit_value": 100}]})
        filters = {"query": query}
        for name, choices in (("kind", Camera.Kind), ("status", Camera.Status)):
            value = params.get(name, "")
            if value and value not in choices.values:
                raise invalid({name: [_("Select a valid choice. That choice is not one of the available choices.")]})
            filters[name] = value or None
        page_text = params.get("page", "1")
        if not page_text.isdigit() or not 1 <= int(page_text) <= 100000:
            raise invalid({"page": [_("Give a page number from 1.")]})
        number = int(page_text)
        offset = (number - 1) * CAMERAS_PER_PAGE
        cameras = list(camera_search(**filters)[offset : offset + CAMERAS_PER_PAGE + 1])
        more = len(cameras) > CAMERAS_PER_PAGE
        return Response(
            {
                "results": s.CameraSerializer(cameras[:CAMERAS_PER_PAGE], many=True).data,
                "page": number,
                "next_page": number + 1 if more else None,
            }
        )


class CameraDetail(ApiView):
    required_scopes = (Scope.CATALOGUE_READ,)

    @extend_schema(operation_id="camera_get", summary="Một camera", responses={200: s.CameraSerializer, **ERRORS})
    def get(self, request, code):
        return Response(s.CameraSerializer(get_visible_camera_or_404(request.user, code)).data)


# Requests -------------------------------------------------------------------------------------------------------------


def _local(moment):
    """An aware time as the filing form reads it (Vietnam time, to the second)."""
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M:%S")


def filing_forms(data, agency):
    """The page's RequestForm and item formset, bound to the API's JSON (already shaped by RequestInputSerializer)."""
    code = data["legal_basis"]
    legal_basis = available_legal_bases().filter(code=code).first()
    items = data["items"]
    posted = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for number, item in enumerate(items):
        posted.update(
            {
                f"items-{number}-camera": item["camera"],
                f"items-{number}-start": _local(item["start"]),
                f"items-{number}-end": _local(item["end"]),
                f"items-{number}-data_category": item["data_category"],
            }
        )
    formset = request_item_formset(posted, legal_basis=legal_basis)
    form = RequestForm(
        {
            "legal_basis": code,
            "letter_number": data["letter_number"],
            "letter_date": data["letter_date"].isoformat(),
            "case_reference": data.get("case_reference", ""),
            "purpose": data["purpose"],
            "urgency": data.get("urgency") or "normal",
        },
        agency=agency,
        items=formset,
        legal_basis=legal_basis,
    )
    return form, formset


def _item_errors(formset):
    fields = {}
    for number, errors in enumerate(formset.errors):
        for name, messages in errors.items():
            fields[f"items[{number}].{name}"] = [str(m) for m in messages]
    if formset.non_form_errors():
        fields["items"] = [str(m) for m in formset.non_form_errors()]
    return fields


def _fingerprint(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _request_body(footage_request):
    items = footage_request.items.select_related("camera", "data_category").order_by("start", "pk")
    return s.RequestSerializer(footage_request, context={"items": list(items)}).data


LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=Status.values, description="Trạng thái."),
    OpenApiParameter("reference", str, description="Phần đầu số hiệu yêu cầu, ví dụ YC-2026-."),
    OpenApiParameter("case", str, description="Phần đầu số vụ việc / số văn bản."),
    OpenApiParameter("legal_basis", str, description="Mã căn cứ pháp lý."),
    OpenApiParameter("agency", str, description="Mã đơn vị (chỉ cho cơ quan giám sát)."),
    OpenApiParameter("filed_from", OpenApiTypes.DATE),
    OpenApiParameter("filed_to", OpenApiTypes.DATE),
    OpenApiParameter(
        "before",
        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        description="Con trỏ trang: giá trị next_before của trang trước.",
    ),
]


class RequestCollection(ApiView):
    parser_classes = [JSONParser]
    scopes_by_method = {"GET": (Scope.REQUESTS_READ,), "HEAD": (Scope.REQUESTS_READ,), "POST": (Scope.REQUESTS_FILE,)}

    @extend_schema(
        operation_id="requests_list",
        summary="Các yêu cầu được xem",
        description=(
            "Yêu cầu của đơn vị mình (cán bộ yêu cầu) hoặc của các đơn vị được giám sát (thanh tra), mới nhất trước, "
            "50 yêu cầu mỗi trang. Mỗi lần gọi được ghi vào nhật ký kiểm toán."
        ),
        parameters=LIST_PARAMETERS,
        responses={200: s.RequestPageSerializer, **ERRORS},
    )
    def get(self, request):
        user = request.user
        ensure_can_read_governance(user)
        overseer = permissions.can_list_overseen_requests(user)
        query = request.query_params.dict()
        agencies = overseen_agencies(user) if overseer else None
        if overseer and query.get("agency"):
            # Agencies are named by code in the API; one the caller does not oversee is an invalid choice.
            found = agencies.filter(code=query["agency"]).values_list("pk", flat=True).first()
            query["agency"] = str(found) if found else "0"
        form = RequestListForm(query, agencies=agencies)
        if not form.is_valid():
            raise invalid(_form_fields(form))
        filters = form.filters()
        if overseer:
            rows = listed_requests(user, **filters, size=PAGE_SIZE + 1, before_id=form.cleaned_data.get("before"))
        else:
            rows = agency_requests(
                user, **{**filters, "agency": None}, size=PAGE_SIZE + 1, before_id=form.cleaned_data.get("before")
            )
        page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
        # The rows' agencies in one query: an agency's own list does not join them (its pages show no agency column).
        prefetch_related_objects(page, "agency")
        with transaction.atomic(durable=True):
            record_event(
                actor=user,
                action=Action.API_REQUEST_LIST,
                data={"filters": {k: str(v) for k, v in filters.items() if v}, "references": [r.reference for r in page]},
                http_request=request._request,
            )
        return Response({"results": s.RequestSerializer(page, many=True).data, "next_before": page[-1].pk if more else None})

    @extend_schema(
        operation_id="request_create",
        summary="Lập yêu cầu (bản nháp)",
        description=(
            "Lập một yêu cầu nháp cho đơn vị của tài khoản. Bắt buộc có tiêu đề Idempotency-Key: gọi lại với cùng "
            "khoá và cùng nội dung trả về đúng yêu cầu đã lập (không lập lần hai); cùng khoá mà khác nội dung bị từ chối (422)."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
                OpenApiParameter.HEADER,
                required=True,
                description="Khoá do hệ thống gọi tự sinh, tối đa 200 ký tự.",
            )
        ],
        request=s.RequestInputSerializer,
        examples=[
            OpenApiExample(
                "Yêu cầu trích xuất",
                request_only=True,
                value={
                    "legal_basis": "CAND_YEU_CAU_TT",
                    "letter_number": "123/CV-CAP",
                    "letter_date": "2026-12-01",
                    "case_reference": "TB-2026-0042",
                    "purpose": "Xác minh vụ trộm xe máy tại phố Hàng Bạc",
                    "urgency": "normal",
                    "items": [
                        {
                            "camera": "HK-HB-001",
                            "start": "2026-12-01T08:00:00+07:00",
                            "end": "2026-12-01T08:30:00+07:00",
                            "data_category": "video",
                        }
                    ],
                },
            )
        ],
        responses={201: s.RequestSerializer, **ERRORS},
    )
    def post(self, request):
        user = request.user
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise ApiError(
                "idempotency_key_required", _("Send an Idempotency-Key header: a retried call then never files twice.")
            )
        if not re.fullmatch(KEY_PATTERN, key):
            raise ApiError(
                "invalid", _("The Idempotency-Key is at most 200 printable ASCII characters, with no space at either end.")
            )
        if not permissions.can_create(user):
            raise ApiError(
                "permission_denied", _("Only requesting officers of an agency may file requests."), status.HTTP_403_FORBIDDEN
            )
        if not isinstance(request.data, dict):
            raise invalid({"non_field_errors": [_("Send a JSON object.")]})
        fingerprint = _fingerprint(request.data)
        earlier = IdempotentFiling.objects.filter(account=user, key=key).select_related("footage_request").first()
        if earlier is not None:
            return self._replay(earlier, fingerprint)
        data = _validated(s.RequestInputSerializer, request.data)
        form, formset = filing_forms(data, user.agency)
        if not form.is_valid():
            raise invalid({**_form_fields(form), **_item_errors(formset)})
        try:
            with transaction.atomic():
                footage_request = workflow.request_file(
                    actor=user, items=formset.items(), http_request=request._request, **form.content()
                )
                IdempotentFiling.objects.create(account=user, key=key, fingerprint=fingerprint, footage_request=footage_request)
        except IntegrityError:
            # The same key filed at the same moment by a retry: that call's request stands, this one is undone.
            earlier = IdempotentFiling.objects.filter(account=user, key=key).select_related("footage_request").first()
            if earlier is None:
                raise
            return self._replay(earlier, fingerprint)
        return Response(_request_body(footage_request), status=status.HTTP_201_CREATED)

    def _replay(self, earlier, fingerprint):
        if earlier.fingerprint != fingerprint:
            raise ApiError(
                "idempotency_key_reused",
                _("This Idempotency-Key was used for a different request; use a new key for a new request."),
                status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        # The answer shows the request again: a read, in the ledger like any other.
        services.request_record_view(
            actor=self.request.user, footage_request=earlier.footage_request, http_request=self.request._request
        )
        response = Response(_request_body(earlier.footage_request), status=status.HTTP_201_CREATED)
        response["Idempotent-Replayed"] = "true"
        return response


class RequestDetail(ApiView):
    parser_classes = [JSONParser]
    scopes_by_method = {"GET": (Scope.REQUESTS_READ,), "HEAD": (Scope.REQUESTS_READ,), "PUT": (Scope.REQUESTS_FILE,)}

    @extend_schema(
        operation_id="request_get",
        summary="Một yêu cầu",
        description="Mỗi lần xem được ghi vào nhật ký kiểm toán, như khi xem trên trang web.",
        responses={200: s.RequestSerializer, **ERRORS},
    )
    def get(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        services.request_record_view(actor=request.user, footage_request=footage_request, http_request=request._request)
        return Response(_request_body(footage_request))

    @extend_schema(
        operation_id="request_update",
        summary="Sửa yêu cầu (bản nháp hoặc yêu cầu được trả lại để bổ sung)",
        description="Thay toàn bộ nội dung và các dòng camera; các phê duyệt đã ký trước đó không còn giá trị.",
        request=s.RequestInputSerializer,
        responses={200: s.RequestSerializer, **ERRORS},
    )
    def put(self, request, reference):
        user = request.user
        footage_request = get_visible_request_or_404(user, reference)
        # The rule's own words (the state, the agency, the role), as the page says them; before the input is read.
        permissions.ensure_can_edit(user, footage_request)
        if not isinstance(request.data, dict):
            raise invalid({"non_field_errors": [_("Send a JSON object.")]})
        data = _validated(s.RequestInputSerializer, request.data)
        form, formset = filing_forms(data, footage_request.agency)
        if not form.is_valid():
            raise invalid({**_form_fields(form), **_item_errors(formset)})
        footage_request = workflow.request_file(
            actor=user, footage_request=footage_request, items=formset.items(), http_request=request._request, **form.content()
        )
        return Response(_request_body(footage_request))


class RequestSubmit(ApiView):
    required_scopes = (Scope.REQUESTS_FILE,)

    @extend_schema(
        operation_id="request_submit",
        summary="Gửi yêu cầu",
        description="Gửi bản nháp (hoặc yêu cầu đã trả lời câu hỏi) cho người thẩm định và phê duyệt.",
        request=None,
        responses={200: s.RequestSerializer, **ERRORS},
    )
    def post(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        footage_request = workflow.request_submit(
            actor=request.user, footage_request=footage_request, http_request=request._request
        )
        return Response(_request_body(footage_request))


class RequestWithdraw(ApiView):
    parser_classes = [JSONParser]
    required_scopes = (Scope.REQUESTS_FILE,)

    @extend_schema(
        operation_id="request_withdraw",
        summary="Rút yêu cầu",
        request=s.WithdrawInputSerializer,
        responses={200: s.RequestSerializer, **ERRORS},
    )
    def post(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise invalid({"non_field_errors": [_("Send a JSON object.")]})
        reason = data.get("reason")
        reason = "" if reason is None else reason
        if not isinstance(reason, str):
            raise invalid({"reason": [_("Write the reason as text.")]})
        form = WithdrawForm.posted({"reason": reason}, footage_request)
        if not form.is_valid():
            raise invalid(_form_fields(form))
        footage_request = workflow.request_withdraw(
            actor=request.user, footage_request=footage_request, http_request=request._request, **form.arguments()
        )
        return Response(_request_body(footage_request))


class RequestLetter(ApiView):
    parser_classes = [MultiPartParser]
    required_scopes = (Scope.REQUESTS_FILE,)

    @extend_schema(
        operation_id="request_letter",
        summary="Đính kèm công văn (PDF)",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={200: s.RequestSerializer, **ERRORS},
    )
    def post(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise invalid({"file": [_("Attach the official letter as a PDF file.")]})
        try:
            validate_pdf(uploaded)
        except ValidationError as error:
            raise invalid({"file": [str(m) for m in error.messages]}) from None
        with transaction.atomic():
            services.request_attach(
                actor=request.user, footage_request=footage_request, uploaded_file=uploaded, http_request=request._request
            )
        footage_request.refresh_from_db()
        return Response(_request_body(footage_request))


# Ledger ---------------------------------------------------------------------------------------------------------------


class Ledger(ApiView):
    required_scopes = (Scope.LEDGER_READ,)

    @extend_schema(
        operation_id="ledger_list",
        summary="Nhật ký kiểm toán",
        description=(
            "Các sự kiện người gọi được đọc (cùng phạm vi như trang Nhật ký kiểm toán), mới nhất trước, phân trang theo seq. "
            "Mỗi lần đọc được ghi vào sổ."
        ),
        parameters=[
            OpenApiParameter("actor", str),
            OpenApiParameter("agency", str),
            OpenApiParameter("action", str, enum=Action.values),
            OpenApiParameter("target_type", str),
            OpenApiParameter("target_id", str),
            OpenApiParameter("reference", str),
            OpenApiParameter("outcome", str, enum=Outcome.values),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter(
                "size", {"type": "integer", "minimum": 1, "maximum": 200}, description="Số sự kiện mỗi trang (1–200)."
            ),
            OpenApiParameter("after", {"type": "integer", "minimum": 1}, description="Con trỏ: next_after của trang trước."),
        ],
        responses={200: s.LedgerPageSerializer, **ERRORS},
    )
    def get(self, request):
        ensure_can_read_ledger(request.user)
        query = request.query_params.dict()
        query.pop("before", None)
        form = LedgerFilterForm(query)
        if not form.is_valid():
            raise invalid(_form_fields(form))
        filters = form.filters()
        page = ledger_page(user=request.user, filters=filters, after=form.cleaned_data["after"], size=form.cleaned_data["size"])
        ledger_view_record(actor=request.user, filters=filters, page=page, http_request=request._request)
        return Response({"results": s.EventSerializer(page.rows, many=True).data, "next_after": page.next_cursor})
