// The SQLite store: every write is one BEGIN IMMEDIATE transaction whose
// state changes are conditional updates, so racing processes never lose an
// update and a task ends exactly once.
import type Database from 'better-sqlite3';
import { TERMINAL_STATES, isTerminal, type Message, type ProcessRef, type State, type Task, type TaskEvent, type TerminalState } from '../core/task.js';
import { defaultFeedbackPath, defaultLogPath } from './location.js';
import { pragmaValue, statementsOf, type Sql } from './statements.js';
import { eventFromRow, messageFromRow, taskFromRow, type EventRow, type MessageRow, type TaskRow } from './rows.js';
import type { ClaimResult, End, EndResult, Heartbeat, LaunchPlan, NameStats, NewMessage, NewTask, PruneResult, PruneRule, ReserveResult, Store, TaskFilter } from './store.js';

const ACTIVE = `('reserved', 'running')`;
const PRUNE_BATCH = 2000;

export class SqliteStore implements Store {
  private readonly sql: Sql;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.sql = statementsOf(db);
  }

  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private row(id: number): Task | null {
    const row = this.sql('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row ? taskFromRow(row) : null;
  }

  private event(id: number, at: number, from: State | null, to: State, reason: string): void {
    this.sql(
      `INSERT INTO events (task_id, seq, at, from_state, to_state, reason)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE task_id = ?), ?, ?, ?, ?)`,
    ).run(id, id, at, from, to, reason);
  }

  private message(id: number, at: number, m: NewMessage): void {
    this.sql(
      `INSERT INTO messages (task_id, seq, at, type, text, stacktrace)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE task_id = ?), ?, ?, ?, ?)`,
    ).run(id, id, at, m.type, m.text, m.stacktrace ?? null);
  }

  private applyPlan(id: number, plan: LaunchPlan): void {
    const feedbackPath = plan.feedbackPath === 'auto' ? defaultFeedbackPath(this.path, id) : plan.feedbackPath;
    this.sql(
      `UPDATE tasks SET command = ?, cwd = ?, host = ?, launcher_pid = ?, launcher_start = ?, boot_id = ?,
         timeout_ms = ?, grace_ms = ?, log_path = ?, log_offset = ?, feedback_path = ? WHERE id = ?`,
    ).run(
      JSON.stringify(plan.command), plan.cwd, plan.host, plan.launcher.pid, plan.launcher.startTicks,
      plan.launcher.bootId, plan.timeoutMs, plan.graceMs, plan.logPath ?? defaultLogPath(this.path, id),
      plan.logOffset ?? null, feedbackPath, id,
    );
    if (plan.info && Object.keys(plan.info).length) this.sql('UPDATE tasks SET info = json_patch(info, ?) WHERE id = ?').run(JSON.stringify(plan.info), id);
    if (plan.start) this.start(id, plan.start.child, plan.start.at);
  }

  private start(id: number, child: ProcessRef, at: number): void {
    this.sql(`UPDATE tasks SET state = 'running', pid = ?, pid_start = ?, started_at = ?, heartbeat_at = ? WHERE id = ?`).run(
      child.pid, child.startTicks, at, at, id,
    );
    this.event(id, at, 'reserved', 'running', `started with pid ${child.pid}`);
    this.message(id, at, { type: 'notification', text: `started with pid ${child.pid}` });
  }

  reserve(task: NewTask, at: number): ReserveResult {
    return this.write(() => {
      if (task.unique) {
        const row = this.sql(`SELECT * FROM tasks WHERE name = ? AND state IN ${ACTIVE} ORDER BY id LIMIT 1`).get(task.name) as TaskRow | undefined;
        if (row) return { ok: false as const, conflict: taskFromRow(row) };
      }
      const holder = task.holder ?? null;
      const id = Number(
        this.sql(`INSERT INTO tasks (name, state, info, reserved_at, launcher_pid, launcher_start, boot_id) VALUES (?, 'reserved', ?, ?, ?, ?, ?)`)
          .run(task.name, JSON.stringify(task.info), at, holder?.pid ?? null, holder?.startTicks ?? null, holder?.bootId ?? null).lastInsertRowid,
      );
      this.event(id, at, null, 'reserved', task.launch ? 'launched' : 'reserved');
      if (task.launch) this.applyPlan(id, task.launch);
      return { ok: true as const, task: this.row(id)! };
    });
  }

  claim(id: number, plan: LaunchPlan, heldBy?: ProcessRef): ClaimResult {
    return this.write(() => {
      const task = this.row(id);
      const held = task?.launcher;
      if (!task || task.state !== 'reserved' || (held && !sameProcess(held, plan.launcher) && !(heldBy && sameProcess(held, heldBy)))) {
        return { ok: false as const, task };
      }
      this.applyPlan(id, plan);
      return { ok: true as const, task: this.row(id)! };
    });
  }

  handOver(id: number, from: ProcessRef | null, to: ProcessRef): boolean {
    const set = `UPDATE tasks SET launcher_pid = ?, launcher_start = ?, boot_id = ? WHERE id = ? AND state = 'reserved'`;
    return this.write(() =>
      from
        ? this.sql(`${set} AND launcher_pid = ? AND launcher_start = ?`).run(to.pid, to.startTicks, to.bootId, id, from.pid, from.startTicks).changes > 0
        : this.sql(`${set} AND launcher_pid IS NULL`).run(to.pid, to.startTicks, to.bootId, id).changes > 0,
    );
  }

  recordHeartbeat(id: number, beat: Heartbeat): void {
    this.write(() =>
      this.sql(
        `UPDATE tasks SET heartbeat_at = ?, progress = ?, feedback = ?, ignored_lines = ? WHERE id = ? AND state = 'running'`,
      ).run(beat.at, beat.progress && JSON.stringify(beat.progress), JSON.stringify(beat.feedback), beat.ignoredLines, id),
    );
  }

  recordEnd(id: number, end: End): EndResult {
    return this.write(() => {
      const before = this.row(id);
      if (!before || isTerminal(before.state)) return { recorded: false, task: before };
      this.sql(
        `UPDATE tasks SET state = ?, ended_at = ?, exit_code = ?, signal = ?,
           feedback = COALESCE(?, feedback), progress = COALESCE(?, progress), ignored_lines = COALESCE(?, ignored_lines),
           log_end = COALESCE(?, log_end)
         WHERE id = ? AND state IN ${ACTIVE}`,
      ).run(
        end.state, end.at, end.exitCode ?? null, end.signal ?? null,
        end.feedback ? JSON.stringify(end.feedback) : null, end.progress ? JSON.stringify(end.progress) : null,
        end.ignoredLines ?? null, end.logEnd ?? null, id,
      );
      this.event(id, end.at, before.state, end.state, end.reason);
      for (const m of end.messages ?? []) this.message(id, end.at, m);
      return { recorded: true, task: this.row(id)! };
    });
  }

  recordLogEnd(id: number, logEnd: number): void {
    this.write(() => this.sql('UPDATE tasks SET log_end = ? WHERE id = ?').run(logEnd, id));
  }

  requestCancel(id: number, at: number, message: NewMessage): Task | null {
    return this.write(() => {
      const changed = this.sql(
        `UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, ?) WHERE id = ? AND state = 'running'`,
      ).run(at, id).changes;
      if (changed) this.message(id, at, message);
      return this.row(id);
    });
  }

  addMessage(id: number, message: NewMessage, at: number): boolean {
    return this.write(() => {
      if (!this.sql('SELECT 1 FROM tasks WHERE id = ?').get(id)) return false;
      this.message(id, at, message);
      return true;
    });
  }

  get(id: number): Task | null {
    return this.row(id);
  }

  find(filter: TaskFilter): Task[] {
    const { where, params } = whereOf(filter);
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '';
    const rows = this.sql(`SELECT * FROM tasks ${where} ORDER BY id${limit}`).all(...params) as TaskRow[];
    return rows.map(taskFromRow);
  }

  history(filter: TaskFilter): Task[] {
    const { where, params } = whereOf({ ...filter, terminal: true });
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '';
    const rows = this.sql(`SELECT * FROM tasks ${where} ORDER BY ended_at DESC, id DESC${limit}`).all(...params) as TaskRow[];
    return rows.map(taskFromRow);
  }

  messages(id: number): Message[] {
    return (this.sql('SELECT at, type, text, stacktrace FROM messages WHERE task_id = ? ORDER BY seq').all(id) as MessageRow[]).map(messageFromRow);
  }

  events(id: number): TaskEvent[] {
    return (this.sql('SELECT at, from_state, to_state, reason FROM events WHERE task_id = ? ORDER BY seq').all(id) as EventRow[]).map(eventFromRow);
  }

  prune(rule: PruneRule, name?: string, beforeDelete: (files: { id: number; path: string }[]) => void = () => {}): PruneResult {
    const byName = name === undefined ? '' : 'AND name = ?';
    const nameParams = name === undefined ? [] : [name];
    const [select, selectParams] =
      'olderThan' in rule
        ? [this.sql(`SELECT id, log_path, feedback_path FROM tasks WHERE ended_at IS NOT NULL AND ended_at < ? ${byName} LIMIT ${PRUNE_BATCH}`), [rule.olderThan, ...nameParams]]
        : [this.sql(`SELECT id, log_path, feedback_path FROM tasks WHERE ended_at IS NOT NULL ${byName} ORDER BY ended_at DESC, id DESC LIMIT ${PRUNE_BATCH} OFFSET ?`), [...nameParams, Math.floor(rule.keep)]];
    const remove = this.sql(`DELETE FROM tasks WHERE id = ? AND ended_at IS NOT NULL`);
    const result: PruneResult = { deleted: 0 };
    // Small batches, each its own transaction, so launchers never wait long for the lock.
    type Doomed = { id: number; log_path: string | null; feedback_path: string | null };
    for (;;) {
      const doomed = select.all(...selectParams) as Doomed[];
      beforeDelete(doomed.flatMap((d) => [d.log_path, d.feedback_path].filter((f): f is string => f !== null).map((path) => ({ id: d.id, path }))));
      const batch = this.write(() => {
        for (const { id } of doomed) result.deleted += remove.run(id).changes;
        return doomed.length;
      });
      if (batch < PRUNE_BATCH) break;
    }
    if (result.deleted > 0) {
      // Give the freed pages back to the file system, then fold the WAL in and cut it back:
      // a saving only, which a full disk may refuse; the tasks are deleted either way.
      try {
        this.sql('PRAGMA incremental_vacuum').run();
        this.sql('PRAGMA wal_checkpoint(TRUNCATE)').run();
      } catch {
        // done again by the next prune
      }
    }
    return result;
  }

  stats(name: string | undefined, endedSince: number | undefined): NameStats[] {
    // Each query is answered by the (name, ended_at, started_at, state) index alone, without
    // the rows; it is named, since the planner may take (name, state) and read every row.
    const from = 'FROM tasks INDEXED BY tasks_name_stats WHERE ended_at IS NOT NULL AND name = ?';
    const since = endedSince === undefined ? '' : ' AND ended_at >= ?';
    const extra = endedSince === undefined ? [] : [endedSince];
    const names =
      name !== undefined
        ? [name]
        : (this.sql(`SELECT DISTINCT name FROM tasks INDEXED BY tasks_name_stats WHERE ended_at IS NOT NULL${since}`).pluck().all(...extra) as string[]);
    // Without --since, the (name, state) index counts each state by itself, in order, without a sort.
    const terminal = TERMINAL_STATES.map((t) => `'${t}'`).join(', ');
    const counts = this.sql(
      endedSince === undefined
        ? `SELECT state, count(*) FROM tasks INDEXED BY tasks_name_state WHERE name = ? AND state IN (${terminal}) GROUP BY state`
        : `SELECT state, count(*) ${from}${since} GROUP BY state`,
    ).raw();
    const durations = this.sql(`SELECT ended_at - started_at ${from}${since} AND started_at IS NOT NULL`).pluck();
    const failure = this.sql(`SELECT id, state, max(ended_at) ${from}${since} AND state != 'succeeded'`).raw();
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
      const failed = id === null ? null : this.row(id);
      const lastFailure = id === null ? null : { id, at, state, exitCode: failed?.exitCode ?? null, signal: failed?.signal ?? null };
      out.push({ name: n, runs, byState, durationsMs, lastFailure });
    }
    return out;
  }

  snapshot<T>(read: () => T): T {
    // A read transaction: in WAL mode it sees one commit's state and never waits for writers.
    return this.db.transaction(read).deferred();
  }

  changeCounter(): number {
    return pragmaValue(this.sql, 'data_version') as number;
  }

  close(): void {
    this.db.close();
  }
}

const sameProcess = (a: ProcessRef, b: ProcessRef): boolean => a.pid === b.pid && a.startTicks === b.startTicks && a.bootId === b.bootId;

function whereOf(f: TaskFilter & { terminal?: boolean }): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (f.terminal) clauses.push('ended_at IS NOT NULL');
  if (f.ids?.length) {
    clauses.push(`id IN (${f.ids.map(() => '?').join(', ')})`);
    params.push(...f.ids);
  }
  if (f.name !== undefined) {
    clauses.push('name = ?');
    params.push(f.name);
  }
  if (f.states?.length) {
    clauses.push(`state IN (${f.states.map(() => '?').join(', ')})`);
    params.push(...f.states);
  }
  if (f.endedSince !== undefined) {
    clauses.push('ended_at >= ?');
    params.push(f.endedSince);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

