"""Idle sessions end; admin pages and refused acts send a session to its second factor."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from governance.second_factor import SecondFactorRequired, second_factor_message, second_factor_refusal

LAST_ACTIVITY = "accounts_last_activity"
# The time of last activity is written at most this often, not on every request.
ACTIVITY_RESOLUTION_SECONDS = 60

# Admin pages a session reaches before its second factor: signing in and out.
ADMIN_OPEN_VIEWS = {"login", "logout"}


class IdleTimeoutMiddleware:
    """A signed-in session unused for SESSION_IDLE_MINUTES is signed out; the next page asks for the password."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity. Please sign in again.")
                    % {"minutes": settings.SESSION_IDLE_MINUTES},
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


def _second_factor_redirect(request, next_url):
    messages.warning(request, second_factor_message())
    return redirect(f"{reverse('accounts:second-factor')}?{urlencode({'next': next_url})}")


class SecondFactorMiddleware:
    """Every admin page needs a session that passed the second factor; so does any act refused for want of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or "admin" not in match.namespaces or match.url_name in ADMIN_OPEN_VIEWS:
            return None
        if not request.user.is_authenticated or not second_factor_refusal(request.user):
            return None
        return _second_factor_redirect(request, request.get_full_path() if request.method == "GET" else reverse("admin:index"))

    def process_exception(self, request, exception):
        if not isinstance(exception, SecondFactorRequired):
            return None
        if request.method == "GET":
            next_url = request.get_full_path()
        else:
            referer = request.META.get("HTTP_REFERER", "")
            safe = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()})
            next_url = referer if safe and referer else reverse("home")
        return _second_factor_redirect(request, next_url)
