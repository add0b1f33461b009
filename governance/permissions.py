"""Who may read and administer governance data. Deny by default: what a user may not see is a 404, never a 403.

Administration follows the regulation. The monitoring centre's system
administrators (superusers, and holders of the administrator role in an agency
of kind "monitoring centre") maintain the governance data and every account.
Any other agency's own administrator manages only its agency's users and the
roles the regulation gives that agency; it never grants a role elsewhere,
moves a user to another agency, or touches a superuser or an administrator.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from governance.models import SERVICE_ACCOUNT_ROLES, Agency, Area, Camera, LegalBasis, Membership, Role, User
from governance.selectors import agencies_within, roles_given_by_regulation

# Roles that operate a camera for its managing agency and so need its address.
CAMERA_SOURCE_ROLES = (Role.CUSTODIAN,)


def _active(user):
    return user is not None and user.is_authenticated and user.is_active


def is_system_administrator(user: User | None) -> bool:
    """A superuser, or an administrator of a monitoring centre (the role held in the user's own, active agency)."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    if not user.agency_id or not user.has_role(Role.ADMINISTRATOR):
        return False
    # Read through getattr: request.user is a lazy wrapper whose own __dict__ never holds the answer.
    cached = getattr(user, "_system_admin_cache", None)
    if cached is None:
        # The role as read with the others; the agency as the sign-in read it with the user (accounts.backends).
        agency = user.agency
        cached = bool(
            user.holds_role_in(Role.ADMINISTRATOR, user.agency_id)
            and agency.kind == Agency.Kind.MONITORING_CENTRE
            and agency.is_active
        )
        user._system_admin_cache = cached
    return cached


def is_agency_administrator(user: User | None) -> bool:
    """An administrator of its own agency who is not a system administrator."""
    return bool(_active(user) and user.agency_id and user.has_role(Role.ADMINISTRATOR) and not is_system_administrator(user))


# Reading ---------------------------------------------------------------------------


def can_read_governance(user: User | None) -> bool:
    """Cameras, legal bases and the regulation are open to anyone holding a role, and to superusers."""
    if not _active(user):
        return False
    return user.is_superuser or bool(user.role_set())


def ensure_can_read_governance(user: User | None) -> None:
    if not can_read_governance(user):
        raise Http404


def can_see_camera_source(user: User | None, camera: Camera) -> bool:
    """The source address and credential reference: system administrators and the managing agency's custodians."""
    if not can_read_governance(user):
        return False
    if is_system_administrator(user):
        return True
    if user.agency_id is None or user.agency_id != camera.managing_agency_id:
        return False
    # The membership must be held in the managing agency itself, not merely by a user who now sits there.
    return user.memberships.filter(agency_id=camera.managing_agency_id, role__in=CAMERA_SOURCE_ROLES).exists()


def get_visible_camera_or_404(user: User | None, code: str) -> Camera:
    ensure_can_read_governance(user)
    cameras = Camera.objects.select_related("area__parent__parent", "managing_agency")
    return get_object_or_404(cameras, code=code)


def get_visible_legal_basis_or_404(user: User | None, code: str) -> LegalBasis:
    ensure_can_read_governance(user)
    return get_object_or_404(LegalBasis.objects.prefetch_related("allowed_categories"), code=code)


def agencies_overseen_by(user: User | None) -> QuerySet[Agency] | None:
    """Agencies whose requests and ledger events `user` reads as an overseer; None means every agency.

    System administrators read everything. An auditor reads its own agency and
    every agency inside its agency's area; an agency's own administrator reads
    its agency. Anyone else oversees nothing (an empty queryset) and reads only
    what their role grants give them. Request pages, the ledger and reports
    all scope by this one answer.
    """
    if not _active(user):
        return Agency.objects.none()
    if is_system_administrator(user):
        return None
    if not user.agency_id or not user.has_role(Role.AUDITOR, Role.ADMINISTRATOR):
        return Agency.objects.none()
    overseen = Q(pk=user.agency_id)
    area = oversight_area(user)
    if area is not None:
        overseen |= Q(pk__in=agencies_within(area).values("pk"))
    return Agency.objects.filter(overseen)


def oversight_area(user: User | None) -> Area | None:
    """The area an auditor oversees (its agency's area), or None: system administrators oversee no single area."""
    if not _active(user) or is_system_administrator(user) or not user.agency_id or not user.has_role(Role.AUDITOR):
        return None
    return user.agency.area


# Administration --------------------------------------------------------------------


def can_administer_governance(user: User | None) -> bool:
    """The governance data in the admin (areas, agencies, cameras, categories, legal bases, rules, the regulation)."""
    return bool(_active(user) and user.is_staff and is_system_administrator(user))


def can_administer_users(user: User | None) -> bool:
    """The user and role pages of the admin: system administrators, and agencies' own administrators."""
    return bool(_active(user) and user.is_staff and (is_system_administrator(user) or is_agency_administrator(user)))


def users_administered_by(user: User | None) -> QuerySet[User]:
    """The accounts `user` sees in the admin: every one for a system administrator, else its agency's (no superuser)."""
    if not can_administer_users(user):
        return User.objects.none()
    if is_system_administrator(user):
        return User.objects.all()
    return User.objects.filter(agency_id=user.agency_id, is_superuser=False)


def can_view_user(actor: User | None, target: User) -> bool:
    if not can_administer_users(actor):
        return False
    if is_system_administrator(actor):
        return True
    return target.agency_id == actor.agency_id and not target.is_superuser


def can_manage_user(actor: User | None, target: User | None) -> bool:
    """Change, set the password of, deactivate or delete `target` (None: add a new account)."""
    if not can_administer_users(actor):
        return False
    if target is None:
        return True
    if target.is_superuser:
        return bool(actor.is_superuser)
    if is_system_administrator(actor):
        return True
    # An agency's administrator never touches another administrator, itself included.
    return target.agency_id == actor.agency_id and not target.has_role(Role.ADMINISTRATOR)


def ensure_can_manage_user(actor: User | None, target: User | None) -> None:
    if not can_manage_user(actor, target):
        raise PermissionDenied(_("You may not change this account."))


def roles_grantable_by(actor: User | None, agency: Agency | None) -> list[Role]:
    """The roles `actor` may grant in `agency`: any for a system administrator; else the regulation's, but administrator."""
    if agency is None or not can_administer_users(actor):
        return []
    if is_system_administrator(actor):
        return list(Role)
    if agency.pk != actor.agency_id:
        return []
    return [role for role in roles_given_by_regulation(agency) if role != Role.ADMINISTRATOR]


def role_grant_refusal(actor: User | None, user: User, role: Role | str) -> str | None:
    """Why `actor` may not give `user` this role, or None. No actor means the system itself (seeding, commands)."""
    if user.is_service_account and role not in SERVICE_ACCOUNT_ROLES:
        return _(
            "A service account may only file requests or read the ledger: it never reviews, decides, exports or administers."
        )
    if actor is None:
        return None
    if not can_manage_user(actor, user):
        return _("You may not change this account.")
    if not user.agency_id:
        return _("The user belongs to no agency; set the agency before granting a role.")
    if role not in roles_grantable_by(actor, user.agency):
        return _("You may not grant this role in this agency: the regulation does not give it, or it is not yours to grant.")
    return None


def ensure_can_grant_role(actor: User | None, user: User, role: Role | str) -> None:
    reason = role_grant_refusal(actor, user, role)
    if reason:
        raise PermissionDenied(reason)


def can_revoke_role(actor: User | None, membership: Membership) -> bool:
    if actor is None:
        return True
    if not can_manage_user(actor, membership.user):
        return False
    if is_system_administrator(actor):
        return True
    return membership.agency_id == actor.agency_id and membership.role != Role.ADMINISTRATOR


def ensure_can_revoke_role(actor: User | None, membership: Membership) -> None:
    if not can_revoke_role(actor, membership):
        raise PermissionDenied(_("You may not revoke this role."))


def memberships_administered_by(user: User | None) -> QuerySet[Membership]:
    """The role grants `user` sees in the admin: every one for a system administrator, else its agency's."""
    if not can_administer_users(user):
        return Membership.objects.none()
    if is_system_administrator(user):
        return Membership.objects.all()
    return Membership.objects.filter(agency_id=user.agency_id, user__agency_id=user.agency_id, user__is_superuser=False)
