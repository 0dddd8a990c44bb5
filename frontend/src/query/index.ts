// The query view (#/query): study-level C-FIND on a node with the keys of
// issue 7, matches streaming in from `find` events, a series-level query
// when a study row is expanded, and Retrieve per study or series (a job in
// Transfers). Starting a query cancels the one still running (CancelFind).

import { api, on, type DicomNode, type FindEvent, type FindMatch, type Job } from '../api/api';
import { net } from '../api/network';
import { registerView, showView } from '../shell';
import { subscribe as subscribeJobs, track } from '../transfers/jobs';
import { openViewer } from '../viewer/index';
import { nodes, subscribeNodes } from '../nodes/store';
import { rememberRetrieve } from '../send/transfers';
import { button, errorText, h, isTyping } from '../ui/dom';
import { dicomDate, dicomTime, plural, toDicomDate } from '../ui/format';
import { toast } from '../ui/toast';

const LIMIT = 500;

interface KeySpec {
  key: string; // DICOM keyword
  label: string;
  placeholder: string;
  width: string;
  title: string;
}

const KEYS: KeySpec[] = [
  { key: 'PatientName', label: 'Patient name', placeholder: 'e.g. DOE^J*', width: '13em', title: 'Wildcards: * any characters, ? one character' },
  { key: 'PatientID', label: 'Patient ID', placeholder: 'ID', width: '8em', title: 'Patient ID (wildcards allowed)' },
  { key: 'ModalitiesInStudy', label: 'Modality', placeholder: 'Any', width: '5.5em', title: 'Modality in study, e.g. CT' },
  { key: 'AccessionNumber', label: 'Accession', placeholder: 'Accession', width: '8em', title: 'Accession number' },
  { key: 'StudyDescription', label: 'Description', placeholder: 'e.g. *brain*', width: '10em', title: 'Study description (wildcards allowed)' },
  { key: 'ReferringPhysicianName', label: 'Referring physician', placeholder: 'e.g. SMITH*', width: '10em', title: 'Referring physician (wildcards allowed)' },
];

/** A study-level match and what the page knows about it. */
interface Row {
  m: FindMatch;
  uid: string;
  tr: HTMLTableRowElement;
  status: HTMLElement;
  expanded: boolean;
  seriesTr: HTMLTableRowElement | null;
  seriesQuery: string;
  local: boolean;
  jobID: string;
}

export function initQueryView(): void {
  let nodeList: DicomNode[] = [];
  let queryID = '';
  let queryNode = '';
  let running = false;
  const rows: Row[] = [];
  const byUID = new Map<string, Row>();
  let selected: Row | null = null;
  /** find events that arrived before StartFind returned their id. */
  const early = new Map<string, FindEvent[]>();
  /** Handlers of series-level queries by id. */
  const seriesHandlers = new Map<string, (ev: FindEvent) => void>();
  const jobsOf = new Map<string, Job>();

  // ---- form ----
  const nodeSel = h('select', { class: 'input', id: 'q-node', title: 'The node to query' });
  const inputs = new Map<string, HTMLInputElement>();
  const field = (k: KeySpec) => {
    const input = h('input', { type: 'search', class: 'input', id: `q-${k.key}`, title: k.title, attrs: { placeholder: k.placeholder, autocomplete: 'off', spellcheck: 'false' }, style: { width: k.width } });
    inputs.set(k.key, input);
    return h('label', { class: 'field' }, h('span', null, k.label), input);
  };
  const from = h('input', { type: 'date', class: 'input', id: 'q-dateFrom', title: 'Study date from' });
  const to = h('input', { type: 'date', class: 'input', id: 'q-dateTo', title: 'Study date to' });
  const searchBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { action: 'query' }, title: 'Query the node (Enter)' }, 'Search');
  const cancelBtn = button('Stop', () => void cancelQuery(), '', 'Stop the running query (Esc): C-CANCEL');
  cancelBtn.hidden = true;
  const form = h(
    'form',
    { class: 'filters query-form', attrs: { novalidate: '' } },
    h('label', { class: 'field' }, h('span', null, 'Node'), nodeSel),
    ...KEYS.slice(0, 2).map(field),
    h('label', { class: 'field' }, h('span', null, 'Study date from'), from),
    h('label', { class: 'field' }, h('span', null, 'to'), to),
    ...KEYS.slice(2).map(field),
    h('div', { class: 'field-buttons' }, searchBtn, cancelBtn),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void startQuery();
  });
  const statusLine = h('div', { class: 'query-status', aria: { live: 'polite' }, dataset: { state: 'idle' }, hidden: true });

  // ---- table ----
  const tbody = h('tbody');
  const cols = ['', 'Patient name', 'Patient ID', 'Birth date', 'Study date', 'Modality', 'Description', 'Accession', 'Referring', 'Series', 'Images', ''];
  const table = h('table', { class: 'study-table query-table', hidden: true }, h('thead', null, h('tr', null, ...cols.map((c, i) => h('th', { class: i === 9 || i === 10 ? 'num' : '' }, c)))), tbody);
  const empty = h('div', { class: 'empty-state' });
  const tableWrap = h('div', { class: 'table-wrap' }, table, empty);

  function renderEmpty(): void {
    table.hidden = rows.length === 0;
    empty.hidden = rows.length > 0 || running;
    if (!empty.hidden) {
      if (nodeList.length === 0) {
        empty.replaceChildren(
          h('h2', null, 'No node to query'),
          h('p', null, 'Add your PACS under Nodes first: its AE title, host and port.'),
          button('Go to Nodes', () => showView('nodes'), 'btn-primary'),
        );
      } else if (queryID) {
        empty.replaceChildren(h('h2', null, 'No studies match'), h('p', null, 'Patient names take * and ? wildcards, e.g. DOE* or *JOHN*.'));
      } else {
        empty.replaceChildren(h('h2', null, 'Query a PACS'), h('p', null, 'Pick a node, enter a patient name (wildcards * and ?) or other keys, and press Enter. Leave every key empty to list all studies (up to 500).'));
      }
    }
  }

  function fillNodes(): void {
    const cur = nodeSel.value;
    nodeSel.replaceChildren(...nodeList.map((n) => h('option', { attrs: { value: n.name } }, `${n.name} (${n.aeTitle})`)));
    if (nodeList.length === 0) nodeSel.append(h('option', { attrs: { value: '' } }, 'No nodes'));
    nodeSel.disabled = nodeList.length === 0;
    if (nodeList.some((n) => n.name === cur)) nodeSel.value = cur;
    searchBtn.disabled = nodeList.length === 0;
    renderEmpty();
  }
  subscribeNodes((l) => {
    nodeList = l.nodes;
    fillNodes();
  });

  function keys(): Record<string, string> {
    const k: Record<string, string> = {};
    for (const [key, input] of inputs) if (input.value.trim()) k[key] = input.value.trim();
    const f = toDicomDate(from.value);
    const t = toDicomDate(to.value);
    if (f || t) k.StudyDate = f === t ? f : `${f}-${t}`;
    return k;
  }

  function setStatus(state: 'idle' | 'running' | 'done' | 'error', text: string): void {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
    statusLine.hidden = text === '';
  }

  async function cancelQuery(): Promise<void> {
    if (!running || !queryID) return;
    running = false;
    cancelBtn.hidden = true;
    setStatus('done', `${plural(rows.length, 'study', 'studies')} · stopped`);
    try {
      await net.cancelFind(queryID);
    } catch {
      /* it ends by itself */
    }
  }

  function clearRows(): void {
    rows.length = 0;
    byUID.clear();
    selected = null;
    tbody.replaceChildren();
  }

  async function startQuery(): Promise<void> {
    const node = nodeSel.value;
    if (!node) return;
    if (running && queryID) void net.cancelFind(queryID).catch(() => undefined);
    clearRows();
    queryID = '';
    queryNode = node;
    running = true;
    cancelBtn.hidden = false;
    setStatus('running', `Querying ${node}…`);
    renderEmpty();
    let id: string;
    try {
      id = await net.startFind({ node, level: 'study', keys: keys(), limit: LIMIT });
    } catch (e) {
      running = false;
      cancelBtn.hidden = true;
      setStatus('error', `Cannot query ${node}: ${errorText(e)}`);
      return;
    }
    queryID = id;
    for (const ev of early.get(id) ?? []) onFind(ev);
    early.delete(id);
  }

  function onFind(ev: FindEvent): void {
    if (ev.id !== queryID) {
      const sh = seriesHandlers.get(ev.id);
      if (sh) sh(ev);
      else {
        const l = early.get(ev.id) ?? [];
        l.push(ev);
        early.set(ev.id, l);
        if (early.size > 50) early.delete(early.keys().next().value!);
      }
      return;
    }
    for (const m of ev.matches ?? []) addRow(m);
    renderEmpty();
    const n = plural(rows.length, 'study', 'studies');
    if (!ev.done) {
      setStatus('running', `${n} so far…`);
      return;
    }
    if (!running) return; // stopped by the user
    running = false;
    cancelBtn.hidden = true;
    if (ev.error) setStatus('error', `${n}. The query stopped: ${ev.error}`);
    else if (ev.limited) setStatus('done', `First ${n}: the limit of ${LIMIT} was reached. Narrow the keys to see the rest.`);
    else setStatus(ev.status && !/success/i.test(ev.status) ? 'error' : 'done', `${n} · ${queryNode} answered ${ev.status ?? ''}`.trim());
    void markLocal();
  }
  on('find', onFind);

  function addRow(m: FindMatch): void {
    const uid = m.StudyInstanceUID ?? '';
    if (uid && byUID.has(uid)) return;
    const status = h('span', { class: 'q-status' });
    const toggle = h('button', { type: 'button', class: 'expander', title: 'Show the series (→)', aria: { expanded: 'false', label: 'Show series' } }, '▸');
    const retrieve = button('Retrieve', () => void retrieveStudy(row), 'btn-small', 'Retrieve this study (R)');
    retrieve.dataset.action = 'retrieve';
    const tr = h(
      'tr',
      { dataset: { uid } },
      h('td', { class: 'narrow' }, toggle),
      h('td', { class: 'c-patientName', title: m.PatientName ?? '' }, m.PatientName ?? ''),
      h('td', null, m.PatientID ?? ''),
      h('td', { class: 'nowrap' }, dicomDate(m.PatientBirthDate ?? '')),
      h('td', { class: 'nowrap' }, [dicomDate(m.StudyDate ?? ''), dicomTime(m.StudyTime ?? '')].filter(Boolean).join(' ')),
      h('td', null, (m.ModalitiesInStudy ?? '').replace(/\\/g, ', ')),
      h('td', { title: m.StudyDescription ?? '' }, m.StudyDescription ?? ''),
      h('td', null, m.AccessionNumber ?? ''),
      h('td', null, m.ReferringPhysicianName ?? ''),
      h('td', { class: 'num' }, m.NumberOfStudyRelatedSeries ?? ''),
      h('td', { class: 'num' }, m.NumberOfStudyRelatedInstances ?? ''),
      h('td', { class: 'nowrap actions' }, status, retrieve),
    );
    const row: Row = { m, uid, tr, status, expanded: false, seriesTr: null, seriesQuery: '', local: false, jobID: '' };
    toggle.addEventListener('click', () => void expand(row, !row.expanded));
    tr.addEventListener('click', (ev) => {
      if (!(ev.target instanceof HTMLButtonElement)) select(row);
    });
    tr.addEventListener('dblclick', (ev) => {
      if (!(ev.target instanceof HTMLButtonElement)) void expand(row, !row.expanded);
    });
    rows.push(row);
    if (uid) byUID.set(uid, row);
    tbody.append(tr);
  }

  function select(r: Row | null): void {
    selected = r;
    for (const x of rows) {
      x.tr.classList.toggle('selected', x === r);
      x.tr.setAttribute('aria-selected', String(x === r));
    }
    r?.tr.scrollIntoView({ block: 'nearest' });
  }

  // ---- series level ----
  async function expand(r: Row, open: boolean): Promise<void> {
    r.expanded = open;
    const tg = r.tr.querySelector('.expander')!;
    tg.textContent = open ? '▾' : '▸';
    tg.setAttribute('aria-expanded', String(open));
    if (!open) {
      r.seriesTr?.remove();
      r.seriesTr = null;
      if (r.seriesQuery) void net.cancelFind(r.seriesQuery).catch(() => undefined);
      seriesHandlers.delete(r.seriesQuery);
      return;
    }
    const box = h('div', { class: 'series-box' }, h('span', { class: 'muted' }, 'Querying the series…'));
    r.seriesTr = h('tr', { class: 'series-row', dataset: { seriesOf: r.uid } }, h('td', null), h('td', { attrs: { colspan: String(cols.length - 1) } }, box));
    r.tr.after(r.seriesTr);
    const list: FindMatch[] = [];
    const handle = (ev: FindEvent) => {
      list.push(...(ev.matches ?? []));
      if (!ev.done) return;
      seriesHandlers.delete(ev.id);
      if (ev.error) {
        box.replaceChildren(h('span', { class: 'error-text' }, `Cannot list the series: ${ev.error}`));
        return;
      }
      list.sort((a, b) => Number(a.SeriesNumber || 0) - Number(b.SeriesNumber || 0));
      box.replaceChildren(
        list.length === 0
          ? h('span', { class: 'muted' }, `No series (${ev.status ?? ''})`)
          : h(
              'table',
              { class: 'series-table' },
              h('tbody', null, ...list.map((s) => {
                const b = button('Retrieve', () => void retrieveSeries(r, s), 'btn-small', 'Retrieve this series');
                b.dataset.action = 'retrieve-series';
                return h(
                  'tr',
                  { dataset: { seriesUid: s.SeriesInstanceUID ?? '' } },
                  h('td', { class: 'num' }, s.SeriesNumber ? `#${s.SeriesNumber}` : ''),
                  h('td', null, h('strong', null, s.Modality ?? '')),
                  h('td', null, s.SeriesDescription || h('span', { class: 'muted' }, 'No description')),
                  h('td', { class: 'muted' }, s.BodyPartExamined ?? ''),
                  h('td', { class: 'num' }, s.NumberOfSeriesRelatedInstances ? plural(Number(s.NumberOfSeriesRelatedInstances), 'image') : ''),
                  h('td', null, b),
                );
              })),
            ),
      );
    };
    try {
      const id = await net.startFind({ node: queryNode, level: 'series', keys: { StudyInstanceUID: r.uid }, limit: 1000 });
      r.seriesQuery = id;
      seriesHandlers.set(id, handle);
      for (const ev of early.get(id) ?? []) handle(ev);
      early.delete(id);
    } catch (e) {
      box.replaceChildren(h('span', { class: 'error-text' }, `Cannot list the series: ${errorText(e)}`));
    }
  }

  // ---- retrieve ----
  function title(m: FindMatch, series?: FindMatch): string {
    const s = [m.PatientName || m.PatientID || 'study', dicomDate(m.StudyDate ?? ''), m.StudyDescription].filter(Boolean).join(', ');
    return series ? `${s}, series ${series.SeriesNumber ?? ''} ${series.SeriesDescription ?? ''}`.trim() : s;
  }

  async function startRetrieve(r: Row, seriesUID: string, t: string): Promise<void> {
    try {
      const id = await net.retrieve({ node: queryNode, studyInstanceUID: r.uid, seriesInstanceUID: seriesUID || undefined, title: t });
      rememberRetrieve(id, r.uid);
      r.jobID = id;
      paintStatus(r);
      await track(id);
      toast(`Retrieving ${t} — progress in Transfers`, 'info');
    } catch (e) {
      toast(`Cannot retrieve: ${errorText(e)}`, 'error');
    }
  }
  const retrieveStudy = (r: Row) => startRetrieve(r, '', title(r.m));
  const retrieveSeries = (r: Row, s: FindMatch) => startRetrieve(r, s.SeriesInstanceUID ?? '', title(r.m, s));

  function paintStatus(r: Row): void {
    const j = r.jobID ? jobsOf.get(r.jobID) : undefined;
    const kids: (HTMLElement | string)[] = [];
    if (j) {
      const p = j.total > 0 ? `${j.done}/${j.total}` : `${j.done}`;
      const label = j.state === 'running' ? `${p} ↓` : j.state === 'done' ? `✓ ${p}` : `${j.state} ${p}`;
      kids.push(h('span', { class: `q-job q-job-${j.state}`, title: j.message || j.title }, label));
    }
    if (r.local) {
      const b = button('Open', () => openViewer(r.uid), 'btn-small btn-primary', 'Open the local copy in the viewer (O)');
      b.dataset.action = 'open';
      kids.push(b);
    }
    r.status.replaceChildren(...kids);
  }

  subscribeJobs((all) => {
    for (const j of all) {
      if (j.kind !== 'retrieve') continue;
      const prev = jobsOf.get(j.id);
      jobsOf.set(j.id, j);
      if (prev && prev.done === j.done && prev.state === j.state) continue;
      for (const r of rows) if (r.jobID === j.id) paintStatus(r);
    }
  });

  /** Marks the matches whose study is already in the local store. */
  async function markLocal(): Promise<void> {
    if (rows.length === 0) return;
    try {
      const local = (await api.listStudies({ patientName: '', patientID: '', dateFrom: '', dateTo: '', modality: '', accession: '', description: '', sort: 'studyDate', desc: true, limit: 100000, offset: 0 })) ?? [];
      const have = new Set(local.filter((s) => s.numberOfInstances > 0).map((s) => s.studyInstanceUID));
      for (const r of rows) {
        const l = have.has(r.uid);
        if (l !== r.local) {
          r.local = l;
          paintStatus(r);
        }
      }
    } catch {
      /* the Open buttons are a convenience */
    }
  }
  on('store', (ev) => {
    const r = byUID.get(ev.studyInstanceUID);
    if (!r) return;
    const l = ev.kind === 'added';
    if (l !== r.local) {
      r.local = l;
      paintStatus(r);
    }
  });

  // ---- keys ----
  function keydown(ev: KeyboardEvent): boolean {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    if (ev.key === 'Escape') {
      if (running) {
        void cancelQuery();
        return true;
      }
      if (isTyping(ev) && ev.target instanceof HTMLElement) {
        ev.target.blur();
        return true;
      }
      select(null);
      return true;
    }
    if (isTyping(ev)) {
      if (ev.key === 'ArrowDown' && rows.length > 0 && ev.target instanceof HTMLInputElement) {
        ev.target.blur();
        select(selected ?? rows[0]);
        return true;
      }
      return false;
    }
    const i = selected ? rows.indexOf(selected) : -1;
    switch (ev.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        if (rows.length === 0) return false;
        const d = ev.key === 'ArrowDown' ? 1 : -1;
        select(rows[i < 0 ? (d > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + d))]);
        return true;
      }
      case 'ArrowRight':
      case 'Enter':
        if (!selected || ev.target instanceof HTMLButtonElement) return false;
        void expand(selected, ev.key === 'Enter' ? !selected.expanded : true);
        return true;
      case 'ArrowLeft':
        if (!selected?.expanded) return false;
        void expand(selected, false);
        return true;
      case 'r':
        if (!selected) return false;
        void retrieveStudy(selected);
        return true;
      case 'o':
        if (!selected?.local) return false;
        openViewer(selected.uid);
        return true;
      case 'f':
        inputs.get('PatientName')?.focus();
        return true;
    }
    return false;
  }

  const element = h(
    'section',
    { class: 'browser query-view' },
    h('div', { class: 'toolbar' }, form),
    statusLine,
    tableWrap,
  );
  registerView({
    id: 'query',
    title: 'Query',
    nav: true,
    key: 'q',
    element,
    keydown,
    show: () => {
      void nodes().catch((e) => setStatus('error', `Cannot load the nodes: ${errorText(e)}`));
      if (!running && rows.length === 0) window.setTimeout(() => inputs.get('PatientName')?.focus(), 0);
    },
  });
  renderEmpty();
}
