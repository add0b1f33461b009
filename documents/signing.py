"""The organisation's signature on the records it issues: a PDF signature (PAdES baseline B-B, pyHanko).

Each hand-over record, verification record, period report and request dossier leaves the system
signed with the centre's organisation certificate, so that any PDF reader
names who issued the file and shows whether it changed since. The key and
certificate are PEM files (`DOCUMENT_SIGNING_KEY_FILE`,
`DOCUMENT_SIGNING_CERT_FILE`). A production installation brings its own,
issued by a certification authority its readers trust; elsewhere (the demo,
development, tests) a self-signed certificate for the configured organisation
is created on first use, which a PDF reader shows as "signer not trusted"
until the reader trusts it.

`verify_pdf` checks a file against the pinned certificate only: it says
whether the signature is intact, covers the whole file, and was made with that
certificate; it does not consult revocation lists and has no trusted time
stamp to check against.
"""

import asyncio
import concurrent.futures
import datetime as dt
import functools
import hashlib
import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext as _

PASSWORD_VARIABLE = "DOCUMENT_SIGNING_KEY_PASSWORD"  # noqa: S105 - the name of the variable, not a password
FIELD_NAME = "ChuKyToChuc"


class SigningIdentityError(Exception):
    """The organisation's signing key or certificate is missing or cannot be read."""


def _password():
    password = os.environ.get(PASSWORD_VARIABLE)
    return password.encode() if password else None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write `path` whole or not at all, never over an existing file (FileExistsError): another process making the
    pair at the same moment never reads half a file, nor overwrites ours."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(partial, mode)
        os.link(partial, path)
    finally:
        os.unlink(partial)


def ensure_identity() -> tuple[Path, Path]:
    """The key and certificate files; outside production, a self-signed pair is created when both are missing."""
    key_path, cert_path = Path(settings.DOCUMENT_SIGNING_KEY_FILE), Path(settings.DOCUMENT_SIGNING_CERT_FILE)
    # Another process may be writing the pair this moment (the key first, then the certificate): wait for it.
    for _attempt in range(20):
        if key_path.exists() == cert_path.exists():
            break
        time.sleep(0.1)
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    if settings.PRODUCTION or key_path.exists() or cert_path.exists():
        raise SigningIdentityError(
            _(
                "The organisation's document signing key and certificate are not both in place "
                "(DOCUMENT_SIGNING_KEY_FILE, DOCUMENT_SIGNING_CERT_FILE): records cannot be signed."
            )
        )
    return create_self_signed(key_path, cert_path, settings.DOCUMENT_SIGNING_ORGANISATION)


def create_self_signed(key_path: Path, cert_path: Path, organisation: str) -> tuple[Path, Path]:
    """A new key and a self-signed certificate for `organisation`, written where neither file exists yet."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, organisation),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    password = _password()
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    try:
        _write_new(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption), 0o600)
    except FileExistsError:
        pass  # another process made the pair first: use theirs
    else:
        _write_new(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return key_path, cert_path


def _stamp(path: Path):
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _signer(key_stamp, cert_stamp):
    from pyhanko.sign import signers

    signer = signers.SimpleSigner.load(key_stamp[0], cert_stamp[0], key_passphrase=_password())
    if signer is None:
        raise SigningIdentityError(_("The organisation's document signing key or certificate cannot be read."))
    return signer


def signer():
    key_path, cert_path = ensure_identity()
    return _signer(_stamp(key_path), _stamp(cert_path))


def certificate_pem() -> bytes:
    """The pinned certificate the records are verified against: the configured one, never one made for the check."""
    try:
        return Path(settings.DOCUMENT_SIGNING_CERT_FILE).read_bytes()
    except OSError:
        raise SigningIdentityError(
            _("No certificate at DOCUMENT_SIGNING_CERT_FILE: there is nothing to check the signature against.")
        ) from None


def certificate_fingerprint(pem: bytes | None = None) -> str:
    """SHA-256 of the certificate's DER encoding, as hex."""
    certificate = x509.load_pem_x509_certificate(pem or certificate_pem())
    return certificate.fingerprint(hashes.SHA256()).hex()


def _blocking(make_coroutine):
    """Run pyHanko's coroutine to its end from synchronous code, even where this thread already runs an event loop
    (an ASGI server, a browser driver): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def sign_pdf(data: bytes, *, reason: str, location: str = "") -> bytes:
    """`data` with the organisation's PDF signature appended (an incremental update covering the whole file)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    identity = signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location or getattr(settings, "DOCUMENT_PLACE", ""),
        # The name a reader shows is the certificate's own, not a setting that could say otherwise.
        name=identity.signing_cert.subject.native.get("common_name") or identity.signing_cert.subject.human_friendly,
    )
    output = io.BytesIO()
    _blocking(lambda: signers.async_sign_pdf(writer, metadata, signer=identity, output=output))
    return output.getvalue()


def sign_pdf_file(path: str | os.PathLike, *, reason: str, location: str = "") -> None:
    """Sign the PDF at `path` in place (written beside it and renamed)."""
    path = Path(path)
    signed = sign_pdf(path.read_bytes(), reason=reason, location=location)
    partial = path.with_name(f".{path.name}.signing")
    partial.write_bytes(signed)
    os.replace(partial, path)


# Verification ------------------------------------------------------------------------------------------


@dataclass
class SignatureCheck:
    """What `verify_pdf` found, in full: every flag is what was checked, `problems` what failed."""

    signed: bool = False
    intact: bool = False
    valid: bool = False
    pinned_certificate: bool = False
    whole_file: bool = False
    signer: str = ""
    signed_at: dt.datetime | None = None
    certificate_sha256: str = ""
    pinned_sha256: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.pinned_certificate and self.whole_file and not self.problems


def _signed_ranges_span_the_file(data: bytes, signature) -> bool:
    """The two signed ranges run from the first byte to the last, and what lies between them is exactly the
    signature's /Contents written as one hexadecimal string: nothing else in the file escapes the digest.

    A later revision could otherwise redefine the signature object (its /Contents as a shorter literal string, say)
    so that a parser's own arithmetic finds the file "wholly covered" while other content was added.
    """
    try:
        start1, length1, start2, length2 = (int(value) for value in signature.sig_object["/ByteRange"])
        contents = bytes(signature.sig_object["/Contents"])
    except (KeyError, TypeError, ValueError):
        return False
    if start1 != 0 or length1 <= 0 or start2 <= length1 or length2 < 0 or start2 + length2 != len(data):
        return False
    gap = data[length1:start2]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        return False
    try:
        written = bytes.fromhex(gap[1:-1].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return written == contents


def _contents_are_clean(raw_contents: bytes) -> bool:
    """The signature's placeholder holds exactly one well-formed CMS structure followed by zero bytes only.

    A PDF signature leaves its /Contents (the one part of the file the digest
    does not cover) padded with zeros; a byte changed in that padding would
    pass a plain signature check, so it is refused here.
    """
    try:
        parsed = cms.ContentInfo.load(raw_contents, strict=False)
        encoded = parsed.dump()
        # Re-encoded from what was read, the structure must give back its own bytes: a changed tag or
        # version in the parts the signature does not cover would otherwise be read over.
        canonical = cms.ContentInfo.load(encoded).dump(force=True)
        signed_data = parsed["content"]
        (signer_info,) = signed_data["signer_infos"]
        (digest_algorithm,) = signed_data["digest_algorithms"]
        sid = signer_info["sid"]
        certificates = [c.chosen for c in signed_data["certificates"]]
        # The parts of the structure the signature does not cover must say exactly what the signed parts do:
        # one digest algorithm, the signer's; one signer, named by the issuer and serial of a certificate carried.
        well_formed = (
            canonical == encoded
            and signed_data["version"].native == "v1"
            and signer_info["version"].native == "v1"
            and digest_algorithm.dump() == signer_info["digest_algorithm"].dump()
            and sid.name == "issuer_and_serial_number"
            and any(
                c.issuer.dump() == sid.chosen["issuer"].dump() and c.serial_number == sid.chosen["serial_number"].native
                for c in certificates
            )
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    return well_formed and not raw_contents[len(encoded) :].strip(b"\x00")


def verify_pdf(data: bytes, *, pinned_pem: bytes | None = None) -> SignatureCheck:
    """Check the organisation's signature on a PDF against the pinned certificate (by default the configured one)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    pinned_pem = pinned_pem or certificate_pem()
    check = SignatureCheck(pinned_sha256=certificate_fingerprint(pinned_pem))
    _type, _headers, der = asn1_pem.unarmor(pinned_pem)
    pinned = asn1_x509.Certificate.load(der)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # a damaged file fails in the parser in many ways; each is an unreadable file
        check.problems.append(_("The file cannot be read as a PDF: %(error)s") % {"error": exc})
        return check
    if not signatures:
        check.problems.append(_("The file carries no PDF signature."))
        return check
    check.signed = True
    if len(signatures) > 1:
        check.problems.append(_("The file carries %(count)s signatures; a record carries one.") % {"count": len(signatures)})
    signature = signatures[-1]
    try:
        context = ValidationContext(trust_roots=[pinned], allow_fetching=False)
        status = _blocking(lambda: async_validate_pdf_signature(signature, signer_validation_context=context))
    except Exception as exc:  # pyHanko raises many kinds of errors for a damaged signature
        check.problems.append(_("The signature cannot be checked: %(error)s") % {"error": exc})
        return check
    certificate = status.signing_cert
    check.signer = certificate.subject.human_friendly if certificate is not None else ""
    check.certificate_sha256 = hashlib.sha256(certificate.dump()).hexdigest() if certificate is not None else ""
    check.signed_at = status.signer_reported_dt
    check.intact = bool(status.intact)
    check.valid = bool(status.valid)
    # Made with the pinned certificate: the signer's certificate is that one, byte for byte.
    check.pinned_certificate = bool(check.certificate_sha256) and check.certificate_sha256 == check.pinned_sha256
    # Whole file: read from the file's own bytes, not only from the parser's view of the last revision.
    check.whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE and _signed_ranges_span_the_file(data, signature)
    if not check.intact:
        check.problems.append(_("The file changed after it was signed: its digest does not match the signed one."))
    elif not check.valid:
        check.problems.append(_("The signature does not match the signed digest."))
    if not check.pinned_certificate:
        check.problems.append(_("The signature was not made with the organisation's pinned certificate."))
    elif check.intact and check.valid and not status.trusted:
        check.problems.append(_("The signature cannot be traced to the pinned certificate."))
    if check.intact and not check.whole_file:
        check.problems.append(_("Content was added to the file after it was signed."))
    if not _contents_are_clean(bytes(signature.sig_object["/Contents"])):
        check.problems.append(_("The signature's reserved space holds bytes that are not part of the signature."))
    return check
