from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.ledger_check import verify_chain


class Command(BaseCommand):
    @property
    def help(self):
        return _("Recompute the whole hash chain of the ledger and report the first broken sequence number, if any.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-seq", type=int, default=None, help=_("start at this sequence number (default: the first event)")
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, from_seq, database, **options):
        if from_seq is not None and from_seq < 1:
            raise CommandError(_("--from-seq must be 1 or more."))
        result = verify_chain(using=database, from_seq=from_seq)
        if not result.ok:
            problem = result.problem
            raise CommandError(
                _("first broken sequence %(seq)s: %(kind)s: %(detail)s")
                % {"seq": problem.seq, "kind": problem.kind, "detail": problem.detail}
            )
        if not result.events_checked:
            self.stdout.write(_("The ledger holds no events to check."))
            return
        self.stdout.write(
            _("Ledger intact: %(count)s events, sequence %(first)s to %(head)s, head %(hash)s (%(seconds).1f s).")
            % {
                "count": result.events_checked,
                "first": result.first_seq,
                "head": result.head_seq,
                "hash": result.head_hash,
                "seconds": result.seconds,
            }
        )
