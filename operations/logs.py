"""Structured logs: with LOG_FORMAT=json every line is one JSON object (python-json-logger) carrying the request it
was written for: its id (X-Request-ID, echoed in the answer) and, on a request's pages, the request's reference.

RequestContextMiddleware sets both for the time of a request; RequestContextFilter adds them to every record, the
Celery workers' included (empty there)."""

import contextvars
import logging
import re
import time
import uuid

request_id = contextvars.ContextVar("request_id", default="")
reference = contextvars.ContextVar("reference", default="")

# An id a reverse proxy may hand us: short, plain characters only; anything else is replaced by our own.
GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = logging.getLogger("operations.requests")


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id.get()
        record.reference = reference.get()
        return True


class RequestContextMiddleware:
    """Names each request (its X-Request-ID, given or made) and, once its view is known, the footage request it is
    about; with LOG_FORMAT=json, one line per request: method, path, status, duration."""

    def __init__(self, get_response):
        self.get_response = get_response
        from django.conf import settings

        self.log_each_request = settings.LOG_FORMAT == "json"

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if GIVEN_ID.match(given) else uuid.uuid4().hex
        id_token, ref_token = request_id.set(rid), reference.set("")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            if self.log_each_request:
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            request_id.reset(id_token)
            reference.reset(ref_token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        value = view_kwargs.get("reference")
        if isinstance(value, str):
            reference.set(value[:40])
        return None
