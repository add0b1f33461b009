"""`manage.py api_token`: a token from the server, or a clear refusal that changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from api.models import ApiToken
from governance.models import User
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_prints_a_working_token_alone(world):
    token, said = run("--agency", world.agency_a.code, "--name", "Hồ sơ vụ việc", "--scopes", "catalogue:read", "--days", "2")
    assert token.startswith("cgk_") and "\n" not in token
    assert "catalogue:read" in said
    account = User.objects.get(is_service_account=True)
    assert account.agency == world.agency_a and account.role_set() == {"requester"}
    assert Client().get("/api/v1/data-categories/", **bearer(token)).status_code == 200
    # A second run issues another token for the same account.
    again, _said = run("--agency", world.agency_a.code, "--name", "Hồ sơ vụ việc")
    assert again != token and User.objects.filter(is_service_account=True).count() == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--agency", "khong-co", "--name", "x"),
        ("--agency", "cap-a", "--name", "x", "--roles", "approver"),
        ("--agency", "cap-a", "--name", "x", "--scopes", "ledger:read"),
        ("--agency", "cap-a", "--name", "x", "--days", "0"),
        ("--agency", "ioc", "--name", "x"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not ApiToken.objects.exists()
    assert not User.objects.filter(is_service_account=True).exists()
