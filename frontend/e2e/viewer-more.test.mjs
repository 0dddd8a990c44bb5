// More end-to-end tests of the viewer (see viewer.test.mjs for the set-up):
// reference lines between non-parallel planes, the magnifier, JPEG export, and
// live refresh while images land. They assert what is on the screen (pixels
// read back from screenshots) and decoded files, not only the DOM.
// The reference-line and live-refresh tests create their own small CT series
// (viewer-dicom.mjs) and import them through POST /files/upload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, outDir } from './chromium.mjs';
import { BASE, QUERY, rpc, seriesOf, skip, studyOf, viewerHelpers } from './viewer-common.mjs';
import { ctSlice, upload } from './viewer-dicom.mjs';

const OUT = outDir();

let browser;
let page;
const errors = [];
const { state, settle, openStudy, showSeries } = viewerHelpers(() => page);

async function dropStudy(patientID) {
  const list = (await rpc('ListStudies', { ...QUERY, patientID })) ?? [];
  for (const s of list) if (s.patientID === patientID) await rpc('DeleteStudy', s.studyInstanceUID);
}

const client = (cell, col, row) => page.evaluate(([c, x, y]) => window.__lbViewer.pixelToClient(c, x, y), [cell, col, row]);

/**
 * RGBA pixels of a screen rectangle as the user sees it (canvas, SVG annotations
 * and DOM overlays composited): a clipped screenshot decoded by the browser.
 */
async function screenPixels(x, y, width, height) {
  const png = await page.screenshot({ clip: { x, y, width, height } });
  return page.evaluate(async (b64) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(bmp, 0, 0);
    return { width: bmp.width, height: bmp.height, data: Array.from(ctx.getImageData(0, 0, bmp.width, bmp.height).data) };
  }, png.toString('base64'));
}

const grey = (d, i) => Math.round((d[i] + d[i + 1] + d[i + 2]) / 3);
/** Annotation colours stand out from grey images: a channel far from the others. */
const coloured = (d, i) => Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60;

before(async () => {
  if (skip) return;
  browser = await launch({ width: 1400, height: 900 });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
});

after(async () => {
  if (browser) await browser.close();
});

// ------------------------------------------------------------------ synthetic series

const GEOM = { study: '2.25.771000000000000000000000000000001', frame: '2.25.771000000000000000000000000000002' };
const common = { studyUID: GEOM.study, frameUID: GEOM.frame, patientName: 'E2E^Geometry', patientID: 'E2E-GEOM', rows: 64, cols: 64, spacing: 2, window: [40, 400] };

/** Axial slices (z = -10..10 mm) and sagittal slices (x = 10, 0, -10, -20 mm) of one frame of reference. */
async function importGeometryStudy() {
  await dropStudy('E2E-GEOM');
  for (let k = 0; k < 6; k++) {
    const z = -10 + 4 * k;
    const b = ctSlice({ ...common, seriesUID: `${GEOM.study}.1`, sopUID: `${GEOM.study}.1.${k + 1}`, seriesNumber: 1, seriesDescription: 'e2e axial', instance: k + 1, ipp: [-64, -64, z], iop: [1, 0, 0, 0, 1, 0], hu: (r, c) => (c === 37 || c === 32 ? 1000 : 0) });
    await upload(BASE, `ax${k}.dcm`, b);
  }
  for (let k = 0; k < 4; k++) {
    const x = 10 - 10 * k;
    const b = ctSlice({ ...common, seriesUID: `${GEOM.study}.2`, sopUID: `${GEOM.study}.2.${k + 1}`, seriesNumber: 2, seriesDescription: 'e2e sagittal', instance: k + 1, ipp: [x, -64, 64], iop: [0, 1, 0, 0, 0, -1], hu: () => 0 });
    await upload(BASE, `sag${k}.dcm`, b);
  }
}

test('reference lines: the sagittal plane is drawn on the axial image at its x position', { skip }, async () => {
  await importGeometryStudy();
  const study = await studyOf('E2E-GEOM');
  const ax = await seriesOf(study, 'e2e axial');
  const sag = await seriesOf(study, 'e2e sagittal');
  await openStudy(study);
  await page.keyboard.press('Shift+Digit2');
  await page.waitForFunction(() => window.__lbViewer.debugState().cells.length === 2);
  await showSeries(sag.seriesInstanceUID, 0);
  await showSeries(ax.seriesInstanceUID, 1);
  let st = await state();
  assert.deepEqual(st.cells[0].markers, ['H', 'P', 'F', 'A'], 'cell 0 shows a sagittal image');
  assert.deepEqual(st.cells[1].markers, ['A', 'L', 'P', 'R'], 'cell 1 shows an axial image');
  // Source = the active viewport (the sagittal one).
  await page.click('.vw-cell[data-cell="0"]', { position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await settle(600);
  // Sagittal slice 1 lies at x = 10 mm: axial column (10 + 64) / 2 = 37.
  const row = async () => {
    const p = await client(1, 37, 40);
    // The row of the image (columns 0..63), not the cell's scrollbar.
    const left = (await client(1, 0, 40))[0] - 4;
    const bar = await page.$eval('.vw-cell[data-cell="1"] .vw-scroll', (e) => e.getBoundingClientRect().left);
    const right = Math.min((await client(1, 63, 40))[0] + 4, bar - 1);
    const box = { x: left, width: right - left };
    const px = await screenPixels(Math.round(box.x), Math.round(p[1]), Math.round(box.width), 1);
    const xs = [];
    const white = [];
    for (let i = 0; i < px.width; i++) {
      const c = coloured(px.data, i * 4);
      if (c) xs.push(Math.round(box.x) + i);
      // Stripe pixels (HU 1000 is white; magnified stripes may be interpolated), the line included.
      if (c || grey(px.data, i * 4) > 160) white.push(Math.round(box.x) + i);
    }
    // Centres of the white stripes the axial images carry at columns 32 (x = 0) and 37 (x = 10 mm).
    const stripes = [];
    for (const x of white) {
      const last = stripes.at(-1);
      if (last && x - last.at(-1) <= 4) last.push(x);
      else stripes.push([x]);
    }
    return { want: p[0], xs, stripes: stripes.map((g) => (g[0] + g.at(-1)) / 2) };
  };
  const near = (xs, x, tol) => xs.length > 0 && xs.every((v) => Math.abs(v - x) <= tol);
  let r = await row();
  await page.screenshot({ path: path.join(OUT, 'viewer-reflines.png') });
  assert.equal(r.stripes.length, 2, `two stripes on the axial image (${r.stripes})`);
  // The viewer's own pixel-to-screen mapping (used by the other tests) agrees with the image.
  assert.ok(Math.abs(r.stripes[1] - r.want) <= 2, `column 37 is where the viewer maps it (${r.stripes[1]} vs ${r.want})`);
  assert.ok(near(r.xs, r.stripes[1], 3), `line pixels at ${r.xs}: on the x = 10 mm stripe at ${r.stripes[1]}`);
  // Next sagittal slice (x = 0 mm): the line moves to column 32.
  await page.keyboard.press('ArrowDown');
  await settle(600);
  st = await state();
  assert.equal(st.cells[0].index, 1);
  const p32 = await client(1, 32, 40);
  r = await row();
  assert.ok(Math.abs(r.stripes[0] - p32[0]) <= 2, `column 32 at ${r.stripes[0]} vs ${p32[0]}`);
  assert.ok(near(r.xs, r.stripes[0], 3), `the line follows the source slice: pixels at ${r.xs}, x = 0 stripe at ${r.stripes[0]}`);
  // Off again: no coloured pixels.
  await page.keyboard.press('j');
  await settle(400);
  r = await row();
  assert.deepEqual(r.xs, [], 'reference lines off');
});

test('live refresh: the stack grows while images of the open series land', { skip }, async () => {
  await dropStudy('E2E-LIVE');
  const study = '2.25.772000000000000000000000000000001';
  const slice = (k) =>
    ctSlice({
      ...common,
      studyUID: study,
      frameUID: `${study}.9`,
      patientName: 'E2E^Live',
      patientID: 'E2E-LIVE',
      seriesUID: `${study}.1`,
      sopUID: `${study}.1.${k}`,
      seriesNumber: 1,
      seriesDescription: 'e2e live',
      instance: k,
      ipp: [-64, -64, 2 * k],
      iop: [1, 0, 0, 0, 1, 0],
      // Slice k is uniform HU 100 k: grey 255 * 100 k / 700 in the window 350/700.
      hu: () => 100 * k,
      window: [350, 700],
    });
  await upload(BASE, 'live1.dcm', slice(1));
  await upload(BASE, 'live2.dcm', slice(2));
  await openStudy(study);
  await page.keyboard.press('Shift+Digit1');
  const series = await seriesOf(study, 'e2e live');
  await showSeries(series.seriesInstanceUID, 0);
  assert.equal((await state()).cells[0].count, 2);
  const centreGrey = async () => {
    const p = await client(0, 32, 32);
    const px = await screenPixels(Math.round(p[0]), Math.round(p[1]), 1, 1);
    return grey(px.data, 0);
  };
  // Each landing image is announced and the open stack grows with it.
  for (let k = 3; k <= 6; k++) {
    await upload(BASE, `live${k}.dcm`, slice(k));
    await page.waitForFunction((n) => window.__lbViewer.debugState().cells[0].count === n, k, { timeout: 15000 });
  }
  const st = await state();
  assert.equal(st.cells[0].index, 0, 'the view stays on the slice it showed');
  await page.keyboard.press('End');
  await settle(500);
  assert.equal((await state()).cells[0].index, 5);
  const g6 = await centreGrey();
  assert.ok(Math.abs(g6 - 219) <= 6, `the last landed slice (HU 600) shows grey ${g6}, expected ~219`);
  assert.match((await state()).cells[0].corners[2], /Im: 6\/6/);
  await page.keyboard.press('Home');
  await settle(400);
  const g1 = await centreGrey();
  assert.ok(Math.abs(g1 - 36) <= 6, `slice 1 (HU 100) shows grey ${g1}, expected ~36`);
  await dropStudy('E2E-LIVE');
});

test('magnifier: shows the region under the pointer enlarged', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await openStudy(study);
  await page.keyboard.press('Shift+Digit1');
  await showSeries(ct.seriesInstanceUID, 0);
  // Slice 1: only bit 0 of the slice number is set, a white 8x8 block at cols 40..47, rows 96..103;
  // cols 48..55 (bit 1) are water. The pointer goes on water 3 pixels left of the block.
  const s = await page.evaluate(() => {
    const a = window.__lbViewer.pixelToClient(0, 0, 0);
    const b = window.__lbViewer.pixelToClient(0, 1, 0);
    return b[0] - a[0];
  });
  // The glass, centred on the pointer, shows the block edge (2.5 image pixels from the centre of
  // column 37) at 2.5 * s * zoom screen pixels; from column 38 at 1.5 * s * zoom. Their difference
  // gives the zoom, their ratio shows that the glass is centred on the pointer.
  await page.keyboard.press('m');
  const edgeFrom = async (col, name) => {
    const p = await client(0, col, 99);
    const [x, y] = [Math.round(p[0]), Math.round(p[1])];
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.waitForSelector('.magnifyTool', { state: 'visible', timeout: 5000 });
    await settle(500);
    const glass = await page.$eval('.magnifyTool', (e) => e.getBoundingClientRect().toJSON());
    const px = await screenPixels(x, y, Math.floor(glass.width / 2) - 4, 1);
    if (name) await page.screenshot({ path: path.join(OUT, name) });
    await page.mouse.up();
    await settle(200);
    const g = (i) => grey(px.data, i * 4);
    assert.ok(Math.abs(glass.x + glass.width / 2 - x) <= 2 && Math.abs(glass.y + glass.height / 2 - y) <= 2, 'the glass is centred on the pointer');
    assert.ok(Math.abs(g(0) - 102) <= 8, `water under the pointer (${g(0)})`);
    const edge = [...Array(px.width).keys()].find((i) => g(i) > 220);
    assert.ok(edge !== undefined, `the block is inside the glass (pointer at column ${col})`);
    return edge;
  };
  const d3 = await edgeFrom(37, 'viewer-magnifier.png');
  const d2 = await edgeFrom(38);
  const zoom = (d3 - d2) / s;
  assert.ok(zoom >= 2, `magnified ${zoom.toFixed(2)}x (edge at ${d3} and ${d2} px, ${s.toFixed(2)} screen px per image pixel)`);
  // (Within one image pixel: the CPU path's glass sits about 0.75 pixel off, the GPU one 0.45.)
  const off = d3 / (s * zoom) - 2.5;
  assert.ok(Math.abs(off) <= 1, `the glass is centred on the pointer within a pixel (edge ${d3} px = ${(d3 / (s * zoom)).toFixed(2)} image pixels away, want 2.5)`);
  // After release the glass is gone and the view shows the plain image again.
  await settle(300);
  assert.equal(await page.$eval('.magnifyTool', (e) => getComputedStyle(e).display).catch(() => 'none'), 'none');
  await page.keyboard.press('w');
});

test('JPEG export: a decodable image of the viewport size with the rendered pixels', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await openStudy(study);
  await page.keyboard.press('Shift+Digit1');
  await showSeries(ct.seriesInstanceUID, 0);
  const size = await page.$eval('.vw-cell[data-cell="0"] canvas', (c) => [c.width, c.height]);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export-jpeg"]')]);
  assert.match(dl.suggestedFilename(), /\.jpg$/);
  const file = path.join(OUT, 'viewer-export.jpg');
  await dl.saveAs(file);
  const bytes = fs.readFileSync(file);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG SOI marker');
  assert.deepEqual([...bytes.subarray(-2)], [0xff, 0xd9], 'JPEG EOI marker');
  // Decode it in the browser; the water centre (image pixel 64,64) keeps its grey ~102 (window 40/400).
  const p = await client(0, 64, 64);
  const box = await page.$eval('.vw-cell[data-cell="0"] canvas', (c) => c.getBoundingClientRect().toJSON());
  const res = await page.evaluate(
    async ([b64, cx, cy]) => {
      const blob = await (await fetch(`data:image/jpeg;base64,${b64}`)).blob();
      const bmp = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(bmp, 0, 0);
      const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
      const hist = new Set();
      let sum = 0;
      let sum2 = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const g = (d[i] + d[i + 1] + d[i + 2]) / 3;
        hist.add(Math.round(g));
        sum += g;
        sum2 += g * g;
      }
      const mean = sum / n;
      const k = (Math.floor(cy) * bmp.width + Math.floor(cx)) * 4;
      return { width: bmp.width, height: bmp.height, levels: hist.size, sd: Math.sqrt(sum2 / n - mean * mean), centre: (d[k] + d[k + 1] + d[k + 2]) / 3 };
    },
    [bytes.toString('base64'), p[0] - box.x, p[1] - box.y],
  );
  assert.deepEqual([res.width, res.height], size, 'the export has the viewport canvas size');
  assert.ok(res.levels > 50 && res.sd > 20, `non-uniform image (${res.levels} grey levels, SD ${res.sd.toFixed(1)})`);
  assert.ok(Math.abs(res.centre - 102) <= 10, `water centre grey ${res.centre.toFixed(0)}, expected ~102`);
});

test('no uncaught page errors', { skip }, () => {
  assert.deepEqual(errors, []);
});

after(async () => {
  if (!skip) await dropStudy('E2E-GEOM').catch(() => undefined);
});
