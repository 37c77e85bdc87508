"""The served workbench in Debian's Chromium: every tab shows the demo's real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

from workbench.config import WorkbenchConfig
from workbench.serve import ServeOptions, serve

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def workbench_url(demo_config: WorkbenchConfig):
    port = free_port()
    server = serve(demo_config, ServeOptions(port=port), threaded=True)
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def screenshot(page, name: str) -> None:
    """Refresh the README's screenshots when WORKBENCH_SCREENSHOTS=1 (scripts/screenshots.sh)."""
    if os.environ.get("WORKBENCH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_experiments_tab_shows_demo_runs(page, workbench_url: str) -> None:
    page.goto(workbench_url)
    page.locator(".tabulator-row").first.wait_for()
    assert page.locator(".tabulator-row").count() >= 10
    assert page.get_by_text("cancer-baselines").count() > 0
    screenshot(page, "workbench")


def test_tuning_tab_shows_the_study(page, workbench_url: str) -> None:
    page.goto(f"{workbench_url}/?tab=tuning")
    page.locator("canvas").first.wait_for()
    assert page.locator("select", has=page.locator("option[value='cancer-gb-tuning']")).first.input_value() \
        == "cancer-gb-tuning"
    assert page.get_by_text("trials").count() > 0
    screenshot(page, "tuning")


def test_explain_tab_shows_the_importance_plot(page, workbench_url: str) -> None:
    page.goto(f"{workbench_url}/?tab=explain")
    page.locator("canvas").first.wait_for()
    assert page.locator(".wb-error").count() == 0
    screenshot(page, "explain")


def test_data_versions_tab_lists_the_versions(page, workbench_url: str) -> None:
    page.goto(f"{workbench_url}/?tab=data_versions")
    page.get_by_text("v5").first.wait_for()
    assert page.locator(".tabulator-row").count() >= 5
    screenshot(page, "data_versions")


def test_switching_tabs_updates_the_url(page, workbench_url: str) -> None:
    page.goto(workbench_url)
    page.locator(".tabulator-row").first.wait_for()
    page.locator(".bk-tab", has_text="Data versions").first.click()
    page.wait_for_url("**tab=data_versions**")
    page.get_by_text("v5").first.wait_for()
