// Transient notifications in the corner (errors and confirmations).

import { h } from './dom';

export function toast(message: string, kind: 'info' | 'error' | 'ok' = 'info', ms = 5000): void {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  const close = h('button', { type: 'button', class: 'toast-close', title: 'Dismiss', aria: { label: 'Dismiss' } }, '×');
  close.addEventListener('click', () => t.remove());
  t.append(close);
  box.append(t);
  window.setTimeout(() => t.remove(), kind === 'error' ? ms * 2 : ms);
}
