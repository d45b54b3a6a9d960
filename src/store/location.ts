import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** `--db`, else `$TW_DB`, else `$XDG_STATE_HOME/tw/tw.db`, else `~/.local/state/tw/tw.db`. */
export function resolveStorePath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  // Absolute: the paths of logs and feedback files beside it are recorded and handed to children.
  if (flag) return resolve(flag);
  if (env.TW_DB) return resolve(env.TW_DB);
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return resolve(stateHome, 'tw', 'tw.db');
}

/** Where a task's files live when the user names no path: beside the store. */
export function defaultLogPath(storePath: string, id: number): string {
  return join(dirname(storePath), 'logs', `${id}.log`);
}
export function defaultFeedbackPath(storePath: string, id: number): string {
  const [before, after] = defaultFeedbackPathAround(storePath);
  return `${before}${id}${after}`;
}
/** What comes before and after the id in a default feedback path (the child's gate builds it before the id is known to it). */
export function defaultFeedbackPathAround(storePath: string): [string, string] {
  return [join(dirname(storePath), 'feedback') + '/', '.txt'];
}
