import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.bundle import BundleError, ledger_export
from audit.chain import format_fingerprint
from audit.selectors import current_signing_key_fingerprint


def _date(value, option):
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(_("%(option)s must be a date written YYYY-MM-DD, not %(value)r.") % {"option": option, "value": value})


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Write the ledger events of whole days (in the configured time zone), and the events after them up to "
            "the first signed checkpoint that fixes them all, with their signed checkpoints, the key register and the "
            "standalone verifier to a new directory."
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
        if summary.unanchored:
            first, last = summary.unanchored
            self.stderr.write(
                _(
                    "NOT FULLY ANCHORED: events %(first)s to %(last)s are covered by no signed checkpoint yet, so the "
                    "bundle proves them by the hash chain only and its verifier exits with status 3. The first "
                    "checkpoint signed after them will cover them (the scheduler signs one every %(minutes)s minutes "
                    "once the ledger has moved): export again after it. A period that includes the present always "
                    "ends with such events."
                )
                % {"first": first, "last": last, "minutes": settings.AUDIT_CHECKPOINT_MINUTES}
            )
        elif summary.last_seq != summary.requested_last_seq:
            self.stdout.write(
                _(
                    "The period's events end at sequence %(requested)s; the bundle runs on to sequence %(last)s, "
                    "where a signed checkpoint fixes them all."
                )
                % {"requested": summary.requested_last_seq, "last": summary.last_seq}
            )
        else:
            self.stdout.write(
                _("A signed checkpoint at sequence %(last)s fixes every event of the bundle.") % {"last": summary.last_seq}
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
