"""Failed sign-ins and lock-outs reach the ledger by burst (accounts.signin); Django and axes announce them by
signals. A sign-in also starts the idle clock (accounts.middleware)."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts.middleware import LAST_ACTIVITY
from accounts.signin import signin_failure_record, signin_lockout_record


@receiver(user_logged_in, dispatch_uid="accounts_logged_in")
def _logged_in(sender, request, user, **kwargs):
    # The idle clock starts at sign-in (and the first page need not write the session again).
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY] = int(time.time())


@receiver(user_login_failed, dispatch_uid="accounts_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    signin_failure_record(username=(credentials or {}).get("username", ""), http_request=request)


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    signin_lockout_record(username=username, http_request=request)
