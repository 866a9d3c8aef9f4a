"""The explorer page's banner (issue 29): an answer that could not see everything says so
above what it shows, in a real headless Chromium. Screenshots go to build/test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lineage import ids
from tests import gaps
from tests.server import running
from tests.web.browser import page_on, shot

READY = '#graph[data-state="ready"]'
BANNER = "#warnings-banner"
SHADOW = ids.dataset_id("k8s://serving", "endpoints/churn-shadow")
EU = ids.dataset_id("k8s://serving", "endpoints/churn-eu")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web-warnings") / "lineage.db"
    with running(f"sqlite:///{db}") as url:
        assert httpx.post(f"{url}/api/v1/lineage/batch", json=gaps.EVENTS).json()["rejected"] == 0
        yield url


def listed(page: Any, scope: str) -> set[tuple[str, str]]:
    return {(li.get_attribute("data-kind"), li.get_attribute("data-node")) for li in page.locator(f"{scope} li").all()}


def test_impact_shows_what_it_could_not_see_and_opens_it(browser: Any, served: str) -> None:
    with page_on(browser, served, "warnings-impact") as page:
        page.goto(served + "/#ref=data-v1.8.2&mode=impact&depth=20")
        page.wait_for_selector(READY + '[data-mode="impact"]')
        banner = page.locator(BANNER)
        assert banner.is_visible() and banner.get_attribute("role") == "alert"
        assert "Incomplete answer" in banner.inner_text()
        found = listed(page, BANNER)
        assert ("stale_run", gaps.run("report#1")) in found and ("failed_run", gaps.run("score#1")) in found
        assert ("stale_run", gaps.run("report#2")) not in found
        shot(page, "warnings-1-impact")
        page.click(f'{BANNER} li[data-node="{gaps.run("score#1")}"] a')
        page.wait_for_selector(f'#detail[data-node="{gaps.run("score#1")}"][data-state="ready"]')


def test_a_whole_answer_shows_no_banner(browser: Any, served: str) -> None:
    with page_on(browser, served, "warnings-none") as page:
        page.goto(served + f"/#ref={EU}&mode=graph&direction=up&depth=10")
        page.wait_for_selector(READY)
        assert page.locator(BANNER).count() == 0 and page.locator("#warnings").is_hidden()


def test_the_endpoint_panel_and_the_graph_warn_of_an_untrained_model(browser: Any, served: str) -> None:
    with page_on(browser, served, "warnings-endpoint") as page:
        page.goto(served + f"/#ref={SHADOW}&mode=graph&direction=up&depth=10&node={SHADOW}")
        page.wait_for_selector(READY)
        assert ("untrained_model_version", gaps.model_version("2.0.5")) in listed(page, BANNER)
        page.wait_for_selector("#detail #timeline li")
        assert listed(page, "#detail .warning-banner") == {
            ("untrained_model_version", gaps.model_version("2.0.5")),
            ("failed_run", gaps.run("dep-shadow#2")),
        }
        shot(page, "warnings-2-endpoint")


def test_the_model_panel_orders_promotion_only_versions_and_warns_of_them(browser: Any, served: str) -> None:
    model = ids.dataset_id("registry://models", "models/churn")
    with page_on(browser, served, "warnings-model") as page:
        page.goto(served + f"/#ref={model}&mode=graph&direction=down&depth=2&node={model}")
        page.wait_for_selector("#model-versions tbody tr")
        rows = page.locator("#model-versions tbody tr").all()
        assert [r.locator("td").first.inner_text() for r in rows] == ["2.3.1", "2.2.5", "2.2.0", "2.1.0", "2.0.5"]
        alias_only = rows[3]
        assert alias_only.locator("a").count() == 0 and "first seen" in alias_only.inner_text()
        assert ("untrained_model_version", gaps.CANARY) in listed(page, "#detail .warning-banner")
        assert page.locator("#diff-from option").count() == 4  # a version with no node is not offered for a diff
        shot(page, "warnings-3-model")
