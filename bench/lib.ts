// Helpers for the benchmark: running tw and other commands with a clean
// environment, timing them, sampling /proc, and summarising the numbers.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions, type StdioOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The tw binary the bench runs: a private copy of the build (see snapshotBuild). */
export let TW = join(ROOT, 'bin', 'tw.cjs');

/**
 * Copies bin/ and dist/ into `dir` (with node_modules linked) and runs tw from
 * there: another build while the bench runs would otherwise change what it times. Retries while a
 * rebuild is under way. Returns a description of what was copied.
 */
export async function snapshotBuild(dir: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const dist = join(ROOT, 'dist');
      if (!existsSync(join(dist, 'main.cjs'))) throw new Error('no dist/main.cjs: run node build.mjs');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
      cpSync(dist, join(dir, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      const tw = join(dir, 'bin', 'tw.cjs');
      const r = spawnSync(NODE, [tw, '--version'], { env: childEnv(), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`the copy does not run: ${String(r.stderr).trim().split('\n')[0]}`);
      TW = tw;
      const when = statSync(join(dist, 'main.cjs')).mtime.toISOString();
      return `tw ${String(r.stdout).trim()}, dist/ built ${when}, copied to ${dir}`;
    } catch (e) {
      if (attempt >= 20) throw e;
      await sleep(1000);
    }
  }
}
export const NODE = process.execPath;

export type Env = Record<string, string | undefined>;

/** Variables removed from every timed child, and why (printed in the header). */
export const REMOVED_ENV: Record<string, string> = {
  NODE_EXTRA_CA_CERTS: 'adds ~45 ms of certificate loading to every node start',
  NODE_OPTIONS: 'the bench itself runs under tsx; tw and node must start bare',
  TW_DB: 'each case names its own store',
};

const BASE_ENV: Env = (() => {
  const env: Env = { ...process.env };
  for (const k of Object.keys(REMOVED_ENV)) delete env[k];
  env.NO_COLOR = '1';
  return env;
})();

/** The environment of every child: the bench's own, minus REMOVED_ENV, plus `extra`. */
export function childEnv(extra: Env = {}): Env {
  return { ...BASE_ENV, ...extra };
}

/** The environment for tw on one store. */
export function storeEnv(db: string): Env {
  return childEnv({ TW_DB: db });
}

export interface Cmd {
  label: string;
  file: string;
  args: string[];
  env: Env;
  /** Exit codes that count as success (default [0]). */
  ok?: number[];
}

export const nodeCmd = (label: string, args: string[]): Cmd => ({ label, file: NODE, args, env: childEnv() });
/** tw as `node bin/tw.cjs ...`: the same node binary as the bare-node baseline. */
export const twCmd = (label: string, db: string | null, args: string[]): Cmd => ({
  label,
  file: NODE,
  args: [TW, ...args],
  env: db === null ? childEnv() : storeEnv(db),
});
export const plainCmd = (label: string, file: string, args: string[]): Cmd => ({ label, file, args, env: childEnv() });

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end; stdout and stderr are pipes (as in `$(tw ...)` or `tw list | less`). */
export function run(cmd: Cmd, opts: SpawnSyncOptions = {}): Result {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd.file, cmd.args, {
    env: cmd.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
    ...opts,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${cmd.label}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), ms };
}

export function runOk(cmd: Cmd, opts: SpawnSyncOptions = {}): Result {
  const r = run(cmd, opts);
  if (!(cmd.ok ?? [0]).includes(r.status ?? -1)) {
    throw new Error(`${cmd.label}: exit ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`);
  }
  return r;
}

/**
 * Times each command `runs` times after `warmup` untimed runs, interleaved
 * round by round (and in a rotating order) so that drift of the machine hits
 * every command alike. Returns the wall times in ms per label.
 */
export function measure(cmds: Cmd[], runs: number, warmup: number, opts: SpawnSyncOptions = {}): Map<string, number[]> {
  const times = new Map<string, number[]>(cmds.map((c) => [c.label, []]));
  for (const c of cmds) cpuOfRuns.set(c.label, { ticks: 0, runs: 0 });
  for (let round = 0; round < warmup + runs; round++) {
    for (let i = 0; i < cmds.length; i++) {
      const cmd = cmds[(i + round) % cmds.length]!;
      const c0 = childTicks();
      const r = runOk(cmd, opts);
      const c1 = childTicks();
      if (round >= warmup) {
        times.get(cmd.label)!.push(r.ms);
        const acc = cpuOfRuns.get(cmd.label)!;
        acc.ticks += c1 - c0;
        acc.runs++;
      }
    }
  }
  return times;
}

/** CPU (user+sys) of the timed runs of each label, from the bench's cutime+cstime. */
const cpuOfRuns = new Map<string, { ticks: number; runs: number }>();

/**
 * Mean CPU ms per run of the label's last measure(): a figure the machine's
 * other load barely moves, unlike wall time. Tick-granular per run, but the
 * rounding averages out over the runs.
 */
export function cpuMsPerRun(label: string): number {
  const acc = cpuOfRuns.get(label);
  return acc && acc.runs ? (acc.ticks * 1000) / CLK_TCK / acc.runs : NaN;
}

/** utime+stime of every child the bench has waited for (cutime + cstime), in ticks. */
function childTicks(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]);
}

/** The 1-minute load average and the number of cores, for the header and footer. */
export function load(): string {
  const [one, five] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  return `load average ${one} (1 min), ${five} (5 min) on ${availableParallelism()} cores`;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
export const median = (xs: number[]): number => quantile(xs, 0.5);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wall-clock time in ms with sub-ms resolution (comparable with `date +%s%N`). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- /proc

export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number.parseInt(String(r.stdout ?? ''), 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** utime + stime of a live process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(f[11]) + Number(f[12]);
}

export interface Mem {
  pssKiB: number | null;
  rssAnonKiB: number | null;
  rssKiB: number | null;
}

export function memOf(pid: number): Mem {
  const field = (text: string, key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  let pssKiB: number | null = null;
  try {
    pssKiB = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    /* older kernels */
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { pssKiB, rssAnonKiB: field(status, 'RssAnon'), rssKiB: field(status, 'VmRSS') };
}

export const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** The process's command line, or '' once it is gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- async children

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Exit>;
}

/** Starts a command without waiting; `done` settles with its output when it exits. */
export function start(cmd: Cmd, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Running {
  const startedAt = wallMs();
  const child = spawn(cmd.file, cmd.args, { env: cmd.env, stdio });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Exit>((res, rej) => {
    child.on('error', rej);
    // 'exit' marks the process's end; the pipes may still hold a few bytes, so
    // the output is collected on 'close' while the end time is taken at 'exit'.
    let endedAt = 0;
    child.on('exit', () => (endedAt = wallMs()));
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr, startedAt, endedAt: endedAt || wallMs() }));
  });
  return { child, done };
}

/** Waits for `done`, or gives up after `ms` and returns null. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------- formatting

export const fmtMs = (ms: number): string => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '-');
export const fmtX = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
export const fmtMiB = (kib: number | null): string => (kib === null ? '-' : `${(kib / 1024).toFixed(1)} MiB`);
export const fmtBytes = (n: number): string =>
  n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;

/** An aligned plain-text table. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Median, spread and count of one timed command, as table cells. */
export function timingCells(xs: number[], label?: string): string[] {
  const cells = [fmtMs(median(xs)), fmtMs(quantile(xs, 0)), fmtMs(quantile(xs, 0.9)), String(xs.length)];
  return label === undefined ? cells : [...cells, fmtMs(cpuMsPerRun(label))];
}
