// Sizes on the command line: `100M`, `512KiB`, `1G`, `4096`: binary multiples, as du and ls -h mean them.
import { usageError } from './errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isFinite(n) || !Number.isSafeInteger(Math.floor(n))) throw usageError(`bad ${what} '${text}': use bytes, or a size such as 512K, 100M or 2G`);
  return Math.floor(n);
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) if (bytes >= n) return `${(bytes / n).toFixed(bytes % n ? 1 : 0)} ${unit}`;
  return `${bytes} B`;
}
