// A launcher's whole job for one task: wait for its turn if it must, run each
// attempt under supervise, wait for the next attempt's time after a failure
// with runs left, and hand its slot on at the end. The same for a foreground
// launch, a detached copy and the copy that starts a queued task.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { ExitCode, TwError } from '../core/errors.js';
import { isTerminal, type LaunchedTask } from '../core/task.js';
import { StoreWatch } from '../store/watch.js';
import type { Deps } from '../tasks/deps.js';
import { failToStart, noteError } from '../tasks/finish.js';
import { observe } from '../tasks/observe.js';
import { waitingFor, waitText } from '../tasks/queue.js';
import { Pinger } from './ping.js';
import { signalNumber } from '../core/signals.js';
import { abandon, startChild, supervise, type ChildSpec, type Starting } from './supervise.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** The longest a waiting launcher sleeps without looking (a commit wakes it sooner). */
const LOOK_EVERY_MS = 1000;
/** The end ping carries the last 10 KiB of the run's output. */
const PING_BODY_BYTES = 10 * 1024;

export interface Signals {
  /** The first signal caught, if any. */
  readonly first: NodeJS.Signals | null;
  /** `listener` hears each signal from now on. */
  onSignal(listener: () => void): void;
  release(): void;
}

/** Catches SIGINT, SIGTERM and SIGHUP until released: a signal is the user's word about the task, never the default death. */
export function catchSignals(): Signals {
  let first: NodeJS.Signals | null = null;
  const listeners: (() => void)[] = [];
  const caught = (signal: NodeJS.Signals) => {
    first ??= signal;
    for (const listener of listeners) listener();
  };
  for (const s of FORWARDED) process.on(s, caught);
  return {
    get first() {
      return first;
    },
    onSignal: (listener) => void listeners.push(listener),
    release: () => {
      for (const s of FORWARDED) process.off(s, caught);
    },
  };
}

export interface RunOptions {
  /** Pass the child's output through (foreground), or only to the log. */
  tee: boolean;
  /** How a new attempt's child is started. */
  spec: ChildSpec;
}

/**
 * Runs the taken task to its end: its first child is `starting` (at its gate), `signals`
 * caught since before the task was recorded. Resolves to `tw launch`'s exit code.
 */
export async function runTask(deps: Deps, task: LaunchedTask, starting: Starting, signals: Signals, opts: RunOptions): Promise<number> {
  const code = await attempts(deps, task, starting, signals, opts);
  // Its on-end command runs once the task has ended, in a copy of tw of its own: this launcher does not wait for it.
  const ended = deps.store.get(task.id);
  if (ended?.onEnd && isTerminal(ended.state)) {
    const args = ['--db', deps.store.path, 'launch', '--on-end-of', String(task.id), '--', '/bin/sh', '-c', ended.onEnd];
    const copy = deps.proc.startCopy(args, null, process.env, '/');
    if (typeof copy === 'string') noteError(deps, task.id, `the on-end command could not start: ${copy}`);
  }
  return code;
}

async function attempts(deps: Deps, task: LaunchedTask, starting: Starting, signals: Signals, opts: RunOptions): Promise<number> {
  let current = task;
  let last: number | null = null;
  for (;;) {
    if (!starting.ok) {
      signals.release();
      const code = failToStart(deps, current, starting.exitCode, starting.why);
      handOn(deps);
      return code;
    }
    const running = current.state === 'running' ? current : await waitTurn(deps, current, starting, signals);
    signals.release();
    // Ended unrun: cancelled while it waited, a task it runs after failed; after a retry, as the last attempt did.
    if (running === null) return last ?? ExitCode.LaunchFailed;
    // Pinged without delaying the child: the start goes out while it runs, the end once it is recorded.
    const pinger = running.pingUrl ? new Pinger(running.pingUrl) : null;
    const pinged = pinger?.send('start') ?? null;
    last = await supervise(deps, running, starting, { tee: opts.tee, early: signals.first });
    handOn(deps);
    if (pinger) await pingEnd(deps, running, pinger, last, pinged);
    const now = deps.store.get(task.id);
    if (now?.state !== 'waiting' || !now.queue.retryAt) return last;
    // A failed attempt with runs left: the next one at its time, in line like any task.
    deps.warn(`task ${task.id}: ${deps.store.events(task.id).at(-1)?.reason ?? 'retrying'}`);
    signals = catchSignals();
    starting = await startChild(opts.spec);
    current = now as LaunchedTask;
  }
}

/** The end ping, with the attempt's last output as its body; a ping that failed is an error message on the task. */
async function pingEnd(deps: Deps, task: LaunchedTask, pinger: Pinger, code: number, started: Promise<string | null> | null): Promise<void> {
  const startFailed = await started;
  if (startFailed) noteError(deps, task.id, `ping failed: ${startFailed}`);
  const attempt = deps.store.attempts(task.id).at(-1);
  const body = attempt ? tailOf(task.logPath, attempt.logStart, attempt.logEnd) : Buffer.alloc(0);
  const endFailed = await pinger.send(String(code), body);
  pinger.close();
  if (endFailed) noteError(deps, task.id, `ping failed: ${endFailed}`);
}

/** The last bytes of [from, to) of a file (the end ping's body): empty if it cannot be read. */
function tailOf(path: string, from: number, to: number | null): Buffer {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const end = Math.min(to ?? Infinity, fstatSync(fd).size);
      const start = Math.max(from, end - PING_BODY_BYTES);
      const buf = Buffer.alloc(Math.max(0, end - start));
      const got = buf.length ? readSync(fd, buf, 0, buf.length, start) : 0;
      return buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  } catch {
    return Buffer.alloc(0);
  }
}


/** The slot this launcher held is free: the next waiting task starts now, not when someone next looks. */
export function handOn(deps: Deps): void {
  try {
    // Only a waiting task can take the slot; with none, there is nothing to hand on.
    if (deps.store.find({ states: ['waiting'], limit: 1 }).length) observe(deps);
  } catch (e) {
    if (!(e instanceof TwError)) throw e;
    deps.warn(`warning: the next waiting task could not be started: ${e.message}`);
  }
}

/**
 * Waits for the task's turn (any commit may bring it; a retry's time, the clock) with its
 * child held at the gate; the task as it starts, or null when it ended unrun (cancelled, a
 * task it runs after failed, a signal to the launcher), with the gate shut.
 */
async function waitTurn(deps: Deps, task: LaunchedTask, starting: Starting & { ok: true }, signals: Signals): Promise<LaunchedTask | null> {
  const { store } = deps;
  const id = task.id;
  const self = deps.proc.self();
  // Why it was placed in line, as decided in that transaction: the lineup read now may already have moved on.
  if (task.state === 'waiting' && !task.queue.retryAt) {
    const placed = store.events(id).filter((e) => e.to === 'waiting').at(-1)?.reason;
    deps.warn(`task ${id} waits: ${placed ?? waitText(waitingFor(task, store.lineup(), deps.now()))}`);
  }
  const stop = new AbortController();
  signals.onSignal(() => stop.abort());
  const watch = new StoreWatch(store);
  try {
    for (;;) {
      observe(deps);
      const now = store.get(id);
      if (now?.state === 'waiting' && now.queue.admitted) {
        const started = store.startAdmitted(id, { launcher: self, child: starting.ref, at: deps.now(), logOffset: sizeOf(now.logPath) });
        if (started) return started;
      }
      if (!now || isTerminal(now.state)) {
        const how = now ? (store.events(id).at(-1)?.reason ?? now.state) : 'it was deleted';
        deps.warn(`task ${id} did not run${task.attempt > 1 ? ' again' : ''}: ${how}`);
        abandon(starting);
        return null;
      }
      const signal = signals.first;
      if (signal) {
        const text = `cancelled by signal ${signalNumber(signal)} (${signal}) to the launcher while the task waited`;
        store.recordEnd(id, { state: 'cancelled', at: deps.now(), reason: text, messages: [{ type: 'notification', text }] });
        continue; // read back how it ended
      }
      // A retry's time is the clock's to bring; once it has come, a commit (a freed slot) or a look.
      const retryAt = now.state === 'waiting' ? now.queue.retryAt : null;
      const retryIn = retryAt !== null && retryAt > deps.now() ? retryAt - deps.now() + 1 : LOOK_EVERY_MS;
      await watch.next(Math.min(LOOK_EVERY_MS, retryIn), stop.signal);
    }
  } finally {
    watch.close();
  }
}

/** Where the next attempt's output starts in its log. */
function sizeOf(path: string | null): number | undefined {
  try {
    return path === null ? undefined : statSync(path).size;
  } catch {
    return undefined;
  }
}
