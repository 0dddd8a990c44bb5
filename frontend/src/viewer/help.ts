// The keyboard shortcut list and its overlay (opened with `?`).

export const HELP: [string, string][] = [
  ['↑ / ← , ↓ / →', 'Previous / next image (also the mouse wheel and the scrollbar)'],
  ['PgUp / PgDn, Home / End', 'Jump 10 images, first / last image'],
  ['W P Z', 'Tool: window/level, pan, zoom (right drag zooms, middle drag pans at any time)'],
  ['L A C', 'Tool: length, angle, Cobb angle'],
  ['R E F', 'Tool: rectangle, ellipse, freehand ROI'],
  ['B T M', 'Tool: probe, arrow annotation, magnifier'],
  ['1 … 7', 'CT window: brain, subdural, lung, mediastinum, abdomen, liver, bone'],
  ['0', "The file's own window"],
  ['I  H  V', 'Invert, flip horizontal, flip vertical'],
  ['[  ]', 'Rotate 90° left / right'],
  ['+  −', 'Zoom in / out'],
  ['Shift+F, Shift+R', 'Fit to window, reset the view'],
  ['Space', 'Cine play / pause'],
  ['Shift+1 … Shift+5', 'Layout 1x1, 1x2, 2x1, 2x2, 3x3'],
  ['Tab', 'Next viewport'],
  ['Shift+M, Shift+V', 'MPR, 3D volume rendering'],
  ['S, J', 'Synchronised scrolling, reference lines'],
  ['K, G', 'Measurement list, tag browser'],
  ['Delete', 'Delete the selected measurement'],
  ['Shift+E', 'Export the view as PNG'],
  ['?', 'This help'],
  ['Esc', 'Close a panel, MPR, or this help'],
];

export function helpOverlay(close: () => void): HTMLElement {
  const wrap = document.createElement('div');
  wrap.className = 'vw-help';
  wrap.setAttribute('role', 'dialog');
  wrap.setAttribute('aria-label', 'Keyboard shortcuts');
  const box = document.createElement('div');
  box.className = 'vw-help-box';
  const h = document.createElement('h3');
  h.textContent = 'Keyboard shortcuts';
  const table = document.createElement('table');
  for (const [k, d] of HELP) {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    a.className = 'vw-help-key';
    a.textContent = k;
    const b = document.createElement('td');
    b.textContent = d;
    tr.append(a, b);
    table.append(tr);
  }
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = 'vw-btn';
  btn.textContent = 'Close';
  btn.addEventListener('click', close);
  box.append(h, table, btn);
  wrap.append(box);
  wrap.addEventListener('click', (ev) => {
    if (ev.target === wrap) close();
  });
  return wrap;
}
