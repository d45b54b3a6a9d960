// What the rules of a task's life act on: the store, the clock, and the
// processes (liveness, signals, starting a supervisor). Passed in, so the
// rules hold no side effects of their own.
import { TwError } from '../core/errors.js';
import type { ProcessRef } from '../core/task.js';
import { startCopy } from '../launcher/copy.js';
import { stopDescendants } from '../launcher/escaped.js';
import { groupAlive, isAlive, processRef } from '../launcher/proc.js';
import { terminateGroup } from '../launcher/terminate.js';
import type { Store } from '../store/store.js';

export interface Proc {
  isAlive(ref: ProcessRef | null): boolean;
  /** Anything of the process group the ref leads still runs. */
  groupAlive(ref: ProcessRef | null): boolean;
  /** SIGTERM to the group, SIGKILL after the grace. */
  terminateGroup(ref: ProcessRef, graceMs: number): Promise<unknown>;
  /** The task's descendants that left its group, stopped the same way. */
  stopDescendants(child: ProcessRef, taskId: number, storePath: string, graceMs: number, warn: (message: string) => void): Promise<void>;
  /** This process, as tasks record their launchers. */
  self(): ProcessRef;
  /** Starts a copy of tw (`args`) in its own session, its output to `logPath`: the copy, or why it could not start. */
  startCopy(args: string[], logPath: string | null, env: NodeJS.ProcessEnv, cwd: string): ProcessRef | string;
}

export interface Deps {
  store: Store;
  now(): number;
  /** One line on stderr. */
  warn(message: string): void;
  proc: Proc;
}

let selfRef: ProcessRef | null = null;

export const realProc: Proc = {
  isAlive,
  groupAlive,
  terminateGroup,
  stopDescendants,
  startCopy: (args, logPath, env, cwd) => startCopy(args, logPath, env, cwd),
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
