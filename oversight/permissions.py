"""Who may read the ledger: oversight bodies and administrators, nobody else.

How much of it each reads is `audit.selectors.events_visible_to`."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from governance.models import Agency, Area, LegalBasis, Role, User
from governance.permissions import is_system_administrator, oversight_area
from governance.second_factor import ensure_second_factor, second_factor_refusal
from oversight.models import BundleRequest, Report

LEDGER_READER_ROLES = (Role.AUDITOR, Role.ADMINISTRATOR)


def can_read_ledger(user: User | None) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*LEDGER_READER_ROLES)


def ensure_can_read_ledger(user: User | None) -> None:
    # 404, not 403: a user without the role learns nothing about these pages.
    if not can_read_ledger(user):
        raise Http404


def ensure_can_take_ledger_copy(user: User | None) -> None:
    """Copies of the ledger that leave the application (report files, dossiers, bundles) need a session that
    passed the second factor (governance.second_factor.SecondFactorRequired sends it there)."""
    ensure_can_read_ledger(user)
    ensure_second_factor(user)


# Oversight reports ----------------------------------------------------------------


class ReportRefused(Exception):
    """A report the user may not have: the message says why, in the user's language."""


def report_jurisdiction(user: User | None) -> Area | None:
    """The area a user's reports may cover: None for the whole system (system administrators)."""
    return oversight_area(user)


def report_refusal(
    user: User | None, *, agency: Agency | None = None, area: Area | None = None, legal_basis: LegalBasis | None = None
) -> str | None:
    """Why this user may not have a report of this scope, or None. Auditors report within their own area only."""
    if not can_read_ledger(user):
        return _("Only oversight bodies and administrators may produce reports.")
    if is_system_administrator(user):
        return second_factor_refusal(user)
    if not user.has_role(Role.AUDITOR):
        return _("Reports are produced by oversight bodies and the monitoring centre's system administrators.")
    jurisdiction = report_jurisdiction(user)
    if jurisdiction is None:
        return _("Your agency has no area assigned, so there is no jurisdiction to report on. Ask an administrator.")
    if agency is not None and not (agency.area_id and agency.area.path.startswith(jurisdiction.path)):
        return _("%(agency)s is outside your jurisdiction (%(area)s).") % {"agency": agency, "area": jurisdiction}
    if area is not None and not area.path.startswith(jurisdiction.path):
        return _("%(scope)s is outside your jurisdiction (%(area)s).") % {"scope": area, "area": jurisdiction}
    return second_factor_refusal(user)


def ensure_can_report(user: User | None, **scope: Agency | Area | LegalBasis | None) -> None:
    reason = report_refusal(user, **scope)
    if reason:
        raise ReportRefused(reason)


def reports_visible_to(user: User | None) -> QuerySet[Report]:
    """Reports a user may open: their own; system administrators see every report."""
    if not can_read_ledger(user):
        return Report.objects.none()
    if is_system_administrator(user):
        return Report.objects.all()
    return Report.objects.filter(requested_by=user)


def get_visible_report_or_404(user: User | None, pk: int) -> Report:
    try:
        return reports_visible_to(user).select_related("agency", "area", "legal_basis", "requested_by").get(pk=pk)
    except Report.DoesNotExist:
        raise Http404 from None


# Offline verification bundles -------------------------------------------------------


class BundleRefused(Exception):
    """A bundle the user may not have: the message says why, in the user's language."""


def bundle_refusal(user: User | None) -> str | None:
    """Why this user may not take an offline bundle of the ledger, or None.

    A bundle holds every event of its period, whoever they concern: the chain is
    proved only over contiguous events, so it cannot be cut to one area. It goes
    to system administrators, and to auditors whose jurisdiction covers every agency.
    """
    if not can_read_ledger(user):
        return _("Only oversight bodies and administrators may take a copy of the ledger.")
    if is_system_administrator(user):
        return second_factor_refusal(user)
    if not user.has_role(Role.AUDITOR):
        return _("Offline verification bundles are taken by oversight bodies and the monitoring centre's system administrators.")
    jurisdiction = oversight_area(user)
    if jurisdiction is None or Agency.objects.exclude(area__path__startswith=jurisdiction.path).exists():
        return _(
            "An offline bundle holds every agency's ledger events of the period, and some agencies are outside your "
            "jurisdiction. Ask an oversight body of the whole city or the monitoring centre for one."
        )
    return second_factor_refusal(user)


def ensure_can_take_bundle(user: User | None) -> None:
    reason = bundle_refusal(user)
    if reason:
        raise BundleRefused(reason)


def bundles_visible_to(user: User | None) -> QuerySet[BundleRequest]:
    """Bundles a user may open: the ones they asked for; system administrators see every one."""
    if not can_read_ledger(user):
        return BundleRequest.objects.none()
    if is_system_administrator(user):
        return BundleRequest.objects.all()
    return BundleRequest.objects.filter(requested_by=user)


def get_visible_bundle_or_404(user: User | None, pk: int) -> BundleRequest:
    try:
        return bundles_visible_to(user).select_related("requested_by").get(pk=pk)
    except BundleRequest.DoesNotExist:
        raise Http404 from None
