// The cancel protocol: a task not yet running ends cancelled at once; a
// running one gets the request recorded and its group signalled, and its
// launcher, if alive, records the end with the exit status. The same path
// serves a live and a dead launcher; a pid is signalled only if it is still
// the task's (proc checks the start time).
import { ExitCode, noSuchTask, TwError } from '../core/errors.js';
import { isTerminal, type Task } from '../core/task.js';
import type { Deps } from './deps.js';

/** How long to wait for a live launcher to record the end, past the grace. */
const LAUNCHER_MARGIN_MS = 3000;
const CHECK_EVERY_MS = 20;

/** Cancels one task and resolves to it as it ended (by this cancel or another's end); refuses a terminal or unknown one. */
export async function cancelTask(deps: Deps, id: number, graceMs: number, by: string): Promise<Task> {
  const { store, proc } = deps;
  const task = store.get(id);
  if (!task) throw noSuchTask(id);
  if (isTerminal(task.state)) throw new TwError(`task ${id} is already ${task.state}; nothing to cancel`);
  if (task.state !== 'running') return endCancelled(deps, id, by);
  store.requestCancel(id, deps.now(), { type: 'notification', text: `cancel requested by ${by}` });
  await proc.terminateGroup(task.child, graceMs);
  // Without a launcher, nobody else will stop what left the group.
  if (!proc.isAlive(task.launcher)) await proc.stopDescendants(task.child, id, store.path, graceMs, deps.warn);
  // A live launcher records the end itself (with the exit status); wait for it, then step in.
  const deadline = Date.now() + (proc.isAlive(task.launcher) ? LAUNCHER_MARGIN_MS : 0);
  for (;;) {
    const now = store.get(id);
    if (!now) throw new TwError(`task ${id} ended and was deleted meanwhile (history prune or clear)`, ExitCode.NoSuchTask);
    if (isTerminal(now.state)) return now;
    if (Date.now() >= deadline || !proc.isAlive(task.launcher)) break;
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
  }
  return endCancelled(deps, id, by);
}

/** Records the end, or reports how another process ended the task first. */
function endCancelled(deps: Deps, id: number, by: string): Task {
  const text = `cancelled by ${by}`;
  const { task } = deps.store.recordEnd(id, { state: 'cancelled', at: deps.now(), reason: text, messages: [{ type: 'notification', text }] });
  if (!task) throw noSuchTask(id);
  return task;
}
