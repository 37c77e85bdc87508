"""The base of every panel page: holds the config and turns build errors into alerts."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import panel as pn
import param
from panel.viewable import Viewer

from workbench.config import WorkbenchConfig
from workbench.views.alert import error_alert


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

    config = param.ClassSelector(class_=WorkbenchConfig, doc="Where the page finds its data.")

    def __init__(self, **params):
        if params.get("config") is None:
            params["config"] = WorkbenchConfig()
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-page"])
        load_lazy_resources()
        self.rebuild()

    def rebuild(self) -> None:
        """(Re)build the page, showing an alert instead when it fails."""
        try:
            content = self._build()
        except Exception as error:  # noqa: BLE001 - every failure becomes an alert, never a traceback
            content = error_alert(error, context=self.title)
        self._layout[:] = [content]

    @abstractmethod
    def _build(self) -> pn.viewable.Viewable:
        """Build the page's content from ``self.config``."""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
