"""The pages an agency's administrator uses to register webhook endpoints, follow their deliveries and deactivate them.

The same door as the service account pages: only `can_manage_service_accounts` with a session that passed the
second factor gets in, anyone else finds nothing (404); endpoints are looked up among the administrator's own
agency's, so another agency's are never seen. The services in api.webhooks decide; these pages ask and show.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api.models import WebhookDelivery
from api.pages import error_texts, manager
from api.webhooks import MAX_URL_LENGTH, endpoint_create, endpoint_deactivate, endpoints_managed_by, validate_url

RECENT_DELIVERIES = 10


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=MAX_URL_LENGTH,
        help_text=gettext_lazy("The https:// address of your system that will receive the notifications."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("What the system is, e.g. the agency's case management software."),
    )

    def clean_url(self):
        return validate_url(self.cleaned_data["url"])


@login_required
@require_http_methods(["GET", "HEAD"])
def webhooks(request):
    user = manager(request)
    endpoints = (
        endpoints_managed_by(user)
        .select_related("created_by")
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        )
    )
    rows = [{"endpoint": endpoint, "deliveries": list(endpoint.deliveries.all()[:RECENT_DELIVERIES])} for endpoint in endpoints]
    return render(request, "api/webhooks.html", {"rows": rows, "recent": RECENT_DELIVERIES})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_new(request):
    """Register an endpoint. The answer shows its signing secret once and is never cached."""
    user = manager(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = endpoint_create(
                user, form.cleaned_data["url"], form.cleaned_data["description"], http_request=request
            )
        except (ValidationError, PermissionDenied) as refusal:
            for text in error_texts(refusal, _("You may not manage this webhook endpoint.")):
                form.add_error(None, text)
        else:
            return render(request, "api/webhooks_created.html", {"endpoint": endpoint, "secret": secret})
    return render(request, "api/webhooks_new.html", {"form": form})


@login_required
@require_http_methods(["POST"])
def webhook_deactivate(request, pk):
    user = manager(request)
    endpoint = get_object_or_404(endpoints_managed_by(user), pk=pk)
    try:
        endpoint = endpoint_deactivate(user, endpoint, http_request=request)
    except PermissionDenied as refusal:
        for text in error_texts(refusal, _("You may not manage this webhook endpoint.")):
            messages.error(request, text)
    else:
        messages.success(
            request,
            _("The endpoint %(url)s is deactivated: it receives no more notifications.") % {"url": endpoint.url},
        )
    return redirect("api:webhooks")
