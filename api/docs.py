"""The API's documentation page: the OpenAPI document drawn by Swagger UI, from our own static files (no CDN)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods


@login_required
@require_http_methods(["GET", "HEAD"])
def documentation(request):
    return render(request, "api/docs.html")
