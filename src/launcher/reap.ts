// Noticing, from any tw process, what happened to tasks whose launcher is gone.
import { ExitCode, TwError } from '../core/errors.js';
import { ACTIVE_STATES, liveness, type Liveness, type Task } from '../core/task.js';
import type { Store } from '../store/store.js';
import { groupAlive, isAlive } from './proc.js';

/** What reaping saw of the active tasks. */
export interface Observed {
  /** Running tasks whose launcher is gone but whose child (or group) still runs. */
  unsupervised: Set<number>;
  /** Tasks seen lost whose end could not be recorded (a full disk, a read-only store): shown lost all the same. */
  lost: Map<number, number>;
}

/**
 * Records `lost` for every active task whose launcher and child are both
 * gone, and notes running tasks whose launcher is gone but whose child still
 * runs (`unsupervised`). A few /proc reads per active task. A store that
 * cannot take the record does not stop a reader: the task is shown lost, and
 * `warn` hears why once.
 */
export function reap(store: Store, now: number, warn: (message: string) => void = () => {}): Observed {
  const seen: Observed = { unsupervised: new Set(), lost: new Map() };
  for (const task of store.find({ states: ACTIVE_STATES })) {
    if (!task.launcher || isAlive(task.launcher)) continue;
    // Not lost while anything of its group runs: the leader, or what it left behind (still cancellable).
    if (task.state === 'running' && (isAlive(task.child) || groupAlive(task.child))) {
      seen.unsupervised.add(task.id);
      continue;
    }
    const before = task.state === 'reserved' ? 'before its child started' : `while pid ${task.pid} ran`;
    try {
      store.recordEnd(task.id, {
        state: 'lost',
        at: now,
        reason: `launcher pid ${task.launcher.pid} gone ${before}; noticed by pid ${process.pid}`,
        messages: [{ type: 'error', text: `lost: its launcher (pid ${task.launcher.pid}) died ${before}` }],
      });
    } catch (e) {
      if (!(e instanceof TwError) || e.exitCode !== ExitCode.Store) throw e;
      if (seen.lost.size === 0) warn(`warning: task ${task.id} is lost, but that cannot be recorded: ${e.message}`);
      seen.lost.set(task.id, now);
    }
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
