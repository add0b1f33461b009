from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.demo import DemoRefused, refuse_in_production
from governance import services
from governance.models import Area, Camera, RecorderSite

# The demo's two recorder sites, each holding the recordings of every other ward's cameras.
SITES = (
    ("dg-hk-1", "Đầu ghi Hoàn Kiếm — cụm 1", "site-hk-1"),
    ("dg-hk-2", "Đầu ghi Hoàn Kiếm — cụm 2", "site-hk-2"),
)


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Demo only: two recorder sites, each with its own export queue, holding the demo cameras of alternate "
            "wards (each change in the ledger). Prints the queues for the workers to read."
        )

    def handle(self, *args, **options):
        try:
            refuse_in_production()
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        wards = list(Area.objects.filter(cameras__isnull=False).distinct().order_by("code"))
        if not wards:
            raise CommandError(_("No demo camera found: run seed_demo first."))
        with transaction.atomic():
            sites = []
            for code, name, queue in SITES:
                site = RecorderSite.objects.filter(code=code).first()
                if site is None:
                    site = RecorderSite(code=code, name=name, queue=queue)
                    site.full_clean()
                    site.save()
                    services.governance_record_saved(actor=None, obj=site, created=True)
                sites.append(site)
            for number, ward in enumerate(wards):
                site = sites[number % len(sites)]
                for camera in Camera.objects.filter(area=ward).exclude(site=site):
                    camera.site = site
                    camera.save(update_fields=["site", "updated_at"])
                    services.governance_record_saved(actor=None, obj=camera, created=False, changed_fields=["site"])
        self.stdout.write(",".join(site.queue for site in sites))
