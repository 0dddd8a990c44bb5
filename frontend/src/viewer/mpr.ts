// MPR (axial, sagittal, coronal with crosshairs and MIP/MinIP/average slabs)
// and 3D volume rendering of one series, inside the viewer's grid.
//
// An MprView is created for one series and closed by the Viewer; it owns its
// viewports (in the Viewer's RenderingEngine) and its tool group. The volume
// stays in Cornerstone's cache (it shares the frames with the stack views).

import {
  Enums,
  cache,
  eventTarget,
  setVolumesForViewports,
  utilities as csUtils,
  volumeLoader,
  type RenderingEngine,
  type Types,
} from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import type { InstanceMeta } from '../api/api';
import { checkVolume, type VolumeCheck } from './geometry';
import { imageIdFor } from './meta';
import { contextOf, holdUploads, prepareVolumeTexture, uploadPending } from './voltexture';
import { createOverlay, updateOverlay, type OverlayDom } from './overlay';

const GROUP = 'lb-mpr';

export const VR_PRESETS = [
  { name: 'CT-Bone', label: 'CT bone' },
  { name: 'CT-Soft-Tissue', label: 'CT soft tissue' },
  { name: 'CT-MIP', label: 'MIP' },
  { name: 'CT-Lung', label: 'CT lung' },
  { name: 'MR-Default', label: 'MR default' },
];

interface MprCell {
  id: string;
  root: HTMLDivElement;
  element: HTMLDivElement;
  overlay: OverlayDom;
  label: string;
}

export class MprView {
  private cells: MprCell[] = [];
  private controls: HTMLElement;
  private volumeId = '';
  private meta0: InstanceMeta | null = null;
  private active = 0;
  private t0 = 0;
  readyMs = -1;
  loadedMs = -1;

  constructor(
    private engine: RenderingEngine,
    readonly kind: 'mpr' | '3d',
    private grid: HTMLElement,
    private slot: HTMLElement,
  ) {
    this.controls = document.createElement('div');
    this.controls.className = 'vw-mpr-controls';
  }

  check(metas: InstanceMeta[]): VolumeCheck {
    return checkVolume(metas);
  }

  activeViewport(): Types.IViewport | undefined {
    const c = this.cells[this.active];
    return c ? this.engine.getViewport(c.id) : undefined;
  }

  activeElement(): HTMLElement | undefined {
    return this.cells[this.active]?.root;
  }

  async open(sorted: InstanceMeta[], seriesUID: string, _index: number): Promise<void> {
    this.t0 = performance.now();
    this.meta0 = sorted[0];
    const imageIds = sorted.map((m) => imageIdFor(m.id, 0));
    this.volumeId = `cornerstoneStreamingImageVolume:lb-${seriesUID}`;
    this.grid.replaceChildren();
    const defs =
      this.kind === 'mpr'
        ? [
            { label: 'Axial', orientation: Enums.OrientationAxis.AXIAL },
            { label: 'Sagittal', orientation: Enums.OrientationAxis.SAGITTAL },
            { label: 'Coronal', orientation: Enums.OrientationAxis.CORONAL },
          ]
        : [{ label: '3D', orientation: Enums.OrientationAxis.CORONAL }];
    this.grid.style.gridTemplateColumns = `repeat(${defs.length}, 1fr)`;
    this.grid.style.gridTemplateRows = '1fr';
    const inputs: Types.PublicViewportInput[] = [];
    defs.forEach((d, i) => {
      const root = document.createElement('div');
      root.className = 'vw-cell has-image';
      root.dataset.cell = String(i);
      root.dataset.mpr = d.label.toLowerCase();
      const element = document.createElement('div');
      element.className = 'vw-element';
      element.addEventListener('contextmenu', (ev) => ev.preventDefault());
      const overlay = createOverlay(root);
      root.prepend(element);
      root.addEventListener('pointerdown', () => this.setActive(i), true);
      const cell: MprCell = { id: `lb-mpr-${i}`, root, element, overlay, label: d.label };
      element.addEventListener(Enums.Events.IMAGE_RENDERED, () => this.refresh(cell));
      this.cells.push(cell);
      this.grid.append(root);
      inputs.push({
        viewportId: cell.id,
        type: this.kind === 'mpr' ? Enums.ViewportType.ORTHOGRAPHIC : Enums.ViewportType.VOLUME_3D,
        element,
        defaultOptions: { orientation: d.orientation, background: [0, 0, 0] as Types.Point3 },
      });
    });
    this.slot.replaceChildren(this.controls);
    this.buildControls();
    this.engine.setViewports(inputs);
    this.setActive(0);
    const group = tools.ToolGroupManager.createToolGroup(GROUP)!;
    const { MouseBindings } = tools.Enums;
    if (this.kind === 'mpr') {
      group.addTool(tools.CrosshairsTool.toolName);
      group.addTool(tools.PanTool.toolName);
      group.addTool(tools.ZoomTool.toolName);
      group.addTool(tools.StackScrollTool.toolName);
      group.addTool(tools.WindowLevelTool.toolName);
    } else {
      group.addTool(tools.TrackballRotateTool.toolName);
      group.addTool(tools.PanTool.toolName);
      group.addTool(tools.ZoomTool.toolName);
    }
    for (const c of this.cells) group.addViewport(c.id, this.engine.id);
    let volume = cache.getVolume(this.volumeId) as Types.IStreamingImageVolume | undefined;
    if (!volume) volume = (await volumeLoader.createAndCacheVolume(this.volumeId, { imageIds })) as Types.IStreamingImageVolume;
    const loaded = new Promise<void>((resolve) => {
      if (volume!.loadStatus?.loaded) resolve();
      else {
        const poll = () => (volume!.loadStatus?.loaded ? resolve() : setTimeout(poll, 20));
        poll();
      }
    });
    // One upload of the texture, as the slices arrive (see voltexture.ts).
    prepareVolumeTexture(volume);
    // Frames already in the image cache (shown in a stack) complete the volume at
    // once: attach it to the views only then.
    const cached = imageIds.every((id) => cache.getImage(id));
    // While slices stream in, Cornerstone re-renders every view after each 2% of
    // them; without a GPU each render of three views costs hundreds of ms (and
    // the GPU process's time is the same cores' time). Render at the first slice
    // (the slice in view arrives first) and when the volume is complete; in
    // between, send the arrived slices to the texture without rendering.
    let firstSlice: Promise<void> = Promise.resolve();
    if (!cached && !volume.loadStatus?.loaded) {
      (volume as unknown as { autoRenderOnLoad: boolean }).autoRenderOnLoad = false;
      const n = imageIds.length;
      const batch = Math.max(1, Math.ceil(n / 50));
      let uploaded = 0;
      let scheduled = false;
      let first: () => void = () => undefined;
      firstSlice = new Promise((r) => (first = r));
      // After the event's task: Cornerstone marks a slice for upload once more
      // after this event (and slices already cached before it), which would
      // send such a slice twice.
      const upload = () => {
        scheduled = false;
        if (!this.cells.length || volume!.loadStatus?.loaded) return;
        const done = (volume as unknown as { framesProcessed: number }).framesProcessed;
        if (uploadPending(volume!, contextOf(this.engine, this.cells[0].id)) >= 0) uploaded = done;
      };
      const onSlice = ((ev: CustomEvent) => {
        if (ev.detail?.volumeId !== this.volumeId) return;
        const done = ev.detail.framesProcessed ?? 0;
        first();
        if (done < n && done - uploaded >= batch && !scheduled) {
          scheduled = true;
          setTimeout(upload, 0);
        }
      }) as EventListener;
      eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onSlice);
      void loaded.then(() => {
        first();
        eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onSlice);
      });
    }
    volume.load();
    // 3D rendering is expensive without a GPU: render once the volume is complete
    // instead of on every arriving slice. MPR shows slices as they stream in.
    if (this.kind === '3d' || cached) await loaded;
    // (Not for 3D: there one more render of the views costs more than the upload saves.)
    const held = this.kind === 'mpr' && volume.loadStatus?.loaded ? holdUploads(volume) : [];
    await setVolumesForViewports(
      this.engine,
      [{ volumeId: this.volumeId }],
      this.cells.map((c) => c.id),
    );
    if (this.kind === 'mpr') {
      group.setToolActive(tools.CrosshairsTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
      group.setToolActive(tools.PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
      group.setToolActive(tools.ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
      group.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
      this.applyWindow(null);
    } else {
      group.setToolActive(tools.TrackballRotateTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
      group.setToolActive(tools.PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
      group.setToolActive(tools.ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
      this.setPreset(this.meta0.modality === 'MR' ? 'MR-Default' : 'CT-Bone');
    }
    if (held.length && this.cells.length) {
      // A complete volume: the first render creates the texture, then all slices go up at once.
      this.engine.render();
      await this.rendered();
      uploadPending(volume, contextOf(this.engine, this.cells[0].id), held);
    }
    await firstSlice;
    this.engine.render();
    await this.rendered();
    this.readyMs = performance.now() - this.t0;
    await loaded;
    if (this.cells.length) uploadPending(volume, contextOf(this.engine, this.cells[0].id));
    this.engine.render();
    await this.rendered();
    this.loadedMs = performance.now() - this.t0;
  }

  /** Resolves after the engine has drawn the frames requested so far (its render runs in an animation frame). */
  private rendered(): Promise<void> {
    return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  }

  private buildControls(): void {
    const c = this.controls;
    c.replaceChildren();
    const label = (t: string) => {
      const s = document.createElement('label');
      s.textContent = t;
      return s;
    };
    if (this.kind === 'mpr') {
      const mode = document.createElement('select');
      mode.className = 'vw-select';
      mode.dataset.control = 'slab-mode';
      for (const [v, t] of [
        ['none', 'Thin slice'],
        ['mip', 'MIP'],
        ['minip', 'MinIP'],
        ['avg', 'Average'],
      ]) {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = t;
        mode.append(o);
      }
      const thick = document.createElement('input');
      thick.type = 'number';
      thick.min = '0';
      thick.max = '200';
      thick.step = '1';
      thick.value = '10';
      thick.className = 'vw-fps';
      thick.dataset.control = 'slab-thickness';
      const apply = () => this.setSlab(mode.value as 'none' | 'mip' | 'minip' | 'avg', Number(thick.value) || 0);
      mode.addEventListener('change', apply);
      thick.addEventListener('change', apply);
      c.append(label('Slab'), mode, thick, label('mm'));
    } else {
      const sel = document.createElement('select');
      sel.className = 'vw-select';
      sel.dataset.control = 'vr-preset';
      for (const p of VR_PRESETS) {
        const o = document.createElement('option');
        o.value = p.name;
        o.textContent = p.label;
        sel.append(o);
      }
      sel.value = this.meta0?.modality === 'MR' ? 'MR-Default' : 'CT-Bone';
      sel.addEventListener('change', () => this.setPreset(sel.value));
      c.append(label('Preset'), sel);
    }
  }

  private slabMode = 'Thin';

  setSlab(mode: 'none' | 'mip' | 'minip' | 'avg', thickness: number): void {
    this.slabMode = { none: 'Thin', mip: 'MIP', minip: 'MinIP', avg: 'Average' }[mode];
    const B = Enums.BlendModes;
    const blend = mode === 'mip' ? B.MAXIMUM_INTENSITY_BLEND : mode === 'minip' ? B.MINIMUM_INTENSITY_BLEND : mode === 'avg' ? B.AVERAGE_INTENSITY_BLEND : B.COMPOSITE;
    for (const c of this.cells) {
      const vp = this.engine.getViewport(c.id) as Types.IVolumeViewport;
      vp.setBlendMode(blend);
      if (mode === 'none') vp.resetSlabThickness();
      else vp.setSlabThickness(Math.max(0.1, thickness));
      vp.render();
    }
  }

  setPreset(name: string): void {
    for (const c of this.cells) {
      const vp = this.engine.getViewport(c.id) as Types.IVolumeViewport;
      vp.setProperties({ preset: name });
      vp.render();
    }
  }

  /** Applies a window (null: the file's own) to the MPR views. */
  applyWindow(w: { center: number; width: number } | null): void {
    if (this.kind !== 'mpr' || !this.meta0) return;
    let center = w?.center;
    let width = w?.width;
    if (!w) {
      center = this.meta0.windowCenter?.[0];
      width = this.meta0.windowWidth?.[0];
    }
    if (center === undefined || width === undefined || !(width >= 1)) return;
    for (const c of this.cells) {
      const vp = this.engine.getViewport(c.id) as Types.IVolumeViewport;
      vp.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(width, center) });
      vp.render();
    }
  }

  scroll(delta: number): void {
    const vp = this.activeViewport();
    if (vp && this.kind === 'mpr') csUtils.scroll(vp, { delta });
  }

  private setActive(i: number): void {
    this.active = i;
    this.cells.forEach((c, k) => c.root.classList.toggle('active', k === i));
  }

  private refresh(c: MprCell): void {
    const vp = this.engine.getViewport(c.id);
    if (!vp || !this.meta0) return;
    let index = 0;
    let count = 1;
    if (this.kind === 'mpr') {
      try {
        const s = csUtils.getImageSliceDataForVolumeViewport(vp as Types.IVolumeViewport);
        if (s) ({ imageIndex: index, numberOfSlices: count } = s);
      } catch {
        /* volume not ready */
      }
    }
    const slab = (vp as Types.IVolumeViewport).getSlabThickness?.() ?? 0;
    updateOverlay(c.overlay, vp, {
      meta: this.meta0,
      index,
      count,
      frame: 0,
      label: c.label,
      reformat: this.kind === '3d' ? '3D' : slab > 0.5 ? `${this.slabMode} slab ${Math.round(slab)} mm` : 'Thin slice',
    });
  }

  close(): void {
    tools.ToolGroupManager.destroyToolGroup(GROUP);
    for (const c of this.cells) {
      try {
        this.engine.disableElement(c.id);
      } catch {
        /* already gone */
      }
    }
    this.cells = [];
    this.grid.replaceChildren();
    this.slot.replaceChildren();
  }

  /** For tests: client coordinates of a world point in view i, and slice info. */
  debugState(): unknown {
    return {
      kind: this.kind,
      readyMs: this.readyMs,
      loadedMs: this.loadedMs,
      views: this.cells.map((c) => {
        const vp = this.engine.getViewport(c.id);
        const cam = vp?.getCamera();
        return { label: c.label, id: c.id, normal: cam?.viewPlaneNormal, focal: cam?.focalPoint, markers: [c.overlay.top, c.overlay.right, c.overlay.bottom, c.overlay.left].map((e) => e.textContent) };
      }),
    };
  }

  worldToClient(i: number, world: Types.Point3): [number, number] | null {
    const c = this.cells[i];
    const vp = c ? this.engine.getViewport(c.id) : undefined;
    if (!vp) return null;
    const cv = vp.worldToCanvas(world);
    const r = c.element.getBoundingClientRect();
    return [r.left + cv[0], r.top + cv[1]];
  }
}
