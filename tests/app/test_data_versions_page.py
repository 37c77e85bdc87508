"""DataVersionsPage built headless: the demo's versions on the first screen, alerts for bad input."""

from __future__ import annotations

import subprocess

import pandas as pd
import panel as pn
import pytest
from helpers import snapshot

from workbench.apps.data_versions import DataVersionsPage
from workbench.config import WorkbenchConfig
from workbench.sources.dvc_build import RepoBuilder


def _alerts(page: DataVersionsPage) -> list[str]:
    """The page's own alerts (not those of the "Runs on this data" lineage card, tested elsewhere)."""
    layout = page.__panel__()
    lineage = {id(alert) for card in layout.select(pn.Card) if "wb-version-runs" in card.css_classes
               for alert in card.select(pn.pane.Alert)}
    return [alert.object for alert in layout.select(pn.pane.Alert) if id(alert) not in lineage]


def test_demo_versions_show_eagerly(demo_config, demo_workspace):
    before = {name: snapshot(demo_workspace / name) for name in (".git", ".dvc", "data")}
    page = DataVersionsPage(config=demo_config)
    assert not _alerts(page)
    assert page.dataset == "data/cancer.csv"
    table = page.versions._table.value
    assert {"v1", "v2", "v3", "v4", "v5"} <= set(table["version"])
    assert table["rows"].notna().all()
    assert {name: snapshot(demo_workspace / name) for name in before} == before


@pytest.fixture
def two_datasets(tmp_path):
    builder = RepoBuilder(tmp_path / "repo", remote=False)
    builder.version("a.csv", pd.DataFrame({"x": [1, 2]}), "<script>alert(1)</script>", tag="first")
    builder.version("b.csv", pd.DataFrame({"y": [1, 2, 3]}), "Add b")
    builder.version("b.csv", pd.DataFrame({"y": [1, 2, 3, 4]}), "Grow b")
    builder.close()
    return tmp_path / "repo"


def test_choosing_a_dataset_updates_the_version_list(two_datasets):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(two_datasets)))
    assert page.dataset == "a.csv"
    assert page.versions._table.value["message"].tolist() == ["<script>alert(1)</script>"]
    assert page.versions._table.formatters["message"] == {"type": "plaintext"}
    page._chooser.value = "b.csv"
    assert page.dataset == "b.csv"
    assert page.versions._table.value["message"].tolist() == ["Grow b", "Add b"]


def test_configured_dataset_is_opened_first(two_datasets):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(two_datasets), dvc_path="b.csv"))
    assert page.versions._table.value["rows"].tolist() == [4, 3]


@pytest.mark.parametrize("case, expected", [
    ("missing", "does not exist"),
    ("plain", "not a git repository"),
    ("gitonly", "without DVC"),
    ("empty", "No DVC-tracked data"),
    ("unknown", "not DVC-tracked"),
])
def test_bad_input_shows_an_alert(tmp_path, case, expected):
    repo = tmp_path / case
    path = None
    if case == "plain":
        repo.mkdir()
    elif case == "gitonly":
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=30)
    elif case in ("empty", "unknown"):
        builder = RepoBuilder(repo, remote=False)
        if case == "unknown":
            builder.version("a.csv", pd.DataFrame({"x": [1]}), "Add a")
            path = "b.csv"
        builder.close()
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path=path))
    alerts = _alerts(page)
    assert len(alerts) == 1 and expected in alerts[0]
    assert "How to fix" in alerts[0]


def test_dataset_without_committed_versions_says_so(tmp_path):
    builder = RepoBuilder(tmp_path / "repo", remote=False)
    builder.write("t.csv", pd.DataFrame({"a": [1]}))
    builder.track("t.csv")
    builder.close()
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(tmp_path / "repo")))
    assert page.versions._summary.object == "0 versions"
    assert "no committed version yet" in _alerts(page)[0]
    page.view = "quality"
    assert "no committed version yet" in page._quality_status[0].object


def test_dataset_from_the_url_outside_the_repo_is_refused(two_datasets):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(two_datasets)))
    page.dataset = "../../etc/passwd"  # what ?dv_dataset=../../etc/passwd sets
    alerts = _alerts(page)
    assert len(alerts) == 1 and "outside the repository" in alerts[0]
    assert page.versions._table.value["message"].tolist() == ["<script>alert(1)</script>"]  # still usable
    page.dataset = "b.csv"
    assert not _alerts(page)
