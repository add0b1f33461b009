"""Sign-in and sign-out go to the ledger.

Django announces these only through signals, so receivers are the one place
to catch them; each opens its own transaction for its single event. Failed
sign-ins are counted by burst, not logged one by one (accounts.signin).
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver

from audit import record_event
from audit.models import Action


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        record_event(actor=user, action=Action.LOGIN, target=user, http_request=request)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    with transaction.atomic():
        record_event(actor=user, action=Action.LOGOUT, target=user, http_request=request)
