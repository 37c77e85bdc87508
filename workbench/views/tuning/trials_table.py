"""The trials table: filters, remote pagination (one page on the wire), CSV export and trial detail."""

from __future__ import annotations

import io

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.widgets import text_table

STATES = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"]


def display_frame(trials: pd.DataFrame) -> pd.DataFrame:
    """Trials as shown: no storage ids, durations in seconds, objects as text."""
    if trials.empty:
        return pd.DataFrame({"number": pd.Series(dtype=int), "state": pd.Series(dtype=str)})
    shown = trials.drop(columns=[c for c in ("trial_id",) if c in trials])
    shown = shown.assign(duration=shown["duration"].dt.total_seconds())
    for column in ("datetime_start", "datetime_complete"):
        if column in shown:
            shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                              else str(v))
    return shown.rename(columns={"duration": "duration_s"})


class TrialsTable(Viewer):
    """Trials of a study with a state filter, per-column header filters, CSV export and a detail pane."""

    data = param.Parameter(doc="The study (StudyData).")
    states = param.ListSelector(default=list(STATES), objects=list(STATES), doc="States shown.")
    detail_of = param.Integer(default=None, allow_None=True, doc="Trial number whose detail is shown.")
    selected_trials = param.List(default=[], doc="Trial numbers brushed in a plot: only they are listed.")
    system_attrs = param.Callable(default=None, allow_None=True,
                                  doc="(study name, trial number) → the trial's system attributes, if available.")
    extra = param.Parameter(default=None, doc="A viewable shown under the trial detail (the Tuning page puts the "
                            "MLflow runs of the trial there).")

    def __init__(self, **params):
        super().__init__(**params)
        self._table = text_table(self._frame(), pagination="remote", page_size=25, header_filters=True,
                                 selectable=1, css_classes=["wb-trials-table"], height=520,
                                 frozen_columns=["number"])
        self._table.on_click(self._clicked)
        self._detail = pn.Column(sizing_mode="stretch_width", css_classes=["wb-trial-detail"])
        self._brush_note = pn.pane.Markdown("", css_classes=["wb-trials-brushed"], visible=False)
        self._clear = pn.widgets.Button(name="Show all trials", width=140, visible=False,
                                        css_classes=["wb-trials-clear-selection"])
        self._clear.on_click(lambda event: setattr(self, "selected_trials", []))
        self._download = pn.widgets.FileDownload(callback=self._csv, filename="trials.csv", button_type="default",
                                                 label="Export CSV", width=140, css_classes=["wb-trials-csv"])

    def _frame(self) -> pd.DataFrame:
        if self.data is None:
            return display_frame(pd.DataFrame())
        trials = self.data.trials
        if len(trials):
            keep = trials["state"].isin(self.states)
            if self.selected_trials:
                keep &= trials["number"].isin(self.selected_trials)
            trials = trials[keep]
        return display_frame(trials)

    @param.depends("data", "states", "selected_trials", watch=True)
    def _refresh(self) -> None:
        self._table.value = self._frame()
        self._select_detail_row()
        brushed = bool(self.selected_trials)
        self._brush_note.object = (f"Showing the {len(self.selected_trials)} trials selected in a plot."
                                   if brushed else "")
        self._brush_note.visible = self._clear.visible = brushed

    @param.depends("detail_of", watch=True)
    def _select_detail_row(self) -> None:
        """The row of the trial shown in detail stays selected (also after refreshes and ?tuning_trial=)."""
        numbers = list(self._table.value["number"]) if "number" in self._table.value else []
        selection = [numbers.index(self.detail_of)] if self.detail_of in numbers else []
        if self._table.selection != selection:
            self._table.selection = selection

    def _csv(self) -> io.StringIO:
        """The rows currently shown (state and header filters applied)."""
        buffer = io.StringIO()
        self._table.current_view.to_csv(buffer, index=False)
        buffer.seek(0)
        if self.data is not None:
            self._download.filename = f"{self.data.name}-trials.csv"
        return buffer

    def _clicked(self, event) -> None:
        view = self._table.current_view
        if 0 <= event.row < len(self._table.value):
            self.detail_of = int(self._table.value.iloc[event.row]["number"])
        elif len(view):
            self.detail_of = int(view.iloc[0]["number"])

    @param.depends("detail_of", "data", watch=True)
    def _show_detail(self) -> None:
        if self.detail_of is None or self.data is None:
            self._detail[:] = []
            return
        try:
            extra = self.system_attrs(self.data.name, self.detail_of) if self.system_attrs else None
        except Exception:  # noqa: BLE001 - the detail shows without them
            extra = None
        self._detail[:] = [trial_detail(self.data, self.detail_of, extra)]

    def __panel__(self) -> pn.viewable.Viewable:
        states = pn.widgets.CheckButtonGroup.from_param(self.param.states, name="States")
        return pn.Column(pn.Row(states, self._download, self._clear), self._brush_note, self._table, self._detail,
                         pn.panel(pn.bind(_or_nothing, self.param.extra)), sizing_mode="stretch_width")


def _or_nothing(viewable):
    """``viewable``, or an empty spacer when there is none (a slot filled later)."""
    return viewable if viewable is not None else pn.Spacer(height=0)


def _text(value) -> str:
    """A cell's text: '' for missing values, str() for everything else (lists and dicts included)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    return str(value)


def trial_detail(data, number: int, system_attrs: dict | None = None) -> pn.viewable.Viewable:
    """Params, values, user/system attributes, datetimes, duration and intermediate values of one trial."""
    rows = data.trials[data.trials["number"] == number]
    if rows.empty:
        return pn.pane.Alert(f"Trial {int(number)} is not in this study.", alert_type="warning")
    row = rows.iloc[0]
    items = [("state", row["state"])] + [(c, row[c]) for c in data.value_columns]
    items += [(c, row[c]) for c in data.trials.columns if c.startswith(("params_", "user_attrs_"))]
    items += [(f"system_attrs_{k}", v) for k, v in (system_attrs or {}).items()]
    items += [("datetime_start", row["datetime_start"]), ("datetime_complete", row["datetime_complete"]),
              ("duration", row["duration"])]
    table = pd.DataFrame({"field": [k for k, _ in items], "value": [_text(v) for _, v in items]})
    parts = [pn.pane.Markdown(f"### Trial {int(number)}"), text_table(table, pagination=None, width=600,
                                                                      sizing_mode="fixed")]
    iv = data.intermediate[data.intermediate["number"] == number]
    if len(iv):
        curve = hv.Curve(iv, "step", "value").opts(height=220, responsive=True, title="Intermediate values")
        parts.append(pn.pane.HoloViews(curve, sizing_mode="stretch_width"))
    return pn.Column(*parts, sizing_mode="stretch_width")
