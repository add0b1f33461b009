"""Known-vulnerability audit of the pinned dependencies: pip-audit, pinned, in an environment of its own.

pip-audit needs the HTTP library `requests`, which our `requests/` package
shadows from the repository root: it runs through `uv tool run` from a
temporary directory. It reads requirements.txt and requirements-dev.txt,
resolves them with their own dependencies and asks PyPI's JSON API about
each one.

Exit 1: a dependency has a known vulnerability not listed, with its reason,
in .ci/pip-audit-ignore.txt (the fix is to raise the pin). Exit 0 with a
plain warning when the vulnerability service cannot be reached or answers
for none of the dependencies: CI's network may reach only the package
registries, and that alone must not fail a run.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PIP_AUDIT = "pip-audit==2.10.1"
ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / ".ci" / "pip-audit-ignore.txt"
UNREACHABLE = "not found on PyPI"
TIMEOUT_SECONDS = 1200


def read_ignores(path):
    """{vulnerability id: reason} from the ignore file; an entry without a reason is an error."""
    ignores = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {vuln_id} is ignored without a reason")
        ignores[vuln_id] = reason.strip()
    return ignores


def judge(report):
    """(exit code, lines to print) for pip-audit's JSON report."""
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    unreachable = [d for d in dependencies if UNREACHABLE in d.get("skip_reason", "")]
    skipped = [d for d in dependencies if "skip_reason" in d and d not in unreachable]
    lines = []
    if dependencies and not audited:
        lines.append(
            f"AUDIT NOT DONE: the vulnerability service (PyPI's JSON API) answered for none of the {len(dependencies)} "
            "dependencies; it cannot be reached from here. Not failing the run for that alone: run the audit where "
            "PyPI's JSON API answers."
        )
        return 0, lines
    if unreachable:
        names = ", ".join(d["name"] for d in unreachable)
        lines.append(f"warning: the vulnerability service did not answer for {len(unreachable)} dependencies: {names}")
    for dependency in skipped:
        lines.append(f"warning: {dependency['name']} not audited: {dependency['skip_reason']}")
    found = [(d, v) for d in audited for v in d.get("vulns", [])]
    for dependency, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
        lines.append(f"VULNERABLE: {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in: {fixes})")
    if found:
        lines.append(f"Raise these pins, or list the ids with a reason in {IGNORE_FILE.relative_to(ROOT)}.")
        return 1, lines
    lines.append(f"No known vulnerability in {len(audited)} audited dependencies.")
    return 0, lines


def main():
    ignores = read_ignores(IGNORE_FILE)
    for vuln_id, reason in ignores.items():
        print(f"ignored: {vuln_id}: {reason}")
    command = [
        str(ROOT / ".venv" / "bin" / "uv"),
        "tool",
        "run",
        "--from",
        PIP_AUDIT,
        "pip-audit",
        "--requirement",
        str(ROOT / "requirements.txt"),
        "--requirement",
        str(ROOT / "requirements-dev.txt"),
        "--format",
        "json",
        "--progress-spinner",
        "off",
        *[argument for vuln_id in ignores for argument in ("--ignore-vuln", vuln_id)],
    ]
    with tempfile.TemporaryDirectory() as elsewhere:
        try:
            # The command is this script's own: uv from the project's environment, a pinned pip-audit, our files.
            done = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)  # noqa: S603
        except subprocess.TimeoutExpired:
            print(f"AUDIT NOT DONE: pip-audit did not finish in {TIMEOUT_SECONDS} s. Not failing the run for that alone.")
            return 0
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(done.stderr[-3000:])
        print(
            f"AUDIT NOT DONE: pip-audit could not run (exit {done.returncode}; above, the end of what it said): "
            "most often the vulnerability service or the registry could not be reached. Not failing the run for that alone."
        )
        return 0
    code, lines = judge(report)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
