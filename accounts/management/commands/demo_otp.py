from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import DemoRefused, demo_code, refuse_in_production


class Command(BaseCommand):
    help = _("Print the current one-time code of the demo accounts' shared authenticator key (demo only).")

    def handle(self, *args, **options):
        try:
            refuse_in_production()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(demo_code())
