"""Served Experiments page (issue 9): a filter redraws only the comparison tab shown; a hidden tab
catches up when opened, showing exactly the filtered runs, in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import wait_until
from mlflow import MlflowClient

from workbench.apps.experiments import ExperimentsPage
from workbench.config import WorkbenchConfig

pytestmark = pytest.mark.ui


def test_hidden_comparison_tabs_catch_up_when_shown(tmp_path: Path, serve_viewable, page) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("deferred")
    for i, model in enumerate(["rf", "gb", "gb", "rf", "gb", "rf"]):
        run = client.create_run(experiment_id, run_name=f"{model}-{i}")
        client.log_param(run.info.run_id, "model", model)
        client.log_metric(run.info.run_id, "acc", i / 10)
        client.set_terminated(run.info.run_id)
    pages: list[ExperimentsPage] = []

    def make() -> ExperimentsPage:
        pages.append(ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))
        return pages[-1]

    page.goto(serve_viewable(make))
    page.get_by_text("6 of 6 runs").wait_for()
    dashboard = pages[0].dashboard
    box = page.locator(".wb-query input")
    box.fill("params.model = 'gb'")
    box.press("Enter")
    page.get_by_text("3 of 6 runs").wait_for()
    # the shown tab (Compare) has the filtered runs; the hidden plots were never drawn
    assert len(dashboard.diff.runs) == 3
    assert dashboard.scatter.runs is None and dashboard.parallel.runs is None

    page.locator(".bk-tab", has_text="Scatter / box").first.click()
    wait_until(lambda: dashboard.scatter.runs is not None and len(dashboard.scatter.runs) == 3,
               what="the scatter to catch up with the filter")
    page.locator(".wb-runs-scatter canvas").first.wait_for()
    assert sorted(dashboard.scatter.runs["run_name"]) == ["gb-1", "gb-2", "gb-4"]
    assert dashboard.parallel.runs is None  # still hidden, still not drawn

    page.locator(".bk-tab", has_text="Parallel coordinates").first.click()
    wait_until(lambda: dashboard.parallel.runs is not None and len(dashboard.parallel.runs) == 3,
               what="parallel coordinates to catch up")
    page.locator(".wb-runs-parallel canvas").first.wait_for()
    report = dashboard.report().getvalue()  # a report fills every tab first
    assert len(dashboard.curves.runs) == 3 and "Run comparison" in report
