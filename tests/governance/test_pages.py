"""The web shell: sign-in, navigation by role, and the read-only governance pages."""

import datetime as dt
import zoneinfo

import pytest
from django.db import transaction
from django.urls import reverse

from governance.models import Agency, AssignmentRule, Camera
from governance.services import regulation_publish
from tests.auth import sign_in_verified
from tests.factories import (
    DEFAULT_PASSWORD,
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

pytestmark = pytest.mark.django_db

HCM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
GOVERNANCE_PAGES = ["cameras", "legal-bases", "regulation"]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def centre(db):
    return AgencyFactory(
        code="ttgs",
        name_vi="Trung tâm giám sát Hoàn Kiếm",
        name_en="Hoan Kiem Monitoring Centre",
        kind=Agency.Kind.MONITORING_CENTRE,
    )


@pytest.fixture
def camera(centre):
    district = DistrictFactory(code="hoan-kiem", name_vi="Quận Hoàn Kiếm", name_en="Hoan Kiem District")
    ward = WardFactory(code="hang-bac", name_vi="Phường Hàng Bạc", name_en="Hang Bac Ward", parent=district)
    return CameraFactory(
        code="HK-0001",
        name="Ngã tư Hàng Bạc – Đinh Liệt",
        kind=Camera.Kind.ANPR,
        area=ward,
        managing_agency=centre,
        has_plate_events=True,
        retention_days=45,
        source_url="rtsp://10.20.0.15:554/Streaming/Channels/101",
        credential_ref="vault:cameras/hk-0001",
    )


@pytest.fixture
def custodian(centre):
    return UserFactory(username="vanhanh", agency=centre, roles=["custodian"])


@pytest.fixture
def legal_basis(db):
    return LegalBasisFactory(
        code="TTHS_THU_THAP_CHUNG_CU",
        title_vi="Thu thập chứng cứ trong vụ án hình sự",
        title_en="Evidence collection in a criminal case",
        citation="BLTTHS 101/2015 Điều 88.1, 88.4",
        verified=False,
        case_number_required=True,
        max_window_hours=48,
        max_cameras=20,
        approvals_required=2,
        deadline_hours_normal=120,
        deadline_hours_urgent=24,
        deadline_hours_emergency=2,
        valid_from=dt.date(2026, 1, 1),
        categories=["video", "plate_events"],
    )


@pytest.fixture
def published_regulation(legal_basis, centre, agency_a, admin_user):
    version = RegulationVersionFactory(
        number="QC-2026-01",
        decision_reference="Quyết định số 12/QĐ-UBND ngày 20/12/2025",
        effective_from=dt.datetime(2026, 1, 1, 0, 30, tzinfo=HCM),
    )
    version.legal_bases.add(legal_basis)
    for duty in AssignmentRule.Duty:
        AssignmentRuleFactory(version=version, duty=duty, agency=centre)
    AssignmentRuleFactory(
        version=version, duty=AssignmentRule.Duty.REVIEW, agency=agency_a, data_category=category("plate_events")
    )
    with transaction.atomic():
        return regulation_publish(actor=admin_user, version=version)


# Signing in and out ----------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login_from_every_page(client, camera, legal_basis):
    urls = [reverse("home"), *(reverse(name) for name in GOVERNANCE_PAGES)]
    urls += [reverse("camera-detail", args=[camera.code]), reverse("legal-basis-detail", args=[legal_basis.code])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_login_page_offers_the_form_and_both_languages(client):
    html = page(client, reverse("login"))
    assert 'name="username"' in html and 'name="password"' in html
    assert "Tiếng Việt" in html and "English" in html
    assert 'lang="vi"' in html


def test_officer_signs_in_and_out(client, insider):
    response = client.post(reverse("login"), {"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "Công an phường Hàng Bạc" in page(client, reverse("home"))

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_keeps_the_officer_out(client, insider):
    response = client.post(reverse("login"), {"username": "alice", "password": "not-the-password"})
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_language_switch_changes_the_page_language(client, insider):
    client.force_login(insider)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    html = page(client, reverse("home"))
    assert 'lang="en"' in html
    assert "Hang Bac Ward Police" in html


# Home page by role -------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_requester_home_greets_with_agency_and_lists_agency_requests(client, insider, language):
    html = page(sign_in_verified(client, insider, language=language), reverse("home"))
    assert f'lang="{language}"' in html
    assert ("Công an phường Hàng Bạc" if language == "vi" else "Hang Bac Ward Police") in html
    assert 'id="role-requester"' in html
    assert reverse("requests:new") in html
    assert 'id="role-reviewer"' not in html


def test_requester_home_in_english_explains_the_empty_list(client, insider):
    html = page(sign_in_verified(client, insider, language="en"), reverse("home"))
    assert "My agency's requests" in html
    assert "No requests yet" in html
    assert "New request" in html


def test_home_shows_one_section_per_role_held(client, centre):
    officer = UserFactory(agency=centre, roles=["reviewer", "approver", "custodian"])
    html = page(sign_in_verified(client, officer, language="en"), reverse("home"))
    assert "Review queue" in html and "Approval queue" in html and "Exports to run" in html
    assert 'id="role-requester"' not in html


def test_auditor_home_links_to_the_ledger_and_nav_shows_it(client, auditor, insider):
    html = page(sign_in_verified(client, auditor, language="en"), reverse("home"))
    assert html.count(reverse("oversight:ledger")) >= 2
    html = page(sign_in_verified(client, insider, language="en"), reverse("home"))
    assert reverse("oversight:ledger") not in html


def test_administrator_home_links_to_the_admin_pages(client, admin_user, insider):
    html = page(sign_in_verified(client, admin_user, language="en"), reverse("home"))
    for name in ["camera", "legalbasis", "regulationversion", "user"]:
        assert reverse(f"admin:governance_{name}_changelist") in html
    assert reverse("admin:index") in html
    html = page(sign_in_verified(client, insider, language="en"), reverse("home"))
    assert reverse("admin:index") not in html


def test_user_without_role_sees_home_but_no_governance_page(client, agency_a, camera, legal_basis):
    nobody = UserFactory(agency=agency_a, roles=[])
    html = page(sign_in_verified(client, nobody, language="en"), reverse("home"))
    assert "No role yet" in html
    assert reverse("cameras") not in html
    for name in GOVERNANCE_PAGES:
        assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("camera-detail", args=[camera.code])).status_code == 404
    assert client.get(reverse("legal-basis-detail", args=[legal_basis.code])).status_code == 404


# Cameras ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_camera_list_shows_cameras_with_their_agency(client, insider, camera, language):
    html = page(sign_in_verified(client, insider, language=language), reverse("cameras"))
    assert "HK-0001" in html and "Ngã tư Hàng Bạc – Đinh Liệt" in html
    assert ("Trung tâm giám sát Hoàn Kiếm" if language == "vi" else "Hoan Kiem Monitoring Centre") in html


def test_camera_search_finds_by_code_and_by_name(client, insider, camera):
    CameraFactory(code="BD-0002", name="Cầu Long Biên", area=camera.area, managing_agency=camera.managing_agency)
    sign_in_verified(client, insider, language="vi")
    by_code = page(client, reverse("cameras") + "?q=hk-00")
    assert "HK-0001" in by_code and "BD-0002" not in by_code
    by_name = page(client, reverse("cameras") + "?q=long biên")
    assert "BD-0002" in by_name and "HK-0001" not in by_name


def test_camera_filters_by_kind_status_and_district(client, insider, camera):
    other_district = WardFactory(code="ba-dinh-1")
    CameraFactory(code="BD-0003", area=other_district, managing_agency=camera.managing_agency, status=Camera.Status.OFFLINE)
    sign_in_verified(client, insider, language="vi")
    html = page(client, reverse("cameras") + "?kind=anpr")
    assert "HK-0001" in html and "BD-0003" not in html
    html = page(client, reverse("cameras") + "?status=offline")
    assert "BD-0003" in html and "HK-0001" not in html
    html = page(client, reverse("cameras") + "?district=hoan-kiem")
    assert "HK-0001" in html and "BD-0003" not in html


def test_camera_search_with_no_match_says_so(client, insider, camera):
    html = page(sign_in_verified(client, insider, language="en"), reverse("cameras") + "?q=khong-co")
    assert "No camera matches your search" in html


def test_camera_list_is_paged_fifty_at_a_time_without_counting(client, insider, camera, django_assert_max_num_queries):
    for n in range(60):
        CameraFactory(code=f"HK-1{n:03d}", area=camera.area, managing_agency=camera.managing_agency)
    sign_in_verified(client, insider, language="vi")
    with django_assert_max_num_queries(8):
        first = page(client, reverse("cameras"))
    assert first.count('href="/cameras/HK-') == 50
    assert 'rel="next"' in first
    second = page(client, reverse("cameras") + "?page=2")
    assert second.count('href="/cameras/HK-') == 11
    assert 'rel="next"' not in second and 'rel="prev"' in second


def test_an_invalid_filter_is_reported_and_the_others_still_apply(client, insider, camera):
    html = page(sign_in_verified(client, insider, language="en"), reverse("cameras") + "?kind=zeppelin&q=HK")
    assert "HK-0001" in html
    assert 'class="alert alert-error' in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_camera_detail_shows_area_path_agency_and_retention(client, insider, camera, language):
    html = page(sign_in_verified(client, insider, language=language), reverse("camera-detail", args=[camera.code]))
    if language == "vi":
        assert "Quận Hoàn Kiếm" in html and "Phường Hàng Bạc" in html and "Trung tâm giám sát Hoàn Kiếm" in html
    else:
        assert "Hoan Kiem District" in html and "Hang Bac Ward" in html and "Hoan Kiem Monitoring Centre" in html
        assert "45 days" in html
        assert "Plate-recognition events" in html


def test_camera_source_is_hidden_from_a_requester(client, insider, camera):
    html = page(sign_in_verified(client, insider, language="vi"), reverse("camera-detail", args=[camera.code]))
    assert camera.source_url not in html
    assert camera.credential_ref not in html


def test_camera_source_is_shown_to_the_managing_agency_custodian(client, custodian, camera):
    html = page(sign_in_verified(client, custodian, language="vi"), reverse("camera-detail", args=[camera.code]))
    assert camera.source_url in html
    assert camera.credential_ref in html


def test_custodian_of_another_agency_cannot_see_the_camera_source(client, agency_b, camera):
    outside_custodian = UserFactory(agency=agency_b, roles=["custodian", "administrator"], is_staff=True)
    html = page(sign_in_verified(client, outside_custodian, language="vi"), reverse("camera-detail", args=[camera.code]))
    assert camera.source_url not in html


def test_outsider_cannot_see_another_agencys_camera_source(client, outsider, camera):
    html = page(sign_in_verified(client, outsider, language="vi"), reverse("camera-detail", args=[camera.code]))
    assert camera.source_url not in html


def test_superuser_sees_the_camera_source(client, superuser, camera):
    html = page(sign_in_verified(client, superuser, language="vi"), reverse("camera-detail", args=[camera.code]))
    assert camera.source_url in html


def test_unknown_camera_is_not_found(client, insider):
    assert sign_in_verified(client, insider, language="vi").get(reverse("camera-detail", args=["NO-SUCH"])).status_code == 404


# Legal bases -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title"), [("vi", "Thu thập chứng cứ trong vụ án hình sự"), ("en", "Evidence collection in a criminal case")]
)
def test_legal_bases_list_shows_title_in_the_current_language(client, insider, legal_basis, language, title):
    html = page(sign_in_verified(client, insider, language=language), reverse("legal-bases"))
    assert title in html
    assert "BLTTHS 101/2015 Điều 88.1, 88.4" in html


def test_unverified_citation_is_flagged(client, insider, legal_basis):
    verified = LegalBasisFactory(code="CAND_YEU_CAU_TT", verified=True)
    html = page(sign_in_verified(client, insider, language="en"), reverse("legal-bases"))
    assert html.count("Citation not yet verified") == 1
    assert "Citation verified" in html
    html = page(client, reverse("legal-basis-detail", args=[legal_basis.code]))
    assert "Citation not yet verified" in html
    html = page(client, reverse("legal-basis-detail", args=[verified.code]))
    assert "Citation not yet verified" not in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_legal_basis_detail_shows_its_limits_and_deadlines(client, insider, legal_basis, language):
    html = page(sign_in_verified(client, insider, language=language), reverse("legal-basis-detail", args=[legal_basis.code]))
    assert ("Sự kiện nhận dạng biển số" if language == "vi" else "Plate-recognition events") in html
    assert "01/01/2026" in html
    if language == "en":
        assert "48 hours" in html and "120 hours" in html and "24 hours" in html and "2 hours" in html
        assert "Sensitive personal data" in html
        assert "Required" in html


# Regulation ------------------------------------------------------------------


def test_regulation_page_says_when_nothing_is_in_force(client, insider):
    html = page(sign_in_verified(client, insider, language="en"), reverse("regulation"))
    assert "No regulation version is in force" in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_regulation_page_shows_the_version_in_force(client, insider, published_regulation, language):
    html = page(sign_in_verified(client, insider, language=language), reverse("regulation"))
    assert "QC-2026-01" in html
    assert "Quyết định số 12/QĐ-UBND ngày 20/12/2025" in html
    assert "01/01/2026 00:30" in html  # Vietnam time, day first, 24-hour clock
    assert published_regulation.snapshot_sha256 in html
    assert ("Thu thập chứng cứ trong vụ án hình sự" if language == "vi" else "Evidence collection in a criminal case") in html


def test_regulation_page_groups_assignments_by_duty(client, insider, published_regulation):
    html = page(sign_in_verified(client, insider, language="en"), reverse("regulation"))
    review, approve, export = (html.index(f'id="duty-{duty}"') for duty in ("review", "approve", "export"))
    assert review < approve < export
    review_section = html[review:approve]
    assert "Hang Bac Ward Police" in review_section and "Plate-recognition events" in review_section
    assert "Hang Bac Ward Police" not in html[approve:]
    assert "All categories" in html


# Error pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "explanation"),
    [
        ("en", "Page not found", "This page does not exist, or you do not have access to it."),
        ("vi", "Không tìm thấy trang", "Trang này không tồn tại hoặc đồng chí không có quyền truy cập."),
    ],
)
def test_not_found_page_uses_the_shell(client, insider, settings, language, title, explanation):
    settings.DEBUG = False
    response = sign_in_verified(client, insider, language=language).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert title in html and explanation in html and "css/app.css" in html
