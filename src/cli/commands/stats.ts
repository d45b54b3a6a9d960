import { parseDuration } from '../../core/duration.js';
import { observe } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import type { NameStats } from '../../store/store.js';
import type { Context } from '../context.js';
import { duration, instant, renderTable } from '../format.js';

/** The value at quantile q of sorted numbers (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The median of sorted numbers: the middle one, or the mean of the two middle ones for an even count. */
export function median(sorted: ArrayLike<number>): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return n % 2 ? sorted[(n - 1) / 2]! : Math.round((sorted[n / 2 - 1]! + sorted[n / 2]!) / 2);
}

function summarise(s: NameStats) {
  const sorted = s.durationsMs;
  const { succeeded, failed, timed_out: timedOut, cancelled, lost } = s.byState;
  return {
    name: s.name,
    runs: s.runs,
    retries: s.retries,
    succeeded,
    failed,
    timedOut,
    cancelled,
    lost,
    medianMs: median(sorted),
    p95Ms: quantile(sorted, 0.95),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : null,
    lastFailure: s.lastFailure && { ...s.lastFailure, at: new Date(s.lastFailure.at).toISOString() },
  };
}

export async function stats(opts: { name?: string; since?: string; json?: boolean }, _args: string[], ctx: Context): Promise<void> {
  const since = opts.since === undefined ? undefined : ctx.now() - parseDuration(opts.since, '--since');
  const store = await ctx.openStore();
  observe(depsOf(store, ctx));
  const rows = store.stats(opts.name, since).map(summarise);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  if (rows.length === 0) {
    ctx.stderr.write('no history\n');
    return;
  }
  const table = rows.map((r) => [
    r.name,
    String(r.runs),
    String(r.retries),
    ...[r.succeeded, r.failed, r.timedOut, r.cancelled, r.lost].map(String),
    duration(r.medianMs),
    duration(r.p95Ms),
    duration(r.maxMs),
    r.lastFailure ? `#${r.lastFailure.id} ${r.lastFailure.state} ${instant(Date.parse(r.lastFailure.at))}` : '-',
  ]);
  ctx.stdout.write(renderTable(['NAME', 'RUNS', 'RETRIES', 'OK', 'FAILED', 'TIMED OUT', 'CANCELLED', 'LOST', 'MEDIAN', 'P95', 'MAX', 'LAST FAILURE'], table));
}
