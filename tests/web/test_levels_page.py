"""The explorer at dataset/job level (issue 34) in a real headless Chromium: a dataset ref is
drawn collapsed with its counts, a node expands into its versions on demand, and impact mode
lists the endpoints reached as the API's dataset-level answer does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import running
from tests.web.browser import load_ndjson, page_on, shot
from tests.web.test_page import EXAMPLE, READY, click_node


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web-levels") / "lineage.db"
    with running(f"sqlite:///{db}") as url:
        load_ndjson(url, EXAMPLE)
        yield url


DRAWN = """() => window.lineageExplorer.cy.nodes().map(n => [n.id(), n.data('node').kind, n.data('short'), n.classes()])"""


def test_a_dataset_is_drawn_collapsed_and_a_node_expands_on_demand(browser: Any, served: str) -> None:
    answer = httpx.get(f"{served}/api/v1/graph", params={"ref": "customers_clean", "direction": "both", "depth": 10}).json()
    assert answer["level"] == "dataset"
    with page_on(browser, served, "levels") as page:
        page.goto(served + "/#ref=customers_clean&mode=graph&direction=both&depth=10")
        page.wait_for_selector(READY + '[data-level="dataset"]')
        drawn = page.evaluate(DRAWN)
        assert {d[0] for d in drawn} == {n["id"] for n in answer["nodes"]}
        assert {d[1] for d in drawn} == {"Dataset", "Job"}
        counts = {n["id"]: n.get("runs", n.get("versions")) for n in answer["nodes"]}
        for node_id, _, short, classes in drawn:
            assert "collapsed" in classes and f"· {counts[node_id]} " in short, short
        shot(page, "levels-1-collapsed")
        # Expand the features job: its runs (and what they touched) come in, tied to it.
        job = next(n for n in answer["nodes"] if n["label"].endswith("build-churn-features"))
        click_node(page, job["id"])
        page.wait_for_function("() => !document.getElementById('expand').disabled")
        page.click("#expand")
        page.wait_for_selector(READY + '[data-expanded="1"]')
        after = {d[0]: d for d in page.evaluate(DRAWN)}
        runs = [d for d in after.values() if d[1] == "Run"]
        assert len(runs) == job["runs"]
        tied = page.evaluate(f"() => window.lineageExplorer.cy.getElementById('{job['id']}').outgoers('node').map(n => n.data('node').kind)")
        assert tied.count("Run") == job["runs"]
        assert "expanded" in after[job["id"]][3]
        shot(page, "levels-2-expanded")


def test_impact_mode_at_dataset_level_lists_the_endpoints_as_the_api_does(browser: Any, served: str) -> None:
    impact = httpx.get(f"{served}/api/v1/impact", params={"ref": "customers", "depth": 10}).json()
    assert impact["level"] == "dataset"
    with page_on(browser, served, "levels-impact") as page:
        page.goto(served + "/#ref=customers&mode=impact&depth=10")
        page.wait_for_selector(READY + '[data-mode="impact"][data-level="dataset"]')
        rows = page.locator("#impact-endpoints li")
        listed = {row.get_attribute("data-endpoint"): row.get_attribute("data-serving") for row in rows.all()}
        assert listed == {e["label"]: str(e["currently_serving"]).lower() for e in impact["endpoints"]}
        classes = page.evaluate("() => window.lineageExplorer.cy.nodes('.endpoint').map(n => [n.id(), n.classes()])")
        serving = {e["id"]: e["currently_serving"] for e in impact["endpoints"]}
        assert {i for i, _ in classes} == set(serving)
        for node_id, cls in classes:
            assert ("impact-serving" in cls) is serving[node_id]
        # Asking for versions draws the version level of the same ref.
        page.select_option("#level", "version")
        page.wait_for_selector(READY + '[data-level="version"]')
        assert "level=version" in page.url
        shot(page, "levels-3-impact")


LEVEL_EDGES = """() => window.lineageExplorer.cy.edges('.level').map(e => [e.data('edge').src, e.data('edge').dst, e.classes()])"""


def test_a_pair_only_a_declaration_joins_is_drawn_dashed(browser: Any, served: str) -> None:
    from tests.conformance.test_levels_declared import DECLARE, REPORT_RUN

    posted = httpx.post(f"{served}/api/v1/lineage/batch", json=[DECLARE, REPORT_RUN])
    posted.raise_for_status()
    answer = httpx.get(f"{served}/api/v1/graph", params={"ref": "warehouse:raw_orders", "direction": "down", "depth": 10}).json()
    declared = {(e["src"], e["dst"]): bool(e["props"].get("declared")) for e in answer["edges"]}
    assert sorted(declared.values()) == [False, False, True, True]  # the declared job's two, the report run's two
    with page_on(browser, served, "levels-declared") as page:
        page.goto(served + "/#ref=warehouse%3Araw_orders&mode=graph&direction=down&depth=10")
        page.wait_for_selector(READY + '[data-level="dataset"]')
        drawn = {(src, dst): "declared" in classes for src, dst, classes in page.evaluate(LEVEL_EDGES)}
        assert drawn == declared
        styles = page.evaluate("() => window.lineageExplorer.cy.edges('.level').map(e => [e.hasClass('declared'), e.style('line-style')])")
        assert {(flag, style) for flag, style in styles} == {(True, "dashed"), (False, "solid")}
        shot(page, "levels-4-declared")
