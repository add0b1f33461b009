"""Who may recover another person's sign-in: the monitoring centre's system administrators."""

from django.http import Http404

from governance.models import Agency, Role
from governance.second_factor import ensure_second_factor


def is_system_administrator(user) -> bool:
    """Superusers, and staff administrators of a monitoring centre."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(
        user.is_staff
        and user.agency_id
        and user.agency.kind == Agency.Kind.MONITORING_CENTRE
        and user.has_role(Role.ADMINISTRATOR)
    )


def ensure_can_manage_signins(user):
    """The sign-in security page: 404 for everyone else; a system administrator must have passed the second factor."""
    if not is_system_administrator(user):
        raise Http404
    ensure_second_factor(user)


def can_reset_second_factor(actor, user) -> bool:
    """A system administrator resets anyone's devices but a superuser's, which only a superuser may reset."""
    if not is_system_administrator(actor):
        return False
    return actor.is_superuser or not user.is_superuser
