"""The study's plots in tabs, each with its own controls; new trials update them in place."""

from __future__ import annotations

from functools import partial

import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.tuning import plots
from workbench.views.tuning.common import message
from workbench.views.tuning.live import LivePlot

UPDATE_IN_PLACE = ("data", "selected")  # other inputs (parameter, objective...) redraw the plot


def _pareto(data, i: int, j: int):
    """The Pareto plot (kept while a single-objective study is shown: it then says so)."""
    return plots.pareto_plot(data, i, j) if data.is_multi_objective else message("Single-objective study")


def _served() -> bool:
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


def _lazy(title: str, make, made: dict) -> pn.viewable.Viewable:
    """A holder that makes its content (plot, widgets) only when the browser first renders it."""
    made[title] = pn.param.ParamFunction(make, lazy=True, defer_load=False, loading_indicator=False,
                                         sizing_mode="stretch_width")
    return made[title]


class StudyPlots(Viewer):
    """Intermediate values, parallel coordinates, slice, contour, EDF, rank, importance, timeline, Pareto."""

    data = param.Parameter(doc="The study (StudyData) to plot.")
    objective = param.Selector(default=0, objects=[0], doc="Objective plotted (multi-objective studies).")
    slice_param = param.Selector(default=None, objects=[], doc="Parameter of the slice plot.")
    x = param.Selector(default=None, objects=[], doc="Horizontal parameter of the contour and rank plots.")
    y = param.Selector(default=None, objects=[], doc="Vertical parameter of the contour and rank plots.")
    evaluator = param.Selector(default="ped-anova", objects=["ped-anova", "fanova", "mean-decrease-impurity"],
                               doc="Importance evaluator (PED-ANOVA is fast; fANOVA on request).")
    pareto_x = param.Selector(default=0, objects=[0], doc="Objective on the Pareto plot's x axis.")
    pareto_y = param.Selector(default=0, objects=[0], doc="Objective on the Pareto plot's y axis.")
    selected = param.List(default=[], doc="Trial numbers brushed in any plot: ringed (slice), kept (parallel).")
    brushed = param.List(default=[], doc="Trial numbers box-selected in the slice plot.")

    def __init__(self, **params):
        super().__init__(**params)
        self._sync_choices()
        self._live: dict[str, LivePlot] = {}
        self._made: dict[str, pn.viewable.Viewable] = {}  # served: each tab's lazy holder, made once

    @param.depends("data", watch=True)
    def _sync_choices(self) -> None:
        data = self.data
        if data is None:
            return
        names = data.param_names
        objectives = list(range(len(data.directions)))
        with param.parameterized.batch_call_watchers(self):
            for name in ("objective", "pareto_x", "pareto_y"):
                self.param[name].objects = objectives
            self.objective = self.objective if self.objective in objectives else 0
            self.pareto_x = self.pareto_x if self.pareto_x in objectives else 0
            self.pareto_y = self.pareto_y if self.pareto_y in objectives else min(1, len(objectives) - 1)
            if self.pareto_x == self.pareto_y and len(objectives) > 1:
                self.pareto_y = next(o for o in objectives if o != self.pareto_x)
            for name, default in (("slice_param", 0), ("x", 0), ("y", 1)):
                self.param[name].objects = names
                if getattr(self, name) not in names:
                    setattr(self, name, names[min(default, len(names) - 1)] if names else None)
            if self.x == self.y and len(names) > 1:
                self.y = next(n for n in names if n != self.x)

    def _plot(self, title: str, fn, *names: str, css: str, select_column: str | None = None) -> LivePlot:
        """The tab's LivePlot of ``fn(data, *params named)`` (made once, then kept up to date)."""
        if title in self._live:
            return self._live[title]

        def build():
            if self.data is None:
                return message("No study loaded")
            return fn(self.data, *[getattr(self, n) for n in names])

        live = self._live[title] = LivePlot(build, css=css, select_column=select_column,
                                            identity=lambda: getattr(self.data, "name", None),
                                            selected=lambda: self.selected)
        inputs = ["data", *names]
        self.param.watch(lambda *events: live.update(), [n for n in inputs if n in UPDATE_IN_PLACE])
        if any(n not in UPDATE_IN_PLACE for n in inputs):
            self.param.watch(lambda *events: live.rebuild(), [n for n in inputs if n not in UPDATE_IN_PLACE])
        if select_column:
            live.param.watch(lambda event: setattr(self, "brushed", event.new), "selection")
        return live

    def _widgets(self, *names: str) -> pn.Row:
        return pn.Row(*[pn.widgets.Select.from_param(self.param[n], width=220) for n in names])

    def tabs(self) -> list[tuple[str, pn.viewable.Viewable]]:
        """(title, content) of each plot tab; in a served session a tab's plot is made when first shown."""
        makers = [
            ("Intermediate values", lambda: self._plot("Intermediate values", plots.intermediate_plot,
                                                       css="wb-tuning-intermediate")),
            ("Parallel coordinates", lambda: pn.Column(self._widgets("objective"), self._plot(
                "Parallel coordinates", lambda d, o, s: plots.parallel_plot(d, o, selected=s), "objective",
                "selected", css="wb-tuning-parallel"))),
            ("Slice", lambda: pn.Column(self._widgets("slice_param", "objective"), self._plot(
                "Slice", partial(plots.slice_plot, deferred=True), "slice_param", "objective", "selected",
                css="wb-tuning-slice",
                select_column="Trial"))),
            ("Contour", lambda: pn.Column(self._widgets("x", "y", "objective"), self._plot(
                "Contour", plots.contour_plot, "x", "y", "objective", css="wb-tuning-contour"))),
            ("EDF", lambda: self._plot("EDF", lambda data: plots.edf_plot([data]), css="wb-tuning-edf")),
            ("Rank", lambda: pn.Column(self._widgets("x", "y", "objective"), self._plot(
                "Rank", plots.rank_plot, "x", "y", "objective", css="wb-tuning-rank"))),
            ("Importance", lambda: pn.Column(self._widgets("evaluator", "objective"), self._plot(
                "Importance", plots.importance_plot, "evaluator", "objective", css="wb-tuning-importance"))),
            ("Timeline", lambda: self._plot("Timeline", plots.timeline_plot, css="wb-tuning-timeline")),
        ]
        if self.data is not None and self.data.is_multi_objective:
            makers.append(("Pareto front", lambda: pn.Column(self._widgets("pareto_x", "pareto_y"), self._plot(
                "Pareto front", _pareto, "pareto_x", "pareto_y", css="wb-tuning-pareto"))))
        if not _served():
            return [(title, make()) for title, make in makers]
        return [(title, self._made.get(title) or _lazy(title, make, self._made)) for title, make in makers]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Tabs(*self.tabs(), dynamic=True, sizing_mode="stretch_width")
