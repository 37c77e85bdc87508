"""The Explain page: SHAP explanations of a model, stored (stakeholder mode) or computed live (trusted).

Inputs, in order: a fitted ``model`` + ``X`` (+ ``y``) given directly (the notebook API); else
``config.model`` (``runs:/...`` / ``models:/...``). Stakeholder (default) mode reads the explanation
the run stored and never unpickles anything. Trusted mode loads the logged model: it shows the stored
explanation with the model behind what-if, or explains ``explain_data`` (or a run without a stored
explanation) live. Live explanations are progressive: a sample first, the rest in the background.
"""

from __future__ import annotations

import contextlib
import html
import os
import threading
from dataclasses import replace
from functools import partial

import pandas as pd
import panel as pn
import param

from workbench.apps.base import PanelPage
from workbench.apps.lineage_wiring import explain_header
from workbench.errors import ConfigError, WorkbenchError
from workbench.sources.explanations import Explanation, read_stored_explanation
from workbench.sources.explanations_bounds import worker_memory_bytes
from workbench.sources.explanations_dask import LOCAL, PartitionedJob, is_dask_frame
from workbench.sources.explanations_job import LiveExplanation
from workbench.sources.mlflow import ensure_model_allowed
from workbench.views.alert import error_alert
from workbench.views.explain.beeswarm import BeeswarmChart
from workbench.views.explain.dependence import DependencePlot
from workbench.views.explain.groups import CohortView, DiffView, FairnessView
from workbench.views.explain.importance import ImportanceChart
from workbench.views.explain.labels import output_label
from workbench.views.explain.performance import PerformanceView
from workbench.views.explain.report import report_html
from workbench.views.explain.waterfall import WaterfallChart
from workbench.views.explain.whatif import WhatIf

NO_MODEL_HINT = ("set model = \"runs:/<run id>/model\" in workbench.toml (or --model), or call "
                 "wb.explain(model, X, y) in a notebook")


class ExplainPage(PanelPage):
    """Global importance first; the explanation grows in place while the rest is computed."""

    title = "Explain"
    report_filename = "explanation.html"

    model = param.Parameter(default=None, doc="A fitted estimator to explain live (notebook API).")
    X = param.Parameter(default=None, doc="Rows to explain the model on: a pandas DataFrame, or a Dask DataFrame "
                                          "(larger than memory: explained partition by partition on dask_scheduler).")
    y = param.Parameter(default=None, doc="True targets of X (optional; enables performance views).")
    compare_model = param.Parameter(default=None, doc="A second fitted model to diff against (notebook API).")
    compare_uri = param.String(default="", doc="A second run (runs:/ or models:/) whose stored explanation to diff.")
    explanation = param.ClassSelector(class_=Explanation, allow_None=True, doc="What the views show.")
    other = param.ClassSelector(class_=Explanation, allow_None=True, doc="The explanation compared with (diff).")
    progress = param.Integer(default=100, bounds=(0, 100), doc="Share of the rows explained so far.")
    status = param.String(default="", doc="What is being computed, as plain text.")
    first_rows = param.Integer(default=200, bounds=(1, None), doc="Rows explained before the first screen.")
    dask_scheduler = param.String(default=None, allow_None=True,
                                  doc="Address of a Dask scheduler to explain on (default: $WORKBENCH_DASK_SCHEDULER).")
    budget_seconds = param.Number(default=120.0, bounds=(0, None),
                                  doc="Longest live computation allowed; over it only a sample is explained.")

    def __init__(self, **params):
        self.job: LiveExplanation | None = None
        self._spec = None  # the explainer behind what-if when the model is loaded but not explained live
        params.setdefault("dask_scheduler", os.environ.get("WORKBENCH_DASK_SCHEDULER") or None)
        self.first_shown: Explanation | None = None  # what the first screen showed (a sample when progressive)
        self.importance: ImportanceChart | None = None
        self._doc = None
        self._pending = threading.Event()
        super().__init__(**params)

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> pn.viewable.Viewable:
        self._doc = pn.state.curdoc
        if self.model is not None:
            if self.X is None:
                raise ConfigError("wb.explain needs the rows to explain: X is missing.", "call wb.explain(model, X, y)")
            target = "" if getattr(self.y, "name", None) is None else str(self.y.name)
            if is_dask_frame(self.X):
                self._start_partitioned(target)
            else:
                self._start_live(self.model, self.X, self.y, target=target)
            self.explain_comparison()
        elif self.config.model:
            ensure_model_allowed(self.config, self.config.model)  # per-user access (workbench/access.py)
            if self.config.trusted:
                self._start_trusted()
            else:
                self.explanation = self.first_shown = read_stored_explanation(self.config.tracking_uri,
                                                                              self.config.model)
                self._set_progress(self.explanation)
        else:
            raise ConfigError("No model to explain is configured.", NO_MODEL_HINT)
        layout = self._layout_for()
        lineage = explain_header(self)  # the run and data version explained (issue 10)
        if lineage is not None:
            layout.insert(0, lineage)
        return layout

    def _start_trusted(self) -> None:
        from workbench.sources.models import load_explain_data, load_model

        model = load_model(self.config)
        stored = None
        with contextlib.suppress(WorkbenchError):
            stored = read_stored_explanation(self.config.tracking_uri, self.config.model)
        if stored is not None and not self.config.explain_data and self._use_stored(model, stored):
            return
        target = stored.target if stored is not None else ""
        features = getattr(model, "feature_names_in_", None)
        X, y = load_explain_data(self.config, target=target, features=None if features is None else list(features))
        self._start_live(model, X, y, target=target)

    def _use_stored(self, model, stored: Explanation) -> bool:
        """Show the run's stored explanation (nothing to compute) with the loaded model behind what-if
        and the performance views; False when the stored rows do not fit the model."""
        from workbench.sources.explanations_live import make_spec, predictions, validate_inputs

        try:
            X = validate_inputs(model, stored.features)
        except WorkbenchError:
            return False
        self._spec = make_spec(model, X)
        self.explanation = self.first_shown = replace(
            stored, features=X, predictions=predictions(self._spec, X),
            source=f"{stored.source} · model loaded (trusted)")
        self._set_progress(self.explanation)
        return True

    def _start_live(self, model, X: pd.DataFrame, y, target: str) -> None:
        self._run_job(LiveExplanation(model, X, y=y, cache_dir=self.config.cache_dir or None, first_rows=self.first_rows,
                                      budget_seconds=self.budget_seconds, on_update=self._on_update, target=target,
                                      dask_scheduler=self.dask_scheduler or self.config.dask_scheduler,
                                      worker_memory=worker_memory_bytes(self.config.explain_worker_memory)))

    def _start_partitioned(self, target: str) -> None:
        """A Dask DataFrame: its first rows at once, then every partition on the cluster ("local" when none
        is configured); the views show a sample, the importance covers every row."""
        self._run_job(PartitionedJob(self.model, self.X, self.dask_scheduler or self.config.dask_scheduler or LOCAL,
                                     y=self.y, target=target, first_rows=self.first_rows, on_update=self._on_update,
                                     budget_seconds=self.budget_seconds,
                                     worker_memory=worker_memory_bytes(self.config.explain_worker_memory)))

    def _run_job(self, job) -> None:
        """Show the job's first explanation; the rest comes through ``_on_update``."""
        self.job = job
        served = self._doc is not None and self._doc.session_context is not None
        self.first_shown = self.job.start(background=not served)
        if served:  # the rest starts once the first screen is in the browser
            pn.state.onload(self.job.resume)
            pn.state.on_session_destroyed(lambda context: job.cancel())  # page closed: stop its work
        self.explanation = self.job.latest
        self._set_progress(self.explanation)

    def _layout_for(self) -> pn.viewable.Viewable:
        header = pn.Row(  # the report is exported from the page's share toolbar (apps/base.py)
            pn.pane.Markdown(self._header, sizing_mode="stretch_width", css_classes=["wb-explain-header"]),
            sizing_mode="stretch_width",
        )
        progress = pn.Row(
            pn.indicators.Progress(value=self.param.progress, max=100, width=240, height=18,
                                   visible=self.param.progress.rx() < 100),
            pn.pane.Str(self.param.status, css_classes=["wb-explain-status"]),
            sizing_mode="stretch_width",
        )
        notices = [pn.pane.Str(self._explainer_note(), css_classes=["wb-explain-explainer"])] if self.job else []
        if self._budget_notice():
            everything = pn.widgets.Button(name="Explain all rows anyway", button_type="warning", width=220)
            everything.on_click(lambda event: self.explain_all())
            notices.append(pn.Row(pn.pane.Alert(html.escape(self._budget_notice()), alert_type="warning",
                                                sizing_mode="stretch_width"), everything,
                                  sizing_mode="stretch_width", css_classes=["wb-explain-budget"]))
        return pn.Column(header, progress, *notices, self._views(), sizing_mode="stretch_width",
                         css_classes=["wb-explain"])

    def _views(self) -> pn.Tabs:
        ref = self.param.explanation
        self.importance = ImportanceChart(explanation=ref)
        self.beeswarm = BeeswarmChart(explanation=ref)
        self.dependence = DependencePlot(explanation=ref)
        self.waterfall = WaterfallChart(explanation=ref)
        self.whatif = WhatIf(explanation=ref, row=self.waterfall.param.row, explain_row=self._row_explainer())
        self.performance = PerformanceView(explanation=ref)
        self.cohorts = CohortView(explanation=ref)
        self.fairness = FairnessView(explanation=ref)
        self.diff = DiffView(explanation=ref, other=self.param.other)
        self.dependence.param.watch(lambda event: setattr(self.waterfall, "row", event.new), "selected_row")
        self.beeswarm.param.watch(lambda event: setattr(self.waterfall, "row", event.new), "selected_row")
        compare = pn.widgets.TextInput.from_param(self.param.compare_uri, name="Compare with run (runs:/<id>/model)",
                                                  width=420)
        self._diff_error = pn.Column()
        prediction = pn.Column(self.waterfall, pn.pane.Markdown("#### What if…"), self.whatif,
                               sizing_mode="stretch_width")
        self._tabs = pn.Tabs(
            ("Importance", self.importance), ("Beeswarm", self.beeswarm), ("Dependence", self.dependence),
            ("Prediction", prediction), ("Performance", self.performance), ("Cohorts", self.cohorts),
            ("Fairness", self.fairness), ("Diff", pn.Column(compare, self._diff_error, self.diff)),
            dynamic=True, sizing_mode="stretch_width", css_classes=["wb-explain-tabs"],
        )
        return self._tabs

    def _row_explainer(self):
        """Explains edited rows for what-if (only with the model itself: notebook or trusted mode)."""
        spec = self.job.spec if self.job is not None else self._spec
        if spec is None:
            return None
        from workbench.sources.explanations_live import explain_chunk

        def explain_row(row: pd.DataFrame):
            values, base = explain_chunk(spec, row[list(spec.feature_names)])
            return pd.Series(values[0], index=list(spec.feature_names)), base

        return explain_row

    @param.depends("compare_uri", watch=True)
    def _load_comparison(self) -> None:
        self._diff_error[:] = []
        if not self.compare_uri.strip():
            self.other = None
            return
        try:
            ensure_model_allowed(self.config, self.compare_uri.strip())
            self.other = read_stored_explanation(self.config.tracking_uri, self.compare_uri.strip())
        except WorkbenchError as error:
            self.other = None
            self._diff_error[:] = [error_alert(error, context="Explain")]

    def explain_comparison(self) -> Explanation | None:
        """Explain ``compare_model`` on the same rows (notebook API) and show the diff."""
        if self.compare_model is None or self.job is None:
            return None
        job = LiveExplanation(self.compare_model, self.job.rows, y=self.job.y, cache_dir=self.config.cache_dir or None,
                              first_rows=len(self.job.rows), budget_seconds=float("inf"))
        job.start()
        self.other = job.wait()
        return self.other

    @param.depends("explanation")
    def _header(self) -> str:
        explanation = self.explanation
        if explanation is None:
            return ""
        parts = [f"**{html.escape(explanation.model_type or 'Model')}**",
                 html.escape(explanation.source or ""),
                 f"{len(explanation.values):,} rows × {len(explanation.feature_names)} features",
                 html.escape(f"SHAP values in {output_label(explanation)}")]
        if explanation.target:
            parts.append(html.escape(f"target: {explanation.target}"))
        return " · ".join(part for part in parts if part)

    def _explainer_note(self) -> str:
        """Which explainer runs and what it was estimated to cost (before the bulk of the work)."""
        job = self.job
        kinds = {"tree": "exact tree explainer", "linear": "linear explainer",
                 "permutation": f"model-agnostic permutation explainer on {0 if job.spec.background is None else len(job.spec.background)} background rows"}
        note = f"Explainer: {kinds.get(job.spec.kind, job.spec.kind)}"
        if job.estimate is not None:
            note += f" · estimated {job.estimate.describe()}"
        elif job.latest is not None and "cache" in job.latest.source:
            note += " · reopened from the cache"
        return note

    def explain_all(self) -> None:
        """Lift the time budget and explain every row (the user accepted the estimate)."""
        if self.job is not None:
            self.job.cancel()
        self.budget_seconds = float("inf")
        self.rebuild()

    def _budget_notice(self) -> str:
        job = self.job
        if job is None or not job.sampled or job.estimate is None:
            return ""
        if hasattr(job, "budget_notice"):  # a Dask job words its own (partitions, workers, memory)
            return job.budget_notice()
        return (f"Explaining all {len(job.X):,} rows would take {job.estimate.describe()}, over the budget of "
                f"{self.budget_seconds:g} s or 2 GB: a random sample of {len(job.rows):,} rows is explained instead.")

    def export_html(self) -> str:
        """The current explanation as a self-contained HTML report."""
        if self.explanation is None:
            raise ConfigError("There is no explanation to export yet.", "wait until the page shows one")
        return report_html(self.explanation, title=f"{self.config.title} · explanation")

    def report_html(self) -> str:
        """The share toolbar's report: the current explanation (see ``export_html``)."""
        return self.export_html()

    def url_state(self) -> list:
        """The sub-view, the row explained (waterfall, what-if) and the dependence feature, in the URL."""
        return [(self._tabs, {"active": "explain_view"}), (self.waterfall, {"row": "explain_row"}),
                (self.dependence, {"feature": "explain_feature", "colour_by": "explain_colour"})]

    # -- progress -----------------------------------------------------------------------------------
    def _set_progress(self, explanation: Explanation | None) -> None:
        if explanation is None:
            return
        total = explanation.n_total or len(explanation.values)
        done = len(explanation.values)
        self.progress = min(100, int(100 * done / max(total, 1)))
        self.status = "" if done >= total else f"Explained {done:,} of {total:,} rows — the rest is being computed…"

    def _on_update(self, explanation: Explanation | None, error: Exception | None) -> None:
        """Called from the worker thread: apply on the session's event loop when served.

        Bokeh may run next-tick callbacks out of order, so a callback applies the job's latest
        explanation (which only grows) and at most one is pending at a time.
        """
        if error is None and self._pending.is_set():
            return
        self._pending.set()
        apply = partial(self._apply_update, error)
        doc = self._doc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(apply)
        else:
            apply()

    def _apply_update(self, error: Exception | None) -> None:
        self._pending.clear()
        if error is not None:
            self.status = ""
            self._layout.insert(0, error_alert(error, context="Explain"))
            return
        latest = self.job.latest if self.job is not None else None
        if latest is None or latest is self.explanation:
            return
        with param.parameterized.batch_call_watchers(self):
            self.explanation = latest
            self._set_progress(latest)

    def wait(self, timeout: float | None = 600) -> Explanation | None:
        """Block until the live explanation is complete (tests, scripts); the final explanation."""
        if self.job is not None:
            self.job.wait(timeout)
        return self.explanation
