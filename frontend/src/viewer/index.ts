// PLACEHOLDER owned by the viewer developer: replace this whole file with the
// Cornerstone3D viewer. The contract the rest of the app relies on:
//   - export function openViewer(studyUID: string): void  (called by the
//     study browser on Enter / double-click / the "Open" button, and by the
//     router for #/viewer/<studyUID>);
//   - export function initViewer(): void  (called once at start-up, before
//     routing, so that a reload of #/viewer/<uid> lands in the viewer);
//   - register a view with id 'viewer' through registerView() from '../shell'
//     and show it with showView('viewer', studyUID); go back with
//     showView('studies').
// Data: api.listSeries / api.listInstances and the files.* URLs in '../api/api'.

import { api } from '../api/api';
import { registerView, showView } from '../shell';

let el: HTMLElement | null = null;

function ensureView(): HTMLElement {
  if (el) return el;
  el = document.createElement('section');
  el.className = 'viewer-placeholder';
  registerView({
    id: 'viewer',
    title: 'Viewer',
    nav: false,
    element: el,
    show: (uid) => void render(uid),
  });
  return el;
}

async function render(studyUID: string): Promise<void> {
  const root = ensureView();
  root.replaceChildren();
  const back = document.createElement('button');
  back.type = 'button';
  back.textContent = '← Studies';
  back.addEventListener('click', () => showView('studies'));
  const h = document.createElement('h2');
  h.textContent = 'Viewer';
  const p = document.createElement('p');
  p.textContent = `Study ${studyUID}`;
  root.append(back, h, p);
  try {
    const series = (await api.listSeries(studyUID)) ?? [];
    const ul = document.createElement('ul');
    for (const s of series) {
      const li = document.createElement('li');
      li.textContent = `${s.modality} #${s.seriesNumber} ${s.seriesDescription} (${s.numberOfInstances})`;
      ul.append(li);
    }
    root.append(ul);
  } catch (e) {
    p.textContent += ` — ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Registers the viewer view early so #/viewer/<uid> routes work on reload. */
export function initViewer(): void {
  ensureView();
}

export function openViewer(studyUID: string): void {
  ensureView();
  showView('viewer', studyUID);
}
