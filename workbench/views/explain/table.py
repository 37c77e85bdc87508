"""Read-only Tabulator tables whose text cells can never render HTML from data."""

from __future__ import annotations

import pandas as pd
import panel as pn


def plain_table(frame: pd.DataFrame, **options) -> pn.widgets.Tabulator:
    """A disabled Tabulator; every text column uses the sanitising ``plaintext`` formatter."""
    formatters = {str(c): {"type": "plaintext"} for c in frame.columns if frame[c].dtype.kind in "OSUT"}
    defaults = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width", "layout": "fit_data_table"}
    return pn.widgets.Tabulator(frame, formatters=formatters, **{**defaults, **options})
