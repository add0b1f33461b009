"""Writes to governance data. Each service changes data and records it in the ledger in one transaction."""

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from guardian.shortcuts import assign_perm

from audit import record_event
from audit.chain import canonical_json
from audit.models import Action
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    DataCategory,
    DeadlineUnit,
    LegalBasis,
    Membership,
    RegulationImmutable,
    RegulationVersion,
    Role,
    User,
    role_group_name,
)
from governance.permissions import ensure_can_grant_role, ensure_can_revoke_role
from governance.timefmt import local_time

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
    for basis in version.legal_bases.order_by("code").select_related("supersedes").prefetch_related("allowed_categories"):
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
                # Only an edition names the basis it replaces: the content of earlier bases hashes as it did.
                **({"supersedes": basis.supersedes.code} if basis.supersedes_id else {}),
                # So with the personal-data rules: a basis without them hashes as it did before they existed.
                **({"data_subject_access": True} if basis.data_subject_access else {}),
                **(
                    {"redaction_categories": sorted(c.code for c in basis.redaction_categories.all())}
                    if basis.redaction_categories.exists()
                    else {}
                ),
                **({"redaction_agency_kinds": sorted(basis.redaction_agency_kinds)} if basis.redaction_agency_kinds else {}),
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


# A draft made from the console is numbered "Dự thảo 03/12/2026" until the administrator gives it its number.
DRAFT_NUMBER_PREFIXES = ("Dự thảo", "Draft")


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
    if not version.decision_reference.strip():
        raise ValidationError(_("Enter the issuing decision (its number and date) before publishing."))
    if version.number.startswith(DRAFT_NUMBER_PREFIXES):
        raise ValidationError(
            _("Give the version its own number before publishing; “%(number)s” names a draft.") % {"number": version.number}
        )
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


# Revising a published regulation: a draft version and new editions of its bases ---------------------------


def _free_value(model, field, wanted, max_length, suffix):
    """`wanted`, or `wanted` with the first free `suffix % n` (n = 2, 3, ...), no longer than max_length."""
    candidate, n = wanted[:max_length], 1
    while model.objects.filter(**{field: candidate}).exists():
        n += 1
        tail = suffix % n
        candidate = wanted[: max_length - len(tail)] + tail
    return candidate


@transaction.atomic
def regulation_draft_create(
    *, actor: User | None, base: RegulationVersion | None = None, http_request: HttpRequest | None = None
) -> RegulationVersion:
    """A new draft version holding what `base` (by default the version in force) holds: its bases and its rules."""
    from governance.selectors import regulation_in_force

    base = base or regulation_in_force() or RegulationVersion.objects.filter(status=RegulationVersion.Status.PUBLISHED).first()
    today = timezone.localdate()
    number = _free_value(RegulationVersion, "number", f"{DRAFT_NUMBER_PREFIXES[0]} {today:%d/%m/%Y}", 40, " (%s)")
    draft = RegulationVersion(
        number=number,
        title=base.title if base else _("Regulation on assigning and exploiting camera data"),
        effective_from=timezone.now() + dt.timedelta(days=1),
        status=RegulationVersion.Status.DRAFT,
    )
    draft.save()
    if base is not None:
        draft.legal_bases.set(base.legal_bases.all())
        AssignmentRule.objects.bulk_create(
            AssignmentRule(
                version=draft, duty=r.duty, agency_id=r.agency_id, area_id=r.area_id, data_category_id=r.data_category_id
            )
            for r in base.rules.all()
        )
    record_event(
        actor=actor,
        action=Action.GOVERNANCE_CREATE,
        target=draft,
        data={
            "object": str(draft),
            "draft_of": base.number if base else None,
            "legal_bases": sorted(draft.legal_bases.values_list("code", flat=True)),
            "rules": draft.rules.count(),
        },
        http_request=http_request,
    )
    return draft


@transaction.atomic
def legal_basis_revise(
    *, actor: User | None, basis: LegalBasis, draft: RegulationVersion, http_request: HttpRequest | None = None
) -> LegalBasis:
    """A new edition of a published basis, in place of it in the draft version `draft`; editable until published.

    The published basis stays as it is (the requests filed under it and the
    published versions name it); the edition carries its content, a new code
    and a link to it, so the published version's page can show what changed.
    """
    draft = RegulationVersion.objects.select_for_update().get(pk=draft.pk)
    draft.ensure_editable()
    existing = draft.legal_bases.filter(supersedes=basis).first()
    if existing is not None:
        return existing
    categories = list(basis.allowed_categories.all())
    redacted = list(basis.redaction_categories.all())
    edition = LegalBasis.objects.get(pk=basis.pk)
    edition.pk = None
    edition.supersedes = basis
    # code, code-2, code-3, ...: an edition of the edition "code-2" is "code-3", not "code-2-2".
    stem, _dash, tail = basis.code.rpartition("-")
    stem = stem if basis.supersedes_id and stem and tail.isdigit() else basis.code
    edition.code = _free_value(LegalBasis, "code", f"{stem}-2", 60, "-%s")
    edition.save()
    edition.allowed_categories.set(categories)
    edition.redaction_categories.set(redacted)
    draft.legal_bases.remove(basis)
    draft.legal_bases.add(edition)
    record_event(
        actor=actor,
        action=Action.GOVERNANCE_CREATE,
        target=edition,
        data={"object": str(edition), "edition_of": basis.code, "draft": draft.number},
        http_request=http_request,
    )
    return edition


# What changed between two published versions, in words ---------------------------------------------------------------

BASIS_FIELDS = (
    ("title_vi", _lazy("title")),
    ("citation", _lazy("citation")),
    ("verified", _lazy("citation verified")),
    ("allowed_categories", _lazy("allowed data categories")),
    ("case_number_required", _lazy("case/document number required")),
    ("max_window_hours", _lazy("maximum window (hours)")),
    ("max_cameras", _lazy("maximum cameras")),
    ("approvals_required", _lazy("approvals required")),
    ("deadline_hours", _lazy("response deadlines (normal, urgent, emergency)")),
    ("deadline_unit", _lazy("deadlines counted in")),
    ("valid_from", _lazy("valid from")),
    ("valid_to", _lazy("valid to")),
)
VERSION_FIELDS = (
    ("title", _lazy("title")),
    ("decision_reference", _lazy("issuing decision")),
    ("effective_from", _lazy("effective from")),
)


@dataclass
class BasisChange:
    code: str
    title: str
    previous_code: str = ""
    fields: list = field(default_factory=list)  # (label, before, after)


@dataclass
class RegulationDiff:
    previous: RegulationVersion | None
    version_fields: list = field(default_factory=list)  # (label, before, after)
    added_bases: list = field(default_factory=list)  # snapshot entries
    removed_bases: list = field(default_factory=list)
    changed_bases: list = field(default_factory=list)  # BasisChange
    added_rules: list = field(default_factory=list)  # snapshot entries
    removed_rules: list = field(default_factory=list)

    @property
    def is_empty(self):
        return not (
            self.version_fields
            or self.added_bases
            or self.removed_bases
            or self.changed_bases
            or self.added_rules
            or self.removed_rules
        )


def previous_published(version: RegulationVersion) -> RegulationVersion | None:
    """The published version in force before `version` (by effective date, then publication)."""
    return (
        RegulationVersion.objects.filter(status=RegulationVersion.Status.PUBLISHED)
        .exclude(pk=version.pk)
        .filter(Q(effective_from__lt=version.effective_from) | Q(effective_from=version.effective_from, pk__lt=version.pk))
        .order_by("-effective_from", "-pk")
        .first()
    )


def regulation_diff(
    version: RegulationVersion, previous: RegulationVersion | None = None, *, names: "SnapshotNames | None" = None
) -> RegulationDiff:
    """What `version`'s published content changes from the previous published version's, read from both snapshots."""
    previous = previous if previous is not None else previous_published(version)
    diff = RegulationDiff(previous=previous)
    new = version.snapshot or regulation_snapshot(version)
    names = names or SnapshotNames()
    if previous is None or previous.pk == version.pk:
        diff.previous = None
        diff.added_bases = list(new["legal_bases"])
        diff.added_rules = [names.rule(r) for r in new["rules"]]
        return diff
    old = previous.snapshot or regulation_snapshot(previous)
    for name, label in VERSION_FIELDS:
        if old.get(name) != new.get(name):
            diff.version_fields.append((label, names.show(name, old.get(name)), names.show(name, new.get(name))))
    old_bases = {b["code"]: b for b in old["legal_bases"]}
    matched = set()
    for basis in new["legal_bases"]:
        before = old_bases.get(basis["code"]) or old_bases.get(basis.get("supersedes") or "")
        if before is None:
            diff.added_bases.append(basis)
            continue
        matched.add(before["code"])
        fields = [
            (label, names.show(name, before.get(name)), names.show(name, basis.get(name)))
            for name, label in BASIS_FIELDS
            if before.get(name) != basis.get(name)
        ]
        if fields or before["code"] != basis["code"]:
            diff.changed_bases.append(
                BasisChange(code=basis["code"], title=basis["title_vi"], previous_code=before["code"], fields=fields)
            )
    diff.removed_bases = [b for code, b in old_bases.items() if code not in matched]

    def key(rule):
        return (rule["duty"], rule["agency"], rule["area"], rule["category"] or "")

    old_rules, new_rules = {key(r): r for r in old["rules"]}, {key(r): r for r in new["rules"]}
    diff.added_rules = [names.rule(r) for k, r in new_rules.items() if k not in old_rules]
    diff.removed_rules = [names.rule(r) for k, r in old_rules.items() if k not in new_rules]
    return diff


class SnapshotNames:
    """Reads the codes and values of a published snapshot in words (names as they are now, codes beside them)."""

    def __init__(self):
        self.categories = dict(DataCategory.objects.values_list("code", "name_vi"))
        self.agencies = dict(Agency.objects.values_list("code", "name_vi"))
        self.areas = dict(Area.objects.values_list("code", "name_vi"))

    def show(self, name, value):
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if name == "allowed_categories":
            return ", ".join(self.categories.get(code, code) for code in value) or "—"
        if name == "deadline_hours":
            return " / ".join(str(amount) for amount in value)
        if name == "deadline_unit":
            return str(dict(DeadlineUnit.choices).get(value, value))
        if name == "effective_from":
            return local_time(value)
        if name in ("valid_from", "valid_to"):
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        return str(value)

    def rule(self, rule):
        return {
            "duty": str(dict(AssignmentRule.Duty.choices).get(rule["duty"], rule["duty"])),
            "agency": self.agencies.get(rule["agency"], rule["agency"]),
            "area": self.areas.get(rule["area"], rule["area"]),
            "category": self.categories.get(rule["category"], rule["category"]) if rule["category"] else _("all categories"),
        }
