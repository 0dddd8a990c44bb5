// Rendering mode of the stack viewports: GPU (WebGL through vtk.js) where a
// real GPU exists, Cornerstone's CPU rendering path where WebGL is a software
// rasterizer (SwiftShader, llvmpipe, softpipe, Microsoft Basic Render: VDI
// workstations, headless browsers). On a software rasterizer one GPU render
// of a 512x512 frame takes 100-700 ms, the CPU path a few ms.
//
// MPR and 3D need WebGL in every case (Cornerstone's volume viewports have no
// CPU path); the Viewer switches Cornerstone's global flag around them.
//
// Override for tests and benchmarks: `?render=cpu|gpu|auto` in the page URL
// (before the #), or localStorage `lightbox.render`.

export type RenderMode = 'cpu' | 'gpu';

export interface RenderChoice {
  mode: RenderMode;
  /** The WebGL renderer string ('' when WebGL is unavailable). */
  renderer: string;
  /** Why this mode: 'software WebGL', 'no WebGL', 'hardware WebGL' or 'forced'. */
  reason: string;
}

export const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software rasterizer|microsoft basic render/i;

/** The user's override, if any: from the URL (?render=) or localStorage. */
export function renderOverride(search = typeof location !== 'undefined' ? location.search : '', stored = readStored()): RenderMode | null {
  const q = new URLSearchParams(search).get('render') ?? stored ?? '';
  const v = q.toLowerCase();
  return v === 'cpu' || v === 'gpu' ? v : null;
}

function readStored(): string | null {
  try {
    return localStorage.getItem('lightbox.render');
  } catch {
    return null;
  }
}

/** The unmasked WebGL renderer string, or null when WebGL is unavailable. */
export function webglRenderer(): string | null {
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const r = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof r === 'string' ? r : '';
  } catch {
    return null;
  }
}

/** Decides the stack rendering mode from the renderer string and an override. */
export function chooseRenderMode(renderer: string | null, override: RenderMode | null): RenderChoice {
  const r = renderer ?? '';
  if (override) return { mode: override, renderer: r, reason: 'forced' };
  if (renderer === null) return { mode: 'cpu', renderer: r, reason: 'no WebGL' };
  if (SOFTWARE_RENDERERS.test(r)) return { mode: 'cpu', renderer: r, reason: 'software WebGL' };
  return { mode: 'gpu', renderer: r, reason: 'hardware WebGL' };
}

/** A one-line description for the status bar's tooltip. */
export function describeRenderMode(c: RenderChoice): string {
  const what = c.mode === 'cpu' ? 'CPU rendering' : 'GPU rendering';
  const by = c.renderer ? ` (${c.reason}: ${c.renderer})` : ` (${c.reason})`;
  return `${what}${by}. MPR and 3D always use WebGL.`;
}
