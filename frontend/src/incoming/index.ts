// The Incoming view (#/incoming): every association of the DICOM listener,
// newest first: calling AE, host, instances stored, rate, failures, and
// the associations refused before any service ran (rejected, or failed
// during negotiation, with the reason). Filled from Incoming() and kept
// live by `incoming` events.

import { on, onReconnect, type AssociationActivity } from '../api/api';
import { net } from '../api/network';
import { registerView } from '../shell';
import { errorText, h } from '../ui/dom';
import { bytes, rate } from '../ui/format';

const KEEP = 200;

export function initIncomingView(): void {
  const entries = new Map<number, AssociationActivity>();
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
    entries.set(a.id, a);
    if (entries.size > KEEP) {
      const oldest = [...entries.values()].sort((x, y) => x.startedAt.localeCompare(y.startedAt))[0];
      entries.delete(oldest.id);
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
    const list = [...entries.values()].sort((x, y) => y.startedAt.localeCompare(x.startedAt));
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
    tbody.replaceChildren(
      ...list.map((a) => {
        const errs = a.errors ?? [];
        const refused = a.state === 'rejected' || a.state === 'failed';
        const state = a.state === 'active' ? 'busy' : a.state === 'aborted' || refused || a.failed > 0 ? 'bad' : 'ok';
        // what went wrong, in a word: the failures, or how the association ended
        const note = a.failed > 0 ? `${a.failed} failed` : refused || a.state === 'aborted' ? a.state : '';
        const when = new Date(a.startedAt);
        const errCell =
          errs.length > 0 || a.lastError || note
            ? h(
                'details',
                { class: 'err-details', attrs: refused ? { open: '' } : undefined },
                h('summary', { class: 'error-text' }, note || 'errors'),
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
