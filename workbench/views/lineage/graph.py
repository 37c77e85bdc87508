"""The lineage of one run as a small graph: data version → run → model → explanation, with the trial.

Each linked node is a button; following it sets ``followed`` to its :class:`Link` (pages watch
``graph.param.followed`` to switch tab). A link that is missing, absent or not allowed here is a
disabled button whose tooltip, and the line under it, give the reason. Tooltips are Markdown in Panel:
the reason is HTML-escaped first, so text from stores (study names, paths) never renders as HTML.
"""

from __future__ import annotations

import html
from dataclasses import replace

import panel as pn
import param
from panel.viewable import Viewer

from workbench.sources.lineage import LINKED, MISSING, Link, RunLineage

TITLES = {"data": "Data version", "trial": "Optuna trial", "model": "Model", "explanation": "Explanation"}
BUTTON_TYPES = {LINKED: "primary", MISSING: "danger"}


def _escaped(text: str, css: str) -> str:
    return f'<span class="{css}">{html.escape(text)}</span>'


def _text(text: str, css: str) -> pn.pane.HTML:
    """User-provided text, escaped: never rendered as HTML."""
    return pn.pane.HTML(_escaped(text, css), margin=(0, 5))


class LineageGraph(Viewer):
    """Buttons for the links of ``lineage``; ``followed`` is the last link the user followed."""

    lineage = param.ClassSelector(class_=RunLineage, allow_None=True, doc="RunLineage of the run shown.")
    followed = param.ClassSelector(class_=Link, allow_None=True, doc="The last link followed (watch it).")
    blocked = param.String(default="", doc="Why no link can be followed here (e.g. no other page to open).")

    def __init__(self, **params):
        super().__init__(**params)
        self._links: dict[str, Link] = {}
        # the widgets are built once and updated in place: showing another run creates no objects
        self._buttons: dict[str, pn.widgets.Button] = {kind: self._button(kind) for kind in TITLES}
        self._reasons = {kind: _text("", "wb-lineage-reason") for kind in TITLES}
        self._nodes = {kind: pn.Column(pn.pane.HTML(f"<b>{title}</b>", margin=(0, 5)), self._buttons[kind],
                                       self._reasons[kind], width=220)
                       for kind, title in TITLES.items()}
        self._run_name, self._experiment = _text("", "wb-lineage-run-name"), _text("", "wb-lineage-experiment")
        run = pn.Column(pn.pane.HTML("<b>Run</b>", margin=(0, 5)), self._run_name, self._experiment,
                        css_classes=["wb-lineage-node", "wb-lineage-run"], width=220)
        arrows = [pn.pane.HTML('<span style="font-size:1.6em">&rarr;</span>', width=30, margin=(25, 0))
                  for _ in range(3)]
        below = pn.Row(pn.Spacer(width=250), pn.pane.HTML('<span style="font-size:1.6em">&uarr;</span>',
                                                          margin=(0, 90)))
        self._graph = pn.Column(
            pn.Row(self._nodes["data"], arrows[0], run, arrows[1], self._nodes["model"], arrows[2],
                   self._nodes["explanation"]),
            below, pn.Row(pn.Spacer(width=250), self._nodes["trial"]), sizing_mode="stretch_width")
        self._empty = _text("Select a run to see its lineage.", "wb-lineage-empty")
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["wb-lineage-graph"])
        self._render()

    @property
    def buttons(self) -> dict[str, pn.widgets.Button]:
        """The link buttons by kind (none while no run is shown)."""
        return dict(self._buttons) if self.lineage is not None else {}

    def _button(self, kind: str) -> pn.widgets.Button:
        button = pn.widgets.Button(name="", width=200, css_classes=[f"wb-lineage-{kind}-button"])
        button.on_click(lambda _event: kind in self._links and self.follow(self._links[kind]))
        return button

    @param.depends("lineage", "blocked", watch=True)
    def _render(self) -> None:
        if self.lineage is None:
            self._links = {}
            self._layout[:] = [self._empty]
            return
        for kind, link in self.lineage.links().items():
            if self.blocked and link.followable:
                link = replace(link, blocked=self.blocked)
            self._links[kind] = link
            self._buttons[kind].param.update(
                name=link.label, button_type=BUTTON_TYPES.get(link.status, "default") if link.followable else "light",
                disabled=not link.followable, description=html.escape(link.tooltip) or None)
            self._reasons[kind].param.update(object=_escaped(link.tooltip, "wb-lineage-reason"),
                                             visible=bool(link.tooltip))
            self._nodes[kind].css_classes = ["wb-lineage-node", f"wb-lineage-{kind}", f"wb-lineage-{link.status}"]
        self._run_name.object = _escaped(self.lineage.run_name, "wb-lineage-run-name")
        self._experiment.object = _escaped(self.lineage.experiment, "wb-lineage-experiment")
        if list(self._layout) != [self._graph]:
            self._layout[:] = [self._graph]

    def follow(self, link: Link) -> None:
        """Follow ``link`` (what a click does); refused links are ignored."""
        if link.followable:
            self.followed = link

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
