// The typed interface every other part of tw uses. Whole operations, each
// atomic; nothing here names SQL, so another backend can implement it.
import type { Feedback, Info, LaunchedTask, Message, MessageType, ProcessRef, Progress, State, Task, TaskEvent, TaskType, TerminalState, Waiter } from '../core/task.js';

export interface NewMessage {
  type: MessageType;
  text: string;
  stacktrace?: string | null;
}

/** What a launcher records about the run before it spawns the child. */
export interface LaunchPlan {
  command: string[];
  cwd: string;
  host: string;
  launcher: ProcessRef;
  timeoutMs: number | null;
  graceMs: number;
  /** null: the default log beside the store. */
  logPath: string | null;
  /** Where the task's output starts in a log the user named (its size at the start). */
  logOffset?: number;
  /** 'auto': a file beside the store; null: no feedback file. */
  feedbackPath: string | 'auto' | null;
  /** The child, already started behind its gate: the task is recorded running in the same transaction. */
  start?: { child: ProcessRef; at: number };
  /** More info, merged into a reserved task's when it is claimed (`launch --id ... --info k=v`). */
  info?: Info;
  /** Its limit and order: it may have to wait for its turn. */
  queue?: QueuePlan;
  /** Runs allowed in all (`--retries` + 1), and the first retry's delay (null: the default). */
  maxAttempts?: number;
  retryDelayMs?: number | null;
  /** The task this one reruns (`tw rerun`), said in its first event. */
  rerunOf?: number;
  pingUrl?: string | null;
  onEnd?: string | null;
  logMax?: number;
}

export interface QueuePlan {
  maxRunning: number | null;
  maxWaiting: number | null;
  after: number[];
  /** `launch --detach`: the environment to start it with, by whoever frees its slot; null: its own launcher starts it. */
  env: NodeJS.ProcessEnv | null;
  /** Decides, in the transaction that records the task, whether it starts, waits or is refused. */
  decide(name: string, lineup: Lineup): Placement;
}

/** What the queue rules decide from: the waiting tasks and what holds them. */
export interface Lineup {
  /** Waiting tasks in the order they began to wait (none when only a name's counts were asked for). */
  waiting: Waiter[];
  /** Per name: its waiting tasks that have not won a slot yet. */
  inLine: Map<string, number>;
  /** Per name asked: its running tasks and the ones that won a slot but have not started yet. */
  occupying: Map<string, number>;
  /** The tasks waited after, by state; one not there was deleted. */
  after: Map<number, State>;
}

export type Placement =
  | { go: 'start' }
  | { go: 'wait'; why: string }
  | { go: 'end'; state: 'cancelled' | 'lost'; why: string }
  | { go: 'refuse'; why: 'full'; name: string; waiting: number; maxWaiting: number; running: number }
  | { go: 'refuse'; why: 'unknown-after'; id: number }
  | { go: 'refuse'; why: 'cycle'; id: number };

/** The queue rules' verdict on the waiting tasks: who starts now (by the one asking), who ends without running. */
export interface Admissions {
  admit: number[];
  end: { id: number; state: 'cancelled' | 'lost'; why: string }[];
}

export interface NewTask {
  name: string;
  info: Info;
  /** Refuse when an active task has the same name. */
  unique: boolean;
  /** Reserve and claim in one step (`tw launch` without `--id`). */
  launch?: LaunchPlan;
  /**
   * The process that will start it (`launch --detach`): once it is gone with the task still
   * reserved, the task is lost. A plain `tw reserve` has none, and waits for a `launch --id`.
   */
  holder?: ProcessRef;
  /** The task this one reruns (`tw rerun`), said in its first event. */
  rerunOf?: number;
}

export type ReserveResult = { ok: true; task: Task } | { ok: false; conflict: Task } | { ok: false; placement: Placement & { go: 'refuse' } };
export type ClaimResult = { ok: true; task: LaunchedTask } | { ok: false; task: Task | null } | { ok: false; placement: Placement & { go: 'refuse' } };

export interface Heartbeat {
  at: number;
  progress: Progress | null;
  feedback: Feedback;
  ignoredLines: number;
}

export interface End {
  state: TerminalState;
  at: number;
  reason: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The final feedback values and progress, when the launcher read them one last time. */
  feedback?: Feedback | null;
  progress?: Progress | null;
  ignoredLines?: number;
  /** Where the task's output ends in its log. */
  logEnd?: number | null;
  messages?: NewMessage[];
}

/** A run that failed or timed out, with runs left: the task waits for its next attempt. */
export interface Retry {
  at: number;
  reason: string;
  retryAt: number;
  exitCode: number | null;
  signal: string | null;
  messages: NewMessage[];
}

/** One run of a task's command, and where its output is in the log. */
export interface Attempt {
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  logStart: number;
  logEnd: number | null;
}

export interface EndResult {
  /** False when another process ended the task first; `task` says how (null: since deleted). */
  recorded: boolean;
  task: Task | null;
}

/** One line of the store's event stream: a state change or a message, with its store-wide sequence number. */
export interface FeedEntry {
  seq: number;
  at: number;
  taskId: number;
  name: string;
  host: string | null;
  kind: 'state' | 'message';
  from: State | null;
  to: State | null;
  reason: string | null;
  type: MessageType | null;
  text: string | null;
}

export interface FeedFilter {
  /** Only entries after this sequence number. */
  after?: number;
  since?: number;
  name?: string;
  ids?: readonly number[];
  limit?: number;
}

/** What `tw metrics` exposes: per name, active tasks by state, ends by state (never lowered), the last end. */
export interface Metrics {
  active: { name: string; state: State; count: number }[];
  ends: { name: string; state: TerminalState; count: number }[];
  last: { name: string; endedAt: number | null; succeededAt: number | null; durationMs: number | null }[];
  retrying: { name: string; count: number }[];
}

export interface TaskFilter {
  states?: readonly State[];
  name?: string;
  /** Only tasks ended at or after this instant (terminal ones). */
  endedSince?: number;
  limit?: number;
  ids?: readonly number[];
  /** Only tasks that have a launcher, or a holder (which a waiting detached task has not). */
  held?: boolean;
}

export type PruneRule = { olderThan: number } | { keep: number };

export interface PruneResult {
  deleted: number;
}

export interface NameStats {
  name: string;
  runs: number;
  byState: Record<TerminalState, number>;
  /** Runs that were retried (attempts after the first). */
  retries: number;
  /** Every run's duration, sorted ascending. */
  durationsMs: Float64Array;
  lastFailure: { id: number; at: number; state: TerminalState; exitCode: number | null } | null;
}

export interface Store {
  readonly path: string;
  reserve(task: NewTask, at: number): ReserveResult;
  /**
   * Takes a reserved task for a launcher; any other state is refused, and so is a reserved task
   * another process holds (but `heldBy`, the holder that handed it to this launcher).
   */
  claim(id: number, plan: LaunchPlan, at: number, heldBy?: ProcessRef): ClaimResult;
  /**
   * A reserved task's holder (`from`; null: a task nobody holds) passes it on, to the copy of tw
   * that will start it; false if it was claimed or taken meanwhile.
   */
  handOver(id: number, from: ProcessRef | null, to: ProcessRef): boolean;
  /**
   * The waiting tasks' turns, decided by `decide` in one immediate transaction: the ones it
   * admits are marked as starting, by `starter` (who must start them: startAdmitted). `lineup`:
   * the one decided on, when nothing changed.
   */
  admit(starter: ProcessRef, at: number, decide: (lineup: Lineup) => Admissions): { admitted: LaunchedTask[]; lineup: Lineup | null };
  /** An admitted task's start, by its starter (or the copy of tw `heldBy` started); null when it was ended or taken meanwhile. */
  startAdmitted(id: number, start: { launcher: ProcessRef; child: ProcessRef; at: number; logOffset?: number }, heldBy?: ProcessRef): LaunchedTask | null;
  /** An admitted task whose starter died before starting it goes back to its place in line. */
  requeue(id: number, starter: ProcessRef, at: number): void;
  /** The lineup as it stands, for showing why tasks wait. */
  lineup(): Lineup;
  /** A detached waiting task's environment, to start it with. */
  startEnv(id: number): NodeJS.ProcessEnv | null;
  recordHeartbeat(id: number, beat: Heartbeat): void;
  recordEnd(id: number, end: End): EndResult;
  /** A running task's attempt failed with runs left: it waits, held by its launcher, for the next one. */
  recordRetry(id: number, retry: Retry): EndResult;
  /** Where the current attempt's output ended in its log (known once its last output is written, after the end). */
  recordLogEnd(id: number, logEnd: number): void;
  attempts(id: number): Attempt[];
  /** Marks a running task as cancel-requested (the launcher reads it when its child ends). */
  requestCancel(id: number, at: number, message: NewMessage): Task | null;
  addMessage(id: number, message: NewMessage, at: number): boolean;
  get(id: number): Task | null;
  find(filter: TaskFilter): Task[];
  /** Terminal tasks, newest end first. */
  history(filter: TaskFilter): Task[];
  messages(id: number): Message[];
  events(id: number): TaskEvent[];
  /**
   * Deletes terminal tasks by the rule, in small batches. `beforeDelete` gets each batch's files
   * first: removing them frees room, so a prune works on a full disk (SQLite needs room to delete).
   */
  prune(rule: PruneRule, name?: string, beforeDelete?: (files: { id: number; path: string }[]) => void): PruneResult;
  /** Deletes one ended task with its messages and events (`beforeDelete` gets its files first); or says why not. */
  deleteEnded(id: number, beforeDelete: (files: { id: number; path: string }[]) => void): 'deleted' | 'active' | 'unknown';
  stats(name: string | undefined, endedSince: number | undefined): NameStats[];
  setType(type: TaskType): void;
  type(name: string): TaskType | null;
  types(): TaskType[];
  removeType(name: string): boolean;
  /** Events and messages in commit order (store-wide sequence numbers). */
  feed(filter: FeedFilter): FeedEntry[];
  metrics(): Metrics;
  /** Runs reads that must see one consistent state of the store (no write may land between them). */
  snapshot<T>(read: () => T): T;
  /** Changes whenever another connection commits: cheap to poll. */
  changeCounter(): number;
  close(): void;
}
