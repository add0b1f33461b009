"""The governance admin: administrators only, every change in the ledger, published regulation frozen."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import Action, AuditEvent
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    Camera,
    DataCategory,
    DayOff,
    LegalBasis,
    Membership,
    RegulationVersion,
    User,
    role_group_name,
)
from governance.services import regulation_publish
from tests.auth import sign_in_verified
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    DayOffFactory,
    DistrictFactory,
    LegalBasisFactory,
    RegulationVersionFactory,
    UserFactory,
    WardFactory,
    category,
)

MODELS = [Agency, Area, User, Membership, Camera, DataCategory, LegalBasis, RegulationVersion, AssignmentRule, DayOff]


def admin_url(model, view, *args):
    return reverse(f"admin:governance_{model._meta.model_name}_{view}", args=args)


def ledger(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters).order_by("seq")


def published_version(actor):
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory())
    for duty in AssignmentRule.Duty.values:
        AssignmentRuleFactory(version=version, duty=duty)
    with transaction.atomic():
        return regulation_publish(actor=actor, version=version)


@pytest.fixture
def every_kind_of_object(insider, admin_user):
    camera = CameraFactory()
    version = RegulationVersionFactory()
    rule = AssignmentRuleFactory(version=version)
    return {
        Agency: insider.agency,
        Area: camera.area,
        User: insider,
        Membership: insider.memberships.get(),
        Camera: camera,
        DataCategory: category("video"),
        LegalBasis: LegalBasisFactory(),
        RegulationVersion: version,
        AssignmentRule: rule,
        DayOff: DayOffFactory(),
    }


# Who may open it ------------------------------------------------------------------


def test_every_governance_admin_changelist_and_add_page_loads(client, superuser, every_kind_of_object):
    sign_in_verified(client, superuser, language="en")

    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
        assert client.get(admin_url(model, "add")).status_code == 200, model
        obj = every_kind_of_object[model]
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 200, model


def test_administrator_role_opens_every_governance_admin(client, admin_user, every_kind_of_object):
    sign_in_verified(client, admin_user, language="en")

    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
    assert "governance/camera/" in client.get(reverse("admin:index")).content.decode()


def test_staff_without_administrator_role_cannot_open_governance_admin(client, agency_a):
    staff = UserFactory(username="nhanvien", agency=agency_a, is_staff=True, roles=["requester", "reviewer"])
    # Even Django model permissions do not open it: the role decides.
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="governance"))
    sign_in_verified(client, staff, language="en")

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200
    assert "governance/camera/" not in index.content.decode()
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 403, model
        assert client.get(admin_url(model, "add")).status_code == 403, model
    assert client.get(reverse("admin:governance_camera_import")).status_code == 403


def test_administrator_role_without_staff_flag_is_sent_to_the_admin_login(client, agency_a):
    officer = UserFactory(username="khongstaff", agency=agency_a, is_staff=False, roles=["administrator"])
    sign_in_verified(client, officer, language="en")

    response = client.get(admin_url(Camera, "changelist"))

    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_insider_colleague_and_outsider_cannot_open_the_admin(client, insider, colleague, outsider):
    for user in (insider, colleague, outsider):
        response = sign_in_verified(client, user, language="en").get(admin_url(Camera, "changelist"))
        assert response.status_code == 302, user


# Every change goes to the ledger ------------------------------------------------------


def agency_form(agency, **changes):
    data = {
        "code": agency.code,
        "name_vi": agency.name_vi,
        "name_en": agency.name_en,
        "kind": agency.kind,
        "parent": agency.parent_id or "",
        "area": agency.area_id or "",
        "is_active": "on" if agency.is_active else "",
    }
    return {**data, **changes}


def test_admin_change_writes_ledger_event(client, admin_user, agency_b):
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Agency, "change", agency_b.pk), agency_form(agency_b, name_vi="Phòng CSGT Hà Nội"))

    assert response.status_code == 302
    agency_b.refresh_from_db()
    assert agency_b.name_vi == "Phòng CSGT Hà Nội"
    [event] = ledger(Action.GOVERNANCE_UPDATE, target_type="governance.agency", target_id=str(agency_b.pk))
    assert event.actor == admin_user
    assert event.data["fields"] == {"name_vi": "Phòng CSGT Hà Nội"}
    assert event.client_ip == "127.0.0.1"


def test_admin_save_without_changes_writes_nothing(client, admin_user, agency_b):
    sign_in_verified(client, admin_user, language="en")
    before = AuditEvent.objects.count()

    client.post(admin_url(Agency, "change", agency_b.pk), agency_form(agency_b))

    assert not ledger(Action.GOVERNANCE_UPDATE).exists()
    assert AuditEvent.objects.count() == before


def test_admin_add_writes_ledger_event_with_every_field(client, admin_user):
    sign_in_verified(client, admin_user, language="en")

    client.post(
        admin_url(DataCategory, "add"),
        {"code": "audio", "name_vi": "Âm thanh", "name_en": "Audio", "sensitivity": "basic", "description": ""},
    )

    created = DataCategory.objects.get(code="audio")
    [event] = ledger(Action.GOVERNANCE_CREATE, target_id=str(created.pk))
    assert event.data["fields"]["name_vi"] == "Âm thanh" and event.data["fields"]["sensitivity"] == "basic"


def test_admin_many_to_many_change_is_recorded(client, admin_user):
    basis = LegalBasisFactory(categories=["video"])
    plates = category("plate_events")
    sign_in_verified(client, admin_user, language="en")
    data = {
        "code": basis.code,
        "title_vi": basis.title_vi,
        "title_en": basis.title_en,
        "citation": basis.citation,
        "notes": "",
        "allowed_categories": [category("video").pk, plates.pk],
        "case_number_label_vi": "",
        "case_number_label_en": "",
        "max_window_hours": 24,
        "max_cameras": 10,
        "approvals_required": 1,
        "deadline_hours_normal": 120,
        "deadline_hours_urgent": 24,
        "deadline_hours_emergency": 2,
        "deadline_unit": "calendar_hours",
        "valid_from": "2020-01-01",
        "valid_to": "",
    }

    response = client.post(admin_url(LegalBasis, "change", basis.pk), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = ledger(Action.GOVERNANCE_UPDATE, target_type="governance.legalbasis")
    assert event.data["fields"] == {"allowed_categories": sorted([category("video").pk, plates.pk])}


def test_admin_delete_writes_ledger_event(client, admin_user):
    doomed = CameraFactory(code="CAM-XOA")
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Camera, "delete", doomed.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Camera.objects.filter(code="CAM-XOA").exists()
    [event] = ledger(Action.GOVERNANCE_DELETE, target_type="governance.camera")
    assert event.target_id == str(doomed.pk) and "CAM-XOA" in event.data["object"]


def test_admin_bulk_delete_action_writes_one_event_per_object(client, admin_user):
    cameras = CameraFactory.create_batch(3)
    sign_in_verified(client, admin_user, language="en")

    response = client.post(
        admin_url(Camera, "changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in cameras], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Camera.objects.exists()
    assert sorted(e.target_id for e in ledger(Action.GOVERNANCE_DELETE)) == sorted(str(c.pk) for c in cameras)


def version_form(version, rules=(), **changes):
    data = {
        "number": version.number,
        "title": version.title,
        "decision_reference": version.decision_reference,
        "effective_from_0": "2026-01-01",
        "effective_from_1": "00:00:00",
        "legal_bases": [b.pk for b in version.legal_bases.all()],
        "rules-TOTAL_FORMS": len(rules),
        "rules-INITIAL_FORMS": 0,
        "rules-MIN_NUM_FORMS": 0,
        "rules-MAX_NUM_FORMS": 1000,
    }
    for n, rule in enumerate(rules):
        data.update({f"rules-{n}-{key}": value for key, value in rule.items()})
        data[f"rules-{n}-version"] = version.pk
    return {**data, **changes}


def test_admin_inline_rule_added_to_a_draft_is_recorded(client, admin_user):
    version = RegulationVersionFactory()
    ward = WardFactory()
    sign_in_verified(client, admin_user, language="en")
    rule = {"duty": "review", "agency": admin_user.agency_id, "area": ward.pk, "data_category": ""}

    response = client.post(admin_url(RegulationVersion, "change", version.pk), version_form(version, rules=[rule]))

    assert response.status_code == 302, response.content.decode()[:3000]
    created = version.rules.get()
    [event] = ledger(Action.GOVERNANCE_CREATE, target_type="governance.assignmentrule")
    assert event.target_id == str(created.pk)
    assert ledger(Action.GOVERNANCE_UPDATE, target_type="governance.regulationversion").count() == 1


def test_admin_user_password_change_is_recorded_without_the_hash(client, admin_user, insider):
    sign_in_verified(client, admin_user, language="en")
    url = reverse("admin:auth_user_password_change", args=[insider.pk])

    response = client.post(url, {"password1": "Mat-khau-moi-2026!", "password2": "Mat-khau-moi-2026!", "usable_password": "true"})

    assert response.status_code == 302
    insider.refresh_from_db()
    [event] = ledger(Action.GOVERNANCE_UPDATE, target_type="governance.user")
    assert event.data["fields"] == {"password": "changed"}
    assert insider.password not in event.payload


def test_admin_creates_a_user_in_an_agency_and_records_it_without_the_password(client, admin_user, agency_a):
    sign_in_verified(client, admin_user, language="en")

    response = client.post(
        admin_url(User, "add"),
        {
            "username": "canbo.moi",
            "usable_password": "true",
            "password1": "Mat-khau-moi-2026!",
            "password2": "Mat-khau-moi-2026!",
            "agency": agency_a.pk,
            "position": "Cán bộ",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="canbo.moi")
    assert created.agency == agency_a and created.check_password("Mat-khau-moi-2026!")
    [event] = ledger(Action.GOVERNANCE_CREATE, target_type="governance.user")
    assert event.data["fields"]["agency"] == agency_a.pk
    assert "password" not in event.data["fields"] and created.password not in event.payload


def test_administrator_cannot_make_anyone_superuser(client, admin_user, insider):
    sign_in_verified(client, admin_user, language="en")
    page = client.get(admin_url(User, "change", insider.pk)).content.decode()

    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page


# Memberships go through the role services ---------------------------------------------------


def test_membership_added_in_admin_grants_the_role_group_and_records_it(client, admin_user, insider):
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Membership, "add"), {"user": insider.pk, "role": "reviewer"})

    assert response.status_code == 302
    membership = Membership.objects.get(user=insider, role="reviewer")
    assert membership.agency == insider.agency
    assert insider.groups.filter(name=role_group_name(insider.agency, "reviewer")).exists()
    event = ledger(Action.PERMISSION_GRANT, target_id=str(insider.pk)).last()
    assert event.actor == admin_user and event.data["role"] == "reviewer"


def test_membership_for_a_user_without_agency_is_refused_in_the_form(client, admin_user):
    loner = UserFactory(username="khongdonvi", agency=None)
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Membership, "add"), {"user": loner.pk, "role": "reviewer"})

    assert response.status_code == 200
    assert not Membership.objects.filter(user=loner).exists()


def test_membership_deleted_in_admin_revokes_the_role(client, admin_user, insider):
    membership = insider.memberships.get(role="requester")
    group = Group.objects.get(name=role_group_name(insider.agency, "requester"))
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Membership, "delete", membership.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not insider.memberships.exists()
    assert not insider.groups.filter(pk=group.pk).exists()
    assert ledger(Action.PERMISSION_REVOKE, target_id=str(insider.pk)).get().actor == admin_user


def test_membership_cannot_be_edited_only_granted_or_revoked(client, admin_user, insider):
    membership = insider.memberships.get()
    sign_in_verified(client, admin_user, language="en")

    response = client.post(admin_url(Membership, "change", membership.pk), {"user": insider.pk, "role": "approver"})

    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "requester"


# Regulation versions ------------------------------------------------------------------------


def test_published_regulation_version_is_read_only_in_admin(client, admin_user):
    version = published_version(admin_user)
    rule = version.rules.first()
    sign_in_verified(client, admin_user, language="en")

    page = client.get(admin_url(RegulationVersion, "change", version.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert 'name="rules-0-duty"' not in page.content.decode()
    assert "/publish/" not in page.content.decode()

    changed = client.post(admin_url(RegulationVersion, "change", version.pk), version_form(version, title="Sửa"))
    assert changed.status_code == 403
    assert client.post(admin_url(RegulationVersion, "delete", version.pk), {"post": "yes"}).status_code == 403
    assert client.post(admin_url(AssignmentRule, "delete", rule.pk), {"post": "yes"}).status_code == 403
    client.post(
        admin_url(RegulationVersion, "changelist"),
        {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"},
    )
    client.post(
        admin_url(AssignmentRule, "changelist"),
        {"action": "delete_selected", "_selected_action": [rule.pk], "post": "yes"},
    )

    version.refresh_from_db()
    assert version.title != "Sửa" and version.is_published
    assert version.rules.count() == 3
    assert not ledger(Action.GOVERNANCE_DELETE).exists()


def test_publish_button_publishes_a_draft(client, admin_user):
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory())
    for duty in AssignmentRule.Duty.values:
        AssignmentRuleFactory(version=version, duty=duty)
    sign_in_verified(client, admin_user, language="en")
    assert "/publish/" in client.get(admin_url(RegulationVersion, "change", version.pk)).content.decode()

    response = client.post(reverse("admin:governance_regulationversion_publish", args=[version.pk]), follow=True)

    version.refresh_from_db()
    assert version.is_published and version.published_by == admin_user
    assert ledger(Action.REGULATION_PUBLISH, target_id=str(version.pk)).exists()
    assert version.number in response.content.decode()


def test_publish_action_shows_why_a_version_cannot_be_published(client, admin_user):
    version = RegulationVersionFactory()
    sign_in_verified(client, admin_user, language="en")

    response = client.post(
        admin_url(RegulationVersion, "changelist"),
        {"action": "publish_selected", "_selected_action": [version.pk]},
        follow=True,
    )

    version.refresh_from_db()
    assert not version.is_published
    assert "at least one legal basis" in response.content.decode()


# Cameras --------------------------------------------------------------------------------------


def test_camera_changelist_links_to_the_import_page(client, admin_user):
    sign_in_verified(client, admin_user, language="en")

    page = client.get(admin_url(Camera, "changelist")).content.decode()

    assert reverse("admin:governance_camera_import") in page


def test_camera_changelist_queries_do_not_grow_with_rows(client, admin_user):
    district = DistrictFactory()
    CameraFactory.create_batch(5, area=WardFactory(parent=district))
    sign_in_verified(client, admin_user, language="en")
    url = admin_url(Camera, "changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    CameraFactory.create_batch(40, area=WardFactory(parent=district))

    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_camera_changelist_filters_by_district(client, admin_user):
    inside = CameraFactory(code="CAM-TRONG", area=WardFactory(parent=DistrictFactory(code="hn-hk")))
    CameraFactory(code="CAM-NGOAI", area=WardFactory(parent=DistrictFactory(code="hn-bd")))
    sign_in_verified(client, admin_user, language="en")

    response = client.get(admin_url(Camera, "changelist"), {"district": inside.area.parent_id})

    page = response.content.decode()
    assert "CAM-TRONG" in page and "CAM-NGOAI" not in page


def csv_upload(text):
    return SimpleUploadedFile("cameras.csv", text.encode("utf-8"), content_type="text/csv")


HEADER = "code,name,kind,area_code,managing_agency_code,latitude,longitude,source_url\n"


@pytest.fixture
def import_places(db):
    WardFactory(code="hn-hk-hang-bac")
    AgencyFactory(code="ioc-hk", kind=Agency.Kind.MONITORING_CENTRE)


def test_admin_camera_import_page_shows_row_errors(client, admin_user, import_places):
    sign_in_verified(client, admin_user, language="en")
    text = (
        HEADER + "HK-1,Ngã tư Hàng Bạc,ptz,hn-hk-hang-bac,ioc-hk,21.03,105.85,\n"
        "HK-2,Mã Mây,dome,hn-hk-hang-bac,ioc-hk,,,\n"
        "HK-3,Tạ Hiện,fixed,hn-hk-hang-bac,ioc-hk,,,rtsp://admin:123456@10.0.0.3/live\n"
    )

    response = client.post(reverse("admin:governance_camera_import"), {"file": csv_upload(text)})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<td>3</td>" in page and "dome" in page
    assert "<td>4</td>" in page and "123456" not in page
    assert not Camera.objects.exists()
    assert not ledger(Action.CAMERA_IMPORT).exists()


def test_admin_camera_import_page_imports_and_shows_the_counts(client, admin_user, import_places):
    WardFactory(code="hn-hk-hang-dao")
    CameraFactory(code="HK-1", name="Tên cũ")
    sign_in_verified(client, admin_user, language="en")
    text = HEADER + "HK-1,Tên mới,ptz,hn-hk-hang-bac,ioc-hk,,,\nHK-2,Mã Mây,fixed,hn-hk-hang-dao,ioc-hk,,,nvr://hk/2\n"

    response = client.post(reverse("admin:governance_camera_import"), {"file": csv_upload(text)}, follow=True)

    assert response.redirect_chain[-1][0] == admin_url(Camera, "changelist")
    assert Camera.objects.get(code="HK-1").name == "Tên mới"
    assert Camera.objects.get(code="HK-2").area.code == "hn-hk-hang-dao"
    [message] = list(response.context["messages"])
    assert "1 cameras created" in str(message) and "1 updated" in str(message)
    event = ledger(Action.CAMERA_IMPORT).get()
    assert event.actor == admin_user and event.data["filename"] == "cameras.csv"


def test_admin_camera_import_page_loads_for_administrators(client, admin_user):
    sign_in_verified(client, admin_user, language="en")

    response = client.get(reverse("admin:governance_camera_import"))

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_area_code_is_fixed_once_it_has_wards(client, admin_user):
    district = DistrictFactory(code="hn-hk")
    WardFactory(parent=district)
    sign_in_verified(client, admin_user, language="en")

    page = client.get(admin_url(Area, "change", district.pk)).content.decode()

    assert 'name="code"' not in page


def test_a_basis_in_a_published_version_is_read_only_and_says_how_to_change_it(client, superuser):
    version = published_version(superuser)
    basis = version.legal_bases.get()
    page = sign_in_verified(client, superuser, language="en").get(admin_url(LegalBasis, "change", basis.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Locked by the published regulation" in text and version.number in text
    assert admin_url(LegalBasis, "revise", basis.pk) in text
    # Nothing of it is a field to fill in, and a forged post changes nothing.
    assert 'name="citation"' not in text and 'name="max_window_hours"' not in text
    before = LegalBasis.objects.get(pk=basis.pk)
    response = client.post(admin_url(LegalBasis, "change", basis.pk), {"code": basis.code, "citation": "Sửa", "max_cameras": 99})
    assert response.status_code == 403
    after = LegalBasis.objects.get(pk=basis.pk)
    assert (after.citation, after.max_cameras) == (before.citation, before.max_cameras)
    draft_basis = LegalBasisFactory()
    draft_page = client.get(admin_url(LegalBasis, "change", draft_basis.pk))
    assert "max_window_hours" in draft_page.context["adminform"].form.fields


def test_role_groups_cannot_be_edited_directly_in_the_admin(client, superuser):
    assert sign_in_verified(client, superuser, language="en").get("/admin/auth/group/").status_code == 404
