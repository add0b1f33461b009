from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from documents.signing import SigningIdentityError, verify_pdf
from governance.timefmt import DATE_TIME_SECONDS, local_time


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Check the organisation's PDF signature on a record (hand-over record, report, dossier) against the pinned "
            "certificate, and say what was checked."
        )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("the PDF file to check"))
        parser.add_argument(
            "--certificate",
            default=None,
            metavar="PEM",
            help=_("the certificate to check against (default: DOCUMENT_SIGNING_CERT_FILE)"),
        )

    def handle(self, *args, file, certificate, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(_("The file cannot be read: %(error)s") % {"error": exc.strerror or exc})
        try:
            pinned = Path(certificate).read_bytes() if certificate else None
        except OSError as exc:
            raise CommandError(_("The certificate cannot be read: %(error)s") % {"error": exc.strerror or exc})
        try:
            check = verify_pdf(data, pinned_pem=pinned)
        except (SigningIdentityError, ValueError) as exc:
            raise CommandError(str(exc))

        def yes(flag):
            return _("yes") if flag else _("no")

        lines = [
            _("File: %(name)s") % {"name": Path(file).name},
            _("Checked against the pinned certificate with SHA-256 fingerprint %(fingerprint)s")
            % {"fingerprint": check.pinned_sha256},
            _("Signed: %(answer)s") % {"answer": yes(check.signed)},
        ]
        if check.signed:
            lines += [
                _("Signer: %(signer)s") % {"signer": check.signer or "—"},
                _("Signer's certificate SHA-256: %(fingerprint)s") % {"fingerprint": check.certificate_sha256 or "—"},
                _("Signing time as the signer states it (not a trusted time stamp): %(moment)s")
                % {"moment": local_time(check.signed_at, DATE_TIME_SECONDS) if check.signed_at else "—"},
                _("Unchanged since signing (digest matches): %(answer)s") % {"answer": yes(check.intact)},
                _("Signature matches the digest: %(answer)s") % {"answer": yes(check.valid)},
                _("Made with the pinned certificate: %(answer)s") % {"answer": yes(check.pinned_certificate)},
                _("Covers the whole file: %(answer)s") % {"answer": yes(check.whole_file)},
            ]
        lines.append(_("Not checked: the certificate's revocation status; no trusted time stamp is present."))
        for line in lines:
            self.stdout.write(line)
        if not check.ok:
            for problem in check.problems:
                self.stderr.write(problem)
            raise CommandError(_("The signature does NOT hold for this file."))
        self.stdout.write(_("The signature holds: the file is as the organisation signed it."))
