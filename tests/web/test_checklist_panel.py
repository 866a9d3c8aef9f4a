"""The model panel shows a model version's metadata checklist (issue 37), in a real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conformance.test_release_actions import story
from tests.server import running
from tests.web.browser import page_on, shot


def test_the_model_panel_lists_present_and_missing_items(browser: Any, tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=story()).json()["rejected"] == 0
        expected = httpx.get(f"{url}/api/v1/models/churn/versions/2.3.1/checklist").json()
        node = expected["id"]
        with page_on(browser, url, "checklist") as page:
            page.goto(f"{url}/#ref=churn@2.3.1&node={node}")
            page.wait_for_selector(f'#detail[data-node="{node}"][data-state="ready"]')
            page.wait_for_selector("#model-checklist tbody tr")
            rows = page.locator("#model-checklist tbody tr")
            shown = {r.get_attribute("data-item"): r.get_attribute("class") for r in rows.all()}
            assert shown == {i["item"]: i["status"] for i in expected["items"]}
            assert shown["environment"] == "missing" and shown["feature_views"] == "present"
            assert page.locator("#checklist-count").inner_text() == f"{expected['present']} of 11 items present"
            shot(page, "checklist")
