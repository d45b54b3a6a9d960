// Starting a process: node's child_process.spawn, with descriptors of ours as
// the child's stdio (never node's 'pipe', which is a socketpair: see fifo.ts).
// Public API only: round 1 went through the internal process_wrap binding to
// save 5 ms, and its signature changed under it on Node 24.
import { spawn } from 'node:child_process';

export interface SpawnSpec {
  file: string;
  /** argv, without argv[0] (which is `file`). */
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The child's descriptors 0, 1, 2, ...: one of ours, given as it is, or 'ignore' (/dev/null). */
  stdio: (number | 'ignore')[];
  /** In a session of its own (setsid): its own process group, no terminal. */
  detached: boolean;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  pid: number;
  exited: Promise<ExitStatus>;
  /** The launcher may exit without waiting for this one. */
  unref(): void;
}

export type SpawnResult = Spawned | { error: string };

/**
 * Resolves once the child exists (with its pid) or could not be started. An
 * `error` before the spawn means it never ran, and no `exit` follows (execa).
 */
export function spawnProcess(spec: SpawnSpec): Promise<SpawnResult> {
  let child;
  try {
    child = spawn(spec.file, spec.args, { stdio: spec.stdio, env: spec.env, cwd: spec.cwd, detached: spec.detached });
  } catch (e) {
    return Promise.resolve({ error: `${spec.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
  }
  const started = child;
  const exited = new Promise<ExitStatus>((resolve) => started.once('exit', (code, signal) => resolve({ code, signal })));
  if (started.pid !== undefined) {
    started.on('error', () => {}); // a later error (a failed kill) is not the spawn's
    return Promise.resolve({ pid: started.pid, exited, unref: () => started.unref() });
  }
  return new Promise((resolve) =>
    started.once('error', (e: NodeJS.ErrnoException) => resolve({ error: `${spec.file}: ${e.code ?? e.message}` })),
  );
}
