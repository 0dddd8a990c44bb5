// Four-corner text overlays and orientation markers of one viewport cell.
// The DOM is created once per cell; update() is cheap and runs on every render.

import { utilities as csUtils, type Types } from '@cornerstonejs/core';
import type { InstanceMeta } from '../api/api';
import { markers } from './geometry';
import { describe, orientationOf, spacingOf } from './meta';

export interface OverlayDom {
  root: HTMLDivElement;
  tl: HTMLDivElement;
  tr: HTMLDivElement;
  bl: HTMLDivElement;
  br: HTMLDivElement;
  top: HTMLDivElement;
  bottom: HTMLDivElement;
  left: HTMLDivElement;
  right: HTMLDivElement;
}

function div(cls: string, parent: HTMLElement): HTMLDivElement {
  const d = document.createElement('div');
  d.className = cls;
  parent.append(d);
  return d;
}

export function createOverlay(parent: HTMLElement): OverlayDom {
  const root = div('vw-overlay', parent);
  return {
    root,
    tl: div('vw-corner vw-tl', root),
    tr: div('vw-corner vw-tr', root),
    bl: div('vw-corner vw-bl', root),
    br: div('vw-corner vw-br', root),
    top: div('vw-orient vw-o-top', root),
    bottom: div('vw-orient vw-o-bottom', root),
    left: div('vw-orient vw-o-left', root),
    right: div('vw-orient vw-o-right', root),
  };
}

function lines(el: HTMLElement, rows: (string | false | undefined | null)[]): void {
  const text = rows.filter((r): r is string => !!r && r.trim() !== '').join('\n');
  if (el.textContent !== text) el.textContent = text;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? (Math.round(x * 10 ** d) / 10 ** d).toString() : '');

/** Screen right and screen down as world directions of a viewport. */
export function screenAxes(vp: Types.IViewport): { right: number[]; down: number[] } | null {
  // From the canvas-to-world mapping itself: it includes rotation and flips in
  // both rendering paths (the CPU path's camera reports neither flip in viewUp).
  try {
    const o = vp.canvasToWorld([0, 0]);
    const r = vp.canvasToWorld([100, 0]);
    const d = vp.canvasToWorld([0, 100]);
    if (!o || !r || !d) return null;
    const unit = (a: Types.Point3) => {
      const v = [a[0] - o[0], a[1] - o[1], a[2] - o[2]];
      const n = Math.hypot(v[0], v[1], v[2]);
      return n > 0 && Number.isFinite(n) ? v.map((x) => x / n) : null;
    };
    const right = unit(r);
    const down = unit(d);
    return right && down ? { right, down } : null;
  } catch {
    return null;
  }
}

export interface OverlayState {
  meta?: InstanceMeta;
  index: number;
  count: number;
  frame: number;
  label?: string;
  /** Set for MPR/3D views: the slice line shows this instead of instance details. */
  reformat?: string;
}

export function updateOverlay(o: OverlayDom, vp: Types.IViewport | undefined, st: OverlayState): void {
  const m = st.meta;
  if (!vp || !m) {
    for (const el of [o.tl, o.tr, o.bl, o.br, o.top, o.bottom, o.left, o.right]) lines(el, []);
    return;
  }
  const d = describe(m);
  const sexAge = [d.patientSex, d.patientAge].filter(Boolean).join(' ');
  lines(o.tl, [d.patientName, d.patientID && `ID: ${d.patientID}`, sexAge, d.institution]);
  lines(o.tr, [d.studyDate, d.studyDescription, d.seriesDescription, st.label]);
  // Slice Location, else the position along the slice normal (Image Position on the normal).
  let where = typeof m.sliceLocation === 'number' ? m.sliceLocation : NaN;
  const ipp = m.imagePositionPatient;
  if (!Number.isFinite(where) && ipp && ipp.length === 3) {
    const { row, col, valid } = orientationOf(m);
    const n = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
    if (valid) where = ipp[0] * n[0] + ipp[1] * n[1] + ipp[2] * n[2];
  }
  const loc = Number.isFinite(where) ? `Loc: ${fmt(where)} mm` : '';
  if (st.reformat) {
    lines(o.bl, [`Se: ${m.seriesNumber}`, st.reformat !== '3D' ? `Sl: ${st.index + 1}/${st.count}` : '', st.reformat]);
  } else lines(o.bl, [
    `Se: ${m.seriesNumber}`,
    `Im: ${st.index + 1}/${st.count}` + (m.frames > 1 ? `  (fr ${st.frame + 1}/${m.frames})` : '') + `  #${m.instanceNumber}`,
    loc,
    m.sliceThickness ? `Thk: ${fmt(m.sliceThickness, 2)} mm` : '',
    `${m.columns}x${m.rows}` + (spacingOf(m).source === 'ImagerPixelSpacing' ? '  (imager spacing)' : spacingOf(m).source === '' ? '  (uncalibrated)' : ''),
  ]);
  let wl = '';
  const props = (vp as Types.IStackViewport).getProperties?.() as { voiRange?: Types.VOIRange; invert?: boolean } | undefined;
  if (props?.voiRange && m.dataType !== 'rgb8' && m.dataType !== 'rgb16' && st.reformat !== '3D') {
    const { windowWidth, windowCenter } = csUtils.windowLevel.toWindowLevel(props.voiRange.lower, props.voiRange.upper);
    wl = `W: ${Math.round(windowWidth)} L: ${Math.round(windowCenter)}`;
  }
  let zoom = '';
  try {
    zoom = `Zoom: ${fmt((vp as unknown as { getZoom(): number }).getZoom() * 100, 0)}%`;
  } catch {
    /* not all viewports */
  }
  // MONOCHROME1 is shown inverted by definition; flag only a user inversion.
  const inverted = !!props?.invert !== (m.photometricInterpretation === 'MONOCHROME1');
  lines(o.br, [wl, zoom, inverted ? 'Inverted' : '']);
  const ax = screenAxes(vp);
  const haveOrient = !!m.imageOrientationPatient && m.imageOrientationPatient.length === 6;
  if (ax && haveOrient) {
    const mk = markers(ax.right, ax.down);
    lines(o.top, [mk.top]);
    lines(o.bottom, [mk.bottom]);
    lines(o.left, [mk.left]);
    lines(o.right, [mk.right]);
  } else {
    for (const el of [o.top, o.bottom, o.left, o.right]) lines(el, []);
  }
}
