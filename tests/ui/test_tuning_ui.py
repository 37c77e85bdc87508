"""The Tuning page in Chromium: the optimisation history plot renders with the study's trials."""

from __future__ import annotations

import optuna
import pytest
from helpers import wait_until

from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig

optuna.logging.set_verbosity(optuna.logging.ERROR)

# Every ColumnDataSource in the page with a "Trial" column: {n rows, best-so-far?}.
SOURCES_JS = """() => {
  const out = [];
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const model of doc._all_models.values()) {
      if (model.type === 'ColumnDataSource' || model.constructor.name === 'ColumnDataSource') {
        const data = model.data instanceof Map ? Object.fromEntries(model.data) : model.data;
        if (data && data.Trial) out.push(Array.from(data.Trial).length);
      }
    }
  }
  return out;
}"""


@pytest.mark.ui
def test_history_plot_renders_in_the_browser(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="browser-study", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=40)
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)))
    page.locator(".wb-study-summary").get_by_text("browser-study").wait_for()
    page.locator(".wb-tuning-history canvas").first.wait_for()
    sizes = wait_until(lambda: page.evaluate(SOURCES_JS), what="the history plot's data in the browser")
    assert 40 in sizes  # every completed trial is plotted
    assert any(1 < n < 40 for n in sizes)  # the best-so-far line carries only its improvements
    assert page.locator(".wb-error").count() == 0


@pytest.mark.ui
def test_trials_table_renders_user_strings_as_text(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="<b>xss</b>", storage=url)
    payload = "<img src=x onerror=\"document.title='pwned'\">"
    study.add_trial(optuna.trial.create_trial(
        value=1.0, params={"kind": payload},
        distributions={"kind": optuna.distributions.CategoricalDistribution([payload, "plain"])},
        user_attrs={"note": "<b>bold?</b>"}))
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)) + "?tuning_plot=Trials")
    table = page.locator(".wb-trials-table")
    table.get_by_text(payload, exact=True).wait_for()
    table.get_by_text("<b>bold?</b>", exact=True).wait_for()
    assert table.locator("img").count() == 0 and table.locator("b").count() == 0
    assert page.title() != "pwned"
    assert page.locator(".wb-study-summary b", has_text="<b>xss</b>").count() == 1  # the name, as text


@pytest.mark.ui
def test_live_study_updates_in_the_browser(tmp_path, serve_viewable, page):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    writer = optuna.create_study(study_name="live", storage=url, sampler=optuna.samplers.RandomSampler(seed=1))
    writer.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    config = WorkbenchConfig(optuna_storage=url, refresh_interval=0.5)
    page.goto(serve_viewable(lambda: TuningPage(config=config)))
    summary = page.locator(".wb-study-summary")
    summary.get_by_text("5 trials").wait_for()
    writer.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    summary.get_by_text("8 trials").wait_for()  # pushed by the periodic refresh, no reload
    assert page.locator(".wb-error").count() == 0


@pytest.mark.ui
@pytest.mark.parametrize("tab", ["Compare studies", "All studies"])
def test_hostile_study_names_stay_text_in_choosers_and_tables(tmp_path, serve_viewable, page, tab):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    hostile = "<img src=x onerror=\"window.__xss=1\">"
    optuna.create_study(study_name=hostile, storage=url).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    config = WorkbenchConfig(optuna_storage=url)
    page.goto(serve_viewable(lambda: TuningPage(config=config)) + f"?tuning_plot={tab.replace(' ', '+')}")
    page.locator(".wb-studies-table, .wb-compare-best").get_by_text(hostile, exact=True).wait_for()  # as text
    assert page.evaluate("window.__xss") is None
