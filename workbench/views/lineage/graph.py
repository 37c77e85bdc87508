"""The lineage of one run as a small graph: data version → run → model → explanation, with the trial.

Each linked node is a button; following it sets ``followed`` to its :class:`Link` (pages watch
``graph.param.followed`` to switch tab). A link that is missing, absent or not allowed here is a
disabled button whose tooltip, and the line under it, give the reason. Tooltips are Markdown in Panel:
the reason is HTML-escaped first, so text from stores (study names, paths) never renders as HTML.
"""

from __future__ import annotations

import html

import panel as pn
import param
from panel.viewable import Viewer

from workbench.sources.lineage import LINKED, MISSING, Link, RunLineage

TITLES = {"data": "Data version", "trial": "Optuna trial", "model": "Model", "explanation": "Explanation"}
BUTTON_TYPES = {LINKED: "primary", MISSING: "danger"}


def _text(text: str, css: str) -> pn.pane.HTML:
    """User-provided text, escaped: never rendered as HTML."""
    return pn.pane.HTML(f'<span class="{css}">{html.escape(text)}</span>', margin=(0, 5))


class LineageGraph(Viewer):
    """Buttons for the links of ``lineage``; ``followed`` is the last link the user followed."""

    lineage = param.ClassSelector(class_=RunLineage, allow_None=True, doc="RunLineage of the run shown.")
    followed = param.ClassSelector(class_=Link, allow_None=True, doc="The last link followed (watch it).")

    def __init__(self, **params):
        super().__init__(**params)
        self.buttons: dict[str, pn.widgets.Button] = {}
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-lineage-graph"])
        self._render()

    @param.depends("lineage", watch=True)
    def _render(self) -> None:
        self.buttons = {}
        if self.lineage is None:
            self._layout[:] = [_text("Select a run to see its lineage.", "wb-lineage-empty")]
            return
        nodes = {kind: self._node(link) for kind, link in self.lineage.links().items()}
        run = pn.Column(pn.pane.HTML("<b>Run</b>", margin=(0, 5)),
                        _text(self.lineage.run_name, "wb-lineage-run-name"),
                        _text(self.lineage.experiment, "wb-lineage-experiment"),
                        css_classes=["wb-lineage-node", "wb-lineage-run"], width=220)
        arrow = pn.pane.HTML('<span style="font-size:1.6em">&rarr;</span>', width=30, margin=(25, 0))
        below = pn.Row(pn.Spacer(width=250), pn.pane.HTML('<span style="font-size:1.6em">&uarr;</span>',
                                                          margin=(0, 90)))
        self._layout[:] = [
            pn.Row(nodes["data"], arrow.clone(), run, arrow.clone(), nodes["model"], arrow.clone(),
                   nodes["explanation"]),
            below,
            pn.Row(pn.Spacer(width=250), nodes["trial"]),
        ]

    def _node(self, link: Link) -> pn.Column:
        button = pn.widgets.Button(
            name=link.label, button_type=BUTTON_TYPES.get(link.status, "default") if link.followable else "light",
            disabled=not link.followable, description=html.escape(link.tooltip) or None, width=200,
            css_classes=[f"wb-lineage-{link.kind}-button"],
        )
        button.on_click(lambda _event, link=link: self.follow(link))
        self.buttons[link.kind] = button
        parts = [pn.pane.HTML(f"<b>{TITLES[link.kind]}</b>", margin=(0, 5)), button]
        if link.tooltip:
            parts.append(_text(link.tooltip, "wb-lineage-reason"))
        return pn.Column(*parts, width=220, css_classes=["wb-lineage-node", f"wb-lineage-{link.kind}",
                                                         f"wb-lineage-{link.status}"])

    def follow(self, link: Link) -> None:
        """Follow ``link`` (what a click does); refused links are ignored."""
        if link.followable:
            self.followed = link

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
