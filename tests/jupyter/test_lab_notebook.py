"""The notebook API inside JupyterLab: cells render panels inline, offline, and as ipywidgets."""

from __future__ import annotations

import nbformat
import pytest
from test_lab_ui import menu_item

pytestmark = [pytest.mark.jupyter, pytest.mark.ui, pytest.mark.slow]


def test_run_all_renders_the_runs_table_inline(page, lab) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import workbench as wb"),
                      nbformat.v4.new_code_cell("wb.experiments()"),
                      # ipywidgets-based front ends: the same panel as a widget, through jupyter_bokeh
                      nbformat.v4.new_code_cell("import panel as pn\npn.ipywidget(wb.tuning())")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, lab.root / "inline-experiments.ipynb")
    # "Always start the preferred kernel": no kernel picker between opening and running.
    lab.put_settings("@jupyterlab/notebook-extension:tracker", {"autoStartDefaultKernel": True})
    page.goto(f"{lab.url}/lab/tree/inline-experiments.ipynb?reset&token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    page.locator(".jp-Notebook .jp-InputPrompt").first.click()  # the notebook has the focus
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    menu_item(page, "Run All Cells").click()
    page.locator(".jp-Cell").nth(1).locator(".jp-InputPrompt", has_text="[2]").wait_for(timeout=120_000)
    output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea")
    try:
        output.locator(".tabulator-row").first.wait_for(timeout=120_000)
        assert output.get_by_text("cancer-baselines").count() > 0
        assert output.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        widget = page.locator(".jp-Cell").nth(2).locator(".jp-OutputArea")
        page.locator(".jp-Cell").nth(2).locator(".jp-InputPrompt", has_text="[3]").wait_for(timeout=120_000)
        widget.locator("canvas").first.wait_for(timeout=120_000)
        assert widget.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    finally:
        lab.shutdown_kernels()  # free the kernel's memory for the rest of the session
