// Taking a task: reserving an id, and giving a launcher the task it will run
// (a new one, or the reserved one `--id` names). Who may take what, and why not.
import { ExitCode, noSuchTask, TwError } from '../core/errors.js';
import type { Info, LaunchedTask, ProcessRef, Task } from '../core/task.js';
import type { LaunchPlan, Placement } from '../store/store.js';
import type { Deps } from './deps.js';
import { observe } from './observe.js';

export interface Want {
  name: string;
  info: Info;
  unique: boolean;
  /** A reserved task to take instead of a new one (`launch --id`). */
  id?: number;
}

/**
 * A new reserved task, or refused as `--unique` says. `holder`: the process that will start it
 * (`launch --detach`); once it is gone with the task still reserved, the task is lost.
 */
export function reserveTask(deps: Deps, want: Want, holder?: ProcessRef, plan?: LaunchPlan, rerunOf = plan?.rerunOf): Task {
  // A task whose launcher died must not hold its name (nor a slot): notice it first.
  if (want.unique || plan?.queue) observe(deps);
  // One instant for the reservation and the start it records.
  const reserved = deps.store.reserve({ name: want.name, info: want.info, unique: want.unique, launch: plan, holder, rerunOf }, plan?.start?.at ?? deps.now());
  if (reserved.ok) return reserved.task;
  if ('placement' in reserved) refuse(reserved.placement);
  // `tw reserve` refuses (1); `tw launch` is told to try later (75): "not now" is not "tw failed".
  const doing = plan ? 'launching' : 'reserving';
  throw new TwError(`task ${reserved.conflict.id} named '${want.name}' is already ${reserved.conflict.state}; not ${doing} another`, plan || holder ? ExitCode.TryLater : ExitCode.Refused);
}

/** The task a launcher runs, recorded with its plan: a new one, or the reserved one `--id` names (`heldBy`: its holder handed it over). */
export function takeTask(deps: Deps, plan: LaunchPlan, want: Want, heldBy?: ProcessRef): LaunchedTask {
  if (want.id === undefined) return reserveTask(deps, want, undefined, plan) as LaunchedTask;
  if (plan.queue) observe(deps);
  const claimed = deps.store.claim(want.id, plan, plan.start?.at ?? deps.now(), heldBy);
  if (claimed.ok) return claimed.task;
  if ('placement' in claimed) refuse(claimed.placement);
  refuseId(want.id, claimed.task);
}

/**
 * `launch --detach`: the task is held by this process until the copy of tw that runs it takes
 * it, so that whoever dies first leaves it to be noticed as lost, never reserved for good.
 */
export function holdTask(deps: Deps, want: Want, rerunOf?: number): number {
  const self = deps.proc.self();
  if (want.id === undefined) return reserveTask(deps, want, self, undefined, rerunOf).id;
  if (!deps.store.handOver(want.id, null, self)) refuseId(want.id, deps.store.get(want.id));
  return want.id;
}

/** Why `--id` cannot take this task: only a reserved task no launcher has taken can be launched. */
function refuseId(id: number, task: Task | null): never {
  if (!task) throw noSuchTask(id);
  const why = task.state === 'reserved' ? 'already taken by another launcher' : `already ${task.state}`;
  throw new TwError(`task ${id} is ${why}; only a reserved task can be launched with --id`);
}

/** A launch the queue refuses: try later (75) when full; an unknown task to run after is exit 4. */
function refuse(placement: Placement & { go: 'refuse' }): never {
  if (placement.why === 'unknown-after') throw new TwError(`no task ${placement.id} to run after (--after)`, ExitCode.NoSuchTask, true);
  if (placement.why === 'cycle') throw new TwError(`task ${placement.id} is this task or waits after it (--after): it would wait forever`);
  const { name, running, waiting, maxWaiting } = placement;
  throw new TwError(`queue full: ${running} '${name}' running and ${waiting} waiting (--max-waiting ${maxWaiting}); not launching another`, ExitCode.TryLater);
}
