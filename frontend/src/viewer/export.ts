// Export of one viewport cell as PNG or JPEG: the rendered image, the
// annotation SVG layer and the corner overlays, composed at the canvas's
// device-pixel size, then offered as a download.

function drawSvg(svg: SVGSVGElement, ctx: CanvasRenderingContext2D, w: number, h: number): Promise<void> {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(svg.clientWidth));
  clone.setAttribute('height', String(svg.clientHeight));
  const text = new XMLSerializer().serializeToString(clone);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => {
      ctx.drawImage(img, 0, 0, w, h);
      URL.revokeObjectURL(url);
      resolve();
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      resolve();
    };
    img.src = url;
  });
}

/** Renders a cell to a canvas (image + annotations + overlay text). */
export async function composeCell(cell: HTMLElement): Promise<HTMLCanvasElement> {
  const src = cell.querySelector<HTMLCanvasElement>('canvas.cornerstone-canvas') ?? cell.querySelector('canvas');
  if (!src) throw new Error('nothing to export');
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  const svg = cell.querySelector<SVGSVGElement>('svg.svg-layer');
  if (svg) await drawSvg(svg, ctx, out.width, out.height);
  const scale = out.width / Math.max(1, src.clientWidth || out.width);
  ctx.font = `${Math.round(12 * scale)}px system-ui, sans-serif`;
  ctx.fillStyle = '#e8e8e8';
  ctx.shadowColor = '#000';
  ctx.shadowBlur = 2 * scale;
  const lineH = 15 * scale;
  const pad = 6 * scale;
  const corner = (sel: string, alignRight: boolean, bottom: boolean) => {
    const el = cell.querySelector<HTMLElement>(sel);
    const rows = (el?.textContent ?? '').split('\n').filter(Boolean);
    ctx.textAlign = alignRight ? 'right' : 'left';
    rows.forEach((t, i) => {
      const y = bottom ? out.height - pad - (rows.length - 1 - i) * lineH : pad + (i + 1) * lineH - 3 * scale;
      ctx.fillText(t, alignRight ? out.width - pad : pad, y);
    });
  };
  corner('.vw-tl', false, false);
  corner('.vw-tr', true, false);
  corner('.vw-bl', false, true);
  corner('.vw-br', true, true);
  ctx.textAlign = 'center';
  const mid = (sel: string, x: number, y: number) => {
    const t = cell.querySelector<HTMLElement>(sel)?.textContent ?? '';
    if (t) ctx.fillText(t, x, y);
  };
  mid('.vw-o-top', out.width / 2, pad + lineH);
  mid('.vw-o-bottom', out.width / 2, out.height - pad - lineH);
  mid('.vw-o-left', pad + 8 * scale, out.height / 2);
  mid('.vw-o-right', out.width - pad - 8 * scale, out.height / 2);
  return out;
}

export async function exportView(cell: HTMLElement, kind: 'png' | 'jpeg', baseName: string): Promise<void> {
  const canvas = await composeCell(cell);
  const type = kind === 'png' ? 'image/png' : 'image/jpeg';
  const blob = await new Promise<Blob | null>((res) => canvas.toBlob(res, type, 0.92));
  if (!blob) throw new Error('the browser could not encode the image');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${baseName}.${kind === 'png' ? 'png' : 'jpg'}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
