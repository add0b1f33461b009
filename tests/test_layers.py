"""The apps stand in floors, each importing only the floors below it (README, "How the code is laid out").

Read from the source, function-level imports included, so that a lazy import
cannot hide a circle."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom first. Each may import only those before it.
FLOORS = ["audit", "governance", "documents", "accounts", "requests", "oversight", "api", "operations"]


def imported_apps(app):
    """{app it imports: first file that does}, every module of `app` but its migrations."""
    found = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in FLOORS and top != app:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("app", FLOORS)
def test_an_app_imports_only_the_floors_below_it(app):
    below = set(FLOORS[: FLOORS.index(app)])
    above = {other: path for other, path in imported_apps(app).items() if other not in below}
    assert above == {}, f"{app} imports from a floor above it or beside it: {above}"


def test_the_ledger_imports_no_other_app():
    assert imported_apps("audit") == {}


def test_the_offline_verifier_needs_only_its_chain_file():
    """verifier.py and chain.py travel in every bundle: neither may import Django or the application."""
    for name in ("verifier.py", "chain.py"):
        tree = ast.parse((ROOT / "audit" / name).read_text(encoding="utf-8"))
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
        assert not modules & {"django", *FLOORS} - {"audit"}, name
        assert modules - {"audit", "chain", "cryptography"} <= set(__import__("sys").stdlib_module_names), name
