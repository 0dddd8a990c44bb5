// Tiny DOM helpers: the app is plain TypeScript, no framework.

type Child = Node | string | number | null | undefined | false;

export interface Attrs {
  class?: string;
  title?: string;
  id?: string;
  type?: string;
  role?: string;
  hidden?: boolean;
  disabled?: boolean;
  tabIndex?: number;
  dataset?: Record<string, string>;
  aria?: Record<string, string>;
  attrs?: Record<string, string>;
  style?: Partial<CSSStyleDeclaration>;
  onclick?: (ev: MouseEvent) => void;
  text?: string;
}

/** Creates an element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  a: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (a) {
    if (a.class) el.className = a.class;
    if (a.title !== undefined) el.title = a.title;
    if (a.id) el.id = a.id;
    if (a.type !== undefined) el.setAttribute('type', a.type);
    if (a.role) el.setAttribute('role', a.role);
    if (a.hidden) el.hidden = true;
    if (a.disabled) (el as HTMLButtonElement).disabled = true;
    if (a.tabIndex !== undefined) el.tabIndex = a.tabIndex;
    if (a.dataset) Object.assign(el.dataset, a.dataset);
    if (a.aria) for (const [k, v] of Object.entries(a.aria)) el.setAttribute(`aria-${k}`, v);
    if (a.attrs) for (const [k, v] of Object.entries(a.attrs)) el.setAttribute(k, v);
    if (a.style) Object.assign(el.style, a.style);
    if (a.onclick) (el as HTMLElement).addEventListener('click', a.onclick);
    if (a.text !== undefined) el.textContent = a.text;
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** A button with a label, an action and optional class/title. */
export function button(label: string, action: (ev: MouseEvent) => void, cls = '', title = ''): HTMLButtonElement {
  return h('button', { type: 'button', class: cls ? `btn ${cls}` : 'btn', title, onclick: action }, label);
}

/** True when the event target is a text entry field (shortcuts must not fire there). */
export function isTyping(ev: Event): boolean {
  const t = ev.target as HTMLElement | null;
  if (!t) return false;
  if (t.isContentEditable) return true;
  if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return true;
  if (t instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'file'].includes(t.type);
  }
  return false;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Calls fn at most once per `ms`, after the last call (trailing debounce). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let t: number | undefined;
  return (...args: A) => {
    if (t !== undefined) clearTimeout(t);
    t = window.setTimeout(() => {
      t = undefined;
      fn(...args);
    }, ms);
  };
}
