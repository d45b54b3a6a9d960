// The queue's reads: who waits, how many of a name hold its slots, the states
// of the tasks others run after. The store reads them inside its transactions;
// the rules that decide on them are in src/tasks/queue.ts.
import type { State } from '../core/task.js';
import { WAITER_COLUMNS, waiterFromRow, type Values } from './rows.js';
import type { Sql } from './statements.js';
import type { Lineup } from './store.js';

/** A name's slots are taken by its running tasks and by those admitted but not started yet. */
// Written so that the (name, state) index finds the few active rows: an OR over the state alone made SQLite read every row of the name (245 ms with a million ended ones).
const OCCUPYING = `name = ? AND state IN ('running', 'reserved', 'waiting') AND (state = 'running' OR admitted_at IS NOT NULL)`;

/** The whole lineup (names null), or only one name's counts and the given tasks' states (a new launch's placement). */
export function lineupOf(sql: Sql, name: string | null, after: number[], now = Date.now()): Lineup {
  const waiting =
    name === null
      ? (sql(`SELECT ${WAITER_COLUMNS} FROM tasks INDEXED BY tasks_waiting WHERE state = 'waiting' ORDER BY waiting_since, id`).raw().all() as Values[]).map(waiterFromRow)
      : [];
  const inLine = new Map<string, number>();
  if (name === null) {
    for (const t of waiting) if (!t.queue.admitted && !(t.queue.retryAt !== null && t.queue.retryAt > now)) inLine.set(t.name, (inLine.get(t.name) ?? 0) + 1);
  } else {
    // A retry that is not yet due is not in line.
    const count = `SELECT count(*) FROM tasks WHERE name = ? AND state = 'waiting' AND admitted_at IS NULL AND (retry_at IS NULL OR retry_at <= ?)`;
    inLine.set(name, sql(count).pluck().get(name, now) as number);
  }
  const occupying = new Map<string, number>();
  for (const n of name === null ? new Set(waiting.map((t) => t.name)) : [name]) {
    occupying.set(n, sql(`SELECT count(*) FROM tasks WHERE ${OCCUPYING}`).pluck().get(n) as number);
  }
  const states = new Map<number, State>();
  for (const id of new Set([...after, ...waiting.flatMap((t) => t.queue.after)])) {
    const state = sql('SELECT state FROM tasks WHERE id = ?').pluck().get(id) as State | undefined;
    if (state) states.set(id, state);
  }
  return { waiting, inLine, occupying, after: states };
}

/** The first of `after` that is `id` or waits (through others) after it: running after it would wait forever. */
export function waitsOn(sql: Sql, after: number[], id: number): number | null {
  const seen = new Set<number>();
  for (const first of after) {
    const stack = [first];
    while (stack.length) {
      const dep = stack.pop()!;
      if (dep === id) return first;
      if (seen.has(dep)) continue;
      seen.add(dep);
      const text = sql(`SELECT after_ids FROM tasks WHERE id = ? AND state = 'waiting'`).pluck().get(dep) as string | null | undefined;
      if (text) stack.push(...(JSON.parse(text) as number[]));
    }
  }
  return null;
}
