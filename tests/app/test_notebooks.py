"""Notebooks execute top to bottom, render inline with offline (inline) JavaScript, and never modify the demo."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from helpers import snapshot
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, demo_workspace: Path, tmp_path: Path, monkeypatch) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        f"{path.name} is committed with outputs: strip them"
    monkeypatch.setenv("WORKBENCH_DEMO_DIR", str(demo_workspace))
    before = snapshot(demo_workspace)  # every file but the workbench's own cache
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert snapshot(demo_workspace) == before, f"{path.name} changed files of the demo workspace"
    loaders = [o.data["application/javascript"] for o in outputs if "application/javascript" in o.get("data", {})]
    fetched = [url for js in loaders for url in re.findall(r"const js_urls = \[([^\]]*)\]", js) if url.strip()]
    assert loaders and max(len(js) for js in loaders) > 500_000, "BokehJS/Panel JS was not embedded inline"
    assert fetched == [], f"{path.name} fetches JavaScript from the network ({fetched[:1]}): it must work offline"
    assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) for o in outputs), \
        "no Panel component rendered"
