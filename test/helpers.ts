// Shared by the end-to-end tests: the built binary run against a fresh temp
// store per test, real children, and polling with a deadline (never a fixed sleep).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The binary named by package.json's `bin.tw`, or `$TW_TEST_BIN` (to test another build). */
export const BIN = process.env.TW_TEST_BIN
  ? resolve(process.env.TW_TEST_BIN)
  : join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { tw: string } }).bin.tw);
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const NODE = process.execPath;

/**
 * The changes to a feedback file that the reader's property tests share:
 * bytes appended, the file removed, replaced by a rename, or removed and made
 * anew. Returns false for a step of another kind (the caller's own).
 */
export function changeFile(file: string, step: { kind: string; bytes?: Uint8Array }): boolean {
  if (step.kind === 'append') appendFileSync(file, step.bytes!);
  else if (step.kind === 'remove') rmSync(file, { force: true });
  else if (step.kind === 'rename') {
    writeFileSync(`${file}.tmp`, step.bytes!);
    renameSync(`${file}.tmp`, file);
  } else if (step.kind === 'recreate') {
    rmSync(file, { force: true });
    writeFileSync(file, step.bytes!);
  } else return false;
  return true;
}

/** A fixture program's absolute path. */
export const fixture = (name: string): string => join(FIXTURES, name);

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface RunOptions {
  /** Extra variables; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string | Buffer;
  /** Kill the process and fail the call after this long (default 20 s). */
  timeoutMs?: number;
  /** Options for node itself, before the binary (`--require` a preload, say). */
  nodeArgs?: string[];
  /** Called with the process once it is spawned (to watch its pid). */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * The environment every tw process gets: the caller's, minus what would make
 * it slower (NODE_EXTRA_CA_CERTS costs ~45 ms per node start) or point it at
 * another store or task (a test run inside a tw task must not write there).
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'TW_DB', 'TW_TASK_ID', 'TW_FEEDBACK', 'TW_DEBUG', 'XDG_STATE_HOME', 'NODE_OPTIONS']) delete env[name];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs any program to its end, collecting its output. */
export function exec(file: string, args: readonly string[], opts: RunOptions & { fullEnv?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.fullEnv ?? baseEnv(opts.env),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const limit = opts.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')}: still running after ${limit} ms`));
    }, limit);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** A fresh temp folder and store for one test; `cleanup()` removes it and stops what it started. */
export class Sandbox {
  readonly dir: string;
  readonly db: string;
  private readonly started: ChildProcess[] = [];
  /** Whether this test ran a launcher, so cleanup must look for children left running. */
  private launched = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'tw-test-'));
    this.db = join(this.dir, 'state', 'tw.db');
  }

  /** The environment of a tw process of this sandbox: its store in TW_DB, HOME inside the sandbox. */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return baseEnv({ TW_DB: this.db, HOME: join(this.dir, 'home'), ...extra });
  }

  /** `tw ARGS` to its end. */
  run(args: readonly string[], opts: RunOptions = {}): Promise<Result> {
    if (args.includes('launch')) this.launched = true;
    return exec(NODE, [...(opts.nodeArgs ?? []), BIN, ...args], { ...opts, fullEnv: this.env(opts.env) });
  }

  /** `tw ARGS` that must exit 0; its stdout. */
  async ok(args: readonly string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`tw ${args.join(' ')} exited ${r.code} (${r.signal ?? 'no signal'}): ${r.stderr}`);
    return r.stdout;
  }

  /** `tw ARGS --json`, parsed. */
  async json<T = TaskJson[]>(args: readonly string[], opts: RunOptions = {}): Promise<T> {
    return JSON.parse(await this.ok([...args, '--json'], opts)) as T;
  }

  /** One task as `tw describe ID --json` shows it, with its messages and events. */
  async task(id: number | string): Promise<TaskJson> {
    const [task] = await this.json(['describe', String(id)]);
    if (!task) throw new Error(`tw describe ${id} printed no task`);
    return task;
  }

  /** `tw ARGS` in the background (a launcher, say); stopped by cleanup() if still running. */
  start(args: readonly string[], opts: { env?: Record<string, string | undefined>; stdio?: SpawnOptions['stdio'] } = {}): Started {
    if (args.includes('launch')) this.launched = true;
    return this.track(spawn(NODE, [BIN, ...args], { env: this.env(opts.env), stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] }));
  }

  /** `sh -c SCRIPT ARGS...` with this sandbox's environment, in a process group of its own ($0 is ARGS[0]); stopped by cleanup(). */
  startShell(script: string, args: readonly string[]): Started {
    this.launched = true;
    return this.track(spawn('sh', ['-c', script, ...args], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  }

  /** Collects a started process's output and end, and stops it at cleanup() if it still runs. */
  private track(spawned: ChildProcess): Started {
    const child = spawned as Started;
    child.output = { stdout: '', stderr: '' };
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (child.output.stdout += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (child.output.stderr += c));
    child.ended = new Promise((res) => child.once('close', (code, signal) => res({ code, signal })));
    this.started.push(child);
    return child;
  }

  /** Kills what this test started (launchers and the process groups of their children), removes the folder. */
  async cleanup(): Promise<void> {
    for (const child of this.started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Children of launchers lead their own groups: kill any that still run from this sandbox's store.
    if (this.launched) {
      try {
        const tasks = JSON.parse((await this.run(['list', '--json'], { timeoutMs: 5000 })).stdout || '[]') as TaskJson[];
        for (const t of tasks) if (t.pid) killGroup(t.pid);
      } catch {
        // the store may be broken on purpose
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type Started = ChildProcess & {
  output: { stdout: string; stderr: string };
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/**
 * Options that make `run` calls started now wait, once node is up, until one
 * shared instant `afterMs` from now: N racing processes then really race.
 */
export function barrier(afterMs: number): Pick<RunOptions, 'env' | 'nodeArgs'> {
  return { nodeArgs: ['--require', fixture('barrier.cjs')], env: { TW_TEST_BARRIER_AT: String(Date.now() + afterMs) } };
}

/** A sandbox cleaned up when the test ends: `const s = sandbox(t)`. */
export function sandbox(t: { after(fn: () => Promise<void> | void): void }): Sandbox {
  const s = new Sandbox();
  t.after(() => s.cleanup());
  return s;
}

/** The JSON shape of a task, as far as the tests read it. */
export interface TaskJson {
  id: number;
  name: string;
  info: Record<string, string>;
  state: string;
  liveness: string | null;
  waitingFor?: { slot?: { name: string; running: number; limit: number; position: number }; after?: number[]; retryAt?: string } | null;
  command: string[] | null;
  pid: number | null;
  launcherPid: number | null;
  exitCode: number | null;
  signal: string | null;
  timeoutMs: number | null;
  durationMs: number | null;
  progress: { done: number; total: number } | { percent: number } | null;
  feedback: Record<string, string> | null;
  logPath: string | null;
  feedbackPath: string | null;
  startedAt: string | null;
  endedAt: string | null;
  messages?: { at: string; type: string; text: string; stacktrace: string | null }[];
  events?: { at: string; from: string | null; to: string; reason: string }[];
}

/**
 * Polls `fn` until it returns something truthy, and returns that; throws once
 * the deadline passes, with the last value seen, so a failure says what was.
 */
export async function until<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, everyMs = 50, what = 'condition' }: { timeoutMs?: number; everyMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** /proc/PID/stat's fields after the command name, so index 0 is field 3 (state). */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Exists and is not a zombie. */
export function alive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && f[0] !== 'Z' && Number(f[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** The paths a process has open (empty once it is gone). */
export function openFiles(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Where in the kernel a process sleeps (`hrtimer_nanosleep` in SQLite's busy wait), or '' if unknown. */
export function wchan(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8');
  } catch {
    return '';
  }
}

export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Asserts an error report: exactly one line, starting `tw: `, and no stack trace. */
export function oneLineError(stderr: string): string | null {
  const lines = stderr.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  if (lines.length !== 1) return `expected one line on stderr, got ${lines.length}: ${JSON.stringify(stderr)}`;
  if (!lines[0]!.startsWith('tw: ')) return `expected 'tw: ...', got ${JSON.stringify(lines[0])}`;
  if (/\n\s+at |Error:|\.c?js:\d+/.test(stderr)) return `stack trace on stderr: ${JSON.stringify(stderr)}`;
  return null;
}

/**
 * A `before` hook for every end-to-end file. It builds nothing (`npm test`
 * builds first); it only stops the run at once, with the fix, when there is no build.
 */
export function requireBuild(): void {
  const dist = join(dirname(BIN), '..', 'dist');
  if (!existsSync(BIN) || !existsSync(dist) || readdirSync(dist).length === 0) {
    throw new Error(`no build for ${BIN}: run \`node build.mjs\` (npm test does) first`);
  }
}

/** Looser than oneLineError: the first line is `tw: ...` and there is no stack trace (for tests about exit codes). */
export function twError(stderr: string): string | null {
  if (!stderr.startsWith('tw: ')) return `expected stderr to start with 'tw: ', got ${JSON.stringify(stderr)}`;
  if (/\n\s+at |Error:|\.c?js:\d+/.test(stderr)) return `stack trace on stderr: ${JSON.stringify(stderr)}`;
  return null;
}

/** Runs tw, which must answer within 10 s (a hang fails the test) with `code` and one line matching `pattern`. */
export async function refused(s: Sandbox, args: string[], code: number, pattern: RegExp): Promise<void> {
  const r = await s.run(args, { timeoutMs: 10_000 });
  if (r.code !== code) throw new Error(`tw ${args.join(' ')} exited ${r.code}, not ${code}: ${r.stderr}`);
  const one = oneLineError(r.stderr);
  if (one !== null && code !== 0) throw new Error(one);
  if (!pattern.test(r.stderr)) throw new Error(`tw ${args.join(' ')}: ${JSON.stringify(r.stderr)} does not match ${pattern}`);
}

export interface PingHit {
  method: string;
  path: string;
  rid: string | null;
  body: string;
  /** The client's port: the same for requests over one connection. */
  port: number | undefined;
}

/** A server that records every request: method, path, query, body and connection. */
export async function pingServer(t: { after(fn: () => void): void }): Promise<{ url: string; hits: PingHit[] }> {
  const hits: PingHit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      hits.push({ method: req.method ?? '', path: u.pathname, rid: u.searchParams.get('rid'), body, port: req.socket.remotePort });
      res.end('OK');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`, hits };
}
