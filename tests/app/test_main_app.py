"""The app factory and the notebook API, built headless on the demo workspace and on bad settings."""

from __future__ import annotations

from pathlib import Path

import panel as pn
import pytest
from helpers import snapshot

import workbench as wb
from workbench.apps.main import PAGES, WorkbenchApp, create_app
from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError


def alerts(viewable) -> list[str]:
    """Texts of the error alerts inside a built component."""
    return [alert.object for alert in pn.panel(viewable).select(pn.pane.Alert) if alert.alert_type == "danger"]


def render(viewable) -> None:
    """Build the Bokeh model tree, as a browser session or notebook would."""
    pn.panel(viewable).get_root()


@pytest.mark.parametrize("key", list(PAGES))
def test_every_page_builds_on_the_demo_without_errors(demo_config: WorkbenchConfig, key: str) -> None:
    page = create_app(demo_config, page=key)
    render(page)
    assert alerts(page) == []


def test_the_whole_app_has_four_tabs_and_builds_the_first_eagerly(demo_config: WorkbenchConfig) -> None:
    app = create_app(demo_config)
    assert isinstance(app, WorkbenchApp)
    tabs = pn.panel(app)
    assert [name for name in tabs._names] == [spec.label for spec in PAGES.values()]
    assert list(app._built) == ["experiments"]
    app.tab = "tuning"
    assert list(app._built) == ["experiments", "tuning"] and tabs.active == 1
    tabs.active = 3
    assert app.tab == "data_versions" and "data_versions" in app._built
    render(app)


def test_unknown_page_is_a_config_error(demo_config: WorkbenchConfig) -> None:
    with pytest.raises(ConfigError, match="Unknown page"):
        create_app(demo_config, page="nope")


def test_bad_settings_show_an_alert_in_each_page_never_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    config = WorkbenchConfig(tracking_uri=f"sqlite:///{tmp_path}/missing.db",
                             optuna_storage=f"sqlite:///{tmp_path}/missing-optuna.db",
                             dvc_repo=str(tmp_path / "plain"), model="runs:/0123456789abcdef/model")
    for key in PAGES:
        page = create_app(config, page=key)
        render(page)
        texts = alerts(page)
        assert texts, f"{key} shows no alert for a broken store"
        assert "Traceback" not in texts[0]
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "missing-optuna.db").exists()


def test_notebook_api_returns_renderable_panels(demo_workspace: Path, demo_config: WorkbenchConfig) -> None:
    before = snapshot(demo_workspace)
    components = [
        wb.app(demo_workspace / "workbench.toml"),
        wb.experiments(tracking_uri=demo_config.tracking_uri, experiments=["cancer-baselines"]),
        wb.tuning(storage=demo_config.optuna_storage, study_name=demo_config.study_name),
        wb.explain(config=demo_config),
        wb.data_versions(repo=demo_workspace, path="data/cancer.csv"),
    ]
    for component in components:
        render(component)
        assert alerts(component) == []
    assert snapshot(demo_workspace) == before, "the workbench wrote into the demo's stores"


def test_notebook_explain_with_a_fitted_model() -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:200], y.iloc[:200]
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    page = wb.explain(model, X, y)
    render(page)
    assert alerts(page) == []


def test_notebook_lineage_of_a_demo_run(demo_workspace: Path, demo_config: WorkbenchConfig) -> None:
    run_id = demo_config.model.split("/")[1]
    import workbench.lineage  # noqa: F401 - the helper module must not shadow the notebook function

    graph = wb.lineage_view(run_id, config=demo_workspace / "workbench.toml")
    render(graph)
    assert alerts(graph) == []
    chart = wb.lineage_view(config=demo_workspace / "workbench.toml")
    render(chart)
    assert alerts(chart) == []
