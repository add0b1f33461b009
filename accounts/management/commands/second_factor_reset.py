from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.services import SecondFactorError, second_factor_reset


class Command(BaseCommand):
    help = _("Remove every second-factor device of an account (it enrols again at its next sign-in); in the ledger.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help=_("Why, for the ledger (for example: phone lost)."))

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account has this user name."))
        try:
            removed = second_factor_reset(actor=None, user=user, reason=reason)
        except SecondFactorError as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            _("Second factor of %(user)s reset: %(n)d devices removed.") % {"user": username, "n": sum(removed.values())}
        )
