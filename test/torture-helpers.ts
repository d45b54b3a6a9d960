// The torture scenarios, shared by test/torture.test.ts (scaled down, part of
// `npm test`) and bench/stress.ts (full scale, `npm run stress`): many
// launchers beside readers and a prune loop, launchers killed -9 at random
// moments, and the checks that nothing was lost. Each scenario returns its
// figures and a list of violations (empty when the contract held).
import { openKept } from '../src/store/statements.js';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FeedbackReader } from '../src/feedback/reader.js';
import { feed, newParser, parseBuffer, valuesOf } from '../src/feedback/parser.js';
import { alive, barrier, BIN, changeFile, fixture, killGroup, NODE, oneLineError, until, type Result, type Sandbox, type Started, type TaskJson } from './helpers.js';

export const TERMINAL = ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'];
export const isTerminalState = (state: string): boolean => TERMINAL.includes(state);
/** What must never reach a user: a lock or busy error, or SQLite's own words. */
export const LOCK_WORDS = /lock|busy|SQLITE/i;
export const STACK_TRACE = /\n\s+at |Error:|\.c?js:\d+/;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const randomInt = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

/** Runs `fn` over `items`, at most `limit` at once; the results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** argv of a live (non-zombie) process, or null. */
function argvOf(pid: number): string[] | null {
  if (!alive(pid)) return null;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length ? raw.replace(/\0$/, '').split('\0') : null;
  } catch {
    return null;
  }
}

/**
 * Live processes that are a task's child carrying `token` as an argument:
 * `sh -c SCRIPT TOKEN ...` or `node FIXTURE ... TOKEN`, never the launcher
 * (whose own argv holds the token after `launch`).
 */
export function childrenWith(token: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = argvOf(Number(entry));
    if (!argv || argv.includes('launch')) continue;
    if (argv.some((a) => a === token || a.startsWith(`${token}:`))) pids.push(Number(entry));
  }
  return pids;
}

/** Kills the process groups of every child whose argv holds a word starting with `prefix`; how many. */
export function killChildrenWith(prefix: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = argvOf(Number(entry));
    if (!argv || argv.includes('launch') || !argv.some((a) => a.startsWith(prefix))) continue;
    killGroup(Number(entry));
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone
    }
    killed++;
  }
  return killed;
}

// ------------------------------------------------------------------ audit

/**
 * Triggers that copy every event and message, and every deleted task, into
 * tables of their own: `history prune` deletes a task with its events, and
 * the audit still shows how it ended, and that only ended tasks were deleted.
 * tw ignores tables it does not know.
 */
export function installAudit(db: string): void {
  const conn = openKept(db, { timeout: 30_000 });
  try {
    conn.exec(`
      CREATE TABLE IF NOT EXISTS torture_events (task_id INTEGER, seq INTEGER, from_state TEXT, to_state TEXT, reason TEXT);
      CREATE TRIGGER IF NOT EXISTS torture_events_ai AFTER INSERT ON events BEGIN
        INSERT INTO torture_events VALUES (NEW.task_id, NEW.seq, NEW.from_state, NEW.to_state, NEW.reason);
      END;
      CREATE TABLE IF NOT EXISTS torture_messages (task_id INTEGER, seq INTEGER, type TEXT, text TEXT);
      CREATE TRIGGER IF NOT EXISTS torture_messages_ai AFTER INSERT ON messages BEGIN
        INSERT INTO torture_messages VALUES (NEW.task_id, NEW.seq, NEW.type, NEW.text);
      END;
      CREATE TABLE IF NOT EXISTS torture_beats (task_id INTEGER, at INTEGER);
      CREATE TRIGGER IF NOT EXISTS torture_beats_au AFTER UPDATE OF heartbeat_at ON tasks WHEN NEW.state = 'running' BEGIN
        INSERT INTO torture_beats VALUES (NEW.id, NEW.heartbeat_at);
      END;
      CREATE TABLE IF NOT EXISTS torture_deleted (id INTEGER, state TEXT, ended_at INTEGER);
      CREATE TRIGGER IF NOT EXISTS torture_tasks_ad AFTER DELETE ON tasks BEGIN
        INSERT INTO torture_deleted VALUES (OLD.id, OLD.state, OLD.ended_at);
      END;
    `);
  } finally {
    conn.close();
  }
}

export interface AuditEvent {
  seq: number;
  from: string | null;
  to: string;
  reason: string;
}
export interface Audit {
  events: Map<number, AuditEvent[]>;
  messages: Map<number, { type: string; text: string }[]>;
  deleted: { id: number; state: string; endedAt: number | null }[];
  /** The rows still in `tasks`, and what the (real) events table holds for them. */
  tasks: Map<number, { state: string; endedAt: number | null; terminalEvents: number }>;
  /** sqlite_sequence's value for tasks: the highest id ever given. */
  lastId: number;
}

/** Reads the audit and the store, read-only. */
export function readAudit(db: string): Audit {
  const conn = openKept(db, { readonly: true, timeout: 30_000 });
  try {
    const events = new Map<number, AuditEvent[]>();
    for (const r of conn.prepare('SELECT task_id, seq, from_state, to_state, reason FROM torture_events ORDER BY rowid').all() as {
      task_id: number;
      seq: number;
      from_state: string | null;
      to_state: string;
      reason: string;
    }[]) {
      const list = events.get(r.task_id) ?? [];
      list.push({ seq: r.seq, from: r.from_state, to: r.to_state, reason: r.reason });
      events.set(r.task_id, list);
    }
    const messages = new Map<number, { type: string; text: string }[]>();
    for (const r of conn.prepare('SELECT task_id, type, text FROM torture_messages ORDER BY rowid').all() as { task_id: number; type: string; text: string }[]) {
      const list = messages.get(r.task_id) ?? [];
      list.push({ type: r.type, text: r.text });
      messages.set(r.task_id, list);
    }
    const deleted = (conn.prepare('SELECT id, state, ended_at FROM torture_deleted').all() as { id: number; state: string; ended_at: number | null }[]).map(
      (r) => ({ id: r.id, state: r.state, endedAt: r.ended_at }),
    );
    const terminalList = TERMINAL.map((s) => `'${s}'`).join(', ');
    const tasks = new Map<number, { state: string; endedAt: number | null; terminalEvents: number }>();
    for (const r of conn
      .prepare(
        `SELECT t.id, t.state, t.ended_at, (SELECT count(*) FROM events e WHERE e.task_id = t.id AND e.to_state IN (${terminalList})) AS terminal_events FROM tasks t`,
      )
      .all() as { id: number; state: string; ended_at: number | null; terminal_events: number }[]) {
      tasks.set(r.id, { state: r.state, endedAt: r.ended_at, terminalEvents: r.terminal_events });
    }
    const lastId = (conn.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'tasks'`).pluck().get() as number | undefined) ?? 0;
    return { events, messages, deleted, tasks, lastId };
  } finally {
    conn.close();
  }
}

/** What is wrong with a task's story of events: it must be reserved, then at most running, then at most one end. */
export function storyProblems(id: number, story: { from: string | null; to: string }[], finalState?: string): string[] {
  const problems: string[] = [];
  const path = story.map((e) => `${e.from ?? 'new'}>${e.to}`).join(' ');
  if (story.length === 0) return [`task ${id}: no events at all`];
  if (story[0]!.from !== null || story[0]!.to !== 'reserved') problems.push(`task ${id}: does not start reserved: ${path}`);
  for (let i = 1; i < story.length; i++) {
    if (story[i]!.from !== story[i - 1]!.to) problems.push(`task ${id}: event ${i} does not follow the one before: ${path}`);
  }
  const ends = story.filter((e) => isTerminalState(e.to)).length;
  if (ends > 1) problems.push(`task ${id}: ${ends} ends recorded: ${path}`);
  if (story.filter((e) => e.to === 'running').length > 1) problems.push(`task ${id}: started twice: ${path}`);
  if (ends === 1 && !isTerminalState(story[story.length - 1]!.to)) problems.push(`task ${id}: a change after its end: ${path}`);
  if (finalState !== undefined && story[story.length - 1]!.to !== finalState) problems.push(`task ${id}: state ${finalState} but its last event says ${path}`);
  return problems;
}

/** The JSON shape read by the readers' checks. */
interface SnapshotTask {
  id: number;
  state: string;
  pid: number | null;
  endedAt: string | null;
  events?: { from: string | null; to: string }[];
  messages?: unknown[];
}

/** What is inconsistent in one reader's output (half a write seen): an array of tasks whose fields agree. */
export function snapshotProblems(what: string, stdout: string): string[] {
  let tasks: SnapshotTask[];
  try {
    tasks = JSON.parse(stdout) as SnapshotTask[];
  } catch (e) {
    return [`${what}: output is not JSON (${(e as Error).message}): ${stdout.slice(0, 200)}`];
  }
  if (!Array.isArray(tasks)) return [`${what}: output is not an array`];
  const problems: string[] = [];
  for (const t of tasks) {
    if (!Number.isSafeInteger(t.id) || t.id < 1) problems.push(`${what}: bad id ${JSON.stringify(t.id)}`);
    if (isTerminalState(t.state) !== (t.endedAt !== null)) problems.push(`${what}: task ${t.id} is ${t.state} with endedAt ${t.endedAt}`);
    if (t.state === 'running' && t.pid === null) problems.push(`${what}: task ${t.id} is running without a pid`);
    if (t.events) problems.push(...storyProblems(t.id, t.events, t.state).map((p) => `${what}: ${p}`));
  }
  return problems;
}

// ------------------------------------------------------------------ load

export interface LoadOptions {
  launches: number;
  readers: number;
  /** `tw history prune --keep N` in a loop beside them. */
  pruneKeep: number;
  /** Every this many launches, the child adds a message with `tw message`. */
  messageEvery: number;
  /** Where the children write their TW_TASK_ID (a folder). */
  idsDir: string;
  node: string;
  bin: string;
}

export interface LoadReport {
  launched: number;
  readerCalls: number;
  jsonParsed: number;
  pruneRuns: number;
  pruned: number;
  endsChecked: number;
  idsUnique: number;
  wallMs: number;
  violations: string[];
  /** Reader outputs that showed a task half-changed (its state and its events disagree). */
  torn: string[];
}

/** Exit code the i-th launch's child ends with. */
const loadExitCode = (i: number): number => (i % 7 === 3 ? 3 : 0);

/**
 * N launches of short commands at once (released together by a barrier),
 * beside `readers` processes looping list/describe --json and a prune loop.
 * Then: every launcher exited as its child did, every task ended exactly
 * once (the audit keeps pruned ones), ids unique, only ended tasks pruned,
 * no reader saw half a write, no lock error anywhere.
 */
export async function runLoad(s: Sandbox, o: LoadOptions): Promise<LoadReport> {
  const t0 = Date.now();
  const violations: string[] = [];
  const torn: string[] = [];
  await s.ok(['list']); // creates the store, so the audit can be installed before the race
  installAudit(s.db);
  const stderrProblem = (what: string, r: Result, launcher: boolean): void => {
    for (const line of r.stderr.split('\n').filter(Boolean)) {
      if (LOCK_WORDS.test(line)) violations.push(`${what}: lock/busy/SQLite on stderr: ${line}`);
    }
    if (STACK_TRACE.test(r.stderr)) violations.push(`${what}: stack trace on stderr: ${r.stderr.slice(0, 300)}`);
    if (!launcher && r.stderr !== '') violations.push(`${what}: unexpected stderr: ${r.stderr.slice(0, 300)}`);
  };

  let launching = true;
  let readerCalls = 0;
  let jsonParsed = 0;
  const readerArgs = [['list', '--json'], ['describe', '--json'], ['list', '--all', '--json'], ['history', '--limit', '0', '--json']];
  const reader = async (k: number): Promise<void> => {
    let round = k;
    do {
      const args = readerArgs[round++ % readerArgs.length]!;
      const r = await s.run(args, { timeoutMs: 120_000 });
      readerCalls++;
      const what = `tw ${args.join(' ')}`;
      if (r.code !== 0) violations.push(`${what}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
      stderrProblem(what, r, false);
      const problems = snapshotProblems(what, r.stdout);
      const unparsed = problems.filter((p) => p.includes('not JSON') || p.includes('not an array'));
      if (!unparsed.length) jsonParsed++;
      violations.push(...unparsed);
      torn.push(...problems.filter((p) => !unparsed.includes(p)));
    } while (launching);
  };
  let pruneRuns = 0;
  let pruned = 0;
  const pruner = async (): Promise<void> => {
    do {
      const r = await s.run(['history', 'prune', '--keep', String(o.pruneKeep)], { timeoutMs: 120_000 });
      pruneRuns++;
      if (r.code !== 0) violations.push(`tw history prune: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
      stderrProblem('tw history prune', r, false);
      const n = /(\d+)/.exec(r.stdout);
      if (n) pruned += Number(n[1]);
    } while (launching);
  };

  const readersDone = Promise.all([...Array.from({ length: o.readers }, (_, k) => reader(k)), pruner()]);
  // The launches: a barrier releases them together once node is up in all of them.
  const sync = barrier(1500 + o.launches * 40);
  const launches = Array.from({ length: o.launches }, async (_, i) => {
    const code = loadExitCode(i);
    const idFile = join(o.idsDir, `launch-${i}`);
    const flags: string[] = ['--name', i % 2 ? 'load-odd' : 'load-even'];
    if (i % 3 === 0) flags.push('--info', `i=${i}`, '--info', 'kind=load');
    let script = 'echo "$TW_TASK_ID" > "$1"; ';
    if (i % 4 === 1) {
      flags.push('--feedback');
      script += 'printf "[progress]1/2\\n[i]%s\\n" "$2" >> "$TW_FEEDBACK"; ';
    }
    if (i % 5 === 2) script += 'sleep 0.2; ';
    if (o.messageEvery > 0 && i % o.messageEvery === 0) script += '"$4" "$5" message "hello from $2" || exit 99; ';
    script += 'exit "$3"';
    const r = await s.run(['launch', ...flags, '--', 'sh', '-c', script, 'load', idFile, String(i), String(code), o.node, o.bin], {
      ...sync,
      timeoutMs: 180_000,
    });
    if (r.code !== code) violations.push(`launch ${i}: exited ${r.code} (${r.signal ?? 'no signal'}), its child ${code}: ${r.stderr.slice(0, 300)}`);
    stderrProblem(`launch ${i}`, r, true);
    return r;
  });
  await Promise.all(launches);
  launching = false;
  await readersDone;

  // Ids: one per launch, all different.
  const ids = new Map<number, number>();
  for (let i = 0; i < o.launches; i++) {
    let text = '';
    try {
      text = readFileSync(join(o.idsDir, `launch-${i}`), 'utf8').trim();
    } catch {
      violations.push(`launch ${i}: its child never wrote TW_TASK_ID`);
      continue;
    }
    const id = Number(text);
    if (!Number.isSafeInteger(id) || id < 1) violations.push(`launch ${i}: TW_TASK_ID ${JSON.stringify(text)}`);
    else if (ids.has(id)) violations.push(`launch ${i}: id ${id} already given to launch ${ids.get(id)}`);
    else ids.set(id, i);
  }

  // Every end recorded exactly once, as the exit code says; every message kept.
  const audit = readAudit(s.db);
  let endsChecked = 0;
  for (const [id, i] of ids) {
    const story = audit.events.get(id) ?? [];
    const want = loadExitCode(i) === 0 ? 'succeeded' : 'failed';
    violations.push(...storyProblems(id, story, want));
    const path = story.map((e) => e.to).join('>');
    if (path !== `reserved>running>${want}`) violations.push(`task ${id} (launch ${i}): events ${path}, expected reserved>running>${want}`);
    else endsChecked++;
    const texts = (audit.messages.get(id) ?? []).map((m) => m.text);
    if (!texts.some((t) => /^started with pid \d+$/.test(t))) violations.push(`task ${id}: no 'started' message: ${JSON.stringify(texts)}`);
    if (!texts.some((t) => t === `exited with code ${loadExitCode(i)}`)) violations.push(`task ${id}: no 'exited' message: ${JSON.stringify(texts)}`);
    if (o.messageEvery > 0 && i % o.messageEvery === 0 && !texts.includes(`hello from ${i}`)) violations.push(`task ${id}: its own message was dropped: ${JSON.stringify(texts)}`);
  }
  for (const [id, row] of audit.tasks) {
    if (!isTerminalState(row.state)) violations.push(`task ${id} still ${row.state} after every launcher exited`);
    if (row.terminalEvents !== 1) violations.push(`task ${id}: ${row.terminalEvents} terminal events in the events table`);
  }
  for (const d of audit.deleted) {
    if (!isTerminalState(d.state) || d.endedAt === null) violations.push(`prune deleted task ${d.id} while it was ${d.state}`);
  }
  if (audit.lastId !== o.launches) violations.push(`the store gave ${audit.lastId} ids for ${o.launches} launches`);
  if (audit.tasks.size + audit.deleted.length !== o.launches) {
    violations.push(`${audit.tasks.size} tasks left + ${audit.deleted.length} pruned != ${o.launches} launched`);
  }
  const extraIds = [...audit.events.keys()].filter((id) => !ids.has(id));
  if (extraIds.length) violations.push(`tasks no launch knows of: ${extraIds.join(', ')}`);
  return {
    launched: o.launches,
    readerCalls,
    jsonParsed,
    pruneRuns,
    pruned,
    endsChecked,
    idsUnique: ids.size,
    wallMs: Date.now() - t0,
    violations,
    torn,
  };
}

// ------------------------------------------------------------------ faults

export type FaultMode = 'early' | 'random' | 'running' | 'ending' | 'timeout' | 'unsupervised';
export const FAULT_MODES: FaultMode[] = ['early', 'random', 'running', 'ending', 'timeout', 'unsupervised'];

export interface FaultOptions {
  rounds: number;
  concurrency: number;
  /** Prefix of every child's token, so leftovers can be found and killed. */
  tag: string;
}

export interface FaultReport {
  rounds: number;
  killed: number;
  byMode: Record<string, number>;
  outcomes: Record<string, number>;
  cancelledUnsupervised: number;
  leftoversKilled: number;
  violations: string[];
  wallMs: number;
}

interface Row {
  id: number;
  state: string;
  pid: number | null;
  pid_start: number | null;
  launcher_pid: number | null;
  launcher_start: number | null;
  boot_id: string | null;
  command: string | null;
}

function rowsWith(db: string, token: string): Row[] {
  const conn = openKept(db, { readonly: true, timeout: 30_000 });
  try {
    const rows = conn
      .prepare(`SELECT id, state, pid, pid_start, launcher_pid, launcher_start, boot_id, command FROM tasks WHERE command LIKE ?`)
      .all(`%"${token}"%`) as Row[];
    return rows.filter((r) => (JSON.parse(r.command ?? '[]') as string[]).includes(token));
  } finally {
    conn.close();
  }
}

function eventsOf(db: string, id: number): { from: string | null; to: string }[] {
  const conn = openKept(db, { readonly: true, timeout: 30_000 });
  try {
    return (conn.prepare('SELECT from_state, to_state FROM events WHERE task_id = ? ORDER BY seq').all(id) as { from_state: string | null; to_state: string }[]).map(
      (e) => ({ from: e.from_state, to: e.to_state }),
    );
  } finally {
    conn.close();
  }
}

/** Field 22 of /proc/PID/stat, or null. */
export function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}
const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** tw's rule: the pid exists, is no zombie, and its start time and the boot are the ones recorded. */
export const sameProcess = (pid: number | null, ticks: number | null, boot: string | null): boolean =>
  pid !== null && boot === bootId() && alive(pid) && startTicksOf(pid) === ticks;

/**
 * Launchers killed -9 at random moments of their life: before or as the
 * child starts, while it runs, as it ends (the launcher recording the end),
 * during a timeout's termination. Afterwards, once one `tw list` has reaped:
 * every task is ended (and its child gone), or `lost` (and its child gone),
 * or running with its launcher dead and its child really alive
 * (unsupervised, and then still cancellable); never running with nothing
 * alive, never reserved with a dead launcher.
 */
export async function runFaults(s: Sandbox, o: FaultOptions): Promise<FaultReport> {
  const t0 = Date.now();
  const violations: string[] = [];
  const byMode: Record<string, number> = {};
  await s.ok(['list']);
  interface Round {
    token: string;
    mode: FaultMode;
    launcher: Started;
    killed: boolean;
    expected: number;
    exit: { code: number | null; signal: NodeJS.Signals | null };
  }
  const rounds = await pool(
    Array.from({ length: o.rounds }, (_, i) => i),
    o.concurrency,
    async (i): Promise<Round> => {
      const mode = FAULT_MODES[i % FAULT_MODES.length]!;
      byMode[mode] = (byMode[mode] ?? 0) + 1;
      const token = `${o.tag}-${i}`;
      const code = i % 3 === 1 ? 5 : 0;
      const seconds = mode === 'unsupervised' ? 60 : mode === 'timeout' ? 2 : randomInt(5, 60) / 100;
      const flags = ['--name', `fault-${mode}`];
      if (mode === 'timeout') flags.push('--timeout', '0.3', '--grace', `0.${randomInt(0, 4)}`);
      let script = 'sleep "$1"; exit "$2"';
      if (i % 2 === 0) {
        flags.push('--feedback');
        script = 'echo "[progress]1/2" >> "$TW_FEEDBACK"; sleep "$1"; echo "[progress]2/2" >> "$TW_FEEDBACK"; exit "$2"';
      }
      const launcher = s.start(['launch', ...flags, '--', 'sh', '-c', script, token, String(seconds), String(code)]);
      const expected = mode === 'timeout' ? 124 : code;
      const kill = (): boolean => launcher.exitCode === null && launcher.signalCode === null && launcher.kill('SIGKILL');
      const rowState = (): Row | undefined => rowsWith(s.db, token)[0];
      const ended = () => launcher.exitCode !== null || launcher.signalCode !== null;
      let killed = false;
      try {
        if (mode === 'early') {
          await sleep(randomInt(0, 160));
        } else if (mode === 'random') {
          await sleep(randomInt(0, 250 + seconds * 1000 + 250));
        } else if (mode === 'timeout') {
          await sleep(randomInt(150, 900));
        } else {
          // Until the row shows the child running (or the launcher is gone already).
          await until(() => ended() || rowState()?.state === 'running', { timeoutMs: 30_000, everyMs: 5, what: `task ${token} to run` });
          const row = rowState();
          if (mode === 'running' || mode === 'unsupervised') await sleep(randomInt(0, 40));
          else if (row?.pid) {
            // 'ending': the moment the child is gone, the launcher is recording the end.
            const pid = row.pid;
            await until(() => ended() || !alive(pid), { timeoutMs: 30_000, everyMs: 2, what: `the child of ${token} to end` });
            if (Math.random() < 0.5) await sleep(randomInt(0, 15));
          }
        }
      } catch (e) {
        violations.push(`round ${token}: ${(e as Error).message}`);
      }
      killed = kill();
      const exit = await launcher.ended;
      return { token, mode, launcher, killed, expected, exit };
    },
  );

  // Short children end on their own: wait for them, so the reap below and the checks after it see the same world.
  const shortLived = rounds.filter((r) => r.mode !== 'unsupervised').map((r) => r.token);
  await until(() => shortLived.every((token) => childrenWith(token).length === 0), { timeoutMs: 15_000, everyMs: 100, what: 'the short children to end' }).catch(
    () => undefined, // one still running is then checked as unsupervised
  );
  // One tw list notices what happened (reaps), as any later command would.
  const listed = await s.run(['list'], { timeoutMs: 60_000 });
  if (listed.code !== 0) violations.push(`tw list after the faults: exit ${listed.code}: ${listed.stderr}`);

  const outcomes: Record<string, number> = {};
  const count = (k: string): void => void (outcomes[k] = (outcomes[k] ?? 0) + 1);
  const unsupervised: { id: number; token: string }[] = [];
  for (const r of rounds) {
    const rows = rowsWith(s.db, r.token);
    const children = childrenWith(r.token);
    if (!r.killed) {
      count('launcher exited by itself');
      if (r.exit.code !== r.expected) violations.push(`${r.token}: the launcher exited ${r.exit.code}, expected ${r.expected}: ${r.launcher.output.stderr.slice(0, 300)}`);
    }
    if (rows.length > 1) violations.push(`${r.token}: one launch made ${rows.length} tasks`);
    const row = rows[0];
    if (!row) {
      count('killed before its task was recorded');
      if (children.length) violations.push(`${r.token}: no task recorded, yet its child runs (pids ${children.join(', ')})`);
      continue;
    }
    violations.push(...storyProblems(row.id, eventsOf(s.db, row.id), row.state).map((p) => `${r.token}: ${p}`));
    if (isTerminalState(row.state)) {
      count(row.state);
      if (children.length) violations.push(`${r.token}: task ${row.id} recorded ${row.state}, yet its child still runs (pids ${children.join(', ')})`);
    } else if (row.state === 'running') {
      const launcherAlive = sameProcess(row.launcher_pid, row.launcher_start, row.boot_id);
      const childAlive = sameProcess(row.pid, row.pid_start, row.boot_id);
      if (launcherAlive) violations.push(`${r.token}: task ${row.id} running, its launcher (killed) recorded alive`);
      if (!childAlive) violations.push(`${r.token}: task ${row.id} running with nothing alive (pid ${row.pid})`);
      else {
        count('running, unsupervised');
        unsupervised.push({ id: row.id, token: r.token });
      }
    } else {
      count(row.state);
      violations.push(`${r.token}: task ${row.id} left ${row.state} (launcher pid ${row.launcher_pid} dead) after tw list`);
    }
  }

  // Unsupervised tasks: shown so, and still cancellable; then nothing of theirs runs.
  let cancelledUnsupervised = 0;
  if (unsupervised.length) {
    const shown = JSON.parse((await s.run(['list', '--json'])).stdout || '[]') as { id: number; liveness: string | null }[];
    for (const u of unsupervised) {
      const live = shown.find((t) => t.id === u.id)?.liveness;
      if (live !== 'unsupervised') violations.push(`task ${u.id}: liveness ${live}, expected unsupervised`);
    }
    const r = await s.run(['cancel', '--grace', '1s', ...unsupervised.map((u) => String(u.id))], { timeoutMs: 60_000 });
    if (r.code !== 0) violations.push(`tw cancel of the unsupervised tasks: exit ${r.code}: ${r.stderr}`);
    for (const u of unsupervised) {
      const [row] = rowsWith(s.db, u.token);
      if (row?.state === 'cancelled') cancelledUnsupervised++;
      else violations.push(`unsupervised task ${u.id}: ${row?.state} after tw cancel`);
      const left = childrenWith(u.token);
      if (left.length) violations.push(`unsupervised task ${u.id}: cancelled, yet pids ${left.join(', ')} run`);
    }
  }
  const leftoversKilled = killChildrenWith(o.tag);
  return {
    rounds: o.rounds,
    killed: rounds.filter((r) => r.killed).length,
    byMode,
    outcomes,
    cancelledUnsupervised,
    leftoversKilled,
    violations,
    wallMs: Date.now() - t0,
  };
}


// ------------------------------------------------------------------ the spawn window

/**
 * A launcher killed -9 in the window between its child's spawn and the
 * opening of that child's gate (a preload freezes it there, as a launcher
 * waiting for a busy store's lock would be): at 'spawn', before the task is
 * recorded; at 'gate', once it is recorded running. Either way the command
 * must never run untracked: the gate reads end-of-file and exits without
 * running it, and a recorded task ends lost, never ended while a child of it
 * runs. Returns what `tw describe` then says, and whether the child ran on.
 */
export async function runSpawnWindow(s: Sandbox, token: string, at: 'spawn' | 'gate'): Promise<{ task: TaskJson | undefined; childPid: number; childRuns: boolean; violation: string | null }> {
  const marker = join(s.dir, `spawned-${token}`);
  await s.ok(['list']);
  const launcher = spawn(NODE, ['--require', fixture('torture-freeze-after-spawn.cjs'), BIN, 'launch', '--name', 'window', '--', 'sh', '-c', 'sleep 30; exit 0', token], {
    env: s.env({ TW_TORTURE_FREEZE_TOKEN: token, TW_TORTURE_FREEZE_MARKER: marker, TW_TORTURE_FREEZE_AT: at }),
    stdio: 'ignore',
  });
  const exited = new Promise((r) => launcher.once('close', r));
  try {
    await until(() => existsSync(marker) && readFileSync(marker, 'utf8') !== '', { what: 'the launcher to spawn its child', timeoutMs: 15_000 });
    if (at === 'gate') await until(async () => (await s.ok(['list', '--json'])).includes(token), { what: 'the task to be recorded' });
  } finally {
    launcher.kill('SIGKILL');
    await exited;
  }
  const childPid = Number(readFileSync(marker, 'utf8'));
  // The gate sees its launcher gone and exits: the command does not run.
  const gone = await until(() => childrenWith(token).length === 0, { what: 'the gate to exit', timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
  const tasks = JSON.parse(await s.ok(['describe', '--json'])) as TaskJson[];
  const task = tasks.find((t) => t.command?.includes(token));
  const childRuns = childrenWith(token).length > 0;
  let violation: string | null = null;
  if (!gone) violation = `${token}: the child (pid ${childPid}) runs on after its launcher died at '${at}', before its gate opened`;
  else if (at === 'gate' && !task) violation = `${token}: no task recorded, though the launcher froze after recording it`;
  else if (task && task.state !== 'lost') violation = `${token}: task ${task.id} is ${task.state} (${task.liveness}) with its launcher and child gone`;
  return { task, childPid, childRuns, violation };
}

// ------------------------------------------------------------------ bad input on the command line

export const BAD_IDS = ['-1', '0', '1.5', 'abc', '99999999999999999999', '1e3', ''];

export interface Tried {
  tried: number;
  violations: string[];
  notes: string[];
}

/** describe, cancel, logs, feedback, message and launch --id with each bad id: exit 2 (launch 125), one line, nothing run. */
export async function runBadIds(s: Sandbox, concurrency: number, ids: readonly string[] = BAD_IDS): Promise<Tried> {
  const ran = join(s.dir, 'ran-bad-id');
  const cases = ids.flatMap((id) => [
    { args: ['describe', id], code: 2 },
    { args: ['cancel', id], code: 2 },
    { args: ['logs', id], code: 2 },
    { args: ['feedback', id], code: 2 },
    { args: ['message', id, 'text'], code: 2 },
    { args: ['launch', '--id', id, '--', 'sh', '-c', 'echo ran > "$1"', 'x', ran], code: 125 },
  ]);
  const results = await pool(cases, concurrency, (c) => s.run(c.args));
  const violations = cases.flatMap((c, i) => {
    const r = results[i]!;
    const why = r.code !== c.code ? `exit ${r.code}, expected ${c.code}` : oneLineError(r.stderr);
    return why ? [`tw ${JSON.stringify(c.args)}: ${why}: ${JSON.stringify(r.stderr)}`] : [];
  });
  if (existsSync(ran)) violations.push('a launch with a bad id ran its command');
  return { tried: cases.length, violations, notes: [] };
}

/** `--info` without `=`: reserve exits 2, launch 125, nothing reserved or run. */
export async function runBadInfo(s: Sandbox): Promise<Tried> {
  const ran = join(s.dir, 'ran-bad-info');
  const cmd = ['--', 'sh', '-c', 'echo ran > "$1"', 'x', ran];
  const cases: [string[], number][] = [
    [['reserve', '--info', 'foo'], 2],
    [['reserve', '--info', '=v'], 2],
    [['reserve', '--info', 'ok=1', '--info', 'bare'], 2],
    [['launch', '--info', 'foo', ...cmd], 125],
    [['launch', '--info', '=v', ...cmd], 125],
    [['launch', '--detach', '--info', 'foo', ...cmd], 125],
  ];
  const violations: string[] = [];
  for (const [args, code] of cases) {
    const r = await s.run(args);
    const why = r.code !== code ? `exit ${r.code}, expected ${code}` : oneLineError(r.stderr);
    if (why) violations.push(`tw ${args.join(' ')}: ${why}: ${JSON.stringify(r.stderr)}`);
  }
  if (existsSync(ran)) violations.push('a launch with a bad --info ran its command');
  return { tried: cases.length, violations, notes: [] };
}

export const BAD_FEEDBACK_PATHS: [string, (dir: string) => string][] = [
  ['a directory', (dir) => {
    mkdirSync(join(dir, 'fb-dir'));
    return join(dir, 'fb-dir');
  }],
  ['a FIFO', (dir) => {
    spawnSync('mkfifo', [join(dir, 'fb-fifo')]);
    return join(dir, 'fb-fifo');
  }],
  ['a path under a regular file', (dir) => {
    writeFileSync(join(dir, 'plain'), 'x');
    return join(dir, 'plain', 'feedback.txt');
  }],
  ['/dev/null', () => '/dev/null'],
];

/** `launch --feedback=PATH` with a path that cannot be a feedback file: refused at once (exit 125, one line); nothing runs, nothing is recorded. */
export async function runBadFeedbackPath(s: Sandbox, what: string, make: (dir: string) => string): Promise<string[]> {
  const dir = join(s.dir, `fb-${what.replace(/\W+/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const path = make(dir);
  const ran = join(dir, 'ran');
  const r = await s.run(['launch', '--name', 'bad-feedback', `--feedback=${path}`, '--timeout', '30', '--', 'sh', '-c', 'echo ran > "$1"; exit 3', what, ran], { timeoutMs: 20_000 });
  const problems: string[] = [];
  if (r.code !== 125) problems.push(`${what}: launch exited ${r.code}, not 125: ${r.stderr.trim()}`);
  const why = oneLineError(r.stderr);
  if (why) problems.push(`${what}: ${why}: ${JSON.stringify(r.stderr)}`);
  if (existsSync(ran)) problems.push(`${what}: the child ran`);
  const tasks = JSON.parse(await s.ok(['describe', '--json'])) as TaskJson[];
  if (tasks.length) problems.push(`${what}: ${tasks.length} task(s) recorded`);
  return problems;
}

/** Broken store files made from a real store's bytes (all of it in the main file). */
export function storeVariants(good: Buffer): [string, (path: string) => void][] {
  const page = 4096;
  const variants: [string, (path: string) => void][] = [];
  for (const at of [1, 16, 99, 512, page, 2 * page + 100, Math.floor(good.length / 2), good.length - page, good.length - 1]) {
    variants.push([`truncated at ${at}`, (p) => writeFileSync(p, good.subarray(0, at))]);
  }
  variants.push(['a valid header over random pages', (p) => writeFileSync(p, Buffer.concat([good.subarray(0, 100), randomBytes(good.length - 100)]))]);
  for (const n of [1, 2, Math.floor(good.length / page) - 1]) {
    variants.push([`page ${n + 1} of ${good.length / page} overwritten with random bytes`, (p) => {
      const b = Buffer.from(good);
      randomBytes(page).copy(b, n * page);
      writeFileSync(p, b);
    }]);
  }
  variants.push(['a garbage -wal beside a good store', (p) => {
    writeFileSync(p, good);
    writeFileSync(`${p}-wal`, randomBytes(64 * 1024));
  }]);
  variants.push([NEWER_SCHEMA, (p) => {
    writeFileSync(p, good);
    const db = openKept(p);
    db.exec('CREATE TABLE future (x INTEGER)');
    db.pragma(`user_version = ${(db.pragma('user_version', { simple: true }) as number) + 1}`);
    db.close();
  }]);
  variants.push(['a folder', (p) => mkdirSync(p)]);
  variants.push(['random bytes', (p) => writeFileSync(p, randomBytes(good.length))]);
  variants.push(['zero bytes', (p) => writeFileSync(p, '')]);
  return variants;
}
export const NEWER_SCHEMA = 'one schema version newer, with a table this tw does not know';

/** A real store of several pages: a few tasks with long info, a long message; checkpointed into the main file. */
export async function makeRealStore(s: Sandbox): Promise<Buffer> {
  for (let i = 0; i < 4; i++) await s.run(['launch', '--name', `n${i}`, '--info', `k=${'v'.repeat(3000)}`, '--', 'true']);
  await s.ok(['message', '1', 'x'.repeat(9000)]);
  const db = openKept(s.db, { timeout: 30_000 });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return readFileSync(s.db);
}

/**
 * Every command on each broken store: exit 3 with one line and nothing on
 * stdout, or a working store (0, or 4 for a missing task; JSON that parses);
 * launch runs or exits 125; never a stack trace or an internal error. A
 * store one schema newer is refused by every command, even to write, and
 * left as it was.
 */
export async function runStoreVariants(s: Sandbox, good: Buffer, concurrency: number): Promise<Tried> {
  const variants = storeVariants(good);
  const commands = [['list', '--json'], ['describe', '--json'], ['reserve'], ['history', 'prune', '--keep', '1'], ['launch', '--', 'sh', '-c', 'echo ran > "$1"', 'x']];
  let tried = 0;
  const violations: string[] = [];
  const notes: string[] = [];
  await pool(variants, concurrency, async ([what, make], i) => {
    const dir = join(s.dir, `variant-${i}`);
    mkdirSync(dir);
    const db = join(dir, 'tw.db');
    make(db);
    const codes: string[] = [];
    for (const args of commands) {
      const full = args[0] === 'launch' ? [...args, join(dir, `ran-${tried}`)] : args;
      const r = await s.run(['--db', db, ...full], { timeoutMs: 20_000 });
      tried++;
      codes.push(String(r.code));
      const label = `${what}: tw ${args.join(' ')}`;
      const bad = (why: string | null): void => void (why && violations.push(`${label}: ${why}`));
      if (/internal error/.test(r.stderr)) bad(`internal error: ${r.stderr.trim()}`);
      if (STACK_TRACE.test(r.stderr)) bad(`stack trace: ${r.stderr}`);
      if (args[0] === 'launch') {
        if (r.code !== 0 && r.code !== 125) bad(`exit ${r.code}: ${r.stderr.trim()}`);
        else if (r.code === 125) bad(oneLineError(r.stderr));
      } else if (r.code === 3) {
        bad(oneLineError(r.stderr));
        if (r.stdout !== '') bad(`exit 3 with output ${JSON.stringify(r.stdout.slice(0, 100))}`);
      } else if (r.code === 0 || r.code === 4) {
        if (args.includes('--json')) {
          try {
            JSON.parse(r.stdout);
          } catch {
            bad(`output is not JSON: ${r.stdout.slice(0, 100)}`);
          }
        }
      } else bad(`exit ${r.code}: ${r.stderr.trim()}`);
    }
    if (what === NEWER_SCHEMA) {
      if (codes.join('/') !== '3/3/3/3/125') violations.push(`${what}: exits ${codes.join('/')}; an older tw refuses a newer store, even to write`);
      const check = openKept(db, { readonly: true });
      try {
        if ((check.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'future'`).pluck().get() as number) !== 1) violations.push(`${what}: the newer store was changed`);
      } finally {
        check.close();
      }
    }
    notes.push(`${what}: ${codes.join('/')}`);
  });
  return { tried, violations, notes };
}

// ------------------------------------------------------------------ the feedback reader under changes

/** One change to a feedback file between a reader's polls, or a poll. */
export type ReaderOp =
  | { kind: 'append' | 'rewrite' | 'shrink' | 'rename' | 'recreate'; bytes: Uint8Array }
  | { kind: 'poll' | 'remove' };

const enc = new TextEncoder();
/** Bytes to append: lines, lines around 64 KiB, 300 KiB runs (past the reader's 256 KiB chunk), characters and CRLF cut in two, NUL, random bytes. */
export const feedbackPiece: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('a', 'b', 'progress', 'ключ', '1st', ''), fc.string({ maxLength: 8 })).map(([k, v]) => enc.encode(`[${k}]${v}\n`)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('é', '€', '𝄞', '\r\n', '[k]日本\n'), fc.nat()).map(([s, cut]) => enc.encode(s).subarray(0, 1 + (cut % enc.encode(s).length))) },
  { weight: 2, arbitrary: fc.constantFrom('é', '€', '𝄞', '\r\n', '\n').map((s) => enc.encode(s).subarray(1)) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * 1024 - 8, max: 64 * 1024 + 8 }).map((n) => enc.encode(`[big]${'x'.repeat(n)}`)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => Buffer.alloc(300 * 1024, 'y')) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0]), Buffer.from([0xff, 0x0a]), Buffer.from('[n]a\0b\n'), Buffer.from('[]\n'), Buffer.from('# c\n')) },
);

/**
 * Sequences of changes and polls. `replaces`: renames over the file,
 * remove-and-recreate, removal, and rewrites that make it shorter than
 * what was read (polled at once, as only then can a reader tell). `rewrites`:
 * rewrites in place (same inode) at least as long as what was read, whose
 * last 16 bytes before the old end differ (what `printf ... > file` does).
 */
export function readerOps(o: { rewrites: boolean; replaces: boolean }): fc.Arbitrary<ReaderOp[]> {
  const several = fc.array(feedbackPiece, { maxLength: 3 }).map((ps) => Buffer.concat(ps));
  const arbs: { weight: number; arbitrary: fc.Arbitrary<ReaderOp> }[] = [
    { weight: 5, arbitrary: feedbackPiece.map((bytes): ReaderOp => ({ kind: 'append', bytes })) },
    { weight: 4, arbitrary: fc.constant<ReaderOp>({ kind: 'poll' }) },
  ];
  if (o.rewrites) arbs.push({ weight: 1, arbitrary: several.map((bytes): ReaderOp => ({ kind: 'rewrite', bytes })) });
  if (o.replaces) {
    arbs.push({
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('shrink' as const, 'rename' as const, 'recreate' as const), several).map(([kind, bytes]): ReaderOp => ({ kind, bytes })),
    });
    arbs.push({ weight: 1, arbitrary: fc.constant<ReaderOp>({ kind: 'remove' }) });
  }
  return fc.array(fc.oneof(...arbs), { maxLength: 20 });
}

/** What a reader that polled just now must hold: the file's complete lines. */
function unfinishedParse(buf: Uint8Array): { values: Record<string, string>; ignored: number } {
  const state = newParser();
  feed(state, buf);
  return { values: valuesOf(state), ignored: state.ignored };
}

let readerFile = 0;
/** Plays the steps on a file in `dir` and a reader; throws unless the reader holds a whole-file parse after each poll and at the end. */
export function playReader(dir: string, steps: ReaderOp[]): void {
  const file = join(dir, `feedback-${process.pid}-${++readerFile}`);
  fs.writeFileSync(file, '');
  const reader = new FeedbackReader(file);
  const holds = () => ({ values: reader.values, ignored: reader.ignored });
  let polled = Buffer.alloc(0);
  const poll = (): void => {
    const r = reader.poll();
    assert.equal(r.error, null);
    assert.equal(r.exists, fs.existsSync(file));
    polled = r.exists ? fs.readFileSync(file) : Buffer.alloc(0);
    if (r.exists) assert.deepEqual(holds(), unfinishedParse(polled));
  };
  try {
    for (const step of steps) {
      if (changeFile(file, step)) continue;
      if (step.kind === 'poll') poll();
      else if (step.kind === 'shrink') {
        if (polled.length > 0 && fs.existsSync(file)) {
          fs.writeFileSync(file, Buffer.from(step.bytes).subarray(0, polled.length - 1));
          poll();
        }
      } else {
        // In place, as long as what the reader has read at least, and different in the last bytes it read.
        const old = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
        let next = Buffer.concat([Buffer.from('[rw]'), Buffer.from((step as { bytes: Uint8Array }).bytes)]);
        if (next.length < old.length) next = Buffer.concat([next, Buffer.alloc(old.length - next.length, 'z')]);
        const from = Math.max(0, polled.length - 16);
        if (polled.length > 0 && next.length >= polled.length && next.subarray(from, polled.length).equals(polled.subarray(from))) {
          next[polled.length - 1] = next[polled.length - 1]! ^ 0x01;
        }
        fs.writeFileSync(file, next);
      }
    }
    const last = reader.finish();
    if (fs.existsSync(file)) {
      assert.equal(last.exists, true);
      assert.deepEqual(holds(), parseBuffer(fs.readFileSync(file)));
    }
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.tmp`, { force: true });
  }
}
