// One-time Cornerstone3D set-up: core, tools, the lightbox: loader, the
// metadata provider and the tool classes. Idempotent; everything else in the
// viewer calls ensureCornerstone() first.

import { init as coreInit, metaData, setUseCPURendering, StackViewport } from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import { metadataProvider } from './meta';
import { registerLightboxLoader, setMemoryBudget } from './loader';
import { chooseRenderMode, renderOverride, webglRenderer, type RenderChoice } from './rendermode';

let ready = false;
let choice: RenderChoice = { mode: 'gpu', renderer: '', reason: 'not initialised' };

/** The rendering mode chosen for stack viewports (see rendermode.ts). */
export function stackRenderMode(): RenderChoice {
  return choice;
}

/**
 * Sets Cornerstone's global CPU flag for the viewports about to be created:
 * stack viewports follow the chosen mode, volume viewports (MPR, 3D) need
 * WebGL. Call it only while the engine holds no viewports of the other kind.
 */
export function useStackRendering(stack: boolean): void {
  setUseCPURendering(stack && choice.mode === 'cpu', false);
}

/** Memory budget of decoded frames in Cornerstone's cache. */
export const MEMORY_BUDGET = 1024 * 1024 * 1024;

/**
 * Cornerstone's CPU path throws on setVOILUTFunction (tools such as the
 * magnifier copy all properties, VOILUTFunction included, to a new viewport).
 * On CPU viewports keep the value and render the window linearly, as the CPU
 * path does for every image.
 */
function allowVoiFunctionOnCpu(): void {
  type Vp = { useCPURendering: boolean; VOILUTFunction: unknown; setVOILUTFunction(fn: unknown, suppress?: boolean): void };
  const proto = StackViewport.prototype as unknown as Vp;
  const original = proto.setVOILUTFunction;
  proto.setVOILUTFunction = function (this: Vp, fn: unknown, suppress?: boolean) {
    if (this.useCPURendering) {
      this.VOILUTFunction = fn;
      return;
    }
    original.call(this, fn, suppress);
  };
}

type Vec3 = [number, number, number];
interface CpuStack {
  useCPURendering?: boolean;
  lbPixelCentres?: boolean;
  canvasToWorld(p: [number, number], out?: Vec3): Vec3;
  worldToCanvas(w: Vec3): [number, number];
  getImageData(): { spacing: number[]; direction: ArrayLike<number> } | undefined;
}

/**
 * Cornerstone's CPU path maps world coordinates to pixel corners where its
 * drawing (and the GPU path) puts pixel centres: annotations, reference lines
 * and picked points sat half a pixel up-left of the image (5 screen pixels at
 * 10x zoom). Shifts a CPU stack viewport's canvas/world mapping by half a
 * pixel along the image axes. The camera stays consistent: getCamera uses the
 * public mapping and setCamera works on differences of it.
 */
export function alignCpuPixelCentres(viewport: unknown): void {
  const vp = viewport as CpuStack;
  if (!vp?.useCPURendering || vp.lbPixelCentres) return;
  vp.lbPixelCentres = true;
  const c2w = vp.canvasToWorld.bind(vp);
  const w2c = vp.worldToCanvas.bind(vp);
  const half = (): Vec3 => {
    const d = vp.getImageData();
    if (!d) return [0, 0, 0];
    const { spacing: s, direction: r } = d;
    return [0, 1, 2].map((k) => 0.5 * (s[0] * r[k] + s[1] * r[3 + k])) as Vec3;
  };
  vp.canvasToWorld = (p, out) => {
    const w = c2w(p, out);
    if (!w) return w;
    const h = half();
    for (let k = 0; k < 3; k++) w[k] -= h[k];
    return w;
  };
  vp.worldToCanvas = (w) => {
    const h = half();
    return w2c([w[0] + h[0], w[1] + h[1], w[2] + h[2]]);
  };
}

export function ensureCornerstone(): void {
  if (ready) return;
  coreInit({ rendering: { webGlContextCount: 2 } } as Parameters<typeof coreInit>[0]);
  choice = chooseRenderMode(webglRenderer(), renderOverride());
  setUseCPURendering(choice.mode === 'cpu', false);
  allowVoiFunctionOnCpu();
  tools.init();
  registerLightboxLoader();
  // Highest priority: our ids are only ever answered by us.
  metaData.addProvider(metadataProvider as never, 10000);
  setMemoryBudget(MEMORY_BUDGET);
  for (const T of [
    tools.WindowLevelTool,
    tools.PanTool,
    tools.ZoomTool,
    tools.StackScrollTool,
    tools.LengthTool,
    tools.AngleTool,
    tools.CobbAngleTool,
    tools.RectangleROITool,
    tools.EllipticalROITool,
    tools.PlanarFreehandROITool,
    tools.ProbeTool,
    tools.ArrowAnnotateTool,
    tools.MagnifyTool,
    tools.CrosshairsTool,
    tools.TrackballRotateTool,
    tools.ReferenceLinesTool,
  ]) {
    tools.addTool(T);
  }
  ready = true;
}
