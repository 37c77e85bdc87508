"""Links between the pages: a :class:`Destination` names a page and what to show on it.

A page asks to go somewhere by setting its ``navigate`` param (``PanelPage.go``); the workbench app
(``apps/main.py``) switches the tab and sets the destination page's params. Lineage links
(``sources.lineage.Link``) map to destinations with :func:`link_destination`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from workbench.sources.lineage import Link

# page param → URL parameter, for the params destinations set (a page's own URL state)
URL_KEYS: dict[str, dict[str, str]] = {
    "experiments": {"run": "exp_lineage"},
    "tuning": {"study": "study", "trial": "trial"},
    "data_versions": {"dataset": "dv_dataset", "version": "dv_version", "before": "dv_before", "after": "dv_after",
                      "view": "dv_view"},
    "explain": {},
}
CONFIG_URL_KEYS = {"model": "model"}  # settings a destination rebuilds its page with (Explain's model)


@dataclass(frozen=True)
class Destination:
    """A page (a key of ``apps.main.PAGES``), the params to set on it and settings to rebuild it with."""

    page: str
    params: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The URL parameters that open this destination (``/?tab=<page>&...`` or ``/<page>?...``)."""
        keys = URL_KEYS.get(self.page, {})
        values = {keys[name]: value for name, value in self.params.items() if name in keys and value is not None}
        values.update({CONFIG_URL_KEYS[name]: value for name, value in self.config.items() if name in CONFIG_URL_KEYS})
        return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}

    def url(self, single_page: bool) -> str:
        """``/<page>?...`` (the page served alone) or ``/?tab=<page>&...`` (the whole workbench)."""
        if single_page:
            return f"/{self.page}?{urlencode(self.query())}"
        return f"/?{urlencode({'tab': self.page, **self.query()})}"


def run_destination(run_id: str) -> Destination:
    """Experiments, with the run selected and its lineage shown."""
    return Destination("experiments", {"run": run_id})


def link_destination(link: Link, compared: Link | None = None) -> Destination | None:
    """Where following ``link`` leads; a data link is diffed against ``compared`` (the other run's data)."""
    target = link.target
    if link.kind == "data":
        commit = target.get("commit")
        other = compared.target.get("commit") if compared is not None and compared.ok else None
        if other and other != commit:
            return Destination("data_versions", {"dataset": target.get("path"), "version": commit, "before": other,
                                                 "after": commit, "view": "compare"})
        return Destination("data_versions", {"dataset": target.get("path"), "version": commit, "view": "versions"})
    if link.kind == "trial":
        return Destination("tuning", {"study": target.get("study"), "trial": target.get("number")})
    if link.kind in ("model", "explanation"):
        return Destination("explain", config={"model": target.get("uri")})
    if link.kind == "run":
        return run_destination(str(target.get("run_id")))
    return None
