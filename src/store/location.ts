import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** `--db`, else `$TW_DB`, else `$XDG_STATE_HOME/tw/tw.db`, else `~/.local/state/tw/tw.db`. */
export function resolveStorePath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  if (env.TW_DB) return env.TW_DB;
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(stateHome, 'tw', 'tw.db');
}

/** Where a task's files live when the user names no path: beside the store. */
export function defaultLogPath(storePath: string, id: number): string {
  return join(dirname(storePath), 'logs', `${id}.log`);
}
export function defaultFeedbackPath(storePath: string, id: number): string {
  return join(dirname(storePath), 'feedback', `${id}.txt`);
}
