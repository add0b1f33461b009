from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Restore a backup into an empty database and empty storage: every file is checked against the manifest "
            "first, the ledger must verify to the manifest's head, and a restore event chains on."
        )

    def add_arguments(self, parser):
        parser.add_argument("folder", help=_("the backup folder (the one holding manifest.json)"))
        parser.add_argument("--database", default="default")

    def handle(self, *args, folder, database, **options):
        try:
            outcome = restore_backup(folder, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for line in outcome.lines:
            self.stdout.write(line)
        if outcome.problems:
            raise CommandError(_("Restored, but: %(problems)s") % {"problems": "; ".join(outcome.problems)})
