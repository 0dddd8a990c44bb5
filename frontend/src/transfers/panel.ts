// Job cards with progress bars: done/total, items/s, MB/s, ETA, expandable
// errors and a Cancel button. Used by the Transfers view and the activity
// indicator in the top bar.

import type { Job } from '../api/api';
import { button, h } from '../ui/dom';
import { bytes, duration, plural, rate } from '../ui/format';
import { registerView, showView } from '../shell';
import { all, cancel, clearFinished, isActive, subscribe } from './jobs';

const stateLabel: Record<Job['state'], string> = {
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  stopped: 'Stopped',
};

interface Card {
  root: HTMLElement;
  title: HTMLElement;
  badge: HTMLElement;
  bar: HTMLProgressElement;
  stats: HTMLElement;
  message: HTMLElement;
  errors: HTMLDetailsElement;
  errorsSummary: HTMLElement;
  errorsList: HTMLElement;
  cancelBtn: HTMLButtonElement;
  actions: HTMLElement;
  shownErrors: number;
}

/** Adds controls to job cards from other features (Retry, Open…); called after every update of a card. */
export type JobDecorator = (j: Job, parts: { actions: HTMLElement; errors: HTMLElement }) => void;
const decorators: JobDecorator[] = [];
export function decorateJobs(fn: JobDecorator): void {
  decorators.push(fn);
}

function makeCard(j: Job): Card {
  const title = h('div', { class: 'job-title' });
  const badge = h('span', { class: 'badge' });
  const bar = h('progress', { class: 'job-bar' });
  const stats = h('div', { class: 'job-stats' });
  const message = h('div', { class: 'job-message' });
  const errorsSummary = h('summary');
  const errorsList = h('ul', { class: 'job-errors' });
  const errors = h('details', { class: 'job-errors-box', hidden: true }, errorsSummary, errorsList);
  const cancelBtn = button('Cancel', () => void cancel(j.id), 'btn-small', 'Stop this job');
  const actions = h('span', { class: 'job-actions' });
  const root = h(
    'article',
    { class: 'job', dataset: { job: j.id } },
    h('div', { class: 'job-head' }, title, badge, actions, cancelBtn),
    bar,
    stats,
    message,
    errors,
  );
  return { root, title, badge, bar, stats, message, errors, errorsSummary, errorsList, cancelBtn, actions, shownErrors: 0 };
}

export function jobStats(j: Job): string {
  const parts: string[] = [];
  parts.push(j.total > 0 ? `${j.done} / ${j.total}` : `${j.done}`);
  if (j.failed > 0) parts.push(`${j.failed} failed`);
  if (j.bytes > 0) parts.push(bytes(j.bytes));
  if (isActive(j)) {
    const r = rate(j.rate, j.kind === 'import' ? 'files/s' : 'img/s');
    if (r) parts.push(r);
    const m = rate(j.mbps, 'MB/s');
    if (m) parts.push(m);
    if (j.etaSeconds > 0) parts.push(`ETA ${duration(j.etaSeconds)}`);
  }
  return parts.join(' · ');
}

function updateCard(c: Card, j: Job): void {
  c.root.dataset.state = j.state;
  c.title.textContent = j.title || `${j.kind} ${j.id}`;
  c.badge.textContent = stateLabel[j.state] ?? j.state;
  c.badge.className = `badge badge-${j.state}`;
  if (j.total > 0) {
    c.bar.max = j.total;
    c.bar.value = Math.min(j.done + j.failed, j.total);
  } else if (isActive(j)) {
    c.bar.removeAttribute('value'); // indeterminate
  } else {
    c.bar.max = 1;
    c.bar.value = 1;
  }
  c.stats.textContent = jobStats(j);
  c.message.textContent = j.message || '';
  c.message.hidden = !j.message;
  c.cancelBtn.hidden = !isActive(j);
  const errs = j.errors ?? [];
  c.errors.hidden = errs.length === 0;
  c.errorsSummary.textContent = `${plural(errs.length, 'error')}${j.failed > errs.length ? ` (first ${errs.length} of ${j.failed})` : ''}`;
  if (errs.length !== c.shownErrors) {
    c.errorsList.replaceChildren(
      ...errs.map((e) => h('li', null, h('span', { class: 'err-item' }, e.item), h('span', { class: 'err-reason' }, e.reason))),
    );
    c.shownErrors = errs.length;
  }
  for (const d of decorators) d(j, { actions: c.actions, errors: c.errorsList });
}

/** A live list of job cards. */
export function jobList(): HTMLElement {
  const list = h('div', { class: 'job-list' });
  const empty = h('p', { class: 'muted' }, 'No transfers yet. Imports, retrieves and sends show their progress here.');
  const cards = new Map<string, Card>();
  const wrap = h('div', null, empty, list);
  subscribe((jobs) => {
    empty.hidden = jobs.length > 0;
    const seen = new Set<string>();
    let prev: Element | null = null;
    for (const j of jobs) {
      seen.add(j.id);
      let c = cards.get(j.id);
      if (!c) {
        c = makeCard(j);
        cards.set(j.id, c);
      }
      updateCard(c, j);
      // keep DOM order equal to the list order
      const want: ChildNode | null = prev ? prev.nextSibling : list.firstChild;
      if (want !== c.root) list.insertBefore(c.root, want);
      prev = c.root;
    }
    for (const [id, c] of cards) {
      if (!seen.has(id)) {
        c.root.remove();
        cards.delete(id);
      }
    }
  });
  return wrap;
}

/** Registers the Transfers view. */
export function initTransfersView(): void {
  const el = h(
    'section',
    { class: 'page' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Transfers'),
      button('Clear finished', () => clearFinished(), 'btn-small', 'Hide jobs that are no longer running'),
    ),
    jobList(),
  );
  registerView({ id: 'transfers', title: 'Transfers', nav: true, key: 't', element: el });
}

/** The top-bar indicator: running jobs and their overall progress; click opens Transfers. */
export function activityIndicator(): HTMLElement {
  const label = h('span', { class: 'activity-label' });
  const bar = h('progress', { class: 'activity-bar' });
  const el = h(
    'button',
    {
      type: 'button',
      class: 'activity',
      title: 'Show transfers',
      hidden: true,
      onclick: () => showView('transfers'),
    },
    label,
    bar,
  );
  subscribe(() => {
    const running = all().filter(isActive);
    el.hidden = running.length === 0;
    if (running.length === 0) return;
    const done = running.reduce((s, j) => s + j.done + j.failed, 0);
    const total = running.reduce((s, j) => s + j.total, 0);
    label.textContent =
      running.length === 1 ? `${running[0].title}: ${jobStats(running[0])}` : `${running.length} transfers running`;
    if (total > 0) {
      bar.max = total;
      bar.value = done;
    } else bar.removeAttribute('value');
  });
  return el;
}
