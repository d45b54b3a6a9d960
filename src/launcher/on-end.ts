// A task's on-end command (pueue's callback, task-spooler's TS_ONFINISH): run
// with /bin/sh -c once the task has ended, by a copy of tw of its own, in a
// process group of its own, time-limited; its own failure is a message on the task.
import { ExitCode } from '../core/errors.js';
import { durationMs, isTerminal } from '../core/task.js';
import type { Deps } from '../tasks/deps.js';
import { noteError } from '../tasks/finish.js';
import { processRef } from './proc.js';
import { spawnProcess } from './spawn.js';
import { terminateGroup } from './terminate.js';

const LIMIT_MS = 60_000;
const GRACE_MS = 2000;

export async function runOnEnd(deps: Deps, id: number): Promise<void> {
  const task = deps.store.get(id);
  if (!task?.onEnd || !isTerminal(task.state)) return;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TW_TASK_ID: String(id),
    TW_STATE: task.state,
    TW_EXIT_CODE: task.exitCode === null ? '' : String(task.exitCode),
    TW_DURATION_MS: String(durationMs(task, deps.now()) ?? ''),
  };
  const child = await spawnProcess({ file: '/bin/sh', args: ['-c', task.onEnd], env, cwd: task.cwd ?? '/', stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  if (!('pid' in child)) return noteError(deps, id, `the on-end command could not start: ${child.error}`);
  const ref = processRef(child.pid);
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), LIMIT_MS)));
  const end = await Promise.race([child.exited, over]);
  clearTimeout(timer);
  if (end === null) {
    if (ref) await terminateGroup(ref, GRACE_MS);
    return noteError(deps, id, `the on-end command was stopped after ${LIMIT_MS / 1000}s`);
  }
  if (end.code !== 0) noteError(deps, id, `the on-end command ${end.signal ? `was killed by ${end.signal}` : `exited with code ${end.code}`}`);
  process.exitCode = ExitCode.Ok;
}

