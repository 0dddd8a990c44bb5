// The diagnostic viewer: a series strip, a grid of stack viewports, the tool
// bar, overlays, measurements, the tag browser, MPR and 3D.
//
// One Viewer per page (created by index.ts). It owns one Cornerstone
// RenderingEngine and the tool groups; openStudy() resets it for a study.
// Everything Cornerstone-specific stays in this folder.

import { logToBackend } from '../ui/report';
import {
  Enums,
  RenderingEngine,
  cache,
  eventTarget,
  imageLoader,
  utilities as csUtils,
  type StackViewport,
  type Types,
} from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import { api, on, type Instance, type InstanceMeta, type Series } from '../api/api';
import { showView } from '../shell';
import { alignCpuPixelCentres, ensureCornerstone, stackRenderMode, useStackRendering } from './cs';
import { describeRenderMode } from './rendermode';
import { loaderStats, Prefetcher } from './loader';
import { BulkFrames, prewarmBulkWorker } from './bulk';
import { cachedMeta, ensureMetas, ensureSeriesMetas, fileWindows, imageIdFor, metaForImageId, parseImageId, spacingOf } from './meta';
import { createOverlay, updateOverlay, type OverlayDom } from './overlay';
import { Measurements } from './measurements';
import { TagBrowser } from './tags';
import { MprView } from './mpr';
import { exportView } from './export';
import { helpOverlay } from './help';
import './viewer.css';

const ENGINE_ID = 'lb-engine';
const STACK_GROUP = 'lb-stack';

export const CT_PRESETS: { key: string; name: string; center: number; width: number }[] = [
  { key: '1', name: 'Brain', center: 40, width: 80 },
  { key: '2', name: 'Subdural', center: 75, width: 215 },
  { key: '3', name: 'Lung', center: -600, width: 1500 },
  { key: '4', name: 'Mediastinum', center: 50, width: 350 },
  { key: '5', name: 'Abdomen', center: 40, width: 400 },
  { key: '6', name: 'Liver', center: 60, width: 160 },
  { key: '7', name: 'Bone', center: 400, width: 1800 },
];

export const LAYOUTS: [number, number][] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
  [3, 3],
];

/** Primary-button tools, with their shortcut keys. */
export const PRIMARY_TOOLS: { name: string; label: string; key: string }[] = [
  { name: tools.WindowLevelTool.toolName, label: 'W/L', key: 'w' },
  { name: tools.PanTool.toolName, label: 'Pan', key: 'p' },
  { name: tools.ZoomTool.toolName, label: 'Zoom', key: 'z' },
  { name: tools.LengthTool.toolName, label: 'Length', key: 'l' },
  { name: tools.AngleTool.toolName, label: 'Angle', key: 'a' },
  { name: tools.CobbAngleTool.toolName, label: 'Cobb', key: 'c' },
  { name: tools.RectangleROITool.toolName, label: 'Rect', key: 'r' },
  { name: tools.EllipticalROITool.toolName, label: 'Ellipse', key: 'e' },
  { name: tools.PlanarFreehandROITool.toolName, label: 'Freehand', key: 'f' },
  { name: tools.ProbeTool.toolName, label: 'Probe', key: 'b' },
  { name: tools.ArrowAnnotateTool.toolName, label: 'Arrow', key: 't' },
  { name: tools.MagnifyTool.toolName, label: 'Magnify', key: 'm' },
];

interface SeriesEntry {
  series: Series;
  instances: Instance[] | null;
  imageIds: string[];
  loading?: Promise<void>;
}

interface Cell {
  index: number;
  root: HTMLDivElement;
  element: HTMLDivElement;
  overlay: OverlayDom;
  scroll: HTMLInputElement;
  vpId: string;
  seriesUID: string;
  imageIds: string[];
  prefetch: Prefetcher;
  cine: boolean;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function button(label: string, title: string, onClick: () => void, cls = 'vw-btn'): HTMLButtonElement {
  const b = h('button', cls, label);
  b.type = 'button';
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export class Viewer {
  readonly root: HTMLElement;
  private toolbar: HTMLElement;
  private strip: HTMLElement;
  private grid: HTMLElement;
  private side: HTMLElement;
  private status: HTMLElement;
  private statusText: HTMLElement;
  private modeBadge: HTMLElement;
  private engine: RenderingEngine | null = null;
  private cells: Cell[] = [];
  private layout: [number, number] = [1, 1];
  private active = 0;
  private studyUID = '';
  private series: SeriesEntry[] = [];
  private primary = tools.WindowLevelTool.toolName;
  private toolButtons = new Map<string, HTMLButtonElement>();
  private layoutButtons: HTMLButtonElement[] = [];
  private presetSelect: HTMLSelectElement;
  private fpsInput: HTMLInputElement;
  private mprSlot: HTMLElement;
  private measurements: Measurements;
  private tags: TagBrowser;
  private mpr: MprView | null = null;
  private help: HTMLElement | null = null;
  private syncScroll = false;
  private refLines = false;
  private refSource = '';
  private openSeq = 0;
  private unsubStore: (() => void) | null = null;
  private beforeMpr: { series: string; index: number }[] = [];
  private layoutGen = 0;

  constructor() {
    this.root = h('section', 'viewer');
    this.toolbar = h('div', 'vw-toolbar');
    const body = h('div', 'vw-body');
    this.strip = h('aside', 'vw-strip');
    this.grid = h('div', 'vw-grid');
    this.side = h('aside', 'vw-side');
    this.side.hidden = true;
    this.status = h('div', 'vw-status');
    this.statusText = h('span', 'vw-status-text');
    this.modeBadge = h('span', 'vw-render-mode');
    this.status.append(this.statusText, this.modeBadge);
    body.append(this.strip, this.grid, this.side);
    this.root.append(this.toolbar, body, this.status);
    this.presetSelect = h('select', 'vw-select');
    this.fpsInput = h('input', 'vw-fps');
    this.mprSlot = h('div', 'vw-group vw-mpr-controls');
    this.measurements = new Measurements(() => this.studyUID, (imageId) => this.jumpToImage(imageId));
    this.tags = new TagBrowser();
    this.buildToolbar();
    window.addEventListener('keydown', (ev) => this.onKey(ev), true);
    new ResizeObserver(() => this.resize()).observe(this.grid);
  }

  // ---------------------------------------------------------------- set-up

  private buildToolbar(): void {
    const tb = this.toolbar;
    tb.append(button('← Studies', 'Back to the study list', () => showView('studies'), 'vw-btn vw-back'));
    const grp = (name: string) => {
      const g = h('div', 'vw-group');
      g.dataset.group = name;
      tb.append(g);
      return g;
    };
    const lay = grp('layout');
    for (const [r, c] of LAYOUTS) {
      const b = button(`${r}x${c}`, `Layout ${r}x${c} (Shift+${LAYOUTS.findIndex((l) => l[0] === r && l[1] === c) + 1})`, () => this.setLayout(r, c));
      b.dataset.layout = `${r}x${c}`;
      this.layoutButtons.push(b);
      lay.append(b);
    }
    const tl = grp('tools');
    for (const t of PRIMARY_TOOLS) {
      const b = button(t.label, `${t.label} (${t.key.toUpperCase()})`, () => this.setPrimaryTool(t.name));
      b.dataset.tool = t.name;
      this.toolButtons.set(t.name, b);
      tl.append(b);
    }
    const wl = grp('window');
    this.presetSelect.title = 'Window presets (1-7, 0 = file window)';
    this.presetSelect.addEventListener('change', () => {
      const v = this.presetSelect.value;
      this.presetSelect.value = '';
      if (v) this.applyWindowKey(v);
    });
    wl.append(this.presetSelect);
    const view = grp('view');
    view.append(
      button('⟲', 'Rotate left ([)', () => this.rotate(-90)),
      button('⟳', 'Rotate right (])', () => this.rotate(90)),
      button('⇋', 'Flip horizontal (H)', () => this.flip('h')),
      button('⇵', 'Flip vertical (V)', () => this.flip('v')),
      button('Inv', 'Invert (I)', () => this.invert()),
      button('Fit', 'Fit to window (Shift+F)', () => this.fit()),
      button('Reset', 'Reset view (Shift+R)', () => this.reset()),
    );
    const cine = grp('cine');
    this.fpsInput.type = 'number';
    this.fpsInput.min = '1';
    this.fpsInput.max = '120';
    this.fpsInput.value = '10';
    this.fpsInput.title = 'Cine frames per second';
    this.fpsInput.addEventListener('change', () => {
      const c = this.cells[this.active];
      if (c?.cine) this.startCine(c);
    });
    const play = button('▶', 'Cine play/pause (Space)', () => this.toggleCine());
    play.dataset.action = 'cine';
    cine.append(play, this.fpsInput, h('span', 'vw-unit', 'fps'));
    const adv = grp('advanced');
    const mk = (label: string, title: string, fn: () => void, action: string) => {
      const b = button(label, title, fn);
      b.dataset.action = action;
      return b;
    };
    adv.append(
      mk('MPR', 'Multiplanar reconstruction (Shift+M)', () => void this.toggleMpr('mpr'), 'mpr'),
      mk('3D', 'Volume rendering (Shift+V)', () => void this.toggleMpr('3d'), '3d'),
      mk('Ref', 'Reference lines (J)', () => this.toggleRefLines(), 'reflines'),
      mk('Sync', 'Synchronised scrolling (S)', () => this.toggleSync(), 'sync'),
      mk('Measure', 'Measurement list (K)', () => this.toggleSide('measure'), 'measure'),
      mk('Tags', 'Tag browser (G)', () => this.toggleSide('tags'), 'tags'),
      mk('PNG', 'Export view as PNG (Shift+E)', () => void this.export('png'), 'export-png'),
      mk('JPEG', 'Export view as JPEG', () => void this.export('jpeg'), 'export-jpeg'),
      mk('?', 'Keyboard shortcuts (?)', () => this.toggleHelp(), 'help'),
    );
    tb.append(this.mprSlot);
    this.fillPresets(undefined);
  }

  private fillPresets(meta: InstanceMeta | undefined): void {
    const s = this.presetSelect;
    s.replaceChildren();
    const o = (value: string, label: string) => {
      const e = h('option', '', label);
      e.value = value;
      s.append(e);
    };
    o('', 'Window…');
    o('0', 'Default (file)');
    if (meta) fileWindows(meta).forEach((w, i) => o(`file${i}`, `${w.label} ${w.center}/${w.width}`));
    if (!meta || meta.modality === 'CT') for (const p of CT_PRESETS) o(p.key, `${p.key} ${p.name} ${p.center}/${p.width}`);
  }

  private ensureEngine(): RenderingEngine {
    ensureCornerstone();
    if (!this.engine) {
      this.engine = new RenderingEngine(ENGINE_ID);
      const mode = stackRenderMode();
      this.modeBadge.textContent = mode.mode === 'cpu' ? 'CPU' : 'GPU';
      this.modeBadge.title = describeRenderMode(mode);
      this.modeBadge.dataset.mode = mode.mode;
      this.createStackToolGroup();
      eventTarget.addEventListener(Enums.Events.IMAGE_LOAD_ERROR, ((ev: CustomEvent) => {
        const err = ev.detail?.error;
        this.setStatus(`Image failed to load: ${err?.message ?? err ?? 'unknown error'}`, true);
      }) as EventListener);
    }
    return this.engine;
  }

  private createStackToolGroup(): void {
    const g = tools.ToolGroupManager.createToolGroup(STACK_GROUP)!;
    for (const t of PRIMARY_TOOLS) g.addTool(t.name);
    g.addTool(tools.StackScrollTool.toolName);
    g.addTool(tools.ReferenceLinesTool.toolName);
    this.applyBindings();
  }

  private applyBindings(): void {
    const g = tools.ToolGroupManager.getToolGroup(STACK_GROUP);
    if (!g) return;
    const { MouseBindings } = tools.Enums;
    for (const t of PRIMARY_TOOLS) {
      if (t.name !== this.primary) g.setToolPassive(t.name);
    }
    // The measurement tools stay passive (editable) when not primary; the
    // navigation tools get their secondary buttons.
    g.setToolActive(this.primary, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    if (this.primary !== tools.PanTool.toolName) g.setToolActive(tools.PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    if (this.primary !== tools.ZoomTool.toolName) g.setToolActive(tools.ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    if (this.primary !== tools.MagnifyTool.toolName) g.setToolDisabled(tools.MagnifyTool.toolName);
    g.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    for (const [name, b] of this.toolButtons) b.classList.toggle('active', name === this.primary);
  }

  setPrimaryTool(name: string): void {
    if (!PRIMARY_TOOLS.some((t) => t.name === name)) return;
    this.primary = name;
    if (this.mpr) return;
    this.applyBindings();
  }

  // ---------------------------------------------------------------- study

  async openStudy(studyUID: string): Promise<void> {
    const seq = ++this.openSeq;
    this.ensureEngine();
    if (this.mpr) this.closeMpr();
    if (studyUID !== this.studyUID) {
      this.studyUID = studyUID;
      this.series = [];
      this.strip.replaceChildren(h('div', 'vw-muted', 'Loading…'));
      this.setLayout(1, 1, false);
      for (const c of this.cells) this.clearCell(c);
      // Saved measurements load alongside; they never hold up the images.
      void this.measurements.load(studyUID);
    }
    this.unsubStore?.();
    this.unsubStore = on('store', (ev) => {
      if (ev.studyInstanceUID === this.studyUID) void this.refreshSeries();
    });
    let list: Series[] = [];
    try {
      list = (await api.listSeries(studyUID)) ?? [];
    } catch (e) {
      this.setStatus(`Cannot list series: ${e instanceof Error ? e.message : String(e)}`, true);
      return;
    }
    if (seq !== this.openSeq) return;
    this.series = list.map((s) => ({ series: s, instances: null, imageIds: [] }));
    this.renderStrip();
    if (!list.length) {
      this.setStatus('This study has no series.', true);
      return;
    }
    // Fill the viewports in order with the first series.
    const n = Math.min(this.cells.length, this.series.length);
    for (let i = 0; i < n; i++) {
      if (!this.cells[i].seriesUID) await this.loadSeriesInto(this.cells[i], this.series[i].series.seriesInstanceUID);
    }
    this.setActive(0);
  }

  private async refreshSeries(): Promise<void> {
    const list = (await api.listSeries(this.studyUID).catch(() => null)) ?? [];
    for (const s of list) {
      const e = this.series.find((x) => x.series.seriesInstanceUID === s.seriesInstanceUID);
      if (!e) this.series.push({ series: s, instances: null, imageIds: [] });
      else if (e.series.numberOfInstances !== s.numberOfInstances) {
        e.series = s;
        e.instances = null;
        await this.ensureInstances(e);
        for (const c of this.cells) {
          if (c.seriesUID === s.seriesInstanceUID) {
            const vp = this.stackVp(c);
            const idx = vp?.getCurrentImageIdIndex() ?? 0;
            c.imageIds = e.imageIds;
            c.prefetch.setImageIds(e.imageIds);
            await vp?.setStack(e.imageIds, Math.min(idx, e.imageIds.length - 1));
            this.syncScrollbar(c);
          }
        }
      }
    }
    this.renderStrip();
  }

  private async ensureInstances(e: SeriesEntry): Promise<void> {
    if (e.instances) return;
    if (!e.loading) {
      e.loading = (async () => {
        const inst = (await api.listInstances(e.series.seriesInstanceUID)) ?? [];
        e.instances = inst;
        const ids: string[] = [];
        for (const i of inst) {
          const frames = Math.max(1, i.frames || 1);
          for (let f = 0; f < frames; f++) ids.push(imageIdFor(i.id, f));
        }
        e.imageIds = ids;
      })().finally(() => (e.loading = undefined));
    }
    await e.loading;
  }

  private renderStrip(): void {
    this.strip.replaceChildren();
    for (const e of this.series) {
      const s = e.series;
      const item = h('button', 'vw-thumb');
      item.type = 'button';
      item.draggable = true;
      item.dataset.series = s.seriesInstanceUID;
      item.title = `${s.modality} series ${s.seriesNumber}: ${s.seriesDescription} (${s.numberOfInstances} images). Drag into a viewport, or click to show in the active one.`;
      const img = h('img');
      img.src = s.thumbnailURL;
      img.alt = '';
      img.loading = 'lazy';
      img.draggable = false;
      const cap = h('div', 'vw-thumb-cap', `${s.modality} ${s.seriesNumber} · ${s.numberOfInstances}`);
      const desc = h('div', 'vw-thumb-desc', s.seriesDescription);
      item.append(img, cap, desc);
      item.addEventListener('dragstart', (ev) => {
        ev.dataTransfer?.setData('application/x-lightbox-series', s.seriesInstanceUID);
        ev.dataTransfer?.setData('text/plain', s.seriesInstanceUID);
        if (ev.dataTransfer) ev.dataTransfer.effectAllowed = 'copy';
      });
      item.addEventListener('click', () => void this.loadSeriesInto(this.cells[this.active], s.seriesInstanceUID));
      this.strip.append(item);
    }
    this.markStrip();
  }

  private markStrip(): void {
    const shown = new Set(this.cells.map((c) => c.seriesUID));
    this.strip.querySelectorAll<HTMLElement>('.vw-thumb').forEach((t) => t.classList.toggle('shown', shown.has(t.dataset.series!)));
  }

  // ---------------------------------------------------------------- layout

  setLayout(rows: number, cols: number, restore = true): void {
    const engine = this.ensureEngine();
    if (this.mpr) this.closeMpr();
    const prev = !restore ? [] : this.cells.length ? this.snapshotCells() : this.beforeMpr;
    this.beforeMpr = [];
    for (const c of this.cells) {
      this.stopCine(c);
      tools.ToolGroupManager.getToolGroup(STACK_GROUP)?.removeViewports(ENGINE_ID, c.vpId);
    }
    engine.setViewports([]);
    this.layoutGen++;
    this.layout = [rows, cols];
    this.grid.replaceChildren();
    this.grid.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
    this.grid.style.gridTemplateRows = `repeat(${rows}, 1fr)`;
    this.cells = [];
    const inputs: Types.PublicViewportInput[] = [];
    for (let i = 0; i < rows * cols; i++) {
      const cell = this.makeCell(i);
      this.cells.push(cell);
      this.grid.append(cell.root);
      inputs.push({
        viewportId: cell.vpId,
        type: Enums.ViewportType.STACK,
        element: cell.element,
        defaultOptions: { background: [0, 0, 0] as Types.Point3 },
      });
    }
    useStackRendering(true);
    engine.setViewports(inputs);
    for (const c of this.cells) alignCpuPixelCentres(engine.getViewport(c.vpId));
    const g = tools.ToolGroupManager.getToolGroup(STACK_GROUP)!;
    for (const c of this.cells) g.addViewport(c.vpId, ENGINE_ID);
    for (const b of this.layoutButtons) b.classList.toggle('active', b.dataset.layout === `${rows}x${cols}`);
    this.active = Math.min(this.active, this.cells.length - 1);
    this.setActive(this.active);
    // Put the series back where they were, then fill empty cells with the next series.
    const used = new Set<string>();
    const jobs: Promise<void>[] = [];
    this.cells.forEach((c, i) => {
      const p = prev[i];
      if (p?.series) {
        used.add(p.series);
        jobs.push(this.loadSeriesInto(c, p.series, p.index));
      }
    });
    if (restore) {
      for (const c of this.cells) {
        if (prev[c.index]?.series) continue;
        const next = this.series.find((e) => !used.has(e.series.seriesInstanceUID));
        if (!next) break;
        used.add(next.series.seriesInstanceUID);
        jobs.push(this.loadSeriesInto(c, next.series.seriesInstanceUID));
      }
    }
    void Promise.all(jobs).then(() => this.markStrip());
  }

  private snapshotCells(): { series: string; index: number }[] {
    return this.cells.map((c) => ({ series: c.seriesUID, index: this.stackVp(c)?.getCurrentImageIdIndex() ?? 0 }));
  }

  private makeCell(i: number): Cell {
    const root = h('div', 'vw-cell');
    root.dataset.cell = String(i);
    const element = h('div', 'vw-element');
    element.tabIndex = -1;
    element.addEventListener('contextmenu', (ev) => ev.preventDefault());
    const overlay = createOverlay(root);
    const scroll = h('input', 'vw-scroll');
    scroll.type = 'range';
    scroll.min = '0';
    scroll.max = '0';
    scroll.value = '0';
    scroll.title = 'Scroll the stack';
    const empty = h('div', 'vw-empty', 'Drag a series here');
    root.append(element, overlay.root, scroll, empty);
    const cell: Cell = {
      index: i,
      root,
      element,
      overlay,
      scroll,
      // A new id per layout, so work still in flight for a replaced cell cannot reach its successor.
      vpId: `lb-vp-${this.layoutGen}-${i}`,
      seriesUID: '',
      imageIds: [],
      prefetch: new Prefetcher([]),
      cine: false,
    };
    root.addEventListener('pointerdown', () => this.setActive(i), true);
    root.addEventListener('dragover', (ev) => {
      if (ev.dataTransfer?.types.includes('application/x-lightbox-series')) {
        ev.preventDefault();
        ev.dataTransfer.dropEffect = 'copy';
        root.classList.add('drop');
      }
    });
    root.addEventListener('dragleave', () => root.classList.remove('drop'));
    root.addEventListener('drop', (ev) => {
      root.classList.remove('drop');
      const uid = ev.dataTransfer?.getData('application/x-lightbox-series');
      if (!uid) return;
      ev.preventDefault();
      this.setActive(i);
      void this.loadSeriesInto(cell, uid);
    });
    scroll.addEventListener('input', () => {
      const vp = this.stackVp(cell);
      if (vp) void vp.setImageIdIndex(Number(scroll.value));
    });
    const E = Enums.Events;
    // The CPU path changes slices without a camera event, which is what the
    // reference-lines tool listens to: once the source shows its new slice, tell it.
    let refMoved = false;
    element.addEventListener(E.IMAGE_RENDERED, () => {
      this.refreshOverlay(cell);
      if (refMoved && stackRenderMode().mode === 'cpu' && this.refLines && this.refSource === cell.vpId) {
        tools.ToolGroupManager.getToolGroup(STACK_GROUP)?.setToolConfiguration(tools.ReferenceLinesTool.toolName, { sourceViewportId: cell.vpId });
      }
      refMoved = false;
    });
    element.addEventListener(E.STACK_NEW_IMAGE, ((ev: CustomEvent) => {
      const idx = ev.detail?.imageIdIndex ?? 0;
      cell.prefetch.update(idx);
      this.syncScrollbar(cell);
      if (this.syncScroll && !cell.cine) this.syncOthers(cell);
      if (this.refLines && this.refSource === cell.vpId) refMoved = true;
      if (cell.index === this.active) this.tags.show(ev.detail?.imageId);
    }) as EventListener);
    return cell;
  }

  private clearCell(c: Cell): void {
    c.seriesUID = '';
    c.imageIds = [];
    c.root.classList.remove('has-image');
  }

  private stackVp(c: Cell | undefined): StackViewport | undefined {
    if (!c || !this.engine || this.mpr) return undefined;
    return this.engine.getViewport(c.vpId) as StackViewport | undefined;
  }

  private setActive(i: number): void {
    this.active = Math.max(0, Math.min(i, this.cells.length - 1));
    this.cells.forEach((c) => c.root.classList.toggle('active', c.index === this.active));
    const c = this.cells[this.active];
    const vp = this.stackVp(c);
    const id = vp?.getCurrentImageId?.();
    this.fillPresets(id ? metaForImageId(id) : undefined);
    if (id) this.tags.show(id);
    if (c) this.fpsInput.value = String(this.defaultFps(c));
  }

  async loadSeriesInto(cell: Cell | undefined, seriesUID: string, index = 0): Promise<void> {
    if (!cell) return;
    const e = this.series.find((x) => x.series.seriesInstanceUID === seriesUID);
    if (!e) return;
    this.stopCine(cell);
    cell.seriesUID = seriesUID;
    this.markStrip();
    const current = () => this.cells.includes(cell) && cell.seriesUID === seriesUID;
    try {
      await this.ensureInstances(e);
      if (!current()) return;
      if (!e.imageIds.length) {
        this.setStatus('This series has no images yet.', true);
        return;
      }
      cell.imageIds = e.imageIds;
      cell.prefetch.setImageIds(e.imageIds);
      // (The loader fetches the first image's meta and pixels in parallel.)
      const vp = this.stackVp(cell);
      if (!vp) return;
      const t0 = performance.now();
      const start = Math.min(index, e.imageIds.length - 1);
      await vp.setStack(e.imageIds, start);
      if (!current()) return;
      // MONOCHROME1 is shown inverted. State it explicitly: the CPU path inverts
      // such images without reporting it in getProperties().
      vp.setProperties({ invert: metaForImageId(e.imageIds[start])?.photometricInterpretation === 'MONOCHROME1' });
      vp.render();
      cell.root.classList.add('has-image');
      this.syncScrollbar(cell);
      if (e.imageIds.length <= 64) cell.prefetch.all();
      else {
        cell.prefetch.update(index);
        // The other slices' metas in one request: then loading a slice is one request, not two.
        void ensureSeriesMetas(seriesUID).catch(() => undefined);
      }
      if (cell.index === this.active) this.setActive(cell.index);
      const ms = Math.round(performance.now() - t0);
      this.setStatus(`${e.series.modality} ${e.series.seriesDescription}: ${e.imageIds.length} images, first in ${ms} ms`);
      logToBackend('debug', `viewer: series ${seriesUID} shown (${e.imageIds.length} images, first in ${ms} ms, ${stackRenderMode().mode} rendering)`);
      this.root.dispatchEvent(new CustomEvent('lb-series-loaded', { detail: { cell: cell.index, seriesUID } }));
    } catch (err) {
      this.setStatus(`Cannot show the series: ${err instanceof Error ? err.message : String(err)}`, true);
      logToBackend('warn', `viewer: cannot show series ${seriesUID}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private syncScrollbar(c: Cell): void {
    const vp = this.stackVp(c);
    const n = c.imageIds.length;
    c.scroll.max = String(Math.max(0, n - 1));
    c.scroll.value = String(vp?.getCurrentImageIdIndex() ?? 0);
    c.scroll.hidden = n <= 1;
  }

  private refreshOverlay(c: Cell): void {
    const vp = this.stackVp(c);
    if (!vp) return;
    const id = vp.getCurrentImageId();
    const p = id ? parseImageId(id) : null;
    const meta = p ? cachedMeta(p.id) : undefined;
    updateOverlay(c.overlay, vp, {
      meta,
      index: vp.getCurrentImageIdIndex(),
      count: c.imageIds.length,
      frame: p?.frame ?? 0,
      label: c.cine ? `Cine ${this.fpsInput.value} fps` : '',
    });
  }

  private resize(): void {
    if (!this.engine || !this.isVisible()) return;
    this.engine.resize(true, true);
  }

  /** Initialises Cornerstone and the rendering engine ahead of the first study. */
  warmUp(): void {
    try {
      this.ensureEngine();
    } catch (e) {
      console.warn('viewer warm-up failed', e);
    }
    prewarmBulkWorker();
  }

  private isVisible(): boolean {
    return this.root.isConnected && this.root.getClientRects().length > 0;
  }

  /** Called when the view becomes visible. */
  shown(): void {
    requestAnimationFrame(() => this.resize());
  }

  hidden(): void {
    for (const c of this.cells) this.stopCine(c);
  }

  private setStatus(text: string, error = false): void {
    this.statusText.textContent = text;
    this.status.classList.toggle('error', error);
  }

  // ---------------------------------------------------------------- stack actions

  scrollBy(delta: number, c = this.cells[this.active]): void {
    const vp = this.stackVp(c);
    if (!vp || !c.imageIds.length) return;
    const n = c.imageIds.length;
    const idx = Math.max(0, Math.min(n - 1, vp.getCurrentImageIdIndex() + delta));
    if (idx !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(idx);
  }

  scrollTo(idx: number, c = this.cells[this.active]): void {
    const vp = this.stackVp(c);
    if (!vp || !c.imageIds.length) return;
    void vp.setImageIdIndex(Math.max(0, Math.min(c.imageIds.length - 1, idx)));
  }

  private jumpToImage(imageId: string): void {
    for (const c of this.cells) {
      const i = c.imageIds.indexOf(imageId);
      if (i >= 0) {
        this.setActive(c.index);
        this.scrollTo(i, c);
        return;
      }
    }
    const p = parseImageId(imageId);
    const m = p ? cachedMeta(p.id) : undefined;
    if (m) void this.loadSeriesInto(this.cells[this.active], m.seriesInstanceUID).then(() => this.jumpToImage(imageId));
  }

  /** Synchronised scrolling: other viewports of the same frame of reference go to the nearest slice. */
  private syncOthers(src: Cell): void {
    const vp = this.stackVp(src);
    const id = vp?.getCurrentImageId();
    const m = id ? metaForImageId(id) : undefined;
    if (!m?.imagePositionPatient) return;
    for (const c of this.cells) {
      if (c === src || !c.imageIds.length) continue;
      const ov = this.stackVp(c);
      const oid = ov?.getCurrentImageId();
      const om = oid ? metaForImageId(oid) : undefined;
      if (!ov || !om || om.frameOfReferenceUID !== m.frameOfReferenceUID) continue;
      // Nearest by slice position along the other viewport's normal (metas loaded so far).
      let best = -1;
      let bestD = Infinity;
      c.imageIds.forEach((iid, i) => {
        const mm = metaForImageId(iid);
        if (!mm?.imagePositionPatient) return;
        const d = Math.hypot(...mm.imagePositionPatient.map((x, k) => x - m.imagePositionPatient![k]));
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      });
      if (best >= 0 && best !== ov.getCurrentImageIdIndex()) void ov.setImageIdIndex(best);
    }
  }

  private toggleSync(): void {
    this.syncScroll = !this.syncScroll;
    this.toolbar.querySelector('[data-action="sync"]')?.classList.toggle('active', this.syncScroll);
    if (this.syncScroll) {
      // Metas of every shown series are needed to match positions.
      for (const c of this.cells) {
        const ids = [...new Set(c.imageIds.map((i) => parseImageId(i)!.id))];
        if (c.seriesUID) {
          void ensureSeriesMetas(c.seriesUID)
            .catch(() => undefined)
            .then(() => ensureMetas(ids))
            .catch(() => undefined);
        }
      }
    }
    this.setStatus(this.syncScroll ? 'Synchronised scrolling on' : 'Synchronised scrolling off');
  }

  private toggleRefLines(): void {
    this.refLines = !this.refLines;
    const g = tools.ToolGroupManager.getToolGroup(STACK_GROUP);
    const c = this.cells[this.active];
    if (g && c) {
      if (this.refLines) {
        this.refSource = c.vpId;
        g.setToolConfiguration(tools.ReferenceLinesTool.toolName, { sourceViewportId: c.vpId });
        g.setToolEnabled(tools.ReferenceLinesTool.toolName);
      } else {
        g.setToolDisabled(tools.ReferenceLinesTool.toolName);
      }
    }
    this.toolbar.querySelector('[data-action="reflines"]')?.classList.toggle('active', this.refLines);
    this.engine?.render();
  }

  // ---------------------------------------------------------------- W/L and view

  private applyWindowKey(key: string): void {
    const c = this.cells[this.active];
    const vp = this.stackVp(c);
    if (!vp) return;
    const id = vp.getCurrentImageId();
    const meta = id ? metaForImageId(id) : undefined;
    let center: number | undefined;
    let width: number | undefined;
    if (key === '0') {
      vp.resetProperties();
      const inv = meta?.photometricInterpretation === 'MONOCHROME1';
      if (inv) vp.setProperties({ invert: true });
      vp.render();
      return;
    }
    if (key.startsWith('file') && meta) {
      const w = fileWindows(meta)[Number(key.slice(4))];
      if (w) ({ center, width } = w);
    } else {
      const p = CT_PRESETS.find((x) => x.key === key);
      if (p) ({ center, width } = p);
    }
    if (center === undefined || width === undefined) return;
    this.setWindow(center, width, c);
  }

  setWindow(center: number, width: number, c = this.cells[this.active]): void {
    const vp = this.stackVp(c);
    if (!vp) return;
    vp.setProperties({ voiRange: csUtils.windowLevel.toLowHighRange(width, center) });
    vp.render();
  }

  private rotate(deg: number): void {
    const vp = this.currentVp();
    if (!vp) return;
    const pres = vp.getViewPresentation();
    vp.setViewPresentation({ rotation: (((pres.rotation ?? 0) + deg) % 360 + 360) % 360 });
    vp.render();
  }

  private flip(dir: 'h' | 'v'): void {
    const vp = this.currentVp();
    if (!vp) return;
    const cam = vp.getCamera();
    if (dir === 'h') vp.setCamera({ flipHorizontal: !cam.flipHorizontal });
    else vp.setCamera({ flipVertical: !cam.flipVertical });
    vp.render();
  }

  private invert(): void {
    const vp = this.currentVp() as StackViewport | undefined;
    if (!vp?.getProperties) return;
    vp.setProperties({ invert: !vp.getProperties().invert });
    vp.render();
  }

  private fit(): void {
    const vp = this.currentVp();
    if (!vp) return;
    const pres = vp.getViewPresentation();
    vp.resetCamera({ resetPan: true, resetZoom: true });
    vp.setViewPresentation({ rotation: pres.rotation, flipHorizontal: pres.flipHorizontal, flipVertical: pres.flipVertical });
    vp.render();
  }

  private zoomBy(f: number): void {
    const vp = this.currentVp();
    if (!vp) return;
    vp.setZoom(vp.getZoom() * f);
    vp.render();
  }

  private reset(): void {
    const vp = this.currentVp() as StackViewport | undefined;
    if (!vp) return;
    vp.resetCamera();
    vp.setViewPresentation({ rotation: 0, flipHorizontal: false, flipVertical: false });
    vp.resetProperties?.();
    const id = vp.getCurrentImageId?.();
    const m = id ? metaForImageId(id) : undefined;
    if (m?.photometricInterpretation === 'MONOCHROME1') vp.setProperties({ invert: true });
    vp.render();
  }

  private currentVp(): Types.IViewport | undefined {
    if (this.mpr) return this.mpr.activeViewport();
    return this.stackVp(this.cells[this.active]);
  }

  // ---------------------------------------------------------------- cine

  private defaultFps(c: Cell): number {
    const id = c.imageIds[0];
    const m = id ? metaForImageId(id) : undefined;
    if (m?.recommendedDisplayFrameRate && m.recommendedDisplayFrameRate > 0) return Math.round(m.recommendedDisplayFrameRate);
    if (m?.frameTime && m.frameTime > 0) return Math.round(1000 / m.frameTime);
    return 10;
  }

  private toggleCine(): void {
    const c = this.cells[this.active];
    if (!c || this.mpr) return;
    if (c.cine) this.stopCine(c);
    else this.startCine(c);
  }

  private startCine(c: Cell): void {
    if (c.imageIds.length < 2) return;
    const fps = Math.max(1, Math.min(120, Number(this.fpsInput.value) || this.defaultFps(c)));
    if (c.cine) tools.utilities.cine.stopClip(c.element);
    c.prefetch.all();
    tools.utilities.cine.playClip(c.element, { framesPerSecond: fps, loop: true });
    c.cine = true;
    this.toolbar.querySelector('[data-action="cine"]')?.classList.add('active');
  }

  private stopCine(c: Cell): void {
    if (!c.cine) return;
    tools.utilities.cine.stopClip(c.element);
    c.cine = false;
    if (c.index === this.active) this.toolbar.querySelector('[data-action="cine"]')?.classList.remove('active');
    this.refreshOverlay(c);
  }

  // ---------------------------------------------------------------- panels

  private toggleSide(which: 'measure' | 'tags'): void {
    const showing = !this.side.hidden && this.side.dataset.panel === which;
    this.side.replaceChildren();
    this.toolbar.querySelector('[data-action="measure"]')?.classList.remove('active');
    this.toolbar.querySelector('[data-action="tags"]')?.classList.remove('active');
    if (showing) {
      this.side.hidden = true;
      delete this.side.dataset.panel;
    } else {
      this.side.hidden = false;
      this.side.dataset.panel = which;
      this.side.append(which === 'measure' ? this.measurements.element : this.tags.element);
      this.toolbar.querySelector(`[data-action="${which}"]`)?.classList.add('active');
      if (which === 'tags') {
        const vp = this.currentVp() as StackViewport | undefined;
        const id = vp?.getCurrentImageId?.();
        if (id) this.tags.show(id, true);
      }
    }
    requestAnimationFrame(() => this.resize());
  }

  private toggleHelp(): void {
    if (this.help) {
      this.help.remove();
      this.help = null;
      return;
    }
    this.help = helpOverlay(() => this.toggleHelp());
    this.root.append(this.help);
  }

  private async export(kind: 'png' | 'jpeg'): Promise<void> {
    const c = this.mpr ? this.mpr.activeElement() : this.cells[this.active]?.root;
    if (!c) return;
    try {
      await exportView(c, kind, `lightbox-${this.studyUID.slice(-12)}`);
    } catch (e) {
      this.setStatus(`Export failed: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }

  // ---------------------------------------------------------------- MPR / 3D

  private async toggleMpr(kind: 'mpr' | '3d'): Promise<void> {
    if (this.mpr && this.mpr.kind === kind) {
      this.closeMpr();
      this.setLayout(this.layout[0], this.layout[1]);
      return;
    }
    const c = this.cells[this.active];
    const e = this.series.find((x) => x.series.seriesInstanceUID === c?.seriesUID);
    if (!c || !e) {
      this.setStatus('Show a series first.', true);
      return;
    }
    await this.ensureInstances(e);
    const engine = this.ensureEngine();
    this.setStatus('Preparing the volume…');
    const ids = [...new Set(e.imageIds.map((i) => parseImageId(i)!.id))];
    // One request for the whole series; single requests for whatever it missed.
    await ensureSeriesMetas(e.series.seriesInstanceUID).catch(() => undefined);
    const metas = await ensureMetas(ids);
    const idx = this.stackVp(c)?.getCurrentImageIdIndex() ?? 0;
    const mpr = new MprView(engine, kind, this.grid, this.mprSlot);
    const t0 = performance.now();
    const check = mpr.check(metas);
    if (!check.ok) {
      this.setStatus(`Not a volume: ${check.reason}. MPR and 3D need a regular stack of parallel, evenly spaced slices.`, true);
      this.showNotice(`This series is not volumetric: ${check.reason}.`);
      return;
    }
    this.beforeMpr = this.snapshotCells();
    for (const cc of this.cells) {
      this.stopCine(cc);
      tools.ToolGroupManager.getToolGroup(STACK_GROUP)?.removeViewports(ENGINE_ID, cc.vpId);
    }
    // Volume viewports need WebGL: drop the stack viewports, then switch Cornerstone to GPU.
    engine.setViewports([]);
    useStackRendering(false);
    this.mpr = mpr;
    this.toolbar.querySelector(`[data-action="${kind}"]`)?.classList.add('active');
    this.root.classList.add('mpr-mode');
    // Slices not in the cache yet come in one stream, the one in view first and
    // then outwards, instead of one request each.
    const missing = check.sorted.filter((m) => !cache.getImageLoadObject(imageIdFor(m.id, 0)));
    let bulk: BulkFrames | null = null;
    if (missing.length >= 8) {
      const here = parseImageId(e.imageIds[idx] ?? '')?.id;
      const centre = Math.max(0, check.sorted.findIndex((m) => m.id === here));
      const order = [...missing].sort((a, b) => Math.abs(check.sorted.indexOf(a) - centre) - Math.abs(check.sorted.indexOf(b) - centre));
      bulk = new BulkFrames(e.series.seriesInstanceUID, order);
    }
    try {
      await mpr.open(check.sorted, e.series.seriesInstanceUID, idx);
      const via = bulk ? `, ${bulk.stats.records} in one stream` : '';
      this.setStatus(`${kind === 'mpr' ? 'MPR' : '3D'} ready in ${Math.round(performance.now() - t0)} ms (${check.sorted.length} slices${via}, spacing ${check.spacing.toFixed(2)} mm)`);
    } catch (err) {
      bulk?.cancel();
      this.setStatus(`Cannot build the volume: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  }

  private closeMpr(): void {
    if (!this.mpr) return;
    this.toolbar.querySelector(`[data-action="${this.mpr.kind}"]`)?.classList.remove('active');
    this.mpr.close();
    this.mpr = null;
    this.root.classList.remove('mpr-mode');
    this.cells = [];
  }

  private showNotice(text: string): void {
    const n = h('div', 'vw-notice', text);
    n.setAttribute('role', 'alert');
    this.root.append(n);
    setTimeout(() => n.remove(), 6000);
  }

  // ---------------------------------------------------------------- keys

  private onKey(ev: KeyboardEvent): void {
    if (!this.isVisible()) return;
    const t = ev.target as HTMLElement | null;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) {
      if (ev.key !== 'Escape') return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (this.handleKey(ev)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }

  private handleKey(ev: KeyboardEvent): boolean {
    const k = ev.key;
    if (k === '?') {
      this.toggleHelp();
      return true;
    }
    if (k === 'Escape') {
      if (this.help) this.toggleHelp();
      else if (!this.side.hidden) this.toggleSide(this.side.dataset.panel as 'measure' | 'tags');
      else if (this.mpr) this.toggleMpr(this.mpr.kind);
      else return false;
      return true;
    }
    if (ev.shiftKey && /^Digit[1-5]$/.test(ev.code)) {
      const [r, c] = LAYOUTS[Number(ev.code.slice(5)) - 1];
      this.setLayout(r, c);
      return true;
    }
    if (ev.shiftKey) {
      switch (k.toUpperCase()) {
        case 'F':
          this.fit();
          return true;
        case 'R':
          this.reset();
          return true;
        case 'M':
          void this.toggleMpr('mpr');
          return true;
        case 'V':
          void this.toggleMpr('3d');
          return true;
        case 'E':
          void this.export('png');
          return true;
      }
    }
    const tool = PRIMARY_TOOLS.find((x) => x.key === k);
    if (tool) {
      this.setPrimaryTool(tool.name);
      return true;
    }
    if (/^[0-7]$/.test(k)) {
      if (this.mpr) this.mpr.applyWindow(k === '0' ? null : CT_PRESETS.find((p) => p.key === k) ?? null);
      else this.applyWindowKey(k);
      return true;
    }
    switch (k) {
      case 'ArrowUp':
      case 'ArrowLeft':
        if (this.mpr) this.mpr.scroll(-1);
        else this.scrollBy(-1);
        return true;
      case 'ArrowDown':
      case 'ArrowRight':
        if (this.mpr) this.mpr.scroll(1);
        else this.scrollBy(1);
        return true;
      case 'PageUp':
        this.scrollBy(-10);
        return true;
      case 'PageDown':
        this.scrollBy(10);
        return true;
      case 'Home':
        this.scrollTo(0);
        return true;
      case 'End':
        this.scrollTo(1e9);
        return true;
      case 'i':
        this.invert();
        return true;
      case 'h':
        this.flip('h');
        return true;
      case 'v':
        this.flip('v');
        return true;
      case '[':
        this.rotate(-90);
        return true;
      case ']':
        this.rotate(90);
        return true;
      case '+':
      case '=':
        this.zoomBy(1.25);
        return true;
      case '-':
        this.zoomBy(0.8);
        return true;
      case ' ':
        this.toggleCine();
        return true;
      case 'Tab':
        this.setActive((this.active + 1) % Math.max(1, this.cells.length));
        return true;
      case 'g':
        this.toggleSide('tags');
        return true;
      case 'k':
        this.toggleSide('measure');
        return true;
      case 's':
        this.toggleSync();
        return true;
      case 'j':
        this.toggleRefLines();
        return true;
      case 'Delete':
      case 'Backspace':
        return this.measurements.deleteSelected();
    }
    return false;
  }

  // ---------------------------------------------------------------- test hooks

  /** State for the end-to-end tests and the status line; read-only. */
  debugState(): Record<string, unknown> {
    return {
      studyUID: this.studyUID,
      layout: this.layout,
      active: this.active,
      primary: this.primary,
      mpr: this.mpr?.kind ?? null,
      rendering: stackRenderMode(),
      loader: { ...loaderStats },
      cells: this.cells.map((c) => {
        const vp = this.stackVp(c);
        const id = vp?.getCurrentImageId();
        const props = vp?.getProperties();
        const wl = props?.voiRange ? csUtils.windowLevel.toWindowLevel(props.voiRange.lower, props.voiRange.upper) : null;
        return {
          series: c.seriesUID,
          count: c.imageIds.length,
          index: vp?.getCurrentImageIdIndex() ?? -1,
          imageId: id ?? null,
          window: wl,
          invert: props?.invert ?? false,
          cine: c.cine,
          zoom: vp ? vp.getZoom() : null,
          corners: [c.overlay.tl, c.overlay.tr, c.overlay.bl, c.overlay.br].map((e) => e.textContent),
          markers: [c.overlay.top, c.overlay.right, c.overlay.bottom, c.overlay.left].map((e) => e.textContent),
        };
      }),
      measurements: this.measurements.summary(),
    };
  }

  /** Client (page) coordinates of the centre of image pixel (col, row) in a cell. */
  pixelToClient(cellIndex: number, col: number, row: number): [number, number] | null {
    const c = this.cells[cellIndex];
    const vp = this.stackVp(c);
    const id = vp?.getCurrentImageId();
    const m = id ? metaForImageId(id) : undefined;
    if (!vp || !m) return null;
    const sp = spacingOf(m);
    const ipp = m.imagePositionPatient ?? [0, 0, 0];
    const o = m.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0];
    const w = [0, 1, 2].map((k) => ipp[k] + col * sp.col * o[k] + row * sp.row * o[3 + k]) as Types.Point3;
    const cv = vp.worldToCanvas(w);
    const r = c.element.getBoundingClientRect();
    return [r.left + cv[0], r.top + cv[1]];
  }

  /** Sets the zoom so that one image pixel spans exactly `s` screen pixels (for exact test geometry). */
  setPixelScale(cellIndex: number, s: number): void {
    const vp = this.stackVp(this.cells[cellIndex]);
    const a = this.pixelToClient(cellIndex, 0, 0);
    const b = this.pixelToClient(cellIndex, 1, 0);
    if (!vp || !a || !b) return;
    const s0 = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const cam = vp.getCamera();
    vp.setCamera({ parallelScale: (cam.parallelScale ?? 1) * (s0 / s) });
    vp.render();
  }

  /** Benchmark hook: loads every frame of a cell's stack into the cache; resolves with the ms taken. */
  async benchPrefetch(cellIndex: number): Promise<number> {
    const c = this.cells[cellIndex];
    const t0 = performance.now();
    await Promise.all(c.imageIds.map((id) => imageLoader.loadAndCacheImage(id).catch(() => undefined)));
    return performance.now() - t0;
  }

  /** Benchmark hook: shows n consecutive images, one per animation frame; resolves with frames per second. */
  async benchScroll(cellIndex: number, n: number): Promise<number> {
    const c = this.cells[cellIndex];
    const vp = this.stackVp(c);
    if (!vp || !c.imageIds.length) return 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await vp.setImageIdIndex(i % c.imageIds.length);
      await new Promise((r) => requestAnimationFrame(r));
    }
    return n / ((performance.now() - t0) / 1000);
  }

  mprWorldToClient(i: number, world: Types.Point3): [number, number] | null {
    return this.mpr?.worldToClient(i, world) ?? null;
  }

  mprState(): unknown {
    return this.mpr?.debugState() ?? null;
  }
}
