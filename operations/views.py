"""Liveness, readiness and metrics for the people and machines that run the service.

/healthz answers whoever asks, and says only that the process answers. /readyz and /metrics say more (queue names,
the ledger's head, free space): they answer the addresses of HEALTH_ALLOWED_NETWORKS (this machine by default) and
callers that present HEALTH_TOKEN; anyone else gets the same 404 as an address that does not exist.
"""

import functools
import ipaddress
import secrets

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from operations.checks import readiness
from operations.metrics import metrics_text

READ = ("GET", "HEAD")


def _networks():
    return [ipaddress.ip_network(network, strict=False) for network in settings.HEALTH_ALLOWED_NETWORKS]


def _allowed(request) -> bool:
    token = settings.HEALTH_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and secrets.compare_digest(given[len("Bearer ") :].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks())


@never_cache
def healthz(request):
    if request.method not in READ:
        return HttpResponseNotAllowed(READ)
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


def for_probes(view):
    """Only for the allowed callers (anyone else gets a 404, whatever the method), read-only, never cached."""

    @never_cache
    @functools.wraps(view)
    def guarded(request):
        if not _allowed(request):
            raise Http404
        if request.method not in READ:
            return HttpResponseNotAllowed(READ)
        return view(request)

    return guarded


@for_probes
def readyz(request):
    results = readiness()
    ready = all(check.ok for check in results)
    body = {
        "ready": ready,
        "failing": [check.name for check in results if not check.ok],
        "checks": {check.name: check.as_json() for check in results},
        "checked_at": timezone.now().isoformat(),
    }
    return JsonResponse(body, status=200 if ready else 503, json_dumps_params={"ensure_ascii": False})


@for_probes
def metrics(request):
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
