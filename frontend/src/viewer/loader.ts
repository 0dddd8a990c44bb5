// The `lightbox:` Cornerstone image loader: decoded frames from our backend.
//
// GET files/instance/<id>/frame/<n> returns the stored samples of one frame
// (little-endian, typed by the X-Lightbox-Data-Type header); the loader applies
// the modality LUT (rescale slope/intercept) itself so that every image handed
// to Cornerstone is "pre-scaled": pixel values are modality values (HU for CT),
// which is what the VOI presets, the tools' statistics and the volume loader
// expect. Colour frames arrive as interleaved RGB (PALETTE COLOR and YBR are
// expanded by the backend); 16-bit colour is reduced to 8 bits for display.
//
// Images live in Cornerstone's cache, whose size is the memory budget
// (setMemoryBudget). The Prefetcher keeps a window of frames around each
// viewport's current slice loaded.

import { cache, imageLoader, utilities, type Types } from '@cornerstonejs/core';
import { files, type InstanceMeta } from '../api/api';
import { ensureMeta, isColorMeta, parseImageId, SCHEME, spacingOf } from './meta';
import { BulkMissing, bulkFor, type Frame } from './bulk';
import { chooseType, modalityParams, shiftInPlace, unshift, type Mono, type TargetType } from './modality';

/** Statistics for the HUD/tests: how many frames came over the wire and how long they took. */
export const loaderStats = { frames: 0, bytes: 0, ms: 0, errors: 0, bulkFrames: 0 };

export function setMemoryBudget(bytes: number): void {
  cache.setMaxCacheSize(bytes);
}

function samples(buf: ArrayBuffer, dt: string): Mono | Uint8Array | Uint16Array {
  switch (dt) {
    case 'uint8':
    case 'rgb8':
      return new Uint8Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint16':
    case 'rgb16':
      return new Uint16Array(buf, 0, buf.byteLength >> 1);
    case 'int16':
      return new Int16Array(buf, 0, buf.byteLength >> 1);
    case 'uint32':
      return new Uint32Array(buf, 0, buf.byteLength >> 2);
    case 'int32':
      return new Int32Array(buf, 0, buf.byteLength >> 2);
    default:
      throw new Error(`unknown X-Lightbox-Data-Type ${dt}`);
  }
}

function minMax(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 0];
  return [lo, hi];
}

const ctor = { Uint8Array, Int16Array, Uint16Array, Float32Array } as const;

/** Applies slope/intercept into an array of the chosen type (no copy when it is already that). */
export function toModality(raw: Mono, slope: number, intercept: number, type: TargetType): Mono {
  const identity = slope === 1 && intercept === 0;
  if (identity && raw.constructor.name === type) return raw;
  const out = new ctor[type](raw.length);
  if (identity) {
    out.set(raw as ArrayLike<number>);
  } else {
    for (let i = 0; i < raw.length; i++) out[i] = raw[i] * slope + intercept;
  }
  return out;
}

function rgbTo8(a: Uint16Array, meta: InstanceMeta): Uint8Array {
  // Palette LUT entries are 16-bit; true RGB uses BitsStored.
  let shift = meta.photometricInterpretation === 'PALETTE COLOR' ? 8 : Math.max(0, meta.bitsStored - 8);
  const [, hi] = minMax(a);
  if (hi >> shift === 0 && hi > 0) shift = Math.max(0, Math.ceil(Math.log2(hi + 1)) - 8);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.min(255, a[i] >> shift);
  return out;
}

interface LoadOptions {
  targetBuffer?: { type?: TargetType };
}

/**
 * Builds the Cornerstone image object from meta and decoded samples (buf is
 * taken over: it may be modified in place and kept as the pixel data). range:
 * the samples are modality values already (shiftInPlace done by the bulk
 * worker, with modalityParams(meta)), and this is their [min, max].
 */
export function buildImage(imageId: string, meta: InstanceMeta, buf: ArrayBuffer, dt: string, options: LoadOptions = {}, range?: [number, number]): Types.IImage {
  const { rows, columns } = meta;
  const color = dt === 'rgb8' || dt === 'rgb16' || isColorMeta(meta);
  const spp = color ? 3 : 1;
  const expected = rows * columns * spp;
  const raw = samples(buf, dt);
  if (raw.length < expected) throw new Error(`frame of ${imageId}: ${raw.length} samples, expected ${expected}`);
  const sp = spacingOf(meta);
  let pixelData: Mono;
  let lo: number;
  let hi: number;
  let slope = 1;
  let intercept = 0;
  if (color) {
    pixelData = dt === 'rgb16' ? rgbTo8(raw as Uint16Array, meta) : (raw as Uint8Array).subarray(0, expected);
    [lo, hi] = [0, 255];
  } else {
    ({ slope, intercept } = modalityParams(meta));
    const forced = options.targetBuffer?.type && options.targetBuffer.type in ctor ? options.targetBuffer.type : undefined;
    const view = raw.subarray(0, expected) as Mono;
    let fast: { pixelData: Mono; lo: number; hi: number } | null = null;
    if (range && (!forced || forced === view.constructor.name)) fast = { pixelData: view, lo: range[0], hi: range[1] };
    else {
      // Converted by the bulk worker into another type than the one wanted here: back to stored values.
      if (range) unshift(view, intercept);
      fast = shiftInPlace(view, slope, intercept, meta, forced);
    }
    if (fast) {
      ({ pixelData, lo, hi } = fast);
    } else {
      const [slo, shi] = minMax(view);
      const a = slo * slope + intercept;
      const b = shi * slope + intercept;
      lo = Math.min(a, b);
      hi = Math.max(a, b);
      const type = forced ?? chooseType(meta, lo, hi, slope, intercept);
      pixelData = toModality(view, slope, intercept, type);
    }
  }
  const voxelManager = utilities.VoxelManager.createImageVoxelManager({
    scalarData: pixelData as Types.PixelDataTypedArray,
    width: columns,
    height: rows,
    numberOfComponents: spp,
  });
  let wc: number | undefined;
  let ww: number | undefined;
  if (color) {
    wc = 128;
    ww = 256;
  } else if (meta.windowCenter?.length && meta.windowWidth?.length && meta.windowWidth[0] >= 1) {
    wc = meta.windowCenter[0];
    ww = meta.windowWidth[0];
  } else {
    ww = Math.max(1, hi - lo);
    wc = lo + ww / 2;
  }
  const image = {
    imageId,
    dataType: pixelData.constructor.name as Types.PixelDataTypedArrayString,
    color,
    rgba: false,
    numberOfComponents: spp,
    columns,
    rows,
    width: columns,
    height: rows,
    columnPixelSpacing: sp.col,
    rowPixelSpacing: sp.row,
    sliceThickness: meta.sliceThickness || undefined,
    // Imager Pixel Spacing is at the detector, not the patient: mark it.
    calibration: sp.source === 'ImagerPixelSpacing' ? { type: 'Proj' } : {},
    intercept,
    slope,
    preScale: {
      enabled: !color,
      scaled: !color,
      scalingParameters: { modality: meta.modality, rescaleSlope: slope, rescaleIntercept: intercept },
    },
    invert: meta.photometricInterpretation === 'MONOCHROME1',
    photometricInterpretation: color ? 'RGB' : meta.photometricInterpretation,
    minPixelValue: lo,
    maxPixelValue: hi,
    windowCenter: wc,
    windowWidth: ww,
    voiLUTFunction: undefined,
    sizeInBytes: pixelData.byteLength,
    voxelManager,
    getPixelData: () => pixelData,
    getCanvas: () => rgbCanvas(pixelData as Uint8Array, columns, rows),
    FrameOfReferenceUID: meta.frameOfReferenceUID,
  };
  return image as unknown as Types.IImage;
}

function rgbCanvas(data: Uint8Array, w: number, h: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  for (let i = 0, j = 0; i < w * h; i++) {
    img.data[j++] = data[i * 3];
    img.data[j++] = data[i * 3 + 1];
    img.data[j++] = data[i * 3 + 2];
    img.data[j++] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Fetches one decoded frame (from a running bulk stream of its series when there is one). */
export async function fetchFrame(id: number, frame: number, signal?: AbortSignal): Promise<Frame> {
  const t0 = performance.now();
  const bulk = frame === 0 ? bulkFor(id) : undefined;
  if (bulk) {
    try {
      const f = await bulk.take(id);
      loaderStats.bulkFrames++;
      return f;
    } catch (e) {
      if (!(e instanceof BulkMissing)) throw e;
    }
  }
  const resp = await fetch(files.frame(id, frame), { credentials: 'same-origin', signal });
  if (!resp.ok) {
    const text = await resp.text().catch(() => '');
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      /* plain text */
    }
    throw new Error(`frame ${frame} of instance ${id}: HTTP ${resp.status} ${msg}`.trim());
  }
  const dt = resp.headers.get('X-Lightbox-Data-Type') ?? '';
  const buf = await resp.arrayBuffer();
  loaderStats.frames++;
  loaderStats.bytes += buf.byteLength;
  loaderStats.ms += performance.now() - t0;
  return { buf, dt };
}

/** The ImageLoaderFn registered for the `lightbox` scheme. */
export function lightboxImageLoader(imageId: string, options: Record<string, unknown> = {}) {
  const ctl = new AbortController();
  const promise = (async () => {
    const p = parseImageId(imageId);
    if (!p) throw new Error(`bad image id ${imageId}`);
    try {
      const [meta, fr] = await Promise.all([ensureMeta(p.id, ctl.signal), fetchFrame(p.id, p.frame, ctl.signal)]);
      return buildImage(imageId, meta, fr.buf, fr.dt || meta.dataType, options as LoadOptions, fr.range);
    } catch (e) {
      loaderStats.errors++;
      throw e;
    }
  })();
  return { promise, cancelFn: () => ctl.abort() };
}

export function registerLightboxLoader(): void {
  imageLoader.registerImageLoader(SCHEME, lightboxImageLoader as unknown as Parameters<typeof imageLoader.registerImageLoader>[1]);
}

/**
 * Keeps frames around a position loaded: `ahead` frames in the direction of
 * travel and `behind` the other way, at most `concurrency` requests at once.
 * Newer positions replace the queue, so fast scrolling never piles up work.
 */
export class Prefetcher {
  private queue: string[] = [];
  private inflight = 0;
  private last = -1;

  constructor(
    private ids: string[],
    private ahead = 24,
    private behind = 8,
    private concurrency = 4,
  ) {}

  setImageIds(ids: string[]): void {
    this.ids = ids;
    this.queue = [];
    this.last = -1;
  }

  update(index: number): void {
    const dir = this.last < 0 || index >= this.last ? 1 : -1;
    this.last = index;
    const order: string[] = [];
    const n = this.ids.length;
    for (let k = 1; k <= Math.max(this.ahead, this.behind); k++) {
      if (k <= this.ahead) {
        const i = index + dir * k;
        if (i >= 0 && i < n) order.push(this.ids[i]);
      }
      if (k <= this.behind) {
        const i = index - dir * k;
        if (i >= 0 && i < n) order.push(this.ids[i]);
      }
    }
    this.queue = order.filter((id) => !cache.getImageLoadObject(id));
    this.pump();
  }

  /** Loads everything (used for small stacks and before cine). */
  all(): void {
    this.queue = this.ids.filter((id) => !cache.getImageLoadObject(id));
    this.pump();
  }

  private pump(): void {
    while (this.inflight < this.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      if (cache.getImageLoadObject(id)) continue;
      this.inflight++;
      imageLoader
        .loadAndCacheImage(id, { priority: 5, requestType: 'prefetch' } as never)
        .catch(() => undefined)
        .finally(() => {
          this.inflight--;
          this.pump();
        });
    }
  }
}
