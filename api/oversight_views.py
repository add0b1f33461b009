"""Reports and offline verification bundles through the API, for a person who passed the second factor: both are copies
of the ledger that leave the application, which a service account never takes. The files themselves are downloaded
through the pages' own links (each download a ledger event)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api import serializers as s
from api.actions import _json_object, _text_fields
from api.errors import ApiError
from api.parsers import JSONParser
from api.views import ERRORS, ApiView, _form_fields, invalid
from governance.models import Agency, Area, LegalBasis
from oversight.bundles import bundle_request
from oversight.forms import BundleForm, ReportForm
from oversight.models import BundleRequest, Report
from oversight.permissions import (
    BundleRefused,
    ReportRefused,
    ensure_can_read_ledger,
    get_visible_bundle_or_404,
    get_visible_report_or_404,
    report_jurisdiction,
)
from oversight.reports import report_request


def _code_to_pk(model, field, code):
    """A code (agency, area, legal basis) as the pages' form takes it: its primary key ("0" for none such)."""
    if not code:
        return ""
    found = model.objects.filter(**{field: code}).values_list("pk", flat=True).first()
    return str(found) if found else "0"


def report_body(report):
    ready = report.status == Report.Status.READY
    return {
        "id": report.pk,
        "status": report.status,
        "progress": report.progress,
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "agency": report.agency.code if report.agency_id else None,
        "area": report.area.code if report.area_id else None,
        "legal_basis": report.legal_basis.code if report.legal_basis_id else None,
        "requested_at": s.moment(report.requested_at),
        "finished_at": s.moment(report.finished_at),
        "pages": report.pages,
        "releases": report.releases,
        "pdf_sha256": report.pdf_sha256,
        "csv_sha256": report.csv_sha256,
        "pdf_url": reverse("oversight:report-file", args=[report.pk, "pdf"]) if ready and report.pdf_path else None,
        "csv_url": reverse("oversight:report-file", args=[report.pk, "csv"]) if ready and report.csv_path else None,
        "web_url": reverse("oversight:report", args=[report.pk]),
    }


def bundle_body(bundle):
    ready = bundle.status == BundleRequest.Status.READY
    return {
        "id": bundle.pk,
        "status": bundle.status,
        "progress": bundle.progress,
        "date_from": bundle.date_from.isoformat(),
        "date_to": bundle.date_to.isoformat(),
        "requested_at": s.moment(bundle.requested_at),
        "finished_at": s.moment(bundle.finished_at),
        "events": bundle.event_count,
        "zip_sha256": bundle.zip_sha256,
        "zip_url": reverse("oversight:bundle-file", args=[bundle.pk]) if ready else None,
        "web_url": reverse("oversight:bundle", args=[bundle.pk]),
    }


class ReportCollection(ApiView):
    parser_classes = [JSONParser]
    people_only = True

    @extend_schema(
        operation_id="report_request",
        summary="Yêu cầu lập báo cáo giám sát",
        description=(
            "Lập báo cáo giám sát cho một khoảng thời gian (PDF và bảng CSV), trong phạm vi giám sát của người gọi. "
            "Chỉ người đã xác thực hai lớp; tài khoản dịch vụ không được lấy bản sao nhật ký kiểm toán."
        ),
        request=s.ReportInputSerializer,
        responses={202: s.ReportSerializer, **ERRORS},
    )
    def post(self, request):
        ensure_can_read_ledger(request.user)
        data = _json_object(request)
        text = _text_fields(data, ("date_from", "date_to", "agency", "area", "legal_basis"))
        form = ReportForm(
            {
                "date_from": text["date_from"],
                "date_to": text["date_to"],
                "agency": _code_to_pk(Agency, "code", text["agency"]),
                "area": _code_to_pk(Area, "code", text["area"]),
                "legal_basis": _code_to_pk(LegalBasis, "code", text["legal_basis"]),
            },
            jurisdiction=report_jurisdiction(request.user),
        )
        if not form.is_valid():
            raise invalid(_form_fields(form))
        try:
            report = report_request(actor=request.user, http_request=request._request, **form.cleaned_data)
        except ReportRefused as refusal:
            raise ApiError("refused", str(refusal), status.HTTP_409_CONFLICT) from None
        return Response(report_body(report), status=status.HTTP_202_ACCEPTED)


class ReportDetail(ApiView):
    people_only = True

    @extend_schema(
        operation_id="report_get", summary="Tiến độ và tệp của một báo cáo", responses={200: s.ReportSerializer, **ERRORS}
    )
    def get(self, request, pk):
        ensure_can_read_ledger(request.user)
        return Response(report_body(get_visible_report_or_404(request.user, pk)))


class BundleCollection(ApiView):
    parser_classes = [JSONParser]
    people_only = True

    @extend_schema(
        operation_id="bundle_request",
        summary="Yêu cầu gói kiểm chứng ngoại tuyến",
        description="Gói các sự kiện nhật ký kiểm toán của một khoảng thời gian cùng các mốc đã ký, để kiểm chứng ngoại tuyến.",
        request=s.PeriodInputSerializer,
        responses={202: s.BundleSerializer, **ERRORS},
    )
    def post(self, request):
        ensure_can_read_ledger(request.user)
        data = _json_object(request)
        form = BundleForm(_text_fields(data, ("date_from", "date_to")))
        if not form.is_valid():
            raise invalid(_form_fields(form))
        try:
            bundle = bundle_request(actor=request.user, http_request=request._request, **form.cleaned_data)
        except BundleRefused as refusal:
            raise ApiError("refused", str(refusal), status.HTTP_409_CONFLICT) from None
        return Response(bundle_body(bundle), status=status.HTTP_202_ACCEPTED)


class BundleDetail(ApiView):
    people_only = True

    @extend_schema(
        operation_id="bundle_get", summary="Tiến độ và tệp của một gói kiểm chứng", responses={200: s.BundleSerializer, **ERRORS}
    )
    def get(self, request, pk):
        ensure_can_read_ledger(request.user)
        return Response(bundle_body(get_visible_bundle_or_404(request.user, pk)))
