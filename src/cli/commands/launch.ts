// `tw launch`: parse, take the task (new, reserved, or queued), and run it in
// the foreground, in a detached copy of tw, or not yet (it waits in line).
import { closeSync, fstatSync, statSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import { parseSize } from '../../core/size.js';
import { errnoText, ExitCode, TwError, usageError } from '../../core/errors.js';
import { openLog } from '../../core/files.js';
import { isTerminal, sameProcess, type ProcessRef, type TaskType } from '../../core/task.js';
import { bootId, readStat } from '../../launcher/proc.js';
import { runOnEnd } from '../../launcher/on-end.js';
import { catchSignals, handOn, runTask } from '../../launcher/run.js';
import { findCommand, type FeedbackEnv } from '../../launcher/start.js';
import { abandon, DEFAULT_LOG_MAX, startChild, type ChildSpec } from '../../launcher/supervise.js';
import { outputsShared } from '../../launcher/io/index.js';
import { defaultFeedbackPathAround, defaultLogPath, runFolder } from '../../store/location.js';
import { prepareOwnFolder } from '../../store/private.js';
import type { LaunchPlan, QueuePlan, Store } from '../../store/store.js';
import { holdTask, takeTask, type Want } from '../../tasks/admit.js';
import { depsOf } from '../../launcher/deps.js';
import type { Deps } from '../../tasks/deps.js';
import { failToStart } from '../../tasks/finish.js';
import { placement, startDetached, type QueueWant } from '../../tasks/queue.js';
import { checkPingUrl, parseCount, parseId, parseIds, parseInfo } from '../args.js';
import type { Context } from '../context.js';
import { isTty } from '../output.js';

export interface Options {
  id?: string;
  name?: string;
  unique?: boolean;
  timeout?: string;
  grace?: string;
  feedback?: string | true;
  info?: string[];
  detach?: boolean;
  log?: string;
  maxRunning?: string;
  maxWaiting?: string;
  after?: string;
  retries?: string;
  retryDelay?: string;
  supervise?: boolean;
  holder?: string;
  queued?: string;
  rerunOf?: string;
  ping?: string;
  onEnd?: string;
  onEndOf?: string;
  logMax?: string;
}

const DEFAULT_GRACE_MS = 10_000;

/** The launch's own flags, parsed before anything is recorded (usage errors first); a type fills in the rest. */
interface Flags {
  timeoutMs?: number | null;
  graceMs?: number;
  maxRunning?: number;
  maxWaiting?: number;
  after: number[];
  retries?: number;
  retryDelayMs?: number;
  ping?: string;
  onEnd?: string;
  logMax?: number;
}

/** What the launch runs with: its flags, else its name's type, else the defaults. */
interface Settings {
  timeoutMs: number | null;
  graceMs: number;
  queue: QueueWant | null;
  maxAttempts: number;
  retryDelayMs: number | null;
  pingUrl: string | null;
  onEnd: string | null;
  logMax: number;
}

export async function launch(opts: Options, argv: string[], ctx: Context): Promise<void> {
  if (opts.queued !== undefined) return runQueued(parseId(opts.queued), parseHolder(opts.holder), ctx);
  if (opts.onEndOf !== undefined) return runOnEnd(depsOf(await ctx.openStore(), ctx), parseId(opts.onEndOf));
  if (argv.length === 0 || argv[0] === '') throw usageError('no command: tw launch [options] -- CMD [ARG]...');
  if (opts.id !== undefined && (opts.name !== undefined || opts.unique)) throw usageError('--id takes a reserved task as it is: no --name or --unique with it');
  const id = opts.id === undefined ? undefined : parseId(opts.id);
  const flags = flagsOf(opts);
  const info = parseInfo(opts.info);
  const name = opts.name ?? basename(argv[0]!);
  const want: Want = { id, name, info, unique: Boolean(opts.unique) };
  const rerunOf = opts.rerunOf === undefined ? undefined : parseId(opts.rerunOf);
  const logPath = opts.log === undefined ? null : resolve(opts.log);
  const feedbackPath = opts.feedback === undefined ? null : opts.feedback === true ? 'auto' : checkFeedbackPath(opts.feedback);
  // A log the user names may hold earlier runs: this task's output starts at its size now.
  const logOffset = logPath === null ? undefined : checkWritable(logPath);
  const storePath = ctx.storePath; // absolute (see resolveStorePath)
  prepareOwnFolder(storePath); // its pipes, log and feedback file go there
  // What the task records of its command, whoever starts it.
  const planOf = (launcher: ProcessRef, settings: Settings, more: Partial<LaunchPlan> = {}): LaunchPlan => ({
    command: argv, cwd: process.cwd(), host: hostname(), launcher, timeoutMs: settings.timeoutMs, graceMs: settings.graceMs, logPath, feedbackPath, info,
    maxAttempts: settings.maxAttempts, retryDelayMs: settings.retryDelayMs, rerunOf, pingUrl: settings.pingUrl, onEnd: settings.onEnd, logMax: settings.logMax, ...more,
  });

  if (opts.detach && !opts.supervise) {
    const deps = depsOf(await ctx.openStore(), ctx);
    const settings = settingsOf(flags, typeOf(deps.store, want), ctx.env);
    const missing = findCommand(argv[0]!, ctx.env.PATH, process.cwd());
    if (missing) {
      // As in the foreground: the task is recorded failed, and the exit code comes back at once.
      const task = takeTask(deps, planOf(deps.proc.self(), settings), want);
      process.exitCode = failToStart(deps, task, missing.exitCode, missing.why);
      return;
    }
    if (settings.queue) {
      const plan = planOf(deps.proc.self(), settings, { queue: queuePlan(settings.queue, childEnv(ctx.env, storePath)) });
      return detachQueued(deps, plan, want, ctx);
    }
    // The copy reads the type itself; what the user said is passed on as said.
    const forward = [
      ...(opts.timeout === undefined ? [] : ['--timeout', opts.timeout]),
      ...(opts.grace === undefined ? [] : ['--grace', opts.grace]),
      ...(opts.retries === undefined ? [] : ['--retries', opts.retries]),
      ...(opts.retryDelay === undefined ? [] : ['--retry-delay', opts.retryDelay]),
      ...(opts.ping === undefined ? [] : ['--ping', opts.ping]),
      ...(opts.onEnd === undefined ? [] : ['--on-end', opts.onEnd]),
      ...(opts.logMax === undefined ? [] : ['--log-max', opts.logMax]),
      ...(feedbackPath === null ? [] : [feedbackPath === 'auto' ? '--feedback' : `--feedback=${feedbackPath}`]),
      ...(logPath === null ? [] : ['--log', logPath]),
      // With --id, the copy merges them into the reserved task's info.
      ...(id === undefined ? [] : Object.entries(info).flatMap(([k, v]) => ['--info', `${k}=${v}`])),
    ];
    return detach(deps, { ...want, rerunOf, logPath, argv, forward }, ctx);
  }

  // The child starts first, waiting at its gate while the store opens; it runs once its start is recorded.
  const feedback: FeedbackEnv =
    feedbackPath === null ? { kind: 'none' } : feedbackPath === 'auto' ? aroundId(defaultFeedbackPathAround(storePath)) : { kind: 'path', path: feedbackPath };
  const spec: ChildSpec = {
    argv,
    cwd: process.cwd(),
    stdin: opts.supervise ? 'ignore' : stdinMode(),
    env: childEnv(ctx.env, storePath),
    feedback,
    runDir: runFolder(storePath),
    merged: opts.supervise === true || outputsShared(),
  };
  // From here on a signal is the user's word about this task: kept, never the default death.
  const signals = catchSignals();
  const starting = await startChild(spec);
  let deps: Deps;
  let task;
  try {
    deps = depsOf(await ctx.openStore(), ctx);
    const settings = settingsOf(flags, typeOf(deps.store, want), ctx.env);
    // The command runs from now on: its gate opens as soon as this is recorded.
    const start = starting.ok ? { child: starting.ref, at: ctx.now() } : undefined;
    // A command that cannot start fails at once, whatever its place in line would be.
    const queue = settings.queue && starting.ok ? queuePlan(settings.queue, null) : undefined;
    task = takeTask(deps, planOf(deps.proc.self(), settings, { logOffset, start, queue }), want, parseHolder(opts.holder));
  } catch (e) {
    signals.release();
    abandon(starting);
    throw e;
  }
  process.exitCode = await runTask(deps, task, starting, signals, { tee: !opts.supervise, spec });
}

function flagsOf(opts: Options): Flags {
  return {
    // --timeout 0 means no limit, as in timeout(1).
    timeoutMs: opts.timeout === undefined ? undefined : parseDuration(opts.timeout, '--timeout') || null,
    graceMs: opts.grace === undefined ? undefined : parseDuration(opts.grace, '--grace'),
    maxRunning: opts.maxRunning === undefined ? undefined : parseCount(opts.maxRunning, '--max-running', 1),
    maxWaiting: opts.maxWaiting === undefined ? undefined : parseCount(opts.maxWaiting, '--max-waiting', 0),
    after: opts.after === undefined ? [] : parseIds(opts.after, '--after'),
    retries: opts.retries === undefined ? undefined : parseCount(opts.retries, '--retries', 0),
    retryDelayMs: opts.retryDelay === undefined ? undefined : parseDuration(opts.retryDelay, '--retry-delay'),
    ping: opts.ping === undefined ? undefined : checkPingUrl(opts.ping, '--ping'),
    onEnd: opts.onEnd,
    logMax: opts.logMax === undefined ? undefined : parseSize(opts.logMax, '--log-max'),
  };
}

/** The type of the task's name: the reserved task's, with --id. */
function typeOf(store: Store, want: Want): TaskType | null {
  const name = want.id === undefined ? want.name : store.get(want.id)?.name;
  return name === undefined ? null : store.type(name);
}

function settingsOf(flags: Flags, type: TaskType | null, env: NodeJS.ProcessEnv): Settings {
  const envPing = env.TW_PING_URL ? checkPingUrl(env.TW_PING_URL, 'TW_PING_URL') : null;
  const maxRunning = flags.maxRunning ?? type?.maxRunning ?? null;
  const maxWaiting = flags.maxWaiting ?? type?.maxWaiting ?? null;
  const timeout = flags.timeoutMs !== undefined ? flags.timeoutMs : (type?.timeoutMs ?? null);
  return {
    timeoutMs: timeout || null,
    graceMs: flags.graceMs ?? type?.graceMs ?? DEFAULT_GRACE_MS,
    queue: maxRunning === null && maxWaiting === null && flags.after.length === 0 ? null : { maxRunning, maxWaiting, after: flags.after },
    maxAttempts: 1 + (flags.retries ?? type?.retries ?? 0),
    retryDelayMs: flags.retryDelayMs ?? type?.retryDelayMs ?? null,
    pingUrl: flags.ping ?? type?.ping ?? envPing,
    onEnd: flags.onEnd ?? type?.onEnd ?? null,
    logMax: flags.logMax ?? DEFAULT_LOG_MAX,
  };
}

/** The child's environment, but for what its gate sets (TW_TASK_ID, TW_FEEDBACK). */
function childEnv(env: NodeJS.ProcessEnv, storePath: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, TW_DB: storePath };
  delete out.TW_TASK_ID;
  delete out.TW_FEEDBACK;
  return out;
}

/** `env`: a detached launch's environment, kept for whoever starts it; null: this launcher starts it. */
const queuePlan = (want: QueueWant, env: NodeJS.ProcessEnv | null): QueuePlan => ({ ...want, env, decide: (name, lineup) => placement(name, want, lineup) });

/** `launch --detach` with a limit or an order: recorded with all it needs to start; a copy of tw supervises it once its turn comes. */
function detachQueued(deps: Deps, plan: LaunchPlan, want: Want, ctx: Context): void {
  const task = takeTask(deps, plan, want);
  ctx.stdout.write(`${task.id}\n`);
  if (task.state === 'reserved') {
    if (!startDetached(deps, task, plan.launcher)) process.exitCode = ExitCode.LaunchFailed;
  } else if (isTerminal(task.state)) {
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
  const launched = { ...task, command: task.command, cwd: task.cwd, logPath: task.logPath };
  const storePath = ctx.storePath;
  const spec: ChildSpec = {
    argv: task.command,
    cwd: task.cwd,
    stdin: 'ignore',
    env: childEnv(ctx.env, storePath),
    feedback: task.feedbackPath ? { kind: 'path', path: task.feedbackPath } : { kind: 'none' },
    runDir: runFolder(storePath),
    merged: true,
  };
  const signals = catchSignals();
  const starting = await startChild(spec);
  if (!starting.ok) {
    // Its failure is recorded only if the task is still this copy's to start: put back in line meanwhile, it is another's.
    const now = deps.store.get(id);
    const ours = now?.queue?.admitted && now.launcher && [deps.proc.self(), holder].some((p) => p && sameProcess(p, now.launcher!));
    if (ours) process.exitCode = await runTask(deps, launched, starting, signals, { tee: false, spec });
    else signals.release();
    return;
  }
  // A log the user named may hold other runs: this task's output starts at its size now.
  let logOffset: number | undefined;
  try {
    logOffset = task.logPath === defaultLogPath(storePath, id) ? undefined : checkWritable(task.logPath);
  } catch {
    logOffset = undefined; // said when the log is opened for the output
  }
  const started = deps.store.startAdmitted(id, { launcher: deps.proc.self(), child: starting.ref, at: ctx.now(), logOffset }, holder);
  if (!started) {
    signals.release();
    abandon(starting);
    handOn(deps);
    return;
  }
  process.exitCode = await runTask(deps, started, starting, signals, { tee: false, spec });
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
 * A feedback file the user names is the task's to write, so it need not exist;
 * but its folder must (nothing is made at the root of the filesystem for a typo),
 * and what is there must be a regular file. Resolved.
 */
function checkFeedbackPath(given: string): string {
  if (given === '') throw usageError('--feedback=PATH needs a path (--feedback alone makes a file in the store\'s folder)');
  const path = resolve(given);
  const refuse = (why: string) => new TwError(`cannot watch the feedback file ${path}: ${why}`, ExitCode.LaunchFailed);
  const folder = statOrNull(dirname(path));
  if (!folder) throw refuse(`its folder ${dirname(path)} does not exist`);
  if (!folder.isDirectory()) throw refuse(`${dirname(path)} is not a directory`);
  const file = statOrNull(path);
  if (file?.isDirectory()) throw refuse('is a directory');
  if (file && !file.isFile()) throw refuse(file.isFIFO() ? 'a FIFO, not a regular file' : 'not a regular file');
  return path;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw new TwError(`cannot watch the feedback file ${path}: ${errnoText(e)}`, ExitCode.LaunchFailed);
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
async function detach(deps: Deps, want: Want & { rerunOf?: number; logPath: string | null; argv: string[]; forward: string[] }, ctx: Context): Promise<void> {
  const id = holdTask(deps, want, want.rerunOf);
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

