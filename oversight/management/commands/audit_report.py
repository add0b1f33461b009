import datetime as dt
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from governance.models import Agency, Area, LegalBasis


def _date(value):
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise CommandError(_("%(value)s is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.") % {"value": value})


class Command(BaseCommand):
    @property
    def help(self):
        return _("Build the oversight report for a period (PDF, or a zip of CSV tables) and record its SHA-256 in the ledger.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help=_("first day of the period (YYYY-MM-DD)"))
        parser.add_argument("--to", dest="date_to", required=True, help=_("last day of the period (YYYY-MM-DD)"))
        parser.add_argument("--agency", help=_("only this requesting agency (its code)"))
        parser.add_argument("--area", help=_("only agencies in this area (its code)"))
        parser.add_argument("--basis", help=_("only this legal basis (its code)"))
        parser.add_argument("--format", choices=["pdf", "csv"], default="pdf")
        parser.add_argument("--out", required=True, help=_("file to write"))

    def handle(self, *args, date_from, date_to, agency, area, basis, format, out, **options):
        from oversight.reports import report_build_now

        date_from, date_to = _date(date_from), _date(date_to)
        if date_from > date_to:
            raise CommandError(_("The end date cannot be before the start date."))
        scope = {
            "agency": self._get(Agency, agency, _("No agency has the code %(code)s.")),
            "area": self._get(Area, area, _("No area has the code %(code)s.")),
            "legal_basis": self._get(LegalBasis, basis, _("No legal basis has the code %(code)s.")),
        }
        target = Path(out)
        if target.is_dir():
            raise CommandError(_("%(path)s is a folder; give a file name.") % {"path": target})
        if not target.parent.exists():
            raise CommandError(_("The folder %(path)s does not exist.") % {"path": target.parent})
        # The report is kept with the others (administrators find it on the report pages) and copied to --out.
        report, built = report_build_now(date_from=date_from, date_to=date_to, formats=[format], **scope)
        path, sha256 = built[format]
        shutil.copyfile(path, target)
        values = {"code": report.code, "path": target, "pages": report.pages, "releases": report.releases, "sha": sha256}
        if format == "pdf":
            message = _(
                "%(code)s written to %(path)s (%(pages)s pages, %(releases)s releases); SHA-256 %(sha)s, recorded in the ledger."
            )
        else:
            message = _("%(code)s written to %(path)s (%(releases)s releases); SHA-256 %(sha)s, recorded in the ledger.")
        self.stdout.write(message % values)

    def _get(self, model, code, message):
        if not code:
            return None
        try:
            return model.objects.get(code=code)
        except model.DoesNotExist:
            raise CommandError(message % {"code": code}) from None
