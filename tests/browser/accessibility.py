"""Accessibility checks on the page open in the browser: axe-core, and our own rules.

axe-core comes from npm (tests/browser/package.json, installed by bin/test) and is
injected from node_modules, never from a CDN. Our own rules cover what axe leaves to
judgement: every form control has a label, every error is tied to its field, the
page declares its language, and heading levels never skip.

Each audit is also written to test-artifacts/browser/axe/<name>.json, every impact
included, for the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, AXE_SCRIPT

BLOCKING_IMPACTS = ("serious", "critical")

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""

OUR_RULES = """() => {
  const problems = [];
  const visible = el => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.name ? "[name=" + el.name + "]" : "");

  if (!(document.documentElement.getAttribute("lang") || "").trim()) {
    problems.push("html: no lang attribute");
  }

  let previous = 0;
  for (const heading of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!visible(heading)) continue;
    const level = Number(heading.tagName[1]);
    if ((previous === 0 && level !== 1) || level > previous + 1) {
      problems.push(`heading skips a level: h${previous || "-"} then h${level} "${heading.textContent.trim().slice(0, 50)}"`);
    }
    previous = level;
  }

  const controls = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])"
    + ":not([type=image]), select, textarea");
  for (const control of controls) {
    const labelled = control.labels.length > 0 || control.getAttribute("aria-label")
      || control.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`no label: ${describe(control)}`);
  }

  const referenced = new Set();
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\\s+/)) referenced.add(id);
  }
  for (const invalid of document.querySelectorAll("[aria-invalid=true]")) {
    const refs = (invalid.getAttribute("aria-describedby") || "").split(/\\s+/)
      .map(id => document.getElementById(id)).filter(Boolean);
    if (!refs.some(ref => ref.classList.contains("error-message"))) {
      problems.push(`invalid field without its error message: ${describe(invalid)}`);
    }
  }
  for (const message of document.querySelectorAll(".error-message")) {
    if (!message.id || !referenced.has(message.id)) {
      problems.push(`error message not tied to a field: "${message.textContent.trim()}"`);
    }
  }
  return problems;
}"""


@dataclass
class Audit:
    name: str
    violations: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in BLOCKING_IMPACTS]

    def summary(self) -> str:
        lines = [f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
                 for v in self.blocking]
        return "\n".join(lines + self.problems) or "no problems"


def audit(page, name: str) -> Audit:
    """axe-core and our rules on the page as it is now. The page's context must bypass
    CSP (the `axe_page` fixture): axe goes in as an inline script."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = Audit(name, page.evaluate(RUN_AXE), page.evaluate(OUR_RULES))
    folder = ARTIFACTS / "axe"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "url": page.url, "violations": result.violations,
              "problems": result.problems}
    Path(folder / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    return result


def assert_accessible(page, name: str) -> None:
    result = audit(page, name)
    assert not result.blocking and not result.problems, result.summary()


class PageList(dict[str, Callable]):
    """Named recipes that bring the browser to a page in one of its states."""

    def add(self, name: str):
        def register(recipe: Callable) -> Callable:
            self[name] = recipe
            return recipe

        return register

    def params(self, known: dict[str, str]) -> list:
        """Each name, as a strict xfail where a known violation waits for its fix."""
        return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=known[name]))
                if name in known else name for name in self]
