import { userInfo } from 'node:os';
import { parseDuration } from '../../core/duration.js';
import { ExitCode, TwError, usageError } from '../../core/errors.js';
import { ACTIVE_STATES, isTerminal, type Task } from '../../core/task.js';
import { isAlive } from '../../launcher/proc.js';
import { reap } from '../../launcher/reap.js';
import { stopDescendants } from '../../launcher/escaped.js';
import { terminateGroup } from '../../launcher/terminate.js';
import type { Store } from '../../store/store.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  name?: string;
  grace: string;
}

/** How long to wait for a live launcher to record the end, past the grace. */
const LAUNCHER_MARGIN_MS = 3000;

export async function cancel(opts: Options, args: string[], ctx: Context): Promise<void> {
  if (args.length && opts.name !== undefined) throw usageError('give ids or --name, not both');
  if (!args.length && opts.name === undefined) throw usageError('nothing to cancel: give task ids or --name N');
  const ids = args.map(parseId);
  const graceMs = parseDuration(opts.grace, '--grace');
  const store = await ctx.openStore();
  reap(store, ctx.now(), ctx.warn);
  const targets = opts.name !== undefined ? store.find({ name: opts.name, states: ACTIVE_STATES }).map((t) => t.id) : ids;
  if (opts.name !== undefined && targets.length === 0) throw new TwError(`no active task named '${opts.name}'; nothing to cancel`);
  const by = `tw cancel (pid ${process.pid}, user ${safeUser()})`;
  let worst: number = ExitCode.Ok;
  // All at once, so N tasks cost one grace, not N; the results print in the order asked.
  const results = await Promise.all(targets.map((id) => cancelOne(store, id, graceMs, by, ctx).catch((e: unknown) => e)));
  for (const [i, result] of results.entries()) {
    if (result instanceof TwError) {
      ctx.warn(result.message);
      worst = Math.max(worst, result.exitCode);
    } else if (result instanceof Error) {
      throw result;
    } else {
      ctx.stdout.write(`task ${targets[i]}: ${(result as Task).state}\n`);
    }
  }
  process.exitCode = worst;
}

async function cancelOne(store: Store, id: number, graceMs: number, by: string, ctx: Context): Promise<Task> {
  const task = store.get(id);
  if (!task) throw new TwError(`no task ${id}`, ExitCode.NoSuchTask);
  if (isTerminal(task.state)) throw new TwError(`task ${id} is already ${task.state}; nothing to cancel`);
  if (task.state === 'reserved') {
    return endCancelled(store, id, by, ctx);
  }
  store.requestCancel(id, ctx.now(), { type: 'notification', text: `cancel requested by ${by}` });
  if (task.child) {
    await terminateGroup(task.child, graceMs);
    // Without a launcher, nobody else will stop what left the group.
    if (!isAlive(task.launcher)) await stopDescendants(task.child, id, store.path, graceMs, ctx.warn);
  }
  // A live launcher records the end itself (with the exit status); wait for it, then step in.
  const deadline = Date.now() + (isAlive(task.launcher) ? LAUNCHER_MARGIN_MS : 0);
  for (;;) {
    const now = store.get(id);
    if (!now) throw new TwError(`task ${id} ended and was deleted meanwhile (history prune or clear)`, ExitCode.NoSuchTask);
    if (isTerminal(now.state)) return now;
    if (Date.now() >= deadline || !isAlive(task.launcher)) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return endCancelled(store, id, by, ctx);
}

/** Records the end, or reports how another process ended the task first. */
function endCancelled(store: Store, id: number, by: string, ctx: Context): Task {
  const text = `cancelled by ${by}`;
  const { task } = store.recordEnd(id, { state: 'cancelled', at: ctx.now(), reason: text, messages: [{ type: 'notification', text }] });
  if (!task) throw new TwError(`no task ${id}`, ExitCode.NoSuchTask);
  return task;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}
