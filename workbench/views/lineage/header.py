"""What an explanation explains: its run and the data version the run trained on, as two link buttons."""

from __future__ import annotations

import html
from dataclasses import replace

import panel as pn
import param
from panel.viewable import Viewer

from workbench.sources.lineage import LineageSource, Link


class ExplainedRunHeader(Viewer):
    """"Explains run <name> (<experiment>) · trained on <data @ version>"; ``followed`` is the link clicked."""

    source = param.ClassSelector(class_=LineageSource, doc="Where links are resolved.")
    model_uri = param.String(default="", doc="The model explained (runs:/<id>/model or models:/<name>/<version>).")
    blocked = param.String(default="", doc="Why no link can be followed here (shown on the disabled buttons).")
    followed = param.ClassSelector(class_=Link, allow_None=True, doc="The last link followed (watch it).")

    def __init__(self, **params):
        super().__init__(**params)
        self.links: dict[str, Link] = {}
        self.buttons: dict[str, pn.widgets.Button] = {}
        self._layout = pn.Row(sizing_mode="stretch_width", css_classes=["wb-explained-run"])
        self._render()

    def _resolve(self) -> dict[str, Link]:
        run = self.source.run_link(self.model_uri)
        if not run.ok:
            return {"run": run, "data": Link("data", run.status, "data version", "The run is not known: " + run.reason)}
        return {"run": run, "data": self.source.run_lineage(run.target["run_id"]).data}

    @param.depends("source", "model_uri", "blocked", watch=True)
    def _render(self) -> None:
        try:
            self.links = self._resolve()
        except Exception as error:  # noqa: BLE001 - the header never breaks the page
            self.links = {"run": Link("run", "missing", "run", str(error)), "data": Link("data", "missing", "data", "")}
        self.buttons = {kind: self._button(kind, link) for kind, link in self.links.items()}
        self._layout[:] = [pn.pane.HTML("<b>Explains run</b>", margin=(12, 5)), self.buttons["run"],
                           pn.pane.HTML("<b>trained on</b>", margin=(12, 5)), self.buttons["data"]]

    def _button(self, kind: str, link: Link) -> pn.widgets.Button:
        if self.blocked and link.followable:
            link = replace(link, blocked=self.blocked)
        label = link.label if kind == "data" else f"{link.label} ({link.target.get('experiment') or '?'})"
        button = pn.widgets.Button(name=label if link.ok else f"{link.label}: unknown", width=300,
                                   button_type="primary" if link.followable else "light", disabled=not link.followable,
                                   description=html.escape(link.tooltip) or None,
                                   css_classes=[f"wb-explained-{kind}-button"])
        button.on_click(lambda _event, link=link: self.follow(link))
        return button

    def follow(self, link: Link) -> None:
        """Follow ``link`` (what a click does); refused links are ignored."""
        if link.followable:
            self.followed = link

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
