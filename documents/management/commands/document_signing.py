from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from documents.signing import certificate_fingerprint, create_self_signed


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "The organisation's document signing identity: show the configured certificate, or create a self-signed "
            "key and certificate (for a test or staging installation; production uses a certificate issued by a "
            "certification authority)."
        )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="show|create-self-signed")
        actions.add_parser("show", help=_("the configured certificate's subject and SHA-256 fingerprint"))
        create = actions.add_parser("create-self-signed", help=_("write a new key and self-signed certificate"))
        create.add_argument(
            "--organisation",
            default=None,
            help=_("the organisation named in the certificate (default: DOCUMENT_SIGNING_ORGANISATION)"),
        )

    def handle(self, *args, action, **options):
        key_path, cert_path = Path(settings.DOCUMENT_SIGNING_KEY_FILE), Path(settings.DOCUMENT_SIGNING_CERT_FILE)
        if action == "show":
            try:
                pem = cert_path.read_bytes()
            except OSError:
                raise CommandError(_("No certificate at DOCUMENT_SIGNING_CERT_FILE."))
            try:
                fingerprint = certificate_fingerprint(pem)
            except ValueError:
                raise CommandError(_("The file at DOCUMENT_SIGNING_CERT_FILE is not a PEM certificate."))
            self.stdout.write(_("Certificate SHA-256 fingerprint: %(fingerprint)s") % {"fingerprint": fingerprint})
            return
        if key_path.exists() or cert_path.exists():
            raise CommandError(_("A signing key or certificate is already in place; nothing was written."))
        organisation = (options["organisation"] or settings.DOCUMENT_SIGNING_ORGANISATION).strip()
        if not organisation or "\x00" in organisation:
            raise CommandError(_("Name the organisation."))
        create_self_signed(key_path, cert_path, organisation)
        self.stdout.write(
            _("Self-signed certificate created; SHA-256 fingerprint: %(fingerprint)s")
            % {"fingerprint": certificate_fingerprint(cert_path.read_bytes())}
        )
