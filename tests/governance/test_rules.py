import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from guardian.shortcuts import get_perms

from audit.models import Action, AuditEvent
from governance import selectors, services
from governance.models import Area, AssignmentRule, Camera, RegulationImmutable, RegulationVersion
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    LegalBasisFactory,
    ProvinceFactory,
    RegulationVersionFactory,
    WardFactory,
)

pytestmark = pytest.mark.django_db


def _publishable_version(agency):
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory())
    province = ProvinceFactory()
    for duty in AssignmentRule.Duty:
        AssignmentRuleFactory(version=version, duty=duty, agency=agency, area=province)
    return version


def test_publishing_freezes_the_version_and_records_its_hash(admin_user, agency_a):
    version = _publishable_version(agency_a)
    published = services.regulation_publish(actor=admin_user, version=version)
    assert published.is_published and len(published.snapshot_sha256) == 64
    assert len(published.snapshot["rules"]) == 3
    event = AuditEvent.objects.get(action=Action.REGULATION_PUBLISH)
    assert event.actor == admin_user and event.data["sha256"] == published.snapshot_sha256


def test_published_version_can_no_longer_change(admin_user, agency_a):
    version = services.regulation_publish(actor=admin_user, version=_publishable_version(agency_a))
    version.title = "Sửa sau khi ban hành"
    with pytest.raises(RegulationImmutable):
        version.save()
    with pytest.raises(RegulationImmutable):
        version.delete()
    assert RegulationVersion.objects.get(pk=version.pk).title != "Sửa sau khi ban hành"


def test_rules_of_a_published_version_can_no_longer_change(admin_user, agency_a, agency_b):
    version = services.regulation_publish(actor=admin_user, version=_publishable_version(agency_a))
    rule = version.rules.first()
    rule.agency = agency_b
    with pytest.raises(RegulationImmutable):
        rule.save()
    with pytest.raises(RegulationImmutable):
        AssignmentRule(version=version, duty=AssignmentRule.Duty.REVIEW, agency=agency_b, area=rule.area).save()
    with pytest.raises(RegulationImmutable):
        rule.delete()
    assert version.rules.filter(agency=agency_a).count() == 3


def test_publishing_twice_is_refused(admin_user, agency_a):
    version = services.regulation_publish(actor=admin_user, version=_publishable_version(agency_a))
    with pytest.raises(RegulationImmutable):
        services.regulation_publish(actor=admin_user, version=version)
    assert AuditEvent.objects.filter(action=Action.REGULATION_PUBLISH).count() == 1


def test_version_without_a_duty_assigned_cannot_be_published(admin_user, agency_a):
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory())
    AssignmentRuleFactory(version=version, duty=AssignmentRule.Duty.REVIEW, agency=agency_a)
    with pytest.raises(ValidationError) as excinfo:
        services.regulation_publish(actor=admin_user, version=version)
    assert excinfo.value.messages == ["Assign at least one agency for every duty before publishing; missing: Approve, Export."]
    version.refresh_from_db()
    assert not version.is_published
    assert not AuditEvent.objects.filter(action=Action.REGULATION_PUBLISH).exists()


def test_regulation_in_force_is_the_latest_published_before_now(admin_user, agency_a):
    older = _publishable_version(agency_a)
    older.effective_from -= dt.timedelta(days=30)
    older.save()
    services.regulation_publish(actor=admin_user, version=older)
    newer = services.regulation_publish(actor=admin_user, version=_publishable_version(agency_a))
    future = _publishable_version(agency_a)
    future.effective_from += dt.timedelta(days=30)
    future.save()
    services.regulation_publish(actor=admin_user, version=future)
    _publishable_version(agency_a)  # a draft never counts
    assert selectors.regulation_in_force() == newer


def test_legal_basis_validity_dates():
    basis = LegalBasisFactory(valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 12, 31))
    assert basis.is_valid_on(dt.date(2026, 6, 1))
    assert not basis.is_valid_on(dt.date(2025, 12, 31))
    assert not basis.is_valid_on(dt.date(2027, 1, 1))
    assert list(selectors.legal_bases_valid_on(dt.date(2027, 1, 1))) == []


def test_legal_basis_cannot_end_before_it_starts():
    basis = LegalBasisFactory.build(valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        basis.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        basis.save()


def test_area_paths_follow_the_hierarchy_and_cover_subtrees():
    ward = WardFactory(code="hang-bac")
    district = ward.parent
    assert ward.path == f"hn/{district.code}/hang-bac/"
    assert district.covers(ward) and not ward.covers(district)
    with pytest.raises(ValidationError):
        Area(code="x", name_vi="X", level=Area.Level.WARD, parent=district.parent).clean()


def test_assignment_rules_apply_to_areas_inside_the_assigned_area(admin_user, agency_a, agency_b):
    version = _publishable_version(agency_a)
    ward = WardFactory()
    AssignmentRuleFactory(version=version, duty=AssignmentRule.Duty.APPROVE, agency=agency_b, area=WardFactory())
    approvers = set(selectors.assigned_agencies(version=version, duty=AssignmentRule.Duty.APPROVE, area=ward))
    assert approvers == {agency_a.pk}


@pytest.mark.parametrize(
    "address",
    ["rtsp://admin:secret@10.0.0.5/stream", "rtsp://admin@10.0.0.5/stream", "http://cam.local/?password=x", "ftp://cam/"],
)
def test_camera_source_address_refuses_credentials_and_unknown_schemes(address):
    camera = CameraFactory.build(source_url=address, area=WardFactory(), managing_agency=AgencyFactory())
    with pytest.raises(ValidationError):
        camera.full_clean()


def test_camera_source_address_without_secrets_is_accepted():
    camera = CameraFactory(source_url="rtsp://10.0.0.5:554/Streaming/Channels/101", credential_ref="nvr-readonly")
    camera.full_clean()
    assert Camera.objects.filter(code=camera.code).exists()


def test_granting_a_role_puts_the_user_in_the_agency_role_group_and_records_it(insider, agency_a):
    group = Group.objects.get(name=f"agency:{agency_a.code}:requester")
    assert insider.groups.filter(pk=group.pk).exists()
    assert "view_agency" in get_perms(insider, agency_a)
    event = AuditEvent.objects.filter(action=Action.PERMISSION_GRANT, target_id=str(insider.pk)).get()
    assert event.data == {"agency": agency_a.code, "role": "requester", "group": group.name}


def test_outsider_has_no_permission_on_another_agency(outsider, agency_a):
    assert get_perms(outsider, agency_a) == []


def test_revoking_a_role_removes_the_group_and_records_it(admin_user, insider, agency_a):
    membership = insider.memberships.get(role="requester")
    services.membership_revoke(actor=admin_user, membership=membership)
    assert not insider.groups.exists()
    assert not insider.memberships.exists()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_REVOKE, actor=admin_user).count() == 1


def test_a_user_without_agency_cannot_be_granted_a_role(superuser):
    with pytest.raises(ValidationError):
        services.membership_grant(actor=None, user=superuser, role="approver")
    assert not superuser.memberships.exists()
