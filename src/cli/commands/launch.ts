import { closeSync, fstatSync } from 'node:fs';
import { makeFolders, openLog } from '../../core/files.js';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import { ExitCode, TwError, usageError } from '../../core/errors.js';
import { isTerminal, type LaunchedTask, type ProcessRef } from '../../core/task.js';
import { bootId, readStat, signalNumber } from '../../launcher/proc.js';
import type { FeedbackEnv } from '../../launcher/start.js';
import { findCommand } from '../../launcher/start.js';
import { abandon, startChild, supervise, type Starting } from '../../launcher/supervise.js';
import { defaultFeedbackPathAround, defaultLogPath, runFolder } from '../../store/location.js';
import { prepareOwnFolder } from '../../store/private.js';
import type { LaunchPlan, QueuePlan } from '../../store/store.js';
import { holdTask, takeTask, type Want } from '../../tasks/admit.js';
import { depsOf, type Deps } from '../../tasks/deps.js';
import { failToStart } from '../../tasks/finish.js';
import { observe } from '../../tasks/observe.js';
import { placement, startDetached, waitingFor, waitText, type QueueWant } from '../../tasks/queue.js';
import { parseCount, parseId, parseIds, parseInfo } from '../args.js';
import { StoreWatch } from '../store-watch.js';
import type { Context } from '../context.js';
import { isTty } from '../output.js';

interface Options {
  id?: string;
  name?: string;
  unique?: boolean;
  timeout?: string;
  grace: string;
  feedback?: string | true;
  info?: string[];
  detach?: boolean;
  log?: string;
  supervise?: boolean;
  holder?: string;
  queued?: string;
  maxRunning?: string;
  maxWaiting?: string;
  after?: string;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function launch(opts: Options, argv: string[], ctx: Context): Promise<void> {
  if (opts.queued !== undefined) return runQueued(parseId(opts.queued), parseHolder(opts.holder), ctx);
  if (argv.length === 0 || argv[0] === '') throw usageError('no command: tw launch [options] -- CMD [ARG]...');
  if (opts.id !== undefined && (opts.name !== undefined || opts.unique)) throw usageError('--id takes a reserved task as it is: no --name or --unique with it');
  const id = opts.id === undefined ? undefined : parseId(opts.id);
  // --timeout 0 means no limit, as in timeout(1).
  const timeoutMs = opts.timeout === undefined ? null : parseDuration(opts.timeout, '--timeout') || null;
  const graceMs = parseDuration(opts.grace, '--grace');
  const info = parseInfo(opts.info);
  const queue = queueWant(opts);
  const name = opts.name ?? basename(argv[0]!);
  const logPath = opts.log === undefined ? null : resolve(opts.log);
  const feedbackPath = opts.feedback === undefined ? null : opts.feedback === true ? 'auto' : resolve(opts.feedback);
  // A log the user names may hold earlier runs: this task's output starts at its size now.
  const logOffset = logPath === null ? undefined : checkWritable(logPath);
  // What the task records of its command, whoever starts it.
  const planOf = (launcher: ProcessRef, more: Partial<LaunchPlan> = {}): LaunchPlan =>
    ({ command: argv, cwd: process.cwd(), host: hostname(), launcher, timeoutMs, graceMs, logPath, feedbackPath, info, ...more });
  const supervising = !opts.detach || Boolean(opts.supervise);
  const storePath = ctx.storePath; // absolute (see resolveStorePath)
  prepareOwnFolder(storePath); // its pipes, log and feedback file go there
  if (!supervising) {
    const deps = depsOf(await ctx.openStore(), ctx);
    const forward = [
      ...(opts.timeout === undefined ? [] : ['--timeout', opts.timeout]),
      ...['--grace', opts.grace],
      ...(feedbackPath === null ? [] : [feedbackPath === 'auto' ? '--feedback' : `--feedback=${feedbackPath}`]),
      ...(logPath === null ? [] : ['--log', logPath]),
      // With --id, the copy merges them into the reserved task's info.
      ...(id === undefined ? [] : Object.entries(info).flatMap(([k, v]) => ['--info', `${k}=${v}`])),
    ];
    const missing = findCommand(argv[0]!, ctx.env.PATH, process.cwd());
    if (missing) {
      // As in the foreground: the task is recorded failed, and the exit code comes back at once.
      const task = takeTask(deps, planOf(deps.proc.self()), { id, name, info, unique: Boolean(opts.unique) });
      process.exitCode = failToStart(deps, task, missing.exitCode, missing.why);
      return;
    }
    const want = { id, name, info, unique: Boolean(opts.unique) };
    if (queue) return detachQueued(deps, planOf(deps.proc.self(), { queue: queuePlan(queue, childEnv(ctx.env, storePath)) }), want, ctx);
    return detach(deps, { name, info, unique: Boolean(opts.unique), id, logPath, argv, forward }, ctx);
  }

  // The child starts first, waiting at its gate while the store opens; it runs once its start is recorded.
  const env = childEnv(ctx.env, storePath);
  const feedback: FeedbackEnv =
    feedbackPath === null ? { kind: 'none' } : feedbackPath === 'auto' ? aroundId(defaultFeedbackPathAround(storePath)) : { kind: 'path', path: feedbackPath };
  // From here on a signal is the user's word about this task: kept, never the default death.
  const signals = catchSignals();
  const starting = await startChild({
    argv,
    cwd: process.cwd(),
    stdin: opts.supervise ? 'ignore' : stdinMode(),
    env,
    feedback,
    runDir: runFolder(storePath),
  });
  let task: LaunchedTask;
  let deps: Deps;
  try {
    deps = depsOf(await ctx.openStore(), ctx);
    // The command runs from now on: its gate opens as soon as this is recorded.
    const start = starting.ok ? { child: starting.ref, at: ctx.now() } : undefined;
    // A command that cannot start fails at once, whatever its place in line would be.
    const plan = planOf(deps.proc.self(), { logOffset, start, queue: queue && starting.ok ? queuePlan(queue, null) : undefined });
    task = takeTask(deps, plan, { id, name, info, unique: Boolean(opts.unique) }, parseHolder(opts.holder));
  } catch (e) {
    signals.release();
    abandon(starting);
    throw e;
  }
  if (!starting.ok) {
    signals.release();
    process.exitCode = failToStart(deps, task, starting.exitCode, starting.why);
    return;
  }
  const running = task.state === 'running' ? task : await waitTurn(deps, task, starting, signals, ctx);
  signals.release();
  if (running === null) {
    process.exitCode = ExitCode.LaunchFailed;
    return;
  }
  process.exitCode = await supervise(deps, running, starting, { tee: !opts.supervise, early: signals.first });
  handOn(deps);
}

interface Signals {
  /** The first signal caught, if any. */
  readonly first: NodeJS.Signals | null;
  /** `listener` hears each signal from now on. */
  onSignal(listener: () => void): void;
  release(): void;
}

/** Catches SIGINT, SIGTERM and SIGHUP until released (supervise takes over at once). */
function catchSignals(): Signals {
  let first: NodeJS.Signals | null = null;
  const listeners: (() => void)[] = [];
  const caught = (signal: NodeJS.Signals) => {
    first ??= signal;
    for (const listener of listeners) listener();
  };
  for (const s of FORWARDED) process.on(s, caught);
  return {
    get first() {
      return first;
    },
    onSignal: (listener) => void listeners.push(listener),
    release: () => {
      for (const s of FORWARDED) process.off(s, caught);
    },
  };
}

/** The child's environment, but for what its gate sets (TW_TASK_ID, TW_FEEDBACK). */
function childEnv(env: NodeJS.ProcessEnv, storePath: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, TW_DB: storePath };
  delete out.TW_TASK_ID;
  delete out.TW_FEEDBACK;
  return out;
}

function queueWant(opts: Options): QueueWant | null {
  if (opts.maxRunning === undefined && opts.maxWaiting === undefined && opts.after === undefined) return null;
  return {
    maxRunning: opts.maxRunning === undefined ? null : parseCount(opts.maxRunning, '--max-running', 1),
    maxWaiting: opts.maxWaiting === undefined ? null : parseCount(opts.maxWaiting, '--max-waiting', 0),
    after: opts.after === undefined ? [] : parseIds(opts.after, '--after'),
  };
}

/** `env`: a detached launch's environment, kept for whoever starts it; null: this launcher starts it. */
const queuePlan = (want: QueueWant, env: NodeJS.ProcessEnv | null): QueuePlan => ({ ...want, env, decide: (name, lineup) => placement(name, want, lineup) });

/** The slot this launcher held is free: the next waiting task starts now, not when someone next looks. */
function handOn(deps: Deps): void {
  try {
    observe(deps);
  } catch (e) {
    if (!(e instanceof TwError)) throw e;
    deps.warn(`warning: the next waiting task could not be started: ${e.message}`);
  }
}

/**
 * A foreground launch that must wait: says why, then waits for its turn (any commit may
 * bring it) with its child held at the gate; the task as it starts, or null when it ended
 * unrun (cancelled, a task it runs after failed, Ctrl-C), with the gate shut.
 */
async function waitTurn(deps: Deps, task: LaunchedTask, starting: Starting & { ok: true }, signals: Signals, ctx: Context): Promise<LaunchedTask | null> {
  const { store } = deps;
  const id = task.id;
  const self = deps.proc.self();
  if (task.state === 'waiting') ctx.warn(`task ${id} waits: ${waitText(waitingFor(task, store.lineup()))}`);
  const stop = new AbortController();
  signals.onSignal(() => stop.abort());
  const watch = new StoreWatch(store);
  try {
    for (;;) {
      observe(deps);
      const now = store.get(id);
      if (now?.state === 'waiting' && now.queue.admitted) {
        const started = store.startAdmitted(id, { launcher: self, child: starting.ref, at: deps.now() });
        if (started) return started;
      }
      if (!now || isTerminal(now.state)) {
        const how = now ? store.events(id).at(-1)?.reason ?? now.state : 'it was deleted';
        ctx.warn(`task ${id} did not run: ${how}`);
        abandon(starting);
        return null;
      }
      const signal = signals.first;
      if (signal) {
        const text = `cancelled by signal ${signalNumber(signal)} (${signal}) to the launcher while the task waited`;
        store.recordEnd(id, { state: 'cancelled', at: deps.now(), reason: text, messages: [{ type: 'notification', text }] });
        continue; // read back how it ended
      }
      await watch.next(1000, stop.signal);
    }
  } finally {
    watch.close();
  }
}

/** `launch --detach` with a limit or an order: recorded with all it needs to start; a copy of tw supervises it once its turn comes. */
function detachQueued(deps: Deps, plan: LaunchPlan, want: Want, ctx: Context): void {
  const task = takeTask(deps, plan, want);
  ctx.stdout.write(`${task.id}\n`);
  if (task.state === 'reserved') startDetached(deps, task, plan.launcher);
  else if (isTerminal(task.state)) {
    ctx.warn(`task ${task.id} did not run: ${deps.store.events(task.id).at(-1)?.reason ?? task.state}`);
    process.exitCode = ExitCode.LaunchFailed;
  }
}

/** The copy that starts a queued task whose turn came (`--queued ID`): its command, folder and environment are in the store. */
async function runQueued(id: number, holder: ProcessRef | undefined, ctx: Context): Promise<void> {
  const deps = depsOf(await ctx.openStore(), ctx);
  const task = deps.store.get(id);
  // Ended or taken meanwhile (a cancel, another starter): nothing to do.
  if (!task || isTerminal(task.state) || !task.command || !task.cwd || !task.logPath || !task.queue?.admitted) return;
  const storePath = ctx.storePath;
  const starting = await startChild({
    argv: task.command,
    cwd: task.cwd,
    stdin: 'ignore',
    env: childEnv(ctx.env, storePath),
    feedback: task.feedbackPath ? { kind: 'path', path: task.feedbackPath } : { kind: 'none' },
    runDir: runFolder(storePath),
  });
  // A log the user named may hold other runs: this task's output starts at its size now.
  let logOffset: number | undefined;
  try {
    logOffset = task.logPath === defaultLogPath(storePath, id) ? undefined : checkWritable(task.logPath);
  } catch {
    logOffset = undefined; // said when the log is opened for the output
  }
  if (!starting.ok) {
    process.exitCode = failToStart(deps, { ...task, command: task.command, cwd: task.cwd, logPath: task.logPath }, starting.exitCode, starting.why);
    handOn(deps);
    return;
  }
  const started = deps.store.startAdmitted(id, { launcher: deps.proc.self(), child: starting.ref, at: ctx.now(), logOffset }, holder);
  if (!started) {
    abandon(starting);
    return;
  }
  process.exitCode = await supervise(deps, started, starting, { tee: false });
  handOn(deps);
}

/** `--holder PID:START`, the detaching tw that reserved the task for this copy. */
function parseHolder(text: string | undefined): ProcessRef | undefined {
  const m = text === undefined ? null : /^(\d+):(\d+)$/.exec(text);
  return m ? { pid: Number(m[1]), startTicks: Number(m[2]), bootId: bootId() } : undefined;
}

const aroundId = ([before, after]: [string, string]): FeedbackEnv => ({ kind: 'around-id', before, after });

/** A log path the user named must be a writable regular file, in a folder that exists, before any task is recorded; its size. */
function checkWritable(path: string): number {
  const fd = openLog(path);
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

/**
 * A child in its own process group cannot read the terminal (SIGTTIN), so a
 * terminal stdin is read by the launcher and piped on, but only while the
 * launcher is the terminal's foreground job; a file or pipe is inherited.
 */
function stdinMode(): 'inherit' | 'pipe' | 'ignore' {
  if (!isTty(0)) return 'inherit';
  const self = readStat('self');
  return self && self.pgrp === self.tpgid ? 'pipe' : 'ignore'; // pipe only from the foreground
}

/** Holds the task, starts a copy of tw in its own session to supervise it, prints the id. */
async function detach(deps: Deps, want: Want & { logPath: string | null; argv: string[]; forward: string[] }, ctx: Context): Promise<void> {
  const id = holdTask(deps, want);
  const self = deps.proc.self();
  // The copy claims the held id and supervises as the foreground does; its own notes go to the log.
  const args = ['--db', ctx.storePath, 'launch', '--supervise', '--holder', `${self.pid}:${self.startTicks}`, '--id', String(id), ...want.forward, '--', ...want.argv];
  const copy = deps.proc.startCopy(args, want.logPath ?? defaultLogPath(ctx.storePath, id), ctx.env, process.cwd());
  if (typeof copy === 'string') {
    const why = `cannot start the supervising copy of tw: ${copy}`;
    deps.store.recordEnd(id, { state: 'failed', at: ctx.now(), reason: why, exitCode: ExitCode.LaunchFailed, messages: [{ type: 'error', text: why }] });
    throw new TwError(why);
  }
  deps.store.handOver(id, self, copy); // false: the copy has claimed it already
  ctx.stdout.write(`${id}\n`);
}
