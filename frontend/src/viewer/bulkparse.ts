// The record stream of GET files/series/<uid>/frames (see app/files.go for
// the format): a parser shared by the bulk frame worker and the in-page
// fallback. No DOM, no Cornerstone.

export const FRAME_DATA_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'rgb8', 'rgb16'];
const HEADER = 16;
const MAX_RECORD = 256 << 20;

/** One record: status 0 = payload is the frame (data type FRAME_DATA_TYPES[code]), else an error message. */
export type OnRecord = (id: number, status: number, code: number, payload: Uint8Array) => void;

/** Reads every record of a response body; each payload is a new buffer (handed over to onRecord). */
export async function readRecords(body: ReadableStream<Uint8Array>, onRecord: OnRecord): Promise<void> {
  const reader = body.getReader();
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
        onRecord(meta.id, meta.status, meta.code, payload);
        payload = null;
      }
    }
  }
}
