/**
 * MLOps Workbench in JupyterLab: a Launcher section with a tile per panel, the same commands in the
 * palette and a menu, file-browser actions (".dvc" → Browse versions, SQLite stores / mlruns → the
 * right panel) and main-area tabs showing the workbench app served behind Jupyter's auth by
 * jupyter-server-proxy (see workbench/jupyter/proxy.py).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IFrame } from '@jupyterlab/ui-components';

import { pageIcon } from './icons';
import {
  appUrl,
  DEFAULT_SETTINGS,
  isPageId,
  itemAction,
  IWorkbenchSettings,
  PageId,
  pageInfo,
  PAGES,
  readSettings,
  tabId,
  tabLabel,
  Theme
} from './urls';

const PLUGIN_ID = 'jupyterlab-workbench:plugin';
const CATEGORY = 'MLOps Workbench';

namespace CommandIDs {
  export const open = 'workbench:open';
  export const browseVersions = 'workbench:browse-versions';
  export const openItem = 'workbench:open-item';
}

/** A main-area tab showing one page of the workbench app in a sandboxed iframe. */
class WorkbenchPanel extends MainAreaWidget<IFrame> {
  constructor(
    readonly page: PageId,
    readonly itemPath: string
  ) {
    const content = new IFrame({
      sandbox: ['allow-scripts', 'allow-same-origin', 'allow-downloads', 'allow-popups'],
      referrerPolicy: 'same-origin'
    });
    super({ content });
    this.id = tabId(page, itemPath || undefined);
    this.title.label = tabLabel(page, itemPath || undefined);
    this.title.caption = itemPath ? `${pageInfo(page).caption} — ${itemPath}` : pageInfo(page).caption;
    this.title.icon = pageIcon(page);
    this.title.closable = true;
    this.addClass('jp-WorkbenchPanel');
  }

  /** Load the iframe on the app URL for the theme and settings (no-op when it shows that already). */
  load(theme: Theme, settings: IWorkbenchSettings): void {
    const url = appUrl(PageConfig.getBaseUrl(), this.page, {
      theme,
      settings,
      path: this.itemPath || undefined
    });
    if (this.content.url !== url) {
      this.content.url = url;
    }
  }
}

interface IInspectReply {
  page: PageId;
  path: string;
  kind: string;
}

/** Ask the server extension which page opens a file-browser item (SQLite stores, mlruns). */
async function inspectItem(path: string): Promise<IInspectReply> {
  const settings = ServerConnection.makeSettings();
  const url = `${URLExt.join(settings.baseUrl, 'workbench', 'api', 'inspect')}?${new URLSearchParams({ path })}`;
  const response = await ServerConnection.makeRequest(url, {}, settings);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = [body.message, body.hint].filter(Boolean).join(' — ');
    throw new Error(message || `The workbench could not inspect '${path}' (${response.status}).`);
  }
  return body as IInspectReply;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'MLOps Workbench panels (MLflow, Optuna, DVC, SHAP) in JupyterLab tabs.',
  autoStart: true,
  optional: [
    ILauncher,
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    IThemeManager,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    themeManager: IThemeManager | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const { commands, shell } = app;
    const tracker = new WidgetTracker<WorkbenchPanel>({ namespace: 'mlops-workbench' });
    let settings: IWorkbenchSettings = { ...DEFAULT_SETTINGS };

    const theme = (): Theme =>
      themeManager?.theme && !themeManager.isLight(themeManager.theme) ? 'dark' : 'light';

    const open = (page: PageId, path: string, activate = true): WorkbenchPanel => {
      const existing = tracker.find(panel => panel.page === page && panel.itemPath === path);
      if (existing) {
        if (activate) {
          shell.activateById(existing.id);
        }
        return existing;
      }
      const panel = new WorkbenchPanel(page, path);
      panel.load(theme(), settings);
      void tracker.add(panel);
      shell.add(panel, 'main', { activate });
      return panel;
    };

    const selectedItem = () => {
      const item = fileBrowser?.selectedItems().next();
      return item && !item.done ? item.value : null;
    };
    const selectedItemAction = () => {
      const item = selectedItem();
      return item ? itemAction(item.name, item.type === 'directory') : null;
    };

    commands.addCommand(CommandIDs.open, {
      label: args => {
        const page = isPageId(args.page) ? args.page : 'all';
        const label = pageInfo(page).label;
        return args.isPalette || args.isMenu ? `Open ${label}` : label;
      },
      caption: args => pageInfo(isPageId(args.page) ? args.page : 'all').caption,
      icon: args => (args.isPalette ? undefined : pageIcon(isPageId(args.page) ? args.page : 'all')),
      execute: args => {
        const page = isPageId(args.page) ? args.page : 'all';
        const path = typeof args.path === 'string' ? args.path : '';
        return open(page, path, args.activate !== false);
      }
    });

    commands.addCommand(CommandIDs.browseVersions, {
      label: 'Browse versions',
      caption: 'Open the Data versions panel on this DVC-tracked dataset',
      icon: pageIcon('data_versions'),
      isVisible: () => selectedItemAction() === 'browse-versions',
      execute: () => {
        const item = selectedItem();
        return item ? open('data_versions', item.path) : undefined;
      }
    });

    commands.addCommand(CommandIDs.openItem, {
      label: 'Open in MLOps Workbench',
      caption: 'Open this MLflow/Optuna store in the matching workbench panel',
      icon: pageIcon('all'),
      isVisible: () => selectedItemAction() === 'open-store',
      execute: async () => {
        const item = selectedItem();
        if (!item) {
          return;
        }
        try {
          const reply = await inspectItem(item.path);
          return open(isPageId(reply.page) ? reply.page : 'all', reply.path);
        } catch (error) {
          void showErrorMessage('MLOps Workbench', (error as Error).message);
        }
      }
    });

    PAGES.forEach((info, rank) => {
      launcher?.add({ command: CommandIDs.open, args: { page: info.id }, category: CATEGORY, rank });
      palette?.addItem({
        command: CommandIDs.open,
        args: { page: info.id, isPalette: true },
        category: CATEGORY,
        rank
      });
    });

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: panel => ({ page: panel.page, path: panel.itemPath, activate: false }),
        name: panel => panel.id
      });
    }

    const reloadAll = (): void => {
      tracker.forEach(panel => panel.load(theme(), settings));
    };
    themeManager?.themeChanged.connect(reloadAll);

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const update = (): void => {
            settings = readSettings(loaded.composite as Record<string, unknown>);
          };
          update();
          loaded.changed.connect(() => {
            update();
            reloadAll();
          });
          // Tabs restored before the settings arrived get them now.
          reloadAll();
        })
        .catch(reason => console.error(`${PLUGIN_ID}: could not load settings`, reason));
    }
  }
};

export default plugin;
