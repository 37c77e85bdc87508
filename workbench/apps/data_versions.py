"""The Data versions page (issue 7): dataset chooser, version history, preview, compare, quality."""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param

from workbench.access import allowed
from workbench.analysis.data_versions.compare import compare_tables
from workbench.analysis.data_versions.diff import file_diff, guess_key
from workbench.analysis.data_versions.quality import quality_checks, quality_trend
from workbench.apps.base import PanelPage
from workbench.apps.lineage_wiring import version_runs_section
from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_read import file_format, is_table
from workbench.views.alert import error_alert, info_alert
from workbench.views.data_versions.compare import CompareView
from workbench.views.data_versions.pipeline import outputs_items, params_items, status_items
from workbench.views.data_versions.preview import PreviewView
from workbench.views.data_versions.quality import QualityView
from workbench.views.data_versions.report import data_versions_report
from workbench.views.data_versions.version_list import VersionList
from workbench.views.widgets import text_table

VIEWS = ["versions", "compare", "quality", "outputs", "params"]
TREND_VERSIONS = 20
AUTO_KEY, NO_KEY = "(auto)", "(whole row)"
NO_VERSIONS = "'{}' has no committed version yet: commit its .dvc file (or dvc.lock) to git."
URL_STATE = {"dataset": "dv_dataset", "version": "dv_version", "before": "dv_before", "after": "dv_after",
             "key": "dv_key", "view": "dv_view"}


class DataVersionsPage(PanelPage):
    """Browse, preview, compare and check the versions of the DVC-tracked data in ``config.dvc_repo``."""

    title = "Data versions"
    report_filename = "data-versions.html"

    dataset = param.String(default=None, allow_None=True, doc="The dataset shown (path inside the repo).")
    version = param.String(default=None, allow_None=True, doc="Commit of the version previewed and checked.")
    before = param.String(default=None, allow_None=True, doc="Commit of the older version compared.")
    after = param.String(default=None, allow_None=True, doc="Commit of the newer version compared.")
    key = param.String(default=AUTO_KEY, doc="Key column matching rows in a diff ('(whole row)': hashing).")
    view = param.Selector(objects=VIEWS, default="versions", doc="The sub-tab shown.")
    remote_timeout = param.Number(default=None, allow_None=True, bounds=(0, None), inclusive_bounds=(False, True),
                                  doc="Seconds to wait for the DVC remote (None: the config's dvc_remote_timeout).")

    def __init__(self, **params):
        super().__init__(**params)
        if pn.state.location is not None and pn.state.curdoc is not None and hasattr(self, "_fresh"):
            self._restoring = True  # a link's revisions and key survive its dataset being loaded
            try:
                pn.state.location.sync(self, URL_STATE)
            finally:
                self._restoring = False

    def _build(self) -> pn.viewable.Viewable:
        self.source = DvcSource(self.config.dvc_repo, remote_timeout=self.remote_timeout
                                or self.config.dvc_remote_timeout, allowed_datasets=allowed(self.config, "datasets"))
        self.dataset = self.source.default_dataset(self.dataset or self.config.dvc_path)
        self.history = self._history()
        self.versions = VersionList(history=self.history)
        self.versions.param.watch(self._on_select, "selected")
        self.preview = PreviewView()
        self._member_preview = PreviewView(empty_text="")
        self._fetch_button = pn.widgets.Button(name="Fetch this version into the DVC cache", button_type="primary",
                                               visible=False, css_classes=["wb-dvc-fetch"])
        self._fetch_button.on_click(self._fetch)
        self._member_select = pn.widgets.Select(name="Preview a file of this directory", width=320, visible=False)
        self._member_select.param.watch(self._show_member, "value")
        self.compare_view = CompareView()
        self.quality_view = QualityView()
        self._preview_status = pn.Column(sizing_mode="stretch_width")
        self._compare_status = pn.Column(sizing_mode="stretch_width")
        self._quality_status = pn.Column(sizing_mode="stretch_width")
        self._status = pn.Column(sizing_mode="stretch_width")
        self._outputs_holder = pn.Column(sizing_mode="stretch_width")
        self._params_panel = pn.Column(sizing_mode="stretch_width")
        self._rev_input = pn.widgets.TextInput(name="Revision (branch, tag or commit)", value="HEAD", width=260)
        self._rev_input.param.watch(lambda _: self._show_outputs(), "value")
        self._ref_select = pn.widgets.Select(name="Branches and tags", options=["", *self.source.refs()], width=200)
        self._ref_select.param.watch(lambda event: event.new and setattr(self._rev_input, "value", event.new),
                                     "value")
        self._chooser = pn.widgets.Select(name="Dataset", options=self.source.datasets(),
                                          value=self.dataset, width=320, css_classes=["wb-dataset-chooser"])
        self._chooser.link(self, value="dataset")
        self._before_select = pn.widgets.Select(name="Before", width=260)
        self._after_select = pn.widgets.Select(name="After", width=260)
        self._key_select = pn.widgets.Select(name="Key column", width=200, options=[AUTO_KEY, NO_KEY])
        self._version_select = pn.widgets.Select(name="Version", width=260)
        for widget, name in ((self._before_select, "before"), (self._after_select, "after"),
                             (self._key_select, "key"), (self._version_select, "version")):
            widget.link(self, value=name)
        self._reset_revisions()
        header = pn.pane.HTML(f"<b>Repository</b>: <code>{html.escape(str(self.source.root))}</code>",
                              css_classes=["wb-dvc-repo"], sizing_mode="stretch_width")
        self._tabs = pn.Tabs(
            ("Versions", pn.Column(self.versions, self._preview_status, self._fetch_button, self.preview,
                                   self._member_select,
                                   self._member_preview, sizing_mode="stretch_width")),
            ("Compare", pn.Column(pn.Row(self._before_select, self._after_select, self._key_select),
                                  self._compare_status, self.compare_view, sizing_mode="stretch_width")),
            ("Quality", pn.Column(self._version_select, self._quality_status, self.quality_view,
                                  sizing_mode="stretch_width")),
            ("Outputs & workspace", self._outputs_panel()),
            ("Params & metrics", self._params_panel),
            sizing_mode="stretch_width", css_classes=["wb-data-tabs"], dynamic=False,
        )
        self._tabs.active = VIEWS.index(self.view)
        self._tabs.param.watch(lambda event: setattr(self, "view", VIEWS[event.new]), "active")
        self._fresh: set[str] = set()
        self._show_preview()
        self._refresh_view()
        return pn.Column(header, self._chooser, self._status, self._tabs, version_runs_section(self),
                         sizing_mode="stretch_width")

    def report_html(self) -> str:
        """The version history and the sub-view shown (preview, comparison or quality) as static HTML."""
        self._refresh_view()  # the shown sub-view is computed (it is, unless its inputs just changed)
        return data_versions_report(
            str(self.source.root), self.dataset or "", self.history, self.view, preview=self.preview.preview,
            comparison=self.compare_view.comparison, compare_title=self.compare_view.title,
            checks=self.quality_view.checks, trend=self.quality_view.trend, quality_title=self.quality_view.title)

    # -- data --------------------------------------------------------------------------------------
    def _history(self) -> pd.DataFrame:
        history = self.source.history(self.dataset)
        history["stored"] = self.source.availability(history)
        return history

    def _labels(self) -> dict[str, str]:
        """{label: commit} for the version selectors, newest first."""
        history = self.history[self.history["change"] != "deleted"]
        labels = {}
        for row in history.itertuples():
            name = f"{row.tags or row.short} · {row.date:%Y-%m-%d} · {row.message[:40]}"
            labels[name] = row.commit
        return labels

    def _reset_revisions(self) -> None:
        labels = self._labels()
        commits = list(labels.values())
        linked = {name: getattr(self, name) for name in ("version", "before", "after")}
        for widget in (self._before_select, self._after_select, self._version_select):
            widget.options = labels
        self.version = commits[0] if commits else None
        self.after = commits[0] if commits else None
        self.before = commits[1] if len(commits) > 1 else self.after
        if getattr(self, "_restoring", False):  # opened from a link: keep its revisions that exist here
            self.param.update({name: value for name, value in linked.items() if value in commits})
        else:
            self.key = AUTO_KEY
        self._version_select.value, self._after_select.value = self.version, self.after
        self._before_select.value = self.before
        if self.key in self._key_select.options:
            self._key_select.value = self.key

    # -- reactions ---------------------------------------------------------------------------------
    @param.depends("dataset", watch=True)
    def _load_dataset(self) -> None:
        if not hasattr(self, "versions") or self.dataset is None:
            return
        try:
            self.history = self._history()
        except Exception as error:  # noqa: BLE001 - one dataset failing leaves the page usable
            self._status[:] = [error_alert(error, context=self.title)]
            return
        self._status[:] = []
        self.versions.history = self.history
        if self._chooser.value != self.dataset:
            self._chooser.value = self.dataset
        self._reset_revisions()
        self._fresh.clear()
        self._show_preview()
        self._refresh_view()

    def _on_select(self, event: param.parameterized.Event) -> None:
        chosen = event.new
        if len(chosen) == 1:
            self.version = self._version_select.value = chosen[0]
        elif len(chosen) >= 2:
            order = self.history["commit"].tolist()
            newer, older = sorted(chosen[:2], key=order.index)
            self.after, self.before = newer, older
            self._after_select.value, self._before_select.value = newer, older

    @param.depends("version", watch=True)
    def _on_version(self) -> None:
        if hasattr(self, "_fresh"):
            self._fresh.discard("quality")
            self._show_preview()
            self._refresh_view()

    @param.depends("before", "after", "key", watch=True)
    def _on_pair(self) -> None:
        if hasattr(self, "_fresh"):
            for widget, value in ((self._before_select, self.before), (self._after_select, self.after)):
                if isinstance(widget.options, dict) and value in widget.options.values():  # set from a link
                    widget.value = value
            self._fresh.discard("compare")
            self._refresh_view()

    @param.depends("view", watch=True)
    def _refresh_view(self) -> None:
        """Compute the shown sub-tab if its inputs changed (the others wait until they are opened)."""
        if not hasattr(self, "_fresh"):
            return
        if self._tabs.active != VIEWS.index(self.view):
            self._tabs.active = VIEWS.index(self.view)
        if self.view in self._fresh:
            return
        self._fresh.add(self.view)
        if self.view == "compare":
            self._show_compare()
        elif self.view == "quality":
            self._show_quality()
        elif self.view == "outputs":
            self._show_outputs()
        elif self.view == "params":
            self._show_params()

    # -- sub-views ---------------------------------------------------------------------------------
    def _show_preview(self) -> None:
        self._preview_status[:] = []
        self._member_select.visible = False
        if self.version is None:
            self.preview.preview = None
            self._fetch_button.visible = False
            self._preview_status[:] = [info_alert(NO_VERSIONS.format(self.dataset))]
            return
        stored = self.history.loc[self.history["commit"] == self.version, "stored"]
        self._fetch_button.visible = bool(len(stored)) and stored.iloc[0] == "remote"
        self._fetch_button.disabled = self.config.read_only
        self._fetch_button.description = ("read-only mode: start the workbench with read_only = false to fetch"
                                          if self.config.read_only else "copy it from the DVC remote into .dvc/cache")
        try:
            preview = self.source.preview(self.dataset, self.version)
        except Exception as error:  # noqa: BLE001 - a missing version must not break the page
            self.preview.preview = None
            self._preview_status[:] = [error_alert(error, context="preview")]
            return
        preview.label = f"'{self.dataset}' at {self._label(self.version)}"
        self.preview.preview = preview
        if preview.kind == "files" and preview.table is not None and len(preview.table):
            self._member_select.param.update(options=["", *preview.table["relpath"].astype(str)], value="",
                                             visible=True)

    def _fetch(self, _event=None) -> None:
        """Copy the previewed version from the remote into the cache (only when asked, never read-only)."""
        if self.config.read_only or self.version is None:
            return
        try:
            self.source.fetch(self.dataset, self.version)
        except Exception as error:  # noqa: BLE001
            self._preview_status[:] = [error_alert(error, context="fetch")]
            return
        self.history = self._history()
        self.versions.history = self.history
        self._show_preview()

    def _show_member(self, event: param.parameterized.Event) -> None:
        if not event.new or self.version is None:
            return
        self._preview_status[:] = []
        try:
            self._member_preview.preview = self.source.preview(self.dataset, self.version, member=event.new)
        except Exception as error:  # noqa: BLE001
            self._member_preview.preview = None
            self._preview_status[:] = [error_alert(error, context="preview")]

    def _key(self) -> str | None:
        return "auto" if self.key == AUTO_KEY else None if self.key == NO_KEY else self.key

    def _show_compare(self) -> None:
        self._compare_status[:] = []
        self.compare_view.comparison = None
        if not self.before or not self.after:
            self._compare_status[:] = [info_alert("This dataset has only one version: nothing to compare.")]
            return
        if self.before == self.after:
            self._compare_status[:] = [info_alert("Choose two different versions to compare.")]
            return
        title = f"{self._label(self.before)} → {self._label(self.after)}"
        try:
            if not is_table(file_format(self.dataset)):
                old, new = self.source.files(self.dataset, self.before), self.source.files(self.dataset, self.after)
                self._compare_status[:] = [pn.pane.Str(title, styles={"font-weight": "bold"}),
                                           text_table(file_diff(old, new), css_classes=["wb-file-diff"])]
                return
            old, new = self.source.read(self.dataset, self.before), self.source.read(self.dataset, self.after)
            comparison = compare_tables(old, new, key=self._key())
        except Exception as error:  # noqa: BLE001 - per-item error, the rest stays usable
            self._compare_status[:] = [error_alert(error, context="compare")]
            return
        columns = [AUTO_KEY, NO_KEY, *[c for c in map(str, new.columns) if c in set(map(str, old.columns))]]
        self._key_select.options = columns
        if self.key in columns:
            self._key_select.value = self.key
        self.compare_view.param.update(comparison=comparison, title=title)

    def _show_quality(self) -> None:
        self._quality_status[:] = []
        self.quality_view.checks = None
        if self.version is None:
            self._quality_status[:] = [info_alert(NO_VERSIONS.format(self.dataset))]
            return
        if not is_table(file_format(self.dataset)):
            self._quality_status[:] = [info_alert("Quality checks need a table (CSV, TSV, Parquet or JSON lines).")]
            return
        try:
            frame = self.source.read(self.dataset, self.version)
        except Exception as error:  # noqa: BLE001
            self._quality_status[:] = [error_alert(error, context="quality")]
            return
        versions, skipped = [], []
        for row in self.history.head(TREND_VERSIONS).iloc[::-1].itertuples():
            if row.change == "deleted":
                continue
            try:
                versions.append((row.tags or row.short, self.source.read(self.dataset, row.commit)))
            except Exception:  # noqa: BLE001 - the trend shows the versions that can be read
                skipped.append(row.tags or row.short)
        if skipped:
            self._quality_status[:] = [info_alert(f"Not in the cache or remote, left out of the trend: {', '.join(skipped)}")]
        key = self._key()
        key = guess_key(frame, frame) if key == "auto" else key
        self.quality_view.param.update(checks=quality_checks(frame, key=key),
                                       trend=quality_trend(versions), title=self._label(self.version))

    def _label(self, commit: str) -> str:
        row = self.history[self.history["commit"] == commit]
        if row.empty:
            return commit[:8]
        return row.iloc[0]["tags"] or row.iloc[0]["short"]

    def _outputs_panel(self) -> pn.Column:
        return pn.Column(pn.Row(self._rev_input, self._ref_select), self._outputs_holder, sizing_mode="stretch_width")

    def _show_outputs(self) -> None:
        items: list = []
        rev = self._rev_input.value.strip() or "HEAD"
        try:
            items += outputs_items(rev, self.source.outputs(rev))
        except Exception as error:  # noqa: BLE001 - a bad revision leaves the page usable
            items.append(error_alert(error, context="outputs"))
        try:
            items += status_items(self.source.status())
        except Exception as error:  # noqa: BLE001
            items.append(error_alert(error, context="workspace status"))
        self._outputs_holder[:] = items

    def _show_params(self) -> None:
        try:
            self._params_panel[:] = params_items(self.source.params_history(), self.source.experiments())
        except Exception as error:  # noqa: BLE001
            self._params_panel[:] = [error_alert(error, context="params and metrics")]
