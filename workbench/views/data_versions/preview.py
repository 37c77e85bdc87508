"""A preview of one version: a table head, an image, a text head or a file listing."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.views.widgets import text_table


class PreviewView(Viewer):
    """Shows a ``workbench.sources.dvc_read.Preview``."""

    preview = param.Parameter(default=None, doc="A Preview from DvcSource.preview().")
    empty_text = param.String(default="Select a version to preview it.", doc="Shown when there is no preview.")

    def __init__(self, **params):
        super().__init__(**params)
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-preview"])
        self._render()

    @param.depends("preview", watch=True)
    def _render(self) -> None:
        preview = self.preview
        if preview is None:
            self._layout[:] = [pn.pane.Str(self.empty_text)] if self.empty_text else []
            return
        title = pn.pane.Str(f"Preview of {preview.label}", css_classes=["wb-preview-title"],
                            styles={"font-weight": "bold"})
        items: list = [title, *[pn.pane.Str(note) for note in preview.notes]]
        if preview.kind in ("table", "files") and preview.table is not None:
            caption = ("files in this version" if preview.kind == "files"
                       else f"first {len(preview.table)} rows (only these were read)")
            items += [pn.pane.Str(caption), text_table(preview.table, page_size=15)]
        elif preview.kind == "image" and preview.data:
            items.append(pn.pane.Image(preview.data, max_width=800, max_height=600, sizing_mode="scale_both"))
        elif preview.text is not None:
            items.append(pn.pane.Str(preview.text[:5000], sizing_mode="stretch_width",
                                     styles={"max-height": "400px", "overflow": "auto"}))
        self._layout[:] = items

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
