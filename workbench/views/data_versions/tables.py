"""Tabulator helpers for the Data versions views (plain-text tables come from views/widgets.py)."""

from __future__ import annotations

import pandas as pd

from workbench.views.widgets import PLAIN, plain_formatters, text_table  # noqa: F401 - re-exported


def human_size(size: float | None) -> str:
    """1234567 → '1.2 MB'."""
    if size is None or pd.isna(size):
        return ""
    size = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def value_styler(column: str, styles: dict[str, str]):
    """A Tabulator ``style.apply(..., axis=None)`` function colouring ``column`` by its value."""
    def style(frame: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        if column in frame:
            css[column] = frame[column].map(styles).fillna("")
        return css
    return style
