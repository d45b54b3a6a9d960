// Starting the child behind a gate: a tiny sh that waits for one line on fd 3
// and then execs the command (same pid, same start time, argv never parsed by
// the shell). The launcher opens the gate only once the start is recorded, so
// a launcher killed in between leaves nothing running untracked: the gate
// reads end-of-file and exits.
import { spawn, type ChildProcess, type StdioNull, type StdioPipe } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { ExitCode } from '../core/errors.js';

const GATE = 'IFS= read -r _ <&3 || exit 125; exec "$@" 3<&-';

export type Started = { child: ChildProcess; open(): void } | { exitCode: 126 | 127; why: string };

type Stdio = number | StdioNull | StdioPipe;

export function startGated(argv: string[], stdio: [Stdio, Stdio, Stdio], env: NodeJS.ProcessEnv, cwd: string): Started {
  const missing = findCommand(argv[0]!, env.PATH, cwd);
  if (missing) return missing;
  const child = spawn('/bin/sh', ['-c', GATE, 'tw', ...argv], { detached: true, stdio: [...stdio, 'pipe'], env, cwd });
  const gate = child.stdio[3] as NodeJS.WritableStream & { on(event: 'error', fn: () => void): void };
  gate.on('error', () => undefined); // the child may be gone already
  return { child, open: () => gate.end('go\n') };
}

/** execvp's answer, asked before spawning: 127 if nothing is found, 126 if what is found cannot run. */
export function findCommand(command: string, path: string | undefined, cwd: string): { exitCode: 126 | 127; why: string } | null {
  const candidates = command.includes('/') ? [resolve(cwd, command)] : (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => resolve(cwd, join(dir || '.', command)));
  let denied: string | null = null;
  for (const file of candidates) {
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
    } catch {
      continue;
    }
    try {
      if (!isFile) throw new Error('is a folder');
      accessSync(file, constants.X_OK);
      return null;
    } catch {
      denied ??= isFile ? 'permission denied' : 'is a folder';
    }
  }
  return denied ? { exitCode: ExitCode.NotExecutable, why: denied } : { exitCode: ExitCode.NotFound, why: 'command not found' };
}
