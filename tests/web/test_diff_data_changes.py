"""The diff view draws the data changes `diff` returns (issue 37): columns, statistics, quality
metrics, failed assertions and contract breaks, in a real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests import incident, release_record
from tests.server import running
from tests.web.browser import page_on, shot


def cells(row: Any) -> list[str]:
    return [c.inner_text() for c in row.locator("td").all()]


def test_the_diff_shows_each_dataset_s_data_changes_and_the_contract_break(browser: Any, tmp_path: Path) -> None:
    with running(f"sqlite:///{tmp_path / 'lineage.db'}") as url:
        sent = httpx.post(f"{url}/api/v1/lineage/batch", json=incident.EVENTS + release_record.EVENTS, timeout=60).json()
        assert sent["rejected"] == 0
        expected = httpx.get(f"{url}/api/v1/diff", params={"from": "churn@2.2.0", "to": "churn@2.3.1"}).json()["data_changes"]
        node = httpx.get(f"{url}/api/v1/models/churn/versions/2.3.1/checklist").json()["id"]
        with page_on(browser, url, "diff-data-changes") as page:
            page.goto(f"{url}/#ref=churn@2.3.1&node={node}")
            page.wait_for_selector(f'#detail[data-node="{node}"][data-state="ready"]')
            page.wait_for_selector("#diff-compare")
            page.click("#diff-compare")
            page.wait_for_selector("#diff-data-changes")
            rows = page.locator("#diff-data-changes tbody tr")
            assert sorted(r.get_attribute("data-name") for r in rows.all()) == sorted(d["name"] for d in expected)

            customers = page.locator('#diff-data-changes tr[data-name="customers"]')
            name, versions, columns, statistics, quality, failed = cells(customers)
            assert versions == "data-v1.7.1 → data-v1.8.2"
            assert customers.locator("td span").get_attribute("title") == "s3://lake/customers@data-v1.7.1 → s3://lake/customers@data-v1.8.2"
            assert columns == "-region string"
            assert "rowCount 600 → 800" in statistics
            assert "rowCount 600 → 800" in quality and "status.nullCount" not in quality  # unchanged metrics are left out
            assert failed == "none → columns_match_contract, label_mapping_matches_contract"
            assert "contract-break" in (customers.get_attribute("class") or "")

            # A dataset whose schema nobody recorded: unknown, not "same", and no break.
            features = page.locator('#diff-data-changes tr[data-name="churn_features"]')
            assert cells(features)[2] == "unknown"
            assert "contract-break" not in (features.get_attribute("class") or "")

            breaks = page.locator("#diff-contract-breaks li")
            assert [b.inner_text() for b in breaks.all()] == [d["contract_break"] for d in expected if d["contract_break"]]
            page.locator("#diff-data-changes").scroll_into_view_if_needed()
            shot(page, "diff-data-changes")
