"""Shared fixtures: every test module has an insider, a colleague and an outsider at hand."""

import pytest
from django.db import connection
from django.utils import translation

from audit import triggers
from governance.models import Agency
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache_from_this_test():
    # What a page remembers between requests (a wide ledger reader, sign-in attempts) starts empty in every test.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _calendar_from_this_test():
    # The calendar keeps each year's working days for a minute; a test's days off are rolled back with it.
    from governance import calendar

    calendar.forget()
    yield
    calendar.forget()


@pytest.fixture
def login_verified(client):
    """`login_verified(user)` signs `user` in on `client` with a session that passed the second factor (tests/auth.py)."""

    def login(user, *, on=None, language=None):
        return sign_in_verified(on or client, user, language=language)

    return login


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Messages from services and commands are asserted in English; pages
    # still follow LocaleMiddleware (Vietnamese unless the test asks for
    # English), and tests that check Vietnamese text override explicitly.
    with translation.override("en"):
        yield


def pytest_configure(config):
    # Tasks run inline in tests, at the moment a real worker would receive
    # them: after the dispatching transaction commits.
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


def _is_transactional(request):
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        return True
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


_triggers_lifted = False


@pytest.fixture(autouse=True)
def _ledger_triggers(request):
    """Keep the ledger append-only in every test, yet let committing tests end with their flush.

    A test that really commits ends with a flush (TRUNCATE / DELETE) that the
    ledger refuses: the triggers are lifted just for it and put back before
    the next test that touches the database.
    """
    global _triggers_lifted
    transactional = _is_transactional(request)
    if not (transactional or "db" in request.fixturenames or request.node.get_closest_marker("django_db")):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    if _triggers_lifted:
        triggers.install(connection)
        # Inside a rolled-back test transaction the install does not last.
        _triggers_lifted = not transactional
    yield
    if transactional:
        triggers.remove(connection)
        _triggers_lifted = True


@pytest.fixture
def agency_a(db):
    return AgencyFactory(code="cap-a", name_vi="Công an phường Hàng Bạc", name_en="Hang Bac Ward Police")


@pytest.fixture
def agency_b(db):
    return AgencyFactory(
        code="csgt-b", name_vi="Phòng Cảnh sát giao thông", name_en="Traffic Police Division", kind=Agency.Kind.TRAFFIC_POLICE
    )


@pytest.fixture
def insider(agency_a):
    """A requesting officer of agency A."""
    return UserFactory(username="alice", agency=agency_a, roles=["requester"])


@pytest.fixture
def colleague(agency_a):
    """Another officer of agency A."""
    return UserFactory(username="anh", agency=agency_a, roles=["requester"])


@pytest.fixture
def outsider(agency_b):
    """An officer of another agency, B."""
    return UserFactory(username="bao", agency=agency_b, roles=["requester"])


@pytest.fixture
def admin_user(db):
    centre = AgencyFactory(code="ioc", name_vi="Trung tâm giám sát", kind=Agency.Kind.MONITORING_CENTRE)
    return UserFactory(username="quantri", agency=centre, is_staff=True, roles=["administrator"])


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", agency=None, is_staff=True, is_superuser=True)


@pytest.fixture
def auditor(db):
    inspectorate = AgencyFactory(code="thanh-tra", name_vi="Thanh tra thành phố", kind=Agency.Kind.INSPECTORATE)
    return UserFactory(username="thanhtra", agency=inspectorate, roles=["auditor"])
