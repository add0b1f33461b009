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
        origin = parser.add_mutually_exclusive_group(required=True)
        origin.add_argument(
            "--manifest-sha256",
            metavar="HEX",
            help=_("the manifest's SHA-256 as printed (and recorded in the ledger) when the backup was made"),
        )
        origin.add_argument(
            "--origin-not-checked",
            action="store_true",
            help=_("restore without that SHA-256: nothing then tells a forged backup from a genuine one"),
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, folder, database, manifest_sha256, origin_not_checked, **options):
        try:
            outcome = restore_backup(folder, expected_sha256=manifest_sha256, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for line in outcome.lines:
            self.stdout.write(line)
        if outcome.problems:
            raise CommandError(_("Restored, but: %(problems)s") % {"problems": "; ".join(outcome.problems)})
