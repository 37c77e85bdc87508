/** Icons of the launcher tiles, commands and tabs (one per page). */
import { LabIcon } from '@jupyterlab/ui-components';

import { PageId } from './urls';

const svg = (body: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">` +
  `<g class="jp-icon3" fill="#616161">${body}</g></svg>`;

export const workbenchIcon = new LabIcon({
  name: 'jupyterlab-workbench:workbench',
  svgstr: svg(
    '<rect x="2" y="2" width="9" height="9" rx="1.5"/><rect x="13" y="2" width="9" height="9" rx="1.5"/>' +
      '<rect x="2" y="13" width="9" height="9" rx="1.5"/><rect x="13" y="13" width="9" height="9" rx="1.5"/>'
  )
});

export const experimentsIcon = new LabIcon({
  name: 'jupyterlab-workbench:experiments',
  svgstr: svg(
    '<path d="M9 2h6v2h-1v5.2l5.6 9.7A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.1L10 9.2V4H9z' +
      'M8.5 15h7l-2.9-5H11.4z"/>'
  )
});

export const tuningIcon = new LabIcon({
  name: 'jupyterlab-workbench:tuning',
  svgstr: svg(
    '<rect x="3" y="5" width="18" height="2" rx="1"/><rect x="3" y="11" width="18" height="2" rx="1"/>' +
      '<rect x="3" y="17" width="18" height="2" rx="1"/><circle cx="8" cy="6" r="2.5"/>' +
      '<circle cx="16" cy="12" r="2.5"/><circle cx="11" cy="18" r="2.5"/>'
  )
});

export const explainIcon = new LabIcon({
  name: 'jupyterlab-workbench:explain',
  svgstr: svg(
    '<rect x="3" y="3" width="14" height="3.5" rx="1"/><rect x="3" y="8.5" width="10" height="3.5" rx="1"/>' +
      '<rect x="3" y="14" width="18" height="3.5" rx="1"/><rect x="3" y="19.5" width="6" height="2.5" rx="1"/>'
  )
});

export const dataVersionsIcon = new LabIcon({
  name: 'jupyterlab-workbench:data-versions',
  svgstr: svg(
    '<ellipse cx="12" cy="5" rx="8" ry="3"/><path d="M4 8v3c0 1.7 3.6 3 8 3s8-1.3 8-3V8c-1.7 1.3-4.6 2-8 2s-6.3-.7-8-2z"/>' +
      '<path d="M4 14v3c0 1.7 3.6 3 8 3s8-1.3 8-3v-3c-1.7 1.3-4.6 2-8 2s-6.3-.7-8-2z"/>'
  )
});

const ICONS: Record<PageId, LabIcon> = {
  all: workbenchIcon,
  experiments: experimentsIcon,
  tuning: tuningIcon,
  explain: explainIcon,
  data_versions: dataVersionsIcon
};

export function pageIcon(page: PageId): LabIcon {
  return ICONS[page];
}
