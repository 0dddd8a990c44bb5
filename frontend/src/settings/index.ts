// Settings view: the local DICOM AE (title, port, associations, allow-list,
// user identity of senders), the fallback character set and fsync.
// GetSettings/SaveSettings.

import { api, type CharsetInfo, type Settings, type VersionInfo } from '../api/api';
import { registerView } from '../shell';
import { button, errorText, h } from '../ui/dom';
import { toast } from '../ui/toast';

/** The character sets the backend reads (CharacterSets), fetched once. */
let charsetList: Promise<CharsetInfo[]> | null = null;
export function characterSets(): Promise<CharsetInfo[]> {
  charsetList ??= api.characterSets().catch((e: unknown) => {
    charsetList = null; // try again next time
    throw e;
  });
  return charsetList;
}

/**
 * Fills a <select> with options (value, label) once the character sets are
 * known, keeping the current value selected (and listed, even if unknown).
 */
export function fillCharsetSelect(sel: HTMLSelectElement, first: { value: string; label: string }[], pick: (c: CharsetInfo) => boolean): void {
  void characterSets()
    .then((list) => {
      const value = sel.value;
      const opts = [...first, ...list.filter(pick).map((c) => ({ value: c.term, label: `${c.term} — ${c.label}` }))];
      if (value && !opts.some((o) => o.value === value)) opts.push({ value, label: value });
      sel.replaceChildren(...opts.map((o) => h('option', { attrs: { value: o.value } }, o.label)));
      sel.value = value;
    })
    .catch((e: unknown) => toast(`Cannot list character sets: ${errorText(e)}`, 'error'));
}

/** Sets a select's value, adding an option for it while the list is still loading. */
export function setSelectValue(sel: HTMLSelectElement, value: string): void {
  if (!Array.from(sel.options).some((o) => o.value === value)) sel.append(h('option', { attrs: { value } }, value || '—'));
  sel.value = value;
}

const NO_FALLBACK = 'None — ASCII only, as the standard says';

/** Returns the problem with an AE title, or "" when it is valid. */
export function aeTitleProblem(ae: string): string {
  if (ae.length === 0) return 'The AE title is required.';
  if (ae.length > 16) return 'An AE title has at most 16 characters.';
  if (ae.trim() === '') return 'An AE title cannot be all spaces.';
  if (/[\\\x00-\x1f\x7f]/.test(ae)) return 'An AE title cannot hold a backslash or control characters.';
  if (/[^\x20-\x7e]/.test(ae)) return 'An AE title holds ASCII characters only.';
  return '';
}

function intProblem(v: string, min: number, max: number, what: string): string {
  if (!/^\d+$/.test(v)) return `${what} must be a whole number.`;
  const n = Number(v);
  return n < min || n > max ? `${what} must be between ${min} and ${max}.` : '';
}

export function initSettingsView(): void {
  const input = (id: string, type = 'text', extra: Record<string, string> = {}) =>
    h('input', { id, type, class: 'input', attrs: { autocomplete: 'off', spellcheck: 'false', ...extra } });
  const ae = input('s-aeTitle', 'text', { maxlength: '16' });
  const port = input('s-port', 'number', { min: '1', max: '65535' });
  const maxAssoc = input('s-maxAssociations', 'number', { min: '1', max: '256' });
  const allow = h('input', { id: 's-allowOnlyKnownAEs', type: 'checkbox' });
  const charset = h('select', { id: 's-fallbackCharset', class: 'input' }, h('option', { attrs: { value: '' } }, NO_FALLBACK));
  fillCharsetSelect(charset, [{ value: '', label: NO_FALLBACK }], (c) => c.term !== 'ISO_IR 6');
  const fsync = h('input', { id: 's-fsync', type: 'checkbox' });
  const uncompressed = h('input', { id: 's-preferUncompressed', type: 'checkbox' });
  const requireUser = h('input', { id: 's-requireUserIdentity', type: 'checkbox' });
  const userName = input('s-userName', 'text', { maxlength: '64' });
  const password = input('s-password', 'password', { autocomplete: 'new-password' });
  const problems = h('div', { class: 'error-text', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Save');
  const revert = button('Revert', () => fill(loaded), '', 'Discard unsaved changes');
  revert.disabled = true;
  const about = h('dl', { class: 'about' });
  let loaded: Settings | null = null;

  const row = (label: string, control: HTMLElement, help: string) =>
    h('div', { class: 'form-row' }, h('label', { attrs: { for: control.id } }, label), h('div', null, control, h('p', { class: 'help' }, help)));

  const form = h(
    'form',
    { class: 'settings-form', attrs: { novalidate: '' } },
    h('h2', null, 'DICOM network (this workstation)'),
    row('AE title', ae, 'The Application Entity title other nodes use to reach Lightbox (1–16 characters).'),
    row('Port', port, 'TCP port of the DICOM listener (C-ECHO, C-STORE). 104 and 11112 are usual.'),
    row('Max associations', maxAssoc, 'How many incoming associations may run at the same time.'),
    row('Prefer uncompressed', h('span', { class: 'check' }, uncompressed, h('label', { attrs: { for: 's-preferUncompressed' } }, 'Receive uncompressed when the sender offers it')), "Off: keep the sender's own compression and store it verbatim."),
    row('Only known AEs', h('span', { class: 'check' }, allow, h('label', { attrs: { for: 's-allowOnlyKnownAEs' } }, 'Accept associations only from nodes in the node list')), 'Off: any calling AE may send images.'),
    row(
      'Sender identity',
      h('span', { class: 'check' }, requireUser, h('label', { attrs: { for: 's-requireUserIdentity' } }, 'Senders must identify themselves with the user name below')),
      'DICOM user identity negotiation: the association request carries the user name, and the password once one is set (storescu --user NAME --password PASS). A PACS sending C-MOVE results must send them too.',
    ),
    row('User name', userName, 'What senders identify themselves as (up to 64 characters).'),
    row('Password', password, 'Stored hashed and never shown. Leave empty to keep the current one.'),
    h('h2', null, 'Data'),
    row('Fallback character set', charset, 'Used to decode text in files without a Specific Character Set (0008,0005).'),
    row('Sync to disk', h('span', { class: 'check' }, fsync, h('label', { attrs: { for: 's-fsync' } }, 'fsync every received file before confirming it')), 'Safer against power loss; slower on some disks.'),
    problems,
    h('div', { class: 'form-actions' }, revert, save),
  );

  function current(): Settings {
    return {
      aeTitle: ae.value,
      port: Number(port.value),
      maxAssociations: Number(maxAssoc.value),
      allowOnlyKnownAEs: allow.checked,
      fallbackCharset: charset.value,
      fsync: fsync.checked,
      preferUncompressed: uncompressed.checked,
      requireUserIdentity: requireUser.checked,
      userName: userName.value,
      password: password.value,
      passwordSet: loaded?.passwordSet ?? false,
    };
  }
  function validate(): string[] {
    return [
      aeTitleProblem(ae.value),
      intProblem(port.value, 1, 65535, 'The port'),
      intProblem(maxAssoc.value, 1, 256, 'Max associations'),
      requireUser.checked && userName.value === '' ? 'A user name is needed when senders must identify themselves.' : '',
      /[\x00-\x1f\x7f]/.test(userName.value) ? 'The user name cannot hold control characters.' : '',
    ].filter(Boolean);
  }
  function update(): void {
    userName.disabled = password.disabled = !requireUser.checked;
    const errs = validate();
    problems.replaceChildren(...errs.map((e) => h('div', null, e)));
    const dirty = loaded !== null && JSON.stringify(current()) !== JSON.stringify(loaded);
    save.disabled = !dirty || errs.length > 0;
    revert.disabled = !dirty;
  }
  function fill(s: Settings | null): void {
    if (!s) return;
    ae.value = s.aeTitle;
    port.value = String(s.port);
    maxAssoc.value = String(s.maxAssociations);
    allow.checked = s.allowOnlyKnownAEs;
    setSelectValue(charset, s.fallbackCharset);
    fsync.checked = s.fsync;
    uncompressed.checked = s.preferUncompressed;
    requireUser.checked = s.requireUserIdentity;
    userName.value = s.userName;
    password.value = '';
    password.placeholder = s.passwordSet ? 'set (leave empty to keep it)' : 'none: the user name alone';
    update();
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (validate().length > 0) return;
    save.disabled = true;
    try {
      loaded = await api.saveSettings(current());
      fill(loaded);
      toast('Settings saved', 'ok');
    } catch (e) {
      toast(`Cannot save settings: ${errorText(e)}`, 'error');
      update();
    }
  });

  async function load(): Promise<void> {
    try {
      const [s, v] = await Promise.all([api.getSettings(), api.version()]);
      loaded = s;
      fill(s);
      showAbout(v);
    } catch (e) {
      problems.textContent = `Cannot load settings: ${errorText(e)}`;
    }
  }
  function showAbout(v: VersionInfo): void {
    about.replaceChildren(
      h('dt', null, 'Version'),
      h('dd', null, v.version),
      h('dt', null, 'Data directory'),
      h('dd', null, h('code', null, v.dataDir)),
      h('dt', null, 'Mode'),
      h('dd', null, v.mode === 'desktop' ? 'Desktop window' : 'Browser (lightbox serve)'),
      h('dt', null, 'DICOM listener'),
      h(
        'dd',
        { dataset: { field: 'listener' } },
        v.dicomPort > 0
          ? `${v.aeTitle} on port ${v.dicomPort}${v.addresses.length ? ` at ${v.addresses.join(', ')}` : ''}`
          : `not listening${v.listenerError ? `: ${v.listenerError}` : ''}`,
      ),
    );
  }

  const element = h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, 'Settings')), form, h('h2', null, 'About'), about);
  registerView({
    id: 'settings',
    title: 'Settings',
    nav: true,
    key: ',',
    element,
    show: () => {
      const dirty = loaded !== null && JSON.stringify(current()) !== JSON.stringify(loaded);
      if (!dirty) void load();
    },
  });
}
