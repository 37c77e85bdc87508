"""The study's plots in tabs, each with its own controls; only the visible tab is rendered."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.tuning import plots
from workbench.views.tuning.common import message


def _pane(fn, *deps, css: str) -> pn.pane.HoloViews:
    def plot(data, *args):
        return message("No study loaded") if data is None else fn(data, *args)

    return pn.pane.HoloViews(pn.bind(plot, *deps), sizing_mode="stretch_width", min_height=340,
                             css_classes=[css], linked_axes=False)


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

    def __init__(self, **params):
        super().__init__(**params)
        self._sync_choices()

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

    def _widgets(self, *names: str) -> pn.Row:
        return pn.Row(*[pn.widgets.Select.from_param(self.param[n], width=220) for n in names])

    def tabs(self) -> list[tuple[str, pn.viewable.Viewable]]:
        """(title, content) of each plot tab."""
        p = self.param
        tabs = [
            ("Intermediate values", _pane(plots.intermediate_plot, p.data, css="wb-tuning-intermediate")),
            ("Parallel coordinates", pn.Column(self._widgets("objective"),
                                               _pane(plots.parallel_plot, p.data, p.objective, css="wb-tuning-parallel"))),
            ("Slice", pn.Column(self._widgets("slice_param", "objective"),
                                _pane(plots.slice_plot, p.data, p.slice_param, p.objective, css="wb-tuning-slice"))),
            ("Contour", pn.Column(self._widgets("x", "y", "objective"),
                                  _pane(plots.contour_plot, p.data, p.x, p.y, p.objective, css="wb-tuning-contour"))),
            ("EDF", _pane(lambda data: plots.edf_plot([data]), p.data, css="wb-tuning-edf")),
            ("Rank", pn.Column(self._widgets("x", "y", "objective"),
                               _pane(plots.rank_plot, p.data, p.x, p.y, p.objective, css="wb-tuning-rank"))),
            ("Importance", pn.Column(self._widgets("evaluator", "objective"),
                                     _pane(plots.importance_plot, p.data, p.evaluator, p.objective,
                                           css="wb-tuning-importance"))),
            ("Timeline", _pane(plots.timeline_plot, p.data, css="wb-tuning-timeline")),
        ]
        if self.data is not None and self.data.is_multi_objective:
            tabs.append(("Pareto front", pn.Column(self._widgets("pareto_x", "pareto_y"),
                                                   _pane(plots.pareto_plot, p.data, p.pareto_x, p.pareto_y,
                                                         css="wb-tuning-pareto"))))
        return tabs

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Tabs(*self.tabs(), dynamic=True, sizing_mode="stretch_width")
