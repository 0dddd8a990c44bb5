// One-time Cornerstone3D set-up: core, tools, the lightbox: loader, the
// metadata provider and the tool classes. Idempotent; everything else in the
// viewer calls ensureCornerstone() first.

import { init as coreInit, metaData, setUseCPURendering } from '@cornerstonejs/core';
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

export function ensureCornerstone(): void {
  if (ready) return;
  coreInit({ rendering: { webGlContextCount: 2 } } as Parameters<typeof coreInit>[0]);
  choice = chooseRenderMode(webglRenderer(), renderOverride());
  setUseCPURendering(choice.mode === 'cpu', false);
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
