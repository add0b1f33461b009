from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from governance.demo import DEMO_PASSWORD, Seeder


class Command(BaseCommand):
    help = _("Create the demo district, agencies, users, cameras, legal bases and a published regulation (idempotent).")

    def handle(self, *args, **options):
        from requests.demo import seed_requests

        seeder = Seeder(stdout=self.stdout)
        users = seeder.run()
        # Written once: a database that already has requests keeps them as they are.
        seeder.changes += seed_requests()
        if seeder.changes:
            self.stdout.write(self.style.SUCCESS(_("Demo data written (%(n)d changes).") % {"n": seeder.changes}))
        else:
            self.stdout.write(_("Demo data already in place; nothing changed."))
        self.stdout.write("")
        self.stdout.write(_("Demo accounts (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
        width = max(len(u.username) for u in users)
        for user in users:
            self.stdout.write(f"  {user.username.ljust(width)}  {user.agency.name_vi}")
