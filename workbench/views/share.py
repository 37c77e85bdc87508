"""The share toolbar of every page: "Copy link" (the URL with the page's full state) and "Export report"."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable

import pandas as pd
import panel as pn
import param
from bokeh.resources import INLINE
from panel.io.resources import CDN_DIST, DIST_DIR
from panel.viewable import Viewer

from workbench.views.alert import error_alert

NOTEBOOK_LINK_NOTE = ("Links that reopen this view come from the served app: run `workbench serve` (or open the "
                      "Workbench tab in JupyterLab) and use Copy link there — its URL holds the view's state.")

# A saved report may load nothing from anywhere: BokehJS and the data are inline.
OFFLINE_POLICY = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline' data:; img-src data: blob:; "
                  "font-src data:; worker-src blob:\">")
PANEL_CDN_FILE = re.compile(re.escape(CDN_DIST) + r"([\w./-]+\.css)(?:\?v=[\w.]+)?")
REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)

# Copies the page URL (Panel keeps every synced parameter in its query string) and shows it in ``out``.
COPY_JS = """
const href = window.location.href;
out.value = href;
out.visible = true;
function fallback() {
  const area = document.createElement('textarea');
  area.value = href;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try { document.execCommand('copy'); } catch (e) { /* the link stays visible to copy by hand */ }
  document.body.removeChild(area);
}
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(href).catch(fallback);
} else {
  fallback();
}
"""


def served() -> bool:
    """Whether this code runs in a server session (browser tab) rather than a notebook or headless."""
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


def table_html(frame: pd.DataFrame, css: str = "wb-report-table", index: bool = False) -> str:
    """A plain HTML table of ``frame`` with every cell and header escaped."""
    return frame.to_html(index=index, escape=True, na_rep="", classes=css, border=0)


def static_html(parts: list, title: str) -> str:
    """``parts`` (Panel objects) saved as one self-contained page: BokehJS inline, no server, no network."""
    buffer = io.StringIO()
    pn.Column(*parts, sizing_mode="stretch_width").save(buffer, resources=INLINE, embed=False, title=title)
    return offline(buffer.getvalue())


def offline(page: str) -> str:
    """``page`` with its remote <link>s (Panel's CDN favicon) removed and a policy forbidding any network use."""
    page = PANEL_CDN_FILE.sub(_inline_css, REMOTE_LINK.sub("", page))
    head = re.search(r"<head[^>]*>", page, re.IGNORECASE)
    if head is None:
        return OFFLINE_POLICY + page
    return page[:head.end()] + OFFLINE_POLICY + page[head.end():]


def _inline_css(match: re.Match) -> str:
    """A Panel stylesheet URL on its CDN → the same file from the installed Panel, as a data: URL."""
    path = (DIST_DIR / match.group(1)).resolve()
    if not path.is_relative_to(DIST_DIR.resolve()) or not path.is_file():
        return match.group(0)
    return "data:text/css;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def failed_report(error: Exception, title: str) -> str:
    """A minimal static page saying why the report could not be built (escaped)."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    hint = getattr(error, "hint", "")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>The report could not be built: {html.escape(message)}</p>"
            f"<p>{html.escape(hint)}</p></body></html>")


class ShareBar(Viewer):
    """Two buttons: copy a link reopening the current view, download a self-contained HTML report.

    ``report`` returns the report's HTML (built when the button is clicked, from what the page shows).
    """

    report = param.Callable(default=None, allow_None=True, doc="() -> HTML of the page's static report.")
    filename = param.String(default="report.html", doc="Name of the downloaded report.")
    title = param.String(default="Workbench report", doc="What the report is about (used on failure).")

    def __init__(self, **params):
        super().__init__(**params)
        self._status = pn.Column(sizing_mode="stretch_width")
        self.link = pn.widgets.TextInput(name="", value="", visible=False, disabled=False, width=520,
                                         css_classes=["wb-share-link"])
        self.copy = pn.widgets.Button(name="Copy link", button_type="light", width=110, css_classes=["wb-share-copy"])
        if served():
            self.copy.js_on_click(args={"out": self.link}, code=COPY_JS)
            self.copy.description = "Copy a link that reopens this view (filters, selection, tab) for someone else"
        else:
            self.copy.on_click(self._explain_notebook)
            self.copy.description = "Shareable links come from the served app"
        self.export = pn.widgets.FileDownload(callback=self._report_file, filename=self.filename, button_type="light",
                                              label="Export report (HTML)", width=190, embed=False,
                                              visible=self.report is not None, css_classes=["wb-share-export"])

    def _explain_notebook(self, _event=None) -> None:
        self._status[:] = [pn.pane.Alert(NOTEBOOK_LINK_NOTE, alert_type="info", sizing_mode="stretch_width",
                                         css_classes=["wb-share-note"])]

    def report_html(self) -> str:
        """The report's HTML; a short page naming the problem (and an alert here) when building fails."""
        try:
            text = self.report()
        except Exception as error:  # noqa: BLE001 - a failed export must not break the page
            self._status[:] = [error_alert(error, context="Export report")]
            return failed_report(error, self.title)
        self._status[:] = []
        return offline(text)

    def _report_file(self) -> io.BytesIO:
        return io.BytesIO(self.report_html().encode("utf-8"))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.copy, self.export, self.link, css_classes=["wb-share"]), self._status,
                         sizing_mode="stretch_width")


def share_bar(report: Callable[[], str] | None, filename: str, title: str) -> ShareBar:
    """The toolbar for a page (``report`` None: only Copy link)."""
    return ShareBar(report=report, filename=filename, title=title)
