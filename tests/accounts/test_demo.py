"""The demo's second factor: a published key for the privileged demo accounts, never in production."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import demo_secret
from governance.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_path(tmp_path, settings):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "demo.pem"
    return settings.AUDIT_SIGNING_KEY_FILE


def test_a_newcomer_walks_in_as_the_demo_approver_with_the_printed_code(key_path, client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert demo_secret() in out and "manage.py demo_otp" in out
    assert TOTPDevice.objects.filter(user__username="ioc-hk.approver", name="demo", confirmed=True).exists()
    assert not TOTPDevice.objects.filter(user__username="ca-hang-bac.requester").exists()

    call_command("demo_accounts")
    assert demo_secret() in capsys.readouterr().out

    response = client.post(reverse("login"), {"username": "ioc-hk.approver", "password": DEMO_PASSWORD})
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    call_command("demo_otp")
    code = capsys.readouterr().out.strip()
    client.post(reverse("accounts:second-factor"), {"code": code})
    assert "otp_device_id" in client.session


@pytest.mark.parametrize("command", ["seed_demo", "demo_otp", "demo_accounts"])
def test_the_demo_and_its_published_key_are_refused_in_production(key_path, settings, command):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused when DJANGO_ENV=production"):
        call_command(command)
    assert not TOTPDevice.objects.exists()
