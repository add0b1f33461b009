"""The demo writes its footage with no ffmpeg or ffprobe program anywhere, and the custodian that `make run` names
releases its approved request."""

import json
import subprocess
import zipfile

import pytest
from django.core.management import call_command

from governance.models import Membership, Role, User
from requests import export, workflow
from requests.demo import journey
from requests.models import FootageRequest, Release, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_ffmpeg_program(tmp_path, monkeypatch, settings):
    """PATH holds an empty folder, FFMPEG_BINARY names a program that is not there, and every program started is noted."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    settings.FFMPEG_BINARY = "ffmpeg"
    started = []
    popen_init = subprocess.Popen.__init__

    def noting(self, args, *more, **options):
        started.append(args)
        popen_init(self, args, *more, **options)

    monkeypatch.setattr(subprocess.Popen, "__init__", noting)
    return started


def test_demo_footage_and_its_export_need_no_ffmpeg_program(
    no_ffmpeg_program, settings, tmp_path, capsys, django_capture_on_commit_callbacks
):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "demo.pem"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FOOTAGE_ROOT = tmp_path / "footage"
    settings.FOOTAGE_LAYOUT = "frigate"
    settings.FOOTAGE_CAMERAS = {}
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.LEGAL_HOLD_ROOT = tmp_path / "holds"
    call_command("seed_demo")
    capsys.readouterr()
    call_command("demo_accounts")
    listed = capsys.readouterr().out
    accounts = dict(journey())
    assert list(accounts) == [Role.REQUESTER, Role.REVIEWER, Role.APPROVER, Role.CUSTODIAN, Role.AUDITOR]
    for role, username in accounts.items():
        assert Membership.objects.filter(user__username=username, role=role).exists()
        assert username in listed
    assert "demo-Camera-2026" in listed
    approved = FootageRequest.objects.get(status=Status.APPROVED)
    camera = approved.items.get().camera.code

    call_command("generate_demo_footage", "--hours", "1", "--cameras", camera)
    assert f"{camera}: 60 segments written." in capsys.readouterr().out
    call_command("generate_demo_footage", "--hours", "1", "--cameras", camera)
    again = capsys.readouterr().out
    # Run again, it writes nothing, or only the minute that began since the first run ended.
    assert f"{camera}: recordings already in place." in again or f"{camera}: 1 segments written." in again

    custodian = User.objects.get(username=accounts[Role.CUSTODIAN])
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_export_start(actor=custodian, footage_request=approved)
    approved.refresh_from_db()
    assert approved.status == Status.RELEASED, approved.export_error
    release = Release.objects.get(footage_request=approved)
    with zipfile.ZipFile(release.package_path) as archive:
        manifest = json.loads(archive.read(f"{approved.reference}/manifest.json"))
    assert [entry["cut_method"] for entry in manifest["files"]] == [export.CUT_BY_SAMPLE_COPY]
    assert not [args for args in no_ffmpeg_program if "ffmpeg" in str(args) or "ffprobe" in str(args)]
