"""The pages an agency's administrator uses to create service accounts and to issue and revoke their API tokens.

Only `can_manage_service_accounts` with a session that passed the second factor reaches them; anyone else finds
nothing (404). Accounts are looked up among `service_accounts_managed_by(user)` and tokens among theirs, so another
agency's accounts are never seen. The services in api.tokens decide; these pages only ask and show their answer.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api.models import ApiToken, Scope
from api.tokens import (
    MAX_TOKEN_DAYS,
    TOKEN_START,
    can_manage_service_accounts,
    scopes_allowed,
    service_account_create,
    service_accounts_managed_by,
    token_issue,
    token_revoke,
)
from governance.models import SERVICE_ACCOUNT_ROLES, Role
from governance.permissions import roles_grantable_by
from governance.second_factor import SecondFactorRequired, second_factor_refusal

DEFAULT_TOKEN_DAYS = 90


def manager(request):
    """The signed-in administrator, or 404 for anyone who manages no service account (nor webhook endpoint); the
    second factor first. The door of every page of this app."""
    user = request.user
    if not can_manage_service_accounts(user):
        raise Http404
    if second_factor_refusal(user):
        raise SecondFactorRequired()
    return user


def _account(user, username):
    return get_object_or_404(service_accounts_managed_by(user).select_related("agency"), username=username)


def _tokens_of(user):
    return ApiToken.objects.filter(account__in=service_accounts_managed_by(user)).select_related(
        "account", "created_by", "revoked_by"
    )


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


def _token_rows(tokens, now):
    return [
        {
            "token": token,
            "shown_prefix": f"{TOKEN_START}{token.prefix}…",
            "scopes": [(scope, _label(Scope, scope)) for scope in token.scopes],
            "revoked": token.revoked_at is not None,
            "expired": token.revoked_at is None and token.expires_at <= now,
            "live": token.revoked_at is None and token.expires_at > now,
        }
        for token in tokens
    ]


def _role_labels(account):
    held = {membership.role for membership in account.memberships.all()}
    return [role.label for role in Role if role in held]


def error_texts(refusal, fallback=None):
    """A service's refusal as the messages a page shows."""
    if isinstance(refusal, ValidationError):
        return refusal.messages
    return [str(refusal) or fallback or _("You may not manage this service account.")]


# Forms ----------------------------------------------------------------------------------------------------------


class ServiceAccountForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=150,
        help_text=gettext_lazy("The system that will use the account, e.g. the agency's case management software."),
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one role for the service account.")},
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        grantable = set(roles_grantable_by(actor, actor.agency))
        self.offered = [(role.value, role.label) for role in SERVICE_ACCOUNT_ROLES if role in grantable]
        # Any role is accepted here and only the ones on offer are shown: the service refuses the others and says why.
        self.fields["roles"].choices = Role.choices
        self.fields["roles"].widget.choices = self.offered


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=120,
        help_text=gettext_lazy("The system or machine that will use the token."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one scope.")},
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(scopes_allowed(account))
        self.offered = [(scope.value, scope.label) for scope in Scope if scope.value in allowed]
        # As for roles: every scope is accepted, the allowed ones shown; the service refuses the rest.
        self.fields["scopes"].choices = Scope.choices
        self.fields["scopes"].widget.choices = self.offered
        self.fields["days"].help_text = _("From 1 to %(days)d days.") % {"days": MAX_TOKEN_DAYS}


# Pages ----------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def service_accounts(request):
    user = manager(request)
    accounts = service_accounts_managed_by(user).prefetch_related(
        "memberships",
        Prefetch("api_tokens", queryset=ApiToken.objects.select_related("created_by", "revoked_by")),
    )
    now = timezone.now()
    rows = [
        {"account": account, "roles": _role_labels(account), "tokens": _token_rows(account.api_tokens.all(), now)}
        for account in accounts
    ]
    return render(request, "api/service_accounts.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def service_account_new(request):
    user = manager(request)
    form = ServiceAccountForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        try:
            account = service_account_create(
                actor=user, name=form.cleaned_data["name"], roles=form.cleaned_data["roles"], http_request=request
            )
        except (ValidationError, PermissionDenied) as refusal:
            for text in error_texts(refusal):
                form.add_error(None, text)
        else:
            messages.success(
                request,
                _("The service account %(name)s was created. Issue it a token to connect its system.")
                % {"name": account.first_name},
            )
            return redirect("api:service-account", username=account.username)
    return render(request, "api/service_account_new.html", {"form": form})


def _account_page(request, account, token_form, status=200):
    tokens = ApiToken.objects.filter(account=account).select_related("created_by", "revoked_by")
    return render(
        request,
        "api/service_account.html",
        {
            "account": account,
            "roles": _role_labels(account),
            "tokens": _token_rows(tokens, timezone.now()),
            "token_form": token_form,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def service_account(request, username):
    user = manager(request)
    account = _account(user, username)
    return _account_page(request, account, TokenForm(account=account))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_new(request, username):
    """Issue a token. The answer shows it once and is never cached; afterwards only its prefix is ever shown."""
    user = manager(request)
    account = _account(user, username)
    form = TokenForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            row, token = token_issue(
                actor=user,
                account=account,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                days=form.cleaned_data["days"],
                http_request=request,
            )
        except (ValidationError, PermissionDenied) as refusal:
            for text in error_texts(refusal):
                form.add_error(None, text)
        else:
            return render(
                request,
                "api/token_issued.html",
                {
                    "account": account,
                    "row": row,
                    "token": token,
                    "scopes": [(scope, _label(Scope, scope)) for scope in row.scopes],
                },
            )
    return _account_page(request, account, form)


@login_required
@require_http_methods(["POST"])
def token_revoke_page(request, prefix):
    user = manager(request)
    token = get_object_or_404(_tokens_of(user), prefix=prefix)
    try:
        token = token_revoke(actor=user, token=token, http_request=request)
    except PermissionDenied as refusal:
        for text in error_texts(refusal):
            messages.error(request, text)
    else:
        messages.success(
            request,
            _("The token %(name)s (%(prefix)s…) is revoked: it no longer works.")
            % {"name": token.name, "prefix": f"{TOKEN_START}{token.prefix}"},
        )
    if request.POST.get("back") == "list":
        return redirect("api:service-accounts")
    return redirect("api:service-account", username=token.account.username)
