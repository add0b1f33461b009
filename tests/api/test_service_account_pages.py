"""The pages an agency's administrator uses to create service accounts and to issue and revoke their API tokens."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from api.models import ApiToken
from api.tokens import TOKEN_START, digest, service_account_create, token_issue
from governance.models import Agency, Role, User
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    return AgencyFactory(kind=Agency.Kind.WARD_POLICE)


@pytest.fixture
def admin(agency):
    return UserFactory(agency=agency, is_staff=True, roles=[Role.ADMINISTRATOR])


@pytest.fixture
def admin_client(client, admin):
    return sign_in_verified(client, admin, language="en")


@pytest.fixture
def account(admin):
    return service_account_create(actor=admin, name="Case system", roles=[Role.REQUESTER])


@pytest.fixture
def issued(admin, account):
    return token_issue(actor=admin, account=account, name="Server 1", scopes=["catalogue:read"], days=30)


def _outsider_client(client):
    other = UserFactory(agency=AgencyFactory(kind=Agency.Kind.WARD_POLICE), is_staff=True, roles=[Role.ADMINISTRATOR])
    return sign_in_verified(client, other, language="en")


def test_the_administrator_creates_an_account_and_issues_a_token_shown_once(admin_client, agency, client):
    response = admin_client.get(reverse("api:service-account-new"))
    assert response.status_code == 200
    assert 'value="requester"' in response.content.decode()
    assert 'value="approver"' not in response.content.decode()

    response = admin_client.post(reverse("api:service-account-new"), {"name": "Case system", "roles": ["requester"]})
    account = User.objects.get(is_service_account=True, agency=agency)
    assert response.status_code == 302
    assert response["Location"] == reverse("api:service-account", args=[account.username])
    assert account.first_name == "Case system"
    assert account.role_set() == {Role.REQUESTER}
    assert not account.has_usable_password()

    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    assert 'value="catalogue:read"' in page.content.decode()
    assert 'value="ledger:read"' not in page.content.decode()

    response = admin_client.post(
        reverse("api:token-new", args=[account.username]),
        {"name": "Server 1", "scopes": ["catalogue:read", "requests:read"], "days": "90"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    row = ApiToken.objects.get(account=account)
    token = response.context["token"]
    assert token.startswith(f"{TOKEN_START}{row.prefix}_")
    html = response.content.decode()
    assert token in html
    assert "will not be shown again" in html
    # Only the digest is kept; no column holds the token.
    assert row.digest == digest(token)
    stored = ApiToken.objects.filter(pk=row.pk).values().get()
    assert all(token not in str(value) for value in stored.values())
    assert row.scopes == ["catalogue:read", "requests:read"]
    assert row.created_by.username == response.wsgi_request.user.username
    # Afterwards the pages show its prefix, never the token.
    for url in (reverse("api:service-account", args=[account.username]), reverse("api:service-accounts")):
        later = admin_client.get(url).content.decode()
        assert f"{TOKEN_START}{row.prefix}…" in later
        assert token not in later

    # The token works against the API until it is revoked.
    api = client.__class__()
    answer = api.get(reverse("api:data-categories"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200

    response = admin_client.post(reverse("api:token-revoke", args=[row.prefix]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("api:service-account", args=[account.username])
    assert "is revoked" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert row.revoked_by.username == response.wsgi_request.user.username
    answer = api.get(reverse("api:data-categories"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


def test_the_list_shows_accounts_and_their_tokens(admin_client, account, issued):
    row, token = issued
    html = admin_client.get(reverse("api:service-accounts")).content.decode()
    assert account.username in html
    assert "Case system" in html
    assert "Server 1" in html
    assert f"{TOKEN_START}{row.prefix}…" in html
    assert token not in html
    assert reverse("api:token-revoke", args=[row.prefix]) in html

    response = admin_client.post(reverse("api:token-revoke", args=[row.prefix]), {"back": "list"})
    assert response["Location"] == reverse("api:service-accounts")
    html = admin_client.get(reverse("api:service-accounts")).content.decode()
    assert "Revoked" in html
    assert reverse("api:token-revoke", args=[row.prefix]) not in html


def test_another_agencys_administrator_finds_nothing_and_changes_nothing(client, account, issued):
    row, _token = issued
    outsider = _outsider_client(client)
    assert outsider.get(reverse("api:service-account", args=[account.username])).status_code == 404
    response = outsider.post(
        reverse("api:token-new", args=[account.username]), {"name": "Mine", "scopes": ["catalogue:read"], "days": "30"}
    )
    assert response.status_code == 404
    assert outsider.post(reverse("api:token-revoke", args=[row.prefix])).status_code == 404
    assert account.username not in outsider.get(reverse("api:service-accounts")).content.decode()
    assert ApiToken.objects.filter(account=account).count() == 1
    row.refresh_from_db()
    assert row.revoked_at is None


def test_an_administrator_without_the_second_factor_is_sent_to_it(client, admin, account, issued):
    row, _token = issued
    client.force_login(admin)
    response = client.get(reverse("api:service-accounts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    response = client.post(reverse("api:token-revoke", args=[row.prefix]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    row.refresh_from_db()
    assert row.revoked_at is None
    response = client.post(reverse("api:service-account-new"), {"name": "Other", "roles": ["requester"]})
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    assert User.objects.filter(is_service_account=True).count() == 1


def test_a_requester_finds_nothing(client, agency, account, issued):
    row, _token = issued
    requester = UserFactory(agency=agency, roles=[Role.REQUESTER])
    sign_in_verified(client, requester)
    for url in (
        reverse("api:service-accounts"),
        reverse("api:service-account-new"),
        reverse("api:service-account", args=[account.username]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("api:token-revoke", args=[row.prefix])).status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert reverse("api:service-accounts") not in client.get(reverse("home")).content.decode()


def test_the_administrator_sees_the_link(admin_client):
    assert reverse("api:service-accounts") in admin_client.get(reverse("home")).content.decode()


def test_a_scope_the_roles_do_not_allow_is_refused(admin_client, account):
    response = admin_client.post(
        reverse("api:token-new", args=[account.username]), {"name": "Auditing", "scopes": ["ledger:read"], "days": "30"}
    )
    assert response.status_code == 200
    assert "only the scopes its service account" in response.content.decode()
    assert "token" not in response.context or response.context.get("token") is None
    assert not ApiToken.objects.filter(account=account).exists()


@pytest.mark.parametrize("days", ["0", "367", "x"])
def test_a_token_lasts_from_one_day_to_the_limit(admin_client, account, days):
    response = admin_client.post(
        reverse("api:token-new", args=[account.username]), {"name": "Server", "scopes": ["catalogue:read"], "days": days}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.filter(account=account).exists()


def test_a_service_account_may_not_be_an_approver(admin_client, admin, agency):
    response = admin_client.post(reverse("api:service-account-new"), {"name": "Signer", "roles": ["approver"]})
    assert response.status_code == 200
    assert "never reviews, decides" in response.content.decode()
    assert not User.objects.filter(is_service_account=True).exists()
    with pytest.raises(ValidationError):
        service_account_create(actor=admin, name="Signer", roles=[Role.APPROVER])
    assert not User.objects.filter(is_service_account=True).exists()


def test_a_role_the_agency_may_not_grant_is_refused_and_nothing_is_created(admin_client):
    # A ward police station has requesting officers, not auditors: the service refuses and the form says why.
    response = admin_client.post(reverse("api:service-account-new"), {"name": "Reader", "roles": ["auditor"]})
    assert response.status_code == 200
    assert "You may not grant this role" in response.content.decode()
    assert not User.objects.filter(is_service_account=True).exists()


def test_changes_are_posted(admin_client, issued):
    row, _token = issued
    assert admin_client.get(reverse("api:token-revoke", args=[row.prefix])).status_code == 405


def test_the_pages_answer_head_and_render_in_vietnamese(client, admin, account, issued):
    sign_in_verified(client, admin)
    for url in (
        reverse("api:service-accounts"),
        reverse("api:service-account-new"),
        reverse("api:service-account", args=[account.username]),
    ):
        assert client.get(url).status_code == 200
        assert client.head(url).status_code == 200
