from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import DemoRefused, demo_instructions, demo_second_factor_seed, refuse_in_production
from audit.checkpoints import SigningKeyError, checkpoint_create
from governance.demo import DEMO_PASSWORD, Seeder
from requests.demo import seed_requests


class Command(BaseCommand):
    help = _("Create the demo district, agencies, users, cameras, legal bases and a published regulation (idempotent).")

    def handle(self, *args, **options):
        try:
            refuse_in_production()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        seeder = Seeder(stdout=self.stdout)
        users = seeder.run()
        # Written once: a database that already has requests keeps them as they are.
        seeder.changes += seed_requests()
        seeder.changes += demo_second_factor_seed(users)
        if seeder.changes:
            self.stdout.write(self.style.SUCCESS(_("Demo data written (%(n)d changes).") % {"n": seeder.changes}))
            # A new user opens the ledger pages and the verifier on a ledger that a signed checkpoint already fixes.
            try:
                checkpoint = checkpoint_create()
            except SigningKeyError as error:
                self.stdout.write(self.style.WARNING(str(error)))
            else:
                self.stdout.write(_("Ledger checkpoint signed at sequence %(seq)s.") % {"seq": checkpoint.seq})
        else:
            self.stdout.write(_("Demo data already in place; nothing changed."))
        self.stdout.write("")
        self.stdout.write(_("Demo accounts (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
        width = max(len(u.username) for u in users)
        for user in users:
            self.stdout.write(f"  {user.username.ljust(width)}  {user.agency.name_vi}")
        self.stdout.write("")
        for line in demo_instructions():
            self.stdout.write(line)
