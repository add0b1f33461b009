"""Service accounts and their API tokens: created, issued and revoked by the agency's own administrator.

A token reads `cgk_<prefix>_<secret>`. Only the SHA-256 digest of the whole token is stored; it is shown once, when
issued. The prefix finds the row and tells tokens apart in lists; the digest is compared in constant time."""

import datetime as dt
import hashlib
import hmac
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from api.models import ApiToken, Scope
from audit.models import Action
from audit.services import record_event
from governance.models import SERVICE_ACCOUNT_ROLES, Agency, Role, User
from governance.permissions import can_administer_users
from governance.selectors import roles_given_by_regulation
from governance.services import membership_grant

TOKEN_START = "cgk_"  # noqa: S105 - the fixed start of every token, not a secret
PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
PREFIX_LENGTH = 10
# The roles a token's scope needs its service account to hold (catalogue:read needs any role).
SCOPE_ROLES = {
    Scope.CATALOGUE_READ: SERVICE_ACCOUNT_ROLES,
    Scope.REQUESTS_READ: SERVICE_ACCOUNT_ROLES,
    Scope.REQUESTS_FILE: (Role.REQUESTER,),
    Scope.RELEASES_READ: SERVICE_ACCOUNT_ROLES,
    Scope.RELEASES_RECEIVE: (Role.REQUESTER,),
    Scope.LEDGER_READ: (Role.AUDITOR,),
}
MAX_TOKEN_DAYS = 366
# The time a token was last used is written at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Who may do what --------------------------------------------------------------------------------------------


def can_manage_service_accounts(user: User | None) -> bool:
    """An agency's own administrator, or a system administrator, for its own agency's service accounts (the pages also
    ask for a session that passed the second factor)."""
    return bool(can_administer_users(user) and user.agency_id and not user.is_service_account)


def service_accounts_managed_by(user: User | None):
    """The service accounts `user` sees and manages: its own agency's (a system administrator manages its own too)."""
    if not can_manage_service_accounts(user):
        return User.objects.none()
    return User.objects.filter(is_service_account=True, agency_id=user.agency_id).order_by("username")


def ensure_manages(actor: User | None, account: User) -> None:
    """`actor` None is the system itself (a command run on the server): it manages every service account."""
    if not account.is_service_account:
        raise PermissionDenied(_("You may not manage this service account."))
    if actor is not None and not (account.agency_id == actor.agency_id and can_manage_service_accounts(actor)):
        raise PermissionDenied(_("You may not manage this service account."))


def scopes_allowed(account: User) -> list[str]:
    """The scopes a token of `account` may carry: those its roles allow."""
    roles = account.role_set()
    return [scope.value for scope, needed in SCOPE_ROLES.items() if roles & set(needed)]


# Changes ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def service_account_create(
    *, actor: User | None, name: str, roles: list[str], agency: Agency | None = None, http_request=None
) -> User:
    """A service account of the actor's agency holding `roles` (requester and/or auditor, as the regulation gives).

    `actor` None is the system itself (a command run on the server), for `agency`."""
    if actor is not None and not can_manage_service_accounts(actor):
        raise PermissionDenied(_("Only your agency's administrator may create service accounts."))
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the service account a name."))
    if not roles:
        raise ValidationError(_("Choose at least one role for the service account."))
    if not set(roles) <= set(SERVICE_ACCOUNT_ROLES):
        raise ValidationError(
            _("A service account may only file requests or read the ledger: it never reviews, decides, exports or administers.")
        )
    agency = actor.agency if actor is not None else agency
    if agency is None:
        raise ValidationError(_("Name the agency of the service account."))
    if actor is None and not set(roles) <= set(roles_given_by_regulation(agency)):
        raise ValidationError(
            _("You may not grant this role in this agency: the regulation does not give it, or it is not yours to grant.")
        )
    stem = slugify(f"svc-{agency.code}-{name}")[:120] or f"svc-{agency.code}"
    username = stem
    while User.objects.filter(username=username).exists():
        username = f"{stem}-{get_random_string(4, PREFIX_ALPHABET)}"
    account = User(username=username, first_name=name[:150], agency=agency, is_service_account=True)
    account.set_unusable_password()
    account.save()
    for role in roles:
        # The agency's own rules: the roles the regulation gives its agency (ensure_can_grant_role).
        membership_grant(actor=actor, user=account, role=role, http_request=http_request)
    record_event(
        actor=actor,
        action=Action.API_ACCOUNT_CREATE,
        target=account,
        data={"agency": agency.code, "roles": sorted(roles), "name": name},
        http_request=http_request,
    )
    return account


@transaction.atomic
def token_issue(
    *, actor: User, account: User, name: str, scopes: list[str], days: int, http_request=None
) -> tuple[ApiToken, str]:
    """A new token for `account`; returns the row and the token itself, which is never shown again."""
    ensure_manages(actor, account)
    if not account.is_active:
        raise ValidationError(_("This service account is deactivated."))
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the token a name (the system or machine that will use it)."))
    allowed = scopes_allowed(account)
    if not scopes:
        raise ValidationError(_("Choose at least one scope."))
    if not set(scopes) <= set(allowed):
        raise ValidationError(_("A token may carry only the scopes its service account's roles allow."))
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(_("A token lasts from 1 to %(days)d days.") % {"days": MAX_TOKEN_DAYS})
    prefix = get_random_string(PREFIX_LENGTH, PREFIX_ALPHABET)
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_START}{prefix}_{secret}"
    row = ApiToken.objects.create(
        account=account,
        name=name,
        prefix=prefix,
        digest=digest(token),
        scopes=sorted(scopes),
        created_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    record_event(
        actor=actor,
        action=Action.API_TOKEN_ISSUE,
        target=account,
        data={"token": prefix, "name": name, "scopes": row.scopes, "expires_at": row.expires_at},
        http_request=http_request,
    )
    return row, token


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken, http_request=None) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("account").get(pk=token.pk)
    ensure_manages(actor, token.account)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            actor=actor,
            action=Action.API_TOKEN_REVOKE,
            target=token.account,
            data={"token": token.prefix, "name": token.name},
            http_request=http_request,
        )
    return token


# Reading a presented token ------------------------------------------------------------------------------------------


def token_for(presented: str) -> ApiToken | None:
    """The usable token row for a presented token string, or None (unknown, wrong secret, revoked, expired, account
    deactivated or no longer a service account)."""
    if not presented.startswith(TOKEN_START) or len(presented) > 200:
        return None
    prefix, _sep, _secret = presented[len(TOKEN_START) :].partition("_")
    if len(prefix) != PREFIX_LENGTH or not set(prefix) <= set(PREFIX_ALPHABET):
        return None
    row = ApiToken.objects.select_related("account__agency").filter(prefix=prefix).first()
    if row is None or not hmac.compare_digest(row.digest, digest(presented)):
        return None
    if not row.is_usable() or not row.account.is_service_account:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
