"""Say so when a link's URL parameters were not applied (an unknown study, a bad tab, a tampered value).

Panel's ``Location.sync`` silently drops a query value its parameter refuses and rewrites the URL with
the current value; a reader of a shared or tampered link would not know what they are looking at.
``refused_parameters`` compares the query the session was opened with against the synced parameters.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import panel as pn

from workbench.errors import NotFound
from workbench.views.alert import error_alert

MAX_SHOWN = 80  # characters of a refused value quoted back to the reader
_CHECKS: weakref.WeakKeyDictionary[Any, Callable[[], None]] = weakref.WeakKeyDictionary()  # document -> check


def opening_query() -> dict[str, str]:
    """The query parameters of the URL this session was opened with (first value of each)."""
    args = pn.state.session_args or {}
    return {key: values[0].decode("utf-8", "replace") for key, values in args.items() if values}


def refused_parameters(query: Mapping[str, str], location: Any) -> dict[str, str]:
    """{URL parameter: value} of the query values that a synced parameter did not take."""
    refused: dict[str, str] = {}
    for obj, mapping, *_ in getattr(location, "_synced", []):
        for name, key in mapping.items():
            if key not in query or name not in obj.param:
                continue
            wanted = query[key]
            current = getattr(obj, name)
            if current is None and wanted in ("", "null"):
                continue
            if wanted == str(current) or _equal(obj.param[name], wanted, current):
                continue
            refused[key] = wanted
    return refused


def _equal(parameter: Any, wanted: str, current: Any) -> bool:
    """Whether the URL text ``wanted`` means the parameter's ``current`` value."""
    for convert in (parameter.deserialize, json.loads):
        try:
            if convert(wanted) == current:
                return True
        except Exception:  # noqa: BLE001, S112 - an undecodable value is simply not equal
            continue
    try:
        return parameter.serialize(current) == wanted
    except Exception:  # noqa: BLE001
        return False


def refused_alert(refused: Mapping[str, str]) -> pn.pane.Alert | None:
    """An alert naming the URL parameters that were not applied (values shown as text), or None."""
    if not refused:
        return None
    parts = [f"{key}={value[:MAX_SHOWN]!r}" for key, value in sorted(refused.items())]
    return error_alert(NotFound(f"This link's {', '.join(parts)} could not be applied: no such item or value here, "
                                "so the page shows its default instead.",
                                "open the item from the page's own lists and copy the link again"))


def report_refused(holder: Any) -> None:
    """Show an alert in ``holder`` for refused URL parameters: now, and again once the browser has loaded
    the page (some views sync their parameters only then). One pane, updated in place."""
    query = opening_query()
    location = pn.state.location
    if not query or location is None:
        return
    notice = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                           css_classes=["wb-url-notice"])  # .wb-error only while shown
    holder.append(notice)

    def check() -> None:
        alert = refused_alert(refused_parameters(query, location))
        if alert is None:
            notice.param.update(visible=False, css_classes=["wb-url-notice"])
        elif notice.object != alert.object or not notice.visible:
            notice.param.update(object=alert.object, visible=True, css_classes=["wb-error", "wb-url-notice"])

    check()
    pn.state.onload(check)
    if pn.state.curdoc is not None:
        _CHECKS[pn.state.curdoc] = check


def recheck_refused() -> None:
    """Check the session's link again: a page built late (after a slow store answered) syncs its
    parameters only then."""
    check = _CHECKS.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    if check is not None:
        check()
