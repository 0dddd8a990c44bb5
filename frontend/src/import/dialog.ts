// The "Import…" action. Desktop: the native folder dialog (ChooseAndImport).
// Web: a dialog for a server-side path (ImportPaths) or files/folders picked
// from this computer (uploaded like a drop).

import { api, mode } from '../api/api';
import { errorText, h } from '../ui/dom';
import { toast } from '../ui/toast';
import { track } from '../transfers/jobs';
import { importServerPaths } from './drop';
import { type UploadItem, uploadFiles } from './upload';

export async function startImport(): Promise<void> {
  if (mode() === 'desktop') {
    try {
      const id = await api.chooseAndImport();
      if (id) {
        toast('Import started', 'info');
        void track(id);
      }
    } catch (e) {
      toast(`Import failed: ${errorText(e)}`, 'error');
    }
    return;
  }
  webImportDialog();
}

function filesFrom(input: HTMLInputElement): UploadItem[] {
  return Array.from(input.files ?? []).map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
}

function webImportDialog(): void {
  const path = h('input', {
    type: 'text',
    class: 'input input-wide',
    id: 'import-path',
    attrs: { placeholder: '/path/on/the/server/to/dicom', autocomplete: 'off', spellcheck: 'false' },
  });
  const importBtn = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Import');
  path.addEventListener('input', () => (importBtn.disabled = path.value.trim() === ''));
  const pickFiles = h('input', { type: 'file', hidden: true, attrs: { multiple: '' } });
  const pickDir = h('input', { type: 'file', hidden: true, attrs: { webkitdirectory: '', multiple: '' } });
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const form = h(
    'form',
    { class: 'dialog-body' },
    h('label', { attrs: { for: 'import-path' } }, 'Folder, file, DICOMDIR or .zip on the machine running Lightbox'),
    h('div', { class: 'row' }, path, importBtn),
    h('p', { class: 'muted' }, 'Or send files from this computer (you can also drag and drop them onto the window):'),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'btn', onclick: () => pickDir.click() }, 'Choose folder…'),
      h('button', { type: 'button', class: 'btn', onclick: () => pickFiles.click() }, 'Choose files…'),
      pickFiles,
      pickDir,
    ),
  );
  const dlg = h(
    'dialog',
    { class: 'dialog dialog-wide' },
    h('h2', null, 'Import DICOM'),
    form,
    h('div', { class: 'dialog-actions' }, cancel),
  );
  const upload = (input: HTMLInputElement) => {
    const items = filesFrom(input);
    dlg.close();
    if (items.length > 0) void uploadFiles(items);
  };
  pickFiles.addEventListener('change', () => upload(pickFiles));
  pickDir.addEventListener('change', () => upload(pickDir));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = path.value.trim();
    if (!p) return;
    dlg.close();
    void importServerPaths([p]);
  });
  cancel.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  path.focus();
}
