"""Who may do what to a footage request. `can_*` for templates, `ensure_can_*` raise with the reason.

Decisions (review, approval, rejection, asking for information), exports, damage
acknowledgements, legal holds and link revocations also need a web session that
passed the second factor (governance.second_factor): checked here, last, so that
it is the reason given only when everything else allows the act.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from governance.models import Role
from governance.second_factor import second_factor_refusal
from requests.models import Decision, Status


class WorkflowRefused(PermissionDenied):
    """A rule refused the action; the message says which, in the user's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _own_agency(user, footage_request):
    return user.agency_id is not None and user.agency_id == footage_request.agency_id


def _edit_refusal(user, footage_request):
    if not (_own_agency(user, footage_request) and user.has_role(Role.REQUESTER)):
        return _("Only requesting officers of the requesting agency may change this request.")
    if not footage_request.is_editable:
        return _("A request can be changed only while it is a draft or more information is requested.")
    if not user.has_perm("requests.change_footagerequest", footage_request):
        return _("You do not hold the permission to change this request.")
    return None


def _withdraw_refusal(user, footage_request):
    if not (_own_agency(user, footage_request) and user.has_role(Role.REQUESTER)):
        return _("Only requesting officers of the requesting agency may withdraw this request.")
    if footage_request.status not in (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO):
        return _("This request can no longer be withdrawn.")
    return None


def _review_rule_refusal(user, footage_request):
    if not user.has_role(Role.REVIEWER):
        return _("Only reviewers may record a review.")
    if _own_agency(user, footage_request):
        return _("Nobody may act on a request of their own agency.")
    if footage_request.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        return _("This request is not waiting for review.")
    if not user.has_perm("requests.review_footagerequest", footage_request):
        return _("Your agency is not assigned to review requests for these cameras and data categories.")
    return None


def _review_refusal(user, footage_request):
    return _review_rule_refusal(user, footage_request) or second_factor_refusal(user)


def _sign_refusal(user, footage_request):
    if not user.has_role(Role.APPROVER):
        return _("Only approving officials may decide on a request.")
    if _own_agency(user, footage_request):
        return _("Nobody may act on a request of their own agency.")
    if footage_request.status != Status.IN_REVIEW:
        return _("This request is not waiting for a decision.")
    if not user.has_perm("requests.approve_footagerequest", footage_request):
        return _("Your agency is not assigned to approve requests for these cameras and data categories.")
    if Decision.objects.filter(
        footage_request=footage_request, actor=user, step=Decision.Step.APPROVAL, content_hash=footage_request.content_hash
    ).exists():
        return _("You have already signed this request; a second approval must come from another official.")
    if not footage_request.decisions.filter(step=Decision.Step.REVIEW, created_at__gte=footage_request.submitted_at).exists():
        return _("The reviewer has not yet recorded a recommendation.")
    return second_factor_refusal(user)


def _ask_info_refusal(user, footage_request):
    if footage_request.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        return _("More information can be asked only while the request is being examined.")
    if _review_rule_refusal(user, footage_request) is None:
        return second_factor_refusal(user)
    if (
        user.has_role(Role.APPROVER)
        and not _own_agency(user, footage_request)
        and user.has_perm("requests.approve_footagerequest", footage_request)
    ):
        return second_factor_refusal(user)
    return _("Only the assigned reviewers and approvers may ask for more information.")


def _comment_refusal(user, footage_request):
    if _own_agency(user, footage_request) and user.has_role(Role.REQUESTER):
        return None
    if _ask_info_refusal(user, footage_request) is None or user.has_perm("requests.review_footagerequest", footage_request):
        return None
    if user.has_perm("requests.approve_footagerequest", footage_request):
        return None
    return _("Only the requesting agency and the assigned officials may comment on this request.")


def _raise(reason):
    if reason:
        raise WorkflowRefused(reason)


def can_edit(user, footage_request):
    return _edit_refusal(user, footage_request) is None


def ensure_can_edit(user, footage_request):
    _raise(_edit_refusal(user, footage_request))


can_submit, ensure_can_submit = can_edit, ensure_can_edit


def can_withdraw(user, footage_request):
    return _withdraw_refusal(user, footage_request) is None


def ensure_can_withdraw(user, footage_request):
    _raise(_withdraw_refusal(user, footage_request))


def can_review(user, footage_request):
    return _review_refusal(user, footage_request) is None


def ensure_can_review(user, footage_request):
    _raise(_review_refusal(user, footage_request))


def can_sign(user, footage_request):
    """Approve or reject."""
    return _sign_refusal(user, footage_request) is None


def ensure_can_sign(user, footage_request):
    _raise(_sign_refusal(user, footage_request))


def can_ask_info(user, footage_request):
    return _ask_info_refusal(user, footage_request) is None


def ensure_can_ask_info(user, footage_request):
    _raise(_ask_info_refusal(user, footage_request))


def can_comment(user, footage_request):
    return _comment_refusal(user, footage_request) is None


def ensure_can_comment(user, footage_request):
    _raise(_comment_refusal(user, footage_request))


def can_create(user):
    return user.is_authenticated and user.agency_id is not None and user.has_role(Role.REQUESTER)


# Release ---------------------------------------------------------------------


def _custodian_refusal(user, footage_request):
    if not user.has_role(Role.CUSTODIAN):
        return _("Only custodians of the monitoring centre may do this.")
    if not user.has_perm("requests.export_footagerequest", footage_request):
        return _("Your agency is not assigned to export footage for these cameras.")
    return None


def _export_refusal(user, footage_request):
    reason = _custodian_refusal(user, footage_request)
    if reason:
        return reason
    if footage_request.status not in (Status.APPROVED, Status.EXPORT_FAILED):
        return _("Only an approved request, or one whose export failed, can be exported.")
    return second_factor_refusal(user)


def _acknowledge_damage_refusal(user, footage_request):
    reason = _custodian_refusal(user, footage_request)
    if reason:
        return reason
    if footage_request.status != Status.DAMAGE_HELD:
        return _("No damaged footage of this request is waiting for acknowledgement.")
    return second_factor_refusal(user)


def _recipient_refusal(user, footage_request):
    if not (_own_agency(user, footage_request) and user.has_role(Role.REQUESTER)):
        return _("Only requesting officers of the requesting agency receive the footage.")
    if footage_request.status not in (Status.RELEASED, Status.CLOSED):
        return _("The footage has not been released.")
    return None


def _confirm_refusal(user, footage_request):
    reason = _recipient_refusal(user, footage_request)
    if reason:
        return reason
    if footage_request.status != Status.RELEASED:
        return _("Receipt has already been confirmed.")
    return None


def can_export(user, footage_request):
    return _export_refusal(user, footage_request) is None


def ensure_can_export(user, footage_request):
    _raise(_export_refusal(user, footage_request))


def _custodian_action_refusal(user, footage_request):
    """What an assigned custodian does to a release (holds, revocations): their role there and the second factor."""
    return _custodian_refusal(user, footage_request) or second_factor_refusal(user)


def can_hold(user, footage_request):
    """Place or lift a legal hold: the assigned custodians."""
    return _custodian_action_refusal(user, footage_request) is None


def ensure_can_hold(user, footage_request):
    _raise(_custodian_action_refusal(user, footage_request))


def can_revoke(user, footage_request):
    """See every download link of the release and the button that revokes them: the assigned custodians."""
    return _custodian_refusal(user, footage_request) is None


def ensure_can_revoke(user, footage_request):
    """Revoking the links themselves needs the second factor too."""
    _raise(_custodian_action_refusal(user, footage_request))


def can_acknowledge_damage(user, footage_request):
    """Acknowledge the damage an export found, which releases the footage held for it: the assigned custodians."""
    return _acknowledge_damage_refusal(user, footage_request) is None


def ensure_can_acknowledge_damage(user, footage_request):
    _raise(_acknowledge_damage_refusal(user, footage_request))


def can_receive(user, footage_request):
    """See the download page and take a download link."""
    return _recipient_refusal(user, footage_request) is None


def ensure_can_receive(user, footage_request):
    _raise(_recipient_refusal(user, footage_request))


def can_confirm_receipt(user, footage_request):
    return _confirm_refusal(user, footage_request) is None


def ensure_can_confirm_receipt(user, footage_request):
    _raise(_confirm_refusal(user, footage_request))


def _verification_revoke_refusal(user, footage_request):
    from governance.permissions import can_administer_governance

    if can_administer_governance(user) or _custodian_refusal(user, footage_request) is None:
        return None
    return _("Only the custodians assigned to this request, or the centre's system administrators, revoke its links.")


def can_revoke_verification(user, footage_request):
    """Revoke the release's verification links: the assigned custodians and the centre's system administrators."""
    return _verification_revoke_refusal(user, footage_request) is None


def ensure_can_revoke_verification(user, footage_request):
    _raise(_verification_revoke_refusal(user, footage_request) or second_factor_refusal(user))
