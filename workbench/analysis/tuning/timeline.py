"""Timeline of trials: start and end of every trial (running ones end now)."""

from __future__ import annotations

import pandas as pd


def timeline(trials: pd.DataFrame, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Columns number, state, start, end for every trial with a start time."""
    if trials.empty:
        return pd.DataFrame({"number": [], "state": [], "start": [], "end": []})
    started = trials[trials["datetime_start"].notna()]
    now = now if now is not None else pd.Timestamp.now(tz="UTC").tz_localize(None)
    end = started["datetime_complete"].fillna(now)
    return pd.DataFrame({"number": started["number"].to_numpy(), "state": started["state"].to_numpy(),
                         "start": started["datetime_start"].to_numpy(), "end": end.to_numpy()})
