"""Writes to governance data. Each service changes data and records it in the ledger in one transaction."""

import hashlib
from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from audit import record_event
from audit.chain import canonical_json
from audit.models import Action
from governance.models import (
    Agency,
    AssignmentRule,
    Membership,
    RegulationImmutable,
    RegulationVersion,
    Role,
    User,
    role_group_name,
)
from governance.permissions import ensure_can_grant_role, ensure_can_revoke_role

# Roles ----------------------------------------------------------------------


def role_group(*, agency: Agency, role: Role | str) -> Group:
    """The guardian group of an agency's role, created with its agency permissions on first use."""
    group, created = Group.objects.get_or_create(name=role_group_name(agency, role))
    if created:
        assign_perm("governance.view_agency", group, agency)
    return group


@transaction.atomic
def membership_grant(*, actor: User | None, user: User, role: Role | str, http_request: HttpRequest | None = None) -> Membership:
    """Give `user` a role in their own agency (refused unless `actor` may grant it there)."""
    ensure_can_grant_role(actor, user, role)
    if not user.agency_id:
        raise ValidationError(_("The user belongs to no agency; set the agency before granting a role."))
    membership, created = Membership.objects.get_or_create(user=user, role=role, defaults={"agency": user.agency})
    if not created and membership.agency_id != user.agency_id:
        raise ValidationError(_("The user already holds this role in another agency."))
    user.groups.add(role_group(agency=user.agency, role=role))
    user.forget_roles()
    if created:
        record_event(
            actor=actor,
            action=Action.PERMISSION_GRANT,
            target=user,
            data={"agency": user.agency.code, "role": role, "group": role_group_name(user.agency, role)},
            http_request=http_request,
        )
    return membership


@transaction.atomic
def membership_revoke(*, actor: User | None, membership: Membership, http_request: HttpRequest | None = None) -> None:
    """Take a role away; the user leaves the agency's role group (refused unless `actor` may revoke it)."""
    ensure_can_revoke_role(actor, membership)
    user = membership.user
    group_name = role_group_name(membership.agency, membership.role)
    user.groups.remove(*Group.objects.filter(name=group_name))
    data = {"agency": membership.agency.code, "role": membership.role, "group": group_name}
    membership.delete()
    user.forget_roles()
    record_event(actor=actor, action=Action.PERMISSION_REVOKE, target=user, data=data, http_request=http_request)


@transaction.atomic
def membership_revoke_outside_agency(*, actor: User | None, user: User, http_request: HttpRequest | None = None) -> None:
    """Revoke the roles `user` holds in an agency other than their own: a user who moves leaves those roles behind."""
    stale = Membership.objects.filter(user=user).exclude(agency_id=user.agency_id).select_related("agency", "user")
    for membership in stale:
        membership_revoke(actor=actor, membership=membership, http_request=http_request)
    user.forget_roles()


# Generic governance changes (admin and services alike) ----------------------


def _field_value(obj, name):
    value = getattr(obj, name, None)
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "all"):  # many-to-many manager
        return sorted(value.values_list("pk", flat=True))
    return value


def governance_record_saved(
    *,
    actor: User | None,
    obj: Model,
    created: bool,
    changed_fields: Iterable[str] = (),
    http_request: HttpRequest | None = None,
) -> None:
    """Ledger entry for a created or changed governance object (call inside the saving transaction)."""
    fields = changed_fields or [f.name for f in obj._meta.concrete_fields if not f.primary_key]
    record_event(
        actor=actor,
        action=Action.GOVERNANCE_CREATE if created else Action.GOVERNANCE_UPDATE,
        target=obj,
        data={"object": str(obj), "fields": {name: _field_value(obj, name) for name in fields}},
        http_request=http_request,
    )


def governance_record_deleted(*, actor: User | None, obj: Model, http_request: HttpRequest | None = None) -> None:
    record_event(
        actor=actor,
        action=Action.GOVERNANCE_DELETE,
        target=obj,
        data={"object": str(obj)},
        http_request=http_request,
    )


# Regulation versions ---------------------------------------------------------


def regulation_snapshot(version: RegulationVersion) -> dict:
    """The rule set as plain data, in a stable order, for hashing and for the record."""
    bases = []
    for basis in version.legal_bases.order_by("code").prefetch_related("allowed_categories"):
        bases.append(
            {
                "code": basis.code,
                "title_vi": basis.title_vi,
                "citation": basis.citation,
                "verified": basis.verified,
                "allowed_categories": sorted(c.code for c in basis.allowed_categories.all()),
                "case_number_required": basis.case_number_required,
                "max_window_hours": basis.max_window_hours,
                "max_cameras": basis.max_cameras,
                "approvals_required": basis.approvals_required,
                "deadline_hours": [basis.deadline_hours_normal, basis.deadline_hours_urgent, basis.deadline_hours_emergency],
                # Versions published before the unit existed lack the key: theirs were calendar hours.
                "deadline_unit": basis.deadline_unit,
                "valid_from": basis.valid_from.isoformat(),
                "valid_to": basis.valid_to.isoformat() if basis.valid_to else None,
            }
        )
    rules = sorted(
        (
            {
                "duty": r.duty,
                "agency": r.agency.code,
                "area": r.area.code,
                "category": r.data_category.code if r.data_category_id else None,
            }
            for r in version.rules.select_related("agency", "area", "data_category")
        ),
        key=lambda r: (r["duty"], r["agency"], r["area"], r["category"] or ""),
    )
    return {
        "number": version.number,
        "title": version.title,
        "decision_reference": version.decision_reference,
        "effective_from": version.effective_from.isoformat(),
        "legal_bases": bases,
        "rules": rules,
    }


@transaction.atomic
def regulation_publish(
    *, actor: User | None, version: RegulationVersion, http_request: HttpRequest | None = None
) -> RegulationVersion:
    """Freeze a draft version: its rules and snapshot never change after this."""
    version = RegulationVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise RegulationImmutable(_("Version %(number)s is already published.") % {"number": version.number})
    if not version.legal_bases.exists():
        raise ValidationError(_("A regulation version needs at least one legal basis in force."))
    duties = set(version.rules.values_list("duty", flat=True))
    missing = {AssignmentRule.Duty.REVIEW, AssignmentRule.Duty.APPROVE, AssignmentRule.Duty.EXPORT} - duties
    if missing:
        labels = ", ".join(str(AssignmentRule.Duty(d).label) for d in sorted(missing))
        raise ValidationError(
            _("Assign at least one agency for every duty before publishing; missing: %(duties)s.") % {"duties": labels}
        )
    snapshot = regulation_snapshot(version)
    version.snapshot = snapshot
    version.snapshot_sha256 = hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()
    version.status = RegulationVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    # Bypass the immutability guard exactly once: this is the publishing write.
    RegulationVersion.objects.filter(pk=version.pk).update(
        snapshot=version.snapshot,
        snapshot_sha256=version.snapshot_sha256,
        status=version.status,
        published_at=version.published_at,
        published_by=actor,
    )
    record_event(
        actor=actor,
        action=Action.REGULATION_PUBLISH,
        target=version,
        data={
            "number": version.number,
            "effective_from": version.effective_from,
            "sha256": version.snapshot_sha256,
            "rules": len(snapshot["rules"]),
        },
        http_request=http_request,
    )
    return version
