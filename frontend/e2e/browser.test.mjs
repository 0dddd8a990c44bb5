// End-to-end test of the study browser against a running `lightbox serve`
// whose store holds the imported test corpus (the Makefile sets it up).
//   LIGHTBOX_URL     base URL of the server (required)
//   LIGHTBOX_CORPUS  corpus directory (default $HOME/.cache/lightbox/corpus)
// Expected values come from the corpus manifest, never from the app.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, outDir } from './chromium.mjs';

const BASE = process.env.LIGHTBOX_URL;
const CORPUS = process.env.LIGHTBOX_CORPUS || path.join(os.homedir(), '.cache', 'lightbox', 'corpus');

function readManifest() {
  const file = path.join(CORPUS, 'manifest.tsv');
  if (!fs.existsSync(file)) throw new Error(`corpus missing: run make corpus (${file})`);
  const [head, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = head.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])));
}

/** PN wildcard match as the contract says: * and ?, case-insensitive, any component group. */
function pnMatches(pattern, name) {
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
    'iu',
  );
  return name.split('=').some((g) => re.test(g)) || re.test(name);
}

const manifest = readManifest();
const known = (uid) => uid !== '' && uid !== '-'; // '-' and '' mean "not known in advance"
const rows = manifest.filter((r) => r.expect === 'ok');
// Every study of an expect=ok file must be listed.
const studyUIDs = [...new Set(rows.map((r) => r.study_uid).filter(known))];
// Files the manifest cannot name a study for may add studies, and so may lenient files.
const unknownOkFiles = rows.filter((r) => !known(r.study_uid)).length;
const lenientUIDs = new Set(manifest.filter((r) => r.expect === 'lenient' && known(r.study_uid)).map((r) => r.study_uid));
const nameOf = new Map();
for (const r of rows) if (!nameOf.get(r.study_uid)) nameOf.set(r.study_uid, r.patient_name_utf8);
/** Every study the table lists (filled by the first test). */
let listed = [];
const ct = rows.filter((r) => r.kind === 'ct');
const ctStudy = ct[0]?.study_uid;
const ctSeries = new Set(ct.map((r) => r.series_uid));
const ctNativeSeries = ct.find((r) => r.ts_key === 'ele')?.series_uid;
const charsetRows = rows.filter((r) => r.path.startsWith('charset/generated/') && r.patient_name_utf8);

let browser;
let page;
const pageErrors = [];

before(async () => {
  assert.ok(BASE, 'LIGHTBOX_URL is not set: start `lightbox serve` on an imported corpus (make e2e does this)');
  browser = await launch({ width: 1440, height: 900 });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(new URL('/#/studies', BASE).href);
});

after(async () => {
  await browser?.close();
});

/** Calls an App method through the page's own origin (cookie and all), as the UI does. */
function call(method, ...args) {
  return page.evaluate(
    async ({ method, args }) => {
      const r = await fetch(`api/call/${method}`, { method: 'POST', body: JSON.stringify(args) });
      if (!r.ok) throw new Error(`${method}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    { method, args },
  );
}

const rowLocator = () => page.locator('table.study-table tbody tr[data-uid]');
async function listedUIDs() {
  return rowLocator().evaluateAll((trs) => trs.map((tr) => tr.dataset.uid));
}
async function waitForRowCount(n) {
  await page.waitForFunction((n) => document.querySelectorAll('table.study-table tbody tr[data-uid]').length === n, n, {
    timeout: 15000,
  });
}

test('the table lists every study of the corpus', async () => {
  assert.ok(studyUIDs.length > 10, `manifest has ${studyUIDs.length} studies`);
  await page.waitForFunction(
    (uids) => uids.every((u) => document.querySelector(`tr[data-uid="${CSS.escape(u)}"]`)),
    studyUIDs,
    { timeout: 15000 },
  ).catch(() => {});
  listed = await listedUIDs();
  const missing = studyUIDs.filter((u) => !listed.includes(u));
  assert.deepEqual(missing, [], 'studies of the manifest missing from the table');
  const extras = listed.filter((u) => !studyUIDs.includes(u));
  const unexplained = extras.filter((u) => !lenientUIDs.has(u));
  assert.ok(
    unexplained.length <= unknownOkFiles,
    `${unexplained.length} listed studies come from no manifest row: ${unexplained.join(', ')}`,
  );
  assert.equal(new Set(listed).size, listed.length, 'a study is listed twice');
  assert.equal(await page.locator('.count').innerText(), `${listed.length} studies`);
  for (const u of extras) nameOf.set(u, await page.locator(`tr[data-uid="${u}"] td.c-patientName`).innerText());
});

test('patient names in every character set are shown exactly', async () => {
  assert.ok(charsetRows.length >= 10, `${charsetRows.length} charset files in the manifest`);
  const shown = await page.evaluate((uids) => {
    const out = {};
    for (const uid of uids) out[uid] = document.querySelector(`tr[data-uid="${CSS.escape(uid)}"] td.c-patientName`)?.textContent ?? null;
    return out;
  }, charsetRows.map((r) => r.study_uid));
  const wrong = charsetRows
    .filter((r) => shown[r.study_uid] !== r.patient_name_utf8)
    .map((r) => `${r.charset}: shown ${JSON.stringify(shown[r.study_uid])}, want ${JSON.stringify(r.patient_name_utf8)}`);
  assert.deepEqual(wrong, []);
  // Japanese (ISO 2022 IR 87) and Greek explicitly, as a reader would look for them.
  const jp = charsetRows.find((r) => r.charset.includes('IR 87') && !r.charset.includes('IR 13'));
  assert.ok(jp, 'manifest has an ISO 2022 IR 87 file');
  assert.equal(await page.locator(`tr[data-uid="${jp.study_uid}"] td.c-patientName`).innerText(), 'Yamada^Tarou=山田^太郎=やまだ^たろう');
});

test('a patient name wildcard narrows the list', async () => {
  const pattern = 'Phantom^C*';
  const want = listed.filter((u) => pnMatches(pattern, nameOf.get(u) ?? ''));
  assert.ok(want.length >= 3 && want.length < listed.length, `pattern matches ${want.length} studies`);
  assert.ok(want.includes(ctStudy), 'Phantom^CT matches Phantom^C*');
  await page.keyboard.press('/'); // the shortcut focuses the patient-name search
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-patientName');
  await page.keyboard.type(pattern);
  await waitForRowCount(want.length);
  assert.deepEqual(new Set(await listedUIDs()), new Set(want));
  // '?' in a name pattern is one character.
  await page.fill('#f-patientName', 'phantom^c?');
  const want2 = listed.filter((u) => pnMatches('phantom^c?', nameOf.get(u) ?? ''));
  assert.ok(want2.length >= 2 && want2.length < want.length, `phantom^c? matches ${want2.length} studies`);
  await waitForRowCount(want2.length);
  assert.deepEqual(new Set(await listedUIDs()), new Set(want2));
  await page.click('.filters button:has-text("Clear")');
  await waitForRowCount(listed.length);
});

test('date range, modality and ID filters agree with the listed values', async () => {
  const table = await page.locator('tbody tr[data-uid]').evaluateAll((trs) =>
    trs.map((tr) => ({
      uid: tr.dataset.uid,
      date: tr.querySelector('td.c-studyDate').textContent,
      modalities: tr.querySelector('td.c-modalities').textContent.split(', '),
      id: tr.querySelector('td.c-patientID').textContent,
    })),
  );
  assert.equal(table.length, listed.length);
  const check = async (want, what) => {
    assert.ok(want.length > 0 && want.length < listed.length, `${what}: ${want.length} of ${listed.length}`);
    await waitForRowCount(want.length);
    assert.deepEqual(new Set(await listedUIDs()), new Set(want), what);
  };
  // Study date range (inclusive); the date inputs take YYYY-MM-DD.
  await page.fill('#f-dateFrom', '2024-01-15');
  await page.fill('#f-dateTo', '2024-01-15');
  await check(table.filter((r) => r.date === '2024-01-15').map((r) => r.uid), 'study date 2024-01-15');
  await page.fill('#f-dateTo', '');
  await check(table.filter((r) => r.date >= '2024-01-15').map((r) => r.uid), 'study date from 2024-01-15');
  await page.fill('#f-dateFrom', '');
  // Modality in study.
  await page.fill('#f-modality', 'cr');
  await check(table.filter((r) => r.modalities.includes('CR')).map((r) => r.uid), 'modality CR');
  await page.fill('#f-modality', '');
  // Patient ID with a wildcard.
  await page.fill('#f-patientID', 'CS-ISO-IR-1*');
  await check(table.filter((r) => r.id.startsWith('CS-ISO-IR-1')).map((r) => r.uid), 'patient ID CS-ISO-IR-1*');
  await page.click('.filters button:has-text("Clear")');
  await waitForRowCount(listed.length);
});

test('sorting by a column header orders the studies in the store', async () => {
  // The CT phantom has by far the most images (13 series x 20 slices).
  const ctImages = ct.length;
  assert.ok(ctImages >= 200, `CT study has ${ctImages} files`);
  const header = page.locator('th.c-numberOfInstances');
  await header.locator('button').click();
  await page.waitForFunction((uid) => document.querySelector('tbody tr[data-uid]')?.dataset.uid === uid, ctStudy, { timeout: 5000 });
  assert.equal(await header.getAttribute('aria-sort'), 'descending');
  assert.equal(await page.locator(`tr[data-uid="${ctStudy}"] td.c-numberOfInstances`).innerText(), String(ctImages));
  await header.locator('button').click();
  await page.waitForFunction((uid) => [...document.querySelectorAll('tbody tr[data-uid]')].at(-1)?.dataset.uid === uid, ctStudy, { timeout: 5000 });
  assert.equal(await header.getAttribute('aria-sort'), 'ascending');
  const counts = await page.locator('tbody td.c-numberOfInstances').allInnerTexts();
  const nums = counts.map(Number);
  assert.deepEqual(nums, [...nums].sort((a, b) => a - b));
  // Back to the default order (newest study first).
  await page.locator('th.c-studyDate button').click();
  assert.equal(await page.locator('th.c-studyDate').getAttribute('aria-sort'), 'descending');
});

test('selecting the CT study shows its series with real thumbnails', async () => {
  assert.ok(ctStudy && ctNativeSeries, 'manifest has the CT study and its Explicit VR LE series');
  await page.locator(`tr[data-uid="${ctStudy}"]`).click();
  await page
    .waitForFunction((n) => document.querySelectorAll('.series-card').length === n, ctSeries.size, { timeout: 15000 })
    .catch(async (e) => {
      const state = await page.evaluate(() => ({
        selected: document.querySelector('tr.selected')?.dataset.uid,
        strip: document.querySelector('.strip')?.textContent?.slice(0, 200),
        cards: document.querySelectorAll('.series-card').length,
      }));
      throw new Error(`${e.message}; page state: ${JSON.stringify(state)}`);
    });
  assert.deepEqual(
    new Set(await page.locator('.series-card').evaluateAll((cs) => cs.map((c) => c.dataset.uid))),
    ctSeries,
  );
  assert.equal(await page.locator(`tr[data-uid="${ctStudy}"]`).getAttribute('aria-selected'), 'true');

  // The native (Explicit VR LE) series must be a real rendering, not the placeholder.
  const img = page.locator(`.series-card[data-uid="${ctNativeSeries}"] img.thumb`);
  const src = await img.getAttribute('src');
  const resp = await page.request.get(new URL(src, page.url()).href);
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['content-type'], 'image/png');
  assert.equal(resp.headers()['x-lightbox-placeholder'], undefined, 'native CT thumbnail is a placeholder');

  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(
    (uid) => {
      const i = document.querySelector(`.series-card[data-uid="${uid}"] img.thumb`);
      return i && i.complete && i.naturalWidth > 0;
    },
    ctNativeSeries,
    { timeout: 10000 },
  );
  const stats = await img.evaluate((i) => {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(i, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const values = new Set();
    let nonBlack = 0;
    for (let p = 0; p < d.length; p += 4) {
      const v = (d[p] << 16) | (d[p + 1] << 8) | d[p + 2];
      values.add(v);
      if (d[p] + d[p + 1] + d[p + 2] > 30) nonBlack++;
    }
    return { w: c.width, h: c.height, distinct: values.size, nonBlackFraction: nonBlack / (d.length / 4) };
  });
  assert.ok(stats.w >= 64 && stats.h >= 64, `thumbnail is ${stats.w}x${stats.h}`);
  assert.ok(stats.distinct >= 8, `thumbnail has only ${stats.distinct} distinct colours`);
  // The phantom is a disc of water and bone inside a square of air: a good part is bright.
  assert.ok(stats.nonBlackFraction > 0.2, `only ${(stats.nonBlackFraction * 100).toFixed(1)}% of the thumbnail is not black`);

  // Every other thumbnail loads (rendered or the "not yet supported" placeholder).
  await page.waitForFunction(
    () => [...document.querySelectorAll('.series-card img.thumb')].every((i) => i.complete),
    null,
    { timeout: 15000 },
  );
  const broken = await page.locator('.series-card img.thumb').evaluateAll((is) => is.filter((i) => i.naturalWidth === 0).map((i) => i.src));
  assert.deepEqual(broken, []);
  await page.screenshot({ path: path.join(outDir(), 'browser.png') });
});

test('keyboard: arrows move the selection, ? lists the shortcuts', async () => {
  await page.locator('.table-wrap').click({ position: { x: 5, y: 5 } }).catch(() => {});
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  const uids = await listedUIDs();
  const before = uids.indexOf(ctStudy);
  await page.keyboard.press(before === uids.length - 1 ? 'ArrowUp' : 'ArrowDown');
  const expect = uids[before === uids.length - 1 ? before - 1 : before + 1];
  assert.equal(await page.locator('tr.selected').getAttribute('data-uid'), expect);
  await page.keyboard.press('?');
  await page.locator('dialog[open] table.shortcuts').waitFor({ timeout: 3000 });
  assert.match(await page.locator('dialog[open]').innerText(), /Delete the selected study/);
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached', timeout: 3000 });
});

test('delete with confirmation removes a study', async () => {
  const victim = studyUIDs.find((u) => nameOf.get(u) === 'Phantom^SC8');
  assert.ok(victim, 'manifest has the Phantom^SC8 study');
  await page.locator(`tr[data-uid="${victim}"]`).click();
  // Cancelling keeps it.
  await page.keyboard.press('Delete');
  await page.locator('dialog[open] [data-action="cancel"]').click();
  assert.equal(await rowLocator().count(), listed.length);
  // Confirming removes it, from the table and from the store.
  await page.locator('[data-action="delete-study"]').click();
  const dlg = page.locator('dialog[open]');
  assert.match(await dlg.innerText(), /Delete study\?/);
  await dlg.locator('[data-action="confirm"]').click();
  await waitForRowCount(listed.length - 1);
  assert.ok(!(await listedUIDs()).includes(victim));
  const all = await call('ListStudies', { patientName: '', patientID: '', dateFrom: '', dateTo: '', modality: '', accession: '', description: '', sort: 'patientName', desc: false, limit: 1000, offset: 0 });
  const left = all.map((s) => s.studyInstanceUID);
  assert.equal(left.length, listed.length - 1);
  assert.ok(!left.includes(victim));
});

const sc8Files = manifest.filter((r) => r.path.startsWith('images/sc8/') && r.expect === 'ok').map((r) => r.path);
const sc8Study = () => studyUIDs.find((u) => nameOf.get(u) === 'Phantom^SC8');

async function jobCard(titlePart) {
  await page.keyboard.press('Alt+t');
  const card = page.locator('article.job', { hasText: titlePart }).first();
  await card.waitFor({ timeout: 10000 });
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('article.job')].some((c) => c.textContent.includes(t) && c.dataset.state !== 'running'),
    titlePart,
    { timeout: 30000 },
  );
  return card;
}

test('importing a server-side folder shows the job and brings the study back live', async () => {
  assert.equal(sc8Files.length, 13, 'manifest has the 13 SC8 files');
  const folder = path.join(CORPUS, 'images', 'sc8');
  await page.keyboard.press('Alt+s');
  await page.click('#import-btn');
  await page.fill('#import-path', folder);
  await page.keyboard.press('Enter');
  // The store event refreshes the open table: no reload.
  await page.locator(`tr[data-uid="${sc8Study()}"]`).waitFor({ timeout: 20000 });
  await waitForRowCount(listed.length);
  const card = await jobCard(folder);
  assert.equal(await card.getAttribute('data-state'), 'done');
  assert.match(await card.locator('.job-stats').innerText(), new RegExp(`^${sc8Files.length} / ${sc8Files.length}\\b`));
  assert.match(await card.locator('.job-message').innerText(), new RegExp(`^${sc8Files.length} imported`));
  assert.equal(await card.locator('progress').evaluate((p) => p.value / p.max), 1);
  await page.keyboard.press('Alt+s');
});

test('uploading files from this computer imports them and reports the rest', async () => {
  // Delete through the API: the table follows the store event by itself.
  await call('DeleteStudy', sc8Study());
  await waitForRowCount(listed.length - 1);

  const files = [...sc8Files, 'README.txt', 'malformed/bad_truncated_meta.dcm'].map((p) => path.join(CORPUS, p));
  await page.click('#import-btn');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('dialog[open] button:has-text("Choose files")')]);
  await chooser.setFiles(files);
  await page.locator(`tr[data-uid="${sc8Study()}"]`).waitFor({ timeout: 20000 });
  const card = await jobCard(`Upload of ${files.length} files`);
  assert.equal(await card.getAttribute('data-state'), 'done');
  assert.equal(await card.locator('.job-message').innerText(), `${sc8Files.length} imported, 1 not DICOM, 1 failed`);
  assert.match(await card.locator('.job-stats').innerText(), new RegExp(`^${sc8Files.length + 1} / ${files.length} · 1 failed`));
  // The failure is listed with its file and reason once expanded.
  await card.locator('details summary').click();
  const err = card.locator('.job-errors li').first();
  assert.equal(await err.locator('.err-item').innerText(), 'bad_truncated_meta.dcm');
  assert.ok((await err.locator('.err-reason').innerText()).length > 5);
  await page.screenshot({ path: path.join(outDir(), 'transfers.png') });
  await page.keyboard.press('Alt+s');
  await waitForRowCount(listed.length);
});

test('dropping a file onto the window uploads it (a duplicate here)', async () => {
  const rel = ct.find((r) => r.ts_key === 'ele').path;
  const bytes = [...fs.readFileSync(path.join(CORPUS, rel))];
  const overlayShown = await page.evaluate(
    async ({ bytes, name }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'application/dicom' }));
      const fire = (type) => window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      fire('dragenter');
      fire('dragover');
      const shown = !document.querySelector('.drop-overlay').hidden;
      fire('drop');
      return shown && document.querySelector('.drop-overlay').hidden;
    },
    { bytes, name: path.basename(rel) },
  );
  assert.ok(overlayShown, 'the drop overlay shows while dragging and hides on drop');
  const card = await jobCard('Upload of 1 file');
  assert.equal(await card.getAttribute('data-state'), 'done');
  assert.equal(await card.locator('.job-message').innerText(), '0 imported, 1 duplicate');
  await page.keyboard.press('Alt+s');
  assert.deepEqual(pageErrors, []);
});

test('deleting one series asks first, then removes only that series', async () => {
  const uid = sc8Study();
  await page.locator(`tr[data-uid="${uid}"]`).click();
  const before = new Set(manifest.filter((r) => r.study_uid === uid && r.expect === 'ok').map((r) => r.series_uid));
  await page.waitForFunction((n) => document.querySelectorAll('.series-card').length === n, before.size, { timeout: 10000 });
  const card = page.locator('.series-card').first();
  const victim = await card.getAttribute('data-uid');
  await card.hover();
  await card.locator('[data-action="delete-series"]').click();
  const dlg = page.locator('dialog[open]');
  assert.match(await dlg.innerText(), /Delete series\?/);
  await dlg.locator('[data-action="confirm"]').click();
  await page.waitForFunction((n) => document.querySelectorAll('.series-card').length === n, before.size - 1, { timeout: 10000 });
  const left = (await call('ListSeries', uid)).map((s) => s.seriesInstanceUID);
  assert.equal(left.length, before.size - 1);
  assert.ok(!left.includes(victim));
  assert.equal(await page.locator(`tr[data-uid="${uid}"] td.c-numberOfSeries`).innerText(), String(before.size - 1));
});

test('settings: loaded from the server, validated, saved', async () => {
  const original = await call('GetSettings');
  await page.keyboard.press('Alt+,');
  await page.waitForFunction((ae) => document.querySelector('#s-aeTitle')?.value === ae, original.aeTitle, { timeout: 5000 });
  assert.equal(await page.inputValue('#s-port'), String(original.port));
  assert.equal(await page.inputValue('#s-maxAssociations'), String(original.maxAssociations));
  assert.equal(await page.isChecked('#s-fsync'), original.fsync);
  const save = page.locator('.settings-form button[type="submit"]');
  assert.ok(await save.isDisabled(), 'Save is disabled while nothing changed');
  // the character sets come from the backend; About says where the listener is
  await page.waitForFunction(() => document.querySelectorAll('#s-fallbackCharset option').length > 20, null, { timeout: 5000 });
  assert.ok(await page.locator('#s-fallbackCharset option[value="ISO 2022 IR 87"]').count(), 'ISO 2022 IR 87 offered');
  assert.equal(await page.inputValue('#s-fallbackCharset'), original.fallbackCharset);
  assert.match(await page.locator('[data-field="listener"]').innerText(), new RegExp(`^${original.aeTitle} on port ${original.port}\\b`));

  await page.fill('#s-aeTitle', 'BAD\\AE');
  assert.ok(await save.isDisabled(), 'Save is disabled for an invalid AE title');
  assert.match(await page.locator('.settings-form .error-text').innerText(), /backslash/);

  await page.fill('#s-aeTitle', 'LB_E2E');
  await page.fill('#s-maxAssociations', '7');
  assert.ok(await save.isEnabled());
  await save.click();
  await page.waitForFunction(() => document.querySelector('.settings-form button[type="submit"]').disabled, null, { timeout: 5000 });
  const saved = await call('GetSettings');
  assert.equal(saved.aeTitle, 'LB_E2E');
  assert.equal(saved.maxAssociations, 7);
  assert.equal(saved.port, original.port);

  // senders must identify themselves: a user name is required, the password is write-only
  assert.ok(await page.isDisabled('#s-userName'), 'user name disabled while identity is not required');
  await page.check('#s-requireUserIdentity');
  assert.ok(await save.isDisabled(), 'Save is disabled without a user name');
  assert.match(await page.locator('.settings-form .error-text').innerText(), /user name is needed/);
  await page.fill('#s-userName', 'radiology');
  await page.fill('#s-password', 'e2e secret');
  await save.click();
  await page.waitForFunction(() => document.querySelector('.settings-form button[type="submit"]').disabled, null, { timeout: 5000 });
  const withUser = await call('GetSettings');
  assert.equal(withUser.requireUserIdentity, true);
  assert.equal(withUser.userName, 'radiology');
  assert.equal(withUser.passwordSet, true);
  assert.equal(withUser.password, '');
  assert.equal(await page.inputValue('#s-password'), '');
  assert.match(await page.getAttribute('#s-password', 'placeholder'), /^set/);
  await page.screenshot({ path: path.join(outDir(), 'settings-identity.png') });
  await call('SaveSettings', original);
  await page.keyboard.press('Alt+s');
  assert.deepEqual(pageErrors, []);
});

// Last, because the first viewer start loads Cornerstone (a large chunk) and may keep the page busy.
test('Enter opens the selected study in the viewer; Alt+S comes back to the same selection', async () => {
  await page.locator(`tr[data-uid="${ctStudy}"]`).click();
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.keyboard.press('Enter');
  await page.waitForFunction((uid) => location.hash === `#/viewer/${encodeURIComponent(uid)}`, ctStudy, { timeout: 10000 });
  await page.locator('section[data-view="viewer"]').waitFor({ state: 'visible', timeout: 10000 });
  assert.ok(await page.locator('section[data-view="studies"]').isHidden());
  await page.keyboard.press('Alt+s');
  await page.waitForFunction(() => location.hash === '#/studies', null, { timeout: 30000 });
  assert.ok(await page.locator('section[data-view="studies"]').isVisible());
  assert.equal(await page.locator('tr.selected').getAttribute('data-uid'), ctStudy);
  assert.deepEqual(pageErrors, []);
});
