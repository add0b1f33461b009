"""The request list: an agency's own requests for its officers; every overseen request, with filters, for overseers."""

import pytest
from django.urls import reverse

from governance.models import Agency
from requests.forms import RequestListForm
from requests.models import FootageRequest, Status
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, ProvinceFactory, UserFactory, WardFactory, grant

pytestmark = pytest.mark.django_db

LIST = reverse("requests:list")


def listed(response):
    """The references on the page, newest first."""
    assert response.status_code == 200
    return [footage_request.reference for footage_request in response.context["footage_requests"]]


def requester_of(agency, username):
    return UserFactory(username=username, agency=agency, roles=["requester"])


@pytest.fixture
def neighbour(world):
    """The ward police of Hàng Đào, the other ward of the same district, with one officer."""
    agency = AgencyFactory(code="cap-hang-dao", name_vi="Công an phường Hàng Đào", area=world.other_ward)
    return requester_of(agency, "dung")


@pytest.fixture
def far_officer(world):
    """An officer of a ward police in another province."""
    ward = WardFactory(parent__parent=ProvinceFactory(code="hcm", name_vi="Thành phố Hồ Chí Minh", name_en="Ho Chi Minh City"))
    return requester_of(AgencyFactory(code="cap-ben-nghe", area=ward), "em")


@pytest.fixture
def district_inspector(world):
    """An auditor of the district inspectorate: its area holds both wards."""
    inspectorate = AgencyFactory(code="thanh-tra-quan", kind=Agency.Kind.INSPECTORATE, area=world.ward.parent)
    return UserFactory(username="thanhtra", agency=inspectorate, roles=["auditor"])


def test_an_inspector_lists_the_requests_of_agencies_in_its_area_and_no_others(
    client, world, neighbour, far_officer, district_inspector
):
    own_ward = world.submitted()
    other_ward = world.draft(actor=neighbour, attach=False)
    traffic = world.draft(actor=world.outsider, attach=False)
    far = world.draft(actor=far_officer, attach=False)
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST)

    assert listed(response) == [other_ward.reference, own_ward.reference]
    page = response.content.decode()
    assert traffic.reference not in page and far.reference not in page
    assert "Requests under your oversight" in page
    assert world.agency_a.name in page and neighbour.agency.name in page
    assert reverse("requests:new") not in page


def test_a_ward_inspector_does_not_list_the_neighbouring_wards_requests(client, world, neighbour):
    inspectorate = AgencyFactory(code="thanh-tra-hang-bac", kind=Agency.Kind.INSPECTORATE, area=world.ward)
    auditor = UserFactory(username="thanhtra-hb", agency=inspectorate, roles=["auditor"])
    own_ward = world.draft(attach=False)
    other_ward = world.draft(actor=neighbour, attach=False)
    sign_in_verified(client, auditor, language="en")

    assert listed(client.get(LIST)) == [own_ward.reference]
    assert other_ward.reference not in client.get(LIST, {"agency": neighbour.agency_id}).content.decode()


def test_the_inspector_filters_by_agency_status_and_reference(client, world, neighbour, district_inspector):
    submitted = world.submitted()
    draft = world.draft(attach=False)
    other_ward = world.draft(actor=neighbour, attach=False)
    sign_in_verified(client, district_inspector, language="en")

    assert listed(client.get(LIST, {"agency": world.agency_a.pk})) == [draft.reference, submitted.reference]
    assert listed(client.get(LIST, {"agency": neighbour.agency_id})) == [other_ward.reference]
    assert listed(client.get(LIST, {"status": Status.SUBMITTED})) == [submitted.reference]
    assert listed(client.get(LIST, {"agency": neighbour.agency_id, "status": Status.SUBMITTED})) == []
    assert listed(client.get(LIST, {"reference": submitted.reference})) == [submitted.reference]
    assert listed(client.get(LIST, {"reference": f" {draft.reference.lower()} "})) == [draft.reference]
    year_prefix = submitted.reference.rsplit("-", 1)[0]
    assert set(listed(client.get(LIST, {"reference": year_prefix}))) == {
        submitted.reference,
        draft.reference,
        other_ward.reference,
    }
    assert "No requests match these filters" in client.get(LIST, {"reference": "YC-1999"}).content.decode()


def test_the_agency_filter_offers_only_the_overseen_agencies(client, world, neighbour, far_officer, district_inspector):
    sign_in_verified(client, district_inspector, language="en")

    offered = set(client.get(LIST).context["form"].fields["agency"].queryset)

    assert {world.agency_a, neighbour.agency, world.centre, world.committee, district_inspector.agency} == offered


def test_a_forged_agency_outside_the_inspectors_area_shows_an_error_and_no_requests(
    client, world, far_officer, district_inspector
):
    world.draft(attach=False)
    traffic = world.draft(actor=world.outsider, attach=False)
    far = world.draft(actor=far_officer, attach=False)
    sign_in_verified(client, district_inspector, language="en")

    for agency in (world.agency_b, far_officer.agency):
        response = client.get(LIST, {"agency": agency.pk})
        page = response.content.decode()
        assert listed(response) == []
        assert "Choose one of the agencies whose requests you oversee." in page
        assert traffic.reference not in page and far.reference not in page


def test_an_agency_administrator_lists_its_own_agencys_requests_and_never_another(client, world):
    administrator = UserFactory(username="quantri-a", agency=world.agency_a, roles=["administrator"])
    own = world.draft(attach=False)
    other = world.draft(actor=world.outsider, attach=False)
    sign_in_verified(client, administrator, language="en")

    assert listed(client.get(LIST)) == [own.reference]
    assert list(client.get(LIST).context["form"].fields["agency"].queryset) == [world.agency_a]
    forged = client.get(LIST, {"agency": world.agency_b.pk})
    assert listed(forged) == [] and other.reference not in forged.content.decode()
    assert "Choose one of the agencies whose requests you oversee." in forged.content.decode()


def test_a_system_administrator_lists_every_agencys_requests(client, world):
    administrator = UserFactory(username="quantri-ioc", agency=world.centre, roles=["administrator"])
    own = world.draft(attach=False)
    other = world.draft(actor=world.outsider, attach=False)
    sign_in_verified(client, administrator, language="en")

    assert listed(client.get(LIST)) == [other.reference, own.reference]
    assert listed(client.get(LIST, {"agency": world.agency_b.pk})) == [other.reference]


def test_an_overseer_who_also_files_requests_keeps_the_new_request_button(client, world):
    administrator = grant(UserFactory(username="quantri-a", agency=world.agency_a, roles=["administrator"]), "requester")
    sign_in_verified(client, administrator, language="en")

    page = client.get(LIST).content.decode()

    assert "Requests under your oversight" in page and reverse("requests:new") in page


def test_a_requester_still_sees_only_its_own_agencys_list(client, world, neighbour):
    own = world.draft(attach=False)
    colleague = world.draft(actor=world.colleague, attach=False)
    other = world.draft(actor=world.outsider, attach=False)
    neighbours = world.draft(actor=neighbour, attach=False)
    sign_in_verified(client, world.insider, language="en")

    response = client.get(LIST, {"agency": world.agency_b.pk, "status": "nonsense"})

    assert listed(response) == [colleague.reference, own.reference]
    page = response.content.decode()
    assert "My agency's requests" in page and 'name="agency"' not in page
    assert other.reference not in page and neighbours.reference not in page
    assert reverse("requests:new") in page


def test_the_filters_survive_paging(client, world, neighbour, district_inspector, monkeypatch):
    monkeypatch.setattr("requests.views.PAGE_SIZE", 2)
    references = [world.draft(attach=False).reference for _ in range(3)]
    world.draft(actor=neighbour, attach=False)
    sign_in_verified(client, district_inspector, language="en")

    first = client.get(LIST, {"agency": world.agency_a.pk})
    assert listed(first) == [references[2], references[1]]
    older = FootageRequest.objects.get(reference=references[1]).pk
    assert f"?agency={world.agency_a.pk}&amp;before={older}" in first.content.decode()

    second = client.get(LIST, {"agency": world.agency_a.pk, "before": older})
    assert listed(second) == [references[0]]
    assert f"{LIST}?agency={world.agency_a.pk}" in second.content.decode()  # back to the newest, still filtered


@pytest.mark.parametrize(
    "query",
    [
        {"agency": "abc"},
        {"agency": "99999999999999999999999"},
        {"status": "granted-to-me"},
        {"before": "²"},
        {"before": "-5"},
        {"reference": "YC-" + "9" * 40},
    ],
)
def test_bad_filter_input_gives_a_clean_page_with_an_error(client, world, district_inspector, query):
    world.draft(attach=False)
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST, query)

    assert listed(response) == []
    page = response.content.decode()
    assert 'class="alert alert-error filters-errors"' in page
    assert "Correct the filters above to see requests" in page


@pytest.mark.parametrize("query", [{"reference": "YC-2026\x00"}, {"agency": "1\x00"}, {"status": "\x00"}, {"before": "\x00"}])
def test_a_nul_byte_in_a_filter_is_refused_with_a_clean_translated_page(client, world, district_inspector, query):
    footage_request = world.draft(attach=False)
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST, query)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The request was refused" in page and "control character" in page
    assert footage_request.reference not in page


@pytest.mark.parametrize("field", ["reference", "agency", "status", "before"])
def test_the_filter_form_itself_refuses_a_nul_byte(world, field):
    form = RequestListForm({field: "1\x00"}, agencies=Agency.objects.all())

    assert not form.is_valid() and form.errors[field]


@pytest.mark.parametrize("before", ["²", "abc", "0"])
def test_a_bad_page_address_shows_a_requester_the_newest_page(client, world, before):
    own = world.draft(attach=False)
    sign_in_verified(client, world.insider, language="en")

    assert listed(client.get(LIST, {"before": before})) == [own.reference]


def test_the_overseer_list_is_in_vietnamese_by_default(client, world, district_inspector):
    sign_in_verified(client, district_inspector)

    page = client.get(LIST).content.decode()

    assert "Đơn vị đề nghị" in page and "Tất cả đơn vị" in page
