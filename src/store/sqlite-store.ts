// The SQLite store: every write is one BEGIN IMMEDIATE transaction whose
// state changes are conditional updates, so racing processes never lose an
// update and a task ends exactly once.
import type Database from 'better-sqlite3';
import { storeError } from '../core/errors.js';
import { isTerminal, sameProcess, type LaunchedTask, type Message, type ProcessRef, type State, type Task, type TaskEvent, type TaskType } from '../core/task.js';
import { defaultFeedbackPath, defaultLogPath, timesPath } from './location.js';
import { pragmaValue, statementsOf, type Sql } from './statements.js';
import { ACTIVE, feedOf, metricsOf, statsOf } from './reports.js';
import { lineupOf, waitsOn } from './lineup.js';
import { eventFromRow, messageFromRow, TASK_COLUMNS, taskFromRow, typeFromRow, typeToRow, type EventRow, type MessageRow, type TypeRow, type Values } from './rows.js';
import type { Admissions, Attempt, ClaimResult, End, EndResult, FeedEntry, FeedFilter, Heartbeat, Metrics, Retry, LaunchPlan, Lineup, NameStats, NewMessage, NewTask, Placement, PruneResult, PruneRule, ReserveResult, Store, TaskFilter } from './store.js';

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
    const row = this.tasks('WHERE id = ?').get(id) as Values | undefined;
    return row ? taskFromRow(row) : null;
  }

  /** Tasks, as raw rows of TASK_COLUMNS (see rows.ts): `rest` is the query after FROM. */
  private tasks(rest: string) {
    return this.sql(`SELECT ${TASK_COLUMNS} FROM tasks ${rest}`).raw();
  }

  /** A row this transaction has just written. */
  private written(id: number): Task {
    const task = this.row(id);
    if (!task) throw storeError(`task ${id} is missing from ${this.path} right after it was written`);
    return task;
  }

  /** The next store-wide sequence number: bumped inside the write transaction, so in commit order, and never reused. */
  private nextSeq(): number {
    return this.sql(`UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value`).pluck().get() as number;
  }

  private event(id: number, at: number, from: State | null, to: State, reason: string): void {
    this.sql(
      `INSERT INTO events (task_id, seq, at, from_state, to_state, reason, gseq)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE task_id = ?), ?, ?, ?, ?, ?)`,
    ).run(id, id, at, from, to, reason, this.nextSeq());
  }

  private message(id: number, at: number, m: NewMessage): void {
    this.sql(
      `INSERT INTO messages (task_id, seq, at, type, text, stacktrace, gseq)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE task_id = ?), ?, ?, ?, ?, ?)`,
    ).run(id, id, at, m.type, m.text, m.stacktrace ?? null, this.nextSeq());
    if (m.type === 'result') this.sql('UPDATE tasks SET result = ? WHERE id = ?').run(m.text, id);
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
    if (plan.logMax !== undefined) this.sql('UPDATE tasks SET log_max = ? WHERE id = ?').run(plan.logMax, id);
    if (plan.pingUrl || plan.onEnd) this.sql('UPDATE tasks SET ping_url = ?, on_end = ? WHERE id = ?').run(plan.pingUrl ?? null, plan.onEnd ?? null, id);
    if (plan.maxAttempts !== undefined) {
      this.sql('UPDATE tasks SET max_attempts = ?, retry_delay_ms = ? WHERE id = ?').run(plan.maxAttempts, plan.retryDelayMs ?? null, id);
    }
    const q = plan.queue;
    if (q) {
      this.sql('UPDATE tasks SET queued = ?, max_running = ?, after_ids = ? WHERE id = ?').run(q.env ? 2 : 1, q.maxRunning, q.after.length ? JSON.stringify(q.after) : null, id);
      if (q.env) this.sql('INSERT OR REPLACE INTO start_env (task_id, env) VALUES (?, ?)').run(id, JSON.stringify(q.env));
    }
  }

  /** Where a task with its plan goes: running (or admitted, for a starter to start), waiting in line, or ended unrun. */
  private place(id: number, plan: LaunchPlan, placement: Placement, at: number): void {
    if (placement.go === 'start') {
      if (plan.start) this.start(id, 'reserved', plan.start.child, plan.start.at);
      else if (plan.queue) this.sql('UPDATE tasks SET admitted_at = ? WHERE id = ?').run(at, id);
    } else if (placement.go === 'wait') {
      // A detached task is nobody's until it wins a slot; a foreground one stays its launcher's.
      const holder = plan.queue?.env ? 'launcher_pid = NULL, launcher_start = NULL,' : '';
      this.sql(`UPDATE tasks SET state = 'waiting', ${holder} waiting_since = ? WHERE id = ?`).run(at, id);
      this.event(id, at, 'reserved', 'waiting', placement.why);
    } else if (placement.go === 'end') {
      this.end(id, 'reserved', { state: placement.state, at, reason: placement.why, messages: [{ type: placement.state === 'lost' ? 'error' : 'notification', text: placement.why }] });
    }
  }

  private placementOf(name: string, plan: LaunchPlan | undefined): Placement {
    return plan?.queue ? plan.queue.decide(name, lineupOf(this.sql, name, plan.queue.after)) : { go: 'start' };
  }

  private start(id: number, from: State, child: ProcessRef, at: number): void {
    this.sql(`UPDATE tasks SET state = 'running', pid = ?, pid_start = ?, started_at = ?, heartbeat_at = ?, admitted_at = NULL WHERE id = ?`).run(
      child.pid, child.startTicks, at, at, id,
    );
    this.sql('DELETE FROM start_env WHERE task_id = ?').run(id);
    this.sql(
      `INSERT OR REPLACE INTO attempts (task_id, attempt, started_at, log_start)
       SELECT id, attempt, ?, COALESCE((SELECT log_end FROM attempts a WHERE a.task_id = tasks.id AND a.attempt = tasks.attempt - 1), log_offset, 0) FROM tasks WHERE id = ?`,
    ).run(at, id);
    this.event(id, at, from, 'running', `started with pid ${child.pid}`);
    this.message(id, at, { type: 'notification', text: `started with pid ${child.pid}` });
  }

  reserve(task: NewTask, at: number): ReserveResult {
    return this.write(() => {
      if (task.unique) {
        const row = this.tasks(`WHERE name = ? AND state IN ${ACTIVE} ORDER BY id LIMIT 1`).get(task.name) as Values | undefined;
        if (row) return { ok: false as const, conflict: taskFromRow(row) };
      }
      const placement = this.placementOf(task.name, task.launch);
      if (placement.go === 'refuse') return { ok: false as const, placement };
      const holder = task.holder ?? null;
      const id = Number(
        this.sql(`INSERT INTO tasks (name, state, info, reserved_at, launcher_pid, launcher_start, boot_id) VALUES (?, 'reserved', ?, ?, ?, ?, ?)`)
          .run(task.name, JSON.stringify(task.info), at, holder?.pid ?? null, holder?.startTicks ?? null, holder?.bootId ?? null).lastInsertRowid,
      );
      this.event(id, at, null, 'reserved', `${task.launch ? 'launched' : 'reserved'}${task.rerunOf ? `: a rerun of task ${task.rerunOf}` : ''}`);
      if (task.launch) {
        this.applyPlan(id, task.launch);
        this.place(id, task.launch, placement, at);
      }
      return { ok: true as const, task: this.written(id) };
    });
  }

  claim(id: number, plan: LaunchPlan, at: number, heldBy?: ProcessRef): ClaimResult {
    return this.write(() => {
      const task = this.row(id);
      const held = task?.launcher;
      if (!task || task.state !== 'reserved' || task.command || (held && !sameProcess(held, plan.launcher) && !(heldBy && sameProcess(held, heldBy)))) {
        return { ok: false as const, task };
      }
      const cycle = plan.queue && waitsOn(this.sql, plan.queue.after, id);
      if (cycle) return { ok: false as const, placement: { go: 'refuse' as const, why: 'cycle' as const, id: cycle } };
      const placement = this.placementOf(task.name, plan);
      if (placement.go === 'refuse') return { ok: false as const, placement };
      this.applyPlan(id, plan);
      this.place(id, plan, placement, at);
      return { ok: true as const, task: this.written(id) as LaunchedTask };
    });
  }

  handOver(id: number, from: ProcessRef | null, to: ProcessRef): boolean {
    const set = `UPDATE tasks SET launcher_pid = ?, launcher_start = ?, boot_id = ? WHERE id = ? AND state IN ('reserved', 'waiting')`;
    return this.write(() =>
      from
        ? this.sql(`${set} AND launcher_pid = ? AND launcher_start = ?`).run(to.pid, to.startTicks, to.bootId, id, from.pid, from.startTicks).changes > 0
        : this.sql(`${set} AND launcher_pid IS NULL`).run(to.pid, to.startTicks, to.bootId, id).changes > 0,
    );
  }

  admit(starter: ProcessRef, at: number, decide: (lineup: Lineup) => Admissions): { admitted: LaunchedTask[]; lineup: Lineup | null } {
    // Decided on a read first: most calls (any tw list while tasks wait) find nothing to do and take no write lock.
    const seen = this.lineup();
    const first = decide(seen);
    if (first.admit.length === 0 && first.end.length === 0) return { admitted: [], lineup: seen };
    return this.write(() => {
      const verdict = decide(lineupOf(this.sql, null, []));
      const admitted: LaunchedTask[] = [];
      for (const id of verdict.admit) {
        const changed = this.sql(
          `UPDATE tasks SET admitted_at = ?, launcher_pid = ?, launcher_start = ?, boot_id = ? WHERE id = ? AND state = 'waiting' AND admitted_at IS NULL`,
        ).run(at, starter.pid, starter.startTicks, starter.bootId, id).changes;
        if (changed) admitted.push(this.written(id) as LaunchedTask);
      }
      for (const e of verdict.end) {
        const before = this.row(e.id);
        if (before?.state === 'waiting') this.end(e.id, 'waiting', { state: e.state, at, reason: e.why, messages: [{ type: e.state === 'lost' ? 'error' : 'notification', text: e.why }] });
      }
      return { admitted, lineup: null };
    });
  }

  startAdmitted(id: number, start: { launcher: ProcessRef; child: ProcessRef; at: number; logOffset?: number }, heldBy?: ProcessRef): LaunchedTask | null {
    return this.write(() => {
      const task = this.row(id);
      if (!task || (task.state !== 'waiting' && task.state !== 'reserved') || !task.queue?.admitted || !task.launcher) return null;
      if (!sameProcess(task.launcher, start.launcher) && !(heldBy && sameProcess(task.launcher, heldBy))) return null;
      // The task's output starts where its first attempt's does; a later one's start is its attempt's (see start).
      this.sql('UPDATE tasks SET launcher_pid = ?, launcher_start = ?, boot_id = ?, log_offset = CASE attempt WHEN 1 THEN COALESCE(?, log_offset) ELSE log_offset END WHERE id = ?').run(
        start.launcher.pid, start.launcher.startTicks, start.launcher.bootId, start.logOffset ?? null, id,
      );
      this.start(id, task.state, start.child, start.at);
      return this.written(id) as LaunchedTask;
    });
  }

  requeue(id: number, starter: ProcessRef, at: number): void {
    this.write(() => {
      const task = this.row(id);
      if (!task || (task.state !== 'waiting' && task.state !== 'reserved') || !task.queue?.admitted || !task.launcher || !sameProcess(task.launcher, starter)) return;
      this.sql(
        `UPDATE tasks SET state = 'waiting', admitted_at = NULL, launcher_pid = NULL, launcher_start = NULL, waiting_since = COALESCE(waiting_since, reserved_at) WHERE id = ?`,
      ).run(id);
      if (task.state === 'reserved') this.event(id, at, 'reserved', 'waiting', `its starter (pid ${starter.pid}) died before starting it; back in line`);
    });
  }

  lineup(): Lineup {
    return this.snapshot(() => lineupOf(this.sql, null, []));
  }

  startEnv(id: number): NodeJS.ProcessEnv | null {
    const text = this.sql('SELECT env FROM start_env WHERE task_id = ?').pluck().get(id) as string | undefined;
    return text ? (JSON.parse(text) as NodeJS.ProcessEnv) : null;
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
      this.end(id, before.state, end);
      return { recorded: true, task: this.written(id) };
    });
  }

  private end(id: number, from: State, end: End): void {
    this.sql(
      `UPDATE tasks SET state = ?, ended_at = ?, exit_code = ?, signal = ?,
         feedback = COALESCE(?, feedback), progress = COALESCE(?, progress), ignored_lines = COALESCE(?, ignored_lines),
         log_end = COALESCE(?, log_end), admitted_at = NULL,
         -- Ended while a retry waited: the attempt it waited to make never ran; the last that did is the task's.
         attempt = CASE WHEN state = 'waiting' THEN COALESCE((SELECT max(a.attempt) FROM attempts a WHERE a.task_id = tasks.id), attempt) ELSE attempt END
       WHERE id = ? AND state IN ${ACTIVE}`,
    ).run(
      end.state, end.at, end.exitCode ?? null, end.signal ?? null,
      end.feedback ? JSON.stringify(end.feedback) : null, end.progress ? JSON.stringify(end.progress) : null,
      end.ignoredLines ?? null, end.logEnd ?? null, id,
    );
    this.sql('DELETE FROM start_env WHERE task_id = ?').run(id);
    this.endAttempt(id, end.at, end.exitCode ?? null, end.signal ?? null);
    // Counted where no prune reaches: metrics' counters never go down.
    this.sql(
      `INSERT INTO ends_total (name, state, count) SELECT name, ?, 1 FROM tasks WHERE id = ?
       ON CONFLICT (name, state) DO UPDATE SET count = count + 1`,
    ).run(end.state, id);
    this.sql(
      `INSERT INTO name_last (name, ended_at, succeeded_at, duration_ms)
         SELECT name, @at, CASE WHEN @state = 'succeeded' THEN @at END, @at - started_at FROM tasks WHERE id = @id
       ON CONFLICT (name) DO UPDATE SET ended_at = excluded.ended_at, succeeded_at = COALESCE(excluded.succeeded_at, succeeded_at),
         duration_ms = excluded.duration_ms`,
    ).run({ at: end.at, state: end.state, id });
    this.event(id, end.at, from, end.state, end.reason);
    for (const m of end.messages ?? []) this.message(id, end.at, m);
  }

  private endAttempt(id: number, at: number, exitCode: number | null, signal: string | null): void {
    this.sql(
      `UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?
       WHERE task_id = ? AND attempt = (SELECT attempt FROM tasks WHERE id = ?) AND ended_at IS NULL`,
    ).run(at, exitCode, signal, id, id);
  }

  recordRetry(id: number, retry: Retry): EndResult {
    return this.write(() => {
      const before = this.row(id);
      if (!before || before.state !== 'running') return { recorded: false, task: before };
      this.endAttempt(id, retry.at, retry.exitCode, retry.signal);
      // It waits in line from its retry time on, held by its launcher (queued 1: no one else starts it); the next attempt is admitted like any queued task.
      this.sql(
        `UPDATE tasks SET state = 'waiting', attempt = attempt + 1, retry_at = ?, waiting_since = ?, queued = 1,
           pid = NULL, pid_start = NULL, exit_code = ?, signal = ?, cancel_requested_at = NULL WHERE id = ?`,
      ).run(retry.retryAt, retry.retryAt, retry.exitCode, retry.signal, id);
      this.event(id, retry.at, 'running', 'waiting', retry.reason);
      for (const m of retry.messages) this.message(id, retry.at, m);
      return { recorded: true, task: this.written(id) };
    });
  }

  recordLogEnd(id: number, logEnd: number): void {
    this.write(() => {
      this.sql('UPDATE attempts SET log_end = ? WHERE task_id = ? AND attempt = (SELECT attempt FROM tasks WHERE id = ?) - (SELECT state = \'waiting\' FROM tasks WHERE id = ?)').run(logEnd, id, id, id);
      this.sql(`UPDATE tasks SET log_end = ? WHERE id = ? AND ended_at IS NOT NULL`).run(logEnd, id);
    });
  }

  attempts(id: number): Attempt[] {
    type Row = { attempt: number; started_at: number; ended_at: number | null; exit_code: number | null; signal: string | null; log_start: number; log_end: number | null };
    return (this.sql('SELECT * FROM attempts WHERE task_id = ? ORDER BY attempt').all(id) as Row[]).map((r) => ({
      attempt: r.attempt,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      exitCode: r.exit_code,
      signal: r.signal,
      logStart: r.log_start,
      logEnd: r.log_end,
    }));
  }

  /** The files that go with a deleted task: its log, its feedback file, its arrival times. */
  private filesOf(id: number, logPath: string | null, feedbackPath: string | null): { id: number; path: string }[] {
    return [logPath, feedbackPath, timesPath(this.path, id)].filter((f): f is string => f !== null).map((path) => ({ id, path }));
  }

  deleteEnded(id: number, beforeDelete: (files: { id: number; path: string }[]) => void): 'deleted' | 'active' | 'unknown' {
    const task = this.row(id);
    if (!task) return 'unknown';
    if (!isTerminal(task.state)) return 'active';
    beforeDelete(this.filesOf(id, task.logPath, task.feedbackPath));
    return this.write(() => (this.sql('DELETE FROM tasks WHERE id = ? AND ended_at IS NOT NULL').run(id).changes ? 'deleted' : this.row(id) ? 'active' : 'unknown'));
  }

  setType(type: TaskType): void {
    const row = typeToRow(type);
    const columns = Object.keys(row);
    this.write(() =>
      this.sql(`INSERT OR REPLACE INTO types (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row),
    );
  }

  type(name: string): TaskType | null {
    const row = this.sql('SELECT * FROM types WHERE name = ?').get(name) as TypeRow | undefined;
    return row ? typeFromRow(row) : null;
  }

  types(): TaskType[] {
    return (this.sql('SELECT * FROM types ORDER BY name').all() as TypeRow[]).map(typeFromRow);
  }

  removeType(name: string): boolean {
    return this.write(() => this.sql('DELETE FROM types WHERE name = ?').run(name).changes > 0);
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
    const rows = this.tasks(`${where} ORDER BY id${limit}`).all(...params) as Values[];
    return rows.map(taskFromRow);
  }

  history(filter: TaskFilter): Task[] {
    const { where, params } = whereOf({ ...filter, terminal: true });
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '';
    const rows = this.tasks(`${where} ORDER BY ended_at DESC, id DESC${limit}`).all(...params) as Values[];
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
      beforeDelete(doomed.flatMap((d) => this.filesOf(d.id, d.log_path, d.feedback_path)));
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
    return statsOf(this.sql, name, endedSince);
  }

  feed(filter: FeedFilter): FeedEntry[] {
    return feedOf(this.sql, filter);
  }

  metrics(): Metrics {
    return this.snapshot(() => metricsOf(this.sql));
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

function whereOf(f: TaskFilter & { terminal?: boolean }): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (f.terminal) clauses.push('ended_at IS NOT NULL');
  if (f.held) clauses.push('launcher_pid IS NOT NULL');
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

