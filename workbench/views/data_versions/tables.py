"""Tabulator helpers for the Data versions views: data always rendered as plain text."""

from __future__ import annotations

import pandas as pd
import panel as pn

PLAIN = {"type": "plaintext"}


def plain_formatters(frame: pd.DataFrame) -> dict[str, dict]:
    """Tabulator's sanitising ``plaintext`` formatter for every non-numeric column."""
    return {str(column): PLAIN for column in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column])}


def text_table(frame: pd.DataFrame, **kwargs) -> pn.widgets.Tabulator:
    """A read-only Tabulator whose cells never render HTML from the data."""
    options = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width",
               "pagination": "local", "page_size": 20, "layout": "fit_data_table"}
    options.update(kwargs)
    formatters = {**plain_formatters(frame), **options.pop("formatters", {})}
    return pn.widgets.Tabulator(frame, formatters=formatters, **options)


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
