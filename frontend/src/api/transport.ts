// The ONE adapter between the UI and the Go facade app.App.
//
// Desktop (Wails): methods are window.go.app.App.<Method>(...args) and events
// arrive through window.runtime.EventsOn. Web (`lightbox serve`): methods are
// POST /api/call/<Method> with a JSON array of arguments, events come from the
// Server-Sent Events stream GET /api/events. Bulk bytes (/files/...) are plain
// HTTP in both modes and need nothing from here.
//
// Nothing else in the frontend may look at window.go or window.runtime.

import type { EventMap, Mode } from './types';

type WailsMethod = (...args: unknown[]) => Promise<unknown>;

interface WailsRuntime {
  EventsOn(name: string, cb: (...data: unknown[]) => void): () => void;
  OnFileDrop?(cb: (x: number, y: number, paths: string[]) => void, useDropTarget: boolean): void;
  OnFileDropOff?(): void;
}

interface WailsWindow {
  go?: { app?: { App?: Record<string, WailsMethod> } };
  runtime?: WailsRuntime;
}

const w = window as unknown as WailsWindow;

// Web mode behind an access token: the page is opened as /?token=XYZ and the
// server answers with a cookie that carries the token from then on. Drop the
// token from the address bar so it does not end up in bookmarks or screenshots.
if (mode() === 'web' && new URLSearchParams(location.search).has('token')) {
  const u = new URL(location.href);
  u.searchParams.delete('token');
  history.replaceState(history.state, '', u.pathname + u.search + u.hash);
}

/** An error returned by the Go side (a method's error, or HTTP failure). */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function mode(): Mode {
  return typeof w.go?.app?.App !== 'undefined' ? 'desktop' : 'web';
}

/** Calls a method of app.App and resolves with its JSON result. */
export async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  if (mode() === 'desktop') {
    const fn = w.go!.app!.App![method];
    if (typeof fn !== 'function') throw new ApiError(method, `method ${method} is not bound`);
    try {
      return (await fn(...args)) as T;
    } catch (e) {
      throw new ApiError(method, e instanceof Error ? e.message : String(e));
    }
  }
  let resp: Response;
  try {
    resp = await fetch(`api/call/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(method, `cannot reach Lightbox: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await resp.text();
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      if (!resp.ok) throw new ApiError(method, text.trim() || resp.statusText, resp.status);
      throw new ApiError(method, `invalid JSON from ${method}`, resp.status);
    }
  }
  if (!resp.ok) {
    const msg =
      body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : resp.statusText;
    throw new ApiError(method, msg, resp.status);
  }
  return body as T;
}

// ---- events ----

type Handler = (data: unknown) => void;
const handlers = new Map<string, Set<Handler>>();
let source: EventSource | null = null;
const statusListeners = new Set<(connected: boolean) => void>();
const reconnectListeners = new Set<() => void>();
let streamDown = false;

function dispatch(name: string, data: unknown): void {
  for (const h of handlers.get(name) ?? []) {
    try {
      h(data);
    } catch (e) {
      console.error(`handler for event ${name} failed`, e);
    }
  }
}

function webSubscribe(name: string): void {
  if (!source) {
    source = new EventSource('api/events', { withCredentials: true });
    source.onopen = () => {
      statusListeners.forEach((l) => l(true));
      if (streamDown) {
        streamDown = false;
        reconnectListeners.forEach((l) => l()); // events may have been missed
      }
    };
    source.onerror = () => {
      streamDown = true;
      statusListeners.forEach((l) => l(false));
    };
  }
  source.addEventListener(name, (ev) => {
    const msg = ev as MessageEvent<string>;
    let data: unknown = null;
    try {
      data = msg.data ? JSON.parse(msg.data) : null;
    } catch {
      console.warn(`event ${name}: bad JSON`, msg.data);
      return;
    }
    dispatch(name, data);
  });
}

/** Subscribes to a Go event; returns the unsubscribe function. */
export function on<K extends keyof EventMap>(name: K, cb: (data: EventMap[K]) => void): () => void {
  let set = handlers.get(name);
  if (!set) {
    set = new Set();
    handlers.set(name, set);
    if (mode() === 'desktop') {
      w.runtime?.EventsOn(name, (...data: unknown[]) => dispatch(name, data[0]));
    } else {
      webSubscribe(name);
    }
  }
  const h = cb as Handler;
  set.add(h);
  return () => set.delete(h);
}

/** Reports the web event stream's state (desktop: always connected). */
export function onConnection(cb: (connected: boolean) => void): void {
  statusListeners.add(cb);
}

/** Runs cb when the web event stream is back after a break (events may have been lost). */
export function onReconnect(cb: () => void): void {
  reconnectListeners.add(cb);
}

/**
 * Desktop only: native file drops give server-side paths. Returns false in the
 * browser, where drops are read with the File API and uploaded instead.
 */
export function onNativeFileDrop(cb: (paths: string[]) => void): boolean {
  if (mode() !== 'desktop' || !w.runtime?.OnFileDrop) return false;
  w.runtime.OnFileDrop((_x, _y, paths) => cb(paths), false);
  return true;
}

/**
 * Header values must be printable ASCII; other names (and any name holding
 * '%') are sent percent-encoded, which the server undoes with PathUnescape.
 */
export function headerSafe(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) && !name.includes('%') ? name : encodeURIComponent(name);
}

/** Web only: uploads one file's bytes to POST /files/upload. */
export async function uploadFile<T>(name: string, body: Blob, signal?: AbortSignal): Promise<T> {
  const resp = await fetch('files/upload', {
    method: 'POST',
    headers: { 'X-Filename': headerSafe(name), 'Content-Type': 'application/octet-stream' },
    body,
    signal,
    credentials: 'same-origin',
  });
  const text = await resp.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* keep text */
  }
  if (!resp.ok) {
    const msg =
      parsed && typeof parsed === 'object' && 'error' in parsed
        ? String((parsed as { error: unknown }).error)
        : text.trim() || resp.statusText;
    throw new ApiError('upload', msg, resp.status);
  }
  return parsed as T;
}
