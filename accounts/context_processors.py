from accounts.permissions import is_system_administrator
from governance.second_factor import second_factor_refusal


def second_factor(request):
    """Whether this session still owes its second factor (a banner says so on every page), and the admins' link."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "second_factor_pending": signed_in and bool(second_factor_refusal(user)),
        "can_manage_signins": signed_in and is_system_administrator(user),
    }
