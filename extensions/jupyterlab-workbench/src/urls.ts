/**
 * Pure logic of the extension (no JupyterLab imports, unit-tested with jest):
 * which pages exist, the URL of a page in the proxied workbench app, tab identities
 * and which file-browser items the workbench can open.
 */

/** The name of the jupyter-server-proxy entry serving the workbench app. */
export const PROXY_NAME = 'workbench-app';

export type PageId = 'all' | 'experiments' | 'tuning' | 'explain' | 'data_versions';

export interface IPageInfo {
  id: PageId;
  label: string;
  caption: string;
}

/** The pages in launcher order: the whole workbench first, then one per panel. */
export const PAGES: ReadonlyArray<IPageInfo> = [
  { id: 'all', label: 'MLOps Workbench', caption: 'All workbench panels in tabs' },
  { id: 'experiments', label: 'Experiments', caption: 'MLflow runs: compare, filter, plot metrics' },
  { id: 'tuning', label: 'Tuning', caption: 'Optuna studies: history, importances, trials' },
  { id: 'explain', label: 'Explain', caption: 'SHAP explanations of a model' },
  { id: 'data_versions', label: 'Data versions', caption: 'DVC dataset versions and their differences' }
];

export function isPageId(value: unknown): value is PageId {
  return typeof value === 'string' && PAGES.some(page => page.id === value);
}

export function pageInfo(page: PageId): IPageInfo {
  return PAGES.find(info => info.id === page) ?? PAGES[0];
}

/** The user's settings (schema/plugin.json); empty values mean "discover from the Jupyter root". */
export interface IWorkbenchSettings {
  trackingUri: string;
  optunaStorage: string;
  dvcRepo: string;
  refreshInterval: number;
}

export const DEFAULT_SETTINGS: IWorkbenchSettings = {
  trackingUri: '',
  optunaStorage: '',
  dvcRepo: '',
  refreshInterval: 0
};

/** Read settings from a composite settings object, ignoring values of the wrong type. */
export function readSettings(composite: Record<string, unknown> | null | undefined): IWorkbenchSettings {
  const text = (key: string): string => {
    const value = composite?.[key];
    return typeof value === 'string' ? value.trim() : '';
  };
  const interval = composite?.refreshInterval;
  return {
    trackingUri: text('trackingUri'),
    optunaStorage: text('optunaStorage'),
    dvcRepo: text('dvcRepo'),
    refreshInterval:
      typeof interval === 'number' && Number.isFinite(interval) && interval > 0 ? interval : 0
  };
}

export type Theme = 'light' | 'dark';

export interface IAppUrlOptions {
  theme: Theme;
  settings?: IWorkbenchSettings;
  /** A file-browser item (path relative to the Jupyter root) the page should open on. */
  path?: string;
}

/** The URL query of a page: theme, the non-empty settings and the item path. */
export function appQuery(options: IAppUrlOptions): URLSearchParams {
  const query = new URLSearchParams();
  query.set('theme', options.theme);
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const pairs: Array<[string, string]> = [
    ['tracking_uri', settings.trackingUri],
    ['optuna_storage', settings.optunaStorage],
    ['dvc_repo', settings.dvcRepo],
    ['refresh_interval', settings.refreshInterval > 0 ? String(settings.refreshInterval) : '']
  ];
  for (const [key, value] of pairs) {
    if (value) {
      query.set(key, value);
    }
  }
  if (options.path) {
    query.set('path', options.path);
  }
  return query;
}

/** The URL of a page of the proxied app, e.g. `/base/workbench-app/experiments?theme=dark`. */
export function appUrl(baseUrl: string, page: PageId, options: IAppUrlOptions): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const route = page === 'all' ? '' : page;
  return `${base}${PROXY_NAME}/${route}?${appQuery(options).toString()}`;
}

/** The widget id of a tab: one tab per page and item. */
export function tabId(page: PageId, path?: string): string {
  return path ? `workbench-${page}:${path}` : `workbench-${page}`;
}

/** The tab title: the page label, followed by the item's name when it opens on one. */
export function tabLabel(page: PageId, path?: string): string {
  const label = pageInfo(page).label;
  if (!path) {
    return label;
  }
  const parts = path.split('/').filter(part => part.length > 0);
  return `${label}: ${parts[parts.length - 1] ?? path}`;
}

/** What the workbench can do with a file-browser item. */
export type ItemAction = 'browse-versions' | 'open-store' | null;

const SQLITE_SUFFIXES = ['.db', '.sqlite', '.sqlite3'];

export function itemAction(name: string, isDirectory: boolean): ItemAction {
  const lower = name.toLowerCase();
  if (isDirectory) {
    return lower === 'mlruns' ? 'open-store' : null;
  }
  if (lower.endsWith('.dvc') && lower.length > '.dvc'.length) {
    return 'browse-versions';
  }
  return SQLITE_SUFFIXES.some(suffix => lower.endsWith(suffix)) ? 'open-store' : null;
}
