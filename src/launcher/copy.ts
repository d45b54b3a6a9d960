// A copy of tw in a session of its own, to supervise a task nobody waits on
// in the foreground (`launch --detach`, a queued task whose turn came). Its
// own notes go to the task's log.
import { closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoText } from '../core/errors.js';
import { makeFolders, openLog } from '../core/files.js';
import type { ProcessRef } from '../core/task.js';
import { processRef } from './proc.js';

/** The copy, or why it could not be started; `logPath` null: its output goes nowhere. */
export function startCopy(args: string[], logPath: string | null, env: NodeJS.ProcessEnv, cwd: string): ProcessRef | string {
  let log: number | 'ignore' = 'ignore';
  try {
    if (logPath !== null) {
      makeFolders(dirname(logPath));
      log = openLog(logPath);
    }
  } catch (e) {
    return errnoText(e);
  }
  try {
    // Loaded here, not at the top: every read command that may start a queued task imports this file, and
    // child_process (with net) costs them 5-8 ms to load for a copy they almost never start.
    const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
    const copy = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', log, log], env, cwd, detached: true });
    copy.on('error', () => {}); // a failed spawn has no pid: said below
    if (copy.pid === undefined) return `cannot run ${process.execPath}`;
    copy.unref();
    return processRef(copy.pid) ?? `its pid ${copy.pid} is gone at once`;
  } catch (e) {
    return errnoText(e);
  } finally {
    if (log !== 'ignore') closeSync(log);
  }
}
