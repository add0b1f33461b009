from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import DemoRefused, demo_instructions, refuse_in_production
from governance.demo import DEMO_PASSWORD
from requests.demo import journey


class Command(BaseCommand):
    help = _("List the demo accounts that take a request from filing to oversight, with the demo password.")

    def handle(self, *args, **options):
        try:
            refuse_in_production()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        accounts = journey()
        if not accounts:
            raise CommandError(_("No demo account found: run seed_demo first."))
        self.stdout.write(
            _("Demo accounts that take a request from filing to oversight (password for all: %(password)s):")
            % {"password": DEMO_PASSWORD}
        )
        width = max(len(username) for _role, username in accounts)
        for step, (role, username) in enumerate(accounts, start=1):
            self.stdout.write(f"  {step}. {username.ljust(width)}  {role.label}")
        for line in demo_instructions():
            self.stdout.write(line)
