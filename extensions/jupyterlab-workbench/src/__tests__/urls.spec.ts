import {
  appUrl,
  DEFAULT_SETTINGS,
  isPageId,
  itemAction,
  PAGES,
  readSettings,
  tabId,
  tabLabel
} from '../urls';

describe('appUrl', () => {
  it('points a panel at its route of the proxied app with the theme', () => {
    expect(appUrl('/user/ann/', 'experiments', { theme: 'dark' })).toBe(
      '/user/ann/workbench-app/experiments?theme=dark'
    );
  });

  it('serves the whole workbench at the app root and tolerates a base URL without slash', () => {
    expect(appUrl('http://h:8888', 'all', { theme: 'light' })).toBe(
      'http://h:8888/workbench-app/?theme=light'
    );
  });

  it('passes only the settings that are set, URL-encoded, and the item path', () => {
    const url = appUrl('/', 'data_versions', {
      theme: 'light',
      settings: { ...DEFAULT_SETTINGS, trackingUri: 'sqlite:///a b.db', refreshInterval: 5 },
      path: 'data/cancer.csv.dvc'
    });
    const query = new URL(url, 'http://x').searchParams;
    expect(query.get('tracking_uri')).toBe('sqlite:///a b.db');
    expect(query.get('refresh_interval')).toBe('5');
    expect(query.get('path')).toBe('data/cancer.csv.dvc');
    expect(query.has('optuna_storage')).toBe(false);
    expect(query.has('dvc_repo')).toBe(false);
  });
});

describe('readSettings', () => {
  it('trims strings and drops values of the wrong type', () => {
    expect(
      readSettings({ trackingUri: ' mlruns ', optunaStorage: 3, dvcRepo: null, refreshInterval: -2 })
    ).toEqual({ trackingUri: 'mlruns', optunaStorage: '', dvcRepo: '', refreshInterval: 0 });
    expect(readSettings(undefined)).toEqual(DEFAULT_SETTINGS);
  });
});

describe('tabs', () => {
  it('gives one id per page and item, and names the item in the title', () => {
    expect(tabId('tuning')).toBe('workbench-tuning');
    expect(tabId('data_versions', 'data/x.csv.dvc')).not.toBe(tabId('data_versions'));
    expect(tabLabel('data_versions', 'data/x.csv.dvc')).toBe('Data versions: x.csv.dvc');
    expect(tabLabel('all')).toBe('MLOps Workbench');
  });

  it('knows the five pages', () => {
    expect(PAGES.map(page => page.id)).toEqual([
      'all',
      'experiments',
      'tuning',
      'explain',
      'data_versions'
    ]);
    expect(isPageId('tuning')).toBe(true);
    expect(isPageId('__proto__')).toBe(false);
  });
});

describe('itemAction', () => {
  it.each([
    ['cancer.csv.dvc', false, 'browse-versions'],
    ['.dvc', false, null],
    ['optuna.db', false, 'open-store'],
    ['runs.SQLITE', false, 'open-store'],
    ['mlruns', true, 'open-store'],
    ['mlruns', false, null],
    ['data', true, null],
    ['notes.txt', false, null]
  ])('%s (directory: %s) → %s', (name, isDirectory, expected) => {
    expect(itemAction(name, isDirectory)).toBe(expected);
  });
});
