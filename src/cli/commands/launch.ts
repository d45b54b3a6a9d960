import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import { noSuchTask, TwError, usageError } from '../../core/errors.js';
import type { Task } from '../../core/task.js';
import { discardFifos, makeFifos } from '../../launcher/fifo.js';
import { processRef, readStat } from '../../launcher/proc.js';
import { reap } from '../../launcher/reap.js';
import { supervise } from '../../launcher/supervise.js';
import { defaultLogPath } from '../../store/location.js';
import type { LaunchPlan, Store } from '../../store/store.js';
import { parseId, parseInfo } from '../args.js';
import type { Context } from '../context.js';

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
}

export async function launch(opts: Options, argv: string[], ctx: Context): Promise<void> {
  if (argv.length === 0 || argv[0] === '') throw usageError('no command: tw launch [options] -- CMD [ARG]...');
  if (opts.id !== undefined && (opts.name !== undefined || opts.unique)) throw usageError('--id takes a reserved task as it is: no --name or --unique with it');
  const id = opts.id === undefined ? undefined : parseId(opts.id);
  const timeoutMs = opts.timeout === undefined ? null : parseDuration(opts.timeout, '--timeout');
  if (timeoutMs === 0) throw usageError('bad --timeout: it must be more than 0');
  const graceMs = parseDuration(opts.grace, '--grace');
  const info = parseInfo(opts.info);
  const name = opts.name ?? basename(argv[0]!);
  const logPath = opts.log === undefined ? null : resolve(opts.log);
  const feedbackPath = opts.feedback === undefined ? null : opts.feedback === true ? 'auto' : resolve(opts.feedback);
  if (logPath !== null) checkWritable(logPath);
  const supervising = !opts.detach || Boolean(opts.supervise);
  // The child's pipes are made by a mkfifo that runs while the store is opened and the task reserved.
  const stdin = opts.supervise ? 'ignore' : stdinMode();
  const fifos = supervising ? makeFifos(join(dirname(ctx.storePath), 'run'), String(process.pid), stdin === 'pipe') : null;
  const store = await ctx.openStore();

  if (!supervising) {
    const forward = [
      ...(opts.timeout === undefined ? [] : ['--timeout', opts.timeout]),
      ...['--grace', opts.grace],
      ...(feedbackPath === null ? [] : [feedbackPath === 'auto' ? '--feedback' : `--feedback=${feedbackPath}`]),
      ...(logPath === null ? [] : ['--log', logPath]),
    ];
    return detach(store, { name, info, unique: Boolean(opts.unique), id, logPath, argv, forward }, ctx);
  }

  const launcher = processRef(process.pid);
  if (!launcher) throw new TwError('cannot read /proc/self: tw needs Linux /proc');
  const plan: LaunchPlan = { command: argv, cwd: process.cwd(), host: hostname(), launcher, timeoutMs, graceMs, logPath, feedbackPath };
  let task: Task;
  try {
    task = claimOrReserve(store, plan, { id, name, info, unique: Boolean(opts.unique) }, ctx.now());
  } catch (e) {
    await discardFifos(fifos!);
    throw e;
  }

  const env: NodeJS.ProcessEnv = { ...ctx.env, TW_TASK_ID: String(task.id), TW_DB: resolve(ctx.storePath) };
  if (task.feedbackPath) env.TW_FEEDBACK = task.feedbackPath;
  else delete env.TW_FEEDBACK;
  const detached = Boolean(opts.supervise);
  process.exitCode = await supervise(store, task, {
    tee: !detached,
    stdin,
    fifos: fifos!,
    env,
    warn: (message) => ctx.stderr.write(`tw: ${message}\n`),
  });
}

/** A log path the user named must be writable before any task is recorded. */
function checkWritable(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  } catch (e) {
    throw new TwError(`cannot write the log ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

interface Want {
  name: string;
  info: Record<string, string>;
  unique: boolean;
  id: number | undefined;
}

function claimOrReserve(store: Store, plan: LaunchPlan, want: Want, now: number): Task {
  if (want.id === undefined) return reserveOrRefuse(store, want, plan, now);
  const claimed = store.claim(want.id, plan);
  if (!claimed.ok) refuseId(want.id, claimed.task);
  return claimed.task;
}

/** Reserves (and, with a plan, claims) a new task, or refuses as `--unique` says. */
function reserveOrRefuse(store: Store, want: Want, plan: LaunchPlan | undefined, now: number): Task {
  // A task whose launcher died must not hold its name: notice it first.
  if (want.unique) reap(store, now);
  const reserved = store.reserve({ name: want.name, info: want.info, unique: want.unique, launch: plan }, now);
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
  if (!process.stdin.isTTY) return 'inherit';
  const self = readStat('self');
  return self && self.pgrp === self.tpgid ? 'pipe' : 'ignore'; // pipe only from the foreground
}

/** Reserves the id, starts a copy of tw in its own session to supervise it, prints the id. */
function detach(
  store: Store,
  want: Want & { logPath: string | null; argv: string[]; forward: string[] },
  ctx: Context,
): void {
  let id = want.id;
  if (id === undefined) id = reserveOrRefuse(store, want, undefined, ctx.now()).id;
  else {
    const task = store.get(id);
    if (!task || task.state !== 'reserved' || task.launcher) refuseId(id, task);
  }
  const logPath = want.logPath ?? defaultLogPath(ctx.storePath, id);
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const log = openSync(logPath, 'a', 0o600);
  // The copy claims the reserved id and supervises as the foreground does; its own notes go to the log.
  const copy = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--db', resolve(ctx.storePath), 'launch', '--supervise', '--id', String(id), ...want.forward, '--', ...want.argv], {
    detached: true,
    stdio: ['ignore', log, log],
    env: ctx.env,
  });
  copy.unref();
  closeSync(log);
  ctx.stdout.write(`${id}\n`);
}
