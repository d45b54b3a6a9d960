// Noticing, from any tw process, what happened to tasks whose launcher is
// gone: the one place where a task is found lost or unsupervised.
import { ExitCode, TwError } from '../core/errors.js';
import { ACTIVE_STATES, liveness, type Liveness, type Task, type WaitingFor } from '../core/task.js';
import type { Deps } from './deps.js';
import { advance, waitingForAll } from './queue.js';

/** What observing saw of the active tasks. */
export interface Observed {
  /** Running tasks whose launcher is gone but whose child (or group) still runs. */
  unsupervised: Set<number>;
  /** Tasks seen lost whose end could not be recorded (a full disk, a read-only store): shown lost all the same. */
  lost: Map<number, number>;
  /** Why each waiting task waits. */
  waiting: Map<number, WaitingFor>;
}

/**
 * Records `lost` for every active task whose launcher and child are both
 * gone, and notes running tasks whose launcher is gone but whose child still
 * runs (`unsupervised`). A few /proc reads per active task. A queued task
 * whose starter died before starting it goes back in line; then the queue
 * advances: a free slot with a task waiting for it starts that task. A store
 * that cannot take a record does not stop a reader: the task is shown lost,
 * and `warn` hears why once.
 */
export function observe(deps: Deps): Observed {
  const { store, proc } = deps;
  const now = deps.now();
  const seen: Observed = { unsupervised: new Set(), lost: new Map(), waiting: new Map() };
  // A detached waiting task has nobody to outlive: only the held ones are read (a queue may be long).
  let waiting = store.find({ states: ['waiting'], limit: 1 }).length > 0;
  for (const task of store.find({ states: ACTIVE_STATES, held: true })) {
    if (!task.launcher || proc.isAlive(task.launcher)) continue;
    if (task.queue?.admitted && task.queue.detached) {
      store.requeue(task.id, task.launcher, now);
      waiting = true;
      continue;
    }
    // Not lost while anything of its group runs: the leader, or what it left behind (still cancellable).
    if (task.state === 'running' && (proc.isAlive(task.child) || proc.groupAlive(task.child))) {
      seen.unsupervised.add(task.id);
      continue;
    }
    const before = task.state === 'running' ? `while pid ${task.pid} ran` : task.state === 'waiting' ? 'while the task waited' : 'before its child started';
    try {
      store.recordEnd(task.id, {
        state: 'lost',
        at: now,
        reason: `launcher pid ${task.launcher.pid} gone ${before}; noticed by pid ${process.pid}`,
        messages: [{ type: 'error', text: `lost: its launcher (pid ${task.launcher.pid}) died ${before}` }],
      });
    } catch (e) {
      if (!(e instanceof TwError) || e.exitCode !== ExitCode.Store) throw e;
      if (seen.lost.size === 0) deps.warn(`warning: task ${task.id} is lost, but that cannot be recorded: ${e.message}`);
      seen.lost.set(task.id, now);
    }
  }
  if (waiting && seen.lost.size === 0) {
    let lineup;
    try {
      lineup = advance(deps);
    } catch (e) {
      if (!(e instanceof TwError) || e.exitCode !== ExitCode.Store) throw e;
      deps.warn(`warning: the queue cannot advance: ${e.message}`);
      lineup = store.lineup();
    }
    seen.waiting = waitingForAll(lineup, now);
  }
  return seen;
}

/** The task as it was seen: lost, if it was seen so but could not be recorded. */
export function asSeen(task: Task, seen: Observed): Task {
  const at = seen.lost.get(task.id);
  return at === undefined ? task : { ...task, state: 'lost', endedAt: at };
}

/** A task's liveness as shown: unsupervised wins over the heartbeat rule. */
export function livenessOf(task: Task, seen: Observed, now: number): Liveness | null {
  if (task.state === 'running' && seen.unsupervised.has(task.id)) return 'unsupervised';
  return liveness(task, now);
}

/** Why a waiting task waits, as seen; null for any other. */
export const waitingOf = (task: Task, seen: Observed): WaitingFor | null => (task.state === 'waiting' ? (seen.waiting.get(task.id) ?? null) : null);
