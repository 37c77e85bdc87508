"""Compare studies: best-so-far histories and EDFs overlaid, best params side by side."""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.tuning.history import best_trial_number
from workbench.views.alert import error_alert
from workbench.views.tuning import plots
from workbench.views.widgets import text_table


def best_params_table(studies) -> pd.DataFrame:
    """One row per study: best value, best trial and its params (single-objective studies).

    Study names are cells, never column titles (Tabulator renders titles as HTML).
    """
    rows = []
    for data in studies:
        entry = {"study": data.name, "direction": " / ".join(data.directions), "trials": str(len(data.trials))}
        if data.is_multi_objective:
            rows.append({**entry, "best value": "(multi-objective)"})
            continue
        number = best_trial_number(data.trials, "value", data.directions[0])
        if number is None:
            rows.append({**entry, "best value": "(no completed trial)"})
            continue
        row = data.trials[data.trials["number"] == number].iloc[0]
        entry.update({"best value": f"{row['value']:.6g}", "best trial": str(number)})
        entry.update({p: str(row[f"params_{p}"]) for p in data.param_names if pd.notna(row[f"params_{p}"])})
        rows.append(entry)
    return pd.DataFrame(rows).fillna("")


class CompareStudies(Viewer):
    """Choose studies; their histories and EDFs are overlaid and their best params tabulated."""

    names = param.List(default=[], item_type=str, doc="Studies compared.")

    def __init__(self, load: Callable[[str], object], options: list[str], **params):
        super().__init__(**params)
        self._load = load
        # Choices.js renders option labels as HTML: labels are escaped, values stay the real names.
        self._chooser = pn.widgets.MultiChoice(name="Studies to compare", options={html.escape(o): o for o in options},
                                               value=self.names, sizing_mode="stretch_width",
                                               css_classes=["wb-compare-chooser"])
        self._chooser.link(self, value="names")
        self._body = pn.Column(sizing_mode="stretch_width")
        self._render()

    @param.depends("names", watch=True)
    def _render(self) -> None:
        studies, problems = [], []
        for name in self.names:
            try:
                studies.append(self._load(name))
            except Exception as error:  # noqa: BLE001 - one broken study leaves the rest comparable
                problems.append(error_alert(error, context=f"study {name}"))
        if not studies:
            self._body[:] = [*problems, pn.pane.Markdown("Choose two or more studies to compare.")]
            return
        self._body[:] = [
            *problems,
            pn.pane.HoloViews(plots.history_compare_plot(studies), sizing_mode="stretch_width"),
            pn.pane.HoloViews(plots.edf_plot(studies), sizing_mode="stretch_width"),
            text_table(best_params_table(studies), pagination=None, css_classes=["wb-compare-best"]),
        ]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._chooser, self._body, sizing_mode="stretch_width")
