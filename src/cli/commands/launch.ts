import { closeSync, fstatSync } from 'node:fs';
import { makeFolders, openLog } from '../../core/files.js';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import { ExitCode, noSuchTask, TwError, usageError } from '../../core/errors.js';
import type { ProcessRef, Task } from '../../core/task.js';
import { bootId, processRef, readStat } from '../../launcher/proc.js';
import { reap } from '../../launcher/reap.js';
import type { FeedbackEnv } from '../../launcher/start.js';
import { findCommand } from '../../launcher/start.js';
import { spawnProcess } from '../../launcher/spawn.js';
import { abandon, recordSpawnFailure, startChild, supervise } from '../../launcher/supervise.js';
import { defaultFeedbackPathAround, defaultLogPath, runFolder } from '../../store/location.js';
import { prepareOwnFolder } from '../../store/private.js';
import type { LaunchPlan, Store } from '../../store/store.js';
import { parseId, parseInfo } from '../args.js';
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
}

export async function launch(opts: Options, argv: string[], ctx: Context): Promise<void> {
  if (argv.length === 0 || argv[0] === '') throw usageError('no command: tw launch [options] -- CMD [ARG]...');
  if (opts.id !== undefined && (opts.name !== undefined || opts.unique)) throw usageError('--id takes a reserved task as it is: no --name or --unique with it');
  const id = opts.id === undefined ? undefined : parseId(opts.id);
  // --timeout 0 means no limit, as in timeout(1).
  const timeoutMs = opts.timeout === undefined ? null : parseDuration(opts.timeout, '--timeout') || null;
  const graceMs = parseDuration(opts.grace, '--grace');
  const info = parseInfo(opts.info);
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
    const store = await ctx.openStore();
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
      const task = claimOrReserve(store, planOf(selfRef()), { id, name, info, unique: Boolean(opts.unique) }, ctx.now(), undefined);
      process.exitCode = recordSpawnFailure(store, task, missing.exitCode, missing.why, { tee: false, warn: ctx.warn });
      return;
    }
    return detach(store, { name, info, unique: Boolean(opts.unique), id, logPath, argv, forward }, ctx);
  }

  // The child starts first, waiting at its gate while the store opens; it runs once its start is recorded.
  const env: NodeJS.ProcessEnv = { ...ctx.env, TW_DB: storePath };
  delete env.TW_TASK_ID;
  delete env.TW_FEEDBACK;
  const feedback: FeedbackEnv =
    feedbackPath === null ? { kind: 'none' } : feedbackPath === 'auto' ? aroundId(defaultFeedbackPathAround(storePath)) : { kind: 'path', path: feedbackPath };
  const starting = await startChild({
    argv,
    cwd: process.cwd(),
    stdin: opts.supervise ? 'ignore' : stdinMode(),
    env,
    feedback,
    runDir: runFolder(storePath),
  });
  let task: Task;
  let store: Store;
  try {
    store = await ctx.openStore();
    const launcher = selfRef();
    // The command runs from now on: its gate opens as soon as this is recorded.
    const now = ctx.now();
    const start = starting.ok ? { child: starting.ref, at: now } : undefined;
    const plan = planOf(launcher, { logOffset, start });
    task = claimOrReserve(store, plan, { id, name, info, unique: Boolean(opts.unique) }, now, parseHolder(opts.holder));
  } catch (e) {
    abandon(starting);
    throw e;
  }
  const superviseOpts = { tee: !opts.supervise, warn: ctx.warn };
  process.exitCode = starting.ok
    ? await supervise(store, task, starting, superviseOpts)
    : recordSpawnFailure(store, task, starting.exitCode, starting.why, superviseOpts);
}

/** This process, as tasks record their launchers. */
function selfRef(): ProcessRef {
  const self = processRef(process.pid);
  if (!self) throw new TwError('cannot read /proc/self: tw needs Linux /proc');
  return self;
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

interface Want {
  name: string;
  info: Record<string, string>;
  unique: boolean;
  id: number | undefined;
}

function claimOrReserve(store: Store, plan: LaunchPlan, want: Want, now: number, heldBy: ProcessRef | undefined): Task {
  if (want.id === undefined) return reserveOrRefuse(store, want, plan, now);
  const claimed = store.claim(want.id, plan, heldBy);
  if (!claimed.ok) refuseId(want.id, claimed.task);
  return claimed.task;
}

/** Reserves (and, with a plan, claims) a new task, or refuses as `--unique` says. */
function reserveOrRefuse(store: Store, want: Want, plan: LaunchPlan | undefined, now: number, holder?: ProcessRef): Task {
  // A task whose launcher died must not hold its name: notice it first.
  if (want.unique) reap(store, now);
  const reserved = store.reserve({ name: want.name, info: want.info, unique: want.unique, launch: plan, holder }, now);
  if (!reserved.ok) throw new TwError(`task ${reserved.conflict.id} named '${want.name}' is already ${reserved.conflict.state}; not launching another`);
  return reserved.task;
}

/** Why `--id` cannot take this task: only a reserved task no launcher has taken can be launched. */
function refuseId(id: number, task: Task | null): never {
  if (!task) throw noSuchTask(id);
  const why = task.state === 'reserved' ? 'already taken by another launcher' : `already ${task.state}`;
  throw new TwError(`task ${id} is ${why}; only a reserved task can be launched with --id`);
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

/** Reserves the id, starts a copy of tw in its own session to supervise it, prints the id. */
async function detach(
  store: Store,
  want: Want & { logPath: string | null; argv: string[]; forward: string[] },
  ctx: Context,
): Promise<void> {
  // The reservation is held by this process, then by the copy: whoever dies before the copy
  // claims it leaves it to be noticed as lost, never reserved for good.
  const self = selfRef();
  let id = want.id;
  if (id === undefined) id = reserveOrRefuse(store, want, undefined, ctx.now(), self).id;
  else if (!store.handOver(id, null, self)) refuseId(id, store.get(id));
  const logPath = want.logPath ?? defaultLogPath(ctx.storePath, id);
  makeFolders(dirname(logPath));
  const log = openLog(logPath);
  // The copy claims the reserved id and supervises as the foreground does; its own notes go to the log.
  const copy = await spawnProcess({
    file: process.execPath,
    args: [
      ...process.execArgv, process.argv[1]!, '--db', ctx.storePath, 'launch', '--supervise', '--holder', `${self.pid}:${self.startTicks}`,
      '--id', String(id), ...want.forward, '--', ...want.argv,
    ],
    stdio: ['ignore', log, log],
    env: ctx.env,
    cwd: process.cwd(),
    detached: true,
  });
  closeSync(log);
  if (!('pid' in copy)) {
    const why = `cannot start the supervising copy of tw: ${copy.error}`;
    store.recordEnd(id, { state: 'failed', at: ctx.now(), reason: why, exitCode: ExitCode.LaunchFailed, messages: [{ type: 'error', text: why }] });
    throw new TwError(why);
  }
  const copyRef = processRef(copy.pid);
  if (copyRef) store.handOver(id, self, copyRef); // false: the copy has claimed it already
  copy.unref();
  ctx.stdout.write(`${id}\n`);
}
