// Pure geometry helpers: orientation letters and the "is this series a volume"
// check. No DOM, no Cornerstone.

import type { InstanceMeta } from '../api/api';

type V3 = [number, number, number];

/**
 * The patient-direction letters of a direction in LPS patient space (DICOM:
 * +x = Left, +y = Posterior, +z = Head). Up to three letters, strongest first;
 * components below 0.25 are left out (oblique directions get two or three).
 */
export function directionLabel(v: ArrayLike<number>): string {
  const parts: [number, string][] = [
    [v[0], v[0] > 0 ? 'L' : 'R'],
    [v[1], v[1] > 0 ? 'P' : 'A'],
    [v[2], v[2] > 0 ? 'H' : 'F'],
  ];
  const len = Math.hypot(v[0], v[1], v[2]) || 1;
  return parts
    .filter(([c]) => Math.abs(c) / len >= 0.25)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([, l]) => l)
    .join('');
}

export function negate(v: ArrayLike<number>): V3 {
  return [-v[0], -v[1], -v[2]];
}

function sub(a: ArrayLike<number>, b: ArrayLike<number>): V3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
function cross(a: ArrayLike<number>, b: ArrayLike<number>): V3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function norm(a: ArrayLike<number>): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** Orientation markers of a view from the world directions of screen right and screen down. */
export function markers(right: ArrayLike<number>, down: ArrayLike<number>): { top: string; bottom: string; left: string; right: string } {
  return {
    right: directionLabel(right),
    left: directionLabel(negate(right)),
    bottom: directionLabel(down),
    top: directionLabel(negate(down)),
  };
}

export interface VolumeCheck {
  ok: boolean;
  reason: string;
  /** The instances sorted along the slice normal (when ok). */
  sorted: InstanceMeta[];
  spacing: number;
}

/**
 * Whether single-frame instances form a regular volume: at least 3 slices,
 * the same size, pixel spacing and orientation, positions along the normal,
 * and even spacing (within 10 % and 0.1 mm) without duplicates.
 */
export function checkVolume(metas: InstanceMeta[]): VolumeCheck {
  const fail = (reason: string): VolumeCheck => ({ ok: false, reason, sorted: [], spacing: 0 });
  if (metas.length === 1 && metas[0].frames > 1) return fail('a multi-frame image without per-slice geometry is not a volume');
  if (metas.length < 3) return fail(`only ${metas.length} image(s); a volume needs at least 3 slices`);
  const m0 = metas[0];
  if (m0.dataType === 'rgb8' || m0.dataType === 'rgb16') return fail('colour images are not a volume');
  for (const m of metas) {
    if (m.frames > 1) return fail('multi-frame images in the series');
    if (!m.imageOrientationPatient || m.imageOrientationPatient.length !== 6) return fail('no Image Orientation (Patient)');
    if (!m.imagePositionPatient || m.imagePositionPatient.length !== 3) return fail('no Image Position (Patient)');
    if (!m.pixelSpacing) return fail('no Pixel Spacing');
    if (m.rows !== m0.rows || m.columns !== m0.columns) return fail('images of different sizes');
    if (Math.abs(m.pixelSpacing[0] - m0.pixelSpacing![0]) > 1e-3 || Math.abs(m.pixelSpacing[1] - m0.pixelSpacing![1]) > 1e-3)
      return fail('different pixel spacings');
    if (m.frameOfReferenceUID !== m0.frameOfReferenceUID) return fail('different frames of reference');
    for (let i = 0; i < 6; i++) {
      if (Math.abs(m.imageOrientationPatient[i] - m0.imageOrientationPatient![i]) > 1e-3) return fail('mixed orientations');
    }
  }
  const o = m0.imageOrientationPatient!;
  const n = cross(o.slice(0, 3), o.slice(3, 6));
  if (norm(n) < 0.5) return fail('invalid Image Orientation (Patient)');
  const p0 = m0.imagePositionPatient!;
  const withD = metas.map((m) => ({ m, d: dot(sub(m.imagePositionPatient!, p0), n) }));
  withD.sort((a, b) => a.d - b.d);
  // Positions must lie on the normal through the first slice.
  for (const { m, d } of withD) {
    const off = sub(sub(m.imagePositionPatient!, p0), [n[0] * d, n[1] * d, n[2] * d]);
    if (norm(off) > 0.5) return fail('slices are not stacked along their normal (tilted or shifted)');
  }
  const gaps: number[] = [];
  for (let i = 1; i < withD.length; i++) gaps.push(withD[i].d - withD[i - 1].d);
  if (gaps.some((g) => g < 1e-3)) return fail('duplicate slice positions');
  const mean = (withD[withD.length - 1].d - withD[0].d) / gaps.length;
  if (gaps.some((g) => Math.abs(g - mean) > Math.max(0.1, 0.1 * mean))) return fail('irregular slice spacing');
  return { ok: true, reason: '', sorted: withD.map((x) => x.m), spacing: mean };
}
