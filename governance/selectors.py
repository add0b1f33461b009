"""Reads of governance data."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.models import Agency, Area, AssignmentRule, Camera, DataCategory, LegalBasis, RegulationVersion, Role


def regulation_in_force(at: dt.datetime | None = None) -> RegulationVersion | None:
    """The published version whose effective date is the latest not after `at` (now by default)."""
    at = at or timezone.now()
    return (
        RegulationVersion.objects.filter(status=RegulationVersion.Status.PUBLISHED, effective_from__lte=at)
        .order_by("-effective_from")
        .first()
    )


def legal_bases_valid_on(day: dt.date) -> QuerySet[LegalBasis]:
    return LegalBasis.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)


def assigned_agencies(*, version: RegulationVersion, duty: str, area: Area, category: DataCategory | None = None) -> QuerySet:
    """Agencies assigned `duty` for `area` (or an area containing it) and `category` under `version`."""
    ancestors = _path_prefixes(area.path)
    rules = AssignmentRule.objects.filter(version=version, duty=duty, area__path__in=ancestors)
    if category is not None:
        rules = rules.filter(Q(data_category__isnull=True) | Q(data_category=category))
    return rules.values_list("agency_id", flat=True).distinct()


def agencies_within(area: Area) -> QuerySet[Agency]:
    """Agencies whose area is `area` or lies inside it."""
    return Agency.objects.filter(area__path__startswith=area.path)


# Agencies that file requests. The regulation gives the monitoring centre the
# review, approval and export duties; an inspectorate oversees; neither files.
REQUESTING_KINDS = frozenset(Agency.Kind.values) - {Agency.Kind.MONITORING_CENTRE, Agency.Kind.INSPECTORATE}


def roles_given_by_regulation(agency: Agency, *, version: RegulationVersion | None = None) -> list[Role]:
    """The roles the regulation gives `agency`, in Role order.

    Requesting agencies have requesting officers; reviewers, approvers and
    custodians go where the regulation in force (or `version`) assigns the
    review, approval and export duties; an inspectorate has auditors; every
    agency may have its own administrator.
    """
    roles = {Role.ADMINISTRATOR}
    if agency.kind in REQUESTING_KINDS:
        roles.add(Role.REQUESTER)
    if agency.kind == Agency.Kind.INSPECTORATE:
        roles.add(Role.AUDITOR)
    version = version or regulation_in_force()
    if version is not None:
        duties = AssignmentRule.objects.filter(version=version, agency=agency).values_list("duty", flat=True).distinct()
        roles.update(AssignmentRule.role_for_duty(duty) for duty in duties)
    return [role for role in Role if role in roles]


def _path_prefixes(path):
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def camera_search(
    *, query: str = "", area: Area | None = None, kind: str | None = None, status: str | None = None, agency: Agency | None = None
) -> QuerySet[Camera]:
    cameras = Camera.objects.select_related("area", "managing_agency")
    if query:
        cameras = cameras.filter(Q(code__istartswith=query) | Q(name__icontains=query) | Q(area__name_vi__icontains=query))
    if area is not None:
        cameras = cameras.filter(area__path__startswith=area.path)
    if kind:
        cameras = cameras.filter(kind=kind)
    if status:
        cameras = cameras.filter(status=status)
    if agency is not None:
        cameras = cameras.filter(managing_agency=agency)
    return cameras.order_by("code")
