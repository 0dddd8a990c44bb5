// Status light + words for a C-ECHO result. A transport error (no answer:
// refused, timeout, association rejected) and a DIMSE status (the peer
// answered, but not with Success) are told apart, as lessons.md #5 asks.

import type { EchoResult } from '../api/types';
import { h } from '../ui/dom';

export type Light = 'ok' | 'warn' | 'bad' | 'unknown' | 'busy';

export function echoLight(r: EchoResult | undefined): Light {
  if (!r) return 'unknown';
  if (r.ok) return 'ok';
  return r.error ? 'bad' : 'warn';
}

export function echoText(r: EchoResult | undefined): string {
  if (!r) return 'Not tested';
  if (r.ok) return `Echo OK · ${r.millis.toFixed(r.millis < 10 ? 1 : 0)} ms`;
  if (r.error) return r.error.startsWith(r.hostPort) ? `Cannot reach ${r.error}` : `Cannot reach ${r.hostPort}: ${r.error}`;
  return `${r.hostPort} answered, but not with Success: ${r.status ?? 'no status'}`;
}

/** A round status light with an accessible label. */
export function light(state: Light, label: string): HTMLElement {
  return h('span', { class: `light light-${state}`, role: 'img', title: label, aria: { label }, dataset: { light: state } });
}
