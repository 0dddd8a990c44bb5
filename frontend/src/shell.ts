// The application shell: a registry of top-level views and the hash router.
//
// Each feature (browser, viewer, transfers, nodes, settings) registers one
// view with an element of its own; the shell shows exactly one at a time and
// keeps location.hash in step (#/<view>[/<param>]) so reloads and the back
// button work. The shell imports no feature, so any feature may import it.

export interface View {
  /** Route name, e.g. "studies"; also the nav button's data-view. */
  id: string;
  title: string;
  /** Shown in the top navigation bar (the viewer is reached from the browser instead). */
  nav: boolean;
  /** Keyboard shortcut to reach the view (with Alt), optional. */
  key?: string;
  element: HTMLElement;
  /** Called when the view becomes visible; param is the route's rest (e.g. a study UID). */
  show?(param: string): void;
  hide?(): void;
  /** Handles a keydown while this view is shown; return true if consumed. */
  keydown?(ev: KeyboardEvent): boolean;
}

const views = new Map<string, View>();
let current: View | null = null;
let currentParam = '';
let mainEl: HTMLElement | null = null;
let navEl: HTMLElement | null = null;

export function initShell(main: HTMLElement, nav: HTMLElement): void {
  mainEl = main;
  navEl = nav;
  for (const v of views.values()) attach(v);
  window.addEventListener('hashchange', () => route());
}

function attach(v: View): void {
  if (!mainEl || !navEl) return;
  v.element.classList.add('view');
  v.element.dataset.view = v.id;
  v.element.hidden = true;
  if (!v.element.isConnected) mainEl.append(v.element);
  if (v.nav && !navEl.querySelector(`[data-view="${v.id}"]`)) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'nav-btn';
    b.dataset.view = v.id;
    b.textContent = v.title;
    if (v.key) b.title = `${v.title} (Alt+${v.key})`;
    b.addEventListener('click', () => showView(v.id));
    navEl.append(b);
  }
}

/** Adds a view; a view registered twice replaces the first one. */
export function registerView(v: View): void {
  const old = views.get(v.id);
  if (old && old !== v) old.element.remove();
  views.set(v.id, v);
  attach(v);
}

export function hasView(id: string): boolean {
  return views.has(id);
}

/** Shows a view (and records it in location.hash). */
export function showView(id: string, param = ''): void {
  const hash = `#/${id}${param ? '/' + encodeURIComponent(param) : ''}`;
  if (location.hash !== hash) {
    location.hash = hash; // triggers route()
    return;
  }
  activate(id, param);
}

/** Shows the view named by location.hash (default: the first registered view). */
export function route(): void {
  const m = /^#\/([^/]+)(?:\/(.*))?$/.exec(location.hash);
  const id = m && views.has(m[1]) ? m[1] : (views.keys().next().value ?? '');
  const param = m?.[2] ? decodeURIComponent(m[2]) : '';
  activate(id, param);
}

function activate(id: string, param: string): void {
  const v = views.get(id);
  if (!v) return;
  if (current !== v) {
    current?.element.setAttribute('hidden', '');
    current?.hide?.();
  }
  current = v;
  currentParam = param;
  v.element.hidden = false;
  navEl?.querySelectorAll<HTMLElement>('.nav-btn').forEach((b) => {
    b.classList.toggle('active', b.dataset.view === id);
    if (b.dataset.view === id) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  });
  document.title = `${v.title} · Lightbox`;
  v.show?.(param);
}

export function currentView(): { id: string; param: string } | null {
  return current ? { id: current.id, param: currentParam } : null;
}

/** Lets the shown view handle a key first; used by the global key handler. */
export function dispatchKey(ev: KeyboardEvent): boolean {
  return current?.keydown?.(ev) ?? false;
}

/** Alt+<key> view switching. */
export function viewForKey(key: string): string | null {
  for (const v of views.values()) if (v.key && v.key.toLowerCase() === key.toLowerCase()) return v.id;
  return null;
}
