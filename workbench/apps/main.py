"""The one factory behind the notebook API, the JupyterLab tab and ``workbench serve``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from urllib.parse import urlencode

import panel as pn
import param
from panel.viewable import Viewer

from workbench.apps.navigation import Destination
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
    """The four pages in tabs. The first visible tab is built eagerly, the others on first view.

    Pages ask to open another page by setting their ``navigate`` param (a ``Destination``): the app
    sets the destination page's params, switches the tab and offers a "Back" button.
    """

    config = param.ClassSelector(class_=WorkbenchConfig)
    tab = param.Selector(objects=list(PAGES), default="experiments", doc="The tab shown (synced to ?tab= when served).")
    model = param.String(default="", doc="The model Explain shows instead of config.model (?model= when served).")

    def __init__(self, **params):
        super().__init__(**params)
        self._built: dict[str, pn.viewable.Viewable] = {}
        self._history: list[str] = []
        self._back: dict[str, pn.widgets.Button] = {}
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
            config = self.config.with_overrides(model=self.model) if key == "explain" and self.model else self.config
            page = build_page(key, config, link_reason="")
            if "navigate" in getattr(page, "param", ()):
                page.param.watch(lambda event: event.new is not None and self.open(event.new), "navigate")
            self._built[key] = page
        return self._built[key]

    def _holder(self, key: str) -> pn.Column:
        return self._tabs[list(PAGES).index(key)]

    def _show(self, key: str) -> None:
        holder = self._holder(key)
        if not len(holder):
            back = pn.widgets.Button(name="Back", button_type="light", visible=False, width=260,
                                     css_classes=["wb-nav-back"])
            back.on_click(lambda _event: self.back())
            self._back[key] = back
            holder[:] = [back, self.page(key)]
        self._update_back()

    def _update_back(self) -> None:
        previous = self._history[-1] if self._history else None
        for key, button in self._back.items():
            button.param.update(visible=previous not in (None, key),
                                name=f"← Back to {PAGES[previous].label}" if previous else "Back")

    def open(self, destination: Destination) -> None:
        """Show ``destination``: set its page's params (in order), switch the tab, remember where we came from."""
        key = destination.page
        if key == "explain" and destination.config.get("model"):
            self.model = str(destination.config["model"])
        page = self.page(key)
        try:
            for name, value in destination.params.items():
                if name in page.param:
                    setattr(page, name, value)
        except Exception as error:  # noqa: BLE001 - a bad link leaves the app usable
            holder = self._holder(key)
            holder[:] = [*holder[:1], error_alert(error, context=PAGES[key].label), *holder[1:]]
        if key != self.tab:
            self._history.append(self.tab)
        self.tab = key
        self._update_back()

    def back(self) -> None:
        """Return to the page the last link was followed from."""
        if self._history:
            self.tab = self._history.pop()
        self._update_back()

    @param.depends("model", watch=True)
    def _rebuild_explain(self) -> None:
        """Explain shows another model: rebuild it (now if shown, else when next opened)."""
        old = self._built.pop("explain", None)
        if getattr(old, "job", None) is not None:
            old.job.cancel()  # a live explanation of the model shown before
        holder = self._holder("explain")
        holder[:] = []
        self._back.pop("explain", None)
        if self.tab == "explain":
            self._show("explain")

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


def create_app(config: WorkbenchConfig | None = None, page: str | None = None,
               **page_params) -> Viewer | pn.viewable.Viewable:
    """The workbench for ``config``: all four pages in tabs, or just ``page`` (a key of ``PAGES``)."""
    config = config or WorkbenchConfig()
    if page is None:
        opening = {"tab": page_params.get("tab")} if page_params.get("tab") in PAGES else {}
        if page_params.get("model"):
            opening["model"] = str(page_params["model"])
        return WorkbenchApp(config=config, **opening)
    if page not in PAGES:
        raise ConfigError(f"Unknown page '{page}'.", f"choose one of: {', '.join(PAGES)}")
    return build_page(page, config, **page_params)


def open_url(destination: Destination) -> None:
    """In a session serving one page alone: load ``/<page>?...`` of the destination in the browser."""
    location = pn.state.location
    if location is None:
        return
    query = urlencode(destination.query())
    location.param.update(pathname=f"/{destination.page}", search=f"?{query}" if query else "")
    location.reload = True


def served_app(config: WorkbenchConfig, page: str | None = None) -> pn.template.BaseTemplate:
    """A session's page when served: the app in a template, its tab synced with the URL."""
    model = pn.state.session_args.get("model", [b""])[0].decode("utf-8", "replace")
    if page == "explain" and model:
        config = config.with_overrides(model=model)
    served = pn.state.location is not None
    # the tab a link asks for is the one built first (not Experiments, only to be switched away from)
    tab = pn.state.session_args.get("tab", [b""])[0].decode("utf-8", "replace")
    opening = {"tab": tab, "model": model} if page is None else {"link_reason": ""} if served else {}
    app = create_app(config, page, **opening)
    theme = "dark" if pn.state.session_args.get("theme", [b""])[0] == b"dark" else "default"
    # Bootstrap's resources ship inside Panel; the Fast templates fetch a web font (fails offline).
    template = pn.template.BootstrapTemplate(
        title=config.title if page is None else f"{config.title} · {PAGES[page].label}",
        theme=theme, header_background="#1f3a5f",
    )
    template.main.append(app)
    if isinstance(app, WorkbenchApp) and served:
        pn.state.location.sync(app, {"model": "model", "tab": "tab"})
    elif served and "navigate" in getattr(app, "param", ()):
        app.param.watch(lambda event: event.new is not None and open_url(event.new), "navigate")
    if served:  # a link whose parameters were refused says so (see url_guard)
        from workbench.apps.url_guard import report_refused

        notices = pn.Column(sizing_mode="stretch_width", css_classes=["wb-url-notices"])
        template.main.insert(0, notices)  # a template's roots are fixed once rendered: later alerts go inside
        report_refused(notices)
    return template
