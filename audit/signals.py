"""Sign-in, sign-out and failed sign-in go to the ledger.

Django announces these only through signals, so receivers are the one place
to catch them; each opens its own transaction for its single event.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audit import record_event
from audit.models import Action, Outcome


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


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")[:150]
    User = get_user_model()
    known = User.objects.filter(username=username).only("pk", "is_staff", "is_superuser").first()
    data = {"username": username, "known_user": known is not None}
    if known is not None:
        data["privileged"] = known.is_staff or known.is_superuser or known.memberships.exclude(role="requester").exists()
    with transaction.atomic():
        record_event(
            actor=None,
            action=Action.LOGIN_FAILED,
            target=known,
            data=data,
            http_request=request,
            outcome=Outcome.DENIED,
        )
