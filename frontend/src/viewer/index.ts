// The viewer feature: registers the 'viewer' view with the shell and opens
// studies in it. The Viewer (and Cornerstone) is created on first use.

import { registerView, showView } from '../shell';
import type { Viewer } from './viewer';

let viewer: Viewer | null = null;
let loading: Promise<Viewer> | null = null;
const el = document.createElement('section');
el.className = 'viewer-host';
let registered = false;

async function getViewer(): Promise<Viewer> {
  if (viewer) return viewer;
  if (!loading) {
    loading = import('./viewer').then((m) => {
      viewer = new m.Viewer();
      el.append(viewer.root);
      (window as unknown as { __lbViewer: Viewer }).__lbViewer = viewer;
      return viewer;
    });
  }
  return loading;
}

function ensureView(): void {
  if (registered) return;
  registered = true;
  registerView({
    id: 'viewer',
    title: 'Viewer',
    nav: false,
    element: el,
    show: (uid) => {
      void getViewer().then((v) => {
        v.shown();
        if (uid) void v.openStudy(uid);
      });
    },
    hide: () => viewer?.hidden(),
  });
}

/** Registers the viewer view early so #/viewer/<uid> routes work on reload. */
export function initViewer(): void {
  ensureView();
  // Warm up while the user looks at the study list: loading Cornerstone and
  // creating its WebGL context take a second or more on a software GPU.
  const idle = (window as unknown as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void }).requestIdleCallback;
  const warm = () => void getViewer().then((v) => v.warmUp());
  if (idle) idle(warm, { timeout: 2000 });
  else setTimeout(warm, 500);
}

/** Opens a study in the viewer. */
export function openViewer(studyUID: string): void {
  ensureView();
  showView('viewer', studyUID);
}
