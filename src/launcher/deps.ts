// The real processes behind the task rules' Proc: /proc, signals, and copies of tw.
import { TwError } from '../core/errors.js';
import type { ProcessRef } from '../core/task.js';
import type { Store } from '../store/store.js';
import type { Deps, Proc } from '../tasks/deps.js';
import { startCopy } from './copy.js';
import { stopDescendants } from './escaped.js';
import { groupAlive, isAlive, processRef } from './proc.js';
import { terminateGroup } from './terminate.js';

let selfRef: ProcessRef | null = null;

export const realProc: Proc = {
  isAlive,
  groupAlive,
  terminateGroup,
  stopDescendants,
  startCopy,
  self() {
    // Read once: a process's pid and start time do not change.
    selfRef ??= processRef(process.pid);
    if (!selfRef) throw new TwError('cannot read /proc/self: tw needs Linux /proc');
    return selfRef;
  },
};

export const depsOf = (store: Store, ctx: { now(): number; warn(message: string): void }, proc: Proc = realProc): Deps => ({
  store,
  now: () => ctx.now(),
  warn: (message) => ctx.warn(message),
  proc,
});
