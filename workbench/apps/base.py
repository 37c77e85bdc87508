"""The base of every panel page: holds the config and turns build errors into alerts."""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from typing import ClassVar

import panel as pn
import param
from panel.viewable import Viewer

from workbench.config import WorkbenchConfig
from workbench.views.alert import error_alert
from workbench.views.share import ShareBar, served


def load_lazy_resources() -> None:
    """In a served session, load Tabulator's JS with the page: tables often sit in tabs built later,
    and a widget whose JS was not in the first page renders blank."""
    document = pn.state.curdoc
    if document is not None and document.session_context is not None:
        pn.extension("tabulator")


class PanelPage(Viewer):
    """A page of the workbench (Experiments, Tuning, Explain, Data versions).

    Subclasses implement ``_build`` returning the page's layout; any exception raised there is
    shown as an alert in place of the page, so a broken store never blanks the app.
    """

    title: ClassVar[str] = "Page"
    report_filename: ClassVar[str] = "report.html"

    config = param.ClassSelector(class_=WorkbenchConfig, doc="Where the page finds its data.")
    navigate = param.Parameter(default=None, doc="A workbench.apps.navigation.Destination the page asks to open "
                               "(the workbench app watches it, switches the tab and sets that page's params).")
    link_reason = param.String(default="Links to other pages work in the whole workbench: open it with wb.app() "
                               "or `workbench serve`.", doc="Why links to other pages cannot be followed ('': they can).")

    def __init__(self, **params):
        if params.get("config") is None:
            params["config"] = WorkbenchConfig()
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-page"])
        self._toolbar = pn.Column(sizing_mode="stretch_width")
        self._view = pn.Column(self._toolbar, self._layout, sizing_mode="stretch_width")
        load_lazy_resources()
        self.rebuild()

    def rebuild(self) -> None:
        """(Re)build the page, showing an alert instead when it fails."""
        try:
            content = self._build()
        except Exception as error:  # noqa: BLE001 - every failure becomes an alert, never a traceback
            self._layout[:] = [error_alert(error, context=self.title)]
            self._toolbar[:] = []
            return
        self.share = ShareBar(report=self.report_html, filename=self.report_filename,
                              title=f"{self.config.title} · {self.title}")
        self._toolbar[:] = [self.share]
        self._layout[:] = [content]
        if served() and pn.state.location is not None:
            for target in getattr(self, "_url_synced", []):  # a rebuild replaces the views synced before
                with contextlib.suppress(ValueError):
                    pn.state.location.unsync(target)
            self._url_synced = []
            for target, names in self.url_state():
                pn.state.location.sync(target, names)
                self._url_synced.append(target)

    def report_html(self) -> str:
        """A self-contained static HTML report of what the page shows (inline JS, no network, escaped)."""
        raise NotImplementedError(f"{type(self).__name__} has no report")

    def url_state(self) -> list[tuple[param.Parameterized, dict[str, str]]]:
        """(object, {parameter: query name}) kept in the URL of a served session, beyond what the views sync."""
        return []

    @abstractmethod
    def _build(self) -> pn.viewable.Viewable:
        """Build the page's content from ``self.config``."""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._view
