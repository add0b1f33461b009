"""One shape for every error the API answers, with a stable machine code and a message in the caller's language:

    {"error": {"code": "not_found", "message": "…", "fields": {"purpose": ["…"]}}}

`fields` appears only where input was refused field by field."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from governance.second_factor import SecondFactorRequired, second_factor_message
from requests.permissions import WorkflowRefused


class ApiError(exceptions.APIException):
    """An error with its own code and status (e.g. a reused idempotency key)."""

    def __init__(self, code, message, status_code=status.HTTP_400_BAD_REQUEST, fields=None):
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code
        self.fields = fields


def error_body(code, message, fields=None):
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _messages(detail):
    """A DRF detail (string, list or dict of them) as a list of strings."""
    if isinstance(detail, dict):
        return [str(m) for value in detail.values() for m in _messages(value)]
    if isinstance(detail, (list, tuple)):
        return [str(m) for value in detail for m in _messages(value)]
    return [str(detail)]


def _fields(detail):
    if not isinstance(detail, dict):
        return None
    return {str(name): _messages(value) for name, value in detail.items()}


CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
}


def handle(exc, context):
    """DRF's exception handler, answering in the one shape."""
    if isinstance(exc, ApiError):
        return Response(error_body(exc.error_code, exc.detail, exc.fields), status=exc.status_code)
    if isinstance(exc, SecondFactorRequired):
        return Response(error_body("second_factor_required", exc.message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, WorkflowRefused) and str(exc.message) == str(second_factor_message()):
        # The rule found nothing against the act but the session's want of a second factor (second_factor_refusal).
        return Response(error_body("second_factor_required", exc.message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, WorkflowRefused):
        # A rule of the workflow refused the act on a request the caller can see (its state, its role, its agency).
        return Response(error_body("refused", exc.message), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else None
        return Response(error_body("invalid", " ".join(exc.messages), fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_handler(exc, context)
    if response is None:
        return None
    code = next((code for kind, code in CODES.items() if isinstance(exc, kind)), "error")
    detail = exc.detail
    fields = _fields(detail) if isinstance(exc, exceptions.ValidationError) else None
    if isinstance(exc, exceptions.ValidationError):
        message = _("The input was refused; see the fields.") if fields else " ".join(_messages(detail))
    else:
        message = " ".join(_messages(detail))
    response.data = error_body(code, message, fields)
    return response
