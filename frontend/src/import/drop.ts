// Drag and drop of files and folders onto the window.
// Web: folders are walked with webkitGetAsEntry and every file is uploaded.
// Desktop: Wails hands us native paths, which go to ImportPaths.

import { api, onNativeFileDrop } from '../api/api';
import { errorText, h } from '../ui/dom';
import { toast } from '../ui/toast';
import { track } from '../transfers/jobs';
import { type UploadItem, uploadFiles } from './upload';

/** Upper bound of files taken from one drop (keeps the page responsive). */
const MAX_FILES = 200_000;

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(e: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => e.file(resolve, reject));
}

/** Collects every file below the dropped entries (depth first). */
export async function walkEntries(roots: FileSystemEntry[]): Promise<UploadItem[]> {
  const out: UploadItem[] = [];
  const stack = [...roots];
  while (stack.length > 0 && out.length < MAX_FILES) {
    const e = stack.pop()!;
    if (e.isFile) {
      try {
        out.push({ file: await entryFile(e as FileSystemFileEntry), path: e.fullPath.replace(/^\//, '') });
      } catch (err) {
        console.warn('cannot read', e.fullPath, err);
      }
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries returns batches (about 100 at a time) until it returns none.
      for (;;) {
        const batch = await readEntries(reader);
        if (batch.length === 0) break;
        stack.push(...batch);
      }
    }
  }
  return out;
}

/** Starts an ImportPaths job for server-side paths and reports it. */
export async function importServerPaths(paths: string[]): Promise<void> {
  const clean = paths.map((p) => p.trim()).filter(Boolean);
  if (clean.length === 0) return;
  try {
    const id = await api.importPaths(clean);
    toast(`Import started: ${clean.length === 1 ? clean[0] : `${clean.length} items`}`, 'info');
    void track(id);
  } catch (e) {
    toast(`Import failed: ${errorText(e)}`, 'error');
  }
}

function hasFiles(ev: DragEvent): boolean {
  return !!ev.dataTransfer && Array.from(ev.dataTransfer.types).includes('Files');
}

/** Installs the window-wide drop target and its overlay. */
export function initDrop(): void {
  const desktop = onNativeFileDrop((paths) => void importServerPaths(paths));
  const overlay = h(
    'div',
    { class: 'drop-overlay', hidden: true, aria: { hidden: 'true' } },
    h('div', { class: 'drop-box' }, h('strong', null, 'Drop to import'), h('span', null, 'DICOM files, folders, DICOMDIR sets or .zip archives')),
  );
  document.body.append(overlay);
  let depth = 0;
  const hide = () => {
    depth = 0;
    overlay.hidden = true;
  };
  window.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('dragleave', (ev) => {
    if (!hasFiles(ev)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    hide();
    if (desktop) return; // the native OnFileDrop callback has the paths
    const dt = ev.dataTransfer!;
    // Entries must be taken synchronously: the item list dies with the event.
    const entries: FileSystemEntry[] = [];
    const loose: File[] = [];
    for (const item of Array.from(dt.items)) {
      if (item.kind !== 'file') continue;
      const entry = item.webkitGetAsEntry?.();
      if (entry) entries.push(entry);
      else {
        const f = item.getAsFile();
        if (f) loose.push(f);
      }
    }
    void (async () => {
      const items = await walkEntries(entries);
      for (const f of loose) items.push({ file: f, path: f.name });
      if (items.length === 0) {
        toast('Nothing to import: the drop held no files.', 'info');
        return;
      }
      await uploadFiles(items);
    })();
  });
}
