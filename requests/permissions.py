"""Who may do what to a footage request. `can_*` for templates, `ensure_can_*` raise with the reason.

Decisions (review, approval, rejection, asking for information), exports, damage
acknowledgements, legal holds and link revocations also need a web session that
passed the second factor (governance.second_factor): checked here, last, so that
it is the reason given only when everything else allows the act.
"""

from collections.abc import Callable
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from guardian.core import ObjectPermissionChecker

from governance.models import Role, User
from governance.second_factor import second_factor_refusal
from requests.models import Decision, FootageRequest, Status
from requests.selectors import _permission_id, binding_approvals, binds, overseen_agencies
from requests.transitions import allows


class WorkflowRefused(PermissionDenied):
    """A rule refused the action; the message says which, in the user's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@contextmanager
def permissions_read_once(user: User):
    """Within the block, the object permissions of `user` are read once per request and kept (a page asking ten
    questions of one request reads its grants once, not ten times). Only for reading: nothing granted inside the
    block is seen by it."""
    user._request_perm_checker = ObjectPermissionChecker(user)
    try:
        yield
    finally:
        del user._request_perm_checker


def _has_perm(user, perm, footage_request):
    read_for, held = getattr(footage_request, "grants_read", (None, None))
    if read_for is not None and read_for == user.pk:
        # Read with the request (selectors.get_request_page_or_404), as guardian's checker answers: nothing for an
        # inactive user, everything for a superuser, else the grants of the user and their groups on it.
        if not user.is_active:
            return False
        return user.is_superuser or _permission_id(perm.rsplit(".", 1)[-1]) in held
    checker = getattr(user, "_request_perm_checker", None)
    if checker is None:
        return user.has_perm(perm, footage_request)
    return checker.has_perm(perm, footage_request)


def _own_agency(user, footage_request):
    return user.agency_id is not None and user.agency_id == footage_request.agency_id


def _deciding_own(user, footage_request):
    """Nobody decides a request of their own agency; a person's own request, which the centre files for them at its
    counter, is decided by the centre's other officials: only the one who filed it may not."""
    if footage_request.for_data_subject:
        return user.pk == footage_request.requester_id
    return _own_agency(user, footage_request)


def _filer_role(footage_request):
    """Who files for the requesting agency: its requesting officers, or the centre's custodians at its counter."""
    return Role.CUSTODIAN if footage_request.for_data_subject else Role.REQUESTER


def _edit_refusal(user, footage_request):
    if footage_request.for_data_subject:
        # What the person asked for at the counter stays as filed: a question is answered by a message, a new request
        # is filed for anything else.
        return _("A person's request is not changed after it is filed: answer by a message, or file a new request.")
    if not (_own_agency(user, footage_request) and user.has_role(_filer_role(footage_request))):
        return _("Only requesting officers of the requesting agency may change this request.")
    if not allows("update", footage_request.status):
        return _("A request can be changed only while it is a draft or more information is requested.")
    if not _has_perm(user, "requests.change_footagerequest", footage_request):
        return _("You do not hold the permission to change this request.")
    return None


def _submit_refusal(user, footage_request):
    """Submit, or submit again once a question is answered: who may change it; for a person's own request, which is
    never changed, the centre's custodians who file at its counter."""
    if not footage_request.for_data_subject:
        return _edit_refusal(user, footage_request)
    if not (_own_agency(user, footage_request) and user.has_role(Role.CUSTODIAN)):
        return _("Only the custodians of the centre that filed it may submit this request.")
    if not allows("update", footage_request.status):
        return _("A request can be changed only while it is a draft or more information is requested.")
    if not _has_perm(user, "requests.change_footagerequest", footage_request):
        return _("You do not hold the permission to change this request.")
    return None


def _withdraw_refusal(user, footage_request):
    if not (_own_agency(user, footage_request) and user.has_role(_filer_role(footage_request))):
        return _("Only requesting officers of the requesting agency may withdraw this request.")
    if not allows("withdraw", footage_request.status):
        return _("This request can no longer be withdrawn.")
    return None


def _review_rule_refusal(user, footage_request):
    if not user.has_role(Role.REVIEWER):
        return _("Only reviewers may record a review.")
    if _deciding_own(user, footage_request):
        return _("Nobody may act on a request of their own agency.")
    if not allows("review", footage_request.status):
        return _("This request is not waiting for review.")
    if not _has_perm(user, "requests.review_footagerequest", footage_request):
        return _("Your agency is not assigned to review requests for these cameras and data categories.")
    return None


def _review_refusal(user, footage_request):
    return _review_rule_refusal(user, footage_request) or second_factor_refusal(user)


def _sign_refusal(user, footage_request):
    if not user.has_role(Role.APPROVER):
        return _("Only approving officials may decide on a request.")
    if _deciding_own(user, footage_request):
        return _("Nobody may act on a request of their own agency.")
    # Approving and rejecting start from the same statuses.
    if not allows("approve", footage_request.status):
        return _("This request is not waiting for a decision.")
    if not _has_perm(user, "requests.approve_footagerequest", footage_request):
        return _("Your agency is not assigned to approve requests for these cameras and data categories.")
    if _signed_already(user, footage_request):
        return _("You have already signed this request; a second approval must come from another official.")
    if not _reviewed_since_filing(footage_request):
        return _("The reviewer has not yet recorded a recommendation.")
    return second_factor_refusal(user)


def _signed_already(user, footage_request):
    """Whether `user` holds one of the approvals binding the request as it is now."""
    read = getattr(footage_request, "decisions_read", None)  # all of them, read by the page that asks
    if read is None:
        return binding_approvals(footage_request).filter(actor=user).exists()
    return any(binds(decision, footage_request) and decision.actor_id == user.pk for decision in read)


def _reviewed_since_filing(footage_request):
    """Whether a reviewer recorded a recommendation since the request was last filed."""
    read = getattr(footage_request, "decisions_read", None)
    submitted_at = footage_request.submitted_at
    if submitted_at is None:
        return False
    if read is None:
        return footage_request.decisions.filter(step=Decision.Step.REVIEW, created_at__gte=submitted_at).exists()
    return any(decision.step == Decision.Step.REVIEW and decision.created_at >= submitted_at for decision in read)


def _ask_info_refusal(user, footage_request):
    if not allows("ask_info", footage_request.status):
        return _("More information can be asked only while the request is being examined.")
    if _review_rule_refusal(user, footage_request) is None:
        return second_factor_refusal(user)
    if (
        user.has_role(Role.APPROVER)
        and not _deciding_own(user, footage_request)
        and _has_perm(user, "requests.approve_footagerequest", footage_request)
    ):
        return second_factor_refusal(user)
    return _("Only the assigned reviewers and approvers may ask for more information.")


def _comment_refusal(user, footage_request):
    if _own_agency(user, footage_request) and user.has_role(_filer_role(footage_request)):
        return None
    if _ask_info_refusal(user, footage_request) is None or _has_perm(user, "requests.review_footagerequest", footage_request):
        return None
    if _has_perm(user, "requests.approve_footagerequest", footage_request):
        return None
    return _("Only the requesting agency and the assigned officials may comment on this request.")


Refusal = Callable[[User, FootageRequest], str | None]


def _checks(
    refusal: Refusal, *, ensure_refusal: Refusal | None = None
) -> tuple[Callable[[User, FootageRequest], bool], Callable[[User, FootageRequest], None]]:
    """`can_<verb>` and `ensure_can_<verb>` of one rule: whether `refusal` finds no reason, and raise the reason it finds.

    `ensure_refusal`, when given, is what the act itself needs (a page may show what only the act refuses).
    """
    ensure_refusal = ensure_refusal or refusal

    def can(user: User, footage_request: FootageRequest) -> bool:
        return refusal(user, footage_request) is None

    def ensure(user: User, footage_request: FootageRequest) -> None:
        reason = ensure_refusal(user, footage_request)
        if reason:
            raise WorkflowRefused(reason)

    return can, ensure


can_edit, ensure_can_edit = _checks(_edit_refusal)
can_submit, ensure_can_submit = _checks(_submit_refusal)
can_withdraw, ensure_can_withdraw = _checks(_withdraw_refusal)
can_review, ensure_can_review = _checks(_review_refusal)
# Approve or reject.
can_sign, ensure_can_sign = _checks(_sign_refusal)
can_ask_info, ensure_can_ask_info = _checks(_ask_info_refusal)
can_comment, ensure_can_comment = _checks(_comment_refusal)


def can_create(user: User) -> bool:
    return user.is_authenticated and user.agency_id is not None and user.has_role(Role.REQUESTER)


def can_see_review_queue(user: User) -> bool:
    """The queue of requests waiting for a review or a decision: reviewers and approvers."""
    return user.has_role(Role.REVIEWER, Role.APPROVER)


def can_list_overseen_requests(user: User) -> bool:
    """List every request one reads as an overseer, by agency: auditors, agencies' and system administrators."""
    return overseen_agencies(user).exists()


# Release ---------------------------------------------------------------------


def _custodian_refusal(user, footage_request):
    if not user.has_role(Role.CUSTODIAN):
        return _("Only custodians of the monitoring centre may do this.")
    if not _has_perm(user, "requests.export_footagerequest", footage_request):
        return _("Your agency is not assigned to export footage for these cameras.")
    return None


def _export_refusal(user, footage_request):
    reason = _custodian_refusal(user, footage_request)
    if reason:
        return reason
    if not allows("export", footage_request.status):
        return _("Only an approved request, or one whose export failed, can be exported.")
    if _redaction_unreviewed(footage_request):
        return _("Redacted copies are required: a custodian must review the regions to blur before the export.")
    return second_factor_refusal(user)


def _redaction_unreviewed(footage_request):
    from requests.models import Redaction

    if getattr(footage_request, "has_redaction", None) is False:  # read with the request: none required
        return False
    return Redaction.objects.filter(footage_request=footage_request, reviewed_at__isnull=True).exists()


def _redaction_require_refusal(user, footage_request):
    """Require redacted copies: an approver while deciding, or an assigned custodian before the export."""
    if footage_request.status in (Status.SUBMITTED, Status.IN_REVIEW):
        if _sign_refusal(user, footage_request) is not None:
            return _(
                "Only an approver deciding this request, or an assigned custodian before the export, may require redacted copies."
            )
    else:
        reason = _custodian_before_export_refusal(
            user, footage_request, _("Redacted copies can be required only before the footage is exported.")
        )
        if reason:
            return reason
    return second_factor_refusal(user)


def _redaction_regions_refusal(user, footage_request):
    """Draw, remove and review the regions to blur: an assigned custodian, before the export."""
    too_late = _("The regions to blur can be changed only before the footage is exported.")
    return _custodian_before_export_refusal(user, footage_request, too_late) or second_factor_refusal(user)


def _custodian_before_export_refusal(user, footage_request, too_late):
    """An assigned custodian, while the request waits for its export (or a retry of it); `too_late` otherwise."""
    return _custodian_refusal(user, footage_request) or (None if allows("export", footage_request.status) else too_late)


def _acknowledge_damage_refusal(user, footage_request):
    reason = _custodian_refusal(user, footage_request)
    if reason:
        return reason
    if not allows("acknowledge_damage", footage_request.status):
        return _("No damaged footage of this request is waiting for acknowledgement.")
    return second_factor_refusal(user)


def _recipient_refusal(user, footage_request):
    # A person's own request is handed over at the centre by its custodians, who filed it for them.
    if not (_own_agency(user, footage_request) and user.has_role(_filer_role(footage_request))):
        return _("Only requesting officers of the requesting agency receive the footage.")
    if footage_request.status not in (Status.RELEASED, Status.CLOSED):
        return _("The footage has not been released.")
    return None


def _confirm_refusal(user, footage_request):
    reason = _recipient_refusal(user, footage_request)
    if reason:
        return reason
    if not allows("close", footage_request.status):
        return _("Receipt has already been confirmed.")
    return None


def _custodian_action_refusal(user, footage_request):
    """What an assigned custodian does to a release (holds, revocations): their role there and the second factor."""
    return _custodian_refusal(user, footage_request) or second_factor_refusal(user)


def _verification_revoke_refusal(user, footage_request):
    from governance.permissions import can_administer_governance

    if can_administer_governance(user) or _custodian_refusal(user, footage_request) is None:
        return None
    return _("Only the custodians assigned to this request, or the centre's system administrators, revoke its links.")


def _verification_revoke_action_refusal(user, footage_request):
    return _verification_revoke_refusal(user, footage_request) or second_factor_refusal(user)


can_export, ensure_can_export = _checks(_export_refusal)
can_require_redaction, ensure_can_require_redaction = _checks(_redaction_require_refusal)
can_edit_redaction, ensure_can_edit_redaction = _checks(_redaction_regions_refusal)
# Place or lift a legal hold: the assigned custodians.
can_hold, ensure_can_hold = _checks(_custodian_action_refusal)
# See every download link of the release and the button that revokes them: the assigned custodians. Revoking the
# links themselves needs the second factor too.
can_revoke, ensure_can_revoke = _checks(_custodian_refusal, ensure_refusal=_custodian_action_refusal)
# Acknowledge the damage an export found, which releases the footage held for it: the assigned custodians.
can_acknowledge_damage, ensure_can_acknowledge_damage = _checks(_acknowledge_damage_refusal)
# See the download page and take a download link.
can_receive, ensure_can_receive = _checks(_recipient_refusal)
can_confirm_receipt, ensure_can_confirm_receipt = _checks(_confirm_refusal)
# Revoke the release's verification links: the assigned custodians and the centre's system administrators.
can_revoke_verification, ensure_can_revoke_verification = _checks(
    _verification_revoke_refusal, ensure_refusal=_verification_revoke_action_refusal
)


def _sees_every_release(user):
    return user.has_role(Role.AUDITOR, Role.ADMINISTRATOR)


def can_see_release(user: User, footage_request: FootageRequest) -> bool:
    """Open the release page: its recipients, the assigned custodians, auditors and administrators.

    While a package is held for its damage, its recipients do not (they cannot receive it yet)."""
    return can_receive(user, footage_request) or can_revoke(user, footage_request) or _sees_every_release(user)


def can_see_every_grant(user: User, footage_request: FootageRequest) -> bool:
    """See the download links of every recipient of the release, not only one's own."""
    return can_revoke(user, footage_request) or _sees_every_release(user)
