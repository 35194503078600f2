"""The checks themselves: planted faults are found, so a clean result means something."""

from __future__ import annotations

from tests.browser.accessibility import audit
from tests.browser.support import settle
from tests.factories import PetitionFactory

PLANT_FAULTS = """() => {
  document.documentElement.removeAttribute("lang");
  const main = document.querySelector("main");
  main.insertAdjacentHTML("afterbegin",
    '<img src="/static/site.css" width="10" height="10">'
    + '<input id="planted-field">'
    + '<p class="error-message">Something is wrong.</p>'
    + '<p style="color: #bbb; background: #fff">Too faint to read</p>'
    + '<input id="planted-invalid" aria-label="Planted" aria-invalid="true">');
  document.querySelector("h1").insertAdjacentHTML("afterend", "<h4>Too deep</h4>");
}"""


def test_the_audit_finds_planted_faults(axe_page):
    PetitionFactory(slug="clean-air")
    settle()
    axe_page.goto("/petitions/clean-air")
    assert audit(axe_page, "self-check-clean").blocking == []

    axe_page.evaluate(PLANT_FAULTS)
    result = audit(axe_page, "self-check-planted")

    assert {"image-alt", "html-has-lang", "label", "color-contrast"} <= {v["id"] for v in result.blocking}
    assert result.problems == [
        "html: no lang attribute",
        'heading skips a level: h1 then h4 "Too deep"',
        "no label: input#planted-field",
        "invalid field without its error message: input#planted-invalid",
        'error message not tied to a field: "Something is wrong."',
    ]
