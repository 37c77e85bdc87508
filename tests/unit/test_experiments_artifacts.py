"""Run artifacts through MlflowSource: listing, capped reads, containment, models never opened, previews."""

from __future__ import annotations

import json
import os
from pathlib import Path

import panel as pn
import pytest
from helpers import snapshot
from mlflow import MlflowClient

from workbench.errors import NotFound, UntrustedOperation
from workbench.sources.mlflow import MlflowSource
from workbench.views.experiments.artifacts import ArtifactBrowser, preview_kind, render_preview

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, str, Path]:
    root = tmp_path_factory.mktemp("artifacts")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("art", artifact_location=str(root / "mlartifacts"))
    run_id = client.create_run(experiment_id, run_name="with-files").info.run_id
    files = root / "upload"
    (files / "plots").mkdir(parents=True)
    (files / "plots" / "roc.png").write_bytes(PNG)
    (files / "metrics.json").write_text(json.dumps({"acc": 0.9, "name": "<script>alert(1)</script>"}))
    (files / "table.csv").write_text("a,b\n1,<b>x</b>\n2,y\n")
    (files / "report.html").write_text("<h1>hi</h1><script>window.pwned=1</script>")
    (files / "big.txt").write_text("x" * 5000)
    (files / "model.pkl").write_bytes(b"\x80\x04not really a pickle")
    client.log_artifacts(run_id, str(files))
    client.set_terminated(run_id)
    outside = root / "secret.txt"
    outside.write_text("secret")
    artifact_dir = root / "mlartifacts" / run_id / "artifacts"
    os.symlink(outside, artifact_dir / "escape.txt")
    return uri, run_id, root


@pytest.fixture
def source(store) -> MlflowSource:
    source = MlflowSource(store[0])
    source.runs()
    return source


def test_listing(source: MlflowSource, store) -> None:
    entries = source.list_artifacts(store[1])
    assert entries["path"].tolist() == ["plots", "big.txt", "metrics.json", "model.pkl", "report.html", "table.csv"]
    assert entries.iloc[0]["is_dir"] and entries.set_index("path").loc["big.txt", "size"] == 5000
    assert source.list_artifacts(store[1], "plots")["path"].tolist() == ["plots/roc.png"]


def test_capped_read(source: MlflowSource, store) -> None:
    content = source.read_artifact(store[1], "big.txt", max_bytes=100)
    assert content.data == b"x" * 100 and content.size == 5000 and content.truncated
    assert source.read_artifact(store[1], "plots/roc.png").data == PNG


@pytest.mark.parametrize("path", ["../../../secret.txt", "/etc/passwd", "plots/../../x", "escape.txt",
                                  "%2e%2e/%2e%2e/secret.txt"])
def test_containment(source: MlflowSource, store, path: str) -> None:
    with pytest.raises(NotFound):
        source.read_artifact(store[1], path)


def test_models_are_never_opened(source: MlflowSource, store) -> None:
    with pytest.raises(UntrustedOperation) as info:
        source.read_artifact(store[1], "model.pkl")
    assert info.value.hint


def test_store_untouched(store) -> None:
    before = snapshot(store[2])
    source = MlflowSource(store[0])
    source.runs()
    source.list_artifacts(store[1])
    source.read_artifact(store[1], "metrics.json")
    assert snapshot(store[2]) == before


def test_preview_kinds() -> None:
    assert [preview_kind(p) for p in ["a.png", "a.svg", "a.json", "a.csv", "a.html", "a.log", "a.bin"]] == [
        "image", "svg", "json", "table", "html", "text", "binary"]


def test_html_preview_is_sandboxed() -> None:
    pane = render_preview("report.html", b"<script>window.pwned=1</script>", truncated=False)[0]
    assert 'sandbox=""' in pane.object and "<script>" not in pane.object


def test_csv_preview_is_plain_text() -> None:
    table = render_preview("table.csv", b"a,b\n1,<b>x</b>\n", truncated=False)[0]
    assert isinstance(table, pn.widgets.Tabulator) and table.value.iloc[0]["b"] == "<b>x</b>"
    assert all(f == {"type": "plaintext"} for f in table.formatters.values())


def test_browser_navigates_and_previews(source: MlflowSource, store) -> None:
    browser = ArtifactBrowser(source=source, runs=source.runs())
    assert browser.run_id == store[1]
    options = browser._entries.options
    browser._entries.value = options["📁 plots/"]
    assert browser.folder == "plots"
    browser._entries.value = next(v for k, v in browser._entries.options.items() if k.startswith("roc.png"))
    assert isinstance(browser._preview[0][0], pn.pane.PNG)
    browser.folder = ""
    browser._entries.value = next(v for k, v in browser._entries.options.items() if k.startswith("model.pkl"))
    assert isinstance(browser._preview[0], pn.pane.Alert) and "does not open models" in browser._preview[0].object
