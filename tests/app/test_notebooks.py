"""Notebooks execute top to bottom and render inline with offline (inline) JavaScript resources."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
CDN_HOSTS = ("cdn.bokeh.org", "cdn.holoviz.org", "cdn.jsdelivr.net", "unpkg.com")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, demo_workspace: Path, tmp_path: Path, monkeypatch) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        f"{path.name} is committed with outputs: strip them"
    monkeypatch.setenv("WORKBENCH_DEMO_DIR", str(demo_workspace))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = json.dumps([o.get("data", {}) for o in outputs])
    assert "application/vnd.holoviews_load.v0+json" in rich or "BokehJS" in rich, "Panel's JS was not loaded inline"
    assert "application/vnd.holoviews_exec.v0+json" in rich, "no Panel component rendered"
    for host in CDN_HOSTS:
        assert host not in rich, f"{path.name} loads JavaScript from {host}: it must work offline"
    assert os.environ["WORKBENCH_DEMO_DIR"] == str(demo_workspace)
