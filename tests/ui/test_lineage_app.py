"""Lineage through the served workbench (`workbench serve`) in Chromium: run → data version → diff → back,
run → trial → its runs → Experiments, data version → its runs, Explain header → run, a page served alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_workbench_ui

from workbench.config import WorkbenchConfig
from workbench.sources.lineage import LineageSource

pytestmark = pytest.mark.ui
workbench_url = test_workbench_ui.workbench_url  # the fixture serving the workbench (`workbench serve`)


@pytest.fixture(scope="module")
def best(demo_workspace: Path, demo_config: WorkbenchConfig) -> tuple[str, str]:
    """(run id, run name) of the demo's best run."""
    run_id = json.loads((demo_workspace / ".workbench-demo.json").read_text())["best_run_id"]
    runs = LineageSource(demo_config).runs().set_index("run_id")
    return run_id, str(runs.loc[run_id, "run_name"])


def select_run(page, name: str) -> None:
    """Tick the run's checkbox in the runs table (the run selected last shows its lineage)."""
    row = page.locator(".wb-runs-table .tabulator-row", has_text=name)  # the filter leaves one row per name
    row.first.locator("input[type='checkbox']").check()
    page.locator(".wb-lineage-run-name").get_by_text(name, exact=True).wait_for()


def lineage_shows(page, name: str) -> None:
    page.locator(".wb-lineage-run-name").get_by_text(name, exact=True).wait_for()


def opened_in_experiments(page, name: str) -> None:
    """The Experiments tab is shown (and in the URL) with the lineage of run ``name``."""
    page.wait_for_url("**tab=experiments**")
    lineage_shows(page, name)


def test_run_to_data_version_diff_and_back(page, workbench_url: str) -> None:
    page.goto(f"{workbench_url}/?exp_query=attributes.run_name LIKE 'gb-lr0.05-d2-v%25'")
    page.locator(".wb-runs-table .tabulator-row").first.wait_for()
    select_run(page, "gb-lr0.05-d2-v3")
    select_run(page, "gb-lr0.05-d2-v4")  # selected last: its lineage, compared with v3
    page.locator(".wb-lineage-data-button button").get_by_text("data/cancer.csv @ v4").click()
    page.wait_for_url("**tab=data_versions**")
    page.locator(".wb-compare-title").get_by_text("v3 → v4").wait_for()
    page.locator(".wb-diff-counts").get_by_text("rows before").wait_for()
    page.locator(".wb-nav-back button:visible").get_by_text("Back to Experiments").click()
    page.wait_for_url("**tab=experiments**")
    lineage_shows(page, "gb-lr0.05-d2-v4")
    assert page.locator(".wb-error").count() == 0


def test_run_to_trial_to_its_runs_and_back_to_experiments(page, workbench_url: str, best) -> None:
    run_id, name = best
    page.goto(f"{workbench_url}/?exp_query=attributes.run_name = '{name}'")
    page.locator(".wb-runs-table .tabulator-row").first.wait_for()
    select_run(page, name)
    trial = page.locator(".wb-lineage-trial-button button")
    label = trial.inner_text()
    number = int(label.rsplit("#", 1)[1])
    trial.click()
    page.wait_for_url(lambda url: "tab=tuning" in url and f"&trial={number}" in url)  # ?study=&trial=
    page.locator(".wb-trial-detail").get_by_text(f"Trial {number}", exact=True).wait_for()
    runs = page.locator(".wb-trial-runs")
    runs.get_by_text(f"MLflow runs of trial {number}").wait_for()
    runs.locator(".tabulator-row", has_text=name).first.wait_for()
    runs.locator(".wb-run-list-action button").click()
    opened_in_experiments(page, name)
    assert run_id in page.url and page.locator(".wb-error").count() == 0


def test_data_version_lists_its_runs_and_opens_one(page, workbench_url: str) -> None:
    page.goto(f"{workbench_url}/?tab=data_versions")
    section = page.locator(".wb-version-runs")
    section.locator(".wb-version-runs-title").get_by_text("v5").wait_for()
    row = section.locator(".wb-lineage-run-list .tabulator-row").first
    row.wait_for()
    cell = row.locator(".tabulator-cell[tabulator-field='run_name']")
    name = cell.inner_text().strip()
    section.locator(".wb-lineage-versions").get_by_text("v1", exact=True).first.wait_for()  # the chart's table
    cell.click()
    section.locator(".wb-run-list-action button").click()
    opened_in_experiments(page, name)


def test_explain_header_opens_the_explained_run(page, workbench_url: str, best) -> None:
    _run_id, name = best
    page.goto(f"{workbench_url}/?tab=explain")
    header = page.locator(".wb-explained-run")
    header.locator(".wb-explained-data-button button").get_by_text("data/cancer.csv @ v5").wait_for()
    header.locator(".wb-explained-run-button button").click()
    opened_in_experiments(page, name)


def test_a_page_served_alone_opens_the_other_page_url(page, workbench_url: str, best) -> None:
    run_id, name = best
    page.goto(f"{workbench_url}/experiments?exp_lineage={run_id}")
    lineage_shows(page, name)
    page.locator(".wb-lineage-data-button button").get_by_text("data/cancer.csv @ v5").click()
    page.wait_for_url("**/data_versions?**")
    page.locator(".wb-version-runs-title").get_by_text("v5").wait_for()
    assert page.locator(".wb-error").count() == 0


def test_tuning_opens_a_study_and_trial_from_the_url(page, workbench_url: str, best) -> None:
    _run_id, name = best
    number = int(name.rsplit("-", 1)[1])  # the demo names tuning runs <study>-trial-<number>
    page.goto(f"{workbench_url}/?tab=tuning&study=cancer-gb-tuning&trial={number}")
    page.locator(".wb-trial-detail").get_by_text(f"Trial {number}", exact=True).wait_for()
    page.locator(".wb-trial-runs .tabulator-row", has_text=name).first.wait_for()
    assert page.locator(".wb-error").count() == 0
