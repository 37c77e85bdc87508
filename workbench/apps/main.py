"""The one factory behind the notebook API, the JupyterLab tab and ``workbench serve``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import panel as pn
import param
from panel.viewable import Viewer

from workbench.config import WorkbenchConfig
from workbench.errors import ConfigError
from workbench.views.alert import error_alert


@dataclass(frozen=True)
class PageSpec:
    """Where a page lives and how it is labelled."""

    key: str
    label: str
    module: str
    class_name: str

    def load(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)


PAGES: dict[str, PageSpec] = {
    spec.key: spec
    for spec in (
        PageSpec("experiments", "Experiments", "workbench.apps.experiments", "ExperimentsPage"),
        PageSpec("tuning", "Tuning", "workbench.apps.tuning", "TuningPage"),
        PageSpec("explain", "Explain", "workbench.apps.explain", "ExplainPage"),
        PageSpec("data_versions", "Data versions", "workbench.apps.data_versions", "DataVersionsPage"),
    )
}


def build_page(key: str, config: WorkbenchConfig, **kwargs) -> pn.viewable.Viewable:
    """One page by key; a page that cannot even be constructed becomes an alert."""
    try:
        return PAGES[key].load()(config=config, **kwargs)
    except Exception as error:  # noqa: BLE001 - the rest of the app must keep working
        return error_alert(error, context=PAGES[key].label)


class WorkbenchApp(Viewer):
    """The four pages in tabs. The first visible tab is built eagerly, the others on first view."""

    config = param.ClassSelector(class_=WorkbenchConfig)
    tab = param.Selector(objects=list(PAGES), default="experiments", doc="The tab shown (synced to ?tab= when served).")

    def __init__(self, **params):
        super().__init__(**params)
        self._built: dict[str, pn.viewable.Viewable] = {}
        self._tabs = pn.Tabs(
            *[(spec.label, pn.Column(sizing_mode="stretch_width")) for spec in PAGES.values()],
            sizing_mode="stretch_width", css_classes=["wb-tabs"],
        )
        self._tabs.active = list(PAGES).index(self.tab)
        self._tabs.param.watch(self._on_active, "active")
        self._show(self.tab)

    def page(self, key: str) -> pn.viewable.Viewable:
        """The page for ``key``, built on first use."""
        if key not in self._built:
            self._built[key] = build_page(key, self.config)
        return self._built[key]

    def _show(self, key: str) -> None:
        holder = self._tabs[list(PAGES).index(key)]
        if not len(holder):
            holder.append(self.page(key))

    def _on_active(self, event: param.parameterized.Event) -> None:
        self.tab = list(PAGES)[event.new]

    @param.depends("tab", watch=True)
    def _sync_tab(self) -> None:
        self._show(self.tab)
        index = list(PAGES).index(self.tab)
        if self._tabs.active != index:
            self._tabs.active = index

    def __panel__(self) -> pn.viewable.Viewable:
        return self._tabs


def create_app(config: WorkbenchConfig | None = None, page: str | None = None) -> Viewer | pn.viewable.Viewable:
    """The workbench for ``config``: all four pages in tabs, or just ``page`` (a key of ``PAGES``)."""
    config = config or WorkbenchConfig()
    if page is None:
        return WorkbenchApp(config=config)
    if page not in PAGES:
        raise ConfigError(f"Unknown page '{page}'.", f"choose one of: {', '.join(PAGES)}")
    return build_page(page, config)


def served_app(config: WorkbenchConfig, page: str | None = None) -> pn.template.BaseTemplate:
    """A session's page when served: the app in a template, its tab synced with the URL."""
    app = create_app(config, page)
    theme = "dark" if pn.state.session_args.get("theme", [b""])[0] == b"dark" else "default"
    # Bootstrap's resources ship inside Panel; the Fast templates fetch a web font (fails offline).
    template = pn.template.BootstrapTemplate(
        title=config.title if page is None else f"{config.title} · {PAGES[page].label}",
        theme=theme, header_background="#1f3a5f",
    )
    template.main.append(app)
    if isinstance(app, WorkbenchApp) and pn.state.location is not None:
        pn.state.location.sync(app, {"tab": "tab"})
    return template
