"""The Experiments page in Chromium: demo runs show in the table; HTML in names renders as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import snapshot, wait_until
from mlflow import MlflowClient

from workbench.apps.experiments import ExperimentsPage
from workbench.config import WorkbenchConfig

pytestmark = pytest.mark.ui

CELL = ".wb-runs-table .tabulator-cell[tabulator-field='{field}']"


def test_demo_runs_in_browser(demo_config: WorkbenchConfig, demo_workspace: Path, serve_viewable, page) -> None:
    before = snapshot(demo_workspace / "mlflow.db")
    config = demo_config.with_overrides(experiments=[])
    url = serve_viewable(lambda: ExperimentsPage(config=config))
    page.goto(url)
    names = page.locator(CELL.format(field="run_name"))
    names.first.wait_for()
    headless = ExperimentsPage(config=config)
    expected = set(headless.table.table.value["run_name"].head(25))
    shown = set(names.all_inner_texts())
    assert len(shown) > 5 and shown <= expected
    page.get_by_text(f"{len(headless.dashboard.runs):,} runs in 2 experiment(s)").wait_for()
    assert snapshot(demo_workspace / "mlflow.db") == before


def test_html_in_names_renders_as_text(tmp_path: Path, serve_viewable, page) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("<i class='evil'>xss</i>")
    run = client.create_run(experiment_id, run_name="<b class='evil'>bold</b>")
    client.log_param(run.info.run_id, "payload", "<img class='evil' src=x>")
    client.set_terminated(run.info.run_id)
    url = serve_viewable(lambda: ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))
    page.goto(url)
    cell = page.locator(CELL.format(field="run_name")).first
    cell.wait_for()
    assert cell.inner_text() == "<b class='evil'>bold</b>"
    assert page.locator(CELL.format(field="params.payload")).first.inner_text() == "<img class='evil' src=x>"
    assert page.locator(".evil").count() == 0
    page.locator(".wb-runs-table .tabulator-row input[type='checkbox']").first.check()  # into the diff
    page.get_by_text("1 run(s)", exact=False).wait_for()
    cells = page.locator(".wb-diff-table .tabulator-cell")
    wait_until(lambda: "<b class='evil'>bold</b>" in cells.all_inner_texts(), what="the run name in the diff")
    assert page.locator(".evil").count() == 0


def test_query_from_url_and_query_errors(tmp_path: Path, serve_viewable, page) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("q")
    for i, model in enumerate(["rf", "gb", "gb", "rf", "gb"]):
        run = client.create_run(experiment_id, run_name=f"{model}-{i}")
        client.log_param(run.info.run_id, "model", model)
        client.log_metric(run.info.run_id, "acc", i / 10)
        client.set_terminated(run.info.run_id)
    url = serve_viewable(lambda: ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))
    page.goto(f"{url}/?exp_query=params.model%20%3D%20%27gb%27")
    page.get_by_text("3 of 5 runs").wait_for()
    names = page.locator(CELL.format(field="run_name"))
    names.first.wait_for()
    assert sorted(names.all_inner_texts()) == ["gb-1", "gb-2", "gb-4"]
    box = page.locator(".wb-query input")
    box.fill("metrics.acc >> 1")
    box.press("Enter")
    page.get_by_text("position 14").wait_for()
    box.fill("metrics.acc >= 0.3 OR params.model = 'rf'")
    box.press("Enter")
    wait_until(lambda: sorted(names.all_inner_texts()) == ["gb-4", "rf-0", "rf-3"], what="the new filter")
    page.wait_for_function("() => window.location.search.includes('exp_query=metrics.acc')")


def test_ticking_rows_fills_the_comparison(tmp_path: Path, serve_viewable, page) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("pick")
    for i in range(3):
        run = client.create_run(experiment_id, run_name=f"pick-{i}")
        client.log_param(run.info.run_id, "depth", str(i))
        client.log_metric(run.info.run_id, "acc", 0.5 + i / 10)
        client.set_terminated(run.info.run_id)
    url = serve_viewable(lambda: ExperimentsPage(config=WorkbenchConfig(tracking_uri=uri)))
    page.goto(url)
    boxes = page.locator(".wb-runs-table .tabulator-row input[type='checkbox']")
    boxes.first.wait_for()
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_text("2 run(s), 2 of 2 field(s) shown (only differences)").wait_for()
    cells = page.locator(".wb-diff-table .tabulator-cell")
    wait_until(lambda: {"pick-2", "pick-1"} <= set(cells.all_inner_texts()), what="both runs in the diff")
