"""Who may recover another person's sign-in: the monitoring centre's system administrators."""

from django.http import Http404

from governance.models import User
from governance.permissions import is_system_administrator
from governance.second_factor import ensure_second_factor

__all__ = ["can_reset_second_factor", "ensure_can_manage_signins", "is_system_administrator"]


def ensure_can_manage_signins(user: User | None) -> None:
    """The sign-in security page: 404 for everyone else; a system administrator must have passed the second factor."""
    if not is_system_administrator(user):
        raise Http404
    ensure_second_factor(user)


def can_reset_second_factor(actor: User | None, user: User) -> bool:
    """A system administrator resets anyone's devices but a superuser's, which only a superuser may reset."""
    if not is_system_administrator(actor):
        return False
    return actor.is_superuser or not user.is_superuser
