// Where a store and its files are. The store's own files (logs, generated
// feedback files, the launcher's named pipes) live in a folder of its own
// beside it, named from its file name (`tw.db` -> `tw.db.d/`), so that two
// stores in one folder never share a file. Round 1 put them in `logs/`,
// `feedback/` and `run/` beside the store; tasks recorded then keep their
// paths, and are read and deleted where they are.
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** `--db`, else `$TW_DB`, else `$XDG_STATE_HOME/tw/tw.db`, else `~/.local/state/tw/tw.db`. */
export function resolveStorePath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  // Absolute: the paths of logs and feedback files beside it are recorded and handed to children.
  if (flag) return resolve(flag);
  if (env.TW_DB) return resolve(env.TW_DB);
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return resolve(stateHome, 'tw', 'tw.db');
}

/** The store's own folder. */
export const ownFolder = (storePath: string): string => join(dirname(storePath), `${basename(storePath)}.d`);

/** Where the launcher's named pipes are made (a private folder: see fifos.ts). */
export const runFolder = (storePath: string): string => join(ownFolder(storePath), 'run');

/** Where a task's files live when the user names no path. */
export function defaultLogPath(storePath: string, id: number): string {
  return join(ownFolder(storePath), 'logs', `${id}.log`);
}
/** When a task's output arrived (see log-file.ts): in the store's folder, whatever log the user named. */
export function timesPath(storePath: string, id: number): string {
  return join(ownFolder(storePath), 'logs', `${id}.times`);
}
export function defaultFeedbackPath(storePath: string, id: number): string {
  const [before, after] = defaultFeedbackPathAround(storePath);
  return `${before}${id}${after}`;
}
/** What comes before and after the id in a default feedback path (the child's gate builds it before the id is known to it). */
export function defaultFeedbackPathAround(storePath: string): [string, string] {
  return [join(ownFolder(storePath), 'feedback') + '/', '.txt'];
}

/**
 * Whether `path` is a file tw made for task `id` of this store, and so may
 * delete: exactly the name it gives that task's log or feedback file, in the
 * store's own folder or in round 1's beside the store (a path the user named
 * there for a log is not). Relative to the store's folder, or null if not.
 */
export function ownFileOf(storePath: string, path: string, id: number): string | null {
  const home = dirname(storePath);
  const own = basename(ownFolder(storePath));
  const names = [`logs/${id}.log`, `logs/${id}.times`, `feedback/${id}.txt`];
  const rel = path.startsWith(`${home}/`) ? path.slice(home.length + 1) : null;
  return rel !== null && names.some((name) => rel === name || rel === `${own}/${name}`) ? rel : null;
}
