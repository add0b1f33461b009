"""axe-core (from the npm registry, `npm ci` at the repository root) run inside a Playwright page: WCAG 2.2 AA.

The script is handed to the page through the DevTools protocol (page.evaluate), which the page's
Content-Security-Policy does not govern: the pages under test keep their policy as it is served.
"""

import json
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN = """async (tags) => {
    const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({target: n.target.map(String).join(" "), summary: n.failureSummary || "", html: n.html})),
    }));
}"""


def require_axe() -> None:
    """Skip the calling test, saying how to get axe-core, when `npm ci` has not been run."""
    if not AXE.exists():
        pytest.skip(f"{AXE.relative_to(AXE.parents[2])} is missing: run `npm ci` at the repository root for the WCAG checks")


def axe_violations(page) -> list[dict]:
    """The WCAG 2.2 AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(RUN, TAGS)


def format_violations(violations: list[dict]) -> str:
    """Readable lines: rule, impact, what it asks, and each offending element with axe's account of it."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:8]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary[:300]}")
            lines.append(f"      {node['html'][:200]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> None:
    """Fail with axe-core's findings when the page breaks a WCAG 2.2 AA rule axe can check."""
    violations = axe_violations(page)
    if violations:
        raise AssertionError(f"axe-core: WCAG 2.2 AA violations on {where or page.url}:\n{format_violations(violations)}")


def dump(violations: list[dict]) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)
