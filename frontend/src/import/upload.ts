// Browser uploads (web mode): each file is POSTed to /files/upload, at most
// MAX_IN_FLIGHT at a time, as one local job in the transfers list.

import { api, type ImportResult, type JobError } from '../api/api';
import { errorText } from '../ui/dom';
import { toast } from '../ui/toast';
import { type LocalJob, upsert } from '../transfers/jobs';
import { plural } from '../ui/format';

export const MAX_IN_FLIGHT = 4;
const MAX_ERRORS = 200;

export interface UploadItem {
  file: File;
  /** Path relative to what was dropped, for messages. */
  path: string;
}

let seq = 0;

type Outcome = 'imported' | 'duplicate' | 'skipped' | 'failed';

/** What one upload did, from its ImportResult. */
export function outcome(r: ImportResult | null): { kind: Outcome; reason: string } {
  switch (r?.outcome) {
    case 'stored':
    case 'replaced':
      return { kind: 'imported', reason: '' };
    case 'duplicate':
      return { kind: 'duplicate', reason: '' };
    case 'skipped':
      return { kind: 'skipped', reason: r.error ?? 'not DICOM' };
    case 'failed':
      return { kind: 'failed', reason: r.error || 'import failed' };
    default:
      return { kind: 'failed', reason: `unexpected answer from the server: ${JSON.stringify(r)}` };
  }
}

/** Uploads the files; resolves when all are done or the job is cancelled. */
export async function uploadFiles(items: UploadItem[]): Promise<void> {
  if (items.length === 0) return;
  const ctrl = new AbortController();
  const started = performance.now();
  const counts = { imported: 0, duplicate: 0, skipped: 0, failed: 0 };
  const errors: JobError[] = [];
  const job: LocalJob = {
    local: true,
    id: `upload-${++seq}-${Date.now()}`,
    kind: 'import',
    title: `Upload of ${plural(items.length, 'file')}`,
    state: 'running',
    done: 0,
    total: items.length,
    failed: 0,
    bytes: 0,
    rate: 0,
    mbps: 0,
    etaSeconds: 0,
    startedAt: new Date().toISOString(),
    message: '',
    errors: [],
    cancel: () => ctrl.abort(),
  };
  let lastEmit = 0;
  const publish = (force = false) => {
    const now = performance.now();
    if (!force && now - lastEmit < 200) return;
    lastEmit = now;
    const secs = Math.max((now - started) / 1000, 0.001);
    const finished = job.done + job.failed;
    job.rate = finished / secs;
    job.mbps = job.bytes / 1e6 / secs;
    job.etaSeconds = job.rate > 0 ? (job.total - finished) / job.rate : 0;
    job.message = summary(counts);
    job.errors = errors.slice();
    upsert({ ...job });
  };
  publish(true);

  let next = 0;
  const worker = async () => {
    while (!ctrl.signal.aborted) {
      const i = next++;
      if (i >= items.length) return;
      const it = items[i];
      try {
        const o = outcome(await api.upload(it.path, it.file, ctrl.signal));
        counts[o.kind]++;
        if (o.kind === 'failed') {
          job.failed++;
          if (errors.length < MAX_ERRORS) errors.push({ item: it.path, reason: o.reason });
        } else job.done++;
      } catch (e) {
        if (ctrl.signal.aborted) return;
        counts.failed++;
        job.failed++;
        if (errors.length < MAX_ERRORS) errors.push({ item: it.path, reason: errorText(e) });
      }
      job.bytes += it.file.size;
      publish();
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, items.length) }, worker));
  job.state = ctrl.signal.aborted ? 'cancelled' : job.failed === items.length ? 'failed' : 'done';
  publish(true);
  const msg = `${job.title}: ${summary(counts)}${ctrl.signal.aborted ? ' (cancelled)' : ''}`;
  toast(msg, counts.failed > 0 ? 'error' : 'ok');
}

function summary(c: { imported: number; duplicate: number; skipped: number; failed: number }): string {
  const parts = [`${c.imported} imported`];
  if (c.duplicate) parts.push(`${c.duplicate} duplicate`);
  if (c.skipped) parts.push(`${c.skipped} not DICOM`);
  if (c.failed) parts.push(`${c.failed} failed`);
  return parts.join(', ');
}
