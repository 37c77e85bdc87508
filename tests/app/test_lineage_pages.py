"""Lineage wired into the pages (issue 10), headless: every demo run's lineage on the Experiments page,
links followed through the workbench app (tabs, page params, back), disabled links with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import panel as pn
import pytest
from helpers import snapshot

from workbench.apps.experiments import ExperimentsPage
from workbench.apps.main import WorkbenchApp, create_app
from workbench.apps.navigation import Destination, link_destination
from workbench.config import WorkbenchConfig
from workbench.sources.lineage import ABSENT, LINKED, LineageSource, Link
from workbench.views.lineage.header import ExplainedRunHeader


@pytest.fixture(scope="module")
def runs(demo_config: WorkbenchConfig):
    return LineageSource(demo_config).runs().set_index("run_name")


@pytest.fixture(scope="module")
def best(demo_workspace: Path) -> str:
    return json.loads((demo_workspace / ".workbench-demo.json").read_text())["best_run_id"]


def danger(viewable) -> list[str]:
    return [alert.object for alert in pn.panel(viewable).select(pn.pane.Alert) if alert.alert_type == "danger"]


def test_every_demo_run_shows_its_lineage_on_the_experiments_page(demo_config, demo_workspace) -> None:
    before = snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "optuna.db")
    app = WorkbenchApp(config=demo_config)
    page = app.page("experiments")
    ids = page.dashboard.runs["run_id"].tolist()
    assert len(ids) >= 200
    graph = page.lineage_panel.graph
    for run_id in ids:  # the panel the page shows, for every run (the table selection drives it, below)
        page.lineage_panel.run_id = run_id
        assert graph.lineage is not None and graph.lineage.run_id == run_id, run_id
        assert not graph.buttons["data"].disabled, (run_id, graph.buttons["data"].description)
        trial = graph.lineage.trial
        assert graph.buttons["trial"].disabled == (not trial.ok) and (trial.ok or trial.tooltip)
        for kind in ("model", "explanation"):  # untrusted demo: models are never loaded
            link = graph.lineage.links()[kind]
            assert graph.buttons[kind].disabled == (not link.followable)
            assert graph.buttons[kind].disabled is False or graph.buttons[kind].description
    assert sum(not page.lineage_panel.source.run_lineage(i).trial.ok for i in ids) == 65  # the baselines
    frame = page.dashboard.runs.set_index("run_id")
    for run_id in (ids[0], ids[-1], frame["parent_run_id"].dropna().iloc[0]):  # baseline, tuning parent and child
        page.table.selection = [run_id]
        assert page.run == run_id and graph.lineage.run_id == run_id
        assert graph.lineage.run_name == frame.loc[run_id, "run_name"]
    pn.panel(app).get_root()
    assert danger(page.lineage_panel) == []
    assert snapshot(demo_workspace / "mlflow.db") | snapshot(demo_workspace / "optuna.db") == before


def test_data_link_opens_data_versions_diffed_against_the_compared_run_and_back(demo_config, runs) -> None:
    app = WorkbenchApp(config=demo_config)
    experiments = app.page("experiments")
    v3, v4 = runs.loc["gb-lr0.05-d2-v3", "run_id"], runs.loc["gb-lr0.05-d2-v4", "run_id"]
    experiments.table.selection = [v3]
    experiments.table.selection = [v3, v4]  # v4 selected last: its lineage, compared with v3
    assert experiments.run == v4 and experiments.compared_run() == v3
    experiments.lineage_panel.graph.buttons["data"].clicks += 1
    assert app.tab == "data_versions" and pn.panel(app).active == 3
    data = app.page("data_versions")
    history = data.history.set_index("tags")["commit"]
    assert (data.view, data.before, data.after, data.version) == ("compare", history["v3"], history["v4"], history["v4"])
    assert data.compare_view.title == "v3 → v4" and data.compare_view.comparison is not None
    assert app._back["data_versions"].visible and app._back["data_versions"].name == "← Back to Experiments"
    app._back["data_versions"].clicks += 1
    assert app.tab == "experiments" and experiments.run == v4 and not app._back["experiments"].visible


def test_trial_link_selects_the_trial_and_its_runs_lead_back_to_experiments(demo_config, best) -> None:
    app = WorkbenchApp(config=demo_config)
    experiments = app.page("experiments")
    experiments.run = best
    trial = experiments.lineage_panel.graph.lineage.trial
    assert trial.status == LINKED
    experiments.lineage_panel.graph.buttons["trial"].clicks += 1
    tuning = app.page("tuning")
    assert app.tab == "tuning" and (tuning.study, tuning.trial) == ("cancer-gb-tuning", trial.target["number"])
    assert tuning.dashboard.table.detail_of == trial.target["number"] and tuning.dashboard.plot == "Trials"
    run_list = tuning.lineage_runs
    assert best in run_list.runset.runs["run_id"].tolist()
    assert not run_list.button.disabled  # one run: the button opens it without selecting
    experiments.run = ""
    run_list.button.clicks += 1
    assert app.tab == "experiments" and experiments.run == best
    tuning.dashboard.table.detail_of = 0  # a click in the trials table: the page param follows
    assert tuning.trial == 0 and len(run_list.runset.runs) >= 1


def test_data_version_lists_its_runs_and_the_versions_chart(demo_config, best) -> None:
    app = WorkbenchApp(config=demo_config, tab="data_versions")
    data = app.page("data_versions")
    run_list = data.lineage_runs
    assert best in run_list.runset.runs["run_id"].tolist()  # the newest version (v5) is selected first
    history = data.history.set_index("tags")["commit"]
    data.version = history["v1"]
    v1 = run_list.runset.runs
    assert len(v1) and best not in v1["run_id"].tolist() and set(v1["run_name"].str[-2:]) == {"v1"}
    run_list.selected = v1["run_id"].iloc[0]
    run_list.button.clicks += 1
    assert app.tab == "experiments" and app.page("experiments").run == v1["run_id"].iloc[0]
    chart = pn.panel(data).select(pn.pane.HoloViews)
    assert chart and danger(data) == []


def test_explain_header_names_the_run_and_data_version_and_links_back(demo_config, best) -> None:
    app = WorkbenchApp(config=demo_config, tab="explain")
    explain = app.page("explain")
    header = explain.lineage_header
    assert isinstance(header, ExplainedRunHeader) and "wb-explained-run" in explain._layout[0][0].css_classes
    assert header.links["run"].target["run_id"] == best and header.links["data"].label == "data/cancer.csv @ v5"
    header.buttons["data"].clicks += 1
    assert app.tab == "data_versions" and app.page("data_versions").view == "versions"
    app.tab = "explain"
    header.buttons["run"].clicks += 1
    assert app.tab == "experiments" and app.page("experiments").run == best


def test_model_links_open_explain_on_that_run(demo_config, runs) -> None:
    app = WorkbenchApp(config=demo_config)
    experiments = app.page("experiments")
    best_id = next(run_id for run_id in runs["run_id"]
                   if experiments.lineage.explanation_link(run_id).status == LINKED)
    experiments.run = best_id
    experiments.lineage_panel.graph.buttons["explanation"].clicks += 1
    assert app.tab == "explain" and app.model == f"runs:/{best_id}/model"
    assert app.page("explain").config.model == f"runs:/{best_id}/model"
    destination = link_destination(experiments.lineage.model_link(best_id))
    assert destination == Destination("explain", config={"model": f"runs:/{best_id}/model"})
    assert destination.url(single_page=True) == f"/explain?model=runs%3A%2F{best_id}%2Fmodel"


def test_pages_alone_disable_links_to_other_pages_with_the_reason(demo_config, best) -> None:
    page = create_app(demo_config, page="experiments")
    page.run = best
    buttons = page.lineage_panel.graph.buttons
    assert all(button.disabled for button in buttons.values())
    assert "wb.app()" in buttons["data"].description
    page.link_reason = ""  # served alone: links open the other page's URL instead
    assert not page.lineage_panel.graph.buttons["data"].disabled
    alone = create_app(demo_config, page="data_versions")
    run_list = alone.lineage_runs
    assert run_list.button.disabled and "wb.app()" in run_list.button.description
    query = Destination("data_versions", {"dataset": "data/cancer.csv", "version": "abc", "view": "versions"}).url(False)
    assert query == "/?tab=data_versions&dv_dataset=data%2Fcancer.csv&dv_version=abc&dv_view=versions"


@pytest.mark.slow
def test_a_run_without_lineage_shows_disabled_links_with_reasons(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking)
    experiment = client.create_experiment("plain", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(experiment, run_name="no lineage")
    client.log_metric(run.info.run_id, "accuracy", 0.5)
    client.set_terminated(run.info.run_id)
    config = WorkbenchConfig(tracking_uri=tracking)
    app = WorkbenchApp(config=config)
    page = app.page("experiments")
    assert isinstance(page, ExperimentsPage)
    page.table.selection = [run.info.run_id]
    graph = page.lineage_panel.graph
    assert all(button.disabled for button in graph.buttons.values())
    assert "log_run_context" in graph.buttons["data"].description
    assert "not an Optuna trial" in graph.buttons["trial"].description
    assert "logged no model" in graph.buttons["model"].description
    pn.panel(app).get_root()
    assert danger(page) == []


def test_link_destinations_diff_only_against_another_version() -> None:
    data = Link("data", LINKED, "data @ v2", target={"path": "data/x.csv", "commit": "c2"})
    versions = Destination("data_versions", {"dataset": "data/x.csv", "version": "c2", "view": "versions"})
    assert link_destination(data) == versions
    assert link_destination(data, Link("data", ABSENT, "no data version", "nothing recorded")) == versions
    assert link_destination(data, Link("data", LINKED, "data @ v2", target={"commit": "c2"})) == versions
    compare = link_destination(data, Link("data", LINKED, "data @ v1", target={"commit": "c1"}))
    assert compare.params == {"dataset": "data/x.csv", "version": "c2", "before": "c1", "after": "c2", "view": "compare"}
    trial = Link("trial", LINKED, "s #3", target={"study": "s", "number": 3})
    assert link_destination(trial).url(single_page=True) == "/tuning?study=s&trial=3"
