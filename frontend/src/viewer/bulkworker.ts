// The bulk frame worker: fetches one GET files/series/<uid>/frames stream,
// parses its records and turns each 16-bit frame into modality values in
// place (shiftInPlace), off the page's main thread, which is busy rendering
// and uploading the volume while it streams in. Each frame's buffer is
// transferred (not copied) to the page.
//
// Protocol. Page -> worker, once: { url, params: { [id]: BulkParams } }.
// Worker -> page: { type: 'frame', id, buf, dt, range? } (range: the frame
// holds modality values already, [min, max]); { type: 'error', id, message };
// then { type: 'end' } or { type: 'fail', message }. The page terminates the
// worker when it is done with it.

import { FRAME_DATA_TYPES, readRecords } from './bulkparse';
import { shiftInPlace, type ModalityMeta, type Mono } from './modality';

/** What the worker needs to convert an instance's frame: none for colour frames. */
export interface BulkParams extends ModalityMeta {
  samples: number;
  slope: number;
  intercept: number;
}

interface Start {
  url: string;
  params: Record<number, BulkParams>;
}

function convert(buf: ArrayBuffer, dt: string, p: BulkParams | undefined): [number, number] | undefined {
  if (!p) return undefined;
  let raw: Mono;
  if (dt === 'int16') raw = new Int16Array(buf, 0, buf.byteLength >> 1);
  else if (dt === 'uint16') raw = new Uint16Array(buf, 0, buf.byteLength >> 1);
  else return undefined;
  if (raw.length < p.samples) return undefined;
  const r = shiftInPlace(raw.subarray(0, p.samples), p.slope, p.intercept, p);
  return r ? [r.lo, r.hi] : undefined;
}

const scope = self as unknown as { onmessage: ((ev: MessageEvent<Start>) => void) | null; postMessage(msg: unknown, transfer?: Transferable[]): void };

scope.onmessage = (ev) => {
  const { url, params } = ev.data;
  void (async () => {
    try {
      const resp = await fetch(url, { credentials: 'same-origin' });
      if (!resp.ok || !resp.body) throw new Error(`bulk frames: HTTP ${resp.status}`);
      await readRecords(resp.body, (id, status, code, payload) => {
        const buf = payload.buffer as ArrayBuffer;
        if (status === 0 && code < FRAME_DATA_TYPES.length) {
          const dt = FRAME_DATA_TYPES[code];
          scope.postMessage({ type: 'frame', id, buf, dt, range: convert(buf, dt, params[id]) }, [buf]);
        } else {
          scope.postMessage({ type: 'error', id, message: new TextDecoder().decode(payload) });
        }
      });
      scope.postMessage({ type: 'end' });
    } catch (e) {
      scope.postMessage({ type: 'fail', message: e instanceof Error ? e.message : String(e) });
    }
  })();
};
