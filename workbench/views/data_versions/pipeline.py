"""Tables of the Outputs & workspace and Params & metrics sub-tabs (components from frames)."""

from __future__ import annotations

import pandas as pd
import panel as pn

from workbench.views.alert import info_alert
from workbench.views.widgets import text_table


def titled_table(title: str, frame: pd.DataFrame, css_class: str) -> list:
    """A bold caption and a plain-text table."""
    return [pn.pane.Str(title, styles={"font-weight": "bold"}), text_table(frame, css_classes=[css_class])]


def outputs_items(rev: str, outputs: pd.DataFrame) -> list:
    """The outputs tracked at ``rev`` (DvcSource.outputs())."""
    shown = outputs.drop(columns=["hash_name"], errors="ignore").assign(size=outputs["size"].astype("float"))
    return titled_table(f"DVC-tracked outputs at {rev}", shown, "wb-outputs")


def status_items(status: pd.DataFrame) -> list:
    """The workspace status (DvcSource.status())."""
    return titled_table("Workspace status (data and .dvc files vs the last commit)", status, "wb-workspace-status")


def params_items(values: pd.DataFrame, experiments: pd.DataFrame) -> list:
    """Params/metrics per commit (DvcSource.params_history()) and DVC experiments."""
    items: list = []
    if values.empty:
        items.append(info_alert("No params.yaml, metrics.json or dvc.yaml-declared params/metrics files."))
    else:
        shown = values.assign(date=values["date"].dt.strftime("%Y-%m-%d %H:%M")).drop(columns="commit")
        items += titled_table("Params and metrics per commit", shown.astype("string").fillna(""), "wb-params")
    if not experiments.empty:
        items += titled_table(f"DVC experiments ({len(experiments)})", experiments.astype("string").fillna(""),
                              "wb-experiments")
    return items
