// The Incoming view (#/incoming): every association of the DICOM listener,
// newest first: calling AE, host, instances stored, rate, failures. Filled
// from Incoming() and kept live by `incoming` events (per-association
// activity) and `association` events (accepted/rejected/ended).

import { on, onReconnect, type AssociationActivity, type AssociationEvent } from '../api/api';
import { net } from '../api/network';
import { registerView } from '../shell';
import { errorText, h } from '../ui/dom';
import { bytes, rate } from '../ui/format';

const KEEP = 200;

interface Entry {
  a: AssociationActivity;
  /** From `association` events when no activity came (e.g. rejected). */
  note: string;
}

export function initIncomingView(): void {
  const entries = new Map<number, Entry>();
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'study-table incoming-table' },
    h('thead', null, h('tr', null, ...['', 'Calling AE', 'Host', 'Started', 'Instances', 'Rate', 'Data', 'Errors'].map((t, i) => h('th', { class: i >= 4 && i <= 6 ? 'num' : '' }, t)))),
    tbody,
  );
  const empty = h('p', { class: 'muted' }, 'No association yet. Images that PACS and modalities send to Lightbox (pushes, C-MOVE results) show here as they arrive.');
  const problem = h('p', { class: 'error-text', hidden: true });
  let dirty = false;
  let visible = false;

  function upsert(a: AssociationActivity): void {
    const old = entries.get(a.id);
    entries.set(a.id, { a, note: old?.note ?? '' });
    if (entries.size > KEEP) {
      const oldest = [...entries.values()].sort((x, y) => x.a.startedAt.localeCompare(y.a.startedAt))[0];
      entries.delete(oldest.a.id);
    }
    schedule();
  }

  function schedule(): void {
    if (!visible) {
      dirty = true;
      return;
    }
    if (dirty) return;
    dirty = true;
    requestAnimationFrame(render);
  }

  function render(): void {
    dirty = false;
    const list = [...entries.values()].sort((x, y) => y.a.startedAt.localeCompare(x.a.startedAt));
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
    tbody.replaceChildren(
      ...list.map(({ a, note }) => {
        const errs = a.errors ?? [];
        const state = a.state === 'active' ? 'busy' : a.state === 'aborted' || a.failed > 0 || note ? 'bad' : 'ok';
        const when = new Date(a.startedAt);
        const errCell =
          errs.length > 0 || a.failed > 0 || a.lastError || note
            ? h(
                'details',
                { class: 'err-details' },
                h('summary', { class: 'error-text' }, note || `${a.failed} failed`),
                ...[...(a.lastError ? [a.lastError] : []), ...errs.filter((e) => e !== a.lastError)].map((e) => h('div', { class: 'err-meaning' }, e)),
              )
            : h('span', { class: 'muted' }, '—');
        return h(
          'tr',
          { dataset: { id: String(a.id), state: a.state } },
          h('td', { class: 'narrow' }, h('span', { class: `light light-${state}`, title: a.state })),
          h('td', null, h('code', null, a.callingAE || '?'), a.calledAE ? h('span', { class: 'muted' }, ` → ${a.calledAE}`) : null),
          h('td', null, a.host),
          h('td', { class: 'nowrap' }, isNaN(when.getTime()) ? '' : when.toLocaleTimeString()),
          h('td', { class: 'num' }, String(a.instances)),
          h('td', { class: 'num' }, a.state === 'active' ? [rate(a.rate, 'img/s'), rate(a.mbps, 'MB/s')].filter(Boolean).join(' · ') : rate(a.rate, 'img/s')),
          h('td', { class: 'num' }, bytes(a.bytes)),
          h('td', null, errCell),
        );
      }),
    );
  }

  async function load(): Promise<void> {
    try {
      for (const a of (await net.incoming()) ?? []) upsert(a);
      problem.hidden = true;
    } catch (e) {
      problem.textContent = `Cannot list the associations: ${errorText(e)}`;
      problem.hidden = false;
    }
  }

  on('incoming', (a) => {
    if (a && typeof a.id === 'number') upsert(a);
  });
  on('association', (ev: AssociationEvent) => {
    if (!ev || (ev.kind !== 'rejected' && ev.kind !== 'failed')) return;
    // a refused association never reaches the Storage SCP: list it from here
    const key = -ev.id; // the listener's ids and the tracker's ids are separate sequences
    const old = entries.get(key);
    const a: AssociationActivity = old?.a ?? {
      id: key, callingAE: ev.callingAE, calledAE: ev.calledAE, host: ev.host, state: 'aborted', startedAt: ev.startedAt,
      instances: 0, failed: 0, bytes: 0, rate: 0, mbps: 0, errors: [],
    };
    entries.set(key, { a, note: `${ev.kind}${ev.reason ? `: ${ev.reason}` : ''}` });
    schedule();
  });
  onReconnect(() => void load());

  const element = h(
    'section',
    { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Incoming associations')),
    problem,
    empty,
    table,
  );
  registerView({
    id: 'incoming',
    title: 'Incoming',
    nav: true,
    key: 'i',
    element,
    show: () => {
      visible = true;
      void load().then(render);
    },
    hide: () => {
      visible = false;
    },
  });
  void load();
}
