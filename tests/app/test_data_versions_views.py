"""DataVersionsPage sub-views (preview, compare, quality) and per-item errors, built headless."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import panel as pn
import pytest
from helpers import snapshot

from workbench.apps.data_versions import NO_KEY, DataVersionsPage
from workbench.config import WorkbenchConfig
from workbench.sources.dvc_build import RepoBuilder


def _frame(n: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(int(shift * 10))
    return pd.DataFrame({"id": np.arange(n), "value": rng.normal(shift, 1, n).round(4),
                         "label": rng.choice(["a", "b"], n)})


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("views") / "repo"
    builder = RepoBuilder(root, remote=False)
    builder.version("data/t.csv", _frame(50), "First", tag="v1")
    builder.version("data/t.csv", _frame(60, shift=2.0), "Shifted", tag="v2")
    builder.version("data/t.csv", _frame(60, shift=2.0).assign(value=np.nan), "Lost values", tag="v3")
    builder.version("data/blob.csv", bytes(range(256)) * 10, "A binary file named csv")
    builder.version("data/pics", {"a.png": _png(), "b.txt": b"hello <b>"}, "Pictures")
    builder.close()
    # the cache lost v1's object (e.g. gc); no remote is configured
    cache = root / ".dvc" / "cache" / "files" / "md5"
    v1 = subprocess.run(["git", "show", "v1:data/t.csv.dvc"], cwd=root, capture_output=True, text=True,
                        check=True, timeout=30).stdout
    md5 = v1.split("md5: ")[1].split()[0]
    (cache / md5[:2] / md5[2:]).unlink()
    (root / ".dvc" / "tmp").mkdir(exist_ok=True)
    (root / ".dvc" / "tmp" / "lock").write_text("999999\n")  # stale lock of a dead process
    return root


def _png() -> bytes:
    import base64
    return base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _alerts(viewable) -> list[str]:
    return [alert.object for alert in pn.panel(viewable).select(pn.pane.Alert)]


def test_compare_tab_shows_content_diff_and_drift(repo):
    before = snapshot(repo)
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path="data/t.csv"))
    assert page.versions._table.value["stored"].tolist() == ["cache", "cache", "missing"]
    assert page.compare_view.comparison is None  # not computed until opened
    page.view = "compare"
    comparison = page.compare_view.comparison
    assert page.compare_view.title == "v2 → v3"
    assert comparison.rows.key == "id" and comparison.rows.changed == 60
    assert comparison.drift.iloc[0]["column"] == "value"
    page.key = NO_KEY
    assert page.compare_view.comparison.rows.method == "row-hash"
    assert snapshot(repo) == before


def test_missing_cache_is_a_per_item_error(repo):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path="data/t.csv"))
    v1 = page.history.set_index("tags").loc["v1", "commit"]
    page.version = v1
    alerts = _alerts(page._preview_status)
    assert len(alerts) == 1 and "no default remote" in alerts[0]
    page.versions._table.selection = [1, 2]  # v2 and v1 → compare v1 → v2
    assert (page.before, page.after) == (v1, page.history.set_index("tags").loc["v2", "commit"])
    page.view = "compare"
    assert "no default remote" in _alerts(page._compare_status)[0]
    page.version = page.history.loc[0, "commit"]
    assert not _alerts(page._preview_status) and page.preview.preview.kind == "table"


def test_quality_tab_checks_and_trend(repo):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path="data/t.csv"))
    page.view = "quality"
    checks = page.quality_view.checks
    assert checks.set_index(["check", "column"]).loc[("unique key", "id"), "status"] == "pass"
    assert checks.set_index(["check", "column"]).loc[("nulls", "value"), "status"] == "fail"
    trend = page.quality_view.trend
    assert trend[(trend["metric"] == "null rate") & (trend["column"] == "value")]["value"].tolist() == [0.0, 1.0]
    assert "v1" in _alerts(page._quality_status)[0]  # left out of the trend, not fatal


def test_binary_file_and_directory_and_image(repo):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path="data/blob.csv"))
    assert "binary file" in _alerts(page._preview_status)[0]
    page.dataset = "data/pics"
    assert page.preview.preview.kind == "files"
    assert page.preview.preview.table["relpath"].tolist() == ["a.png", "b.txt"]
    assert page._member_select.visible and page._member_select.options == ["", "a.png", "b.txt"]
    page._member_select.value = "a.png"
    assert page._member_preview.preview.kind == "image"
    assert page._member_preview.__panel__().select(pn.pane.Image)
    page._member_select.value = "b.txt"
    assert page._member_preview.preview.text == "hello <b>"
    image = page.source.preview("data/pics", "HEAD", member="a.png")
    assert image.kind == "image" and image.data.startswith(b"\x89PNG")
    text = page.source.preview("data/pics", "HEAD", member="b.txt")
    assert text.kind == "text" and text.text == "hello <b>"


def test_stale_lock_is_left_alone(repo):
    DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo)))
    assert (repo / ".dvc" / "tmp" / "lock").read_text() == "999999\n"


def test_outputs_and_params_tabs(repo):
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(repo), dvc_path="data/t.csv"))
    page.view = "outputs"
    tables = [t for t in page._outputs_holder if isinstance(t, pn.widgets.Tabulator)]
    assert tables[0].value["path"].tolist() == ["data/blob.csv", "data/pics", "data/t.csv"]
    assert set(tables[1].value["status"]) >= {"unchanged"}
    assert {"main", "v1", "v2", "v3"} <= set(page._ref_select.options)
    page._ref_select.value = "v1"
    assert page._rev_input.value == "v1"
    tables = [t for t in page._outputs_holder if isinstance(t, pn.widgets.Tabulator)]
    assert tables[0].value["path"].tolist() == ["data/t.csv"]
    page._rev_input.value = "no-such-tag"
    assert "does not exist" in _alerts(page._outputs_holder)[0]
    page.view = "params"
    assert "No params.yaml" in _alerts(page._params_panel)[0]


@pytest.mark.parametrize("read_only", [True, False])
def test_fetch_into_the_cache_only_on_request_and_never_read_only(tmp_path, read_only):
    root = tmp_path / "repo"
    builder = RepoBuilder(root)
    builder.version("t.csv", _frame(5), "one")
    builder.version("d", {"a.txt": b"a", "b.txt": b"b"}, "dir")
    builder.push()
    builder.close()
    import shutil
    shutil.rmtree(root / ".dvc" / "cache")
    before = snapshot(root)
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(root), dvc_path="t.csv", read_only=read_only))
    assert page.versions._table.value["stored"].tolist() == ["remote"]
    assert page._fetch_button.visible and page._fetch_button.disabled == read_only
    assert snapshot(root) == before  # browsing read from the remote, wrote nothing
    page._fetch_button.clicks += 1
    if read_only:
        assert snapshot(root) == before
        return
    assert page.versions._table.value["stored"].tolist() == ["cache"] and not page._fetch_button.visible
    after = snapshot(root)
    added = {name for name in after if name not in before}
    assert added and all(name.startswith(".dvc/cache/files/md5/") for name in added)
    assert {k: v for k, v in after.items() if k not in added} == before
    page.source.fetch("d", "HEAD")
    assert page.source.availability(page.source.history("d"), check_remote=False) == ["cache"]
    assert len(page.source.files("d", "HEAD")) == 2


def test_params_tab_lists_values_per_commit(tmp_path):
    builder = RepoBuilder(tmp_path / "repo", remote=False)
    builder.version("t.csv", _frame(3), "data")
    builder.write("params.yaml", "model:\n  name: '<b>gb</b>'\n  lr: 0.1\n")
    builder.commit("Params", tag="p1")
    builder.write("params.yaml", "model:\n  name: '<b>gb</b>'\n  lr: 0.2\n")
    builder.commit("Lower lr")
    builder.close()
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(tmp_path / "repo")))
    page.view = "params"
    table = next(t for t in page._params_panel if isinstance(t, pn.widgets.Tabulator))
    assert table.value["params.yaml:model.lr"].tolist() == ["0.2", "0.1"]
    assert table.value["message"].tolist() == ["Lower lr", "Params"]
    assert table.formatters["params.yaml:model.name"] == {"type": "plaintext"}
