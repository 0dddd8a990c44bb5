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

export const FRAME_DATA_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'rgb8', 'rgb16'];
const HEADER = 16;
const MAX_RECORD = 256 << 20;

export class BulkMissing extends Error {}

export interface Frame {
  buf: ArrayBuffer;
  dt: string;
}

type Waiter = { resolve: (f: Frame) => void; reject: (e: Error) => void };

const active = new Set<BulkFrames>();

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

  constructor(seriesUID: string, ids: number[]) {
    for (const id of ids) this.pending.add(id);
    active.add(this);
    const url = `files/series/${encodeURIComponent(seriesUID)}/frames?ids=${ids.join(',')}`;
    this.done = this.run(url).catch((e: unknown) => {
      if (!this.ctl.signal.aborted) console.warn('bulk frames failed', e);
    }).finally(() => this.finish());
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

  private async run(url: string): Promise<void> {
    const t0 = performance.now();
    const resp = await fetch(url, { credentials: 'same-origin', signal: this.ctl.signal });
    if (!resp.ok || !resp.body) throw new Error(`bulk frames: HTTP ${resp.status}`);
    const reader = resp.body.getReader();
    // Parser state: a header being filled, then a payload being filled.
    const head = new Uint8Array(HEADER);
    let headFill = 0;
    let payload: Uint8Array | null = null;
    let payFill = 0;
    let meta = { id: 0, status: 0, code: 0 };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let off = 0;
      while (off < value.length) {
        if (!payload) {
          const n = Math.min(HEADER - headFill, value.length - off);
          head.set(value.subarray(off, off + n), headFill);
          headFill += n;
          off += n;
          if (headFill < HEADER) break;
          const dv = new DataView(head.buffer);
          const len = dv.getUint32(8, true);
          if (len > MAX_RECORD) throw new Error(`bulk frames: record of ${len} bytes`);
          meta = { id: dv.getUint32(4, true), status: head[12], code: head[13] };
          payload = new Uint8Array(len);
          payFill = 0;
          headFill = 0;
        }
        const n = Math.min(payload.length - payFill, value.length - off);
        payload.set(value.subarray(off, off + n), payFill);
        payFill += n;
        off += n;
        if (payFill === payload.length) {
          this.stats.records++;
          this.stats.bytes += payload.length;
          if (meta.status === 0 && meta.code < FRAME_DATA_TYPES.length) {
            this.deliver(meta.id, { buf: payload.buffer as ArrayBuffer, dt: FRAME_DATA_TYPES[meta.code] });
          } else {
            this.deliver(meta.id, new Error(`frame 0 of instance ${meta.id}: ${new TextDecoder().decode(payload)}`));
          }
          payload = null;
        }
      }
    }
    this.stats.ms = performance.now() - t0;
  }
}
