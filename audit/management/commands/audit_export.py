import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.bundle import BundleError, ledger_export
from audit.selectors import current_signing_key_fingerprint
from audit.verifier import format_fingerprint


def _date(value, option):
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(_("%(option)s must be a date written YYYY-MM-DD, not %(value)r.") % {"option": option, "value": value})


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Write the ledger events of whole days (in the configured time zone) with their signed checkpoints, "
            "the key register and the standalone verifier to a new directory."
        )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--out", required=True, metavar="DIR", help=_("a new or empty directory"))
        parser.add_argument("--actor", default=None, metavar="USERNAME", help=_("only the span of this user's events"))

    def handle(self, *args, date_from, date_to, out, actor, **options):
        start, end = _date(date_from, "--from"), _date(date_to, "--to")
        try:
            summary = ledger_export(directory=out, date_from=start, date_to=end, actor_username=actor)
        except BundleError as exc:
            raise CommandError(str(exc))
        if not summary.event_count:
            self.stdout.write(
                _("No ledger events in this period; the bundle at %(path)s is empty.") % {"path": summary.directory}
            )
            return
        self.stdout.write(
            _("Exported %(count)s events (sequence %(first)s to %(last)s) and %(checkpoints)s checkpoints to %(path)s.")
            % {
                "count": summary.event_count,
                "first": summary.first_seq,
                "last": summary.last_seq,
                "checkpoints": summary.checkpoint_count,
                "path": summary.directory,
            }
        )
        # The keys that signed this bundle's checkpoints; the reader should have their fingerprints from us already.
        fingerprints = [format_fingerprint(f) for f in summary.signer_fingerprints]
        if not fingerprints and current_signing_key_fingerprint():
            fingerprints = [current_signing_key_fingerprint()]
        if fingerprints:
            self.stdout.write(
                _("Verify it with: python verifier.py %(path)s %(trusted)s")
                % {"path": summary.directory, "trusted": " ".join(f'--trusted-key "{f}"' for f in fingerprints)}
            )
        else:
            self.stdout.write(_("Verify it with: python verifier.py %(path)s") % {"path": summary.directory})
