// Modality values of monochrome frames (pure functions, no DOM or
// Cornerstone: the bulk frame worker uses them too). Rescale slope and
// intercept map stored values to modality values (HU for CT); the array type
// of the result is chosen the way Cornerstone's volume loader does, so stack
// and volume share cached images.

import type { InstanceMeta } from '../api/api';

export type Mono = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;
export type TargetType = 'Uint8Array' | 'Int16Array' | 'Uint16Array' | 'Float32Array';

/** What the modality conversion needs of an instance's metadata. */
export type ModalityMeta = Pick<InstanceMeta, 'bitsAllocated' | 'pixelRepresentation'>;

/** Rescale slope and intercept of a monochrome instance (identity when absent or unusable). */
export function modalityParams(meta: Pick<InstanceMeta, 'rescaleSlope' | 'rescaleIntercept'>): { slope: number; intercept: number } {
  const slope = Number.isFinite(meta.rescaleSlope) && meta.rescaleSlope !== 0 ? meta.rescaleSlope : 1;
  const intercept = Number.isFinite(meta.rescaleIntercept) ? meta.rescaleIntercept : 0;
  return { slope, intercept };
}

const isInt = (x: number) => Number.isInteger(x);

/**
 * Chooses the scalar type of the modality values, the same way Cornerstone's
 * volume loader does (so stack and volume share cached images): 8-bit stays
 * Uint8 without rescale, integer rescales stay 16-bit when the range fits
 * (signed if the data or the rescale can be negative), everything else Float32.
 */
export function chooseType(meta: ModalityMeta, lo: number, hi: number, slope: number, intercept: number): TargetType {
  const identity = slope === 1 && intercept === 0;
  if (meta.bitsAllocated === 8 && identity && lo >= 0 && hi <= 255) return 'Uint8Array';
  if (isInt(slope) && isInt(intercept) && meta.bitsAllocated <= 16) {
    const signed = meta.pixelRepresentation === 1 || intercept < 0 || slope < 0;
    if (signed && lo >= -32768 && hi <= 32767) return 'Int16Array';
    if (!signed && lo >= 0 && hi <= 65535) return 'Uint16Array';
  }
  return 'Float32Array';
}

/**
 * The common case of 16-bit integer frames with slope 1 (CT): one pass over
 * the samples that finds their range and adds the intercept in place (the
 * frame buffer is ours: each fetched or streamed frame is handed out once).
 * Taking the range and converting into a new array were two passes and an
 * allocation per frame, most of the main thread's work while a 500-slice
 * volume streams in. Returns null when the modality values need another
 * array type than the samples' (then nothing is changed: the additions are
 * undone, which is exact because 16-bit stores wrap around modulo 2^16).
 */
export function shiftInPlace(raw: Mono, slope: number, intercept: number, meta: ModalityMeta, forced?: TargetType): { pixelData: Mono; lo: number; hi: number } | null {
  if (slope !== 1 || !Number.isInteger(intercept) || !raw.length) return null;
  const i16 = raw instanceof Int16Array;
  if (!i16 && !(raw instanceof Uint16Array)) return null;
  const type: TargetType = i16 ? 'Int16Array' : 'Uint16Array';
  if (forced && forced !== type) return null;
  const [slo, shi] = addRange(raw as Int16Array | Uint16Array, intercept);
  const lo = slo + intercept;
  const hi = shi + intercept;
  if ((forced ?? chooseType(meta, lo, hi, slope, intercept)) === type) return { pixelData: raw, lo, hi };
  unshift(raw, intercept);
  return null;
}

/** Undoes the in-place addition of shiftInPlace (exact: 16-bit stores wrap modulo 2^16). */
export function unshift(raw: Mono, intercept: number): void {
  if (intercept === 0) return;
  if (raw instanceof Int16Array || raw instanceof Uint16Array) addRange(raw, -intercept);
}

/** Adds add to every sample in place; returns the samples' [min, max] before the addition. */
function addRange(a: Int16Array | Uint16Array, add: number): [number, number] {
  let lo = a[0];
  let hi = lo;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    a[i] = v + add;
  }
  return [lo, hi];
}
