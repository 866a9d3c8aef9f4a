"""The explorer page in a real headless Chromium (issue 8): the incident walk-through of
README.md as a responder clicks it, the token prompt, and the layout at a few hundred nodes.
Screenshots go to build/test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lineage.auth import new_token
from lineage.store.sqlite import SqliteStore
from tests import scenario as s
from tests.server import running
from tests.web.browser import ARTIFACTS, load_ndjson, page_on, shot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "incident.ndjson"
READY = '#graph[data-state="ready"]'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web") / "lineage.db"
    with running(f"sqlite:///{db}") as url:
        load_ndjson(url, EXAMPLE)
        yield url


def pick_suggestion(page: Any, text: str, ref: str) -> None:
    page.fill("#search", text)
    page.click(f'#suggestions li.suggestion[data-ref="{ref}"]')


def click_node(page: Any, node_id: str) -> None:
    """Click a node where it is drawn on the canvas, as a person would."""
    x, y = page.evaluate("id => { const p = window.lineageExplorer.cy.getElementById(id).renderedPosition(); return [p.x, p.y]; }", node_id)
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


IMPACT_STATE = """() => {
  const cy = window.lineageExplorer.cy;
  const root = cy.getElementById(document.getElementById('graph').dataset.root);
  const endpoints = {};
  cy.nodes('.endpoint').forEach(n => { endpoints[n.data('endpoint')] = n.classes(); });
  return {
    endpoints,
    reached: cy.nodes('.endpoint').map(n => n.incomers('edge.impact-path').length),
    deployments: cy.nodes('.kind-deployment').map(n => [n.data('node').endpoint, n.classes()]),
    root: root.classes(),
    model: cy.nodes('.kind-model').map(n => [n.data('node').label, n.classes()]),
    dimmed: cy.nodes('.dimmed').map(n => n.data('node').label),
    labels: cy.nodes().map(n => n.data('node').label),
  };
}"""


def test_incident_walkthrough(browser: Any, served: str) -> None:
    with page_on(browser, served, "incident") as page:
        page.goto(served + "/")
        pick_suggestion(page, "data-v1.8.2", "s3://lake/customers@data-v1.8.2")
        page.wait_for_selector(READY + '[data-mode="graph"]')
        page.wait_for_selector('#detail[data-state="ready"]')
        assert page.locator("#detail h2").inner_text() == "s3://lake/customers@data-v1.8.2"
        shot(page, "1-search")

        page.click("#impact-mode")
        page.wait_for_selector(READY + '[data-mode="impact"]')
        rows = page.locator("#impact-endpoints li")
        assert rows.count() == 3
        listed = {row.get_attribute("data-endpoint"): (row.get_attribute("data-serving"), row.locator(".badge").inner_text()) for row in rows.all()}
        assert listed == {
            "churn-eu": ("true", "STILL SERVING"),  # the badge is upper-cased by CSS
            "churn-us": ("true", "STILL SERVING"),
            "churn-prod": ("false", "USED TO SERVE"),
        }
        state = page.evaluate(IMPACT_STATE)
        assert set(state["endpoints"]) == {"churn-eu", "churn-us", "churn-prod"}
        for name in ("churn-eu", "churn-us"):
            assert {"impact-serving", "impact-path"} <= set(state["endpoints"][name])
        assert {"impact-past", "impact-path"} <= set(state["endpoints"]["churn-prod"])
        assert all(count > 0 for count in state["reached"]), "every endpoint is reached by a highlighted path"
        deployments = {endpoint: set(classes) for endpoint, classes in state["deployments"]}
        assert "impact-serving" in deployments["churn-eu"] and "impact-past" in deployments["churn-prod"]
        assert "impact-path" in state["root"] and "root" in state["root"]
        assert [label for label, classes in state["model"] if "impact-path" in classes] == ["churn@2.3.1"]
        assert any(label.startswith("promote-churn") for label in state["dimmed"]), "a run that leads to no endpoint is off the paths"
        assert not [label for label in state["labels"] if "fraud" in label or "churn-batch" in label]
        shot(page, "2-impact")

        # The audit report of the dataset version, fetched by the page and saved as a file.
        with page.expect_download() as info:
            page.click("#audit-link")
        download = info.value
        assert download.suggested_filename.startswith("audit-") and download.suggested_filename.endswith(".html")
        saved = ARTIFACTS / download.suggested_filename
        download.save_as(saved)
        report = saved.read_text()
        assert "Audit report: s3://lake/customers@data-v1.8.2" in report and "Deployment timeline" in report and "churn-prod" in report
        page.wait_for_selector("#audit-status:has-text('saved')")

        # An endpoint that used to serve the model: its deployment timeline, rollback included.
        page.click('#impact-endpoints li[data-endpoint="churn-prod"]')
        page.wait_for_selector("#timeline li")
        timeline = page.locator("#timeline li")
        assert timeline.count() == 3
        assert [li.get_attribute("data-status") for li in timeline.all()] == ["live", "ended", "ended"]
        assert "rollback" in timeline.first.inner_text()
        shot(page, "3-endpoint-timeline")

        # The model version, clicked on the canvas: its versions and a side-by-side diff.
        model = page.evaluate("() => window.lineageExplorer.cy.nodes('.kind-model').id()")
        click_node(page, model)
        page.wait_for_selector(f'#detail[data-node="{model}"][data-state="ready"]')
        page.wait_for_selector("#model-versions")
        assert page.locator("#model-versions tbody tr").count() == 2
        assert page.locator("#diff-from option:checked").inner_text() == "churn@2.2.0"
        assert page.locator("#diff-to option:checked").inner_text() == "churn@2.3.1"
        page.click("#diff-compare")
        page.wait_for_selector("#diff-datasets")
        customers = page.locator('#diff-datasets tr[data-name="customers"]')
        assert customers.get_attribute("data-change") == "changed"
        assert [c.inner_text() for c in customers.locator("td").all()][2:4] == ["data-v1.7.1", "data-v1.8.2"]
        lr = page.locator('#diff-params tr[data-name="ml-pipelines/train-churn lr"] td')
        assert [c.inner_text() for c in lr.all()][2:] == ["0.1", "0.05"]
        page.locator("#diff").scroll_into_view_if_needed()
        shot(page, "4-model-diff")

        # Raw events and facets of the model version.
        page.click('details[data-section="events"] > summary')
        page.wait_for_selector("#events li")
        assert page.locator("#events li").count() == 8
        assert "ml_modelVersion" in page.locator('details[data-section="facets"]').inner_text()


def test_a_ref_that_matches_nothing_offers_suggestions(browser: Any, served: str) -> None:
    with page_on(browser, served, "unknown-ref") as page:
        page.goto(served + "/")
        page.fill("#search", "data-v1.8.9")
        page.press("#search", "Enter")
        page.wait_for_selector('#graph[data-state="error"]')
        page.click('#suggestions li.suggestion[data-ref="s3://lake/customers@data-v1.8.2"]')
        page.wait_for_selector(READY)
        assert "#ref=dsv-" in page.url  # the view is kept in the URL, by node id


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A service with auth on: an admin token loads the example, a read token is for the page."""
    db = tmp_path_factory.mktemp("web-auth") / "lineage.db"
    store = SqliteStore(str(db))
    store.setup()
    secrets = {}
    for name, scope in (("loader", "admin"), ("oncall", "read")):
        secret, record = new_token(name, [scope], "2026-01-01T00:00:00.000000Z")
        store.put_token(record)
        secrets[name] = secret
    store.close()
    with running(f"sqlite:///{db}") as url:
        load_ndjson(url, EXAMPLE, token=secrets["loader"])
        yield url, secrets["oncall"]


def test_the_page_asks_for_a_token_when_the_api_wants_one(browser: Any, guarded: tuple[str, str]) -> None:
    url, secret = guarded
    with page_on(browser, url, "token") as page:
        page.goto(url + "/")  # the page and its assets need no token
        page.fill("#search", "churn-prod")
        page.wait_for_selector("#token-dialog[open]")
        page.fill("#token-input", "lgt_wrong")
        page.click("#token-save")
        page.wait_for_selector("#token-dialog[open] #token-message:has-text('refused')")
        shot(page, "5-token-prompt")
        page.fill("#token-input", secret)
        page.click("#token-save")
        page.click('#suggestions li.suggestion[data-ref="churn-prod"]')
        page.wait_for_selector(READY)
        page.wait_for_selector("#timeline li")
        assert page.evaluate("() => sessionStorage.getItem('lineage.token')") == secret
        with page.expect_download() as info:
            page.click("#audit-link")
        assert "Audit report: churn-prod" in Path(info.value.path()).read_text()


def fan_out(branches: int) -> list[dict[str, Any]]:
    """One snapshot feeding `branches` pipelines, each cleaning, building features, training
    and deploying: 8 nodes per branch."""
    events = [s.event("snap#1", "COMPLETE", s.ts(1), job="snapshot", outputs=[s.dataset("raw", "raw-v1")])]
    for i in range(branches):
        events += [
            s.event(f"clean{i}#1", "COMPLETE", s.ts(2), job=f"clean-{i}", inputs=[s.dataset("raw", "raw-v1")], outputs=[s.dataset(f"clean_{i}", "c1")]),
            s.event(f"feat{i}#1", "COMPLETE", s.ts(3), job=f"features-{i}", inputs=[s.dataset(f"clean_{i}", "c1")], outputs=[s.feature_view(f"fv_{i}", "f1")]),
            s.event(f"train{i}#1", "COMPLETE", s.ts(4), job=f"train-{i}", inputs=[s.feature_view(f"fv_{i}", "f1")], outputs=[s.model(f"m{i}", "1.0.0")]),
            *s.deploy(f"deploy{i}#1", s.ts(5), f"m{i}", "1.0.0", f"ep-{i}"),
        ]
    return events


LAYOUT = """() => {
  const cy = window.lineageExplorer.cy;
  const flowsRight = cy.edges().every(e => e.source().position('x') < e.target().position('x'));
  const boxes = cy.nodes().map(n => n.boundingBox({ includeLabels: false }));
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps++;
    }
  const ranks = new Set(cy.nodes().map(n => Math.round(n.position('x')))).size;
  return { nodes: cy.nodes().length, flowsRight, overlaps, ranks };
}"""


def test_a_few_hundred_nodes_stay_layered_left_to_right(browser: Any, tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'big.db'}") as url:
        httpx.post(f"{url}/api/v1/lineage/batch", json=fan_out(40)).raise_for_status()
        with page_on(browser, url, "layout") as page:
            page.goto(url + "/#ref=raw-v1&mode=graph&direction=down&depth=10")
            page.wait_for_selector(READY)
            layout = page.evaluate(LAYOUT)
            assert layout["nodes"] == 1 + 40 * 8
            assert layout["flowsRight"], "every edge points left to right, in data-flow order"
            assert layout["overlaps"] == 0
            assert layout["ranks"] == 9  # snapshot, clean run, clean version, ..., deploy run, deployment
            shot(page, "6-few-hundred-nodes")
