"""Static HTML report of the shown study: summary, history, the plot tab shown, best trial, trials table."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd
import panel as pn

from workbench.views.share import static_html, table_html
from workbench.views.tuning import plots
from workbench.views.tuning.summary import study_summary_html
from workbench.views.tuning.trials_table import display_frame

if TYPE_CHECKING:
    from workbench.views.tuning.dashboard import TuningDashboard

MAX_TRIALS = 500  # rows of the trials table in the report (best first)

# Plot tab title → how to draw it from the StudyPlots' current choices.
PLOT_TABS = {
    "Intermediate values": lambda p: plots.intermediate_plot(p.data),
    "Parallel coordinates": lambda p: plots.parallel_plot(p.data, p.objective),
    "Slice": lambda p: plots.slice_plot(p.data, p.slice_param, p.objective),
    "Contour": lambda p: plots.contour_plot(p.data, p.x, p.y, p.objective),
    "EDF": lambda p: plots.edf_plot([p.data]),
    "Rank": lambda p: plots.rank_plot(p.data, p.x, p.y, p.objective),
    "Importance": lambda p: plots.importance_plot(p.data, p.evaluator, p.objective),
    "Timeline": lambda p: plots.timeline_plot(p.data),
    "Pareto front": lambda p: plots.pareto_plot(p.data, p.pareto_x, p.pareto_y),
}


def best_trials(data) -> pd.DataFrame:
    """Completed trials, best first (first objective), at most MAX_TRIALS."""
    trials = data.trials
    if trials.empty:
        return trials
    done = trials[trials["state"] == "COMPLETE"]
    column = data.value_columns[0]
    if column in done:
        done = done.sort_values(column, ascending=data.directions[0] != "maximize", kind="stable")
    return done.head(MAX_TRIALS)


def tuning_report(dashboard: TuningDashboard) -> str:
    """A self-contained HTML page (inline JS, no server, no network) of what the Tuning dashboard shows."""
    data = dashboard.data
    title = f"Study {data.name}" if data is not None else "Tuning"
    parts: list = [pn.pane.HTML(f"<h1>{html.escape(title)}</h1>", sizing_mode="stretch_width")]
    if data is None:
        parts.append(pn.pane.HTML("<p>No study loaded.</p>"))
    else:
        parts.append(pn.pane.HTML(f"<p>{study_summary_html(data)}</p>", sizing_mode="stretch_width"))
        parts.append(pn.pane.HoloViews(dashboard.history._plot(), sizing_mode="stretch_width", min_height=340,
                                       linked_axes=False))
        draw = PLOT_TABS.get(dashboard.plot)
        if draw is not None:
            parts += [pn.pane.HTML(f"<h2>{html.escape(dashboard.plot)}</h2>"),
                      pn.pane.HoloViews(draw(dashboard.plots), sizing_mode="stretch_width", min_height=340,
                                        linked_axes=False)]
        detail = dashboard.table.detail_of
        if detail is not None and detail in set(data.trials["number"]):
            row = display_frame(data.trials[data.trials["number"] == detail])
            parts += [pn.pane.HTML(f"<h2>Trial {int(detail)}</h2>"
                                   + table_html(row.T.reset_index().set_axis(["field", "value"], axis=1),
                                                "wb-report-trial"), sizing_mode="stretch_width")]
        best = display_frame(best_trials(data))
        parts.append(pn.pane.HTML(f"<h2>Completed trials, best first ({len(best):,} shown)</h2>"
                                  + table_html(best, "wb-report-trials"), sizing_mode="stretch_width"))
    return static_html(parts, title)
