// Reports what happens in the page to the application log (ClientLog), where
// a desktop user's support can read it: uncaught errors and rejections, and
// milestones other features log with logToBackend. Best effort: a failed
// report is dropped, and at most MAX_REPORTS errors are sent per page load.

import { api } from '../api/api';

const MAX_REPORTS = 50;
let reports = 0;

export function logToBackend(level: 'error' | 'warn' | 'info' | 'debug', message: string): void {
  if (level === 'error' || level === 'warn') {
    if (reports >= MAX_REPORTS) return;
    reports++;
  }
  api.clientLog(level, message).catch(() => undefined);
}

/** Installs the global error handlers; call once at start. */
export function initErrorReports(): void {
  window.addEventListener('error', (ev) => {
    const where = ev.filename ? ` (${ev.filename.replace(location.origin, '')}:${ev.lineno}:${ev.colno})` : '';
    logToBackend('error', `uncaught: ${ev.message}${where}`);
  });
  window.addEventListener('unhandledrejection', (ev) => {
    const r: unknown = ev.reason;
    logToBackend('error', `unhandled rejection: ${r instanceof Error ? `${r.message}\n${r.stack ?? ''}` : String(r)}`);
  });
}
