"""Who calls the API: a service account's token (machines), or a signed-in person's session (the documentation page,
a person's own scripts in the browser). Either way the same roles, groups and second-factor rules apply."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling

from api.tokens import token_for


def _never_verified():
    # A machine never passes a second factor: every act that needs one (deciding, exporting, holds, ledger copies,
    # administration) is refused to a token by the very check that refuses an unverified session.
    return False


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer cgk_…`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as: Authorization: Bearer <token>."))
        try:
            presented = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = token_for(presented)
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid, has expired or was revoked."))
        account = token.account
        account.is_verified = _never_verified
        return account, token

    def authenticate_header(self, request):
        return self.keyword


class SessionAuthentication(authentication.SessionAuthentication):
    """A person's signed-in session (CSRF checked on every change). A session never carries a service account."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and getattr(result[0], "is_service_account", False):
            return None
        return result


def token_scopes(request):
    """The scopes of the call's token; None for a person's session (their roles alone decide)."""
    token = getattr(request, "auth", None)
    return None if token is None or not hasattr(token, "scopes") else set(token.scopes)


class HasScope(permissions.BasePermission):
    """The view's `required_scopes` (by method: `scopes_by_method`) must all be in the token's scopes."""

    message = _("This token's scopes do not include this action.")

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        scopes = token_scopes(request)
        if scopes is None:
            return True
        if getattr(view, "people_only", False):
            # Decisions stay with people who passed the second factor: no scope opens them to a token.
            self.message = _("Only a person who passed the second factor may do this; a service account never does.")
            return False
        by_method = getattr(view, "scopes_by_method", None)
        if by_method is not None:
            # A method the map does not name needs a scope no token holds: a handler added later is closed until named.
            if request.method not in by_method:
                return False
            needed = by_method[request.method]
        else:
            needed = getattr(view, "required_scopes", ())
        return set(needed) <= scopes


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Calls per token (or per signed-in person) per period: API_RATE (default 600/min)."""

    scope = "api"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "prefix"):
            ident = f"token:{token.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
