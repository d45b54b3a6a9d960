// The task as every part of tw sees it, and the state rules as pure functions.
import { ExitCode } from './errors.js';

export const ACTIVE_STATES = ['reserved', 'waiting', 'running'] as const;
export const TERMINAL_STATES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'] as const;
export const STATES = [...ACTIVE_STATES, ...TERMINAL_STATES] as const;
export type ActiveState = (typeof ACTIVE_STATES)[number];
export type TerminalState = (typeof TERMINAL_STATES)[number];
export type State = ActiveState | TerminalState;
export type Liveness = 'running' | 'silent' | 'stalled' | 'unsupervised';

export const MESSAGE_TYPES = ['notification', 'debug', 'error', 'result'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export type Progress = { done: number; total: number } | { percent: number };
export type Feedback = Record<string, string>;
export type Info = Record<string, string>;

export interface Message {
  at: number;
  type: MessageType;
  text: string;
  stacktrace: string | null;
}

export interface TaskEvent {
  at: number;
  from: State | null;
  to: State;
  reason: string;
}

/** A process recorded with the start time that makes its pid unambiguous. */
export interface ProcessRef {
  pid: number;
  startTicks: number;
  bootId: string;
}

/** What every task has, whatever its state; the variants below say what is sure in each. */
interface TaskFields {
  id: number;
  name: string;
  info: Info;
  state: State;
  command: string[] | null;
  cwd: string | null;
  host: string | null;
  pid: number | null;
  child: ProcessRef | null;
  /** The process that supervises it or will start it (a reserved or waiting task's holder). */
  launcher: ProcessRef | null;
  reservedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  lastHeartbeatAt: number | null;
  exitCode: number | null;
  signal: string | null;
  timeoutMs: number | null;
  graceMs: number | null;
  progress: Progress | null;
  feedback: Feedback | null;
  ignoredLines: number;
  logPath: string | null;
  /** The task's own part of its log: from this byte (a log the user named may hold earlier runs) ... */
  logOffset: number;
  /** ... to this one, once it has ended (later runs may append); null: to the end. */
  logEnd: number | null;
  feedbackPath: string | null;
  cancelRequestedAt: number | null;
  /** How it queues: set when launched with a limit or an order, kept once it runs. */
  queue: Queue | null;
  /** Which run of its command this is (1-based), and how many are allowed (`--retries` + 1). */
  attempt: number;
  maxAttempts: number;
  /** The delay before the first retry (doubled after each): null for the default. */
  retryDelayMs: number | null;
  /** The text of its last `result` message. */
  result: string | null;
  /** Where its runs are pinged (healthchecks.io protocol), and what runs once it has ended: never shown in full (credentials). */
  pingUrl: string | null;
  onEnd: string | null;
  /** The cap of its log, in bytes (null: the default). */
  logMax: number | null;
}

/** A launch's place in its name's queue. */
export interface Queue {
  /** At most this many tasks of its name run at once. */
  maxRunning: number | null;
  /** It runs only after these tasks have ended, and only if they all succeeded. */
  after: number[];
  /** When it began to wait: tasks of a name start in this order. */
  waitingSince: number | null;
  /** Anyone may start it (its environment is in the store), or only its own launcher (a foreground launch). */
  detached: boolean;
  /** It has won a slot; its launcher (the starter) is starting it. */
  admitted: boolean;
  /** Between attempts: not before this instant. */
  retryAt: number | null;
}

/** Reserved: an id, a name; a command only once a launcher has taken it. */
export interface ReservedTask extends TaskFields {
  state: 'reserved';
}
/** Waiting for its turn, with everything needed to start it. */
export interface WaitingTask extends TaskFields {
  state: 'waiting';
  command: string[];
  cwd: string;
  logPath: string;
  queue: Queue;
}
export interface RunningTask extends TaskFields {
  state: 'running';
  command: string[];
  cwd: string;
  logPath: string;
  pid: number;
  child: ProcessRef;
  startedAt: number;
}
export interface EndedTask extends TaskFields {
  state: TerminalState;
  endedAt: number;
}
export type Task = ReservedTask | WaitingTask | RunningTask | EndedTask;
/** A waiting task as the queue's rules see it. */
export type Waiter = Pick<WaitingTask, 'id' | 'name' | 'launcher' | 'queue'>;
/** A task a launcher has taken: its command, folder and log are known. */
export type LaunchedTask = Task & { command: string[]; cwd: string; logPath: string };

/** What all tasks of a name share (`tw type set`): defaults that a launch's own flags override. */
export interface TaskType {
  name: string;
  maxRunning: number | null;
  maxWaiting: number | null;
  /** 0: no limit. */
  timeoutMs: number | null;
  graceMs: number | null;
  retries: number | null;
  retryDelayMs: number | null;
  /** Retention: history of this name older than this, or beyond the newest N, goes at a plain `tw history prune`. */
  keepMs: number | null;
  keepLast: number | null;
  ping: string | null;
  onEnd: string | null;
}

/** Why a waiting task waits, as shown (PRODUCT.md's waitingFor). */
export type WaitingFor = { slot: { name: string; running: number; limit: number; position: number } } | { after: number[] } | { retryAt: string };

/** The same process: a pid alone is reused, its start time and boot are not. */
export const sameProcess = (a: ProcessRef, b: ProcessRef): boolean => a.pid === b.pid && a.startTicks === b.startTicks && a.bootId === b.bootId;

export const isTerminal = (state: State): state is TerminalState =>
  (TERMINAL_STATES as readonly string[]).includes(state);
export const isState = (text: string): text is State => (STATES as readonly string[]).includes(text);

/** How a supervised child ended, as the launcher saw it. */
export interface ChildEnd {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
}

export function endState(end: ChildEnd): TerminalState {
  if (end.timedOut) return 'timed_out';
  if (end.cancelled) return 'cancelled';
  return end.exitCode === 0 ? 'succeeded' : 'failed';
}

/**
 * taskwatcher's rule: since the last heartbeat, under 25% of the timeout is
 * `running`, under 50% `silent`, else `stalled`. Only meaningful with a
 * feedback file and a timeout; otherwise a running task is just `running`.
 */
export function liveness(task: Task, now: number): Liveness | null {
  if (task.state !== 'running') return null;
  if (!task.feedbackPath || !task.timeoutMs) return 'running';
  const since = now - (task.lastHeartbeatAt ?? task.startedAt ?? now);
  const share = since / task.timeoutMs;
  if (share < 0.25) return 'running';
  if (share < 0.5) return 'silent';
  return 'stalled';
}

/**
 * A running task past its timeout: with a live launcher only for a moment (it
 * kills at once); without one (unsupervised), for as long as nobody cancels it.
 */
export function overdue(task: Task, now: number): boolean {
  if (task.state !== 'running' || !task.timeoutMs) return false;
  const from = task.feedbackPath ? (task.lastHeartbeatAt ?? task.startedAt) : task.startedAt;
  return from !== null && now - from >= task.timeoutMs;
}

export function durationMs(task: Task, now: number): number | null {
  if (task.startedAt === null) return null;
  return (task.endedAt ?? now) - task.startedAt;
}

/** Percent done (0-100) from a progress value, or null. */
export function percentOf(progress: Progress | null): number | null {
  if (!progress) return null;
  if ('percent' in progress) return progress.percent;
  return progress.total > 0 ? (100 * progress.done) / progress.total : null;
}

/** The exit code `tw launch` returns for a child that ended this way. */
export function launchExitCode(end: ChildEnd, signalNumber: (name: string) => number): number {
  if (end.timedOut) return ExitCode.TimedOut;
  if (end.signal) return 128 + signalNumber(end.signal);
  return end.exitCode ?? 1;
}
