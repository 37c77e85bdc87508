"""Lineage views in Chromium: following a run's links, disabled links with reasons, the versions chart."""

from __future__ import annotations

import json

import panel as pn
import pytest

from workbench.sources.lineage import LineageSource
from workbench.views.lineage.panels import RunLineagePanel, VersionsPanel

pytestmark = pytest.mark.ui


def _lineage_page(config, run_id: str) -> pn.Column:
    panel = RunLineagePanel(source=LineageSource(config), run_id=run_id)
    status = pn.pane.Str("nothing followed", css_classes=["followed"])

    def show(event) -> None:
        link = event.new
        status.object = f"followed {link.kind} {link.target.get('version') or link.target.get('study')}"

    panel.param.watch(show, "followed")
    return pn.Column(panel, status)


def test_run_links_are_followed_and_missing_ones_explain_why(demo_config, demo_workspace, serve_viewable, page):
    best = json.loads((demo_workspace / ".workbench-demo.json").read_text())["best_run_id"]
    url = serve_viewable(lambda: _lineage_page(demo_config, best))
    page.goto(url)
    data = page.locator(".wb-lineage-data-button button")
    data.get_by_text("data/cancer.csv @ v5").wait_for()
    data.click()
    page.locator(".followed").get_by_text("followed data v5").wait_for()
    page.locator(".wb-lineage-trial-button button").click()
    page.locator(".followed").get_by_text("followed trial cancer-gb-tuning").wait_for()
    assert page.locator(".wb-lineage-model-button button").is_disabled()
    page.locator(".wb-lineage-model").get_by_text("trusted mode", exact=False).wait_for()
    assert page.locator(".wb-lineage-explanation-button button").is_enabled()


def test_versions_chart_renders_for_the_demo(demo_config, serve_viewable, page):
    url = serve_viewable(lambda: VersionsPanel(source=LineageSource(demo_config)))
    page.goto(url)
    table = page.locator(".wb-lineage-versions")
    for tag in ("v1", "v5"):
        table.get_by_text(tag, exact=True).first.wait_for()
    page.locator(".bk-Canvas, canvas").first.wait_for()
    assert page.locator(".wb-error").count() == 0


def _run_and_data_tabs(config, run_id: str, compared_id: str) -> pn.Tabs:
    """The wiring a page does (docs/lineage.md): following a data link opens Data versions on that
    version, diffed against the data of the compared run; a button goes back to the run."""
    from workbench.apps.data_versions import DataVersionsPage

    source = LineageSource(config)
    lineage = RunLineagePanel(source=source, run_id=run_id)
    data_page = DataVersionsPage(config=config)
    compared = source.run_lineage(compared_id).data
    back = pn.widgets.Button(name="Back to the run", css_classes=["wb-back"])
    tabs = pn.Tabs(("Run", lineage), ("Data versions", pn.Column(back, data_page)), dynamic=False)

    def follow(event) -> None:
        link = event.new
        if link.kind == "data":
            data_page.param.update(dataset=link.target["path"], before=compared.target["commit"],
                                   after=link.target["commit"], view="compare")
            tabs.active = 1

    lineage.param.watch(follow, "followed")
    back.on_click(lambda _event: setattr(tabs, "active", 0))
    return tabs


@pytest.mark.slow
def test_run_to_data_version_diff_and_back(demo_config, serve_viewable, page):
    runs = LineageSource(demo_config).runs().set_index("run_name")
    url = serve_viewable(lambda: _run_and_data_tabs(demo_config, runs.loc["gb-lr0.05-d2-v4", "run_id"],
                                                    runs.loc["gb-lr0.05-d2-v3", "run_id"]))
    page.goto(url)
    page.locator(".wb-lineage-data-button button").get_by_text("data/cancer.csv @ v4").click()
    page.locator(".wb-compare-title").get_by_text("v3 → v4").wait_for()
    page.locator(".wb-diff-counts").get_by_text("rows before").wait_for()
    page.locator(".wb-back button").click()
    page.locator(".wb-lineage-run-name").get_by_text("gb-lr0.05-d2-v4").wait_for()
    assert page.locator(".wb-error").count() == 0
