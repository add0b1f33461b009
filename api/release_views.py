"""Releases through the API: the export's progress, the manifest, personal download links, the download itself (the
same expiring, counted, logged links as the pages) and the check of a file's SHA-256 against every release."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from api import serializers as s
from api.errors import ApiError
from api.models import Scope
from api.parsers import JSONParser
from api.views import ERRORS, ApiView, _form_fields, invalid
from governance.permissions import ensure_can_read_governance
from requests import permissions, releases, services
from requests.export import failure_text, stage_text
from requests.forms import VerifyForm
from requests.selectors import get_visible_request_or_404, release_of
from requests.views import package_response

# Why a download link was refused, as the API says it (the ledger keeps the same reason).
REFUSALS = {
    "tampered": "link_not_valid",
    "unknown link": "link_not_valid",
    "someone else's link": "link_not_valid",
    "no longer a recipient": "link_not_valid",
    "unknown file": "link_not_valid",
    "expired": "link_expired",
    "revoked": "link_revoked",
    "download limit reached": "download_limit_reached",
    "purged": "package_purged",
    "missing": "package_purged",
}


def release_body(footage_request, user):
    body = {
        "reference": footage_request.reference,
        "status": footage_request.status,
        "status_label": str(footage_request.get_status_display()),
        "progress": footage_request.export_progress,
        "stage": stage_text(footage_request.export_stage),
        "error": failure_text(footage_request.export_error),
        "release": None,
    }
    release = release_of(footage_request)
    if release is None or not permissions.can_see_release(user, footage_request):
        return body
    body["release"] = {
        "released_at": s.moment(release.created_at),
        "package_sha256": release.package_sha256,
        "package_size": release.package_size,
        "manifest_sha256": release.manifest_sha256,
        "handover_sha256": release.handover_sha256,
        "gaps": release.gaps,
        "damaged_files": release.damaged_files,
        "purge_after": s.moment(release.purge_after),
        "purged": release.purged_at is not None,
        "files": [
            {
                "name": file.name,
                "kind": file.kind,
                "sha256": file.sha256,
                "size": file.size,
                "camera": file.camera_code,
                "first_timestamp": s.moment(file.first_timestamp),
                "last_timestamp": s.moment(file.last_timestamp),
                "decoded": file.decoded,
                "frames_in_file": file.frames_in_file,
                "frames_decoded": file.frames_decoded,
                "damage": file.damage or [],
                "not_checked": file.not_checked or [],
                "redacted_from": file.redacted_from or None,
            }
            for file in release.files.all()
        ],
    }
    return body


class ReleaseDetail(ApiView):
    required_scopes = (Scope.RELEASES_READ,)

    @extend_schema(
        operation_id="release_get",
        summary="Tiến độ trích xuất và bản kê gói dữ liệu",
        description=(
            "Trạng thái và tiến độ trích xuất của yêu cầu; khi đã bàn giao: các tệp của gói, mã SHA-256, kết quả giải mã "
            "kiểm tra từng tệp (decoded, frames) và các đoạn hỏng nếu có."
        ),
        responses={200: s.ReleaseStatusSerializer, **ERRORS},
    )
    def get(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        services.request_record_view(actor=request.user, footage_request=footage_request, http_request=request._request)
        return Response(release_body(footage_request, request.user))


class ReleaseLink(ApiView):
    required_scopes = (Scope.RELEASES_RECEIVE,)

    @extend_schema(
        operation_id="release_link",
        summary="Lấy đường dẫn tải cá nhân",
        description="Đường dẫn dành riêng cho người nhận, có hạn và giới hạn số lần tải; mỗi lần cấp được ghi vào nhật ký kiểm toán.",
        request=None,
        responses={201: s.DownloadLinkSerializer, **ERRORS},
    )
    def post(self, request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        grant, token = releases.release_link_issue(
            actor=request.user, footage_request=footage_request, http_request=request._request
        )
        return Response(
            {
                "download_url": reverse("api:download", args=[token]),
                "expires_at": s.moment(grant.expires_at),
                "max_downloads": grant.max_downloads,
            },
            status=status.HTTP_201_CREATED,
        )


class Download(ApiView):
    required_scopes = (Scope.RELEASES_RECEIVE,)

    @extend_schema(
        operation_id="release_download",
        summary="Tải gói dữ liệu (hoặc một tệp)",
        parameters=[OpenApiParameter("file", str, description="Tên một tệp trong gói; bỏ trống để tải cả gói (.zip).")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, token):
        file_name = request.query_params.get("file") or None
        try:
            release, file_name = releases.release_download_open(
                actor=request.user, token=token, file_name=file_name, http_request=request._request
            )
        except releases.DownloadRefused as refusal:
            raise _refused(refusal.reason, gone=refusal.gone) from None
        response = package_response(release, file_name)
        if response is None:
            raise _refused("missing", gone=True)
        return response


def _refused(reason, *, gone):
    messages = {
        "link_not_valid": _("This download link is not valid for you."),
        "link_expired": _("This download link has expired; take a new one."),
        "link_revoked": _("This download link was revoked."),
        "download_limit_reached": _("This link was used as many times as it may be; take a new one."),
        "package_purged": _("The exported package is no longer kept."),
    }
    code = REFUSALS.get(reason, "link_not_valid")
    return ApiError(code, messages[code], status.HTTP_410_GONE if gone else status.HTTP_404_NOT_FOUND)


class Verify(ApiView):
    parser_classes = [JSONParser]
    required_scopes = (Scope.RELEASES_READ,)

    @extend_schema(
        operation_id="release_verify",
        summary="Kiểm tra mã SHA-256 của một tệp",
        description="Tệp có mã SHA-256 này có phải là một tệp đã được bàn giao không; mỗi lần kiểm tra được ghi vào nhật ký kiểm toán.",
        request=s.VerifyInputSerializer,
        responses={200: s.VerifyResultSerializer, **ERRORS},
    )
    def post(self, request):
        ensure_can_read_governance(request.user)
        if not isinstance(request.data, dict) or not isinstance(request.data.get("sha256"), str):
            raise invalid({"sha256": [_("A SHA-256 is 64 hexadecimal characters.")]})
        form = VerifyForm({"sha256": request.data.get("sha256", "")})
        if not form.is_valid():
            raise invalid(_form_fields(form))
        matches = releases.release_verify(actor=request.user, sha256=form.cleaned_data["sha256"], http_request=request._request)
        return Response(
            {
                "sha256": form.cleaned_data["sha256"].strip().lower(),
                "matches": [
                    {
                        "reference": match.release.footage_request.reference,
                        "file": match.name,
                        "kind": match.kind,
                        "size": match.size,
                        # The original of a redacted copy was never handed over: it was kept when the copy was released.
                        "released_at": s.moment(match.release.created_at),
                        "handed_over": match.kind != "original",
                    }
                    for match in matches
                ],
            }
        )
