// Noticing, from any tw process, what happened to tasks whose launcher is gone.
import { ACTIVE_STATES, liveness, type Liveness, type Task } from '../core/task.js';
import type { Store } from '../store/store.js';
import { groupAlive, isAlive } from './proc.js';

/**
 * Records `lost` for every active task whose launcher and child are both
 * gone, and returns the ids of running tasks whose launcher is gone but whose
 * child still runs (`unsupervised`). A few /proc reads per active task.
 */
export function reap(store: Store, now: number): Set<number> {
  const unsupervised = new Set<number>();
  for (const task of store.find({ states: ACTIVE_STATES })) {
    if (!task.launcher || isAlive(task.launcher)) continue;
    // Not lost while anything of its group runs: the leader, or what it left behind (still cancellable).
    if (task.state === 'running' && (isAlive(task.child) || groupAlive(task.child))) {
      unsupervised.add(task.id);
      continue;
    }
    const before = task.state === 'reserved' ? 'before its child started' : `while pid ${task.pid} ran`;
    store.recordEnd(task.id, {
      state: 'lost',
      at: now,
      reason: `launcher pid ${task.launcher.pid} gone ${before}; noticed by pid ${process.pid}`,
      messages: [{ type: 'error', text: `lost: its launcher (pid ${task.launcher.pid}) died ${before}, noticed at ${new Date(now).toISOString()}` }],
    });
  }
  return unsupervised;
}

/** A task's liveness as shown: unsupervised wins over the heartbeat rule. */
export function livenessOf(task: Task, unsupervised: Set<number>, now: number): Liveness | null {
  if (task.state === 'running' && unsupervised.has(task.id)) return 'unsupervised';
  return liveness(task, now);
}
