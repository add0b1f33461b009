"""Ledger tests that sign: a key of the test's own (`pytestmark = pytest.mark.usefixtures("key_file")`) and its fingerprint."""

import pytest

from audit.chain import fingerprint_for
from audit.checkpoints import ensure_signing_key, load_signing_key


@pytest.fixture
def key_file(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    return ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)


@pytest.fixture
def real_fingerprint(key_file):
    return fingerprint_for(load_signing_key(key_file).public_key())
