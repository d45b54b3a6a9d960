import { usageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `30` (a bare number is seconds), `1.5`, `30s`, `5m`, `2h`, `7d`,
 * `500ms` and combinations such as `1h30m` or `2m30s` into milliseconds.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const bad = () => usageError(`bad ${what} '${text}': use seconds (30, 1.5) or 30s, 5m, 2h, 7d, 500ms, 1h30m`);
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return checked(Math.round(Number(trimmed) * 1000), text, what);
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(trimmed)) throw bad();
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  return checked(Math.round(ms), text, what);
}

function checked(ms: number, text: string, what: string): number {
  if (!Number.isSafeInteger(ms)) throw usageError(`bad ${what} '${text}': too large`);
  return ms;
}

/** Formats milliseconds as `450ms`, `12s`, `1.5s`, `2m13s`, `3h05m`, `2d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  // Under a minute, tenths are shown when there are any: a timeout of 1.5 s is not 1s.
  if (s < 60) return ms % 1000 >= 100 && s < 10 ? `${(Math.floor(ms / 100) / 10).toFixed(1)}s` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026/11/22 20:51:07 UTC`, the contract's human form of an instant. */
export function formatInstant(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  );
}
