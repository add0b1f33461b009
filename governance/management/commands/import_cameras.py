"""python manage.py import_cameras FILE.csv [--actor USERNAME]: all rows or none (columns in governance/imports.py)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from governance.imports import CameraImportError, camera_import_csv, format_import_error


class Command(BaseCommand):
    @property
    def help(self):
        return _("Create or update cameras from a CSV file; a file with any bad row changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("CSV file, UTF-8, header row first (see examples/cameras.csv)"))
        parser.add_argument("--actor", help=_("user name recorded in the ledger as having run the import"))

    def handle(self, *args, file, actor=None, **options):
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(_("No user has the user name %(username)s.") % {"username": actor})
        try:
            with open(file, "rb") as stream:
                result = camera_import_csv(actor=user, file=stream)
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(reason)s") % {"path": file, "reason": exc.strerror or exc})
        except CameraImportError as exc:
            for line, message in exc.errors:
                self.stderr.write(format_import_error(line, message))
            raise CommandError(
                _("%(count)s problem(s) found in %(path)s; nothing was imported.") % {"count": len(exc.errors), "path": file}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(rows)s rows: %(created)s cameras created, %(updated)s updated, %(unchanged)s unchanged.")
                % {"rows": result.rows, "created": result.created, "updated": result.updated, "unchanged": result.unchanged}
            )
        )
