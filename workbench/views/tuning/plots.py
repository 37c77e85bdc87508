"""HoloViews elements of a study (a StudyData): each sized by pixels or improvements, not by trials."""

from __future__ import annotations

from collections.abc import Sequence

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd

from workbench.analysis.tuning.edf import edf
from workbench.analysis.tuning.grid import best_grid, value_rank
from workbench.analysis.tuning.history import best_so_far, best_steps, completed
from workbench.analysis.tuning.importance import param_importances
from workbench.analysis.tuning.pareto import pareto_front
from workbench.analysis.tuning.timeline import timeline
from workbench.views.parallel_coordinates import parallel_coordinates
from workbench.views.tuning.common import (
    PLOT_OPTS,
    POINT_BUDGET,
    STATE_COLORS,
    message,
    points,
    selected_layer,
)

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
RASTER = (640, 300)
IMPORTANCE_SAMPLE = 20_000  # completed trials evaluated at most (seeded sample beyond): stays interactive
LINE_POINT_BUDGET = 100_000  # a NaN-separated float32 line costs less than a raster up to about here


def _is_log(data, name: str) -> bool:
    dist = data.distributions.get(name)
    return bool(getattr(dist, "log", False))


def _axis(frame: pd.DataFrame, name: str, data, axis: str) -> tuple[pd.DataFrame, str, dict]:
    """Make ``frame[name]`` plottable on ``axis``: categories as text (or jittered codes with ticks
    when rasterised), log parameters on a log axis (or as log10 values when rasterised)."""
    large = len(frame) > POINT_BUDGET
    column = frame[name]
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        labels = column.map(str)
        if not large:
            return frame.assign(**{name: labels}), name, {}
        categories = sorted(labels.unique())
        codes = pd.Categorical(labels, categories=categories).codes.astype(float)
        jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(codes))
        return frame.assign(**{name: codes + jitter}), name, {f"{axis}ticks": list(enumerate(categories))}
    if _is_log(data, name):
        if not large:
            return frame, name, {f"log{axis}": True}
        log_name = f"log10({name})"
        return frame.assign(**{log_name: np.log10(column.astype(float))}), log_name, {}
    return frame, name, {}


def _label(data, objective: int) -> str:
    return "Objective value" if not data.is_multi_objective else data.value_columns[objective]


def _lines_raster(frame: pd.DataFrame, x: str, y: str, color: str) -> hv.Image:
    """NaN-separated lines aggregated into a count image."""
    canvas = ds.Canvas(plot_width=RASTER[0], plot_height=RASTER[1])
    agg = canvas.line(frame, x, y, agg=ds.count())
    xs, ys = agg.coords[x].values, agg.coords[y].values
    return hv.Image((xs, ys, agg.values.astype(np.float32)), [x, y], "trials").opts(
        cmap=["#ffffff", color], cnorm="eq_hist", tools=[], colorbar=False, clipping_colors={"min": "transparent"})


def intermediate_plot(data) -> hv.Element:
    """Learning curves of every trial; pruned trials in orange with an × where they stopped."""
    iv = data.intermediate
    if iv.empty:
        return message("No intermediate values reported")
    layers = []
    for state in ("COMPLETE", "PRUNED", "FAIL", "RUNNING"):
        part = iv[iv["state"] == state]
        if part.empty:
            continue
        # One NaN-separated path per state: a single Bokeh glyph however many trials.
        breaks = np.r_[np.flatnonzero(np.diff(part["number"].to_numpy())) + 1, len(part)]
        xs = np.insert(part["step"].to_numpy(dtype=float), breaks, np.nan)
        ys = np.insert(part["value"].to_numpy(dtype=float), breaks, np.nan)
        lines = pd.DataFrame({"Step": xs.astype(np.float32), "Intermediate value": ys.astype(np.float32)})
        if len(part) > LINE_POINT_BUDGET:
            layers.append(_lines_raster(lines, "Step", "Intermediate value", STATE_COLORS[state]))
        else:
            layers.append(hv.Curve(lines, "Step", "Intermediate value", label=state.title()).opts(
                color=STATE_COLORS[state], line_alpha=0.5, line_width=1))
    last = iv[iv["state"] == "PRUNED"].groupby("number", sort=False).tail(1)
    if len(last):
        marks = last.rename(columns={"step": "Step", "value": "Intermediate value", "number": "Trial"})
        layers.append(points(marks, "Step", "Intermediate value", label="Pruned here", color=STATE_COLORS["PRUNED"],
                             vdims=("Intermediate value", "Trial")).opts(**({"marker": "x", "size": 8}
                                                                          if len(last) <= POINT_BUDGET else {})))
    return hv.Overlay(layers).opts(**PLOT_OPTS, title=f"Intermediate values — {data.name}", legend_position="top_right")


def parallel_plot(data, objective: int = 0, params: Sequence[str] | None = None,
                  selected: Sequence[int] | None = None) -> hv.Element:
    """Parameters of COMPLETE trials (only the ``selected`` ones, if given) and the objective as
    parallel axes, coloured by the objective."""
    column = data.value_columns[objective]
    done = completed(data.trials, column)
    if selected:
        done = done[done["number"].isin(selected)]
    if done.empty:
        return message("No completed trials yet" if not selected else "No completed trial among the selected ones")
    names = list(params) if params else data.param_names
    columns = [f"params_{p}" for p in names if f"params_{p}" in done]
    frame = done[columns + [column]].rename(columns={f"params_{p}": p for p in names})
    dims = [c[len("params_"):] for c in columns] + [column]
    title = f"Parallel coordinates — {data.name}" + (f" ({len(done)} selected trials)" if selected else "")
    return parallel_coordinates(frame, dims, column, log_dimensions=[p for p in names if _is_log(data, p)],
                                title=title)


def slice_plot(data, param: str, objective: int = 0, selected: Sequence[int] | None = None,
               deferred: bool = False) -> hv.Element:
    """Objective against one parameter (COMPLETE trials); ``selected`` trials ringed (``deferred``: see
    ``points``)."""
    column = data.value_columns[objective]
    done = completed(data.trials, column)
    if done.empty or f"params_{param}" not in done:
        return message("No completed trials with this parameter")
    frame = done[["number", f"params_{param}", column]].dropna(subset=[f"params_{param}"])
    frame = frame.rename(columns={f"params_{param}": param, column: _label(data, objective), "number": "Trial"})
    frame, x, opts = _axis(frame, param, data, "x")
    element = points(frame, x, _label(data, objective), vdims=(_label(data, objective), "Trial"), deferred=deferred)
    element = element * selected_layer(frame, x, _label(data, objective), selected)
    return element.opts(**PLOT_OPTS, **opts, title=f"Slice — {param}")


def contour_plot(data, x: str, y: str, objective: int = 0, bins: int = 40) -> hv.Element:
    """Best objective per cell of an x×y grid (a QuadMesh sized by ``bins``, not by trials)."""
    if x == y:
        return message("Choose two different parameters")
    column = data.value_columns[objective]
    if f"params_{x}" not in data.trials or f"params_{y}" not in data.trials:
        return message("Unknown parameter")
    g = best_grid(data.trials.rename(columns={f"params_{x}": "_x", f"params_{y}": "_y"}), "_x", "_y", column,
                  data.directions[objective], bins=bins, log_x=_is_log(data, x), log_y=_is_log(data, y))
    if g["n"] == 0:
        return message("No completed trials with both parameters")
    mesh = hv.QuadMesh((g["x_edges"], g["y_edges"], g["grid"]), [x, y], _label(data, objective)).opts(
        cmap="viridis_r" if data.directions[objective] == "minimize" else "viridis", colorbar=True,
        tools=["hover"], logx=_is_log(data, x) and g["x_labels"] is None,
        logy=_is_log(data, y) and g["y_labels"] is None)
    ticks = {}
    if g["x_labels"] is not None:
        ticks["xticks"] = list(enumerate(g["x_labels"]))
    if g["y_labels"] is not None:
        ticks["yticks"] = list(enumerate(g["y_labels"]))
    return mesh.opts(**PLOT_OPTS, **ticks, title=f"Contour (best per cell) — {x} × {y}")


def edf_plot(studies: Sequence) -> hv.Element:
    """Empirical distribution of objective values of one or more studies (first objective)."""
    curves = []
    for i, data in enumerate(studies):
        table = edf(data.trials, data.value_columns[0]).rename(columns={"value": "Objective value",
                                                                        "probability": "Cumulative probability"})
        curves.append(hv.Curve(table, "Objective value", "Cumulative probability", label=data.name).opts(
            interpolation="steps-post", color=PALETTE[i % len(PALETTE)], line_width=2))
    if not curves or all(len(c) == 0 for c in curves):
        return message("No completed trials yet")
    return hv.Overlay(curves).opts(**PLOT_OPTS, title="Empirical distribution", legend_position="bottom_right")


def history_compare_plot(studies: Sequence) -> hv.Element:
    """Best-so-far curves of several studies overlaid (first objective)."""
    curves = []
    for i, data in enumerate(studies):
        steps = best_steps(best_so_far(data.trials, data.value_columns[0], data.directions[0]))
        steps = steps.rename(columns={"number": "Trial", "best": "Best value"})
        curves.append(hv.Curve(steps, "Trial", "Best value", label=data.name).opts(
            interpolation="steps-post", color=PALETTE[i % len(PALETTE)], line_width=2))
    return hv.Overlay(curves).opts(**PLOT_OPTS, title="Best value so far", legend_position="top_right")


def rank_plot(data, x: str, y: str, objective: int = 0) -> hv.Element:
    """Trials in the x×y plane coloured by the rank of their objective (0 = best)."""
    column = data.value_columns[objective]
    done = completed(data.trials, column)
    if done.empty or f"params_{x}" not in done or f"params_{y}" not in done:
        return message("No completed trials with these parameters")
    frame = pd.DataFrame({x: done[f"params_{x}"].to_numpy(), y: done[f"params_{y}"].to_numpy(),
                          "Rank": value_rank(done[column].to_numpy(), data.directions[objective]),
                          "Trial": done["number"].to_numpy()}).dropna(subset=[x, y]) if x != y else None
    if frame is None:
        return message("Choose two different parameters")
    title = f"Rank — {x} × {y}"
    frame, x, x_opts = _axis(frame, x, data, "x")
    frame, y, y_opts = _axis(frame, y, data, "y")
    if len(frame) > POINT_BUDGET:
        canvas = ds.Canvas(plot_width=RASTER[0], plot_height=RASTER[1])
        agg = canvas.points(frame, x, y, agg=ds.min("Rank"))  # the best rank per pixel
        element = hv.Image((agg.coords[x].values, agg.coords[y].values, agg.values.astype(np.float32)),
                           [x, y], "Rank").opts(cmap="RdYlBu", colorbar=True, tools=[])
    else:
        element = hv.Points(frame, [x, y], ["Rank", "Trial"]).opts(color="Rank", cmap="RdYlBu", colorbar=True,
                                                                   size=5, tools=["hover"])
    return element.opts(**PLOT_OPTS, **x_opts, **y_opts, title=title)


def importance_plot(data, evaluator: str = "ped-anova", objective: int = 0) -> hv.Element:
    """Normalised hyperparameter importances as horizontal bars."""
    series = param_importances(data.trials, data.distributions, data.directions, data.value_columns,
                               objective=objective, evaluator=evaluator, max_trials=IMPORTANCE_SAMPLE)
    if series.empty:
        return message("Importances need at least two completed trials")
    frame = series.rename_axis("Parameter").reset_index().iloc[::-1]
    return hv.Bars(frame, "Parameter", "importance").opts(
        invert_axes=True, **PLOT_OPTS, tools=["hover"], color="#1f77b4",
        title=f"Hyperparameter importance ({evaluator}"
              + (f", on a random sample of {series.attrs['sampled']:,} completed trials)" if series.attrs.get("sampled")
                 else ")"))


def timeline_plot(data) -> hv.Element:
    """Every trial from start to end, coloured by state; rasterised beyond the point budget."""
    table = timeline(data.trials)
    if table.empty:
        return message("No trials yet")
    layers = []
    for state, part in table.groupby("state", sort=False):
        if len(part) > POINT_BUDGET:
            frame = pd.DataFrame({"start": part["start"].astype("int64").to_numpy() / 1e6,
                                  "end": part["end"].astype("int64").to_numpy() / 1e6,
                                  "n": part["number"].to_numpy(dtype=float)})
            canvas = ds.Canvas(plot_width=RASTER[0], plot_height=RASTER[1])
            agg = canvas.line(frame, x=["start", "end"], y=["n", "n"], axis=1, agg=ds.count())
            xs = pd.to_datetime(agg.coords["x"].values * 1e6).to_numpy()
            layers.append(hv.Image((xs, agg.coords["y"].values, agg.values.astype(np.float32)),
                                   ["Time", "Trial"], "trials").opts(
                cmap=["#ffffff", STATE_COLORS.get(state, "#333")], tools=[], clipping_colors={"min": "transparent"}))
        else:
            segments = part.rename(columns={"start": "Time", "end": "End", "number": "Trial"})
            segments["Trial2"] = segments["Trial"]
            layers.append(hv.Segments(segments, ["Time", "Trial", "End", "Trial2"], label=state.title()).opts(
                color=STATE_COLORS.get(state, "#333"), line_width=3))
    return hv.Overlay(layers).opts(**PLOT_OPTS, title=f"Timeline (UTC) — {data.name}", legend_position="top_left")


def pareto_plot(data, i: int = 0, j: int = 1) -> hv.Element:
    """All COMPLETE trials in objective space with the Pareto front (as ``study.best_trials``) on top."""
    columns = data.value_columns
    done = data.trials[data.trials["state"] == "COMPLETE"]
    if done.empty:
        return message("No completed trials yet")
    front = pareto_front(data.trials, columns, data.directions)
    a, b = columns[i], columns[j]
    others = done[~done["number"].isin(front["number"])].rename(columns={"number": "Trial"})
    best = front.rename(columns={"number": "Trial"}).sort_values(a)
    cloud = points(others, a, b, label="Trial", color="#9ecae1", vdims=(b, "Trial"))
    mark = hv.Scatter(best, a, [b, "Trial"], label="Pareto front").opts(color="#d62728", size=8, tools=["hover"])
    line = hv.Curve(best, a, b).opts(color="#d62728", line_dash="dashed")
    return (cloud * line * mark).opts(**PLOT_OPTS, title=f"Pareto front — {len(front)} trials",
                                      legend_position="top_right")
