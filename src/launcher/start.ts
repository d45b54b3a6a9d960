// Starting the child behind a gate: a tiny sh that waits for the task's id on
// fd 3 and then execs the command (same pid, same start time, argv never
// parsed by the shell). The gate starts before the store is even open; the
// launcher sends the id only once the start is recorded, so a launcher killed
// in between leaves nothing running untracked: the gate reads end-of-file and
// exits. The child's TW_TASK_ID and TW_FEEDBACK are set by the gate, from the id.
import { accessSync, closeSync, constants, statSync, writeSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { ExitCode } from '../core/errors.js';
import { spawnProcess, type Spawned } from './spawn.js';

const GATE =
  'IFS= read -r TW_TASK_ID <&3 || exit 125; export TW_TASK_ID; ' +
  'case $1 in n) unset TW_FEEDBACK;; f) export TW_FEEDBACK="$2";; a) export TW_FEEDBACK="$2$TW_TASK_ID$3";; esac; ' +
  'shift 3; exec "$@" 3<&-';

/** The child's TW_FEEDBACK: none, this path, or the path around its id (the default feedback file). */
export type FeedbackEnv = { kind: 'none' } | { kind: 'path'; path: string } | { kind: 'around-id'; before: string; after: string };

export interface Gate {
  child: Spawned;
  /** Lets the command run, as task `id`. */
  open(id: number): void;
  /** The command will not run: the gate exits 125. */
  shut(): void;
}

export type Started = Gate | { exitCode: 125; why: string };

/**
 * `stdio`: the child's descriptors 0 to 2 ('ignore' for /dev/null) and its fd 3, the read end of
 * the gate; `gate` is our end of it, which this now owns.
 */
export async function startGated(argv: string[], stdio: [number | 'ignore', number, number, number], gate: number, feedback: FeedbackEnv, env: NodeJS.ProcessEnv, cwd: string): Promise<Started> {
  let fd: number | null = gate;
  const shut = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
  };
  const fb = feedback.kind === 'none' ? ['n', '', ''] : feedback.kind === 'path' ? ['f', feedback.path, ''] : ['a', feedback.before, feedback.after];
  const child = await spawnProcess({ file: '/bin/sh', args: ['-c', GATE, 'tw', ...fb, ...argv], env, cwd, stdio, detached: true });
  if (!('pid' in child)) {
    shut();
    return { exitCode: ExitCode.LaunchFailed, why: child.error };
  }
  const open = (id: number) => {
    // Our end is open for reading too (see fifo.ts), so this write never meets a closed pipe.
    if (fd !== null) writeSync(fd, `${id}\n`);
    shut();
  };
  return { child, open, shut };
}

/** execvp's answer, asked before spawning: 127 if nothing is found, 126 if what is found cannot run. */
export function findCommand(command: string, path: string | undefined, cwd: string): { exitCode: 126 | 127; why: string } | null {
  const candidates = command.includes('/') ? [resolve(cwd, command)] : (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => resolve(cwd, join(dir || '.', command)));
  let denied: string | null = null;
  for (const file of candidates) {
    let isFile: boolean;
    try {
      const stat = statSync(file, { throwIfNoEntry: false }); // most of PATH has no such file: no exception each
      if (!stat) continue;
      isFile = stat.isFile();
    } catch {
      continue;
    }
    try {
      if (!isFile) throw new Error('is a directory');
      accessSync(file, constants.X_OK);
      return null;
    } catch {
      denied ??= isFile ? 'permission denied' : 'is a directory';
    }
  }
  return denied ? { exitCode: ExitCode.NotExecutable, why: denied } : { exitCode: ExitCode.NotFound, why: 'command not found' };
}
