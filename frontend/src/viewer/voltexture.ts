// The scalar texture of an MPR/3D volume: Cornerstone's streaming texture
// (one per volume, shared by every view of it), adjusted so that a volume is
// uploaded once and as its slices arrive. Cornerstone 5.14.0 behaviour this
// relies on (read in core/dist/esm/RenderingEngine/vtkClasses):
//
// - Any modified() of the texture marks every slice for upload again. The
//   volume mapper switches the texture from vtk.js's default NEAREST filter
//   to LINEAR after its first upload, a change that calls modified(): a
//   volume whose slices were all loaded went up twice (1000 texSubImage3D of
//   a 500-slice volume). Setting LINEAR before the first upload makes the
//   mapper's setter a no-op.
// - Slices are uploaded only inside a render (buildBufferObjects ->
//   update3DFromRaw), each converted to the texture's type first. Without
//   EXT_texture_norm16 (SwiftShader, many software renderers) a 16-bit
//   volume is an R32F texture, and every slice became a new Float32Array
//   (1 MB per 512x512 slice, then garbage). Half floats are not an option:
//   the mappers call enableUseHalfFloat(false). uploadPending() sends the
//   slices that arrived to the texture between renders, converting each into
//   one scratch array (WebGL copies the data during texSubImage3D), so a
//   streaming volume goes to the GPU while it arrives instead of in one block
//   in the render after the last slice. It clears the slices' upload marks,
//   so the mapper does not send them again.
// vtk.js objects are frozen: nothing here replaces their methods.
//
// The texture lives as long as the volume in Cornerstone's cache; nothing
// here holds it beyond the scratch array, which lives with the texture.

import { cache, type RenderingEngine, type Types } from '@cornerstonejs/core';

/** vtk.js Filter.LINEAR (Rendering/OpenGL/Texture/Constants). */
const LINEAR = 1;

interface StreamingTexture {
  setMinificationFilter(f: number): boolean;
  setMagnificationFilter(f: number): boolean;
  getOpenGLDataType(): number;
  getComponents(): number;
  getWidth(): number;
  getHeight(): number;
  getHandle(): WebGLTexture | null;
  getUpdatedFrames(): (boolean | null | undefined)[];
  activate(): void;
  deactivate(): void;
  update3DFromRaw(): unknown;
}

const prepared = new WeakSet<StreamingTexture>();
const scratch = new WeakMap<StreamingTexture, Float32Array>();

function textureOf(volume: Types.IImageVolume): StreamingTexture | null {
  const t = (volume as unknown as { vtkOpenGLTexture?: StreamingTexture }).vtkOpenGLTexture;
  return t && typeof t.update3DFromRaw === 'function' ? t : null;
}

/** Prepares a volume's texture (before it is attached to a view; once). */
export function prepareVolumeTexture(volume: Types.IImageVolume): void {
  const tex = textureOf(volume);
  if (!tex || prepared.has(tex)) return;
  prepared.add(tex);
  tex.setMinificationFilter(LINEAR);
  tex.setMagnificationFilter(LINEAR);
}

/** The WebGL context that draws a viewport of an engine (Cornerstone puts all volume viewports in one). */
export function contextOf(engine: RenderingEngine, viewportId: string): WebGL2RenderingContext | null {
  try {
    const w = engine.getOffscreenMultiRenderWindow(viewportId) as unknown as { getOpenGLRenderWindow(): { getContext(): WebGL2RenderingContext | null } };
    return w.getOpenGLRenderWindow().getContext();
  } catch {
    return null;
  }
}

/**
 * Takes the upload marks of a complete volume away before its first render:
 * Cornerstone's render would send every slice as a new Float32Array (500 MB
 * of garbage for a 500-slice volume, the JS heap's peak). The render then
 * creates the texture empty; uploadPending(volume, gl, held) sends them.
 */
export function holdUploads(volume: Types.IImageVolume): number[] {
  const marks = textureOf(volume)?.getUpdatedFrames();
  const held: number[] = [];
  if (!marks) return held;
  for (let z = 0; z < marks.length; z++) {
    if (marks[z]) {
      held.push(z);
      marks[z] = null;
    }
  }
  return held;
}

/**
 * Uploads the slices that arrived since the last upload, once a view has
 * created the texture (its first render). gl is the WebGL context of the
 * volume's views; held: slices taken by holdUploads. Returns how many slices
 * it sent (-1: not yet possible).
 */
export function uploadPending(volume: Types.IImageVolume, gl: WebGL2RenderingContext | null, held: number[] = []): number {
  const tex = textureOf(volume);
  if (!tex) return -1;
  // Marked again first: when this cannot upload, the next render does.
  const marks = tex.getUpdatedFrames();
  for (const z of held) marks[z] = true;
  const handle = tex.getHandle();
  // (gl.isTexture(handle) would wait for the GPU process: 2 ms a call on SwiftShader.)
  if (!handle || !gl || gl.isContextLost()) return -1;
  const w = tex.getWidth();
  const h = tex.getHeight();
  if (tex.getOpenGLDataType() !== gl.FLOAT || tex.getComponents() !== 1) {
    // Another texture type (norm16, 8-bit, colour): Cornerstone's own upload.
    tex.update3DFromRaw();
    return 0;
  }
  let buf = scratch.get(tex);
  if (buf?.length !== w * h) {
    buf = new Float32Array(w * h);
    scratch.set(tex, buf);
  }
  const ids = volume.imageIds;
  let sent = 0;
  tex.activate();
  try {
    for (let z = 0; z < marks.length && z < ids.length; z++) {
      if (!marks[z]) continue;
      const data = cache.getImage(ids[z])?.voxelManager?.getScalarData() as ArrayLike<number> | undefined;
      // Other array types than the volume's are converted by Cornerstone (to the volume's type first).
      if (!data || data.length < w * h || data.constructor.name !== volume.dataType) continue;
      buf.set(data.length > w * h ? (data as Float32Array).subarray(0, w * h) : data);
      gl.texSubImage3D(gl.TEXTURE_3D, 0, 0, 0, z, w, h, 1, gl.RED, gl.FLOAT, buf);
      marks[z] = null;
      sent++;
    }
  } finally {
    tex.deactivate();
  }
  return sent;
}
