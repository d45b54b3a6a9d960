// Rows to domain types: one function per table, the only place that knows the columns.
import type { Message, MessageType, ProcessRef, Progress, Queue, State, Task, TaskEvent, TaskType, Waiter } from '../core/task.js';

/** The tasks table's columns and their SQLite types. */
interface TaskRow {
  id: number;
  name: string;
  state: string;
  info: string;
  command: string | null;
  cwd: string | null;
  host: string | null;
  pid: number | null;
  pid_start: number | null;
  launcher_pid: number | null;
  launcher_start: number | null;
  boot_id: string | null;
  reserved_at: number;
  started_at: number | null;
  ended_at: number | null;
  heartbeat_at: number | null;
  exit_code: number | null;
  signal: string | null;
  timeout_ms: number | null;
  grace_ms: number | null;
  progress: string | null;
  feedback: string | null;
  ignored_lines: number;
  log_path: string | null;
  log_offset: number | null;
  log_end: number | null;
  feedback_path: string | null;
  cancel_requested_at: number | null;
  max_running: number | null;
  after_ids: string | null;
  waiting_since: number | null;
  admitted_at: number | null;
  /** 0: not queued; 1: queued, its own launcher starts it; 2: detached, anyone may start it. */
  queued: number;
  attempt: number;
  max_attempts: number;
  retry_delay_ms: number | null;
  retry_at: number | null;
  result: string | null;
  ping_url: string | null;
  on_end: string | null;
  log_max: number | null;
}

/**
 * Tasks are read as arrays of these columns' values (better-sqlite3's raw mode): making an
 * object of 35 keys per row in the addon cost 27 ms for 1,000 tasks, the arrays 10 ms.
 */
const TASK_COLUMN_NAMES = [
  'id', 'name', 'state', 'info', 'command', 'cwd', 'host', 'pid', 'pid_start', 'launcher_pid', 'launcher_start', 'boot_id',
  'reserved_at', 'started_at', 'ended_at', 'heartbeat_at', 'exit_code', 'signal', 'timeout_ms', 'grace_ms', 'progress', 'feedback',
  'ignored_lines', 'log_path', 'log_offset', 'log_end', 'feedback_path', 'cancel_requested_at', 'max_running', 'after_ids',
  'waiting_since', 'admitted_at', 'queued', 'attempt', 'max_attempts', 'retry_delay_ms', 'retry_at', 'result', 'ping_url', 'on_end', 'log_max',
] as const satisfies readonly (keyof TaskRow)[];
export const TASK_COLUMNS = TASK_COLUMN_NAMES.join(', ');
/** What the queue's rules read of a waiting task: the first columns, then its queue's. */
export const WAITER_COLUMNS = 'id, name, launcher_pid, launcher_start, boot_id, max_running, after_ids, waiting_since, admitted_at, queued, retry_at';
const WAITER_COLUMN_NAMES = WAITER_COLUMNS.split(', ') as (keyof TaskRow)[];
/** A row in raw mode: the values of TASK_COLUMNS (or WAITER_COLUMNS), in order. */
export type Values = unknown[];

const positions = (names: readonly (keyof TaskRow)[]) => Object.fromEntries(names.map((c, i) => [c, i])) as Record<keyof TaskRow, number>;
const TASK_AT = positions(TASK_COLUMN_NAMES);
const WAITER_AT = positions(WAITER_COLUMN_NAMES);
const reader = (at: Record<keyof TaskRow, number>, v: Values) => <K extends keyof TaskRow>(k: K): TaskRow[K] => v[at[k]] as TaskRow[K];
type Read = ReturnType<typeof reader>;

const queueOf = (r: Read): Queue => ({
  maxRunning: r('max_running'),
  after: json<number[]>(r('after_ids')) ?? [],
  waitingSince: r('waiting_since'),
  detached: r('queued') === 2,
  admitted: r('admitted_at') !== null,
  retryAt: r('retry_at'),
});

export function waiterFromRow(v: Values): Waiter {
  const r = reader(WAITER_AT, v);
  return { id: r('id'), name: r('name'), launcher: refFromRow(r('launcher_pid'), r('launcher_start'), r('boot_id')), queue: queueOf(r) };
}

const json = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function refFromRow(pid: number | null, start: number | null, bootId: string | null): ProcessRef | null {
  return pid === null || start === null || bootId === null ? null : { pid, startTicks: start, bootId };
}

/** The store's conditional updates keep each state's fields filled (core/task.ts): trusted here, the one place rows become tasks. */
export function taskFromRow(v: Values): Task {
  const r = reader(TASK_AT, v);
  return {
    id: r('id'),
    name: r('name'),
    info: json<Record<string, string>>(r('info')) ?? {},
    state: r('state') as State,
    command: json<string[]>(r('command')),
    cwd: r('cwd'),
    host: r('host'),
    pid: r('pid'),
    child: refFromRow(r('pid'), r('pid_start'), r('boot_id')),
    launcher: refFromRow(r('launcher_pid'), r('launcher_start'), r('boot_id')),
    reservedAt: r('reserved_at'),
    startedAt: r('started_at'),
    endedAt: r('ended_at'),
    // Only a feedback file beats; the column holds the timeout's start otherwise.
    lastHeartbeatAt: r('feedback_path') === null ? null : r('heartbeat_at'),
    exitCode: r('exit_code'),
    signal: r('signal'),
    timeoutMs: r('timeout_ms'),
    graceMs: r('grace_ms'),
    progress: json<Progress>(r('progress')),
    feedback: json<Record<string, string>>(r('feedback')),
    ignoredLines: r('ignored_lines'),
    logPath: r('log_path'),
    logOffset: r('log_offset') ?? 0,
    logEnd: r('log_end'),
    feedbackPath: r('feedback_path'),
    cancelRequestedAt: r('cancel_requested_at'),
    queue: r('queued') ? queueOf(r) : null,
    attempt: r('attempt'),
    maxAttempts: r('max_attempts'),
    retryDelayMs: r('retry_delay_ms'),
    result: r('result'),
    pingUrl: r('ping_url'),
    onEnd: r('on_end'),
    logMax: r('log_max'),
  } as Task;
}

export interface MessageRow {
  at: number;
  type: string;
  text: string;
  stacktrace: string | null;
}
export const messageFromRow = (r: MessageRow): Message => ({
  at: r.at,
  type: r.type as MessageType,
  text: r.text,
  stacktrace: r.stacktrace,
});

export interface EventRow {
  at: number;
  from_state: string | null;
  to_state: string;
  reason: string;
}
export const eventFromRow = (r: EventRow): TaskEvent => ({
  at: r.at,
  from: r.from_state as State | null,
  to: r.to_state as State,
  reason: r.reason,
});

export interface TypeRow {
  name: string;
  max_running: number | null;
  max_waiting: number | null;
  timeout_ms: number | null;
  grace_ms: number | null;
  retries: number | null;
  retry_delay_ms: number | null;
  keep_ms: number | null;
  keep_last: number | null;
  ping: string | null;
  on_end: string | null;
}
export const typeFromRow = (r: TypeRow): TaskType => ({
  name: r.name,
  maxRunning: r.max_running,
  maxWaiting: r.max_waiting,
  timeoutMs: r.timeout_ms,
  graceMs: r.grace_ms,
  retries: r.retries,
  retryDelayMs: r.retry_delay_ms,
  keepMs: r.keep_ms,
  keepLast: r.keep_last,
  ping: r.ping,
  onEnd: r.on_end,
});
export const typeToRow = (t: TaskType): TypeRow => ({
  name: t.name,
  max_running: t.maxRunning,
  max_waiting: t.maxWaiting,
  timeout_ms: t.timeoutMs,
  grace_ms: t.graceMs,
  retries: t.retries,
  retry_delay_ms: t.retryDelayMs,
  keep_ms: t.keepMs,
  keep_last: t.keepLast,
  ping: t.ping,
  on_end: t.onEnd,
});
