"""Who may read the ledger: oversight bodies and administrators, nobody else."""

from django.http import Http404

from governance.models import Role

LEDGER_READER_ROLES = (Role.AUDITOR, Role.ADMINISTRATOR)


def can_read_ledger(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*LEDGER_READER_ROLES)


def ensure_can_read_ledger(user):
    # 404, not 403: a user without the role learns nothing about these pages.
    if not can_read_ledger(user):
        raise Http404
