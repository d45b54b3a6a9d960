// Starting a process without node's child_process module. Loading it (and net,
// which it needs) costs 5-6 ms of every launch, its first socket 2 ms more, and
// the launcher needs none of what it adds (streams, IPC, shells): only fork and
// exec with descriptors of ours, and the exit status. So the launcher uses the
// binding child_process itself is built on (process_wrap, still offered by
// process.binding); where a node lacks it, child_process.spawn does the job.
import { getSystemErrorName } from 'node:util';

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

interface ProcessHandle {
  pid?: number;
  onexit: (code: number, signal: string) => void;
  spawn(options: object): number;
  close(): void;
  unref(): void;
}

type ProcessWrap = { Process: new () => ProcessHandle };

let binding: ProcessWrap | null | undefined;

function processWrap(): ProcessWrap | null {
  if (binding !== undefined) return binding;
  const quiet = process.noDeprecation;
  try {
    process.noDeprecation = true; // process.binding warns under --pending-deprecation
    binding = (process as unknown as { binding(name: string): ProcessWrap }).binding('process_wrap');
  } catch {
    binding = null;
  } finally {
    process.noDeprecation = quiet;
  }
  return binding;
}

export function spawnProcess(spec: SpawnSpec): Promise<SpawnResult> {
  const wrap = processWrap();
  return wrap ? Promise.resolve(spawnWrapped(wrap, spec)) : spawnWithChildProcess(spec);
}

export function spawnWrapped(wrap: ProcessWrap, spec: SpawnSpec): SpawnResult {
  const handle = new wrap.Process();
  let settle!: (status: ExitStatus) => void;
  const exited = new Promise<ExitStatus>((resolve) => (settle = resolve));
  handle.onexit = (code, signal) => {
    handle.close();
    settle(signal ? { code: null, signal: signal as NodeJS.Signals } : { code, signal: null });
  };
  const err = handle.spawn({
    file: spec.file,
    args: [spec.file, ...spec.args],
    cwd: spec.cwd,
    envPairs: Object.entries(spec.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
    stdio: spec.stdio.map((s) => (s === 'ignore' ? { type: 'ignore' } : { type: 'fd', fd: s })),
    detached: spec.detached,
  });
  if (err !== 0 || handle.pid === undefined) {
    handle.close();
    return { error: `${spec.file}: ${err ? getSystemErrorName(err) : 'no pid'}` };
  }
  return { pid: handle.pid, exited, unref: () => handle.unref() };
}

/** The same with node's public API, for a node without process_wrap. */
export async function spawnWithChildProcess(spec: SpawnSpec): Promise<SpawnResult> {
  const { spawn } = await import('node:child_process');
  const child = spawn(spec.file, spec.args, { stdio: spec.stdio, env: spec.env, cwd: spec.cwd, detached: spec.detached });
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) return { error: `${spec.file}: ${(await failed).message}` };
  return { pid: child.pid, exited, unref: () => child.unref() };
}
