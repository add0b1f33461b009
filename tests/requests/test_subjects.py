"""A person's request for footage of themselves: filed at the centre's counter, decided by the centre's others,
released only as a redacted copy, and the person's document number kept nowhere in clear."""

import zipfile

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import Action, AuditEvent
from requests import redactions, subjects, workflow
from requests.models import FootageRequest, Release, ReleaseFile, Status, SubjectAccess
from requests.permissions import WorkflowRefused
from tests.auth import sign_in_verified
from tests.factories import UserFactory, category
from tests.requests.footage import export as run_export

CITIZEN_ID = "001203004567"


@pytest.fixture
def subject_basis(world):
    return world.version.legal_bases.get(data_subject_access=True)


def _file(world, footage, **overrides):
    values = {
        "actor": world.custodian,
        "person_name": "Nguyễn Văn A",
        "document_type": SubjectAccess.Document.CITIZEN_ID,
        "document_number": "0012 0300 4567",
        "place": "Trước số 10 Hàng Bạc",
        "appearance": "Áo khoác xanh, đi xe máy",
        "items": [{"camera": world.camera, "start": footage.at(2), "end": footage.at(6), "data_category": category("video")}],
    }
    return subjects.subject_request_file(**{**values, **overrides})


def test_a_request_filed_at_the_counter_is_released_only_as_a_redacted_copy(
    world, footage, subject_basis, django_capture_on_commit_callbacks
):
    footage_request = _file(world, footage)
    assert footage_request.status == Status.SUBMITTED and footage_request.for_data_subject
    assert footage_request.legal_basis == subject_basis
    access = footage_request.subject_access
    assert access.checked_by == world.custodian and access.document_digest != CITIZEN_ID
    assert footage_request.redaction.faces and footage_request.redaction.required_by is None

    # The centre's own reviewer and approver decide it; the custodian who filed it decides nothing.
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đúng người")
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED

    # Not exported before the custodian has marked the person and reviewed the regions.
    with pytest.raises(WorkflowRefused):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    item = footage_request.items.get()
    redactions.redaction_region_add(
        actor=world.custodian, footage_request=footage_request, item=item, label="subject", at=0.0, box=(100, 20, 80, 100)
    )
    redactions.redaction_review(actor=world.custodian, footage_request=footage_request)
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED

    release = Release.objects.get(footage_request=footage_request)
    (copy,) = release.files.filter(kind=ReleaseFile.Kind.VIDEO)
    (original,) = release.files.filter(kind=ReleaseFile.Kind.ORIGINAL)
    assert copy.redacted_from == original.name
    with zipfile.ZipFile(release.package_path) as archive:
        videos = [name for name in archive.namelist() if name.endswith(".mp4")]
    assert videos == [f"{footage_request.reference}/{copy.name}"]

    # The hand-over record is made out to the person, names the document checked, and not its number.
    import json
    import unicodedata

    from tests.pdf import pdf_text

    with zipfile.ZipFile(release.package_path) as archive:
        manifest = json.loads(archive.read(f"{footage_request.reference}/manifest.json"))
        record = archive.read(f"{footage_request.reference}/bien-ban-giao-nhan.pdf")
    assert manifest["data_subject"]["person_name"] == "Nguyễn Văn A" and CITIZEN_ID not in json.dumps(manifest)
    text = " ".join(unicodedata.normalize("NFC", " ".join(pdf_text(record)[0])).split())
    assert "Nguyễn Văn A" in text and "chủ thể dữ liệu" in text and "Bộ luật Tố tụng hình sự" not in text
    assert CITIZEN_ID not in text.replace(" ", "")

    # The document's number is nowhere in clear: no column of any table, no ledger event.
    digits = CITIZEN_ID
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - the tables of our own models
            for row in cursor.fetchall():
                assert digits not in str(row), table
    for event in AuditEvent.objects.filter(reference=footage_request.reference):
        assert digits not in event.payload
    assert AuditEvent.objects.filter(action=Action.SUBJECT_REQUEST_FILE, reference=footage_request.reference).exists()


def test_the_same_document_gives_the_same_digest_and_another_does_not(world, footage, subject_basis):
    first = _file(world, footage)
    second = _file(world, footage, document_number="001203004567")
    third = _file(world, footage, document_number="001203004568")
    digests = [r.subject_access.document_digest for r in (first, second, third)]
    assert digests[0] == digests[1] != digests[2]


@pytest.mark.parametrize(
    ("document_type", "number"),
    [("citizen_id", "12345"), ("citizen_id", "00120300456\x00"), ("passport", "123456789"), ("other", "")],
)
def test_a_document_number_of_the_wrong_form_is_refused_and_nothing_is_filed(
    world, footage, subject_basis, document_type, number
):
    with pytest.raises(ValidationError):
        _file(world, footage, document_type=document_type, document_number=number)
    assert not FootageRequest.objects.exists()


def test_only_a_centres_custodians_file_at_the_counter(world, footage, subject_basis, client):
    for outsider in (world.insider, world.reviewer, world.outsider):
        with pytest.raises(WorkflowRefused):
            _file(world, footage, actor=outsider)
        client.logout()
        sign_in_verified(client, outsider)
        assert client.get("/requests/new/subject/").status_code == 404
    assert not FootageRequest.objects.exists()

    client.logout()
    sign_in_verified(client, world.custodian, language="vi")
    assert 'name="document_number"' in client.get("/requests/new/subject/").content.decode()
    answer = client.post(
        "/requests/new/subject/",
        {
            "person_name": "Trần Thị B",
            "document_type": "citizen_id",
            "document_number": "001203004567",
            "place": "Ngã tư Hàng Bạc",
            "delivery": "premises",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-camera": world.camera.code,
            "items-0-start": footage.at(2).astimezone().strftime("%d/%m/%Y %H:%M:%S"),
            "items-0-end": footage.at(6).astimezone().strftime("%d/%m/%Y %H:%M:%S"),
            "items-0-data_category": "video",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    filed = FootageRequest.objects.get()
    assert filed.for_data_subject and filed.subject_access.person_name == "Trần Thị B"


def test_a_basis_can_require_redacted_copies_for_some_agency_kinds(world, footage):
    # As a regulation giving this rule would publish it (a published basis is fixed through the model).
    type(world.basis).objects.filter(pk=world.basis.pk).update(redaction_agency_kinds=[world.agency_a.kind])
    from tests.requests.footage import approved

    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    assert footage_request.redaction.required_by is None and world.basis.code in footage_request.redaction.reason
    event = AuditEvent.objects.get(action=Action.REDACTION_REQUIRE, reference=footage_request.reference)
    assert event.actor is None


def test_a_custodian_of_another_agency_cannot_file_for_this_centre(world, footage, subject_basis):
    stranger = UserFactory(username="vanhanh-khac", agency=world.agency_b, roles=["custodian"])
    with pytest.raises(WorkflowRefused):
        _file(world, footage, actor=stranger)


def test_a_persons_request_stays_as_filed_and_its_centre_hears_of_it(world, footage, subject_basis, client):
    from requests import permissions
    from requests.models import Notification

    footage_request = _file(world, footage)
    # The centre's approvers are told a decision waits once it is reviewed; nobody may change what was filed.
    assert not permissions.can_edit(world.custodian, footage_request)
    workflow.request_ask_info(actor=world.reviewer, footage_request=footage_request, question="Ảnh chân dung?")
    footage_request.refresh_from_db()
    assert Notification.objects.filter(user=world.custodian, footage_request=footage_request).exists()
    assert permissions.can_comment(world.custodian, footage_request)
    with pytest.raises(WorkflowRefused):
        workflow.request_update(
            actor=world.custodian,
            footage_request=footage_request,
            items=[{"camera": world.camera, "start": footage.at(0), "end": footage.at(8), "data_category": category("video")}],
            legal_basis=world.basis,
        )
    # The number typed is not written back into a form shown again with its errors.
    client.logout()
    sign_in_verified(client, world.custodian)
    page = client.post(
        "/requests/new/subject/", {"person_name": "X", "document_type": "citizen_id", "document_number": CITIZEN_ID}
    )
    assert page.status_code == 200 and CITIZEN_ID not in page.content.decode()


def test_the_person_opens_their_own_link_with_the_document_checked_at_the_counter(
    world, footage, subject_basis, client, django_capture_on_commit_callbacks, settings
):
    settings.RELEASE_MAX_DOWNLOADS = 2
    footage_request = _file(world, footage)
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đúng người")
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    redactions.redaction_review(actor=world.custodian, footage_request=footage_request)
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    # The custodian gives the link on the release page; it is shown once.
    sign_in_verified(client, world.custodian)
    page = client.post(f"/requests/{footage_request.reference}/release/subject-link/").content.decode()
    address = page.split("data-subject-link>", 1)[1].split('<code class="break">', 1)[1].split("</code>", 1)[0]
    path = address.split("://", 1)[1].split("/", 1)[1]
    client.logout()

    # Without an account: a wrong number is refused and counted, the right one downloads the package of the copy.
    assert client.get(f"/{path}").status_code == 200
    wrong = client.post(f"/{path}", {"document_type": "citizen_id", "document_number": "999999999999"})
    assert wrong.status_code == 403 and CITIZEN_ID not in wrong.content.decode()
    right = client.post(f"/{path}", {"document_type": "citizen_id", "document_number": CITIZEN_ID})
    assert right.status_code == 200 and right["Content-Type"] == "application/zip"
    package = b"".join(right.streaming_content)
    import io

    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert [n for n in archive.namelist() if n.endswith(".mp4")] == [
            f"{footage_request.reference}/{footage_request.release.files.get(kind='video').name}"
        ]
    # Its second download is its last; a tampered token never opens.
    assert client.post(f"/{path}", {"document_type": "citizen_id", "document_number": CITIZEN_ID}).status_code == 200
    assert client.post(f"/{path}", {"document_type": "citizen_id", "document_number": CITIZEN_ID}).status_code == 410
    assert client.post(f"/{path[:-3]}xyz/", {"document_type": "citizen_id", "document_number": CITIZEN_ID}).status_code == 410
    downloads = AuditEvent.objects.filter(action=Action.RELEASE_DOWNLOAD, reference=footage_request.reference)
    refused = AuditEvent.objects.filter(action=Action.RELEASE_DOWNLOAD_REFUSED)
    assert downloads.count() == 2 and all(event.actor_id is None for event in downloads)
    assert sorted(__import__("json").loads(e.payload)["reason"] for e in refused) == [
        "download limit reached",
        "identity not matched",
        "tampered",
    ]
    for event in AuditEvent.objects.all():
        assert CITIZEN_ID not in event.payload

    # Revoking the release's links revokes the person's too.
    from requests import releases

    sign_in_verified(client, world.custodian)
    page = client.post(f"/requests/{footage_request.reference}/release/subject-link/").content.decode()
    again = page.split("data-subject-link>", 1)[1].split('<code class="break">', 1)[1].split("</code>", 1)[0]
    client.logout()
    releases.release_revoke(actor=world.custodian, footage_request=footage_request, reason="Cấp nhầm")
    again_path = again.split("://", 1)[1].split("/", 1)[1]
    assert client.post(f"/{again_path}", {"document_type": "citizen_id", "document_number": CITIZEN_ID}).status_code == 410


def test_an_ordinary_request_gets_no_personal_link(world, footage, django_capture_on_commit_callbacks):
    from tests.requests.footage import approved

    footage_request = run_export(world, approved(world, [(footage.at(2), footage.at(6))]), django_capture_on_commit_callbacks)
    with pytest.raises(WorkflowRefused):
        subjects.subject_link_issue(actor=world.insider, footage_request=footage_request)
