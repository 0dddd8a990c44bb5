// "Send to…": a node picker (a listbox driven by arrows, Enter and Esc)
// that starts a SendInstances job for studies, series or instances; the job
// then shows in Transfers with its progress and per-instance failures.

import { net } from '../api/network';
import type { DicomNode, SendRequest } from '../api/types';
import { showView } from '../shell';
import { track } from '../transfers/jobs';
import { lastEcho, reloadNodes } from '../nodes/store';
import { echoLight, echoText, light } from '../nodes/echo';
import { errorText, h } from '../ui/dom';
import { toast } from '../ui/toast';

export interface SendWhat {
  studyUIDs?: string[];
  seriesUIDs?: string[];
  instanceIDs?: number[];
  /** What the user sees: "study DOE^JOHN, 2024-01-02". */
  label: string;
}

let lastNode = '';

/** Opens the node picker; resolves with the started job's id, or "" when cancelled. */
export async function sendTo(what: SendWhat): Promise<string> {
  if (document.querySelector('dialog[open]')) return '';
  let list: DicomNode[];
  let loadError = '';
  try {
    const l = await reloadNodes(); // fresh: nodes may have changed elsewhere
    list = l.nodes;
  } catch (e) {
    list = [];
    loadError = errorText(e);
  }
  return new Promise((resolve) => {
    let index = Math.max(0, list.findIndex((n) => n.name === lastNode));
    let jobID = '';
    const lb = h('ul', { class: 'picker', role: 'listbox', tabIndex: 0, id: 'send-picker', aria: { label: 'Nodes' } });
    const problem = h('p', { class: 'error-text', role: 'alert', hidden: true });
    const sendBtn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'send' } }, 'Send');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const items = list.map((n, i) => {
      const r = lastEcho.get(n.name);
      const li = h(
        'li',
        { role: 'option', id: `send-opt-${i}`, dataset: { name: n.name } },
        light(echoLight(r), echoText(r)),
        h('span', { class: 'picker-name' }, n.name),
        h('span', { class: 'muted' }, `${n.aeTitle} · ${n.host}:${n.port}`),
      );
      li.addEventListener('click', () => move(i));
      li.addEventListener('dblclick', () => void go());
      return li;
    });
    lb.append(...items);
    function move(i: number): void {
      if (list.length === 0) return;
      index = Math.max(0, Math.min(list.length - 1, i));
      items.forEach((li, k) => li.setAttribute('aria-selected', String(k === index)));
      lb.setAttribute('aria-activedescendant', `send-opt-${index}`);
      items[index].scrollIntoView({ block: 'nearest' });
    }
    const body =
      list.length === 0
        ? h('div', null, h('p', null, loadError ? `Cannot load the nodes: ${loadError}` : 'There is no node to send to yet.'), h('button', { type: 'button', class: 'btn', onclick: () => { dlg.close(); showView('nodes'); } }, 'Add a node…'))
        : lb;
    const dlg = h(
      'dialog',
      { class: 'dialog send-dialog', aria: { label: 'Send to a node' } },
      h('h2', null, 'Send to…'),
      h('p', { class: 'muted send-what' }, what.label),
      body,
      problem,
      h('p', { class: 'help' }, h('kbd', null, '↑'), ' ', h('kbd', null, '↓'), ' choose · ', h('kbd', null, 'Enter'), ' send · ', h('kbd', null, 'Esc'), ' cancel'),
      h('div', { class: 'dialog-actions' }, cancel, sendBtn),
    );
    sendBtn.disabled = list.length === 0;
    async function go(): Promise<void> {
      const n = list[index];
      if (!n || sendBtn.disabled) return;
      sendBtn.disabled = true;
      const req: SendRequest = { nodeName: n.name, studyUIDs: what.studyUIDs, seriesUIDs: what.seriesUIDs, instanceIDs: what.instanceIDs };
      try {
        jobID = await net.sendInstances(req);
        lastNode = n.name;
        dlg.close();
        await track(jobID);
        toast(`Sending ${what.label} to ${n.name} — progress in Transfers`, 'info');
      } catch (e) {
        problem.textContent = `Cannot send: ${errorText(e)}`;
        problem.hidden = false;
        sendBtn.disabled = false;
      }
    }
    dlg.addEventListener('keydown', (ev) => {
      switch (ev.key) {
        case 'ArrowDown':
          move(index + 1);
          break;
        case 'ArrowUp':
          move(index - 1);
          break;
        case 'Home':
          move(0);
          break;
        case 'End':
          move(list.length - 1);
          break;
        case 'Enter':
          if (ev.target instanceof HTMLButtonElement && ev.target !== sendBtn) return;
          void go();
          break;
        default:
          return; // Esc: the dialog closes itself
      }
      ev.preventDefault();
      ev.stopPropagation();
    });
    cancel.addEventListener('click', () => dlg.close());
    sendBtn.addEventListener('click', () => void go());
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(jobID);
    });
    document.body.append(dlg);
    dlg.showModal();
    move(index);
    (list.length ? lb : cancel).focus();
  });
}
