/**
 * Number formatting for the dashboard: sizes, rates, percentages, durations and "time ago".
 * Units follow the ingest protocol: bytes, bytes per second, percent 0..100, milliseconds.
 * Binary prefixes (KiB, MiB…) for sizes and memory, as `free -h` and `df -h` show them.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** `0 B`, `512 B`, `1.5 KiB`, `12.3 GiB`, `980 MiB`: three significant digits at most. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  // 1023.6 KiB would print as "1024 KiB": step up instead.
  if (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${sign}${trim(value)} ${UNITS[unit]}`;
}

/** Bytes per second: `1.2 MiB/s`, `0 B/s`. */
export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/** A count per second, e.g. packets or I/O operations: `0/s`, `12/s`, `3.4k/s`. */
export function formatPerSec(perSec: number): string {
  return `${formatCount(perSec)}/s`;
}

/** `7`, `12.5`, `1.2k`, `3.4M`: compact counts. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${trim(n / 1e9)}G`;
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  return abs >= 100 || Number.isInteger(n) ? Math.round(n).toString() : trim(n);
}

/** `0 %`, `4.2 %`, `37 %`, `100 %`: one decimal below 10, whole numbers above. */
export function formatPct(pct: number): string {
  if (!Number.isFinite(pct)) return '–';
  return `${Math.abs(pct) < 10 && pct !== 0 ? pct.toFixed(1) : Math.round(pct).toString()} %`;
}

/** `3.4 ms`, `27 ms`, `1.2 s`. */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${trim(ms / 1000)} s`;
}

/** `2.4 GHz` from MHz, `800 MHz` below a gigahertz. */
export function formatMhz(mhz: number): string {
  return mhz >= 1000 ? `${(mhz / 1000).toFixed(2)} GHz` : `${Math.round(mhz)} MHz`;
}

/** Two largest units of a duration: `45 s`, `12 min`, `3 h 4 min`, `12 d 3 h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** `just now`, `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `never` without a time. */
export function formatAgo(at: string | number | Date | null | undefined, now: number = Date.now()): string {
  if (at === null || at === undefined) return 'never';
  const then = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
  if (!Number.isFinite(then)) return 'never';
  const age = now - then;
  if (age < 5_000) return 'just now';
  if (age < 60_000) return `${Math.floor(age / 1000)} s ago`;
  if (age < 3_600_000) return `${Math.floor(age / 60_000)} min ago`;
  if (age < 86_400_000) return `${Math.floor(age / 3_600_000)} h ago`;
  return `${Math.floor(age / 86_400_000)} d ago`;
}

/** `62.5 °C`. */
export function formatCelsius(c: number): string {
  return `${Math.round(c * 10) / 10} °C`;
}

/** `180 W`, `35.5 W`. */
export function formatWatts(w: number): string {
  return `${w >= 100 ? Math.round(w) : Math.round(w * 10) / 10} W`;
}

/** `used / total` as a percentage (0 when total is 0), clamped to 0..100. */
export function share(used: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, (used / total) * 100));
}

/** Three significant digits, no trailing zeros: 1.5, 12.3, 980. */
function trim(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return Number(value.toFixed(digits)).toString();
}
