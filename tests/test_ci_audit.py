"""The CI's dependency audit: a finding fails the run, an unreachable vulnerability service only says so."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "pip_audit.py"
spec = importlib.util.spec_from_file_location("ci_pip_audit", SCRIPT)
pip_audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pip_audit)


def test_a_known_vulnerability_fails_the_run_and_names_the_fix():
    code, lines = pip_audit.judge(
        {
            "dependencies": [
                {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"]}]},
                {"name": "celery", "version": "5.7.0", "vulns": []},
            ]
        }
    )
    assert code == 1
    assert "VULNERABLE: django 5.2.0: PYSEC-2025-1 (fixed in: 5.2.1)" in lines


def test_a_clean_audit_passes():
    code, lines = pip_audit.judge({"dependencies": [{"name": "celery", "version": "5.7.0", "vulns": []}]})
    assert code == 0 and lines == ["No known vulnerability in 1 audited dependencies."]


def test_an_unreachable_service_is_said_plainly_and_does_not_fail_the_run():
    skipped = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"}
    code, lines = pip_audit.judge({"dependencies": [skipped, {**skipped, "name": "celery"}]})
    assert code == 0 and lines[0].startswith("AUDIT NOT DONE")


def test_a_partly_answered_audit_still_fails_on_a_finding_and_warns_about_the_rest():
    code, lines = pip_audit.judge(
        {
            "dependencies": [
                {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"},
                {"name": "pillow", "version": "1.0", "vulns": [{"id": "GHSA-x", "fix_versions": []}]},
            ]
        }
    )
    assert code == 1
    assert any("did not answer" in line and "django" in line for line in lines)


def test_every_ignored_vulnerability_needs_a_reason(tmp_path):
    listed = tmp_path / "ignore.txt"
    listed.write_text("# comment\n\nPYSEC-1 only in the admin's CLI, which we do not ship\n")
    assert pip_audit.read_ignores(listed) == {"PYSEC-1": "only in the admin's CLI, which we do not ship"}
    listed.write_text("PYSEC-2\n")
    with pytest.raises(SystemExit):
        pip_audit.read_ignores(listed)


def test_the_repository_ignore_list_is_well_formed():
    pip_audit.read_ignores(pip_audit.IGNORE_FILE)
