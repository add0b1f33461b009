"""The edge of every request: the headers every response carries, and input no view should ever see.

Input is checked here once, not per view: a NUL byte or another control
character in the path, a query parameter, a form field or an uploaded
file's name is refused with a translated 400 page before any view or query
runs (PostgreSQL refuses NUL in text and would answer with a server error).
Tabs and line breaks are allowed in form fields (and JSON bodies) only, where
multi-line text lives. A request body larger than its page accepts is refused (413) before
it is read.
"""

import re

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

# Unicode control characters (category Cc): C0, DEL and C1.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same, less tab, line feed and carriage return: what multi-line form text may hold.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same in a JSON body, where a string holds them escaped (\u0000) or, invalidly, as they are.
CONTROL_IN_JSON = re.compile(
    rb"\\u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]", re.IGNORECASE
)

# Pages that take an upload, by URL name, and the setting naming the largest file each accepts. Every other page
# takes form fields only, at most DATA_UPLOAD_MAX_MEMORY_SIZE.
UPLOAD_LIMITS = {
    "requests:new": "REQUEST_ATTACHMENT_MAX_BYTES",
    "requests:edit": "REQUEST_ATTACHMENT_MAX_BYTES",
    "requests:verify": "VERIFY_UPLOAD_MAX_BYTES",
    "requests:verify-release": "VERIFY_UPLOAD_MAX_BYTES",
    "api:request-letter": "REQUEST_ATTACHMENT_MAX_BYTES",
    "admin:governance_camera_import": "CAMERA_IMPORT_MAX_BYTES",
}
# Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 256 * 1024


# The machine codes of these refusals in the integration API's error shape (api.errors).
API_CODES = {400: "invalid_characters", 413: "too_large"}


def refusal(request, *, status, message, title=None, code=None):
    """A small translated error page, rendered without the request's context: it must not fail in turn. The API
    (/api/) is answered in its own JSON shape."""
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    if request.path.startswith("/api/"):
        with translation.override(language):
            body = {"error": {"code": code or API_CODES.get(status, "refused"), "message": str(message)}}
        response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
        response["Content-Language"] = language
        return response
    with translation.override(language):
        body = render_to_string(
            "400.html", {"status": status, "title": title or _("The request was refused"), "message": message}
        )
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return response


class HeadersMiddleware:
    """Permissions-Policy on every response: no page may use the camera, microphone, location, payment, USB …"""

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in settings.PERMISSIONS_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.value)
        return response


class InputEdgeMiddleware:
    """Refuses control characters in the path, the query and the form fields, and bodies larger than the page takes.

    Placed before the session middleware: a cookie holding a control character
    is dropped (as if the browser had not sent it) rather than looked up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [name for name, value in request.COOKIES.items() if CONTROL.search(name) or CONTROL.search(value)]:
            del request.COOKIES[name]
        if CONTROL.search(request.path) or _any_control(request.GET.lists(), CONTROL, CONTROL):
            return self._refuse_control(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in ("POST", "PUT", "PATCH"):
            return None
        limit = self._body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + FORM_OVERHEAD_BYTES:
            return refusal(
                request,
                status=413,
                title=_("Too large"),
                message=_("What was sent is %(size)s; this page accepts files of at most %(limit)s. Nothing was saved.")
                % {"size": filesizeformat(length), "limit": filesizeformat(limit)},
            )
        if request.content_type == "application/json":
            if CONTROL_IN_JSON.search(request.body):
                return self._refuse_control(request)
            return None
        try:
            fields, files = request.POST, request.FILES
        except MultiPartParserError:
            return refusal(
                request,
                status=400,
                message=_("What was sent could not be read as a form (its multipart body is malformed). Nothing was saved."),
                code="parse_error",
            )
        if _any_control(fields.lists(), CONTROL, CONTROL_IN_TEXT) or any(
            CONTROL.search(name) or any(CONTROL.search(upload.name or "") for upload in uploads)
            for name, uploads in files.lists()
        ):
            return self._refuse_control(request)
        return None

    @staticmethod
    def _body_limit(request):
        match = request.resolver_match
        setting = UPLOAD_LIMITS.get(match.view_name) if match else None
        if setting:
            return getattr(settings, setting)
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @staticmethod
    def _refuse_control(request):
        return refusal(
            request,
            status=400,
            message=_(
                "The address or a field of the form holds a control character (such as a NUL byte) that text may not "
                "contain. Remove it and try again. Nothing was saved."
            ),
        )


def _any_control(lists, key_pattern, value_pattern):
    for key, values in lists:
        if key_pattern.search(key):
            return True
        for value in values:
            if isinstance(value, str) and value_pattern.search(value):
                return True
    return False
