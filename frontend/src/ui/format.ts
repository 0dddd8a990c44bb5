// Display formatting of DICOM values and transfer figures.

/** YYYYMMDD -> YYYY-MM-DD (other input is returned as is). */
export function dicomDate(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d;
}

/** HHMMSS[.frac] -> HH:MM[:SS]. */
export function dicomTime(t: string): string {
  const m = /^(\d{2})(\d{2})?(\d{2})?/.exec(t);
  if (!m) return t;
  return [m[1], m[2], m[3]].filter(Boolean).join(':');
}

/** YYYY-MM-DD (from <input type=date>) -> YYYYMMDD. */
export function toDicomDate(iso: string): string {
  return iso.replace(/-/g, '');
}

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '';
  s = Math.round(s);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (x: number) => String(x).padStart(2, '0');
  return hh > 0 ? `${hh}:${p(mm)}:${p(ss)}` : `${mm}:${p(ss)}`;
}

export function rate(n: number, unit: string): string {
  if (!Number.isFinite(n) || n <= 0) return '';
  return `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}`;
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}
