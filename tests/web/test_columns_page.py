"""Column mode of the explorer page in headless Chromium (issue 36): a dataset version's fields,
and a field's lineage drawn to the endpoints, the paths to them highlighted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.server import running
from tests.web.browser import load_ndjson, page_on, shot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "incident.ndjson"
READY = '#graph[data-state="ready"]'
INCOME = "s3://lake/customers@data-v1.8.2[income]"

COLUMN_STATE = """() => {
  const cy = window.lineageExplorer.cy;
  const classes = {};
  cy.nodes().forEach(n => { classes[n.data('node').label] = n.classes(); });
  return {
    classes,
    fields: cy.nodes('.kind-field').map(n => n.data('node').ref),
    reached: cy.nodes('.endpoint').map(n => n.incomers('edge.impact-path').length),
    dimmed: cy.nodes('.dimmed').map(n => n.data('node').label),
  };
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web-columns") / "lineage.db"
    with running(f"sqlite:///{db}") as url:
        load_ndjson(url, EXAMPLE)
        yield url


def test_a_versions_fields_open_a_columns_lineage_to_the_endpoints(browser: Any, served: str) -> None:
    with page_on(browser, served, "columns") as page:
        page.goto(served + "/#ref=" + quote("s3://lake/customers@data-v1.8.2"))
        page.wait_for_selector(READY + '[data-mode="graph"]')
        page.wait_for_selector("#version-fields")
        rows = page.locator("#version-fields tr.field")
        assert {r.get_attribute("data-field") for r in rows.all()} == {"customer_id", "income", "tenure_months", "status"}
        shot(page, "columns-1-fields")

        page.click('#version-fields tr[data-field="income"] button')
        page.wait_for_selector(READY + '[data-mode="columns"]')
        state = page.evaluate(COLUMN_STATE)
        assert INCOME in state["fields"] and "churn@2.3.1[income_k]" in state["fields"]
        assert "churn_features@fv-2[income_k]" in state["fields"]
        assert {"root", "impact-path"} <= set(state["classes"][INCOME])
        assert "impact-path" in state["classes"]["churn@2.3.1[income_k]"]
        assert {"impact-serving", "impact-path"} <= set(state["classes"]["churn-eu"])
        assert {"impact-past", "impact-path"} <= set(state["classes"]["churn-prod"])
        assert all(count > 0 for count in state["reached"]), "every endpoint is reached by a highlighted path"
        listed = {r.get_attribute("data-endpoint"): r.get_attribute("data-serving") for r in page.locator("#column-endpoints li").all()}
        assert listed == {"churn-eu": "true", "churn-us": "true", "churn-prod": "false"}
        assert page.locator("#column-features li").first.get_attribute("data-ref") == "churn_features@fv-2[income_k]"
        assert "mode=columns" in page.url  # the view is kept in the URL, so it can be shared
        shot(page, "columns-2-lineage")

        # A column that feeds no model: nothing is highlighted, nothing faded.
        page.goto(served + "/#mode=columns&ref=" + quote("s3://lake/customers@data-v1.8.2[customer_id]"))
        page.reload()  # a new hash alone is no new page
        page.wait_for_selector(READY + '[data-mode="columns"]')
        state = page.evaluate(COLUMN_STATE)
        assert state["dimmed"] == [] and len(state["fields"]) == 2
        assert page.locator("#column-endpoints").inner_text().startswith("No endpoint")


def test_upstream_columns_of_a_model_input(browser: Any, served: str) -> None:
    with page_on(browser, served, "columns-up") as page:
        page.goto(served + "/#mode=columns&direction=up&ref=" + quote("churn@2.3.1[income_k]"))
        page.wait_for_selector(READY + '[data-mode="columns"]')
        state = page.evaluate(COLUMN_STATE)
        assert INCOME in state["fields"]
        assert page.locator("#column-endpoints").count() == 0


def test_a_field_found_by_search_opens_its_column_lineage(browser: Any, served: str) -> None:
    with page_on(browser, served, "columns-search") as page:
        page.goto(served + "/")
        page.fill("#search", "INCOME_")
        page.wait_for_selector("#suggestions li.suggestion")
        offered = {li.get_attribute("data-ref"): li.inner_text() for li in page.locator("#suggestions li.suggestion").all()}
        assert "churn@2.3.1[income_k]" in offered and "churn_features@fv-2[income_k]" in offered
        assert all("field" in text for text in offered.values()), offered  # every field says it is one
        page.click('#suggestions li.suggestion[data-ref="churn_features@fv-2[income_k]"]')
        page.wait_for_selector(READY + '[data-mode="columns"]')
        state = page.evaluate(COLUMN_STATE)
        assert {"root"} <= set(state["classes"]["churn_features@fv-2[income_k]"])
        assert "churn@2.3.1[income_k]" in state["fields"]
        # The version's ref and the start of a name: that version's fields only.
        page.fill("#search", "s3://lake/customers@data-v1.8.2[in")
        page.wait_for_selector('#suggestions li.suggestion[data-ref="' + INCOME + '"]')
        assert [li.get_attribute("data-ref") for li in page.locator("#suggestions li.suggestion").all()] == [INCOME]
