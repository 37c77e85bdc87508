"""One line about a study: directions, trials by state, best value — as escaped text."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from workbench.analysis.tuning.history import best_trial_number


def study_summary_html(data, studies: pd.DataFrame | None = None) -> str:
    """Summary HTML of a StudyData; every user-provided string is escaped."""
    trials = data.trials
    counts = trials["state"].value_counts() if len(trials) else pd.Series(dtype=int)
    parts = [f"<b>{html.escape(data.name)}</b>", html.escape(" / ".join(data.directions)),
             f"{len(trials):,} trials"]
    parts += [f"{html.escape(state.lower())}: {int(n):,}" for state, n in counts.items()]
    if not data.is_multi_objective:
        best = best_trial_number(trials, "value", data.directions[0])
        if best is not None:
            value = float(trials.loc[trials["number"] == best, "value"].iloc[0])
            parts.append(f"best value <b class='wb-best-value'>{value:.6g}</b> (trial {best})")
    elif len(trials):
        parts.append(f"{len(data.directions)} objectives")
    if len(trials) and np.all(trials["state"].isin(["FAIL"])):
        parts.append("<i>all trials failed</i>")
    return " · ".join(parts)
