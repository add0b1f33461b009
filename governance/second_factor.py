"""Which sessions need a second factor, and whether this one has passed it.

Reviewers, approvers, custodians, auditors, administrators and staff accounts
decide, export, place holds, take copies of the ledger and administer: each of
those acts needs a session that has passed a second factor (an authenticator
app's code, a backup code or a security key). Requesting officers may enrol but
are never asked.

The second factor belongs to a web session: django-otp's middleware gives every
request's user `is_verified()`. A user object that did not come through a web
request (a worker's task, a command run on the server, a service called by a
test) carries no session and so nothing to verify; the check applies to every
user that came through the web, and the middleware is installed for all of them
(accounts.checks says so at start-up).
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from governance.models import Role

SECOND_FACTOR_ROLES = (Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR, Role.ADMINISTRATOR)


class SecondFactorRequired(PermissionDenied):
    """The session must pass the second factor first; the message says so in the user's language."""

    def __init__(self, message=None):
        self.message = message or second_factor_message()
        super().__init__(self.message)


def requires_second_factor(user) -> bool:
    """Privileged accounts: their decisions, exports and administration need a verified second factor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user.is_staff or user.has_role(*SECOND_FACTOR_ROLES))


def session_is_verified(user) -> bool:
    """True when this web session passed the second factor (False outside a verified session)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def _comes_from_a_session(user):
    return callable(getattr(user, "is_verified", None))


def second_factor_message():
    return _(
        "This needs your second factor: confirm your sign-in with your authenticator app, a backup code or your "
        "security key (Second factor, at the top of the page), then try again."
    )


def second_factor_refusal(user):
    """Why this session may not act yet for want of a second factor, or None."""
    if not _comes_from_a_session(user) or not requires_second_factor(user) or session_is_verified(user):
        return None
    return second_factor_message()


def ensure_second_factor(user):
    if second_factor_refusal(user):
        raise SecondFactorRequired()
