// What the viewer e2e files share: the server under test, its API, and the
// page helpers that open a study and show a series and wait for its image.

import assert from 'node:assert/strict';

export const BASE = (process.env.LIGHTBOX_URL || '').replace(/\/$/, '');
// LIGHTBOX_RENDER=cpu|gpu forces the stack rendering path (default: the viewer's choice,
// CPU rendering on a software WebGL renderer such as this headless Chromium's SwiftShader).
export const RENDER = process.env.LIGHTBOX_RENDER ? `?render=${process.env.LIGHTBOX_RENDER}` : '';
export const skip = BASE ? false : 'LIGHTBOX_URL is not set (a running `lightbox serve` with the corpus imported)';

/** Calls an App method through the generic HTTP handler. */
export async function rpc(method, ...args) {
  const r = await fetch(`${BASE}/api/call/${method}`, { method: 'POST', body: JSON.stringify(args), headers: { 'Content-Type': 'application/json' } });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const QUERY = { patientName: '', patientID: '', dateFrom: '', dateTo: '', modality: '', accession: '', description: '', sort: 'patientName', desc: false, limit: 500, offset: 0 };

/** The Study Instance UID of the patient's study. */
export async function studyOf(patientID) {
  const list = (await rpc('ListStudies', { ...QUERY, patientID })) ?? [];
  const s = list.find((x) => x.patientID === patientID);
  assert.ok(s, `study of ${patientID} not in the store (import the corpus)`);
  return s.studyInstanceUID;
}

/** The series of a study whose description contains `needle` (e.g. "ct ele"). */
export async function seriesOf(studyUID, needle) {
  const list = (await rpc('ListSeries', studyUID)) ?? [];
  const s = list.find((x) => x.seriesDescription.toLowerCase().includes(needle));
  assert.ok(s, `no series "${needle}" in study ${studyUID}: ${list.map((x) => x.seriesDescription).join(', ')}`);
  return s;
}

/** Page helpers for the page that getPage() returns (set in the test file's before()). */
export function viewerHelpers(getPage) {
  const state = () => getPage().evaluate(() => window.__lbViewer.debugState());

  async function settle(ms = 250) {
    const page = getPage();
    await page.waitForTimeout(ms);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }

  async function openStudy(uid) {
    const page = getPage();
    await page.goto(`${BASE}/${RENDER}#/viewer/${encodeURIComponent(uid)}`);
    await page.waitForFunction((u) => window.__lbViewer?.debugState().studyUID === u, uid, { timeout: 30000 });
  }

  /** Shows a series in a cell (click on the cell, then on its thumbnail) and waits for its first image. */
  async function showSeries(seriesUID, cell = 0) {
    const page = getPage();
    await page.waitForSelector(`.vw-thumb[data-series="${seriesUID}"]`, { timeout: 20000 });
    await page.keyboard.press('w'); // so that the click below draws nothing
    await page.click(`.vw-cell[data-cell="${cell}"]`, { position: { x: 5, y: 5 } });
    // Wait for this load to finish (the viewer announces it), not for an earlier state of the cell.
    await page.evaluate(
      ([u, c]) => {
        window.__lbLoaded = new Promise((resolve) => {
          const root = document.querySelector('.viewer');
          const on = (ev) => {
            if (ev.detail.seriesUID === u && ev.detail.cell === c) {
              root.removeEventListener('lb-series-loaded', on);
              resolve(true);
            }
          };
          root.addEventListener('lb-series-loaded', on);
        });
      },
      [seriesUID, cell],
    );
    await page.click(`.vw-thumb[data-series="${seriesUID}"]`);
    await page.evaluate(() => window.__lbLoaded);
    await page.waitForFunction(
      ([u, c]) => {
        const s = window.__lbViewer.debugState().cells[c];
        return s && s.series === u && s.imageId && s.corners[2];
      },
      [seriesUID, cell],
      { timeout: 30000 },
    );
    await settle(400);
  }

  return { state, settle, openStudy, showSeries };
}
