"""TuningPage built headless: real data on the first screen, alerts for bad storages."""

from __future__ import annotations

import sqlite3

import optuna
import panel as pn
import pytest
from helpers import snapshot

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig

optuna.logging.set_verbosity(optuna.logging.ERROR)


def texts(viewable) -> list[str]:
    """The text of every Markdown/HTML/Alert pane below ``viewable``."""
    return [str(p.object) for p in viewable.select(lambda o: isinstance(o, (pn.pane.Markdown, pn.pane.HTML)))]


def alerts(page: TuningPage) -> list[str]:
    return [str(a.object) for a in page.__panel__().select(pn.pane.Alert) if a.alert_type == "danger"]


def history_overlay(page: TuningPage):
    return page.dashboard.history.live.element


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tuning-page") / "optuna.db"
    url = f"sqlite:///{path}"
    study = optuna.create_study(study_name="quad<script>", storage=url, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=30)
    optuna.create_study(study_name="second", storage=url, direction="maximize").optimize(
        lambda t: t.suggest_int("n", 0, 5), n_trials=5)
    return url


def test_demo_tuning_page_shows_history_eagerly(demo_config):
    store = demo_config.optuna_storage.removeprefix("sqlite:///")
    before = snapshot(store)
    page = TuningPage(config=demo_config)
    assert not alerts(page)
    dashboard = page.dashboard
    assert dashboard.study == (demo_config.study_name or dashboard.studies["study_name"].iloc[0])
    study = optuna.load_study(study_name=dashboard.study, storage=demo_config.optuna_storage)
    assert len(dashboard.data.trials) == len(study.trials) >= 100
    summary = dashboard._summary.object
    assert f"{study.best_value:.6g}" in summary and f"trial {study.best_trial.number}" in summary
    overlay = history_overlay(page)
    best_curve = overlay.Curve.Best_value
    assert best_curve.dimension_values(1).min() == pytest.approx(study.best_value) or \
        best_curve.dimension_values(1).max() == pytest.approx(study.best_value)
    page.__panel__().get_root()  # renders to Bokeh without a server
    assert snapshot(store) == before


def test_page_switches_study_and_escapes_names(small_store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=small_store))
    assert page.dashboard.study == "quad<script>"
    summary = page.dashboard._summary.object
    assert "quad&lt;script&gt;" in summary and "<script>" not in summary
    page.dashboard.study = "second"
    assert page.dashboard.data.name == "second"
    assert "maximize" in page.dashboard._summary.object
    scatter = history_overlay(page).Scatter.Objective_value
    assert sorted(scatter.dimension_values(0)) == list(range(5))


def test_configured_study_is_opened_first(small_store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=small_store, study_name="second"))
    assert page.dashboard.study == "second" and not alerts(page)


def test_unknown_study_alerts_and_shows_the_first(small_store):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=small_store, study_name="nope"))
    [alert] = alerts(page)
    assert "nope" in alert and "quad&lt;script&gt;" in alert
    assert page.dashboard.study == "quad<script>"


@pytest.mark.parametrize("make_storage, expected", [
    (lambda tmp: f"sqlite:///{tmp / 'missing.db'}", "does not exist"),
    (lambda tmp: str(tmp / "missing.log"), "does not exist"),
    (lambda tmp: None, "No Optuna storage is configured"),
])
def test_bad_storages_alert(tmp_path, make_storage, expected):
    page = TuningPage(config=WorkbenchConfig(optuna_storage=make_storage(tmp_path)))
    [alert] = alerts(page)
    assert expected in alert and "How to fix" in alert


def test_storage_without_studies_alerts(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.storages.RDBStorage(url)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=url))
    [alert] = alerts(page)
    assert "holds no studies" in alert


def test_corrupt_storage_alerts_and_is_untouched(tmp_path):
    path = tmp_path / "corrupt.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    path.write_bytes(path.read_bytes()[:100] + b"\xff" * 3000)
    before = snapshot(path)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=f"sqlite:///{path}"))
    [alert] = alerts(page)
    assert "Optuna storage" in alert
    assert snapshot(path) == before


def test_journal_storage_page_and_file_untouched(tmp_path):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(study_name="journaled", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=12)
    before = snapshot(path)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=str(path)))
    assert not alerts(page)
    assert len(page.dashboard.data.trials) == 12
    assert f"{study.best_value:.6g}" in page.dashboard._summary.object
    page.dashboard.refresh()
    assert snapshot(path) == before and not (tmp_path / "journal.log.lock").exists()


def test_a_damaged_study_alerts_and_the_others_still_open(tmp_path):
    path = tmp_path / "damaged.db"
    url = f"sqlite:///{path}"
    for name in ("broken", "fine"):
        optuna.create_study(study_name=name, storage=url, sampler=optuna.samplers.RandomSampler(seed=0)).optimize(
            lambda t: t.suggest_float("x", 0, 1), n_trials=4)
    with sqlite3.connect(path) as connection:  # a distribution no Optuna can parse, in study 'broken' only
        connection.execute("UPDATE trial_params SET distribution_json = '{\"name\": \"Nope\"}' WHERE trial_id IN "
                           "(SELECT trial_id FROM trials WHERE study_id = 1)")
    before = snapshot(path)
    page = TuningPage(config=WorkbenchConfig(optuna_storage=url, study_name="broken"))
    [alert] = alerts(page)
    assert "could not be read" in alert and "other studies" in alert
    for index in range(len(page.dashboard._tabs)):  # every tab copes with no study loaded
        pn.Column(page.dashboard._tabs[index]).get_root()
    page.dashboard.study = "fine"
    assert not alerts(page) and len(page.dashboard.data.trials) == 4
    assert snapshot(path) == before


def test_demo_trial_detail_shows_system_attributes_and_lineage(demo_config):
    page = TuningPage(config=demo_config)
    study = optuna.load_study(study_name=page.dashboard.study, storage=demo_config.optuna_storage)
    best = study.best_trial
    page.dashboard.table.detail_of = best.number
    fields = page.dashboard.table._detail[0].select(pn.widgets.Tabulator)[0].value.set_index("field")["value"]
    assert best.system_attrs and all(f"system_attrs_{key}" in fields for key in best.system_attrs)
    assert fields["user_attrs_mlflow_run_id"] == best.user_attrs["mlflow_run_id"]
    assert float(fields["value"]) == pytest.approx(best.value)
