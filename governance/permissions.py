"""Who may read governance data. Deny by default: what a user may not see is a 404, never a 403."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from governance.models import Camera, LegalBasis, Role

# Roles that operate a camera for its managing agency and so need its address.
CAMERA_SOURCE_ROLES = (Role.CUSTODIAN, Role.ADMINISTRATOR)


def can_read_governance(user) -> bool:
    """Cameras, legal bases and the regulation are open to anyone holding a role, and to superusers."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user.role_set())


def ensure_can_read_governance(user):
    if not can_read_governance(user):
        raise Http404


def can_see_camera_source(user, camera) -> bool:
    """The source address and credential reference are for the managing agency's custodians and administrators."""
    if not can_read_governance(user):
        return False
    if user.is_superuser:
        return True
    if user.agency_id is None or user.agency_id != camera.managing_agency_id:
        return False
    # The membership must be held in the managing agency itself, not merely by a user who now sits there.
    return user.memberships.filter(agency_id=camera.managing_agency_id, role__in=CAMERA_SOURCE_ROLES).exists()


def get_visible_camera_or_404(user, code):
    ensure_can_read_governance(user)
    cameras = Camera.objects.select_related("area__parent__parent", "managing_agency")
    return get_object_or_404(cameras, code=code)


def get_visible_legal_basis_or_404(user, code):
    ensure_can_read_governance(user)
    return get_object_or_404(LegalBasis.objects.prefetch_related("allowed_categories"), code=code)


def can_administer_governance(user):
    """The admin site is for superusers and active staff accounts holding the administrator role."""
    return bool(user.is_active and user.is_staff and (user.is_superuser or user.has_role(Role.ADMINISTRATOR)))
