// `tw metrics`: the Prometheus text format, for node_exporter's textfile
// collector. --out replaces the file atomically (core/files.ts, replaceFile).
import { resolve } from 'node:path';
import { errnoText, TwError } from '../../core/errors.js';
import { replaceFile } from '../../core/files.js';
import { ACTIVE_STATES, TERMINAL_STATES } from '../../core/task.js';
import type { Metrics } from '../../store/store.js';
import { depsOf } from '../../launcher/deps.js';
import { observe } from '../../tasks/observe.js';
import type { Context } from '../context.js';

export async function metrics(opts: { out?: string }, _args: string[], ctx: Context): Promise<void> {
  const store = await ctx.openStore();
  // Lost tasks are noticed first, so that they count where they belong.
  observe(depsOf(store, ctx));
  const text = exposition(store.metrics());
  if (opts.out === undefined) {
    ctx.stdout.write(text);
    return;
  }
  const out = resolve(opts.out);
  try {
    replaceFile(out, text, 0o644);
  } catch (e) {
    throw new TwError(`cannot write ${out}: ${errnoText(e)}`);
  }
}

/** Label values escaped as the text format says: backslash, double quote, newline. */
const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const seconds = (ms: number): string => String(ms / 1000);

export function exposition(m: Metrics): string {
  const names = [...new Set([...m.active.map((a) => a.name), ...m.ends.map((e) => e.name), ...m.last.map((l) => l.name)])].sort();
  const out: string[] = [];
  const family = (metric: string, type: 'gauge' | 'counter', help: string, samples: string[]): void => {
    out.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} ${type}`, ...samples);
  };
  const count = (rows: { name: string; state: string; count: number }[]) => new Map(rows.map((r) => [`${r.name}\0${r.state}`, r.count]));
  const active = count(m.active);
  const ends = count(m.ends);
  // Every state of every name, zeros included: an alert can rely on the series being there.
  family('tw_tasks', 'gauge', 'Active tasks, by name and state.', names.flatMap((n) => ACTIVE_STATES.map((s) => `tw_tasks{name="${label(n)}",state="${s}"} ${active.get(`${n}\0${s}`) ?? 0}`)));
  family(
    'tw_task_ends_total',
    'counter',
    'Tasks ended since the store was made, by name and terminal state (never lowered by a prune).',
    names.flatMap((n) => TERMINAL_STATES.map((s) => `tw_task_ends_total{name="${label(n)}",state="${s}"} ${ends.get(`${n}\0${s}`) ?? 0}`)),
  );
  const last = m.last;
  family('tw_task_last_end_timestamp_seconds', 'gauge', 'When a task of the name last ended, in seconds since the epoch.', last.filter((l) => l.endedAt !== null).map((l) => `tw_task_last_end_timestamp_seconds{name="${label(l.name)}"} ${seconds(l.endedAt!)}`));
  family('tw_task_last_success_timestamp_seconds', 'gauge', 'When a task of the name last succeeded, in seconds since the epoch.', last.filter((l) => l.succeededAt !== null).map((l) => `tw_task_last_success_timestamp_seconds{name="${label(l.name)}"} ${seconds(l.succeededAt!)}`));
  family('tw_task_last_duration_seconds', 'gauge', 'How long the last ended task of the name ran.', last.filter((l) => l.durationMs !== null).map((l) => `tw_task_last_duration_seconds{name="${label(l.name)}"} ${seconds(l.durationMs!)}`));
  const retrying = new Map(m.retrying.map((r) => [r.name, r.count]));
  family('tw_tasks_retrying', 'gauge', 'Active tasks of the name past their first attempt.', names.map((n) => `tw_tasks_retrying{name="${label(n)}"} ${retrying.get(n) ?? 0}`));
  return `${out.join('\n')}\n`;
}
