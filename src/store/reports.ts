// The store's reports: reads over many tasks for tw stats, tw events and tw
// metrics. Each query is written for the index that answers it (named where
// the planner would choose worse); none writes.
import { TERMINAL_STATES, type MessageType, type State, type TerminalState } from '../core/task.js';
import type { Sql } from './statements.js';
import type { FeedEntry, FeedFilter, Metrics, NameStats } from './store.js';

export const ACTIVE = `('reserved', 'waiting', 'running')`;

/** Per name: runs, ends by state, durations, retries and the last failure (tw stats). */
export function statsOf(sql: Sql, name: string | undefined, endedSince: number | undefined): NameStats[] {
  // Each query is answered by the (name, ended_at, started_at, state) index alone, without
  // the rows; it is named, since the planner may take (name, state) and read every row.
  const from = 'FROM tasks INDEXED BY tasks_name_stats WHERE ended_at IS NOT NULL AND name = ?';
  const since = endedSince === undefined ? '' : ' AND ended_at >= ?';
  const extra = endedSince === undefined ? [] : [endedSince];
  const names =
    name !== undefined
      ? [name]
      : (sql(`SELECT DISTINCT name FROM tasks INDEXED BY tasks_name_stats WHERE ended_at IS NOT NULL${since}`).pluck().all(...extra) as string[]);
  // Without --since, the (name, state) index counts each state by itself, in order, without a sort.
  const terminal = TERMINAL_STATES.map((t) => `'${t}'`).join(', ');
  const counts = sql(
    endedSince === undefined
      ? `SELECT state, count(*) FROM tasks INDEXED BY tasks_name_state WHERE name = ? AND state IN (${terminal}) GROUP BY state`
      : `SELECT state, count(*) ${from}${since} GROUP BY state`,
  ).raw();
  const durations = sql(`SELECT ended_at - started_at ${from}${since} AND started_at IS NOT NULL`).pluck();
  const failure = sql(`SELECT id, state, max(ended_at) ${from}${since} AND state != 'succeeded'`).raw();
  const out: NameStats[] = [];
  for (const n of names) {
    const byState = Object.fromEntries(TERMINAL_STATES.map((t) => [t, 0])) as Record<TerminalState, number>;
    let runs = 0;
    for (const [state, count] of counts.all(n, ...extra) as [TerminalState, number][]) {
      byState[state] = count;
      runs += count;
    }
    if (!runs) continue;
    // A typed array sorts numbers natively, many times faster than an array with a comparator.
    const durationsMs = Float64Array.from(durations.all(n, ...extra) as number[]).sort();
    const [id, state, at] = failure.get(n, ...extra) as [number | null, TerminalState, number];
    const [exitCode, signal] = id === null ? [null, null] : ((sql('SELECT exit_code, signal FROM tasks WHERE id = ?').raw().get(id) as [number | null, string | null] | undefined) ?? [null, null]);
    const lastFailure = id === null ? null : { id, at, state, exitCode, signal };
    // Only retried tasks are read, by an index of their own: the rest of a long history is not.
    const retries = sql(`SELECT COALESCE(sum(attempt - 1), 0) FROM tasks INDEXED BY tasks_retried WHERE name = ? AND attempt > 1 AND ended_at IS NOT NULL${since}`).pluck().get(n, ...extra) as number;
    out.push({ name: n, runs, retries, byState, durationsMs, lastFailure });
  }
  return out;
}

/** Events and messages in store-wide sequence order (tw events). */
export function feedOf(sql: Sql, filter: FeedFilter): FeedEntry[] {
  const clauses = ['x.gseq > ?'];
  const params: unknown[] = [filter.after ?? 0];
  if (filter.since !== undefined) {
    clauses.push('x.at >= ?');
    params.push(filter.since);
  }
  if (filter.name !== undefined) {
    clauses.push('t.name = ?');
    params.push(filter.name);
  }
  if (filter.ids?.length) {
    clauses.push(`x.task_id IN (${filter.ids.map(() => '?').join(', ')})`);
    params.push(...filter.ids);
  }
  const where = clauses.join(' AND ');
  const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '';
  // CROSS JOIN keeps the sequence index the outer loop: with --name, SQLite would otherwise walk
  // every task of the name first (130 ms a poll with a million of them).
  type Row = { gseq: number; at: number; task_id: number; name: string; host: string | null; kind: 'state' | 'message'; from_state: string | null; to_state: string | null; reason: string | null; type: string | null; text: string | null };
  const rows = sql(
    `SELECT * FROM (
       SELECT x.gseq, x.at, x.task_id, t.name, t.host, 'state' AS kind, x.from_state, x.to_state, x.reason, NULL AS type, NULL AS text
         FROM events x CROSS JOIN tasks t ON t.id = x.task_id WHERE ${where}
       UNION ALL
       SELECT x.gseq, x.at, x.task_id, t.name, t.host, 'message', NULL, NULL, NULL, x.type, x.text
         FROM messages x CROSS JOIN tasks t ON t.id = x.task_id WHERE ${where}
     ) ORDER BY gseq${limit}`,
  ).all(...params, ...params) as Row[];
  return rows.map((r) => ({
    seq: r.gseq, at: r.at, taskId: r.task_id, name: r.name, host: r.host, kind: r.kind,
    from: r.from_state as State | null, to: r.to_state as State | null, reason: r.reason, type: r.type as MessageType | null, text: r.text,
  }));
}

/** What tw metrics prints; read inside one snapshot by the caller. */
export function metricsOf(sql: Sql): Metrics {
  return {
    active: sql(`SELECT name, state, count(*) AS count FROM tasks WHERE state IN ${ACTIVE} GROUP BY name, state`).all() as Metrics['active'],
    ends: sql('SELECT name, state, count FROM ends_total ORDER BY name, state').all() as Metrics['ends'],
    last: (sql('SELECT name, ended_at, succeeded_at, duration_ms FROM name_last ORDER BY name').all() as { name: string; ended_at: number | null; succeeded_at: number | null; duration_ms: number | null }[]).map(
      (r) => ({ name: r.name, endedAt: r.ended_at, succeededAt: r.succeeded_at, durationMs: r.duration_ms }),
    ),
    retrying: sql(`SELECT name, count(*) AS count FROM tasks WHERE state IN ${ACTIVE} AND attempt > 1 GROUP BY name`).all() as Metrics['retrying'],
  };
}
