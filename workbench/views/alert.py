"""Friendly alerts for errors: the message and its fix, as text, never a traceback."""

from __future__ import annotations

import html
import logging

import panel as pn

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


def error_alert(error: BaseException, context: str = "") -> pn.pane.Alert:
    """An alert for ``error``; unexpected errors are logged with their traceback and shown briefly."""
    if isinstance(error, WorkbenchError):
        message, hint = error.message, error.hint
    else:
        log.exception("Unexpected error%s", f" in {context}" if context else "", exc_info=error)
        message = f"Something went wrong{f' in {context}' if context else ''}: {type(error).__name__}: {error}"
        hint = "the details are in the server log; please report this if it persists"
    text = f"**{html.escape(message)}**"
    if hint:
        text += f"<br>How to fix: {html.escape(hint)}"
    return pn.pane.Alert(text, alert_type="danger", sizing_mode="stretch_width", css_classes=["wb-error"])


def info_alert(text: str) -> pn.pane.Alert:
    """A neutral notice (e.g. nothing configured yet)."""
    return pn.pane.Alert(html.escape(text), alert_type="info", sizing_mode="stretch_width",
                         css_classes=["wb-info"])
