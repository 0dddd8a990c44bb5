// Bulk frame streams: frame 0 of many instances of one series in one HTTP
// response (GET files/series/<uid>/frames?ids=..., see app/files.go for the
// record format). The MPR volume asks the image loader for every slice at
// once; with a stream running, the loader takes each slice from it instead of
// sending one request per slice.
//
// A BulkFrames is started for a list of instance ids (the order is the
// server's decode order: the viewer puts the slice in view first). take(id)
// resolves when that instance's record arrives; records that arrive before
// they are asked for wait in a map (each is handed out once, then dropped).
// When the stream ends or fails, ids still missing are rejected with
// BulkMissing so the caller can fall back to single requests.
//
// The stream is read by a worker (bulkworker.ts), which also converts 16-bit
// frames to modality values; the page's main thread only receives finished
// buffers. Without workers, or when the worker's fetch fails before its first
// record, the page reads the stream itself (and the loader converts).
//
// A worker's start needs turns of the page's main thread, and the MPR view
// takes it for a second right after the stream is asked for (viewports,
// shader compilation, the first render): a worker created then began its
// fetch only after that first render. So one spare worker is started ahead
// (prewarmBulkWorker, while the viewer is idle) and a stream takes it; an
// idle spare only waits for its start message. The spare is module state
// owned by this file: at most one, replaced after each stream.

import { FRAME_DATA_TYPES, readRecords } from './bulkparse';
import type { BulkParams } from './bulkworker';
import { modalityParams } from './modality';
import { isColorMeta } from './meta';
import type { InstanceMeta } from '../api/api';

export class BulkMissing extends Error {}

export interface Frame {
  buf: ArrayBuffer;
  dt: string;
  /** Set when buf holds modality values already (converted by the worker): their [min, max]. */
  range?: [number, number];
}

type WorkerMsg =
  | { type: 'frame'; id: number; buf: ArrayBuffer; dt: string; range?: [number, number] }
  | { type: 'error'; id: number; message: string }
  | { type: 'end' }
  | { type: 'fail'; message: string };

type Waiter = { resolve: (f: Frame) => void; reject: (e: Error) => void };

const active = new Set<BulkFrames>();

let spare: Worker | null = null;

function newWorker(): Worker {
  return new Worker(new URL('./bulkworker.ts', import.meta.url), { type: 'module' });
}

/** Starts a bulk worker ahead of the next stream, unless one is waiting already. */
export function prewarmBulkWorker(): void {
  if (spare || typeof Worker === 'undefined') return;
  try {
    const w = newWorker();
    // A spare that fails to start (its script missing) is dropped, not handed to a stream.
    w.onerror = (ev) => {
      ev.preventDefault();
      w.terminate();
      if (spare === w) spare = null;
    };
    spare = w;
  } catch {
    spare = null;
  }
}

/** The running stream that will deliver frame 0 of an instance, if any. */
export function bulkFor(id: number): BulkFrames | undefined {
  for (const b of active) if (b.has(id)) return b;
  return undefined;
}

export class BulkFrames {
  private pending = new Set<number>();
  private ready = new Map<number, Frame>();
  private waiting = new Map<number, Waiter>();
  private ctl = new AbortController();
  /** Records received, bytes received, ms until the stream ended. */
  readonly stats = { records: 0, bytes: 0, ms: 0 };
  readonly done: Promise<void>;

  private worker: Worker | null = null;

  /** Starts the stream of frame 0 of these instances (in this order). */
  constructor(seriesUID: string, metas: InstanceMeta[]) {
    const ids = metas.map((m) => m.id);
    for (const id of ids) this.pending.add(id);
    active.add(this);
    const url = new URL(`files/series/${encodeURIComponent(seriesUID)}/frames?ids=${ids.join(',')}`, document.baseURI).href;
    const t0 = performance.now();
    this.done = this.runWorker(url, metas)
      .then((ok) => (ok ? undefined : this.run(url)))
      .catch((e: unknown) => {
        if (!this.ctl.signal.aborted) console.warn('bulk frames failed', e);
      })
      .finally(() => {
        this.stats.ms = performance.now() - t0;
        this.finish();
      });
  }

  has(id: number): boolean {
    return this.pending.has(id) || this.ready.has(id);
  }

  /** Frame 0 of an instance of this stream (once). */
  take(id: number): Promise<Frame> {
    const f = this.ready.get(id);
    if (f) {
      this.ready.delete(id);
      return Promise.resolve(f);
    }
    if (!this.pending.has(id)) return Promise.reject(new BulkMissing(`instance ${id} is not in this stream`));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  cancel(): void {
    this.ctl.abort();
    this.worker?.terminate();
    this.worker = null;
  }

  private record(id: number, status: number, code: number, payload: Uint8Array): void {
    this.stats.records++;
    this.stats.bytes += payload.length;
    if (status === 0 && code < FRAME_DATA_TYPES.length) {
      this.deliver(id, { buf: payload.buffer as ArrayBuffer, dt: FRAME_DATA_TYPES[code] });
    } else {
      this.deliver(id, new Error(`frame 0 of instance ${id}: ${new TextDecoder().decode(payload)}`));
    }
  }

  /**
   * Reads the stream in a worker. Resolves true when the worker read it (to
   * its end or to a failure after some records), false when the page should
   * read it itself (no worker, or a failure before the first record).
   */
  private runWorker(url: string, metas: InstanceMeta[]): Promise<boolean> {
    let w: Worker;
    try {
      w = spare ?? newWorker();
    } catch {
      return Promise.resolve(false);
    }
    spare = null;
    this.worker = w;
    const params: Record<number, BulkParams> = {};
    for (const m of metas) {
      if (isColorMeta(m)) continue;
      params[m.id] = { ...modalityParams(m), samples: m.rows * m.columns, bitsAllocated: m.bitsAllocated, pixelRepresentation: m.pixelRepresentation };
    }
    return new Promise<boolean>((resolve) => {
      const stop = (ok: boolean) => {
        w.terminate();
        if (this.worker === w) this.worker = null;
        this.ctl.signal.removeEventListener('abort', aborted);
        // The next stream's worker, once this one's volume has been drawn.
        setTimeout(prewarmBulkWorker, 2000);
        resolve(ok);
      };
      const aborted = () => stop(true);
      this.ctl.signal.addEventListener('abort', aborted);
      w.onmessage = (ev: MessageEvent<WorkerMsg>) => {
        const m = ev.data;
        if (m.type === 'frame') {
          this.stats.records++;
          this.stats.bytes += m.buf.byteLength;
          this.deliver(m.id, { buf: m.buf, dt: m.dt, range: m.range });
        } else if (m.type === 'error') {
          this.stats.records++;
          this.deliver(m.id, new Error(`frame 0 of instance ${m.id}: ${m.message}`));
        } else if (m.type === 'end') {
          stop(true);
        } else {
          console.warn('bulk frames (worker):', m.message);
          stop(this.stats.records > 0);
        }
      };
      w.onerror = (ev) => {
        ev.preventDefault();
        stop(this.stats.records > 0);
      };
      w.postMessage({ url, params });
    });
  }

  private deliver(id: number, f: Frame | Error): void {
    this.pending.delete(id);
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      if (f instanceof Error) w.reject(f);
      else w.resolve(f);
    } else if (!(f instanceof Error)) {
      this.ready.set(id, f);
    }
  }

  private finish(): void {
    active.delete(this);
    for (const [id, w] of this.waiting) w.reject(new BulkMissing(`instance ${id} missing from the stream`));
    this.waiting.clear();
    this.pending.clear();
  }

  /** Reads the stream in the page (no worker). */
  private async run(url: string): Promise<void> {
    const resp = await fetch(url, { credentials: 'same-origin', signal: this.ctl.signal });
    if (!resp.ok || !resp.body) throw new Error(`bulk frames: HTTP ${resp.status}`);
    await readRecords(resp.body, (id, status, code, payload) => this.record(id, status, code, payload));
  }
}
