// The measurement list and its persistence per study.
//
// Annotations live in Cornerstone Tools' annotation state (one manager for
// the page). The list renders from it on every annotation event; the study's
// annotations are saved (debounced) through api.saveAnnotations as a JSON
// string and restored by load(). Cached statistics are not saved: the tools
// recompute them when the annotation is next rendered.

import { eventTarget } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import { api } from '../api/api';
import { metaForImageId } from './meta';

type Ann = tools.Types.Annotation;

const FORMAT = 'lightbox-annotations/1';

export interface MeasurementSummary {
  uid: string;
  tool: string;
  imageId: string;
  text: string;
  values: Record<string, number | string>;
}

const TOOL_LABEL: Record<string, string> = {
  [tools.LengthTool.toolName]: 'Length',
  [tools.AngleTool.toolName]: 'Angle',
  [tools.CobbAngleTool.toolName]: 'Cobb angle',
  [tools.RectangleROITool.toolName]: 'Rectangle',
  [tools.EllipticalROITool.toolName]: 'Ellipse',
  [tools.PlanarFreehandROITool.toolName]: 'Freehand',
  [tools.ProbeTool.toolName]: 'Probe',
  [tools.ArrowAnnotateTool.toolName]: 'Arrow',
};

const r = (x: unknown, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(d)) : NaN);

/** One annotation's values and a one-line description. */
export function summarise(a: Ann): MeasurementSummary {
  const tool = a.metadata?.toolName ?? '';
  const imageId = a.metadata?.referencedImageId ?? '';
  const stats = Object.values((a.data as { cachedStats?: Record<string, Record<string, unknown>> }).cachedStats ?? {})[0] ?? {};
  const values: Record<string, number | string> = {};
  let text = '';
  const unit = (stats.modalityUnit as string) ?? '';
  switch (tool) {
    case tools.LengthTool.toolName:
      values.length = r(stats.length);
      values.unit = String(stats.unit ?? '');
      text = `${values.length} ${values.unit}`;
      break;
    case tools.AngleTool.toolName:
    case tools.CobbAngleTool.toolName:
      values.angle = r(stats.angle);
      text = `${values.angle}°`;
      break;
    case tools.RectangleROITool.toolName:
    case tools.EllipticalROITool.toolName:
    case tools.PlanarFreehandROITool.toolName:
      values.mean = r(stats.mean);
      values.stdDev = r(stats.stdDev);
      values.min = r(stats.min);
      values.max = r(stats.max);
      values.area = r(stats.area);
      values.areaUnit = String(stats.areaUnit ?? '');
      values.unit = unit;
      text = `mean ${values.mean} ${unit} SD ${values.stdDev} min ${values.min} max ${values.max} · area ${values.area} ${values.areaUnit}`;
      break;
    case tools.ProbeTool.toolName:
      values.value = r(stats.value);
      values.unit = unit;
      text = `${values.value} ${unit}`;
      break;
    case tools.ArrowAnnotateTool.toolName:
      values.label = String((a.data as { label?: string }).label ?? '');
      text = values.label;
      break;
    default:
      text = '';
  }
  return { uid: a.annotationUID!, tool, imageId, text: text.replace(/NaN/g, '–').trim(), values };
}

/** True for a multi-point measurement whose points all coincide (a click, not a drawing). */
export function isDegenerate(a: Ann): boolean {
  if (a.metadata?.toolName === tools.ProbeTool.toolName) return false;
  const pts = ((a.data as { handles?: { points?: number[][] } }).handles?.points ?? []) as number[][];
  const poly = (a.data as { contour?: { polyline?: number[][] } }).contour?.polyline;
  const all = poly?.length ? poly : pts;
  if (all.length < 2) return false;
  const [x, y, z] = all[0];
  return all.every((p) => Math.hypot(p[0] - x, p[1] - y, p[2] - z) < 1e-3);
}

export class Measurements {
  readonly element: HTMLElement;
  private list: HTMLElement;
  private study = '';
  private saveTimer = 0;
  private loading = false;
  private renderQueued = false;

  constructor(
    private studyUID: () => string,
    private jump: (imageId: string) => void,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'vw-panel vw-measure';
    const head = document.createElement('div');
    head.className = 'vw-panel-head';
    const title = document.createElement('h3');
    title.textContent = 'Measurements';
    const clear = document.createElement('button');
    clear.type = 'button';
    clear.className = 'vw-btn';
    clear.textContent = 'Delete all';
    clear.addEventListener('click', () => {
      if (!this.mine().length || !confirm('Delete all measurements of this study?')) return;
      for (const a of this.mine()) tools.annotation.state.removeAnnotation(a.annotationUID!);
      this.changed();
    });
    head.append(title, clear);
    this.list = document.createElement('ol');
    this.list.className = 'vw-measure-list';
    this.element.append(head, this.list);
    const E = tools.Enums.Events;
    const onChange = () => this.changed();
    // A click with a drawing tool makes a measurement of zero size: drop it.
    eventTarget.addEventListener(E.ANNOTATION_COMPLETED, ((ev: CustomEvent) => {
      const a = ev.detail?.annotation as Ann | undefined;
      if (a && isDegenerate(a)) {
        tools.annotation.state.removeAnnotation(a.annotationUID!);
        this.rerenderViewports();
      }
    }) as EventListener);
    for (const ev of [E.ANNOTATION_COMPLETED, E.ANNOTATION_REMOVED, E.ANNOTATION_MODIFIED]) eventTarget.addEventListener(ev, onChange);
    eventTarget.addEventListener(E.ANNOTATION_SELECTION_CHANGE, () => this.queueRender());
  }

  /** Annotations that belong to the current study (by their image's meta). */
  private mine(): Ann[] {
    const all = tools.annotation.state.getAllAnnotations() as Ann[];
    return all.filter((a) => {
      const ref = a.metadata?.referencedImageId;
      const m = ref ? metaForImageId(ref) : undefined;
      return !m || m.studyInstanceUID === this.study;
    });
  }

  summary(): MeasurementSummary[] {
    return this.mine()
      .filter((a) => TOOL_LABEL[a.metadata?.toolName ?? ''])
      .map(summarise);
  }

  private changed(): void {
    this.queueRender();
    if (this.loading || !this.study) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => void this.save(), 600);
  }

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render(): void {
    const selected = new Set<string>(tools.annotation.selection.getAnnotationsSelected() ?? []);
    this.list.replaceChildren();
    const items = this.summary();
    if (!items.length) {
      const p = document.createElement('li');
      p.className = 'vw-muted';
      p.textContent = 'No measurements. Pick a tool (L, A, C, R, E, F, B, T) and draw on an image.';
      this.list.append(p);
      return;
    }
    for (const s of items) {
      const li = document.createElement('li');
      li.className = 'vw-measure-item';
      li.dataset.uid = s.uid;
      li.dataset.tool = s.tool;
      if (selected.has(s.uid)) li.classList.add('selected');
      const m = metaForImageId(s.imageId);
      const name = document.createElement('button');
      name.type = 'button';
      name.className = 'vw-linkbtn';
      name.textContent = `${TOOL_LABEL[s.tool]}${m ? ` · Se ${m.seriesNumber} Im ${m.instanceNumber}` : ''}`;
      name.title = 'Show this image';
      name.addEventListener('click', () => {
        tools.annotation.selection.setAnnotationSelected(s.uid, true, false);
        this.jump(s.imageId);
      });
      const val = document.createElement('span');
      val.className = 'vw-measure-val';
      val.textContent = s.text;
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'vw-btn vw-del';
      del.textContent = '✕';
      del.title = 'Delete this measurement';
      del.addEventListener('click', () => {
        tools.annotation.state.removeAnnotation(s.uid);
        this.rerenderViewports();
        this.changed();
      });
      li.append(name, val, del);
      this.list.append(li);
    }
  }

  private rerenderViewports(): void {
    tools.utilities.triggerAnnotationRenderForViewportIds(
      Array.from(document.querySelectorAll<HTMLElement>('.vw-element[data-viewport-uid]')).map((e) => e.dataset.viewportUid!),
    );
  }

  /** Deletes the selected annotations; false when none is selected. */
  deleteSelected(): boolean {
    const sel: string[] = tools.annotation.selection.getAnnotationsSelected() ?? [];
    if (!sel.length) return false;
    for (const uid of sel) tools.annotation.state.removeAnnotation(uid);
    this.rerenderViewports();
    this.changed();
    return true;
  }

  serialise(): string {
    const anns = this.mine().map((a) => {
      const data = { ...(a.data as Record<string, unknown>) };
      delete data.cachedStats;
      return {
        annotationUID: a.annotationUID,
        metadata: a.metadata,
        data,
        isLocked: a.isLocked ?? false,
        isVisible: a.isVisible ?? true,
      };
    });
    return JSON.stringify({ format: FORMAT, annotations: anns });
  }

  private async save(): Promise<void> {
    const study = this.study;
    try {
      await api.saveAnnotations(study, this.serialise());
    } catch (e) {
      console.warn('saving measurements failed', e);
    }
  }

  /** Replaces the annotations with the saved ones of a study. */
  async load(studyUID: string): Promise<void> {
    clearTimeout(this.saveTimer);
    this.loading = true;
    try {
      tools.annotation.state.removeAllAnnotations();
      this.study = studyUID;
      let text = '';
      try {
        text = (await api.loadAnnotations(studyUID)) ?? '';
      } catch (e) {
        console.warn('loading measurements failed', e);
      }
      if (!text || studyUID !== this.studyUID()) return;
      let doc: { format?: string; annotations?: Ann[] };
      try {
        doc = JSON.parse(text);
      } catch {
        console.warn('saved measurements are not JSON; ignored');
        return;
      }
      if (doc.format !== FORMAT || !Array.isArray(doc.annotations)) return;
      for (const a of doc.annotations) {
        if (!a?.metadata?.toolName || !a.data || isDegenerate(a)) continue;
        const ann = { ...a, invalidated: true, highlighted: false, data: { ...a.data, cachedStats: {} } } as Ann;
        tools.annotation.state.addAnnotation(ann, undefined as unknown as string);
      }
    } finally {
      this.loading = false;
      this.queueRender();
    }
  }
}
