from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from operations.backup import BackupError, create_backup


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Back up the database (with the ledger head read in the same snapshot), the stored evidence and the "
            "signing keys into a new folder, with a manifest of every file's SHA-256."
        )

    def add_arguments(self, parser):
        parser.add_argument("folder", help=_("a new or empty folder to write the backup into"))
        parser.add_argument("--database", default="default")

    def handle(self, *args, folder, database, **options):
        try:
            outcome = create_backup(folder, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for line in outcome.lines:
            self.stdout.write(line)
        if outcome.problems:
            raise CommandError(_("The backup was written, but: %(problems)s") % {"problems": "; ".join(outcome.problems)})
