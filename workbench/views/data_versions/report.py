"""Static HTML report of a dataset's versions and of the sub-view shown (preview, compare or quality)."""

from __future__ import annotations

import html

import pandas as pd
import panel as pn

from workbench.views.data_versions.compare import drift_chart
from workbench.views.data_versions.quality import trend_chart
from workbench.views.data_versions.version_list import version_table_frame
from workbench.views.share import static_html, table_html

PREVIEW_ROWS = 50


def _heading(text: str, level: int = 2) -> pn.pane.HTML:
    return pn.pane.HTML(f"<h{level}>{html.escape(text)}</h{level}>", sizing_mode="stretch_width")


def _table(frame: pd.DataFrame, css: str) -> pn.pane.HTML:
    return pn.pane.HTML(table_html(frame, css), sizing_mode="stretch_width")


def preview_parts(preview) -> list:
    """The previewed version's head (tables and file listings; text heads as escaped text)."""
    if preview is None:
        return []
    parts: list = [_heading(f"Preview of {preview.label}")]
    parts += [pn.pane.HTML(f"<p>{html.escape(note)}</p>") for note in preview.notes]
    if preview.table is not None:
        parts.append(_table(preview.table.head(PREVIEW_ROWS), "wb-report-preview"))
    elif preview.text is not None:
        parts.append(pn.pane.HTML(f"<pre>{html.escape(preview.text[:5000])}</pre>", sizing_mode="stretch_width"))
    return parts


def compare_parts(comparison, title: str) -> list:
    """Row counts, schema changes, drift (table + chart) and statistics of a VersionComparison."""
    if comparison is None:
        return []
    rows = comparison.rows
    matched = f"rows matched by key '{rows.key}'" if rows.method == "key" else "rows matched by whole-row hash"
    return [_heading(f"Compare {title}"), pn.pane.HTML(f"<p>{html.escape(matched)}</p>"),
            _table(pd.DataFrame([rows.counts()]), "wb-report-counts"),
            _heading("Schema", 3), _table(comparison.schema, "wb-report-schema"),
            _heading("Drift", 3), _table(comparison.drift.round(4), "wb-report-drift"),
            pn.pane.HoloViews(drift_chart(comparison.drift), sizing_mode="stretch_width"),
            _heading("Statistics before / after", 3), _table(comparison.stats.round(4), "wb-report-stats")]


def quality_parts(checks: pd.DataFrame | None, trend: pd.DataFrame | None, title: str) -> list:
    """Quality checks of one version and the trend over versions."""
    if checks is None:
        return []
    parts = [_heading(f"Quality of {title}"), _table(checks, "wb-report-quality")]
    if trend is not None and len(trend):
        parts.append(pn.pane.HoloViews(trend_chart(trend), sizing_mode="stretch_width"))
    return parts


def data_versions_report(repo: str, dataset: str, history: pd.DataFrame, view: str, preview=None,
                         comparison=None, compare_title: str = "", checks=None, trend=None,
                         quality_title: str = "") -> str:
    """A self-contained HTML page: the dataset's version history plus the sub-view ``view`` shows."""
    title = f"Versions of {dataset}"
    parts: list = [_heading(title, 1), pn.pane.HTML(f"<p>Repository: <code>{html.escape(repo)}</code></p>"),
                   _heading("Version history"), _table(version_table_frame(history), "wb-report-versions")]
    if view == "compare":
        parts += compare_parts(comparison, compare_title)
    elif view == "quality":
        parts += quality_parts(checks, trend, quality_title)
    else:
        parts += preview_parts(preview)
    return static_html(parts, title)
