// The add/edit dialog of a node: every field of backend/nodes.Node, checks
// done in the page (same rules as nodes.Normalize) and the backend's own
// refusal shown inline next to the field it names.

import { net } from '../api/network';
import type { DicomNode, Settings } from '../api/types';
import { aeTitleProblem, fillCharsetSelect } from '../settings/index';
import { errorText, h } from '../ui/dom';

export const EMPTY_NODE: DicomNode = {
  name: '',
  aeTitle: '',
  host: '',
  port: 104,
  encoding: 'ISO_IR 192',
  retrieve: 'C-GET',
  localPort: 0,
  maxAssociations: 2,
  assumeCharset: '',
  description: '',
};

type Field = keyof DicomNode;

/** Which field a backend message is about (nodes.Normalize wording). */
export function fieldOfError(msg: string): Field | null {
  const m = msg.toLowerCase();
  if (m.includes('local port')) return 'localPort';
  if (m.includes('ae title')) return 'aeTitle';
  if (m.includes('host')) return 'host';
  if (m.includes('port')) return 'port';
  if (m.includes('assumed character set')) return 'assumeCharset';
  if (m.includes('encoding')) return 'encoding';
  if (m.includes('retrieve mode')) return 'retrieve';
  if (m.includes('max associations')) return 'maxAssociations';
  if (m.includes('named') || m.includes('name')) return 'name';
  return null;
}

function intProblem(v: string, min: number, max: number, what: string): string {
  if (!/^\d+$/.test(v.trim())) return `${what} must be a whole number.`;
  const n = Number(v);
  return n < min || n > max ? `${what} must be between ${min} and ${max}.` : '';
}

/** The "test retrieve" explanation for C-MOVE nodes (0xA801). */
export function moveHelp(s: Settings | null, localPort: number): HTMLElement {
  const port = localPort || s?.port || 0;
  const host = location.hostname && !['localhost', '127.0.0.1', '::1', ''].includes(location.hostname) ? location.hostname : "this computer's IP address";
  return h(
    'div',
    { class: 'move-help' },
    h('strong', null, 'C-MOVE: the PACS sends the images to Lightbox over a new connection. '),
    'If a retrieve fails with ',
    h('code', null, '0xA801 move destination unknown'),
    ', the PACS does not know Lightbox yet. Ask its administrator to add Lightbox as a DICOM node with AE title ',
    h('code', null, s?.aeTitle || '(see Settings)'),
    ', host ',
    h('code', null, host),
    ' and port ',
    h('code', null, port ? String(port) : '(see Settings)'),
    '. Firewalls between the PACS and this computer must let that port through. C-GET needs none of this.',
  );
}

/**
 * Opens the node dialog; resolves with the saved node (after SaveNode
 * succeeded) or null when cancelled.
 */
export function editNode(old: DicomNode | null, settings: Settings | null): Promise<DicomNode | null> {
  return new Promise((resolve) => {
    const n = old ?? EMPTY_NODE;
    const errs = new Map<Field, HTMLElement>();
    const input = (f: Field, type: string, value: string | number, extra: Record<string, string> = {}) => {
      const el = h('input', { id: `node-${f}`, type, class: 'input', attrs: { autocomplete: 'off', spellcheck: 'false', name: f, ...extra } });
      el.value = String(value);
      return el;
    };
    const select = (f: Field, opts: { value: string; label: string }[], value: string) => {
      const el = h('select', { id: `node-${f}`, class: 'input', attrs: { name: f } }, ...opts.map((o) => h('option', { attrs: { value: o.value } }, o.label)));
      if (!opts.some((o) => o.value === value)) el.append(h('option', { attrs: { value } }, value));
      el.value = value;
      return el;
    };
    const name = input('name', 'text', n.name, { placeholder: 'e.g. Main PACS' });
    const ae = input('aeTitle', 'text', n.aeTitle, { maxlength: '16', placeholder: 'e.g. ORTHANC' });
    const host = input('host', 'text', n.host, { placeholder: 'IP address or host name' });
    const port = input('port', 'number', n.port, { min: '1', max: '65535' });
    // query keys are written in the node's Encoding: only what Lightbox can encode
    const encoding = select('encoding', [], n.encoding || 'ISO_IR 192');
    fillCharsetSelect(encoding, [], (c) => c.dicom && c.encodable);
    const retrieve = select('retrieve', [
      { value: 'C-GET', label: 'C-GET (images come back on the same connection)' },
      { value: 'C-MOVE', label: 'C-MOVE (the PACS connects to Lightbox)' },
    ], n.retrieve || 'C-GET');
    const localPort = input('localPort', 'number', n.localPort, { min: '0', max: '65535' });
    const maxAssoc = input('maxAssociations', 'number', n.maxAssociations || 2, { min: '1', max: '32' });
    const trust = { value: '', label: 'None — trust (0008,0005) of each answer' };
    const assume = select('assumeCharset', [trust], n.assumeCharset || '');
    fillCharsetSelect(assume, [trust], (c) => c.term !== 'ISO_IR 6');
    const desc = input('description', 'text', n.description);
    const general = h('div', { class: 'error-text form-error', role: 'alert', hidden: true });
    const help = h('div');

    const row = (label: string, f: Field, control: HTMLElement, hint = '') => {
      const err = h('div', { class: 'field-error', role: 'alert', dataset: { field: f } });
      errs.set(f, err);
      return h('div', { class: 'form-row' }, h('label', { attrs: { for: control.id } }, label), h('div', null, control, err, hint ? h('p', { class: 'help' }, hint) : null));
    };
    const save = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { action: 'save-node' } }, old ? 'Save' : 'Add node');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const localRow = row('Local port', 'localPort', localPort, 'Where C-MOVE results arrive. 0: the main listener (Settings).');
    const form = h(
      'form',
      { class: 'node-form', attrs: { novalidate: '', method: 'dialog' } },
      row('Name', 'name', name, 'Shown in Lightbox; defaults to the AE title.'),
      row('AE title', 'aeTitle', ae, 'The called AE title of the remote node (1–16 characters).'),
      row('Host', 'host', host),
      row('Port', 'port', port),
      row('Retrieve with', 'retrieve', retrieve),
      localRow,
      help,
      row('Query encoding', 'encoding', encoding, 'Character set of the keys sent in queries. Answers are decoded by their own (0008,0005).'),
      row('Assume charset', 'assumeCharset', assume, 'For objects from this node without a Specific Character Set.'),
      row('Max associations', 'maxAssociations', maxAssoc, 'Parallel connections to this node (1–32).'),
      row('Description', 'description', desc),
      general,
      h('div', { class: 'dialog-actions' }, cancel, save),
    );
    const dlg = h('dialog', { class: 'dialog dialog-wide node-dialog', aria: { label: old ? `Edit node ${old.name}` : 'Add node' } }, h('h2', null, old ? `Edit node ${old.name}` : 'Add a DICOM node'), form);

    function value(): DicomNode {
      return {
        name: name.value.trim(),
        aeTitle: ae.value.trim(),
        host: host.value.trim(),
        port: Number(port.value),
        encoding: encoding.value,
        retrieve: retrieve.value === 'C-MOVE' ? 'C-MOVE' : 'C-GET',
        localPort: Number(localPort.value || '0'),
        maxAssociations: Number(maxAssoc.value),
        assumeCharset: assume.value,
        description: desc.value.trim(),
      };
    }
    function problems(): Map<Field, string> {
      const p = new Map<Field, string>();
      const put = (f: Field, msg: string) => msg && p.set(f, msg);
      put('aeTitle', aeTitleProblem(ae.value.trim()));
      const hv = host.value.trim();
      put('host', hv === '' ? 'The host is required.' : /[\s/\\]/.test(hv) ? 'Not an IP address or host name.' : '');
      put('port', intProblem(port.value, 1, 65535, 'The port'));
      put('localPort', intProblem(localPort.value || '0', 0, 65535, 'The local port'));
      put('maxAssociations', intProblem(maxAssoc.value, 1, 32, 'Max associations'));
      return p;
    }
    let touched = false;
    function show(p: Map<Field, string>): void {
      for (const [f, el] of errs) el.textContent = touched ? (p.get(f) ?? '') : '';
    }
    function refresh(): void {
      const mv = retrieve.value === 'C-MOVE';
      localRow.hidden = !mv;
      help.replaceChildren(...(mv ? [moveHelp(settings, Number(localPort.value || '0'))] : []));
      show(problems());
      general.hidden = true;
    }
    form.addEventListener('input', () => {
      touched = true;
      refresh();
    });
    form.addEventListener('change', refresh);
    cancel.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      touched = true;
      const p = problems();
      show(p);
      if (p.size > 0) {
        const first = [...p.keys()][0];
        (form.querySelector(`[name="${first}"]`) as HTMLElement | null)?.focus();
        return;
      }
      save.disabled = true;
      try {
        const saved = await net.saveNode(old?.name ?? '', value());
        result = saved;
        dlg.close();
      } catch (e) {
        const msg = errorText(e);
        const f = fieldOfError(msg);
        if (f && errs.has(f)) {
          errs.get(f)!.textContent = msg;
          (form.querySelector(`[name="${f}"]`) as HTMLElement | null)?.focus();
        } else {
          general.textContent = `Not saved: ${msg}`;
          general.hidden = false;
        }
      } finally {
        save.disabled = false;
      }
    });
    let result: DicomNode | null = null;
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    refresh();
    dlg.showModal();
    (old ? name : ae).focus();
  });
}
