"""Optimisation history: every COMPLETE trial's value and the best-so-far step line, updated in place."""

from __future__ import annotations

import holoviews as hv
import panel as pn
import param
from panel.viewable import Viewer

from workbench.analysis.tuning.history import best_so_far, best_steps
from workbench.views.tuning.common import PLOT_OPTS, message, points, selected_layer
from workbench.views.tuning.live import LivePlot


class HistoryView(Viewer):
    """Value per trial number with the best value so far; ``data`` is a StudyData.

    Box-select points (toolbar) to select trials (``brushed``); ``selected`` trials are ringed.
    """

    data = param.Parameter(doc="The study (StudyData) to plot.")
    objective = param.Integer(default=0, bounds=(0, None), doc="Which objective to plot.")
    log_y = param.Boolean(default=False, doc="Logarithmic value axis.")
    selected = param.List(default=[], doc="Trial numbers highlighted (brushed in any plot).")
    brushed = param.List(default=[], doc="Trial numbers box-selected in this plot.")

    def __init__(self, **params):
        super().__init__(**params)
        self.live = LivePlot(lambda: self._plot(deferred=True), css="wb-tuning-history", select_column="Trial",
                             identity=lambda: getattr(self.data, "name", None), selected=lambda: self.selected)
        self._pane = self.live.pane
        self.live.param.watch(lambda event: setattr(self, "brushed", event.new), "selection")
        self._log = pn.widgets.Checkbox.from_param(self.param.log_y, name="Log scale")

    @param.depends("data", "selected", watch=True)
    def _update(self) -> None:
        self.live.update()

    @param.depends("objective", "log_y", watch=True)
    def _refresh(self) -> None:
        self.live.rebuild()

    def _plot(self, deferred: bool = False) -> hv.Element:
        """The plot; ``deferred``: beyond the point budget the points stay a scatter for LivePlot to shade."""
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
        scatter = points(values, "Trial", name, label="Objective value", vdims=(name,), deferred=deferred)
        best = hv.Curve(steps, "Trial", name, label="Best value").opts(
            interpolation="steps-post", color="#d62728", line_width=2)
        return (scatter * best * selected_layer(values, "Trial", name, self.selected)).opts(
            **PLOT_OPTS, logy=self.log_y, legend_position="top_right", title=f"Optimisation history — {data.name}")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._log, self._pane, sizing_mode="stretch_width")
