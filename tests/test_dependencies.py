"""Our `requests/` app package shadows the PyPI HTTP library `requests` in every
process started from the repository root, so no runtime dependency may need it."""

import importlib.metadata as md
import re
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _runtime_requirements():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            yield Requirement(line)


def _closure():
    """Every distribution the runtime requirements pull in, with the chain that pulled it."""
    seen = {}
    stack = [(req, (req.name,)) for req in _runtime_requirements()]
    while stack:
        req, chain = stack.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        extras = set(req.extras)
        if key in seen and extras <= seen[key][1]:
            continue
        seen[key] = (chain, extras | seen.get(key, ((), set()))[1])
        try:
            requires = md.requires(req.name) or []
        except md.PackageNotFoundError:
            continue
        for spec in requires:
            child = Requirement(spec)
            environments = [{"extra": e} for e in extras] or [{"extra": ""}]
            if child.marker and not any(child.marker.evaluate(env) for env in environments):
                continue
            stack.append((child, (*chain, child.name)))
    return seen


def test_runtime_requirements_are_installed():
    for req in _runtime_requirements():
        assert md.version(req.name), req.name


def test_no_runtime_dependency_requires_the_http_library_requests():
    closure = _closure()
    assert "django" in closure and "celery" in closure
    assert "requests" not in closure, "needed through " + " -> ".join(closure["requests"][0])


def test_the_requests_name_resolves_to_our_app_package():
    import requests

    assert Path(requests.__file__).resolve().parent == ROOT / "requests"
