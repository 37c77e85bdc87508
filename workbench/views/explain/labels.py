"""Short human labels for what an explanation's numbers mean."""

from __future__ import annotations

from workbench.sources.explanations import Explanation

SPACES = {"probability": "probability", "log-odds": "log-odds", "raw": "model output"}


def output_label(explanation: Explanation) -> str:
    """E.g. "log-odds of 'malignant'" or "model output"."""
    space = SPACES.get(explanation.output_space, explanation.output_space)
    if explanation.positive_class is not None:
        return f"{space} of '{explanation.positive_class}'"
    return space
