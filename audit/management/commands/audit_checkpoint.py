from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.checkpoints import SigningKeyError, checkpoint_create
from audit.models import Checkpoint


class Command(BaseCommand):
    @property
    def help(self):
        return _("Sign the current ledger head with the Ed25519 checkpoint key and record the checkpoint in the ledger.")

    def handle(self, *args, **options):
        before = Checkpoint.objects.order_by("-seq").values_list("pk", flat=True).first()
        try:
            checkpoint = checkpoint_create(actor=None)
        except SigningKeyError as exc:
            raise CommandError(str(exc))
        if checkpoint is None:
            self.stdout.write(_("The ledger is empty: nothing to sign."))
            return
        if checkpoint.pk == before:
            self.stdout.write(_("Nothing new since the last checkpoint:"))
        self.stdout.write(
            _(
                "Checkpoint at sequence %(seq)s, head %(hash)s, signed %(signed_at)s with key %(key_id)s "
                "(fingerprint %(fingerprint)s)."
            )
            % {
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "signed_at": checkpoint.signed_at,
                "key_id": checkpoint.key_id,
                "fingerprint": checkpoint.display_fingerprint,
            }
        )
