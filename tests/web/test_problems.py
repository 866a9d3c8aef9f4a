"""The page shows what events got wrong (issue 29): a marked node in the graph, a Problems
section in its panel, and the refused events that name it, in a real headless Chromium."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lineage import ids
from tests import incident
from tests.server import running
from tests.web.browser import page_on, shot

READY = '#graph[data-state="ready"]'
TRAIN = ids.run_id(incident.s.run_uuid("train#231"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    events = copy.deepcopy(incident.EVENTS)
    (train,) = [e for e in events if e["run"]["runId"] == incident.s.run_uuid("train#231")]
    train["run"]["facets"]["ml_training"]["hardware"] = 42
    refused = {**copy.deepcopy(train), "eventTime": "never"}
    db = tmp_path_factory.mktemp("web-problems") / "lineage.db"
    with running(f"sqlite:///{db}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=[*events, refused]).json()["rejected"] == 1
        yield url


def test_a_node_that_flawed_events_touched_is_marked_and_its_panel_lists_the_problems(browser: Any, served: str) -> None:
    with page_on(browser, served, "problems") as page:
        page.goto(served + f"/#ref=churn@2.3.1&mode=graph&direction=up&depth=2&node={TRAIN}")
        page.wait_for_selector(READY)
        marked = page.evaluate("() => window.lineageExplorer.cy.nodes('.flawed').map(n => [n.id(), n.data('short')])")
        assert [m[0] for m in marked] == [TRAIN]
        assert marked[0][1].startswith("⚠ ")
        banner = {(li.get_attribute("data-kind"), li.get_attribute("data-node")) for li in page.locator("#warnings-banner li").all()}
        assert {("event_problems", TRAIN), ("rejected_events", TRAIN)} <= banner
        page.wait_for_selector(f'#detail[data-node="{TRAIN}"][data-state="ready"]')
        problems = page.locator("#detail #problems tbody tr")
        assert problems.count() == 1
        row = problems.first.inner_text()
        assert "run.facets.ml_training.hardware" in row and "facet_schema" in row
        assert "1 refused events name this node, its dataset or its job" in page.locator("#detail").inner_text()
        assert "run.facets.ml_training" not in page.locator('#detail details[data-section="properties"]').inner_text()  # shown once, in its section
        shot(page, "problems-1-run")
