from accounts.permissions import is_system_administrator
from governance.permissions import can_administer_users
from governance.second_factor import second_factor_refusal


def second_factor(request):
    """Whether this session still owes its second factor (a banner says so on every page), and the admins' link."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "second_factor_pending": signed_in and bool(second_factor_refusal(user)),
        "can_manage_signins": signed_in and is_system_administrator(user),
        # The service accounts' pages (api.tokens.can_manage_service_accounts: an administrator of an agency).
        "can_manage_service_accounts": signed_in
        and bool(can_administer_users(user) and user.agency_id and not user.is_service_account),
    }
