"""Share toolbar headless: notebook behaviour of Copy link, report contents and offline rewriting."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest

from workbench.apps.data_versions import DataVersionsPage
from workbench.apps.tuning import TuningPage
from workbench.config import WorkbenchConfig
from workbench.errors import NotFound
from workbench.sources.dvc_build import RepoBuilder
from workbench.views.share import ShareBar, offline

optuna.logging.set_verbosity(optuna.logging.ERROR)
PAYLOAD = "</script><script>window.__xss=1</script>"


@pytest.fixture(scope="module")
def tuning_config(tmp_path_factory) -> WorkbenchConfig:
    url = f"sqlite:///{tmp_path_factory.mktemp('share') / 'optuna.db'}"
    study = optuna.create_study(study_name=f"s {PAYLOAD}", storage=url, sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 1) ** 2 + (t.suggest_categorical("k", [PAYLOAD, "b"]) == "b"),
                   n_trials=15)
    return WorkbenchConfig(optuna_storage=url)


def test_copy_link_in_a_notebook_explains_where_links_come_from(tuning_config) -> None:
    page = TuningPage(config=tuning_config)
    assert page.share._status.objects == []
    page.share.copy.clicks += 1  # what a click in the notebook does
    note = page.share._status[0]
    assert "workbench serve" in note.object and page.share.link.value == ""


def test_tuning_report_shows_the_shown_plot_and_escapes(tuning_config) -> None:
    page = TuningPage(config=tuning_config)
    page.dashboard.plot = "Slice"
    page.dashboard.table.detail_of = 3
    report = page.share.report_html()
    assert PAYLOAD not in report and "&lt;/script&gt;&lt;script&gt;window.__xss=1" in report
    assert "Slice" in report and "Trial 3" in report and "Completed trials, best first (15 shown)" in report
    assert "cdn.holoviz.org/panel" not in report.split("<script", 1)[0]  # no remote stylesheet or icon in <head>
    assert "Content-Security-Policy" in report and "default-src 'none'" in report


def test_data_versions_report_follows_the_sub_view(tmp_path) -> None:
    builder = RepoBuilder(tmp_path / "repo", remote=False)
    builder.version("t.csv", pd.DataFrame({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), f"first {PAYLOAD}", tag="one")
    builder.version("t.csv", pd.DataFrame({"id": [1, 2, 4], "v": [1.0, 2.5, 4.0]}), "second", tag="two")
    builder.close()
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(tmp_path / "repo")))
    report = page.share.report_html()
    assert "Version history" in report and "Preview of" in report and "Compare one" not in report
    assert PAYLOAD not in report
    page.view = "compare"
    report = page.share.report_html()
    assert "Compare one" in report and "Drift" in report and "Preview of" not in report
    page.view = "quality"
    assert "Quality of two" in page.share.report_html()


def test_failed_report_is_a_page_and_an_alert() -> None:
    def broken() -> str:
        raise NotFound("The study <b>x</b> vanished.", "reload the page")

    bar = ShareBar(report=broken, title="T")
    text = bar.report_html()
    assert "The study &lt;b&gt;x&lt;/b&gt; vanished." in text and "reload the page" in text
    assert bar._status.objects and "vanished" in bar._status[0].object


def test_offline_inlines_panel_css_and_drops_remote_links() -> None:
    page = ('<html><head><link rel="icon" href="https://cdn.holoviz.org/panel/1.9.4/dist/images/favicon.ico">'
            '</head><body>{"url": "https://cdn.holoviz.org/panel/1.9.4/dist/css/loading.css?v=1.9.4"}</body></html>')
    from panel.io.resources import CDN_DIST

    page = page.replace("https://cdn.holoviz.org/panel/1.9.4/dist/", CDN_DIST)
    result = offline(page)
    assert "favicon" not in result and "data:text/css;base64," in result and CDN_DIST not in result
    assert result.index("Content-Security-Policy") < result.index("</head>")
