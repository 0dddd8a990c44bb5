// What the network features add to the Transfers panel: Retry for stopped
// or failed retrieve/send jobs (RetryRetrieve/RetrySend), "Open" for a
// retrieve whose study has images in the local store, and a plain-words
// meaning next to each DIMSE status code in a job's failure list.

import { net } from '../api/network';
import type { Job } from '../api/types';
import { showView } from '../shell';
import { track } from '../transfers/jobs';
import { decorateJobs } from '../transfers/panel';
import { openViewer } from '../viewer/index';
import { button, errorText, h } from '../ui/dom';
import { toast } from '../ui/toast';

/** The study of each retrieve job started from this page (job ID -> study UID). */
const retrieveStudy = new Map<string, string>();

export function rememberRetrieve(jobID: string, studyUID: string): void {
  retrieveStudy.set(jobID, studyUID);
}

export function studyOfJob(jobID: string): string | undefined {
  return retrieveStudy.get(jobID);
}

/** Meanings of the DIMSE statuses a C-STORE or retrieve can answer (PS3.4 B.2.3, C.4, PS3.7 C). */
const STATUS_MEANING: [RegExp, string][] = [
  [/^A7/, 'the peer is out of resources (disk full or too busy)'],
  [/^A9/, 'the data set does not match the SOP class'],
  [/^A801$/, 'move destination unknown: the PACS does not know Lightbox (AE title, host, port)'],
  [/^A8/, 'the peer refused the operation'],
  [/^C0/, 'the peer cannot understand the object'],
  [/^C/, 'the peer could not process the object'],
  [/^B000$/, 'sent, but the peer changed (coerced) some data elements'],
  [/^B006$/, 'sent, but the peer discarded some elements'],
  [/^B007$/, 'sent, but the data set does not match the SOP class'],
  [/^B/, 'sent with a warning'],
  [/^0122$/, 'the peer does not support this SOP class'],
  [/^0124$/, 'the peer does not allow this calling AE'],
  [/^0110$/, 'processing failure on the peer'],
  [/^0211$/, 'the peer does not know this operation'],
  [/^FE00$/, 'cancelled'],
];

/** The plain-words meaning of the first status code (0xNNNN) in a reason, or "". */
export function statusMeaning(reason: string): string {
  const m = /0x([0-9a-f]{4})/i.exec(reason);
  if (!m) return /not sent/i.test(reason) ? 'not sent: the connection failed before this instance went out; "Retry remaining" sends it again' : '';
  const code = m[1].toUpperCase();
  for (const [re, text] of STATUS_MEANING) if (re.test(code)) return `0x${code}: ${text}`;
  return `0x${code}`;
}

function retryable(j: Job): boolean {
  return (j.kind === 'retrieve' || j.kind === 'send') && (j.state === 'stopped' || j.state === 'failed' || (j.kind === 'retrieve' && j.state === 'cancelled'));
}

async function retry(j: Job): Promise<void> {
  try {
    const id = j.kind === 'send' ? await net.retrySend(j.id) : await net.retryRetrieve(j.id);
    const study = retrieveStudy.get(j.id);
    if (study) retrieveStudy.set(id, study);
    await track(id);
  } catch (e) {
    toast(`Cannot retry "${j.title}": ${errorText(e)}`, 'error');
  }
}

/** Registers the decorations; call before the Transfers view is built. */
export function initNetworkTransfers(): void {
  decorateJobs((j, parts) => {
    const study = j.kind === 'retrieve' ? (j.studyInstanceUID || retrieveStudy.get(j.id)) : undefined;
    const key = `${j.state}|${j.done > 0}|${study ?? ''}`;
    if (parts.actions.dataset.key !== key) {
      parts.actions.dataset.key = key;
      const kids: HTMLElement[] = [];
      if (study && j.done > 0) {
        const b = button('Open', () => openViewer(study), 'btn-small btn-primary', 'Open the retrieved study in the viewer (its first images are in the store)');
        b.dataset.action = 'open';
        kids.push(b);
      } else if (j.kind === 'retrieve' && j.done > 0 && j.state === 'done') {
        const b = button('Studies', () => showView('studies'), 'btn-small', 'Show the local study browser');
        kids.push(b);
      }
      if (retryable(j)) {
        const b = button(j.kind === 'send' ? 'Retry remaining' : 'Retry', () => void retry(j), 'btn-small', j.kind === 'send' ? 'Send what is left or failed again' : 'Retrieve again (what is already here costs nothing)');
        b.dataset.action = 'retry';
        kids.push(b);
      }
      parts.actions.replaceChildren(...kids);
    }
    // failures expand into code + meaning
    for (const li of parts.errors.querySelectorAll<HTMLElement>('li:not([data-meaning])')) {
      const reason = li.querySelector('.err-reason')?.textContent ?? '';
      const meaning = statusMeaning(reason);
      li.dataset.meaning = meaning;
      if (!meaning) continue;
      const d = h('details', { class: 'err-details' }, h('summary', null, reason), h('div', { class: 'err-meaning' }, meaning));
      li.querySelector('.err-reason')?.replaceChildren(d);
    }
  });
}
