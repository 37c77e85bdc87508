"""Widgets that keep user-controlled strings inert.

Two Bokeh/Panel widgets render strings from the data as HTML: MultiChoice option labels (Choices.js is
built with ``allowHTML: true``) and Tabulator column titles (cells are safe only with the ``plaintext``
formatter). Run, experiment, study, column and file names come from whoever can write to a store, so
every such label is escaped here and every value stays raw.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd
import panel as pn

PLAIN = {"type": "plaintext"}


def safe_options(values: Iterable[object]) -> dict[str, object]:
    """``{escaped label: value}`` for MultiChoice-like widgets, in the order given."""
    return {html.escape(str(value)): value for value in values}


def plain_formatters(frame: pd.DataFrame) -> dict[str, dict]:
    """Tabulator's sanitising ``plaintext`` formatter for every non-numeric column."""
    return {str(column): PLAIN for column in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column])}


def safe_titles(columns: Iterable[object]) -> dict[str, str]:
    """Escaped Tabulator column titles (Tabulator writes titles as HTML)."""
    return {str(column): html.escape(str(column)) for column in columns}


def text_table(frame: pd.DataFrame, **kwargs) -> pn.widgets.Tabulator:
    """A read-only Tabulator that never renders HTML from the data: not in cells, not in titles."""
    options = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width",
               "pagination": "local", "page_size": 20, "layout": "fit_data_table"}
    options.update(kwargs)
    formatters = {**plain_formatters(frame), **options.pop("formatters", {})}
    titles = {**safe_titles(frame.columns), **options.pop("titles", {})}
    return pn.widgets.Tabulator(frame, formatters=formatters, titles=titles, **options)
