// End-to-end test of the network views against a running `lightbox serve` and a
// real PACS (Orthanc, started here through shared/testdata/peers.sh):
// node manager (add with validation, echo ok and unreachable, delete), query
// with results streaming in, series expansion, retrieve by C-GET and C-MOVE
// with their jobs, the retrieved study in the local browser, send back to
// Orthanc with the keyboard node picker, and the Incoming panel.
//   LIGHTBOX_URL     base URL of the server (required)
//   LIGHTBOX_CORPUS  corpus directory (default $HOME/.cache/lightbox/corpus)
//   LIGHTBOX_PEERS   peers.sh (default /work/shared/testdata/peers.sh or ../../../shared/testdata/peers.sh)
//   E2E_ORTHANC_HTTP / E2E_ORTHANC_DICOM  Orthanc's ports (default 18530 / 18531)
// The study is a copy of the corpus's MR series with fresh UIDs and its own
// patient name, so the test neither needs nor disturbs the other studies.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, outDir } from './chromium.mjs';

const BASE = process.env.LIGHTBOX_URL;
const CORPUS = process.env.LIGHTBOX_CORPUS || path.join(os.homedir(), '.cache', 'lightbox', 'corpus');
const here = path.dirname(new URL(import.meta.url).pathname);
const PEERS = process.env.LIGHTBOX_PEERS || [path.resolve(here, '../../../shared/testdata/peers.sh'), '/work/shared/testdata/peers.sh'].find((p) => fs.existsSync(p));
const O_HTTP = Number(process.env.E2E_ORTHANC_HTTP || 18530);
const O_DICOM = Number(process.env.E2E_ORTHANC_DICOM || 18531);
const ORTHANC = `http://127.0.0.1:${O_HTTP}`;
const NODE = 'Orthanc e2e';
const MR_DIR = path.join(CORPUS, 'images', 'mr', 'ele');

const uid = () => '2.25.' + BigInt('0x' + crypto.randomBytes(15).toString('hex')).toString();
const tag = crypto.randomBytes(3).toString('hex').toUpperCase();
const PATIENT = `NETTEST^E2E${tag}`;
const STUDY = uid();
const SERIES = uid();

let work;
let orthancPid = 0;
let files = [];
let settings;
let browser;
let page;
const pageErrors = [];

async function api(method, ...args) {
  const r = await fetch(new URL(`/api/call/${method}`, BASE), { method: 'POST', body: JSON.stringify(args) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function orthanc(p, init) {
  const r = await fetch(ORTHANC + p, init);
  if (!r.ok) throw new Error(`Orthanc ${p}: ${r.status}`);
  return r.json();
}

/** Orthanc's studies with our patient name. */
async function orthancStudies() {
  const ids = await orthanc('/studies');
  const out = [];
  for (const id of ids) {
    const s = await orthanc(`/studies/${id}`);
    if (s.MainDicomTags?.StudyInstanceUID === STUDY) out.push(id);
  }
  return out;
}

function shot(name) {
  return page.screenshot({ path: path.join(outDir(), name), fullPage: false });
}

before(async () => {
  assert.ok(BASE, 'LIGHTBOX_URL is not set: start `lightbox serve` (make e2e does this)');
  assert.ok(fs.existsSync(MR_DIR), `corpus missing: run make corpus (${MR_DIR})`);
  assert.ok(PEERS, 'peers.sh not found: set LIGHTBOX_PEERS');
  settings = await api('GetSettings');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lightbox-net-e2e-'));
  // a study of our own: the MR series with new UIDs and patient name
  const src = fs.readdirSync(MR_DIR).filter((f) => f.endsWith('.dcm')).sort();
  assert.ok(src.length > 0, 'no MR files in the corpus');
  fs.mkdirSync(path.join(work, 'study'));
  files = src.map((f) => {
    const to = path.join(work, 'study', f);
    fs.copyFileSync(path.join(MR_DIR, f), to);
    return to;
  });
  execFileSync('dcmodify', ['-nb', '-gin', '-m', `(0010,0010)=${PATIENT}`, '-m', `(0010,0020)=NET${tag}`, '-m', `(0020,000D)=${STUDY}`, '-m', `(0020,000E)=${SERIES}`, ...files], { stdio: 'pipe' });
  const out = execFileSync(
    'bash',
    ['-c', `set -e; export ORTHANC_HTTP=${O_HTTP} ORTHANC_DICOM=${O_DICOM} VIEWER_AET='${settings.aeTitle}' VIEWER_PORT=${settings.port}; source '${PEERS}'; peers_start_orthanc '${work}/orthanc' >&2; peers_upload "$@" >&2; echo "PID=$ORTHANC_PID"`, 'bash', ...files],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  orthancPid = Number(/PID=(\d+)/.exec(out)?.[1] ?? 0);
  assert.ok(orthancPid > 0, `Orthanc did not start: ${out}`);
  assert.equal((await orthancStudies()).length, 1, 'the study is in Orthanc');

  browser = await launch({ width: 1440, height: 900 });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(new URL('/#/nodes', BASE).href);
});

after(async () => {
  try {
    if (BASE) await api('DeleteStudy', STUDY).catch(() => undefined);
    if (BASE) await api('DeleteNode', NODE).catch(() => undefined);
  } finally {
    await browser?.close();
    if (orthancPid) {
      try {
        process.kill(orthancPid);
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(orthancPid, 0);
          await new Promise((r) => setTimeout(r, 100));
        } catch {
          break;
        }
      }
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }
});

const nodeRow = (name) => page.locator(`.node-table tbody tr[data-name="${name}"]`);

async function fillNode({ name, ae, host, port, retrieve }) {
  await page.fill('#node-name', name);
  await page.fill('#node-aeTitle', ae);
  await page.fill('#node-host', host);
  await page.fill('#node-port', String(port));
  if (retrieve) await page.selectOption('#node-retrieve', retrieve);
}

test('add nodes through the UI: inline validation, then saved', async () => {
  await page.click('[data-action="add-node"]');
  const dlg = page.locator('dialog.node-dialog');
  await dlg.waitFor();
  await fillNode({ name: NODE, ae: 'ORTHANC', host: '127.0.0.1', port: 0 });
  await page.click('[data-action="save-node"]');
  const portErr = dlg.locator('.field-error[data-field="port"]');
  assert.match(await portErr.textContent(), /between 1 and 65535/);
  assert.ok(await dlg.isVisible(), 'the dialog stays open while a field is wrong');
  await page.fill('#node-aeTitle', 'BAD\\AE');
  assert.match(await dlg.locator('.field-error[data-field="aeTitle"]').textContent(), /backslash/);
  await page.fill('#node-aeTitle', 'ORTHANC');
  await page.fill('#node-port', String(O_DICOM));
  await page.click('[data-action="save-node"]');
  await dlg.waitFor({ state: 'detached' });
  await nodeRow(NODE).waitFor();
  assert.equal((await nodeRow(NODE).locator('td').nth(3).textContent()).trim(), `127.0.0.1:${O_DICOM}`);
  // the backend really holds it
  const list = await api('ListNodes');
  const n = list.nodes.find((x) => x.name === NODE);
  assert.ok(n, 'ListNodes has the node');
  assert.equal(n.aeTitle, 'ORTHANC');
  assert.equal(n.port, O_DICOM);
  assert.equal(n.retrieve, 'C-GET');
  assert.equal(n.encoding, 'ISO_IR 192');
  assert.equal(list.error, undefined);

  // a node nobody listens on (for the red light)
  await page.keyboard.press('a');
  await dlg.waitFor();
  await fillNode({ name: 'Nobody e2e', ae: 'NOBODY', host: '127.0.0.1', port: 18539 });
  await page.keyboard.press('Enter');
  await nodeRow('Nobody e2e').waitFor();
});

test('echo: green light with the round trip, red light with the transport error', async () => {
  await nodeRow(NODE).locator('[data-action="echo"]').click();
  await nodeRow(NODE).locator('[data-light="ok"]').waitFor({ timeout: 15000 });
  assert.match(await nodeRow(NODE).locator('.echo-text').textContent(), /Echo OK · [\d.]+ ms/);
  await nodeRow('Nobody e2e').locator('[data-action="echo"]').click();
  await nodeRow('Nobody e2e').locator('[data-light="bad"]').waitFor({ timeout: 15000 });
  assert.match(await nodeRow('Nobody e2e').locator('.echo-text').textContent(), /Cannot reach 127\.0\.0\.1:18539/);
  await shot('nodes.png');
});

test('delete asks first, then the node is gone', async () => {
  await nodeRow('Nobody e2e').locator('[data-action="delete"]').click();
  const confirm = page.locator('dialog [data-action="confirm"]');
  await confirm.waitFor();
  assert.match(await page.locator('dialog .dialog-body').textContent(), /NOBODY at 127\.0\.0\.1:18539/);
  await page.locator('dialog [data-action="cancel"]').click();
  assert.equal(await nodeRow('Nobody e2e').count(), 1, 'Cancel keeps it');
  await nodeRow('Nobody e2e').locator('[data-action="delete"]').click();
  await confirm.click();
  await nodeRow('Nobody e2e').waitFor({ state: 'detached' });
  assert.ok(!(await api('ListNodes')).nodes.some((x) => x.name === 'Nobody e2e'));
});

test('query by patient name: the study streams in, its series expand', async () => {
  await page.click('.nav-btn[data-view="query"]');
  await page.selectOption('#q-node', NODE);
  await page.fill('#q-PatientName', `NETTEST^E2E${tag}*`);
  await page.keyboard.press('Enter');
  const row = page.locator(`.query-table tbody tr[data-uid="${STUDY}"]`);
  await row.waitFor({ timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('.query-status')?.getAttribute('data-state') === 'done', null, { timeout: 20000 });
  assert.match(await page.locator('.query-status').textContent(), /^1 study · .*Success/);
  assert.equal(await page.locator('.query-table tbody tr[data-uid]').count(), 1);
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[1], PATIENT);
  assert.equal(cells[2], `NET${tag}`);
  assert.equal(cells[10], String(files.length), 'NumberOfStudyRelatedInstances');
  // expand: series-level query
  await row.locator('.expander').click();
  const series = page.locator(`.series-row .series-table tr[data-series-uid="${SERIES}"]`);
  await series.waitFor({ timeout: 20000 });
  assert.match(await series.textContent(), new RegExp(`MR.*${files.length} images`));
  await shot('query.png');
});

async function waitJob(kind, since, timeout = 60000) {
  const t0 = Date.now();
  for (;;) {
    const jobs = (await api('Jobs')) ?? [];
    const j = jobs.find((x) => x.kind === kind && !since.has(x.id));
    if (j && j.state !== 'running') return j;
    if (Date.now() - t0 > timeout) throw new Error(`no finished ${kind} job: ${JSON.stringify(jobs.slice(0, 3))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const jobIDs = async () => new Set(((await api('Jobs')) ?? []).map((j) => j.id));

test('retrieve by C-GET: the job reaches done with every instance, then Open', async () => {
  const before = await jobIDs();
  await page.locator(`.query-table tbody tr[data-uid="${STUDY}"] [data-action="retrieve"]`).click();
  const j = await waitJob('retrieve', before);
  assert.equal(j.state, 'done', j.message);
  assert.equal(j.done, files.length);
  assert.equal(j.total, files.length);
  assert.equal(j.failed, 0);
  // the query row offers Open once the study is local
  await page.locator(`.query-table tbody tr[data-uid="${STUDY}"] [data-action="open"]`).waitFor({ timeout: 10000 });
  await page.click('.nav-btn[data-view="transfers"]');
  const card = page.locator(`article.job[data-job="${j.id}"]`);
  await card.waitFor();
  assert.equal(await card.getAttribute('data-state'), 'done');
  assert.match(await card.locator('.job-stats').textContent(), new RegExp(`^${files.length} / ${files.length}`));
  assert.equal(await card.locator('[data-action="open"]').count(), 1, 'Open on the retrieve card');
  await shot('transfers-retrieve.png');
});

test('the retrieved study is in the local browser', async () => {
  await page.click('.nav-btn[data-view="studies"]');
  await page.fill('#f-patientName', `NETTEST^E2E${tag}`);
  const row = page.locator(`[data-view="studies"] table.study-table tbody tr[data-uid="${STUDY}"]`);
  await row.waitFor({ timeout: 10000 });
  const local = await api('ListSeries', STUDY);
  assert.equal(local.length, 1);
  assert.equal(local[0].seriesInstanceUID, SERIES);
  assert.equal(local[0].numberOfInstances, files.length);
});

test('send back to Orthanc with the keyboard picker: job done, Orthanc has the study again', async () => {
  for (const id of await orthancStudies()) await orthanc(`/studies/${id}`, { method: 'DELETE' });
  assert.equal((await orthancStudies()).length, 0);
  await page.locator(`[data-view="studies"] table.study-table tbody tr[data-uid="${STUDY}"]`).click();
  await page.locator('.strip [data-action="send-study"]').waitFor();
  const before = await jobIDs();
  await page.keyboard.press('Shift+S');
  const picker = page.locator('#send-picker');
  await picker.waitFor();
  await page.keyboard.press('End');
  assert.equal(await picker.locator('li[aria-selected="true"]').getAttribute('data-name'), NODE);
  await shot('send-picker.png');
  await page.keyboard.press('Enter');
  await picker.waitFor({ state: 'detached' });
  const j = await waitJob('send', before);
  assert.equal(j.state, 'done', j.message);
  assert.equal(j.done, files.length);
  assert.equal(j.failed, 0);
  const ids = await orthancStudies();
  assert.equal(ids.length, 1, 'Orthanc has the study again');
  const st = await orthanc(`/studies/${ids[0]}/instances`);
  assert.equal(st.length, files.length);
  await page.click('.nav-btn[data-view="transfers"]');
  const card = page.locator(`article.job[data-job="${j.id}"]`);
  await card.waitFor();
  assert.equal(await card.getAttribute('data-state'), 'done');
  assert.match(await card.locator('.job-stats').textContent(), new RegExp(`^${files.length} / ${files.length}`));
  await shot('transfers-send.png');
});

test('Shift+S in the viewer opens the picker for the study shown; Esc closes it', async () => {
  await page.goto(new URL(`/#/viewer/${encodeURIComponent(STUDY)}`, BASE).href);
  await page.locator('[data-view="viewer"]').waitFor();
  await page.keyboard.press('Shift+S');
  const picker = page.locator('#send-picker');
  await picker.waitFor();
  assert.match(await page.locator('.send-dialog .send-what').textContent(), /study open in the viewer/);
  await page.keyboard.press('Escape');
  await picker.waitFor({ state: 'detached' });
  await page.goto(new URL('/#/studies', BASE).href);
});

test('a send to a node that does not answer stops; its instances expand with the reason; Retry starts a new job', async () => {
  await api('SaveNode', '', { name: 'Nobody e2e', aeTitle: 'NOBODY', host: '127.0.0.1', port: 18539, encoding: '', retrieve: 'C-GET', localPort: 0, maxAssociations: 1, assumeCharset: '', description: 'nothing listens here' });
  await page.click('.nav-btn[data-view="studies"]');
  await page.locator(`[data-view="studies"] table.study-table tbody tr[data-uid="${STUDY}"]`).click();
  const before = await jobIDs();
  await page.locator('.strip [data-action="send-study"]').click();
  const picker = page.locator('#send-picker');
  await picker.waitFor();
  await page.keyboard.press('Home');
  for (let i = 0; i < 10 && (await picker.locator('li[aria-selected="true"]').getAttribute('data-name')) !== 'Nobody e2e'; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await picker.locator('li[aria-selected="true"]').getAttribute('data-name'), 'Nobody e2e');
  await page.keyboard.press('Enter');
  const j = await waitJob('send', before, 30000);
  assert.equal(j.state, 'stopped', j.message);
  assert.equal(j.done, 0);
  assert.equal(j.errors.length, files.length, 'every instance is listed as not sent');
  await page.click('.nav-btn[data-view="transfers"]');
  const card = page.locator(`article.job[data-job="${j.id}"]`);
  await card.waitFor();
  await card.locator('.job-errors-box > summary').click();
  const first = card.locator('.job-errors li').first();
  await first.locator('.err-details > summary').click();
  assert.match(await first.locator('.err-meaning').textContent(), /not sent.*Retry/);
  const retry = card.locator('[data-action="retry"]');
  assert.equal(await retry.count(), 1, 'Retry on a stopped send');
  await shot('transfers-send-stopped.png');
  const ids = await jobIDs();
  await retry.click();
  const again = await waitJob('send', ids, 30000);
  assert.match(again.title, new RegExp(`^Retry: send ${files.length} instances to NOBODY`));
  assert.equal(again.state, 'stopped');
  await api('DeleteNode', 'Nobody e2e');
});

test('retrieve by C-MOVE arrives on our listener and shows in Incoming', async () => {
  await page.click('.nav-btn[data-view="nodes"]');
  await nodeRow(NODE).locator('[data-action="edit"]').click();
  await page.selectOption('#node-retrieve', 'C-MOVE');
  const help = page.locator('dialog.node-dialog .move-help');
  await help.waitFor();
  assert.match(await help.textContent(), new RegExp(`0xA801.*AE title ${settings.aeTitle}.*port ${settings.port}`));
  await page.click('[data-action="save-node"]');
  await page.locator('dialog.node-dialog').waitFor({ state: 'detached' });
  assert.equal((await api('ListNodes')).nodes.find((x) => x.name === NODE).retrieve, 'C-MOVE');
  await page.locator('.node-move-help .move-help').waitFor();
  await shot('nodes-move.png');

  await page.click('.nav-btn[data-view="query"]');
  await page.fill('#q-PatientName', `NETTEST^E2E${tag}`);
  await page.keyboard.press('Enter');
  const row = page.locator(`.query-table tbody tr[data-uid="${STUDY}"]`);
  await row.waitFor({ timeout: 20000 }).catch(async (e) => {
    await shot('fail-query-move.png');
    throw e;
  });
  await row.click();
  const before = await jobIDs();
  await page.keyboard.press('r');
  const j = await waitJob('retrieve', before);
  assert.equal(j.state, 'done', j.message);
  assert.equal(j.done, files.length);
  assert.match(j.title, /C-MOVE/);

  await page.click('.nav-btn[data-view="incoming"]');
  const inRow = page.locator('.incoming-table tbody tr').filter({ hasText: 'ORTHANC' }).first();
  await inRow.waitFor({ timeout: 10000 });
  assert.equal((await inRow.locator('td').nth(4).textContent()).trim(), String(files.length));
  // an association the listener refuses is listed too, with the reason
  assert.throws(() => execFileSync('echoscu', ['-aet', 'STRANGER', '-aec', 'NOTLIGHTBOX', '127.0.0.1', String(settings.port)], { stdio: 'pipe' }));
  const rjRow = page.locator('.incoming-table tbody tr[data-state="rejected"]').filter({ hasText: 'STRANGER' }).first();
  await rjRow.waitFor({ timeout: 10000 });
  assert.match(await rjRow.textContent(), /rejected.*called AE title not recognised/);
  await shot('incoming.png');
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
