"""Artifacts of a run: a folder listing and safe previews (images, text, JSON, CSV, sandboxed HTML).

Nothing from an artifact is ever executed: text renders as text, HTML goes into an iframe with an
empty ``sandbox`` (no scripts, no same-origin), SVG is shown through ``<img>`` (scripts do not run
there), models are listed but never opened.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import PurePosixPath

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from workbench.errors import WorkbenchError
from workbench.views.alert import error_alert, info_alert

IMAGES = {".png": pn.pane.PNG, ".jpg": pn.pane.JPG, ".jpeg": pn.pane.JPG, ".gif": pn.pane.GIF}
TEXT = {".txt", ".log", ".md", ".yaml", ".yml", ".py", ".toml", ".cfg", ".ini", ".sh", ".r", ".sql", ".xml"}
TABLES = {".csv": ",", ".tsv": "\t"}
PREVIEW_ROWS = 200


def preview_kind(path: str, is_model: bool = False) -> str:
    """image, svg, json, table, html, text, model or binary — from the file name."""
    if is_model:
        return "model"
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGES:
        return "image"
    kinds = {".svg": "svg", ".json": "json", ".html": "html", ".htm": "html"}
    if suffix in kinds:
        return kinds[suffix]
    if suffix in TABLES:
        return "table"
    return "text" if suffix in TEXT or not suffix else "binary"


def render_preview(path: str, data: bytes, truncated: bool) -> pn.viewable.Viewable:
    """A pane showing ``data`` (the first bytes of ``path``) safely."""
    kind = preview_kind(path)
    note = [info_alert(f"Showing the first {len(data):,} bytes only.")] if truncated else []
    if kind == "image" and not truncated:
        pane = IMAGES[PurePosixPath(path).suffix.lower()](io.BytesIO(data), sizing_mode="scale_width", max_width=800)
    elif kind == "svg" and not truncated:
        encoded = base64.b64encode(data).decode("ascii")
        pane = pn.pane.HTML(f'<img alt="{html.escape(path)}" style="max-width:100%" '
                            f'src="data:image/svg+xml;base64,{encoded}">', sizing_mode="stretch_width")
    elif kind == "json" and not truncated:
        try:
            pane = pn.pane.JSON(json.loads(data.decode("utf-8")), depth=2, sizing_mode="stretch_width")
        except (UnicodeDecodeError, json.JSONDecodeError):
            pane = _text(data)
    elif kind == "table":
        try:
            frame = pd.read_csv(io.BytesIO(data), sep=TABLES[PurePosixPath(path).suffix.lower()], nrows=PREVIEW_ROWS,
                                dtype=str, keep_default_na=False, on_bad_lines="skip")
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
            pane = _text(data)
        else:
            pane = pn.widgets.Tabulator(frame, disabled=True, show_index=False, pagination="local", page_size=20,
                                        formatters={c: {"type": "plaintext"} for c in frame.columns},
                                        sizing_mode="stretch_width")
    elif kind == "html":
        text = data.decode("utf-8", errors="replace")
        pane = pn.pane.HTML(f'<iframe sandbox="" referrerpolicy="no-referrer" style="width:100%;height:480px;'
                            f'border:1px solid #ddd" srcdoc="{html.escape(text, quote=True)}"></iframe>',
                            sizing_mode="stretch_width", css_classes=["wb-artifact-html"])
    elif kind in ("text", "json", "svg"):
        pane = _text(data)
    else:
        pane = info_alert(f"{path}: no preview for this file type ({len(data):,}+ bytes).")
    return pn.Column(*note, pane, sizing_mode="stretch_width", css_classes=["wb-artifact-preview"])


def _text(data: bytes) -> pn.pane.Str:
    return pn.pane.Str(data.decode("utf-8", errors="replace"), sizing_mode="stretch_width",
                       styles={"max-height": "480px", "overflow": "auto"})


class ArtifactBrowser(Viewer):
    """Folder listing of one run's artifacts and a preview of the chosen file."""

    source = param.Parameter(doc="An MlflowSource (list_artifacts / read_artifact).")
    runs = param.DataFrame(default=None, allow_None=True, doc="Runs to choose from (run_id, run_name).")
    run_id = param.Selector(default=None, objects=[], allow_None=True, doc="Run whose artifacts are shown.")
    folder = param.String(default="", doc="Folder shown (relative to the run's artifact root).")
    path = param.String(default="", doc="File previewed.")

    def __init__(self, **params):
        super().__init__(**params)
        self._run = pn.widgets.Select(name="Run", sizing_mode="stretch_width")
        self._entries = pn.widgets.Select(name="Artifacts", size=12, sizing_mode="stretch_width",
                                          css_classes=["wb-artifact-list"])
        self._preview = pn.Column(sizing_mode="stretch_width")
        self._run.param.watch(lambda e: setattr(self, "run_id", e.new), "value")
        self._entries.param.watch(self._open, "value")
        self._update_runs()

    @param.depends("runs", watch=True)
    def _update_runs(self) -> None:
        frame = self.runs if self.runs is not None else pd.DataFrame(columns=["run_id", "run_name"])
        options = {f"{name} ({run_id[:7]})": run_id for run_id, name in zip(frame["run_id"], frame["run_name"].fillna(""),
                                                                            strict=True)}
        self.param.run_id.objects = list(options.values())
        self._run.options = options
        if self.run_id not in options.values():
            self.run_id = next(iter(options.values()), None)
        self._run.value = self.run_id

    @param.depends("run_id", watch=True)
    def _run_changed(self) -> None:
        self.folder, self.path = "", ""
        self._list()

    @param.depends("folder", watch=True)
    def _list(self) -> None:
        if self.run_id is None or self.source is None:
            self._entries.options = {}
            return
        try:
            entries = self.source.list_artifacts(self.run_id, self.folder)
        except WorkbenchError as error:
            self._preview[:] = [error_alert(error, context="Artifacts")]
            self._entries.options = {}
            return
        options = {"⬑ ..": f"dir:{PurePosixPath(self.folder).parent}"} if self.folder else {}
        for entry in entries.itertuples():
            name = PurePosixPath(entry.path).name
            label = f"📁 {name}/" if entry.is_dir else f"{name}  ({int(entry.size):,} B)"
            options[label] = f"{'dir' if entry.is_dir else 'file'}:{entry.path}"
        self._entries.options = options
        if not options:
            self._preview[:] = [info_alert("This run has no artifacts.")]

    def _open(self, event) -> None:
        if not event.new:
            return
        kind, _, path = event.new.partition(":")
        if kind == "dir":
            self.folder = "" if path == "." else path
        else:
            self.path = path

    @param.depends("path", watch=True)
    def _show(self) -> None:
        if not self.path:
            self._preview[:] = []
            return
        try:
            content = self.source.read_artifact(self.run_id, self.path)
        except WorkbenchError as error:
            self._preview[:] = [error_alert(error, context="Artifacts")]
            return
        self._preview[:] = [render_preview(self.path, content.data, content.truncated)]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(pn.Column(self._run, self._entries, width=360), self._preview, sizing_mode="stretch_width")
