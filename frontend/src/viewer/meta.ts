// InstanceMeta store and the Cornerstone metadata provider built from it.
//
// Image ids of the backend loader are `lightbox:<instanceID>/<frame>` (frame
// 0-based). Metadata is fetched once per instance from
// GET files/instance/<id>/meta and kept for the life of the page (a few KB per
// instance). Cornerstone asks for metadata synchronously, so callers await
// ensureMeta() before they hand an image id to a viewport or a volume.

import { files, type InstanceMeta } from '../api/api';

export const SCHEME = 'lightbox';

const metas = new Map<number, InstanceMeta>();
const pending = new Map<number, Promise<InstanceMeta>>();

export function imageIdFor(instanceID: number, frame: number): string {
  return `${SCHEME}:${instanceID}/${frame}`;
}

/** Parses a lightbox image id; null for other schemes or malformed ids. */
export function parseImageId(imageId: string): { id: number; frame: number } | null {
  const m = /^lightbox:(\d+)\/(\d+)$/.exec(imageId);
  if (!m) return null;
  return { id: Number(m[1]), frame: Number(m[2]) };
}

export function cachedMeta(id: number): InstanceMeta | undefined {
  return metas.get(id);
}

export function metaForImageId(imageId: string): InstanceMeta | undefined {
  const p = parseImageId(imageId);
  return p ? metas.get(p.id) : undefined;
}

/** Fetches (once) the InstanceMeta of an instance. */
export function ensureMeta(id: number, signal?: AbortSignal): Promise<InstanceMeta> {
  const m = metas.get(id);
  if (m) return Promise.resolve(m);
  let p = pending.get(id);
  if (!p) {
    p = (async () => {
      const resp = await fetch(files.meta(id), { credentials: 'same-origin', signal });
      if (!resp.ok) throw new Error(`meta of instance ${id}: HTTP ${resp.status} ${await resp.text().catch(() => '')}`);
      const meta = (await resp.json()) as InstanceMeta;
      metas.set(id, meta);
      return meta;
    })();
    pending.set(id, p);
    p.catch(() => undefined).finally(() => pending.delete(id));
  }
  return p;
}

const seriesPending = new Map<string, Promise<void>>();

/**
 * Fetches the metas of every instance of a series in one request
 * (GET files/series/<uid>/meta) into the store; once per series at a time.
 */
export function ensureSeriesMetas(seriesUID: string, signal?: AbortSignal): Promise<void> {
  let p = seriesPending.get(seriesUID);
  if (!p) {
    p = (async () => {
      const resp = await fetch(`files/series/${encodeURIComponent(seriesUID)}/meta`, { credentials: 'same-origin', signal });
      if (!resp.ok) throw new Error(`metas of series ${seriesUID}: HTTP ${resp.status}`);
      const list = (await resp.json()) as InstanceMeta[];
      for (const m of list) if (m && typeof m.id === 'number' && m.rows !== undefined && !metas.has(m.id)) metas.set(m.id, m);
    })();
    seriesPending.set(seriesUID, p);
    p.catch(() => undefined).finally(() => seriesPending.delete(seriesUID));
  }
  return p;
}

/** Fetches the metas of many instances with bounded concurrency. */
export async function ensureMetas(ids: number[], concurrency = 8, signal?: AbortSignal): Promise<InstanceMeta[]> {
  const out: InstanceMeta[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      out[i] = await ensureMeta(ids[i], signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return out;
}

export function isColorMeta(m: InstanceMeta): boolean {
  return m.dataType === 'rgb8' || m.dataType === 'rgb16';
}

/** The spacing that measurements use, and where it comes from. */
export function spacingOf(m: InstanceMeta): { row: number; col: number; source: 'PixelSpacing' | 'ImagerPixelSpacing' | '' } {
  if (m.pixelSpacing && m.pixelSpacing[0] > 0 && m.pixelSpacing[1] > 0) {
    return { row: m.pixelSpacing[0], col: m.pixelSpacing[1], source: 'PixelSpacing' };
  }
  if (m.imagerPixelSpacing && m.imagerPixelSpacing[0] > 0 && m.imagerPixelSpacing[1] > 0) {
    return { row: m.imagerPixelSpacing[0], col: m.imagerPixelSpacing[1], source: 'ImagerPixelSpacing' };
  }
  return { row: 1, col: 1, source: '' };
}

function num(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : d;
}

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** The six direction cosines, or the identity plane when absent/invalid. */
export function orientationOf(m: InstanceMeta): { row: [number, number, number]; col: [number, number, number]; valid: boolean } {
  const o = m.imageOrientationPatient;
  if (o && o.length === 6 && o.every((x) => Number.isFinite(x))) {
    const row: [number, number, number] = [o[0], o[1], o[2]];
    const col: [number, number, number] = [o[3], o[4], o[5]];
    const n = cross(row, col);
    if (Math.hypot(...n) > 0.5) return { row, col, valid: true };
  }
  return { row: [1, 0, 0], col: [0, 1, 0], valid: false };
}

function windowsOf(m: InstanceMeta): { wc: number[]; ww: number[] } {
  const wc = m.windowCenter ?? [];
  const ww = m.windowWidth ?? [];
  const n = Math.min(wc.length, ww.length);
  const outC: number[] = [];
  const outW: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(wc[i]) && Number.isFinite(ww[i]) && ww[i] >= 1) {
      outC.push(wc[i]);
      outW.push(ww[i]);
    }
  }
  return { wc: outC, ww: outW };
}

/** The file's own windows (modality units), with their explanations. */
export function fileWindows(m: InstanceMeta): { center: number; width: number; label: string }[] {
  const { wc, ww } = windowsOf(m);
  return wc.map((c, i) => ({ center: c, width: ww[i], label: m.windowExplanation?.[i] || `Window ${i + 1}` }));
}

function dicomDate(s: string): string {
  return /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}` : s;
}

/**
 * The Cornerstone metadata provider: answers the modules Cornerstone and its
 * tools ask for, for lightbox: image ids whose meta is loaded.
 */
export function metadataProvider(type: string, imageId: string): unknown {
  if (typeof imageId !== 'string') return undefined;
  const p = parseImageId(imageId);
  if (!p) return undefined;
  const m = metas.get(p.id);
  if (!m) return undefined;
  const color = isColorMeta(m);
  switch (type) {
    case 'imagePlaneModule': {
      const sp = spacingOf(m);
      const { row, col } = orientationOf(m);
      const ipp = m.imagePositionPatient && m.imagePositionPatient.length === 3 ? m.imagePositionPatient : null;
      return {
        frameOfReferenceUID: m.frameOfReferenceUID || `lightbox-for-${m.seriesInstanceUID}`,
        rows: m.rows,
        columns: m.columns,
        imageOrientationPatient: [...row, ...col],
        rowCosines: row,
        columnCosines: col,
        imagePositionPatient: ipp ? [...ipp] : [0, 0, 0],
        sliceThickness: num(m.sliceThickness, undefined as unknown as number),
        sliceLocation: num(m.sliceLocation, undefined as unknown as number),
        pixelSpacing: [sp.row, sp.col],
        rowPixelSpacing: sp.row,
        columnPixelSpacing: sp.col,
        usingDefaultValues: sp.source === '',
      };
    }
    case 'imagePixelModule':
      return {
        samplesPerPixel: color ? 3 : 1,
        photometricInterpretation: color ? 'RGB' : m.photometricInterpretation,
        rows: m.rows,
        columns: m.columns,
        bitsAllocated: color ? 8 : m.bitsAllocated,
        bitsStored: color ? 8 : m.bitsStored,
        highBit: color ? 7 : m.highBit,
        pixelRepresentation: color ? 0 : m.pixelRepresentation,
        planarConfiguration: 0,
        pixelAspectRatio: undefined,
      };
    case 'voiLutModule': {
      if (color) return { windowCenter: [128], windowWidth: [256] };
      const { wc, ww } = windowsOf(m);
      if (!wc.length) return undefined;
      return {
        windowCenter: wc,
        windowWidth: ww,
        voiLUTFunction: m.voiLUTFunction === 'SIGMOID' || m.voiLUTFunction === 'LINEAR_EXACT' ? m.voiLUTFunction : 'LINEAR',
      };
    }
    case 'modalityLutModule':
      return {
        rescaleSlope: color ? 1 : num(m.rescaleSlope, 1) || 1,
        rescaleIntercept: color ? 0 : num(m.rescaleIntercept, 0),
        rescaleType: m.rescaleType,
      };
    case 'generalSeriesModule':
      return {
        modality: m.modality,
        seriesInstanceUID: m.seriesInstanceUID,
        seriesNumber: m.seriesNumber,
        studyInstanceUID: m.studyInstanceUID,
        seriesDescription: m.seriesDescription,
        bodyPartExamined: m.bodyPart,
      };
    case 'generalStudyModule':
      return {
        studyInstanceUID: m.studyInstanceUID,
        studyDate: m.studyDate,
        studyTime: m.studyTime,
        studyDescription: m.studyDescription,
      };
    case 'patientModule':
      return { patientName: m.patientName, patientId: m.patientID, patientBirthDate: m.patientBirthDate, patientSex: m.patientSex };
    case 'patientStudyModule':
      return { patientAge: m.patientAge };
    case 'generalImageModule':
      return { instanceNumber: m.instanceNumber, sopInstanceUID: m.sopInstanceUID };
    case 'sopCommonModule':
      return { sopClassUID: m.sopClassUID, sopInstanceUID: m.sopInstanceUID };
    case 'transferSyntax':
      return { transferSyntaxUID: m.transferSyntaxUID };
    case 'cineModule':
      return { frameTime: m.frameTime ?? undefined, recommendedDisplayFrameRate: m.recommendedDisplayFrameRate ?? undefined };
    case 'multiframeModule':
      return { numberOfFrames: m.frames, frameTime: m.frameTime ?? undefined };
    case 'frameOfReferenceModule':
      return { frameOfReferenceUID: m.frameOfReferenceUID };
    default:
      return undefined;
  }
}

/** Human-readable summary used by the overlays. */
export function describe(m: InstanceMeta): Record<string, string> {
  return {
    patientName: m.patientName.replace(/\^/g, ' ').trim(),
    patientID: m.patientID,
    patientAge: m.patientAge,
    patientSex: m.patientSex,
    studyDate: dicomDate(m.studyDate),
    studyDescription: m.studyDescription,
    seriesDescription: m.seriesDescription,
    institution: m.institutionName,
  };
}
