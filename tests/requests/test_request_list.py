"""The request list: an agency's own requests for its officers; every overseen request, with filters, for overseers."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance.models import Agency, role_group_name
from requests.forms import RequestListForm
from requests.models import FootageRequest, Status
from requests.selectors import listed_requests
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

    response = client.get(LIST, {"agency": world.agency_b.pk})  # no agency to choose: the parameter is ignored

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


@pytest.mark.parametrize(
    "query",
    [
        {"reference": "YC-2026\x00"},
        {"agency": "1\x00"},
        {"status": "\x00"},
        {"before": "\x00"},
        {"case": "45/\x00"},
        {"legal_basis": "CAND\x00"},
        {"filed_from": "02/12/2026\x00"},
    ],
)
def test_a_nul_byte_in_a_filter_is_refused_with_a_clean_translated_page(client, world, district_inspector, query):
    footage_request = world.draft(attach=False)
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST, query)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The request was refused" in page and "control character" in page
    assert footage_request.reference not in page


@pytest.mark.parametrize("field", ["reference", "agency", "status", "before", "case", "legal_basis", "filed_from", "filed_to"])
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


# Probing the list from outside one's scope -----------------------------------------------------------------------


@pytest.fixture
def ward_inspector(world):
    """An auditor of the Hàng Bạc ward inspectorate: its area holds ward police A and none of the traffic police."""
    inspectorate = AgencyFactory(code="thanh-tra-hang-bac", kind=Agency.Kind.INSPECTORATE, area=world.ward)
    return UserFactory(username="thanhtra-hb", agency=inspectorate, roles=["auditor"])


@pytest.fixture
def traffic_request(world):
    """A request of the traffic police (B) for a camera that stands in Hàng Bạc, filed last: the newest of all."""
    world.draft(attach=False)
    footage_request = world.submitted(actor=world.outsider)
    assert {item.camera.area for item in footage_request.items.all()} == {world.ward}
    return footage_request


def test_a_ward_inspector_never_lists_another_agencys_request_for_the_wards_cameras(
    client, world, ward_inspector, traffic_request
):
    sign_in_verified(client, ward_inspector, language="en")
    # The page repeats the query typed (in the language switch's return address): only a link to the request would leak.
    link = reverse("requests:detail", args=[traffic_request.reference])

    for query in (
        {},
        {"reference": traffic_request.reference},
        {"reference": traffic_request.reference.lower()},
        {"status": Status.SUBMITTED},
        {"agency": world.agency_a.pk, "reference": traffic_request.reference},
        {"before": traffic_request.pk + 1},
    ):
        response = client.get(LIST, query)
        assert traffic_request.reference not in listed(response), query
        assert link not in response.content.decode(), query
    assert "No requests match these filters" in client.get(LIST, {"reference": traffic_request.reference}).content.decode()


@pytest.mark.parametrize(
    "reference",
    ["%", "_", "YC-%", "YC-____-", "%2026%", "' OR '1'='1", "YC-2026-0' --", "\\", '"><script>x</script>'],
)
def test_a_reference_with_wildcards_or_quotes_matches_only_itself(client, world, district_inspector, reference):
    own = world.draft(attach=False)
    sign_in_verified(client, district_inspector, language="en")
    assert listed(client.get(LIST, {"reference": own.reference[:4]})) == [own.reference]  # a real prefix matches

    response = client.get(LIST, {"reference": reference})

    assert listed(response) == []
    assert "<script>x</script>" not in response.content.decode()


@pytest.mark.parametrize("status", ["submitted' OR '1'='1", "submitted;--", "SUBMITTED", "draft,submitted"])
def test_a_status_that_is_not_one_of_the_statuses_lists_nothing(client, world, district_inspector, status):
    world.submitted()
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST, {"status": status})

    assert listed(response) == []
    assert "Correct the filters above to see requests" in response.content.decode()


def test_a_reference_far_beyond_its_length_gives_the_filter_error_not_a_failure(client, world, district_inspector):
    sign_in_verified(client, district_inspector, language="en")

    response = client.get(LIST, {"reference": "YC-2026-" + "0" * 20000})

    assert listed(response) == [] and "Correct the filters above to see requests" in response.content.decode()


def test_the_cursor_pages_only_through_the_readers_own_requests(client, world, ward_inspector, traffic_request):
    own = list(FootageRequest.objects.filter(agency=world.agency_a).order_by("-id").values_list("reference", flat=True))
    sign_in_verified(client, ward_inspector, language="en")

    # A cursor just past B's request, at it, and at the largest id there is: only A's requests, newest first.
    for before in (traffic_request.pk + 1, traffic_request.pk, 2**63 - 1):
        assert listed(client.get(LIST, {"before": before})) == own, before
    beyond = client.get(LIST, {"before": 2**63})
    assert listed(beyond) == [] and "This page address is not valid" in beyond.content.decode()
    # An officer of A given the same cursors sees its own agency's list, from the newest when the cursor is bad.
    client.force_login(world.insider)
    for before in (traffic_request.pk, 2**63):
        assert listed(client.get(LIST, {"before": before})) == own, before


def test_an_agency_administrator_finds_no_other_agencys_request_whatever_the_filters(client, world, traffic_request):
    administrator = UserFactory(username="quantri-a", agency=world.agency_a, roles=["administrator"])
    own = list(FootageRequest.objects.filter(agency=world.agency_a).order_by("-id").values_list("reference", flat=True))
    sign_in_verified(client, administrator, language="en")

    assert listed(client.get(LIST, {"reference": traffic_request.reference})) == []
    assert listed(client.get(LIST, {"status": Status.SUBMITTED, "reference": "YC-"})) == []
    assert listed(client.get(LIST, {"agency": world.agency_a.pk, "before": traffic_request.pk})) == own
    # A query string naming two agencies: the last one counts, and B is refused as a choice.
    forged = client.get(f"{LIST}?agency={world.agency_a.pk}&agency={world.agency_b.pk}")
    assert listed(forged) == [] and reverse("requests:detail", args=[traffic_request.reference]) not in forged.content.decode()
    assert listed(client.get(f"{LIST}?agency={world.agency_b.pk}&agency={world.agency_a.pk}")) == own


def test_a_requester_is_never_listed_another_agencys_request_by_its_reference(client, world, traffic_request):
    own = list(FootageRequest.objects.filter(agency=world.agency_a).order_by("-id").values_list("reference", flat=True))
    sign_in_verified(client, world.insider, language="en")

    response = client.get(LIST, {"reference": traffic_request.reference, "agency": world.agency_b.pk})

    assert listed(response) == []  # its own list filtered by that reference: none of A's
    assert reverse("requests:detail", args=[traffic_request.reference]) not in response.content.decode()
    assert listed(client.get(LIST, {"agency": world.agency_b.pk})) == own


def test_an_administrator_lists_its_agencys_requests_and_those_granted_to_its_groups_merged_newest_first(world):
    """Its agency's requests and those its groups were granted are read apart and merged: every page is the newest
    of both, with no request twice (its requester group holds grants on its own agency's requests too) and none
    skipped."""
    head = grant(UserFactory(username="quantri-a", agency=world.agency_a, roles=["administrator"]), "requester")
    group = head.groups.get(name=role_group_name(world.agency_a, "requester"))
    made = []
    for n in range(6):
        footage_request = world.draft(actor=world.outsider if n % 2 else world.insider, attach=False)
        if n % 2:  # another agency's request, shared with the administrator's group
            assign_perm("view_footagerequest", group, footage_request)
        made.append(footage_request)
    hidden = world.draft(actor=world.outsider, attach=False)
    newest_first = [r.reference for r in reversed(made)]

    pages, before = [], None
    while True:
        page = listed_requests(head, size=4, before_id=before)
        pages.append([r.reference for r in page])
        if len(page) < 4:
            break
        before = page[-1].pk

    assert pages == [newest_first[:4], newest_first[4:]]
    assert hidden.reference not in pages[0] + pages[1]
    assert [r.reference for r in listed_requests(head, agency=world.agency_b, size=10)] == newest_first[0::2]
    assert [r.reference for r in listed_requests(head, agency=world.agency_a, size=10)] == newest_first[1::2]


def test_an_officer_finds_its_requests_by_case_number_basis_and_filing_days(client, world):
    first = world.submitted(case_reference="45/QĐ-KT", purpose="Trộm xe máy trước số 12 Hàng Bạc")
    second = world.submitted(basis=world.case_basis, case_reference="46/QĐ-KT")
    draft = world.draft(case_reference="45/QĐ-KT")  # never filed: no filing day
    sign_in_verified(client, world.insider, language="vi")
    today = timezone.localdate()

    assert listed(client.get(LIST, {"case": "45/q"})) == [draft.reference, first.reference]  # case aside
    assert listed(client.get(LIST, {"legal_basis": world.case_basis.code})) == [second.reference]
    assert listed(client.get(LIST, {"filed_from": f"{today:%d/%m/%Y}", "filed_to": f"{today:%d/%m/%Y}"})) == [
        second.reference,
        first.reference,
    ]
    assert listed(client.get(LIST, {"filed_to": f"{today - dt.timedelta(days=1):%d/%m/%Y}"})) == []
    page = client.get(LIST).content.decode()
    assert "45/QĐ-KT" in page and "Trộm xe máy trước số 12 Hàng Bạc" in page


@pytest.mark.parametrize(
    "query",
    [
        {"legal_basis": "NO_SUCH_BASIS"},
        {"filed_from": "31/02/2026"},
        {"filed_from": "02/12/2026", "filed_to": "01/12/2026"},
        {"case": "x" * 121},
    ],
)
def test_bad_search_input_gives_a_translated_error_and_no_list(client, world, query):
    world.submitted()
    sign_in_verified(client, world.insider, language="vi")
    response = client.get(LIST, query)
    assert listed(response) == []
    assert 'class="alert alert-error filters-errors"' in response.content.decode()


@pytest.mark.parametrize("reader", ["requester", "district inspector"])
def test_a_list_reads_the_same_number_of_queries_for_one_row_or_many(
    client, world, district_inspector, reader, django_assert_max_num_queries
):
    """A row reads only its table's columns: a column it shows but did not read would cost a query per row."""
    user = world.insider if reader == "requester" else district_inspector
    world.draft(attach=False)
    sign_in_verified(client, user, language="en")
    with CaptureQueriesContext(connection) as one:
        assert len(listed(client.get(LIST))) == 1
    for number in range(6):
        world.draft(attach=False, case_reference=f"VA-{number}/2026", urgency="urgent" if number % 2 else "normal")

    with django_assert_max_num_queries(len(one)):
        page = client.get(LIST)
    assert len(listed(page)) == 7
    text = page.content.decode()
    assert "VA-5/2026" in text and world.basis.code in text and world.insider.display_name in text
