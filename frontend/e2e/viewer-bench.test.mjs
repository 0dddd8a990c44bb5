// Viewer benchmark (not a timed test: it prints figures and asserts only that
// things worked). Runs when LIGHTBOX_URL and LIGHTBOX_BENCH_PATIENT (the
// Patient ID of a large CT study in the store, e.g. 500 slices of 512x512)
// are set; skipped otherwise.
//   time to first image after opening the study; sustained stack-scroll fps
//   once cached; time until MPR is ready; peak JS heap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, outDir } from './chromium.mjs';

const BASE = (process.env.LIGHTBOX_URL || '').replace(/\/$/, '');
const PATIENT = process.env.LIGHTBOX_BENCH_PATIENT || '';
// auto (default: CPU on a software WebGL renderer, GPU otherwise), cpu or gpu.
const RENDERING = process.env.LIGHTBOX_BENCH_RENDERING || 'auto';
const skip = BASE && PATIENT ? false : 'set LIGHTBOX_URL and LIGHTBOX_BENCH_PATIENT to run the viewer benchmark';

test('viewer benchmark on a large CT', { skip }, async () => {
  const q = { patientName: '', patientID: PATIENT, dateFrom: '', dateTo: '', modality: '', accession: '', description: '', sort: 'patientName', desc: false, limit: 10, offset: 0 };
  const r = await fetch(`${BASE}/api/call/ListStudies`, { method: 'POST', body: JSON.stringify([q]) });
  const study = (await r.json()).find((s) => s.patientID === PATIENT);
  assert.ok(study, `no study of ${PATIENT}`);
  const { context, close } = await launch({ width: 1400, height: 900 });
  try {
    const page = await context.newPage();
    let peak = 0;
    const heaps = [];
    const sample = async (label) => {
      const h = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0).catch(() => 0);
      peak = Math.max(peak, h);
      heaps.push(`${label} ${(h / 1048576).toFixed(0)}`);
    };
    // Load the app first, then time opening the study in the viewer.
    await page.goto(`${BASE}/?render=${RENDERING}#/studies`);
    await page.waitForLoadState('load');
    await page.waitForFunction(() => window.__lbViewer, null, { timeout: 30000 });
    await page.waitForTimeout(1500); // the viewer warms up while the study list is shown
    const t0 = Date.now();
    await page.evaluate((uid) => (location.hash = `#/viewer/${encodeURIComponent(uid)}`), study.studyInstanceUID);
    await page.waitForFunction(() => window.__lbViewer?.debugState().cells[0]?.corners[2], null, { timeout: 120000, polling: 10 });
    const firstImage = Date.now() - t0;
    const st = await page.evaluate(() => window.__lbViewer.debugState());
    assert.ok(st.cells[0].count >= 100, `a large stack (${st.cells[0].count})`);
    await sample('first image');
    const prefetchMs = await page.evaluate(() => window.__lbViewer.benchPrefetch(0));
    await sample('all cached');
    const fps = await page.evaluate((n) => window.__lbViewer.benchScroll(0, n), Math.min(300, st.cells[0].count));
    await sample('scrolled');
    const m0 = Date.now();
    await page.keyboard.press('Shift+M');
    await page.waitForFunction(() => window.__lbViewer.mprState()?.loadedMs >= 0, null, { timeout: 300000 });
    const mprWall = Date.now() - m0;
    const mpr = await page.evaluate(() => window.__lbViewer.mprState());
    await sample('MPR cached');
    // MPR straight after opening the study (no frame cached yet): the realistic case.
    await page.goto('about:blank');
    await page.goto(`${BASE}/?render=${RENDERING}#/studies`);
    await page.waitForFunction(() => window.__lbViewer, null, { timeout: 30000 });
    await page.waitForTimeout(1500);
    await page.evaluate((uid) => (location.hash = `#/viewer/${encodeURIComponent(uid)}`), study.studyInstanceUID);
    await page.waitForFunction(() => window.__lbViewer?.debugState().cells[0]?.corners[2], null, { timeout: 120000, polling: 10 });
    const c0 = Date.now();
    await page.keyboard.press('Shift+M');
    await page.waitForFunction(() => window.__lbViewer.mprState()?.loadedMs >= 0, null, { timeout: 300000 });
    const coldWall = Date.now() - c0;
    const cold = await page.evaluate(() => ({ ...window.__lbViewer.mprState(), loader: window.__lbViewer.debugState().loader }));
    await sample('MPR cold');
    await page.screenshot({ path: path.join(outDir(), 'viewer-bench-mpr.png') });
    const mode = st.rendering ?? { mode: 'gpu', reason: 'viewer without a CPU path', renderer: '' };
    console.log(
      `# viewer bench (${mode.mode.toUpperCase()} stack rendering, ${mode.reason}: ${mode.renderer}): ${st.cells[0].count} slices; first image ${firstImage} ms; all frames cached in ${Math.round(prefetchMs)} ms; ` +
        `scroll ${fps.toFixed(1)} fps; MPR (frames cached) first render ${Math.round(mpr.readyMs)} ms, complete ${mprWall} ms; ` +
        `MPR cold (right after the first image) first render ${Math.round(cold.readyMs)} ms, complete ${coldWall} ms (${cold.loader.bulkFrames ?? 0} slices streamed in bulk); ` +
        `peak JS heap ${(peak / 1048576).toFixed(0)} MB (MB after: ${heaps.join(', ')})`,
    );
    assert.ok(fps > 0);
  } finally {
    await close();
  }
});
