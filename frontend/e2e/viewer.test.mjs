// End-to-end tests of the diagnostic viewer against a running `lightbox serve`
// (env LIGHTBOX_URL) with the test corpus imported. They drive Debian's
// Chromium (WebGL on SwiftShader) and assert rendered pixels and measured
// values, not only the DOM. Geometry and values come from the corpus
// generator (shared/testdata/make-corpus.sh, corpus README.txt):
//   CT 128x128, Pixel Spacing 1.5 mm, HU = stored - 1024, water HU 0 inside
//   r <= 54 px of (63.5, 63.5), slice number (1-based) as 8x8 blocks at rows
//   96..103, x = 40 + 8k for bit k (HU 2000 when set), window 40/400.
//   CR MONOCHROME1 wedge: row 176..191, step k at cols 16k..16k+15, value k*273.
//   Palette: LUT r=min(255,3i), g=clip(3i-255), b=clip(3i-510); block indices
//   0 at (32,32), 255 at (96,32), 128 at (32,96), 64 at (96,96).
//   US RGB: frame f has a red (220,30,30) square at rows 8..31, cols 8+16f..31+16f;
//   green (30,200,60) cols 8..47, blue (40,60,210) cols 56..95, rows 48..87.
// Screenshots go to e2e/out/ (gitignored).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, outDir } from './chromium.mjs';
import { rpc, seriesOf, skip, studyOf, viewerHelpers } from './viewer-common.mjs';

const OUT = outDir();

let browser;
let page;
const errors = [];
const { state, settle, openStudy, showSeries } = viewerHelpers(() => page);

/** RGBA of the screen pixel over the centre of image pixel (col,row) in a cell. */
async function pixel(cell, col, row) {
  return page.evaluate(
    ([cell, col, row]) => {
      const p = window.__lbViewer.pixelToClient(cell, col, row);
      const canvas = document.querySelector(`.vw-cell[data-cell="${cell}"] canvas`);
      const r = canvas.getBoundingClientRect();
      const x = Math.floor((p[0] - r.left) * (canvas.width / r.width));
      const y = Math.floor((p[1] - r.top) * (canvas.height / r.height));
      return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
    },
    [cell, col, row],
  );
}

const grey = (px) => Math.round((px[0] + px[1] + px[2]) / 3);

/** Reads the slice number encoded as 8x8 blocks at row 99, x = 43 + 8k. */
async function sliceNumber(cell = 0) {
  let n = 0;
  for (let k = 0; k < 5; k++) if (grey(await pixel(cell, 43 + 8 * k, 99)) > 200) n |= 1 << k;
  return n;
}

async function client(cell, col, row) {
  return page.evaluate(([c, x, y]) => window.__lbViewer.pixelToClient(c, x, y), [cell, col, row]);
}

async function shot(name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
}

before(async () => {
  if (skip) return;
  browser = await launch({ width: 1400, height: 900 });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept('note'));
});

after(async () => {
  if (browser) await browser.close();
});

test('CT stack: first image, overlays, orientation markers, wheel/keys/scrollbar change the slice', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await openStudy(study);
  await showSeries(ct.seriesInstanceUID);
  let st = await state();
  assert.equal(st.cells[0].index, 0);
  assert.equal(await sliceNumber(), 1, 'slice 1 shows slice number 1');
  // Water at the centre with W 400 / L 40: (0 + 160) / 400 * 255 = 102.
  const centre = grey(await pixel(0, 64, 64));
  assert.ok(Math.abs(centre - 102) <= 6, `water grey ${centre}, expected ~102`);
  assert.deepEqual(st.cells[0].markers, ['A', 'L', 'P', 'R'], 'axial markers top/right/bottom/left');
  const markersDom = await page.$$eval('.vw-cell[data-cell="0"] .vw-orient', (els) => els.map((e) => e.textContent));
  assert.deepEqual(markersDom.sort(), ['A', 'L', 'P', 'R']);
  assert.match(st.cells[0].corners[0], /Phantom CT/);
  assert.match(st.cells[0].corners[0], /PHANTOM-CT/);
  assert.match(st.cells[0].corners[2], /Im: 1\/20/);
  assert.match(st.cells[0].corners[2], /Thk: 2\.5 mm/);
  assert.match(st.cells[0].corners[3], /W: 400 L: 40/);
  await shot('viewer-1x1-ct');

  // Mouse wheel: three notches forward.
  const c = await client(0, 64, 64);
  await page.mouse.move(c[0], c[1]);
  for (let i = 0; i < 3; i++) {
    await page.mouse.wheel(0, 120);
    await settle(150);
  }
  await settle(400);
  st = await state();
  assert.ok(st.cells[0].index > 0, `wheel moved the stack (index ${st.cells[0].index})`);
  assert.equal(await sliceNumber(), st.cells[0].index + 1, 'the pixels show the slice the stack is on');
  const afterWheel = st.cells[0].index;

  // Arrow keys.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await settle(400);
  st = await state();
  assert.equal(st.cells[0].index, afterWheel + 2);
  assert.equal(await sliceNumber(), afterWheel + 3);
  await page.keyboard.press('End');
  await settle(400);
  assert.equal(await sliceNumber(), 20);
  await page.keyboard.press('Home');
  await settle(400);
  assert.equal(await sliceNumber(), 1);

  // Scrollbar.
  await page.$eval('.vw-cell[data-cell="0"] .vw-scroll', (el) => {
    el.value = '12';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await settle(400);
  assert.equal((await state()).cells[0].index, 12);
  assert.equal(await sliceNumber(), 13);
  assert.match((await state()).cells[0].corners[2], /Im: 13\/20/);
});

test('W/L drag and CT presets change the grey level in the expected direction', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await openStudy(study);
  await showSeries(ct.seriesInstanceUID);
  await page.keyboard.press('w');
  const before = grey(await pixel(0, 64, 64));
  const wl0 = (await state()).cells[0].window;
  // Dragging down raises the level: water (HU 0) gets darker.
  const c = await client(0, 64, 64);
  await page.mouse.move(c[0], c[1]);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(c[0], c[1] + 10 * i);
  await page.mouse.up();
  await settle(400);
  const wl1 = (await state()).cells[0].window;
  const darker = grey(await pixel(0, 64, 64));
  assert.ok(wl1.windowCenter > wl0.windowCenter, `level rose: ${wl0.windowCenter} -> ${wl1.windowCenter}`);
  assert.ok(darker < before - 10, `water darker after dragging down: ${before} -> ${darker}`);
  // Dragging up lowers it again: brighter.
  await page.mouse.move(c[0], c[1]);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(c[0], c[1] - 10 * i);
  await page.mouse.up();
  await settle(400);
  const brighter = grey(await pixel(0, 64, 64));
  assert.ok(brighter > darker + 10, `water brighter after dragging up: ${darker} -> ${brighter}`);

  // Presets: lung -600/1500 puts water at (0+1350)/1500 = 0.9 -> 230; bone 400/1800 at 500/1800 -> 71.
  await page.keyboard.press('3');
  await settle(400);
  let st = await state();
  assert.deepEqual([Math.round(st.cells[0].window.windowCenter), Math.round(st.cells[0].window.windowWidth)], [-600, 1500]);
  const lung = grey(await pixel(0, 64, 64));
  assert.ok(Math.abs(lung - 230) <= 6, `lung window water grey ${lung}, expected ~230`);
  await page.keyboard.press('7');
  await settle(400);
  const bone = grey(await pixel(0, 64, 64));
  assert.ok(Math.abs(bone - 71) <= 6, `bone window water grey ${bone}, expected ~71`);
  // Air (HU -1000) is black in the bone window, the bone ring (HU 1000) light.
  assert.ok(grey(await pixel(0, 38, 56)) < 10);
  await page.keyboard.press('0');
  await settle(400);
  st = await state();
  assert.deepEqual([Math.round(st.cells[0].window.windowCenter), Math.round(st.cells[0].window.windowWidth)], [40, 400]);
  // Invert: water becomes 255 - 102.
  await page.keyboard.press('i');
  await settle(400);
  const inv = grey(await pixel(0, 64, 64));
  assert.ok(Math.abs(inv - 153) <= 6, `inverted water ${inv}, expected ~153`);
  await page.keyboard.press('i');
  // Flip and rotate: the markers follow, and so do the pixels (air insert (38,56) is on the patient's right).
  await page.keyboard.press('h');
  await settle(400);
  st = await state();
  assert.deepEqual(st.cells[0].markers, ['A', 'R', 'P', 'L'], 'flipped horizontally');
  const air = await client(0, 38, 56);
  const box = await page.$eval('.vw-cell[data-cell="0"]', (e) => e.getBoundingClientRect().toJSON());
  assert.ok(air[0] > box.x + box.width / 2, 'after the flip the air insert is on the right half');
  await page.keyboard.press('h');
  await page.keyboard.press(']');
  await settle(400);
  st = await state();
  assert.deepEqual(st.cells[0].markers, ['R', 'A', 'L', 'P'], 'rotated 90 degrees clockwise');
  await page.keyboard.press('Shift+R');
  await settle(400);
  assert.deepEqual((await state()).cells[0].markers, ['A', 'L', 'P', 'R'], 'reset');
});

test('length reads the known distance in mm; ROI mean in water is 0 HU', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await page.goto('about:blank');
  await rpc('SaveAnnotations', study, ''); // start without saved measurements
  await openStudy(study);
  await showSeries(ct.seriesInstanceUID);
  await page.keyboard.press('k'); // measurement list
  await settle(300);
  // One image pixel = exactly 4 screen pixels, so integer mouse positions 400 px apart span exactly 100 px = 150 mm.
  await page.evaluate(() => window.__lbViewer.setPixelScale(0, 4));
  await settle(300);
  await page.keyboard.press('l');
  const a = await client(0, 14, 64);
  const x0 = Math.round(a[0]);
  const y0 = Math.round(a[1]);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(x0 + 40 * i, y0);
  await page.mouse.up();
  await settle(600);
  let st = await state();
  const len = st.measurements.find((m) => m.tool === 'Length');
  assert.ok(len, 'a length measurement exists');
  assert.equal(len.values.unit, 'mm');
  assert.ok(Math.abs(len.values.length - 150) <= 0.1, `length ${len.values.length} mm, expected 150.0 (100 px x 1.5 mm)`);

  // Rectangle inside the water (cols 52..76, rows 60..72: no insert there).
  await page.keyboard.press('r');
  const r0 = await client(0, 52, 60);
  const r1 = await client(0, 76, 72);
  await page.mouse.move(r0[0], r0[1]);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(r0[0] + ((r1[0] - r0[0]) * i) / 10, r0[1] + ((r1[1] - r0[1]) * i) / 10);
  await page.mouse.up();
  await settle(800);
  st = await state();
  const rect = st.measurements.find((m) => m.tool === 'RectangleROI');
  assert.ok(rect, 'a rectangle ROI exists');
  assert.equal(rect.values.unit, 'HU');
  assert.ok(Math.abs(rect.values.mean) <= 1, `water mean ${rect.values.mean} HU, expected 0 +- 1`);
  assert.ok(rect.values.stdDev <= 1, `water SD ${rect.values.stdDev}`);
  // Area: 24 x 12 px x 2.25 mm^2 = 648 mm^2 (handles sit at the mouse, so allow a pixel of slack).
  assert.ok(Math.abs(rect.values.area - 648) < 80, `area ${rect.values.area} ${rect.values.areaUnit}`);

  // Ellipse over the air insert (centre (38,56), r 9): mean -1000 HU.
  await page.keyboard.press('e');
  const e0 = await client(0, 38, 56);
  const e1 = await client(0, 43, 59);
  await page.mouse.move(e0[0], e0[1]);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(e0[0] + ((e1[0] - e0[0]) * i) / 10, e0[1] + ((e1[1] - e0[1]) * i) / 10);
  await page.mouse.up();
  await settle(800);
  st = await state();
  const ell = st.measurements.find((m) => m.tool === 'EllipticalROI');
  assert.ok(ell, 'an ellipse ROI exists');
  assert.ok(Math.abs(ell.values.mean + 1000) <= 1, `air mean ${ell.values.mean} HU, expected -1000`);

  // Probe on the fat insert (64,30): HU -100.
  await page.keyboard.press('b');
  const p = await client(0, 64, 30);
  await page.mouse.click(p[0], p[1]);
  await settle(600);
  st = await state();
  const probe = st.measurements.find((m) => m.tool === 'Probe');
  assert.ok(probe, 'a probe exists');
  assert.equal(probe.values.value, -100);

  // The list shows them, and they persist per study.
  const items = await page.$$eval('.vw-measure-item', (els) => els.map((e) => e.dataset.tool));
  assert.ok(items.includes('Length') && items.includes('RectangleROI'), `list: ${items}`);
  await shot('viewer-measurements');
  await settle(1200); // debounced save
  const saved = JSON.parse(await rpc('LoadAnnotations', study));
  assert.ok(saved.annotations.some((a) => a.metadata.toolName === 'Length'), 'saved through SaveAnnotations');
  await page.reload();
  await page.waitForFunction(() => window.__lbViewer?.debugState().measurements.some((m) => m.tool === 'Length'), null, { timeout: 30000 });
  // Delete from the list.
  await page.keyboard.press('k');
  const n0 = (await state()).measurements.length;
  await page.click('.vw-measure-item[data-tool="Probe"] .vw-del');
  await settle(300);
  assert.equal((await state()).measurements.length, n0 - 1);
});

test('angle, Cobb angle, freehand ROI and arrow annotation', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await page.goto('about:blank');
  await rpc('SaveAnnotations', study, ''); // start without saved measurements
  await openStudy(study);
  await showSeries(ct.seriesInstanceUID);
  await page.evaluate(() => window.__lbViewer.setPixelScale(0, 4));
  await settle(300);
  // Integer screen positions on a 4-px grid: image offsets are exact.
  const o = await client(0, 64, 64);
  const at = (dx, dy) => [Math.round(o[0]) + 4 * dx, Math.round(o[1]) + 4 * dy];
  const pre = new Set((await state()).measurements.map((m) => m.uid));
  const n0 = pre.size;
  const newest = async (tool) => (await state()).measurements.filter((m) => m.tool === tool && !pre.has(m.uid)).at(-1);

  // Angle with its vertex at the centre (click, move, click, move, click): arms left and up = 90 degrees.
  await page.keyboard.press('a');
  const clickPath = async (pts) => {
    for (let k = 0; k < pts.length; k++) {
      if (k > 0) for (let i = 1; i <= 6; i++) await page.mouse.move(pts[k - 1][0] + ((pts[k][0] - pts[k - 1][0]) * i) / 6, pts[k - 1][1] + ((pts[k][1] - pts[k - 1][1]) * i) / 6);
      await page.mouse.move(...pts[k]);
      await page.mouse.down();
      await page.mouse.up();
      await settle(100);
    }
  };
  // (Away from the length line at row 64 and the ROIs that earlier tests may have saved on this image.)
  await clickPath([at(-24, -24), at(0, -24), at(0, -44)]);
  await settle(500);
  const angle = await newest('Angle');
  assert.ok(angle, 'an angle exists');
  assert.ok(Math.abs(angle.values.angle - 90) <= 0.5, `angle ${angle.values.angle}`);

  // Cobb angle between a horizontal line and one of slope 1/2: atan(0.5) = 26.57 degrees.
  await page.keyboard.press('c');
  const line = async (a, b) => {
    await page.mouse.move(...a);
    await page.mouse.down();
    for (let i = 1; i <= 6; i++) await page.mouse.move(a[0] + ((b[0] - a[0]) * i) / 6, a[1] + ((b[1] - a[1]) * i) / 6);
    await page.mouse.up();
    await settle(150);
  };
  await line(at(-40, -30), at(-4, -30));
  await line(at(-40, 20), at(-4, 2));
  await settle(500);
  const cobb = await newest('CobbAngle');
  assert.ok(cobb, 'a Cobb angle exists');
  assert.ok(Math.abs(cobb.values.angle - 26.57) <= 0.5, `Cobb angle ${cobb.values.angle}`);

  // Freehand ROI: a closed loop inside the water (cols 54..74, rows 44..52) -> mean 0 HU.
  await page.keyboard.press('f');
  const loop = [at(-10, -20), at(10, -20), at(10, -12), at(-10, -12), at(-10, -19)];
  await page.mouse.move(...loop[0]);
  await page.mouse.down();
  for (let k = 1; k < loop.length; k++) {
    const [a, b] = [loop[k - 1], loop[k]];
    for (let i = 1; i <= 10; i++) await page.mouse.move(a[0] + ((b[0] - a[0]) * i) / 10, a[1] + ((b[1] - a[1]) * i) / 10);
  }
  await page.mouse.move(...loop[0]);
  await page.mouse.up();
  await settle(800);
  const fh = await newest('PlanarFreehandROI');
  assert.ok(fh, 'a freehand ROI exists');
  assert.equal(fh.values.unit, 'HU');
  assert.ok(Math.abs(fh.values.mean) <= 1, `freehand mean ${fh.values.mean}`);

  // Arrow annotation (the text prompt is answered "note" by the dialog handler).
  await page.keyboard.press('t');
  await line(at(-20, -40), at(-10, -30));
  await settle(500);
  const arrow = await newest('ArrowAnnotate');
  await shot('viewer-angles');
  assert.ok(arrow, 'an arrow exists');
  assert.equal(arrow.values.label, 'note');
  assert.equal((await state()).measurements.length, n0 + 4);
  await shot('viewer-angles');
  // Select the arrow and delete it with the Delete key.
  await page.keyboard.press('w');
  await page.evaluate((uid) => document.querySelector(`.vw-measure-item[data-uid="${uid}"] .vw-linkbtn`)?.click(), arrow.uid);
  await page.keyboard.press('k');
  await page.click(`.vw-measure-item[data-uid="${arrow.uid}"] .vw-linkbtn`);
  await page.keyboard.press('Delete');
  await settle(300);
  assert.equal((await state()).measurements.length, n0 + 3);
});

test('MONOCHROME1 CR shows inverted grey (low stored value = white)', { skip }, async () => {
  const study = await studyOf('PHANTOM-CR');
  const cr = await seriesOf(study, 'cr ele');
  await page.goto('about:blank');
  await rpc('SaveAnnotations', study, ''); // start without saved measurements
  await openStudy(study);
  await showSeries(cr.seriesInstanceUID);
  const low = grey(await pixel(0, 8, 184)); // step 0: stored 0
  const high = grey(await pixel(0, 248, 184)); // step 15: stored 4095
  const mid = grey(await pixel(0, 120, 184)); // step 7: stored 1911
  assert.ok(low > 240, `stored 0 is white (${low})`);
  assert.ok(high < 15, `stored 4095 is black (${high})`);
  assert.ok(mid > high && mid < low, 'monotone');
  const st = await state();
  assert.equal(st.cells[0].invert, true);
  assert.match(st.cells[0].corners[2], /imager spacing/);
  // Length on Imager Pixel Spacing is marked as such.
  await page.keyboard.press('l');
  const a = await client(0, 40, 100);
  const b = await client(0, 140, 100);
  await page.mouse.move(a[0], a[1]);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(a[0] + ((b[0] - a[0]) * i) / 10, a[1]);
  await page.mouse.up();
  await settle(500);
  const len = (await state()).measurements.find((m) => m.tool === 'Length' && m.imageId === st.cells[0].imageId);
  assert.ok(len, 'length on the CR');
  assert.match(String(len.values.unit), /mm Proj/);
  assert.ok(Math.abs(len.values.length - 50) < 1, `100 px x 0.5 mm = 50 mm, got ${len.values.length}`);
  await shot('viewer-cr-monochrome1');
});

test('palette colour and RGB ultrasound show the right colours; cine advances', { skip }, async () => {
  const pstudy = await studyOf('PHANTOM-PAL');
  const pal = await seriesOf(pstudy, 'pal ele');
  await openStudy(pstudy);
  await showSeries(pal.seriesInstanceUID);
  const close = (got, want, tol = 4) => want.every((v, i) => Math.abs(got[i] - v) <= tol);
  for (const [x, y, want] of [
    [32, 32, [0, 0, 0]],
    [96, 32, [255, 255, 255]],
    [32, 96, [255, 129, 0]],
    [96, 96, [192, 0, 0]],
  ]) {
    const got = await pixel(0, x, y);
    assert.ok(close(got, want), `palette (${x},${y}) = ${got.slice(0, 3)}, want ${want}`);
  }
  await shot('viewer-palette');

  const ustudy = await studyOf('PHANTOM-US');
  const us = await seriesOf(ustudy, 'us ele');
  await openStudy(ustudy);
  await showSeries(us.seriesInstanceUID);
  let st = await state();
  assert.equal(st.cells[0].count, 8, 'eight frames');
  for (const [x, y, want] of [
    [20, 20, [220, 30, 30]],
    [28, 68, [30, 200, 60]],
    [76, 68, [40, 60, 210]],
    [124, 68, [230, 220, 40]],
  ]) {
    const got = await pixel(0, x, y);
    assert.ok(close(got, want, 6), `US (${x},${y}) = ${got.slice(0, 3)}, want ${want}`);
  }
  // Cine at the file's rate (Recommended Display Frame Rate 25).
  assert.equal(await page.$eval('.vw-fps', (e) => e.value), '25');
  await page.keyboard.press(' ');
  await page.waitForTimeout(700);
  st = await state();
  assert.ok(st.cells[0].cine, 'cine running');
  // Sample at an interval that is no multiple of the loop period (8 frames at 25 fps = 320 ms).
  const seen = new Set([st.cells[0].index]);
  for (let k = 0; k < 8; k++) {
    await page.waitForTimeout(37);
    seen.add((await state()).cells[0].index);
  }
  assert.ok(seen.size >= 3, `frames advance (seen ${[...seen]})`);
  await page.keyboard.press(' ');
  await settle(300);
  st = await state();
  assert.equal(st.cells[0].cine, false);
  // The red square of frame f is at cols 8+16f..31+16f.
  const f = st.cells[0].index;
  const red = await pixel(0, 20 + 16 * f, 20);
  assert.ok(close(red, [220, 30, 30], 6), `frame ${f}: red square at its place (${red})`);
  await shot('viewer-us');
});

test('2x2 layout, drag a series into a viewport, tag browser, help, export', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  const all = (await rpc('ListSeries', study)) ?? [];
  await openStudy(study);
  await page.keyboard.press('Shift+Digit4');
  await page.waitForFunction(() => window.__lbViewer.debugState().cells.length === 4);
  const other = all.find((s) => s.seriesInstanceUID !== ct.seriesInstanceUID);
  await page.dragAndDrop(`.vw-thumb[data-series="${ct.seriesInstanceUID}"]`, '.vw-cell[data-cell="3"]');
  await page.waitForFunction((u) => {
    const c = window.__lbViewer.debugState().cells[3];
    return c.series === u && c.imageId && c.corners[2];
  }, ct.seriesInstanceUID, { timeout: 20000 });
  await settle(500);
  assert.equal(await sliceNumber(3), 1);
  const st = await state();
  assert.deepEqual(st.layout, [2, 2]);
  if (other) assert.equal(st.cells.filter((c) => c.series).length >= 2, true, 'other cells filled with other series');
  await shot('viewer-2x2');

  // Tag browser: searchable.
  await page.keyboard.press('g');
  await page.waitForSelector('.vw-tag-row', { timeout: 10000 });
  await page.fill('.vw-tag-search', 'PatientName');
  await settle(200);
  const rows = await page.$$eval('.vw-tag-row', (els) => els.map((e) => e.textContent));
  assert.ok(rows.some((r) => r.includes('(0010,0010)') && r.includes('Phantom^CT')), `tag rows: ${rows.slice(0, 3)}`);
  await shot('viewer-tags');
  await page.keyboard.press('Escape');

  // Help overlay on '?'.
  await page.keyboard.press('?');
  assert.ok(await page.$('.vw-help'), 'help shown');
  const helpText = await page.textContent('.vw-help');
  assert.match(helpText, /Cine/);
  await page.keyboard.press('Escape');
  assert.equal(await page.$('.vw-help'), null);

  // Export PNG.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export-png"]')]);
  const file = path.join(OUT, 'viewer-export.png');
  await dl.saveAs(file);
  const head = fs.readFileSync(file).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(fs.statSync(file).size > 2000);
});

test('synchronised scrolling across two series of one frame of reference', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ele = await seriesOf(study, 'ct ele');
  const ile = await seriesOf(study, 'ct ile');
  await openStudy(study);
  await page.keyboard.press('Shift+Digit2');
  await page.waitForFunction(() => window.__lbViewer.debugState().cells.length === 2);
  await showSeries(ele.seriesInstanceUID, 0);
  await showSeries(ile.seriesInstanceUID, 1);
  await page.click('.vw-cell[data-cell="0"]', { position: { x: 5, y: 5 } });
  await page.keyboard.press('s');
  await settle(800); // metas of both stacks
  await page.keyboard.press('End');
  await page.waitForFunction(() => window.__lbViewer.debugState().cells[1].index === 19, null, { timeout: 15000 });
  await settle(400);
  assert.equal(await sliceNumber(1), 20, 'the other viewport shows the same slice');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction(() => window.__lbViewer.debugState().cells[1].index === 17, null, { timeout: 15000 });
  await page.keyboard.press('s'); // sync off
  await page.keyboard.press('ArrowUp');
  await settle(400);
  assert.equal((await state()).cells[1].index, 17, 'no longer follows');
  await shot('viewer-1x2-sync');
});

test('MPR: sagittal pixel at a known coordinate; 3D renders; non-volume explained', { skip }, async () => {
  const study = await studyOf('PHANTOM-CT');
  const ct = await seriesOf(study, 'ct ele');
  await openStudy(study);
  await page.keyboard.press('Shift+Digit1');
  await showSeries(ct.seriesInstanceUID);
  const t0 = Date.now();
  await page.keyboard.press('Shift+M');
  await page.waitForFunction(() => window.__lbViewer.mprState()?.loadedMs >= 0, null, { timeout: 60000 });
  const mprMs = Date.now() - t0;
  await settle(800);
  const ms = await page.evaluate(() => window.__lbViewer.mprState());
  assert.deepEqual(ms.views.map((v) => v.label), ['Axial', 'Sagittal', 'Coronal']);
  // Sagittal through the centre (x = 0 mm, between columns 63 and 64). Row 99 (y = -95.25 + 99*1.5)
  // holds the slice-number blocks of bits 2 (cols 56..63) and 3 (cols 64..71): slice 13 (0b1101) has
  // both set (HU 2000: white), slice 2 (0b10) neither (water: grey 102 at 40/400).
  const y = -95.25 + 99 * 1.5;
  const sag = async (z) => {
    const p = await page.evaluate(([y, z]) => window.__lbViewer.mprWorldToClient(1, [0, y, z]), [y, z]);
    return page.evaluate(([x, y]) => {
      const canvas = document.querySelector('.vw-cell[data-mpr="sagittal"] canvas');
      const r = canvas.getBoundingClientRect();
      return Array.from(canvas.getContext('2d').getImageData(Math.floor((x - r.left) * (canvas.width / r.width)), Math.floor((y - r.top) * (canvas.height / r.height)), 1, 1).data);
    }, p);
  };
  const white = grey(await sag(-50 + 2.5 * 12));
  const water = grey(await sag(-50 + 2.5 * 1));
  assert.ok(white > 220, `sagittal (y=${y}, slice 13) is white: ${white}`);
  assert.ok(Math.abs(water - 102) <= 8, `sagittal (slice 2) is water grey: ${water}`);
  const sagMarkers = ms.views[1].markers;
  assert.deepEqual([sagMarkers[0], sagMarkers[2]], ['H', 'F'], `sagittal markers ${sagMarkers}`);
  await shot('viewer-mpr');
  // MIP slab: the bright blocks spread along the slab.
  await page.selectOption('[data-control="slab-mode"]', 'mip');
  await page.fill('[data-control="slab-thickness"]', '40');
  await page.dispatchEvent('[data-control="slab-thickness"]', 'change');
  await settle(800);
  await shot('viewer-mpr-mip');
  console.log(`# MPR ready (all slices loaded) in ${mprMs} ms wall, ${Math.round(ms.loadedMs)} ms in page`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.__lbViewer.mprState() === null);

  await page.keyboard.press('Shift+V');
  await page.waitForFunction(() => window.__lbViewer.mprState()?.loadedMs >= 0, null, { timeout: 60000 });
  await settle(1500);
  const nonBlack = await page.evaluate(() => {
    const canvas = document.querySelector('.vw-cell[data-mpr="3d"] canvas');
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) n++;
    return n / (d.length / 4);
  });
  await shot('viewer-3d');
  // The dense parts (slice-number blocks at HU 2000, contrast insert) light up; air and water stay dark.
  assert.ok(nonBlack > 0.005 && nonBlack < 0.6, `3D rendering shows the dense parts (${(nonBlack * 100).toFixed(1)}% lit)`);
  await page.keyboard.press('Escape');

  // A single multi-frame colour image is not a volume: a clear message.
  const ustudy = await studyOf('PHANTOM-US');
  const us = await seriesOf(ustudy, 'us ele');
  await openStudy(ustudy);
  await showSeries(us.seriesInstanceUID);
  await page.keyboard.press('Shift+M');
  await page.waitForSelector('.vw-notice', { timeout: 10000 });
  assert.match(await page.textContent('.vw-notice'), /not volumetric/);
  assert.equal(await page.evaluate(() => window.__lbViewer.mprState()), null);
});

test('no uncaught page errors', { skip }, () => {
  assert.deepEqual(errors, []);
});
