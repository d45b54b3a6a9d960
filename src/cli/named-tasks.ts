import { noSuchTask } from '../core/errors.js';
import type { Task } from '../core/task.js';
import type { Store } from '../store/store.js';

/** The named tasks in the order named (exit 4 for an unknown one), or every task. */
export function fetchNamed(store: Store, ids: number[]): Task[] {
  if (ids.length === 0) return store.find({});
  const found = new Map(store.find({ ids }).map((t) => [t.id, t]));
  return ids.map((id) => {
    const task = found.get(id);
    if (!task) throw noSuchTask(id);
    return task;
  });
}
