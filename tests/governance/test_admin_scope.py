"""Administration scoped like the regulation: a ward police station's administrator manages its own people only."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from audit.models import Action, AuditEvent
from governance.models import (
    Agency,
    Area,
    AssignmentRule,
    Camera,
    DataCategory,
    LegalBasis,
    Membership,
    RegulationVersion,
    Role,
    User,
    role_group_name,
)
from governance.permissions import is_system_administrator
from governance.services import membership_grant, regulation_publish
from tests.auth import sign_in_verified
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    CameraFactory,
    DistrictFactory,
    LegalBasisFactory,
    RegulationVersionFactory,
    UserFactory,
    WardFactory,
    category,
)

GOVERNANCE_MODELS = [Area, Agency, Camera, DataCategory, LegalBasis, RegulationVersion, AssignmentRule]
NEW_PASSWORD = "Mat-khau-chiem-quyen-2026!"


def admin_url(model, view, *args):
    return reverse(f"admin:governance_{model._meta.model_name}_{view}", args=args)


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def user_state():
    """Everything an administrator could change about accounts and roles."""
    return (
        sorted(User.objects.values_list("pk", "username", "password", "agency_id", "is_staff", "is_superuser", "is_active")),
        sorted(Membership.objects.values_list("user_id", "agency_id", "role")),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
    )


def user_form(user, **changes):
    """The change form of a user as the browser posts it, with the (read-only) roles inline."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "position": user.position,
        "is_active": "on",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
    }
    return {**data, **changes}


@pytest.fixture
def town(db):
    """The district's monitoring centre (reviews, approves, exports) and two ward police stations (request)."""
    district = DistrictFactory(code="hn-hk")
    hang_bac, hang_dao = WardFactory(parent=district, code="hang-bac"), WardFactory(parent=district, code="hang-dao")
    centre = AgencyFactory(code="ioc-hk", kind=Agency.Kind.MONITORING_CENTRE, area=district)
    ward = AgencyFactory(code="ca-hang-bac", kind=Agency.Kind.WARD_POLICE, area=hang_bac)
    other_ward = AgencyFactory(code="ca-hang-dao", kind=Agency.Kind.WARD_POLICE, area=hang_dao)
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory())
    for duty in AssignmentRule.Duty.values:
        AssignmentRuleFactory(version=version, duty=duty, agency=centre, area=district)
    with transaction.atomic():
        regulation_publish(actor=None, version=version)
    return {
        "centre": centre,
        "ward": ward,
        "other_ward": other_ward,
        "system_admin": UserFactory(username="ioc-hk.admin", agency=centre, is_staff=True, roles=["administrator"]),
        "approver": UserFactory(username="ioc-hk.approver", agency=centre, roles=["approver"]),
        "custodian": UserFactory(username="ioc-hk.custodian", agency=centre, roles=["custodian"]),
        "ward_admin": UserFactory(username="ca-hang-bac.admin", agency=ward, is_staff=True, roles=["administrator"]),
        "ward_admin2": UserFactory(username="ca-hang-bac.admin2", agency=ward, is_staff=True, roles=["administrator"]),
        "officer": UserFactory(username="ca-hang-bac.officer", agency=ward, roles=["requester"]),
        "other_officer": UserFactory(username="ca-hang-dao.officer", agency=other_ward, roles=["requester"]),
        "camera": CameraFactory(
            code="HK-HB-001", area=hang_bac, managing_agency=centre, source_url="nvr://ioc-hk/hb-001", credential_ref="nvr-ro"
        ),
    }


@pytest.fixture
def ward_admin_client(client, town):
    return sign_in_verified(client, town["ward_admin"], language="en")


def test_only_the_centres_administrators_are_system_administrators(town, superuser):
    assert is_system_administrator(town["system_admin"]) and is_system_administrator(superuser)
    assert not is_system_administrator(town["ward_admin"])
    assert not is_system_administrator(town["custodian"])


# The take-over that was possible: reset, move, grant ---------------------------------------------


def test_ward_administrator_cannot_reset_the_centre_approvers_password(ward_admin_client, town):
    approver = town["approver"]
    before = user_state()

    page = ward_admin_client.get(password_url(approver))
    response = ward_admin_client.post(
        password_url(approver), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert page.status_code == 404 and response.status_code == 404
    assert user_state() == before
    approver.refresh_from_db()
    assert not approver.check_password(NEW_PASSWORD)


def test_ward_administrator_cannot_move_itself_into_the_centre(ward_admin_client, town):
    me = town["ward_admin"]
    before = user_state()

    response = ward_admin_client.post(admin_url(User, "change", me.pk), user_form(me, agency=town["centre"].pk, is_staff="on"))

    assert response.status_code == 403
    assert user_state() == before


def test_ward_administrator_cannot_move_its_officer_into_another_agency(ward_admin_client, town):
    officer = town["officer"]
    before = user_state()

    response = ward_admin_client.post(admin_url(User, "change", officer.pk), user_form(officer, agency=town["centre"].pk))

    # The agency is shown but not editable: the posted value is ignored.
    assert response.status_code == 302
    assert user_state() == before


def test_ward_administrator_cannot_grant_a_role_in_another_agency(ward_admin_client, town):
    before = user_state()

    for user in (town["approver"], town["other_officer"]):
        response = ward_admin_client.post(admin_url(Membership, "add"), {"user": user.pk, "role": "approver"})
        assert response.status_code == 404, user

    assert user_state() == before
    assert not AuditEvent.objects.filter(action=Action.PERMISSION_GRANT, actor=town["ward_admin"]).exists()


@pytest.mark.parametrize("role", ["approver", "reviewer", "custodian", "auditor", "administrator"])
def test_ward_administrator_cannot_grant_a_role_the_regulation_does_not_give_its_agency(ward_admin_client, town, role):
    before = user_state()

    response = ward_admin_client.post(admin_url(Membership, "add"), {"user": town["officer"].pk, "role": role})

    assert response.status_code == 403
    assert user_state() == before


def test_ward_administrator_cannot_grant_itself_or_another_administrator_a_role(ward_admin_client, town):
    town["officer"].memberships.all().delete()  # a role the regulation gives the ward, free to grant
    before = user_state()

    for user in (town["ward_admin"], town["ward_admin2"]):
        response = ward_admin_client.post(admin_url(Membership, "add"), {"user": user.pk, "role": "requester"})
        assert response.status_code == 403, user

    assert user_state() == before


def test_the_grant_service_refuses_a_ward_administrator_too(town):
    with pytest.raises(PermissionDenied), transaction.atomic():
        membership_grant(actor=town["ward_admin"], user=town["approver"], role=Role.CUSTODIAN)

    assert not town["approver"].memberships.filter(role=Role.CUSTODIAN).exists()


def test_ward_administrator_cannot_touch_another_administrator_or_a_superuser(ward_admin_client, town, superuser):
    colleague = town["ward_admin2"]
    superuser.agency = town["ward"]
    superuser.save()
    before = user_state()

    assert ward_admin_client.get(password_url(colleague)).status_code == 403
    assert (
        ward_admin_client.post(
            password_url(colleague), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        ).status_code
        == 403
    )
    assert ward_admin_client.post(admin_url(User, "delete", colleague.pk), {"post": "yes"}).status_code == 403
    assert ward_admin_client.get(admin_url(User, "change", superuser.pk)).status_code == 404
    assert ward_admin_client.get(password_url(superuser)).status_code == 404
    assert user_state() == before


def test_ward_administrator_cannot_revoke_a_role_elsewhere_or_an_administrators(ward_admin_client, town):
    elsewhere = town["approver"].memberships.get()
    administrator = town["ward_admin2"].memberships.get()
    before = user_state()

    assert ward_admin_client.post(admin_url(Membership, "delete", elsewhere.pk), {"post": "yes"}).status_code == 404
    assert ward_admin_client.post(admin_url(Membership, "delete", administrator.pk), {"post": "yes"}).status_code == 403
    ward_admin_client.post(
        admin_url(Membership, "changelist"),
        {"action": "delete_selected", "_selected_action": [elsewhere.pk, administrator.pk], "post": "yes"},
    )

    assert user_state() == before


# What a ward administrator may do: its own agency's people -----------------------------------------


def test_ward_administrator_sees_only_its_agencys_users(ward_admin_client, town, superuser):
    page = ward_admin_client.get(admin_url(User, "changelist")).content.decode()

    assert "ca-hang-bac.officer" in page and "ca-hang-bac.admin2" in page
    for outside in ("ioc-hk.approver", "ioc-hk.admin", "ca-hang-dao.officer", superuser.username):
        assert outside not in page, outside
    assert town["approver"].email not in ward_admin_client.get(admin_url(User, "changelist"), {"q": "example"}).content.decode()
    found = ward_admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "governance", "model_name": "membership", "field_name": "user", "term": "ca-"},
    ).json()
    assert {row["text"] for row in found["results"]} <= {"ca-hang-bac.officer", "ca-hang-bac.admin", "ca-hang-bac.admin2"}


def test_ward_administrator_sees_only_its_agencys_role_grants(ward_admin_client, town):
    page = ward_admin_client.get(admin_url(Membership, "changelist")).content.decode()

    assert "ca-hang-bac.officer" in page
    assert "ioc-hk.approver" not in page and "ca-hang-dao.officer" not in page
    other = town["other_officer"].memberships.get()
    assert ward_admin_client.get(admin_url(Membership, "change", other.pk)).status_code == 404


def test_ward_administrator_resets_its_officers_password_and_the_ledger_says_so(ward_admin_client, town):
    officer = town["officer"]

    response = ward_admin_client.post(
        password_url(officer), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=Action.GOVERNANCE_UPDATE, target_type="governance.user", target_id=str(officer.pk))
    assert event.actor == town["ward_admin"] and event.data["fields"] == {"password": "changed"}
    assert officer.password not in event.payload


def test_ward_administrator_grants_and_revokes_a_role_of_its_agency_in_the_ledger(ward_admin_client, town):
    officer = UserFactory(username="ca-hang-bac.moi", agency=town["ward"])
    form = ward_admin_client.get(admin_url(Membership, "add")).context["adminform"].form

    assert [value for value, _label in form.fields["role"].choices if value] == [Role.REQUESTER]
    response = ward_admin_client.post(admin_url(Membership, "add"), {"user": officer.pk, "role": "requester"})

    assert response.status_code == 302
    membership = officer.memberships.get()
    assert officer.groups.filter(name=role_group_name(town["ward"], "requester")).exists()
    assert AuditEvent.objects.get(action=Action.PERMISSION_GRANT, target_id=str(officer.pk)).actor == town["ward_admin"]
    assert ward_admin_client.post(admin_url(Membership, "delete", membership.pk), {"post": "yes"}).status_code == 302
    assert not officer.memberships.exists()
    assert AuditEvent.objects.get(action=Action.PERMISSION_REVOKE, target_id=str(officer.pk)).actor == town["ward_admin"]


def test_a_user_added_by_a_ward_administrator_belongs_to_its_agency(ward_admin_client, town):
    response = ward_admin_client.post(
        admin_url(User, "add"),
        {
            "username": "ca-hang-bac.new",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "position": "Cán bộ",
            "agency": town["centre"].pk,
            "is_staff": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="ca-hang-bac.new")
    assert created.agency == town["ward"] and not created.is_staff and not created.is_superuser


def test_a_ward_administrators_user_page_has_no_agency_or_staff_field(ward_admin_client, town):
    form = ward_admin_client.get(admin_url(User, "change", town["officer"].pk)).context["adminform"].form

    assert not {"agency", "is_staff", "is_superuser", "groups", "user_permissions"} & set(form.fields)


def test_ward_administrator_cannot_open_the_governance_admin(ward_admin_client, town):
    objects = {
        Area: town["ward"].area,
        Agency: town["centre"],
        Camera: town["camera"],
        DataCategory: category("video"),
        LegalBasis: LegalBasis.objects.first(),
        RegulationVersion: RegulationVersion.objects.first(),
        AssignmentRule: AssignmentRule.objects.first(),
    }
    before = Agency.objects.get(pk=town["centre"].pk).name_vi

    index = ward_admin_client.get(reverse("admin:index")).content.decode()

    assert "governance/user/" in index and "governance/camera/" not in index and "governance/agency/" not in index
    for model in GOVERNANCE_MODELS:
        assert ward_admin_client.get(admin_url(model, "changelist")).status_code == 403, model
        assert ward_admin_client.get(admin_url(model, "add")).status_code == 403, model
        assert ward_admin_client.get(admin_url(model, "change", objects[model].pk)).status_code == 404, model
    assert ward_admin_client.post(admin_url(Agency, "change", town["centre"].pk), {"name_vi": "Chiếm"}).status_code == 404
    assert ward_admin_client.get(reverse("admin:governance_camera_import")).status_code == 403
    assert Agency.objects.get(pk=town["centre"].pk).name_vi == before


# Camera source addresses ---------------------------------------------------------------------------


def test_camera_source_is_hidden_from_other_agencies_administrators(client, town):
    camera = town["camera"]
    url = reverse("camera-detail", args=[camera.code])

    for user in (town["ward_admin"], town["approver"]):
        page = sign_in_verified(client, user, language="en").get(url).content.decode()
        assert camera.source_url not in page and camera.credential_ref not in page, user
    for user in (town["custodian"], town["system_admin"]):
        page = sign_in_verified(client, user, language="en").get(url).content.decode()
        assert camera.source_url in page and camera.credential_ref in page, user
    sign_in_verified(client, town["ward_admin"], language="en")
    assert client.get(admin_url(Camera, "change", camera.pk)).status_code == 404


def test_an_administrator_of_the_managing_agency_that_is_no_centre_does_not_see_the_source(client, town):
    camera = CameraFactory(managing_agency=town["ward"], source_url="rtsp://10.1.2.3/ward")

    sign_in_verified(client, town["ward_admin"], language="en")
    page = client.get(reverse("camera-detail", args=[camera.code])).content.decode()

    assert "rtsp://10.1.2.3/ward" not in page


# The system administrator --------------------------------------------------------------------------


def test_moving_a_user_to_another_agency_revokes_the_roles_held_in_the_old_one(client, town):
    officer = town["officer"]
    group = Group.objects.get(name=role_group_name(town["ward"], "requester"))
    sign_in_verified(client, town["system_admin"], language="en")

    response = client.post(admin_url(User, "change", officer.pk), user_form(officer, agency=town["other_ward"].pk))

    assert response.status_code == 302, response.content.decode()[:2000]
    officer.refresh_from_db()
    assert officer.agency == town["other_ward"]
    assert not officer.memberships.exists() and not officer.groups.filter(pk=group.pk).exists()
    revoked = AuditEvent.objects.get(action=Action.PERMISSION_REVOKE, target_id=str(officer.pk))
    assert revoked.actor == town["system_admin"] and revoked.data["agency"] == "ca-hang-bac"


def test_system_administrator_sees_every_user_and_grants_any_role(client, town):
    sign_in_verified(client, town["system_admin"], language="en")

    page = client.get(admin_url(User, "changelist")).content.decode()
    response = client.post(admin_url(Membership, "add"), {"user": town["ward_admin2"].pk, "role": "auditor"})

    assert "ca-hang-dao.officer" in page and "ioc-hk.approver" in page
    assert response.status_code == 302
    assert town["ward_admin2"].memberships.filter(role="auditor").exists()
