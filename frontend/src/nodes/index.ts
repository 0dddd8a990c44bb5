// The node manager view (#/nodes): the remote AEs of nodes.xml with add,
// edit, delete (asks first) and C-ECHO with a status light. A nodes.xml that
// could not be read is shown at the top; the backend then refuses to save.

import { api, type DicomNode, type Settings } from '../api/api';
import { net } from '../api/network';
import { registerView } from '../shell';
import { button, errorText, h, isTyping } from '../ui/dom';
import { confirmDialog } from '../ui/dialog';
import { toast } from '../ui/toast';
import { echoLight, echoText, light } from './echo';
import { editNode, moveHelp } from './form';
import { lastEcho, reloadNodes, subscribeNodes } from './store';

export function initNodesView(): void {
  let list: DicomNode[] = [];
  let selected: string | null = null;
  let settings: Settings | null = null;
  const echoing = new Set<string>();

  const banner = h('div', { class: 'banner banner-error', role: 'alert', hidden: true });
  const pathNote = h('p', { class: 'help' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'study-table node-table' },
    h('thead', null, h('tr', null, ...['', 'Name', 'AE title', 'Address', 'Retrieve', 'Encoding', 'Echo', ''].map((t) => h('th', null, t)))),
    tbody,
  );
  const emptyAdd = button('Add node…', () => void add(), 'btn-primary');
  const empty = h(
    'div',
    { class: 'empty-state', hidden: true },
    h('h2', null, 'No DICOM nodes yet'),
    h('p', null, 'Add the PACS or modality you want to query, retrieve from and send to. You need its AE title, host and port.'),
    emptyAdd,
  );
  const addBtn = button('Add node…', () => void add(), 'btn-primary', 'Add a remote DICOM node (A)');
  addBtn.dataset.action = 'add-node';

  function render(): void {
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
    tbody.replaceChildren(...list.map(row));
  }

  function row(n: DicomNode): HTMLTableRowElement {
    const r = lastEcho.get(n.name);
    const busy = echoing.has(n.name);
    const state = busy ? 'busy' : echoLight(r);
    const text = busy ? 'Echoing…' : echoText(r);
    const echoBtn = button('Echo', () => void echo(n.name), 'btn-small', 'Send a C-ECHO (E)');
    echoBtn.dataset.action = 'echo';
    echoBtn.disabled = busy;
    const edit = button('Edit…', () => void editOne(n), 'btn-small', 'Edit (Enter)');
    edit.dataset.action = 'edit';
    const del = button('Delete…', () => void remove(n), 'btn-small btn-danger-outline', 'Delete (Delete)');
    del.dataset.action = 'delete';
    const tr = h(
      'tr',
      { dataset: { name: n.name }, class: n.name === selected ? 'selected' : '', attrs: { 'aria-selected': String(n.name === selected) } },
      h('td', { class: 'narrow' }, light(state, text)),
      h('td', { class: 'c-patientName', title: n.description }, n.name, n.description ? h('div', { class: 'muted small' }, n.description) : null),
      h('td', null, h('code', null, n.aeTitle)),
      h('td', { class: 'nowrap' }, `${n.host}:${n.port}`),
      h('td', { class: 'nowrap' }, n.retrieve, n.retrieve === 'C-MOVE' ? h('span', { class: 'muted' }, ` → port ${n.localPort || settings?.port || '?'}`) : null),
      h('td', { class: 'nowrap muted' }, n.encoding),
      h('td', { class: `echo-text echo-${state}`, title: text }, text),
      h('td', { class: 'nowrap actions' }, echoBtn, ' ', edit, ' ', del),
    );
    tr.addEventListener('click', (ev) => {
      if (!(ev.target instanceof HTMLButtonElement)) select(n.name);
    });
    tr.addEventListener('dblclick', () => void editOne(n));
    return tr;
  }

  function select(name: string | null): void {
    selected = name;
    for (const tr of tbody.querySelectorAll<HTMLTableRowElement>('tr')) {
      const on = tr.dataset.name === name;
      tr.classList.toggle('selected', on);
      tr.setAttribute('aria-selected', String(on));
      if (on) tr.scrollIntoView({ block: 'nearest' });
    }
    showMoveHelp();
  }

  const moveBox = h('div', { class: 'node-move-help' });
  function showMoveHelp(): void {
    const n = list.find((x) => x.name === selected) ?? list.find((x) => x.retrieve === 'C-MOVE');
    if (!n || n.retrieve !== 'C-MOVE') {
      moveBox.replaceChildren();
      return;
    }
    moveBox.replaceChildren(h('h2', null, `Test retrieve: ${n.name} uses C-MOVE`), moveHelp(settings, n.localPort));
  }

  async function echo(name: string): Promise<void> {
    echoing.add(name);
    render();
    try {
      const r = await net.echoNode(name);
      lastEcho.set(name, { ...r, at: Date.now() });
    } catch (e) {
      lastEcho.set(name, { ok: false, millis: 0, error: errorText(e), hostPort: '', at: Date.now() });
    } finally {
      echoing.delete(name);
      render();
    }
  }

  async function add(): Promise<void> {
    const saved = await editNode(null, settings);
    if (saved) {
      selected = saved.name;
      toast(`Node ${saved.name} added`, 'ok');
      await refresh();
    }
  }

  async function editOne(n: DicomNode): Promise<void> {
    const saved = await editNode(n, settings);
    if (saved) {
      if (saved.name !== n.name) {
        const r = lastEcho.get(n.name);
        lastEcho.delete(n.name);
        if (r) lastEcho.set(saved.name, r);
      }
      selected = saved.name;
      toast(`Node ${saved.name} saved`, 'ok');
      await refresh();
    }
  }

  async function remove(n: DicomNode): Promise<void> {
    const ok = await confirmDialog({
      title: 'Delete node?',
      message: h('div', null, h('p', null, h('strong', null, n.name), ` (${n.aeTitle} at ${n.host}:${n.port})`), h('p', null, 'Lightbox forgets this node. Images already retrieved stay in the local store.')),
      confirmLabel: 'Delete node',
      danger: true,
    });
    if (!ok) return;
    try {
      await net.deleteNode(n.name);
      lastEcho.delete(n.name);
      if (selected === n.name) selected = null;
      toast(`Node ${n.name} deleted`, 'ok');
    } catch (e) {
      toast(`Cannot delete ${n.name}: ${errorText(e)}`, 'error');
    }
    await refresh();
  }

  async function refresh(): Promise<void> {
    try {
      const [l, s] = await Promise.all([reloadNodes(), api.getSettings().catch(() => null)]);
      settings = s;
      pathNote.textContent = l.path ? `Stored in ${l.path}` : '';
    } catch (e) {
      banner.textContent = `Cannot load the node list: ${errorText(e)}`;
      banner.hidden = false;
    }
  }

  subscribeNodes((l) => {
    list = l.nodes;
    if (l.error) {
      banner.replaceChildren(
        h('strong', null, 'nodes.xml could not be read. '),
        l.error,
        h('div', { class: 'small' }, 'Lightbox keeps the file as it is and will not save node changes until it is fixed. Fix or remove the file, then restart Lightbox.'),
      );
      banner.hidden = false;
    } else banner.hidden = true;
    addBtn.disabled = !!l.error;
    emptyAdd.hidden = !!l.error; // saving is refused until nodes.xml is fixed: no dead button
    if (selected && !list.some((n) => n.name === selected)) selected = null;
    render();
    showMoveHelp();
  });

  function keydown(ev: KeyboardEvent): boolean {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev)) return false;
    const i = list.findIndex((n) => n.name === selected);
    const cur = i >= 0 ? list[i] : null;
    switch (ev.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        if (list.length === 0) return false;
        const d = ev.key === 'ArrowDown' ? 1 : -1;
        const n = i < 0 ? (d > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, i + d));
        select(list[n].name);
        return true;
      }
      case 'Enter':
        if (!cur || ev.target instanceof HTMLButtonElement) return false;
        void editOne(cur);
        return true;
      case 'e':
        if (!cur) return false;
        void echo(cur.name);
        return true;
      case 'a':
        if (addBtn.disabled) return false;
        void add();
        return true;
      case 'Delete':
        if (!cur) return false;
        void remove(cur);
        return true;
      case 'Escape':
        select(null);
        return true;
    }
    return false;
  }

  const element = h(
    'section',
    { class: 'page nodes-page' },
    h('div', { class: 'page-head' }, h('h1', null, 'DICOM nodes'), addBtn),
    banner,
    h('div', { class: 'node-wrap' }, table, empty),
    pathNote,
    moveBox,
  );
  registerView({ id: 'nodes', title: 'Nodes', nav: true, key: 'n', element, keydown, show: () => void refresh() });
}
