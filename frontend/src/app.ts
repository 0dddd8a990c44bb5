// Entry point: builds the shell, registers the feature views in navigation
// order, and wires global keys, drag and drop and the top bar. Features live
// in their own folders (browser/, transfers/, settings/, nodes/, viewer/,
// import/); this file only assembles them.

import './styles.css';
import { api, mode, onConnection } from './api/api';
import { currentView, dispatchKey, initShell, route, showView, viewForKey } from './shell';
import { initBrowser } from './browser/index';
import { initViewer } from './viewer/index';
import { activityIndicator, initTransfersView } from './transfers/panel';
import { initJobs } from './transfers/jobs';
import { initSettingsView } from './settings/index';
import { initDrop } from './import/drop';
import { initNodesView } from './nodes/index';
import { initQueryView } from './query/index';
import { initIncomingView } from './incoming/index';
import { initNetworkTransfers } from './send/transfers';
import { sendTo } from './send/index';
import { errorText, h, isTyping } from './ui/dom';
import { infoDialog } from './ui/dialog';
import { initErrorReports } from './ui/report';
import { toast } from './ui/toast';

const SHORTCUTS: [string, string][] = [
  ['/', 'Search by patient name'],
  ['↑ / ↓', 'Move the study selection (also from a search field)'],
  ['PgUp / PgDn, Home / End', 'Move the selection by 10 / to the ends'],
  ['Enter', 'Open the selected study in the viewer'],
  ['Delete', 'Delete the selected study (asks first)'],
  ['Esc', 'Leave a search field; clear the selection'],
  ['Shift+S', 'Send the selected study (or the one in the viewer) to a node…'],
  ['Alt+S / Alt+T / Alt+,', 'Studies / Transfers / Settings'],
  ['Alt+Q / Alt+N / Alt+I', 'Query a PACS / Nodes / Incoming associations'],
  ['Query: Enter, ↑ ↓, → ←, R, O', 'Search; move; show/hide series; retrieve; open the local copy'],
  ['Nodes: A, E, Enter, Delete', 'Add; echo; edit; delete the selected node'],
  ['?', 'Show this list'],
];

function showShortcuts(): void {
  if (document.querySelector('dialog[open]')) return;
  const table = h(
    'table',
    { class: 'shortcuts' },
    h('tbody', null, ...SHORTCUTS.map(([k, d]) => h('tr', null, h('th', null, h('kbd', null, k)), h('td', null, d)))),
  );
  void infoDialog('Keyboard shortcuts', table);
}

function start(): void {
  initErrorReports();
  const main = document.getElementById('main')!;
  const nav = document.getElementById('nav')!;
  const right = document.getElementById('topbar-right')!;
  document.body.dataset.mode = mode();

  initShell(main, nav);
  const browser = initBrowser();
  initViewer();
  initQueryView();
  initNetworkTransfers();
  initTransfersView();
  initIncomingView();
  initNodesView();
  initSettingsView();

  const offline = h('span', { class: 'offline', hidden: true, title: 'The event stream is down; retrying' }, 'Reconnecting…');
  onConnection((up) => (offline.hidden = up));
  right.append(
    activityIndicator(),
    offline,
    h('button', { type: 'button', class: 'icon-btn', title: 'Keyboard shortcuts (?)', aria: { label: 'Keyboard shortcuts' }, onclick: showShortcuts }, '?'),
  );

  document.addEventListener('keydown', (ev) => {
    if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      const id = viewForKey(ev.key);
      if (id) {
        ev.preventDefault();
        showView(id);
      }
      return;
    }
    if (dispatchKey(ev)) {
      ev.preventDefault();
      return;
    }
    if (isTyping(ev) || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'S' && ev.shiftKey) {
      const v = currentView();
      if (v?.id === 'viewer' && v.param) {
        ev.preventDefault();
        void sendTo({ studyUIDs: [v.param], label: 'The study open in the viewer' });
      } else if (v?.id === 'studies') {
        const b = document.querySelector<HTMLButtonElement>('.strip [data-action="send-study"]');
        if (b) {
          ev.preventDefault();
          b.click();
        }
      }
      return;
    }
    if (ev.key === '/') {
      ev.preventDefault();
      browser.focusSearch();
    } else if (ev.key === '?') {
      ev.preventDefault();
      showShortcuts();
    }
  });

  initDrop();
  void initJobs();
  route();
  // started to open a study (lightbox open STUDY): show it first
  api
    .startupView()
    .then((v) => {
      if (v && !/^#\/viewer\//.test(location.hash)) location.hash = `#/${v}`;
    })
    .catch((e: unknown) => toast(errorText(e), 'error', 10000));
}

start();
