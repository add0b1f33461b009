"""Service accounts and tokens for the API tests, in the workflow world (tests.requests.conftest)."""

import pytest

from api import tokens
from tests.factories import AgencyFactory, UserFactory
from tests.requests.conftest import world  # noqa: F401 - the workflow world


def machine(agency, *, roles=("requester",), scopes=("catalogue:read", "requests:read", "requests:file"), name="Hồ sơ vụ việc"):
    """A service account of `agency` created by its own administrator, and a token of it: (account, token string)."""
    administrator = UserFactory(agency=agency, is_staff=True, roles=["administrator"])
    account = tokens.service_account_create(actor=administrator, name=name, roles=list(roles))
    _row, token = tokens.token_issue(actor=administrator, account=account, name="case system", scopes=list(scopes), days=30)
    return account, token


def bearer(token, language="vi"):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": language}


@pytest.fixture
def inspectorate(world):  # noqa: F811
    from governance.models import Agency

    return AgencyFactory(code="tt-q", name_vi="Thanh tra quận", kind=Agency.Kind.INSPECTORATE, area=world.ward.parent)
