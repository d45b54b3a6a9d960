// What the rules of a task's life act on: the store, the clock, and the
// processes (liveness, signals, starting a supervisor). Passed in, so the
// rules hold no side effects of their own: the real ones are wired at the
// edge (launcher/deps.ts).
import type { ProcessRef } from '../core/task.js';
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
