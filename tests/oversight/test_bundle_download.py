"""The offline verification bundle from the web: asked for with one button, built by a task, downloaded and verified."""

import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import record_event
from audit.checkpoints import checkpoint_create, ensure_signing_key
from audit.models import Action, AuditEvent, Outcome
from audit.selectors import current_signing_key_fingerprint
from governance.models import Agency
from oversight.models import BundleRequest
from tests.audit.clock import clock_at, yesterday
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, DistrictFactory, ProvinceFactory, UserFactory

pytestmark = pytest.mark.django_db

FILE_NAME = re.compile(r"goi-kiem-chung_(\d{8})-(\d{8})_\d{8}T\d{6}\+0700\.zip")


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)
    settings.REPORT_ROOT = tmp_path / "reports"


@pytest.fixture
def city(db):
    """A city: its inspectorate (an auditor and a colleague), the monitoring centre, a police ward and a traffic division."""
    province = ProvinceFactory()
    district = DistrictFactory(parent=province)
    inspectorate = AgencyFactory(code="thanh-tra-tp", name_vi="Thanh tra thành phố", kind=Agency.Kind.INSPECTORATE, area=province)
    centre = AgencyFactory(code="ioc", name_vi="Trung tâm giám sát", kind=Agency.Kind.MONITORING_CENTRE, area=district)
    police = AgencyFactory(code="ca-hang-bac", name_vi="Công an phường Hàng Bạc", area=district)
    traffic = AgencyFactory(code="csgt", name_vi="Phòng Cảnh sát giao thông", kind=Agency.Kind.TRAFFIC_POLICE, area=province)
    district_inspectorate = AgencyFactory(
        code="thanh-tra-quan", name_vi="Thanh tra quận", kind=Agency.Kind.INSPECTORATE, area=district
    )
    return SimpleNamespace(
        auditor=UserFactory(username="thanhtra", agency=inspectorate, roles=["auditor"]),
        colleague=UserFactory(username="thanhtra2", agency=inspectorate, roles=["auditor"]),
        district_auditor=UserFactory(username="thanhtra-quan", agency=district_inspectorate, roles=["auditor"]),
        requester=UserFactory(username="alice", agency=police, roles=["requester"]),
        other_admin=UserFactory(username="csgt-quantri", agency=traffic, is_staff=True, roles=["administrator"]),
        system_admin=UserFactory(username="quantri", agency=centre, is_staff=True, roles=["administrator"]),
    )


def yesterdays_ledger(city):
    """Events recorded yesterday, and today a signed checkpoint that fixes them: a period whose bundle is fully anchored."""
    with clock_at(yesterday()):
        for n in range(3):
            with transaction.atomic():
                record_event(actor=city.requester, action=Action.LEDGER_VIEW, data={"ghi chú": f"Camera Hàng Bạc {n}"})
    checkpoint_create()
    day = yesterday().date()
    return {"date_from": day.strftime("%d/%m/%Y"), "date_to": day.strftime("%d/%m/%Y")}, day


def ask(client, period, capture):
    with capture(execute=True):
        return client.post(reverse("oversight:bundles"), period)


def test_auditor_downloads_a_bundle_whose_own_verifier_says_the_chain_is_valid(
    city, client, tmp_path, django_capture_on_commit_callbacks
):
    period, day = yesterdays_ledger(city)
    sign_in_verified(client, city.auditor, language="en")
    verify_page = client.get(reverse("oversight:verify")).content.decode()
    assert reverse("oversight:bundles") in verify_page and "Download an offline verification bundle" in verify_page

    response = ask(client, period, django_capture_on_commit_callbacks)
    bundle = BundleRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("oversight:bundle", args=[bundle.pk])
    assert bundle.status == BundleRequest.Status.READY and bundle.progress == 100
    assert bundle.requested_by == city.auditor and bundle.unanchored_from is None
    requested = AuditEvent.objects.get(action=Action.BUNDLE_REQUEST)
    assert requested.actor == city.auditor and requested.target_id == str(bundle.pk)
    built = AuditEvent.objects.get(action=Action.BUNDLE_GENERATE)
    assert built.outcome == Outcome.SUCCESS and bundle.zip_sha256 in built.payload

    page = client.get(reverse("oversight:bundle", args=[bundle.pk])).content.decode()
    assert "Download the bundle (ZIP)" in page and bundle.zip_sha256 in page
    assert current_signing_key_fingerprint() in page

    download = client.get(reverse("oversight:bundle-file", args=[bundle.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    name = FILE_NAME.search(download["Content-Disposition"])
    assert name and name.groups() == (f"{day:%Y%m%d}", f"{day:%Y%m%d}")
    content = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / name.group(0).removesuffix(".zip")
    assert {p.name for p in folder.iterdir()} >= {"verifier.py", "chain.py", "events.jsonl", "checkpoints.jsonl", "README.txt"}

    fingerprint = current_signing_key_fingerprint()
    run = subprocess.run(
        [sys.executable, str(folder / "verifier.py"), str(folder), "--trusted-key", fingerprint],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "OK"

    readme = (folder / "README.txt").read_text(encoding="utf-8")
    vietnamese, english = readme.index("CÁCH KIỂM TRA"), readme.index("HOW TO CHECK IT")
    assert vietnamese < english and readme.count(fingerprint) >= 2
    assert "python verifier.py <thư mục> --trusted-key <dấu vân tay>" in readme
    assert "python verifier.py <folder> --trusted-key <fingerprint>" in readme
    assert "cannot tell whether the bundle holds every event" in readme

    downloaded = AuditEvent.objects.get(action=Action.BUNDLE_DOWNLOAD)
    assert downloaded.actor == city.auditor and downloaded.target_id == str(bundle.pk)
    assert bundle.zip_sha256 in downloaded.payload


def test_a_period_that_includes_today_says_its_last_events_are_not_anchored(
    city, client, tmp_path, django_capture_on_commit_callbacks
):
    checkpoint_create()  # the centre signs; the auditor's own request comes after it
    sign_in_verified(client, city.auditor, language="en")
    today = timezone.localdate().strftime("%d/%m/%Y")
    ask(client, {"date_from": today, "date_to": today}, django_capture_on_commit_callbacks)
    bundle = BundleRequest.objects.get()
    assert bundle.status == BundleRequest.Status.READY and bundle.unanchored_from is not None
    page = client.get(reverse("oversight:bundle", args=[bundle.pk])).content.decode()
    assert "NOT FULLY ANCHORED" in page

    content = b"".join(client.get(reverse("oversight:bundle-file", args=[bundle.pk])).streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / bundle.file_name.removesuffix(".zip")
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert readme.index("CHÚ Ý: các sự kiện") < readme.index("WARNING: events") < readme.index("LEDGER BUNDLE — HOW TO VERIFY")
    run = subprocess.run(
        [sys.executable, "verifier.py", ".", "--trusted-key", current_signing_key_fingerprint()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )
    assert run.returncode == 3 and "NOT FULLY ANCHORED" in run.stdout


def test_requesters_other_agencies_and_other_auditors_can_neither_ask_for_nor_download_a_bundle(
    city, client, django_capture_on_commit_callbacks
):
    period, _day = yesterdays_ledger(city)
    sign_in_verified(client, city.auditor)
    ask(client, period, django_capture_on_commit_callbacks)
    bundle = BundleRequest.objects.get()
    detail, download = reverse("oversight:bundle", args=[bundle.pk]), reverse("oversight:bundle-file", args=[bundle.pk])

    # A requester reads no ledger: the pages do not exist for them.
    sign_in_verified(client, city.requester)
    assert client.get(reverse("oversight:bundles")).status_code == 404
    assert client.post(reverse("oversight:bundles"), period).status_code == 404
    assert client.get(detail).status_code == 404 and client.get(download).status_code == 404

    # Another agency's administrator reads its own agency's ledger, but takes no bundle of everyone's and sees no one else's.
    sign_in_verified(client, city.other_admin, language="en")
    response = client.post(reverse("oversight:bundles"), period)
    assert response.status_code == 200
    assert "taken by oversight bodies and the monitoring centre" in response.content.decode()
    assert client.get(detail).status_code == 404 and client.get(download).status_code == 404

    # A district inspectorate oversees only part of the city; a bundle holds every agency's events.
    sign_in_verified(client, city.district_auditor, language="en")
    response = client.post(reverse("oversight:bundles"), period)
    assert "some agencies are outside your jurisdiction" in response.content.decode()
    assert client.get(download).status_code == 404

    # A colleague in the same inspectorate does not open someone else's bundle.
    sign_in_verified(client, city.colleague)
    assert client.get(detail).status_code == 404 and client.get(download).status_code == 404
    assert client.get(reverse("oversight:bundle-file", args=[bundle.pk + 1])).status_code == 404

    assert BundleRequest.objects.count() == 1
    refused = AuditEvent.objects.filter(action=Action.BUNDLE_REQUEST, outcome=Outcome.DENIED)
    assert {e.actor for e in refused} == {city.other_admin, city.district_auditor}
    assert not AuditEvent.objects.filter(action=Action.BUNDLE_DOWNLOAD).exists()

    # The monitoring centre's system administrator may, as with reports; that download is in the ledger too.
    sign_in_verified(client, city.system_admin)
    assert client.get(download).status_code == 200
    assert AuditEvent.objects.get(action=Action.BUNDLE_DOWNLOAD).actor == city.system_admin


def _day(offset):
    return (timezone.localdate() + dt.timedelta(days=offset)).strftime("%d/%m/%Y")


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (_day(-1), _day(-3), "The end date cannot be before the start date."),
        (_day(2), _day(3), "The period starts in the future."),
        (_day(-1), _day(1), "The period ends in the future; end it today at the latest."),
        (_day(-400), _day(-1), "A bundle covers at most 366 days; split the period."),
        ("31/02/2026", _day(0), "Write the date as dd/mm/yyyy, for example 02/12/2026."),
    ],
)
def test_a_bad_period_is_explained_and_creates_nothing(city, client, date_from, date_to, message):
    sign_in_verified(client, city.auditor, language="en")
    response = client.post(reverse("oversight:bundles"), {"date_from": date_from, "date_to": date_to})
    assert response.status_code == 200 and message in response.content.decode()
    assert not BundleRequest.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.BUNDLE_REQUEST).exists()


def test_a_nul_byte_in_the_period_is_refused_by_the_projects_input_check_and_creates_nothing(city, client):
    sign_in_verified(client, city.auditor, language="en")
    response = client.post(reverse("oversight:bundles"), {"date_from": "01/11/2026\x00", "date_to": _day(-1)})
    assert response.status_code == 400 and "control character" in response.content.decode()
    assert not BundleRequest.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.BUNDLE_REQUEST).exists()


def test_the_bundle_form_itself_refuses_a_nul_byte():
    from oversight.forms import BundleForm

    form = BundleForm({"date_from": "01/11/2026\x00", "date_to": _day(-1)})
    assert not form.is_valid() and "date_from" in form.errors


def test_a_bundle_that_cannot_be_written_is_marked_failed_with_its_reason(
    city, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    period, _day = yesterdays_ledger(city)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    settings.REPORT_ROOT = blocked
    sign_in_verified(client, city.auditor, language="en")
    response = ask(client, period, django_capture_on_commit_callbacks)
    bundle = BundleRequest.objects.get()
    assert response.status_code == 302
    assert bundle.status == BundleRequest.Status.FAILED and bundle.failure == BundleRequest.Failure.STORAGE
    failure = AuditEvent.objects.get(action=Action.BUNDLE_GENERATE)
    assert failure.outcome == Outcome.FAILURE and failure.target_id == str(bundle.pk) and "not-a-folder" in failure.payload
    page = client.get(reverse("oversight:bundle", args=[bundle.pk])).content.decode()
    assert "The bundle could not be written to the report storage." in page
    assert client.get(reverse("oversight:bundle-file", args=[bundle.pk])).status_code == 404
    assert "not-a-folder" not in page  # the reason as a translated sentence; the technical detail stays in the ledger


def test_a_bundle_waiting_for_a_worker_shows_its_progress_and_is_dispatched_again(
    city, client, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from oversight.tasks import bundle_build_task, resume_waiting

    period, _day = yesterdays_ledger(city)
    deliver = bundle_build_task.delay

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(bundle_build_task, "delay", broker_down)
    sign_in_verified(client, city.auditor, language="en")
    ask(client, period, django_capture_on_commit_callbacks)
    bundle = BundleRequest.objects.get()
    assert bundle.status == BundleRequest.Status.PENDING
    page = client.get(reverse("oversight:bundle", args=[bundle.pk])).content.decode()
    assert 'value="0"' in page and "Refresh" in page and 'http-equiv="refresh"' not in page

    monkeypatch.setattr(bundle_build_task, "delay", deliver)
    assert resume_waiting(now=timezone.now() + dt.timedelta(minutes=11)) == 1
    bundle.refresh_from_db()
    assert bundle.status == BundleRequest.Status.READY
