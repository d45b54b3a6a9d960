// The queue's rules, with no daemon: who waits and why, in which order tasks
// of a name start, and who starts them. Any tw process that observes the
// store advances the queue; the store applies each verdict in one
// transaction with conditional updates, so two starters never take one slot.
import { formatInstant } from '../core/duration.js';
import { isTerminal, sameProcess, type LaunchedTask, type ProcessRef, type State, type Waiter, type WaitingFor } from '../core/task.js';
import type { Admissions, Lineup, Placement } from '../store/store.js';
import type { Deps } from './deps.js';

export interface QueueWant {
  maxRunning: number | null;
  maxWaiting: number | null;
  after: number[];
}

/** How a state reads after a task's id: `task 41 failed`, `task 41 timed out`. */
const ended = (id: number, state: State | undefined): string => `task ${id} ${state === undefined ? 'was deleted' : state.replace('_', ' ')}`;

const ordinal = (n: number): string => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
};

/** Where a new launch of `name` goes: it starts now, waits, ends unrun (a task it runs after failed), or is refused. */
export function placement(name: string, want: QueueWant, lineup: Lineup): Placement {
  const unknown = want.after.find((id) => !lineup.after.has(id));
  if (unknown !== undefined) return { go: 'refuse', why: 'unknown-after', id: unknown };
  const pending = want.after.filter((id) => !isTerminal(lineup.after.get(id)!));
  const failed = want.after.find((id) => lineup.after.get(id) !== 'succeeded');
  if (pending.length === 0 && failed !== undefined) return { go: 'end', state: 'cancelled', why: ended(failed, lineup.after.get(failed)) };
  const waiting = lineup.inLine.get(name) ?? 0;
  const running = lineup.occupying.get(name) ?? 0;
  const noSlot = want.maxRunning !== null && (running >= want.maxRunning || waiting > 0);
  if (pending.length === 0 && !noSlot) return { go: 'start' };
  if (want.maxWaiting !== null && waiting >= want.maxWaiting) return { go: 'refuse', why: 'full', name, waiting, maxWaiting: want.maxWaiting, running };
  const why: WaitingFor = pending.length ? { after: pending } : { slot: { name, running, limit: want.maxRunning!, position: waiting + 1 } };
  return { go: 'wait', why: waitText(why) };
}

/**
 * The waiting tasks whose turn has come, in the order they began to wait, for `starter` to
 * start: a detached one by anyone, a foreground one only by its own launcher (the others
 * of its name wait behind it). A task after one that failed ends cancelled; after one that
 * was deleted, lost: nothing would ever start it.
 */
export function admissions(lineup: Lineup, starter: ProcessRef, now: number): Admissions {
  const out: Admissions = { admit: [], end: [] };
  const taken = new Map(lineup.occupying);
  const blocked = new Set<string>();
  for (const task of lineup.waiting) {
    // A retry is not in line before its time.
    if (task.queue.admitted || (task.queue.retryAt !== null && task.queue.retryAt > now)) continue;
    const { after, maxRunning } = task.queue;
    const gone = after.find((id) => !lineup.after.has(id));
    if (gone !== undefined) {
      out.end.push({ id: task.id, state: 'lost', why: `was to run after task ${gone}, which was deleted` });
      continue;
    }
    if (after.some((id) => !isTerminal(lineup.after.get(id)!))) continue;
    const failed = after.find((id) => lineup.after.get(id) !== 'succeeded');
    if (failed !== undefined) {
      out.end.push({ id: task.id, state: 'cancelled', why: ended(failed, lineup.after.get(failed)) });
      continue;
    }
    if (blocked.has(task.name)) continue;
    const used = taken.get(task.name) ?? 0;
    const mine = task.queue.detached || (task.launcher !== null && sameProcess(task.launcher, starter));
    if ((maxRunning !== null && used >= maxRunning) || !mine) {
      if (maxRunning !== null) blocked.add(task.name);
      continue;
    }
    out.admit.push(task.id);
    taken.set(task.name, used + 1);
  }
  return out;
}

/** Why each waiting task waits, as shown: the tasks it runs after, or its name's slots and its place in line. */
export function waitingForAll(lineup: Lineup, now: number): Map<number, WaitingFor> {
  const out = new Map<number, WaitingFor>();
  const places = new Map<string, number>();
  for (const task of lineup.waiting) {
    if (task.queue.retryAt !== null && task.queue.retryAt > now) {
      out.set(task.id, { retryAt: new Date(task.queue.retryAt).toISOString() });
      continue;
    }
    const pending = task.queue.after.filter((id) => !isTerminal(lineup.after.get(id) ?? 'lost'));
    if (task.queue.admitted) continue;
    const position = (places.get(task.name) ?? 0) + 1;
    places.set(task.name, position);
    const limit = task.queue.maxRunning;
    out.set(task.id, pending.length || limit === null ? { after: pending } : { slot: { name: task.name, running: lineup.occupying.get(task.name) ?? 0, limit, position } });
  }
  return out;
}

/** Why one waiting task waits. */
export const waitingFor = (task: Waiter, lineup: Lineup, now: number): WaitingFor => waitingForAll(lineup, now).get(task.id) ?? { after: [] };

export function waitText(why: WaitingFor): string {
  if ('slot' in why) return `${why.slot.running} of ${why.slot.limit} '${why.slot.name}' running, ${ordinal(why.slot.position)} in line`;
  if ('after' in why) return why.after.length ? `after task ${why.after.join(', ')}` : 'its turn has come';
  return `retry at ${formatInstant(Date.parse(why.retryAt))}`;
}

/**
 * Starts every waiting task whose turn has come, a detached one through a copy of tw that
 * supervises it; the lineup as it then stands.
 */
export function advance(deps: Deps): Lineup {
  const self = deps.proc.self();
  const now = deps.now();
  const { admitted, lineup } = deps.store.admit(self, now, (l) => admissions(l, self, now));
  for (const task of admitted) if (task.queue?.detached) startDetached(deps, task, self);
  // A foreground launcher's own admitted task is started by that launcher (run.ts, waitTurn).
  return lineup ?? deps.store.lineup();
}

/** A copy of tw in its own session starts and supervises the admitted task; a crash in between only delays it (observe requeues it). */
export function startDetached(deps: Deps, task: LaunchedTask, self: ProcessRef): boolean {
  const env = deps.store.startEnv(task.id) ?? {};
  // The command is there for ps to show; the copy takes it, and all else, from the store.
  const args = ['--db', deps.store.path, 'launch', '--supervise', '--holder', `${self.pid}:${self.startTicks}`, '--queued', String(task.id), '--', ...task.command];
  const copy = deps.proc.startCopy(args, task.logPath, env, '/');
  if (typeof copy === 'string') {
    const why = `cannot start the supervising copy of tw: ${copy}`;
    deps.store.recordEnd(task.id, { state: 'failed', at: deps.now(), reason: why, exitCode: 125, messages: [{ type: 'error', text: why }] });
    deps.warn(`task ${task.id}: ${why}`);
    return false;
  }
  deps.store.handOver(task.id, self, copy); // false: the copy has started it already
  return true;
}
