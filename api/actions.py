"""Acts on one request through the API: the pages' forms check the input, the workflow acts, the request comes back.

Decisions (review, questions, approval with narrowing, rejection) are `people_only`: a person's session that passed
the second factor, never a token."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api import serializers as s
from api.models import Scope
from api.parsers import JSONParser
from api.views import ERRORS, ApiView, _form_fields, _local, _request_body, invalid
from requests import workflow
from requests.forms import ApproveForm, AskInfoForm, CommentForm, RejectForm, ReviewForm
from requests.selectors import get_visible_request_or_404


def _json_object(request):
    if not isinstance(request.data, dict):
        raise invalid({"non_field_errors": [_("Send a JSON object.")]})
    return request.data


def _text_fields(data, names):
    """The form's text fields from JSON: strings only (a number or a list is refused, not turned into text)."""
    posted = {}
    for name in names:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise invalid({name: [_("Write this as text.")]})
        posted[name] = value
    return posted


def action_view(
    service,
    *,
    form_class=None,
    fields=(),
    request_serializer=None,
    summary,
    description="",
    operation_id,
    people_only=False,
    scopes=(Scope.REQUESTS_FILE,),
    to_form=None,
):
    """An APIView running `service(actor=…, footage_request=…, http_request=…, **form.arguments())` on a visible
    request: 404 where the request is not visible, 400 for refused input, 409 where a rule refuses the act."""

    class Action(ApiView):
        parser_classes = [JSONParser]
        required_scopes = scopes

        @extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=description,
            request=request_serializer,
            responses={200: s.RequestSerializer, **ERRORS},
        )
        def post(self, request, reference):
            footage_request = get_visible_request_or_404(request.user, reference)
            arguments = {}
            if form_class is not None:
                data = _json_object(request)
                posted = to_form(data, footage_request) if to_form else _text_fields(data, fields)
                form = form_class.posted(posted, footage_request)
                if not form.is_valid():
                    raise invalid(_form_fields(form))
                arguments = form.arguments()
            service(actor=request.user, footage_request=footage_request, http_request=request._request, **arguments)
            footage_request.refresh_from_db()
            return Response(_request_body(footage_request))

    Action.people_only = people_only
    Action.__name__ = Action.__qualname__ = operation_id.title().replace("_", "")
    return Action


def _review_form(data, footage_request):
    posted = _text_fields(data, ("reason",))
    recommendation = data.get("recommendation")
    if not isinstance(recommendation, str):
        raise invalid({"recommendation": [_("Choose approve or reject.")]})
    posted["recommendation"] = recommendation
    return posted


def _approve_form(data, footage_request):
    """The approval's JSON ({"reason", "items": [{"id", "drop", "start", "end"}]}) as the page's approval form posts it."""
    posted = _text_fields(data, ("reason",))
    items = data.get("items") or []
    if not isinstance(items, list):
        raise invalid({"items": [_("Give the items as a list.")]})
    known = set(footage_request.items.values_list("pk", flat=True))
    for number, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or item["id"] not in known:
            raise invalid({f"items[{number}].id": [_("This item is not part of the request.")]})
        serializer = s.NarrowItemSerializer(data=item)
        if not serializer.is_valid():
            raise invalid({f"items[{number}].{name}": [str(m) for m in messages] for name, messages in serializer.errors.items()})
        values = serializer.validated_data
        if values.get("drop"):
            posted[f"drop_{item['id']}"] = "on"
        for edge in ("start", "end"):
            if values.get(edge) is not None:
                posted[f"{edge}_{item['id']}"] = _local(values[edge])
    return posted


RequestReview = action_view(
    workflow.request_review,
    form_class=ReviewForm,
    to_form=_review_form,
    request_serializer=s.ReviewInputSerializer,
    summary="Thẩm định: đề xuất phê duyệt hoặc từ chối",
    operation_id="request_review",
    people_only=True,
)
RequestAskInfo = action_view(
    workflow.request_ask_info,
    form_class=AskInfoForm,
    fields=("question",),
    request_serializer=s.QuestionInputSerializer,
    summary="Yêu cầu bổ sung thông tin",
    operation_id="request_ask_info",
    people_only=True,
)
RequestApprove = action_view(
    workflow.request_approve,
    form_class=ApproveForm,
    to_form=_approve_form,
    request_serializer=s.ApproveInputSerializer,
    summary="Phê duyệt (có thể thu hẹp phạm vi)",
    description="Ký phê duyệt; mỗi dòng trong items có thể bỏ (drop) hoặc rút ngắn khung giờ (start, end).",
    operation_id="request_approve",
    people_only=True,
)
RequestReject = action_view(
    workflow.request_reject,
    form_class=RejectForm,
    fields=("reason",),
    request_serializer=s.ReasonInputSerializer,
    summary="Từ chối",
    operation_id="request_reject",
    people_only=True,
)
RequestComment = action_view(
    workflow.request_comment,
    form_class=CommentForm,
    fields=("body",),
    request_serializer=s.CommentInputSerializer,
    summary="Trao đổi / trả lời câu hỏi",
    description="Thêm một trao đổi; khi yêu cầu đang chờ bổ sung, đây là câu trả lời của đơn vị yêu cầu.",
    operation_id="request_comment",
)
RequestReceipt = action_view(
    workflow.request_close,
    summary="Xác nhận đã nhận dữ liệu",
    description="Cán bộ của đơn vị yêu cầu xác nhận đã nhận gói dữ liệu; yêu cầu được đóng.",
    operation_id="request_receipt",
    scopes=(Scope.RELEASES_RECEIVE,),
)
