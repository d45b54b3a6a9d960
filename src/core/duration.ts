import { usageError } from './errors.js';

const UNIT_MS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30`, `30s`, `1.5m`, `2h`, `7d` (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!match) throw usageError(`bad ${what} '${text}': use a number of seconds or 30s, 5m, 2h, 7d`);
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(ms)) throw usageError(`bad ${what} '${text}': too large`);
  return ms;
}

/** Formats milliseconds as `450ms`, `12s`, `2m13s`, `3h05m`, `2d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
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
