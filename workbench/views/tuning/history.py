"""Optimisation history: every COMPLETE trial's value and the best-so-far step line, live-updatable."""

from __future__ import annotations

import holoviews as hv
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.tuning.history import best_so_far, best_steps
from workbench.views.tuning.common import PLOT_OPTS, message, points


class HistoryView(Viewer):
    """Value per trial number with the best value so far; ``data`` is a StudyData."""

    data = param.Parameter(doc="The study (StudyData) to plot.")
    objective = param.Integer(default=0, bounds=(0, None), doc="Which objective to plot.")
    log_y = param.Boolean(default=False, doc="Logarithmic value axis.")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HoloViews(self._plot(), sizing_mode="stretch_width", min_height=340,
                                       css_classes=["wb-tuning-history"], linked_axes=False)
        self._log = pn.widgets.Checkbox.from_param(self.param.log_y, name="Log scale")

    @param.depends("data", "objective", "log_y", watch=True)
    def _refresh(self) -> None:
        self._pane.object = self._plot()

    def _plot(self) -> hv.Element:
        data = self.data
        if data is None or data.trials.empty:
            return message("No trials yet")
        objective = min(self.objective, len(data.directions) - 1)
        column = data.value_columns[objective]
        history = best_so_far(data.trials, column, data.directions[objective])
        if history.empty:
            return message("No completed trials yet")
        name = column if len(data.directions) > 1 else "Objective value"
        values = history.rename(columns={"number": "Trial", "value": name})
        steps = best_steps(history).rename(columns={"number": "Trial", "best": name})
        scatter = points(values, "Trial", name, label="Objective value", vdims=(name,))
        best = hv.Curve(steps, "Trial", name, label="Best value").opts(
            interpolation="steps-post", color="#d62728", line_width=2)
        return (scatter * best).opts(**PLOT_OPTS, logy=self.log_y, legend_position="top_right",
                                     title=f"Optimisation history — {data.name}")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._log, self._pane, sizing_mode="stretch_width")
