// Helpers for the steering tests (list, describe, block, cancel, feedback,
// logs, history): launching tasks in the background, waiting for a task to
// reach a state, editing the store behind tw's back, and a private tmux
// server for the tests that need a real terminal.
import type Database from 'better-sqlite3';
import { openKept } from '../src/store/statements.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, NODE, until, type Sandbox, type Started, type TaskJson } from './helpers.js';

/** `tw launch --detach ARGS`: the new task's id. */
export async function launchBg(s: Sandbox, args: readonly string[]): Promise<number> {
  const out = await s.ok(['launch', '--detach', ...args]);
  const id = Number(out.trim());
  if (!Number.isSafeInteger(id) || id < 1) throw new Error(`tw launch --detach printed ${JSON.stringify(out)}`);
  return id;
}

/** `tw launch ARGS` in the foreground, in the background of the test: the launcher process and its task's id. */
export async function launchFg(s: Sandbox, args: readonly string[]): Promise<{ launcher: Started; id: number }> {
  const launcher = s.start(['launch', ...args]);
  const id = await until(
    () => {
      if (launcher.exitCode !== null) throw new Error(`launcher exited ${launcher.exitCode}: ${launcher.output.stderr}`);
      return peekBy(s, 'launcher_pid = ?', launcher.pid!)?.id;
    },
    { what: `the task of launcher ${launcher.pid}` },
  );
  return { launcher, id };
}

/** What the waits look at: a task's row read straight from the store (cheap, unlike a tw process per poll). */
export type Peek = Pick<TaskJson, 'id' | 'state' | 'pid' | 'progress' | 'feedback' | 'endedAt'>;

function peekBy(s: Sandbox, where: string, value: number): Peek | null {
  if (!existsSync(s.db)) return null;
  const db = openKept(s.db, { readonly: true, timeout: 10_000 });
  try {
    const row = db.prepare(`SELECT id, state, pid, progress, feedback, ended_at FROM tasks WHERE ${where} ORDER BY id LIMIT 1`).get(value) as
      | { id: number; state: string; pid: number | null; progress: string | null; feedback: string | null; ended_at: number | null }
      | undefined;
    if (!row) return null;
    return {
      id: row.id,
      state: row.state,
      pid: row.pid,
      progress: row.progress === null ? null : (JSON.parse(row.progress) as Peek['progress']),
      feedback: row.feedback === null ? null : (JSON.parse(row.feedback) as Peek['feedback']),
      endedAt: row.ended_at === null ? null : new Date(row.ended_at).toISOString(),
    };
  } finally {
    db.close();
  }
}

export const peek = (s: Sandbox, id: number): Peek | null => peekBy(s, 'id = ?', id);

/**
 * Waits until `pred` holds for the task: polled in the store directly, then
 * confirmed by `tw describe ID --json`, which is returned.
 */
export async function waitTask(s: Sandbox, id: number, pred: (t: Peek) => boolean, what: string, timeoutMs = 10_000): Promise<TaskJson> {
  let last: unknown;
  try {
    return await until(
      async () => {
        const row = peek(s, id);
        last = row;
        if (!row || !pred(row)) return null;
        const task = await s.task(id);
        last = task;
        return pred(task) ? task : null;
      },
      { what: `task ${id}: ${what}`, timeoutMs, everyMs: 25 },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast seen: ${JSON.stringify(last)}`);
  }
}

export const isRunning = (t: Peek): boolean => t.state === 'running' && typeof t.pid === 'number';
export const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'];
export const isTerminal = (t: Peek): boolean => TERMINAL.includes(t.state);

/** Waits until the task is running with a child pid; the task. */
export const waitRunning = (s: Sandbox, id: number, timeoutMs?: number): Promise<TaskJson> => waitTask(s, id, isRunning, 'running with a pid', timeoutMs);
export const waitEnded = (s: Sandbox, id: number, timeoutMs?: number): Promise<TaskJson> => waitTask(s, id, isTerminal, 'terminal', timeoutMs);

/** Field 22 of /proc/PID/stat, the process's start time in clock ticks since boot. */
export function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** Runs `fn` on the store opened directly (behind tw's back), then closes it. */
export function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = openKept(path, { timeout: 30_000 });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const HUMAN_UTC = /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC/;
// eslint-disable-next-line no-control-regex
export const ESC = /\x1b/;


/** Whether tmux is installed (the real-terminal tests skip without it). */
export const HAVE_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

let tmuxCount = 0;

/**
 * A private tmux server (its own socket in the sandbox's folder, so tests
 * never collide and cleanup removes it) with one session running `command`
 * through sh on a 120x30 terminal.
 */
export class Tmux {
  readonly socket: string;
  readonly session = 'tw';
  private readonly env: NodeJS.ProcessEnv;

  constructor(command: string, s: Sandbox, size: { columns: number; rows: number } = { columns: 120, rows: 30 }) {
    this.socket = join(s.dir, `tmux-${++tmuxCount}.sock`);
    this.env = s.env();
    this.tmux(['new-session', '-d', '-s', this.session, '-x', String(size.columns), '-y', String(size.rows), command]);
    this.serverPid = Number(this.tmux(['display-message', '-p', '#{pid}']).trim());
  }

  /** The server's pid: it is stopped by pid too, should its socket be gone already. */
  private readonly serverPid: number;

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The visible screen; with `escapes`, colours and attributes as escape sequences. */
  capture(escapes = false): string {
    return this.tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.session]);
  }

  /** tmux's view of the cursor: visible (1) or hidden by `\x1b[?25l` (0). */
  cursorVisible(): boolean {
    return this.tmux(['display-message', '-p', '-t', this.session, '#{cursor_flag}']).trim() === '1';
  }

  /** Resizes the terminal: what runs in it gets SIGWINCH. */
  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', this.session, '-x', String(columns), '-y', String(rows)]);
  }

  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...keys]);
  }

  /** Waits until the screen matches; the screen. */
  async screen(re: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
    let last = '';
    try {
      return await until(
        () => {
          last = this.capture();
          return re.test(last) ? last : null;
        },
        { what, timeoutMs },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\nscreen:\n${last}`);
    }
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // the socket is gone (cleanup removed the folder) or the server already stopped
    }
    try {
      if (this.serverPid > 0) process.kill(this.serverPid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** A shell-quoted word. */
export const sq = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** The shell text that runs `tw ARGS` against the sandbox's store, then shows its exit code and waits. */
export function twInPane(s: Sandbox, args: readonly string[], extraEnv: Record<string, string> = {}): string {
  const env = Object.entries({ TW_DB: s.db, ...extraEnv }).map(([k, v]) => `${k}=${sq(v)}`).join(' ');
  return `env ${env} ${sq(NODE)} ${sq(BIN)} ${args.map(sq).join(' ')}; echo EXIT=$?; sleep 60`;
}
