"""Sign-in in two steps (password, then the second factor), enrolment of one's own devices, and recovery.

Privileged accounts (governance.second_factor) pass the second factor after
their password; anyone who enrolled a device is asked for it too. A device can
be added or removed only by a session that passed the second factor, or by an
account that has none yet (its first enrolment).
"""

import base64
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from accounts import services
from accounts.forms import CodeForm, ResetForm, TotpConfirmForm, UnlockForm
from accounts.permissions import ensure_can_manage_signins
from accounts.qr import qr_png
from accounts.services import SecondFactorError
from accounts.signin import locked_signins, signin_unlock
from governance.second_factor import requires_second_factor


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return reverse("home")


def _with_next(name, next_url, **kwargs):
    return f"{reverse(name, kwargs=kwargs or None)}?{urlencode({'next': next_url})}"


class SigninView(auth_views.LoginView):
    """The password step; accounts with a second factor (or needing one) go on to it."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if requires_second_factor(user) or user_has_device(user):
            return redirect(_with_next("accounts:second-factor", self.get_success_url()))
        return response


def _may_change_devices(user):
    """A session that passed the second factor, or an account with no device yet, may add or remove devices."""
    return user.is_verified() or not user_has_device(user)


def _code_device(user, code):
    """The authenticator app or backup code that accepts `code`, else None; and a throttling delay, if any."""
    wait = None
    # The devices are read FOR UPDATE, so two requests cannot spend the same code at once; that needs a
    # transaction, which also commits the throttling counters a wrong code raises.
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if not isinstance(device, (TOTPDevice, StaticDevice)):
                continue
            allowed, details = device.verify_is_allowed()
            if not allowed:
                wait = (details or {}).get("locked_until")
                continue
            if device.verify_token(code):
                return device, None
    return None, wait


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def second_factor(request):
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    if not user_has_device(user):
        return redirect(_with_next("accounts:setup", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, wait = _code_device(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            services.second_factor_record_verified(actor=user, device=device, http_request=request)
            return redirect(next_url)
        if wait:
            form.add_error("code", _("Too many wrong codes: wait a minute, then type the newest code."))
        else:
            form.add_error("code", _("This code is not valid. Type the newest code from your app, or an unused backup code."))
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "next": next_url,
            "has_codes": TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            or StaticDevice.objects.filter(user=user, confirmed=True).exists(),
            "has_keys": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def setup(request):
    user = request.user
    devices = services.devices_of(user)
    backup = next((d for d in devices if isinstance(d, StaticDevice)), None)
    return render(
        request,
        "accounts/setup.html",
        {
            "apps": [d for d in devices if isinstance(d, TOTPDevice)],
            "keys": [d for d in devices if isinstance(d, WebAuthnCredential)],
            "backup": backup,
            "backup_left": backup.token_set.count() if backup else 0,
            "may_change": _may_change_devices(user),
            "required": requires_second_factor(user),
            "verified": user.is_verified(),
            "next": _next_url(request),
        },
    )


def _refuse_unverified(request):
    messages.error(request, _("Confirm your sign-in with your second factor before you change your devices."))
    return redirect(_with_next("accounts:second-factor", reverse("accounts:setup")))


@never_cache
@login_required
@require_POST
def totp_new(request):
    if not _may_change_devices(request.user):
        return _refuse_unverified(request)
    device = services.totp_begin(actor=request.user)
    return redirect(_with_next("accounts:totp-confirm", _next_url(request), pk=device.pk))


def _pending_totp(request, pk):
    return get_object_or_404(TOTPDevice, pk=pk, user=request.user, confirmed=False)


def _grouped_secret(device):
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def totp_confirm(request, pk):
    device = _pending_totp(request, pk)
    next_url = _next_url(request)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_confirm(actor=request.user, device=device, code=form.cleaned_data["code"], http_request=request)
        except SecondFactorError as refusal:
            form.add_error("code", str(refusal))
        else:
            messages.success(request, _("Your authenticator app is set up; your sign-in is confirmed."))
            if codes:
                return render(request, "accounts/backup_codes.html", {"codes": codes, "next": next_url, "first": True})
            return redirect(next_url)
    return render(
        request,
        "accounts/totp_confirm.html",
        {"device": device, "form": form, "secret": _grouped_secret(device), "next": next_url},
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def totp_qr(request, pk):
    device = _pending_totp(request, pk)
    return HttpResponse(qr_png(device.config_url), content_type="image/png")


@never_cache
@login_required
@require_POST
def backup_new(request):
    if not request.user.is_verified():
        return _refuse_unverified(request)
    codes = services.backup_codes_replace(actor=request.user, http_request=request)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("accounts:setup")})


@never_cache
@login_required
@require_POST
def device_remove(request, kind, pk):
    if not request.user.is_verified():
        return _refuse_unverified(request)
    model = {"totp": TOTPDevice, "webauthn": WebAuthnCredential, "backup_codes": StaticDevice}.get(kind)
    if model is None:
        raise Http404
    device = get_object_or_404(model, pk=pk, user=request.user)
    services.device_remove(actor=request.user, device=device, http_request=request)
    messages.success(request, _("The device was removed."))
    return redirect("accounts:setup")


# Security keys and passkeys: django-otp-webauthn's ceremonies, with their ledger events. -----------------------


class WebAuthnRegistrationComplete(webauthn_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        device = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
        services.webauthn_record_enrolled(actor=self.request.user, device=device, http_request=self.request)
        return response


class WebAuthnAuthenticationComplete(webauthn_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        services.second_factor_record_verified(actor=self.request.user, device=device, http_request=self.request)


# System administrators: unlock sign-ins, reset a lost second factor. -----------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def security(request):
    ensure_can_manage_signins(request.user)
    reset_form = ResetForm(request.POST if request.POST.get("action") == "reset" else None)
    if request.method == "POST":
        if request.POST.get("action") == "reset":
            if reset_form.is_valid():
                try:
                    services.second_factor_reset(
                        actor=request.user,
                        user=reset_form.user,
                        reason=reset_form.cleaned_data["reason"],
                        http_request=request,
                    )
                except SecondFactorError as refusal:
                    reset_form.add_error(None, str(refusal))
                else:
                    messages.success(
                        request,
                        _("The second factor of %(user)s was reset; they enrol again at their next sign-in.")
                        % {"user": reset_form.user.username},
                    )
                    return redirect("accounts:security")
        else:
            unlock = UnlockForm(request.POST)
            if unlock.is_valid():
                signin_unlock(
                    actor=request.user,
                    username=unlock.cleaned_data["username"],
                    address=unlock.cleaned_data["address"] or "",
                    http_request=request,
                )
                messages.success(request, _("Sign-in is unlocked."))
            else:
                for error in unlock.non_field_errors():
                    messages.error(request, error)
            return redirect("accounts:security")
    accounts, addresses = locked_signins()
    return render(request, "accounts/security.html", {"reset_form": reset_form, "accounts": accounts, "addresses": addresses})


def locked_out(request, original_response=None, credentials=None):
    """The page axes answers with when a sign-in is refused by the lock-out (AXES_LOCKOUT_CALLABLE)."""
    return render(request, "accounts/locked_out.html", {"lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES}, status=429)
