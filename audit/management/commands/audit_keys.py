from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.chain import fingerprint_for, format_time
from audit.checkpoints import SigningKeyError, load_signing_key
from audit.keys import KeyRegisterError, find_signing_key, signing_key_register, signing_key_retire
from audit.selectors import current_signing_key, signing_keys


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "The register of ledger signing keys: list the keys and their fingerprints, register a key, retire a key "
            "(it signs no more checkpoints; those it signed stay valid)."
        )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="list|register|retire")
        actions.add_parser("list", help=_("every registered key with its fingerprint and validity"))
        register = actions.add_parser("register", help=_("register the configured signing key (or --key-file)"))
        register.add_argument(
            "--key-file", default=None, metavar="PATH", help=_("an Ed25519 private key (default: AUDIT_SIGNING_KEY_FILE)")
        )
        register.add_argument("--note", default="", help=_("why the key is registered"))
        retire = actions.add_parser("retire", help=_("retire a key from now on"))
        retire.add_argument("key", metavar="FINGERPRINT|KEY_ID", help=_("the key's fingerprint or its 16-digit key id"))
        retire.add_argument("--note", default="", help=_("why the key is retired"))

    def handle(self, *args, action, **options):
        try:
            if action == "list":
                self.list_keys()
            elif action == "register":
                self.register(options["key_file"], options["note"])
            else:
                self.retire(options["key"], options["note"])
        except (KeyRegisterError, SigningKeyError) as exc:
            raise CommandError(str(exc))

    def list_keys(self):
        current = current_signing_key()
        configured = self._configured_fingerprint()
        rows = list(signing_keys())
        if not rows:
            self.stdout.write(_("No signing key is registered yet; the configured key is registered when it first signs."))
        for signing_key in rows:
            if signing_key.retired_at:
                state = _("retired %(retired_at)s") % {"retired_at": format_time(signing_key.retired_at)}
            elif current and signing_key.pk == current.pk:
                state = _("current")
            else:
                state = _("valid")
            if signing_key.fingerprint == configured:
                state += ", " + _("configured in AUDIT_SIGNING_KEY_FILE")
            self.stdout.write(
                _("%(fingerprint)s  key id %(key_id)s, valid from %(valid_from)s, %(state)s")
                % {
                    "fingerprint": signing_key.display_fingerprint,
                    "key_id": signing_key.key_id,
                    "valid_from": format_time(signing_key.valid_from),
                    "state": state,
                }
            )
            if signing_key.note:
                self.stdout.write("    " + signing_key.note.replace("\n", "\n    "))

    def _configured_fingerprint(self):
        try:
            return fingerprint_for(load_signing_key().public_key())
        except SigningKeyError:
            return None

    def register(self, key_file, note):
        key = load_signing_key(Path(key_file) if key_file else None)
        signing_key = signing_key_register(actor=None, public_key=key.public_key(), note=note)
        self.stdout.write(
            _("Registered key %(key_id)s, fingerprint %(fingerprint)s, valid from %(valid_from)s.")
            % {
                "key_id": signing_key.key_id,
                "fingerprint": signing_key.display_fingerprint,
                "valid_from": format_time(signing_key.valid_from),
            }
        )

    def retire(self, text, note):
        signing_key = signing_key_retire(actor=None, signing_key=find_signing_key(text), note=note)
        self.stdout.write(
            _("Retired key %(key_id)s, fingerprint %(fingerprint)s, at %(retired_at)s.")
            % {
                "key_id": signing_key.key_id,
                "fingerprint": signing_key.display_fingerprint,
                "retired_at": format_time(signing_key.retired_at),
            }
        )
        if signing_key.fingerprint == self._configured_fingerprint():
            self.stderr.write(
                _("AUDIT_SIGNING_KEY_FILE (%(path)s) still holds this key: no checkpoint is signed until it names a new key.")
                % {"path": settings.AUDIT_SIGNING_KEY_FILE}
            )
