import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from audit.models import Action, AuditEvent, Checkpoint
from governance.models import Agency, Camera, LegalBasis, Membership, RegulationVersion, Role, User
from governance.permissions import is_system_administrator
from governance.selectors import roles_given_by_regulation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Demo:
    out: str  # what the first seed_demo printed
    key_path: Path


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, seeded once for this module in a transaction rolled back after its last test.

    Seeding is the slow part of these tests. Each test still starts from the
    freshly seeded demo: it runs in a savepoint inside this transaction (the
    `db` fixture) and whatever it adds or seeds again is undone after it.
    """
    folder = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with (
        django_db_blocker.unblock(),
        override_settings(
            AUDIT_SIGNING_KEY_FILE=folder / "keys" / "demo.pem",
            MEDIA_ROOT=folder / "media",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        translation.override("en"),
    ):
        block = transaction.atomic()
        # Marked as Django's TestCase marks its own, so that a durable block inside seed_demo behaves as in any test.
        block._from_testcase = True
        with block:
            call_command("seed_demo", stdout=out)
            yield Demo(out=out.getvalue(), key_path=folder / "keys" / "demo.pem")
            transaction.set_rollback(True)


def _state():
    counts = {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"governance", "audit", "auth", "guardian", "requests"}
    }
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    passwords = dict(User.objects.values_list("username", "password"))
    return counts, head, passwords


def test_seed_demo_builds_the_demo_district(demo):
    assert 150 <= Camera.objects.count() <= 250
    assert set(Agency.objects.values_list("kind", flat=True)) >= {k for k in Agency.Kind if k != Agency.Kind.OTHER}
    assert LegalBasis.objects.count() == 14
    version = RegulationVersion.objects.get()
    assert version.is_published and version.legal_bases.count() == 14
    assert _roles_of("ca-hang-bac") == {Role.REQUESTER, Role.ADMINISTRATOR}
    assert _roles_of("ioc-hk") == {Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN, Role.ADMINISTRATOR}
    assert _roles_of("thanh-tra-hn") == {Role.AUDITOR, Role.ADMINISTRATOR}
    # The regulation also has the district people's committee approve.
    assert _roles_of("ubnd-hk") == {Role.REQUESTER, Role.APPROVER, Role.ADMINISTRATOR}
    assert "ca-hang-bac.requester" in demo.out and "demo-Camera-2026" in demo.out
    assert demo.key_path.exists()


def _roles_of(agency_code):
    return set(Membership.objects.filter(agency__code=agency_code).values_list("role", flat=True))


def test_demo_agencies_hold_only_the_roles_the_regulation_gives_them(demo):
    for agency in Agency.objects.all():
        assert _roles_of(agency.code) == set(roles_given_by_regulation(agency)), agency.code
    police = Agency.objects.filter(kind__in=[Agency.Kind.WARD_POLICE, Agency.Kind.TRAFFIC_POLICE, Agency.Kind.CRIMINAL_POLICE])
    assert not Membership.objects.filter(agency__in=police, role__in=[Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN]).exists()
    centre_admin = User.objects.get(username="ioc-hk.administrator")
    ward_admin = User.objects.get(username="ca-hang-bac.administrator")
    assert is_system_administrator(centre_admin) and centre_admin.is_staff
    assert not is_system_administrator(ward_admin) and ward_admin.is_staff


def test_seed_demo_retires_accounts_an_earlier_demo_gave_every_role(demo):
    old = UserFactory(username="ca-hang-bac.approver", agency=Agency.objects.get(code="ca-hang-bac"), roles=["approver"])

    call_command("seed_demo")

    old.refresh_from_db()
    assert not old.is_active and not old.memberships.exists() and not old.groups.exists()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_REVOKE, target_id=str(old.pk)).exists()


def test_seed_demo_twice_changes_nothing(demo, capsys):
    before = _state()
    key_bytes = demo.key_path.read_bytes()
    call_command("seed_demo")
    assert _state() == before
    assert demo.key_path.read_bytes() == key_bytes
    out = capsys.readouterr().out
    assert "nothing changed" in out or "không thay đổi" in out


def test_seed_demo_signs_a_first_checkpoint_over_everything_it_wrote(demo):
    checkpoint = Checkpoint.objects.get()
    last = AuditEvent.objects.order_by("-seq").first()
    assert last.action == Action.LEDGER_CHECKPOINT and checkpoint.seq == last.seq - 1
    assert f"sequence {checkpoint.seq}" in demo.out


def test_seed_demo_files_requests_every_role_can_work_on(demo):
    from requests.models import FootageRequest, Status
    from requests.selectors import awaiting_export, review_queue

    statuses = set(FootageRequest.objects.values_list("status", flat=True))
    assert statuses == {Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED, Status.REJECTED}
    assert review_queue(User.objects.get(username="ioc-hk.approver"))
    assert awaiting_export(User.objects.get(username="ioc-hk.custodian"))
    emergency = FootageRequest.objects.get(urgency="emergency")
    assert emergency.status == Status.SUBMITTED and not emergency.attachments.exists()
