"""Changing the regulation as the console allows it: a published basis only through a draft version, the published
version read as a document with what it changed."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from audit.models import Action, AuditEvent
from governance.models import Agency, AssignmentRule, LegalBasis, RegulationImmutable, RegulationVersion
from governance.services import regulation_publish
from tests.auth import sign_in_verified
from tests.factories import (
    AgencyFactory,
    AssignmentRuleFactory,
    LegalBasisFactory,
    RegulationVersionFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:governance_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def published(admin_user):
    version = RegulationVersionFactory(number="QC-1", title="Quy chế khai thác dữ liệu camera")
    version.legal_bases.add(
        LegalBasisFactory(
            code="bltths-88",
            title_vi="Thu thập chứng cứ",
            max_cameras=10,
            categories=["video"],
            requester_kinds=["criminal_police"],
        )
    )
    for duty in AssignmentRule.Duty.values:
        AssignmentRuleFactory(version=version, duty=duty)
    with transaction.atomic():
        return regulation_publish(actor=admin_user, version=version)


def test_a_published_basis_refuses_every_write_outside_a_draft(published):
    basis = published.legal_bases.get()
    basis.max_cameras = 50
    writes = [
        basis.save,
        lambda: basis.allowed_categories.add(category("plate_events")),
        basis.delete,
        lambda: published.legal_bases.add(LegalBasisFactory()),
    ]
    for write in writes:
        with pytest.raises(RegulationImmutable), transaction.atomic():
            write()
    basis.refresh_from_db()
    assert basis.max_cameras == 10 and list(basis.allowed_categories.values_list("code", flat=True)) == ["video"]


def _revise(client, basis, draft="new"):
    return client.post(url(LegalBasis, "revise", basis.pk), {"draft": draft})


def _edition_form(edition, **changes):
    data = {
        "code": edition.code,
        "title_vi": edition.title_vi,
        "title_en": edition.title_en,
        "citation": edition.citation,
        "notes": "",
        "allowed_categories": list(edition.allowed_categories.values_list("pk", flat=True)),
        "requester_kinds": edition.requester_kinds,
        "case_number_label_vi": "",
        "case_number_label_en": "",
        "max_window_hours": edition.max_window_hours,
        "max_cameras": edition.max_cameras,
        "approvals_required": edition.approvals_required,
        "deadline_hours_normal": edition.deadline_hours_normal,
        "deadline_hours_urgent": edition.deadline_hours_urgent,
        "deadline_hours_emergency": edition.deadline_hours_emergency,
        "deadline_unit": edition.deadline_unit,
        "valid_from": edition.valid_from.isoformat(),
        "valid_to": "",
    }
    data.update(changes)
    return data


def test_an_administrator_changes_a_published_basis_through_a_draft_and_the_published_page_shows_the_difference(
    client, admin_user, published
):
    basis = published.legal_bases.get()
    sign_in_verified(client, admin_user, language="vi")

    response = _revise(client, basis)

    edition = LegalBasis.objects.get(supersedes=basis)
    assert response.status_code == 302 and response["Location"] == url(LegalBasis, "change", edition.pk)
    draft = RegulationVersion.objects.get(status=RegulationVersion.Status.DRAFT)
    # The draft holds what the version in force holds, the edition in place of the basis it replaces.
    assert list(draft.legal_bases.all()) == [edition]
    assert draft.rules.count() == published.rules.count() == 3
    assert edition.code == "bltths-88-2" and list(edition.allowed_categories.values_list("code", flat=True)) == ["video"]
    assert AuditEvent.objects.filter(action=Action.GOVERNANCE_CREATE, target_type="governance.legalbasis").exists()
    # A second press of the button leads to the same edition, not a third basis.
    _revise(client, basis, draft=str(draft.pk))
    assert LegalBasis.objects.filter(supersedes=basis).count() == 1

    # The edition is edited like any basis in a draft; the agency kinds are boxes to tick.
    page = client.get(url(LegalBasis, "change", edition.pk)).content.decode()
    assert 'type="checkbox" name="requester_kinds" value="criminal_police"' in page
    # The published basis's page offers the way to it in a form of its own, outside the (read-only) change form.
    locked = client.get(url(LegalBasis, "change", basis.pk)).content.decode()
    assert locked.index(url(LegalBasis, "revise", basis.pk)) < locked.index('id="legalbasis_form"')
    assert "Cảnh sát hình sự" in locked and "criminal_police" not in locked  # the kinds in words, not codes
    changed = client.post(
        url(LegalBasis, "change", edition.pk),
        _edition_form(edition, max_cameras=20, requester_kinds=["criminal_police", "procuracy"]),
    )
    assert changed.status_code == 302, changed.content.decode()[:3000]
    edition.refresh_from_db()
    assert edition.max_cameras == 20 and edition.requester_kinds == ["criminal_police", "procuracy"]
    basis.refresh_from_db()
    assert basis.max_cameras == 10  # the published basis stays on record as it was

    # The draft's page shows what publishing it would change.
    draft_page = client.get(url(RegulationVersion, "change", draft.pk)).content.decode()
    assert "Số camera tối đa" in draft_page and "<del>10</del>" in draft_page and "<ins>20</ins>" in draft_page

    # Published only once it has its own number and the decision that issues it.
    with pytest.raises(ValidationError, match="quyết định ban hành"), translation.override("vi"), transaction.atomic():
        regulation_publish(actor=admin_user, version=draft)
    RegulationVersion.objects.filter(pk=draft.pk).update(decision_reference="Quyết định số 02/QĐ-UBND ngày 03/12/2026")
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="Dự thảo"), transaction.atomic():
        regulation_publish(actor=admin_user, version=draft)
    RegulationVersion.objects.filter(pk=draft.pk).update(number="QC-2")
    draft.refresh_from_db()
    regulation_publish(actor=admin_user, version=draft)
    page = client.get(url(RegulationVersion, "change", draft.pk)).content.decode()
    assert "Thay đổi so với phiên bản QC-1" in page
    assert "bltths-88 → bltths-88-2" in page
    assert "<del>10</del>" in page and "<ins>20</ins>" in page
    assert "Quản trị Django" not in page and '"legal_bases"' not in page  # a document, not a JSON dump
    assert admin_user.display_name in page


def test_the_published_content_downloads_exactly_as_hashed(client, admin_user, published):
    sign_in_verified(client, admin_user, language="vi")
    response = client.get(url(RegulationVersion, "content", published.pk))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == published.snapshot_sha256


def test_another_agencys_administrator_can_neither_revise_nor_read_the_console(client, published):
    ward = AgencyFactory(kind=Agency.Kind.WARD_POLICE)
    outsider_admin = UserFactory(username="qtphuong", agency=ward, is_staff=True, roles=["administrator"])
    basis = published.legal_bases.get()
    sign_in_verified(client, outsider_admin, language="vi")
    assert _revise(client, basis).status_code in (403, 404)
    assert client.get(url(RegulationVersion, "change", published.pk)).status_code in (403, 404)
    assert client.get(url(RegulationVersion, "content", published.pk)).status_code in (403, 404)
    assert not LegalBasis.objects.filter(supersedes=basis).exists()
    assert not RegulationVersion.objects.filter(status=RegulationVersion.Status.DRAFT).exists()


def test_revising_needs_a_post_and_a_real_draft(client, admin_user, published):
    basis = published.legal_bases.get()
    sign_in_verified(client, admin_user, language="vi")
    assert client.get(url(LegalBasis, "revise", basis.pk)).status_code == 403
    response = _revise(client, basis, draft="999999")
    assert response.status_code == 302 and not LegalBasis.objects.filter(supersedes=basis).exists()
    response = _revise(client, basis, draft=str(published.pk))  # a published version is no draft
    assert not LegalBasis.objects.filter(supersedes=basis).exists()


def test_a_category_a_published_basis_allows_keeps_its_code_and_sensitivity_and_stays(client, admin_user, published):
    from governance.models import DataCategory

    video = category("video")
    video.sensitivity = DataCategory.Sensitivity.SENSITIVE
    with pytest.raises(RegulationImmutable), transaction.atomic():
        video.save()
    with pytest.raises(RegulationImmutable), transaction.atomic():
        DataCategory.objects.filter(pk=video.pk).delete()  # "delete selected" takes this path
    video.refresh_from_db()
    video.name_vi = "Dữ liệu video ghi hình (tên sửa)"
    video.save()  # a name may still be corrected

    sign_in_verified(client, admin_user, language="vi")
    assert client.post(url(DataCategory, "delete", video.pk), {"post": "yes"}).status_code == 403
    page = client.get(url(DataCategory, "change", video.pk)).content.decode()
    assert 'name="sensitivity"' not in page and 'name="name_vi"' in page
    basis = published.legal_bases.get()
    assert list(basis.allowed_categories.values_list("code", flat=True)) == ["video"]


def test_a_draft_choice_that_is_no_plain_number_is_refused_cleanly(client, admin_user, published):
    basis = published.legal_bases.get()
    sign_in_verified(client, admin_user, language="vi")
    for value in ("²", "9" * 5000, "1 OR 1=1", ""):
        response = _revise(client, basis, draft=value)
        assert response.status_code == 302, value
    assert not LegalBasis.objects.filter(supersedes=basis).exists()
