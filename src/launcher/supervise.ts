// The launcher's one event loop: the child's exit, the feedback watcher, one
// timer for the next deadline, and the signals sent to the launcher.
import { makeFolders } from '../core/files.js';
import { dirname } from 'node:path';
import { errnoText, ExitCode, TwError } from '../core/errors.js';
import type { LaunchedTask, ProcessRef } from '../core/task.js';
import type { Deps } from '../tasks/deps.js';
import { exitCodeOf, failToStart, finishRun, type RunEnd } from '../tasks/finish.js';
import { FeedbackReader } from '../feedback/reader.js';
import { formatSize } from '../core/size.js';
import { defaultFeedbackPathAround, timesPath } from '../store/location.js';
import { stopDescendants } from './escaped.js';
import { Watchdog } from './watchdog.js';
import { openChildIo, type ChildIo } from './io/index.js';
import { findCommand, startGated, type FeedbackEnv, type Gate } from './start.js';
import { signalNumber } from '../core/signals.js';
import { processRef, signalGroup } from './proc.js';
import { terminateGroup } from './terminate.js';

const STACKTRACE_LINES = 20;
/** A log's cap when the task names none (`--log-max`). */
export const DEFAULT_LOG_MAX = 100 * 1024 * 1024;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const LEFTOVER_OUTPUT_MS = 500;
const LEFTOVER_OUTPUT_MAX_MS = 5000;
/** How long the end waits for the child's last output to be read, when nothing stalls it. */
const FINAL_OUTPUT_MS = 100;
const delay = (ms: number): Promise<false> => new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());

/** How the child is started: by startChild, before the store is open. */
export interface ChildSpec {
  argv: string[];
  cwd: string;
  stdin: 'inherit' | 'ignore' | 'pipe';
  /** The child's environment, but for TW_TASK_ID and TW_FEEDBACK (the gate sets those). */
  env: NodeJS.ProcessEnv;
  feedback: FeedbackEnv;
  /** Where the FIFOs for its stdio are (see fifo.ts). */
  runDir: string;
  /** Its stdout and stderr one pipe (see openChildIo): its output goes to one place. */
  merged: boolean;
}

/** The child, waiting at its gate; or why it could not be started (its end is recorded once the task is). */
export type Starting =
  | { ok: true; gate: Gate; io: ChildIo; ref: ProcessRef }
  | { ok: false; exitCode: number; why: string };

/** Starts the child behind its gate, before the task is even claimed: a refused claim shuts the gate (abandon). */
export async function startChild(spec: ChildSpec): Promise<Starting> {
  const missing = findCommand(spec.argv[0]!, spec.env.PATH, spec.cwd);
  if (missing) return { ok: false, ...missing };
  const io = await openChildIo(spec.runDir, spec.stdin, spec.merged);
  if (!io) return { ok: false, exitCode: ExitCode.LaunchFailed, why: `cannot make the pipes for its output in ${spec.runDir} (mkfifo)` };
  const started = await startGated(spec.argv, io.childFds, io.gate, spec.feedback, spec.env, spec.cwd);
  io.spawned();
  if (!('child' in started)) {
    io.close();
    return { ok: false, exitCode: started.exitCode, why: started.why };
  }
  const { pid } = started.child;
  const ref = processRef(pid) ?? { pid, startTicks: -1, bootId: '' };
  return { ok: true, gate: started, io, ref };
}

/** The launch was refused: the gate exits without running anything. */
export function abandon(starting: Starting): void {
  if (!starting.ok) return;
  starting.gate.shut();
  starting.io.close();
}

export interface SuperviseOptions {
  /** Pass the child's output through to ours (foreground), or only to the log (detached). */
  tee: boolean;
  /** A signal the launcher got before this began: acted on once the child runs. */
  early?: NodeJS.Signals | null;
}

/** Runs the taken task's command, started by startChild and recorded running, to its end and records it; resolves to the launcher's exit code. */
export async function supervise(deps: Deps, task: LaunchedTask, starting: Starting & { ok: true }, opts: SuperviseOptions): Promise<number> {
  const { store } = deps;
  const graceMs = task.graceMs ?? 10_000;
  const warned = new Set<string>();
  // A store that fails mid-run (disk full) must not stop the child: warn once per kind and go on.
  const record = <T>(what: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof TwError) || e.exitCode !== ExitCode.Store) throw e;
      if (!warned.has(what)) deps.warn(`warning: could not record ${what} of task ${task.id}: ${e.message}`);
      warned.add(what);
      return undefined;
    }
  };

  // Signals that arrive before the child runs are kept and acted on once it does.
  let early: NodeJS.Signals | null = opts.early ?? null;
  let onSignal = (signal: NodeJS.Signals): void => void (early ??= signal);
  const dispatch = (signal: NodeJS.Signals) => onSignal(signal);
  for (const s of FORWARDED) process.on(s, dispatch);

  const { gate, io, ref } = starting;
  const logMax = task.logMax ?? DEFAULT_LOG_MAX;
  try {
    io.attach(task.logPath, opts.tee, deps.warn, { max: logMax, timesPath: timesPath(store.path, task.id) });
  } catch (e) {
    for (const s of FORWARDED) process.off(s, dispatch);
    abandon(starting);
    return failToStart(deps, task, ExitCode.LaunchFailed, e instanceof TwError ? e.message : `cannot write the log ${task.logPath}: ${errnoText(e)}`);
  }
  // tw's own feedback folder is made here; a path the user named was checked at launch, and nothing is made for it.
  if (task.feedbackPath?.startsWith(defaultFeedbackPathAround(store.path)[0])) {
    try {
      makeFolders(dirname(task.feedbackPath));
    } catch (e) {
      deps.warn(`warning: cannot make the folder of the feedback file ${task.feedbackPath} (${(e as NodeJS.ErrnoException).code}); no heartbeat can arrive`);
    }
  }
  // What the feedback file holds before the start is not this task's progress.
  const feedback = task.feedbackPath ? new FeedbackReader(task.feedbackPath) : null;
  feedback?.skipExisting();
  // The command runs from here on.
  gate.open(task.id);
  const startedAt = task.startedAt ?? Date.now();
  const stdin = io.stdin === null ? null : await feedStdin(io.stdin);
  const exited = gate.child.exited;
  type Stop = { why: 'timeout' | 'signal'; text: string };
  let stop = null as Stop | null;
  let termination: Promise<unknown> | null = null;
  const terminate = (why: 'timeout' | 'signal', text: string, first: NodeJS.Signals = 'SIGTERM'): void => {
    stop ??= { why, text };
    termination ??= terminateGroup(ref, graceMs, first);
  };

  // While the child runs: the FIFO pool is refilled when low, off the critical path of the next launch.
  io.refillLater();

  const watchdog = new Watchdog({
    feedback,
    timeoutMs: task.timeoutMs,
    startedAt,
    writeHeartbeat: (beat) => record('a heartbeat', () => store.recordHeartbeat(task.id, beat)),
    onTimeout: (text) => terminate('timeout', text),
  });

  // A second signal (Ctrl-C twice) skips the rest of the grace.
  onSignal = (signal: NodeJS.Signals) => {
    if (stop?.why === 'signal') signalGroup(ref, 'SIGKILL');
    terminate('signal', `cancelled by signal ${signalNumber(signal)} (${signal}) to the launcher`, signal);
  };
  if (early) onSignal(early);

  const { code, signal } = await exited;
  const endedAt = Date.now();
  // The outcome is settled: a signal now only stops the waiting for output below.
  onSignal = () => io.abandon();
  watchdog.stop();
  stdin?.stop();
  // The leader is gone; leave none of its group behind, nor what left the group.
  await (termination ?? terminateGroup(ref, graceMs));
  await stopDescendants(ref, task.id, store.path, graceMs, deps.warn);
  // What the child wrote last is read at once, unless our own reader stalls: a moment for it
  // (the stacktrace is its stderr's last lines), then the end is recorded, whatever our reader does.
  await Promise.race([io.closed, delay(FINAL_OUTPUT_MS)]);
  const reader = watchdog.close();

  // A cancel counts only if it was asked for before the child ended by itself.
  const cancelAt = record('the end', () => store.get(task.id)?.cancelRequestedAt) ?? null;
  const run: RunEnd = {
    exitCode: code,
    signal,
    timedOut: stop?.why === 'timeout',
    cancelled: stop?.why === 'signal' || (cancelAt !== null && cancelAt <= endedAt),
    at: endedAt,
    stopText: stop?.text ?? null,
    stderrTail: io.stderrTail(STACKTRACE_LINES),
    feedback: reader && { values: reader.values, progress: reader.progress, ignored: reader.ignored },
  };
  const recorded = record('the end', () => finishRun(deps, task, run));

  // A process outside the group (setsid) may still hold the output open: read it only a moment
  // longer. A slow reader of ours is waited for, as any pipeline would; the end is on record.
  const patience = Date.now() + LEFTOVER_OUTPUT_MAX_MS;
  while (!(await Promise.race([io.closed.then(() => true), delay(LEFTOVER_OUTPUT_MS)]))) {
    // A slow reader of ours, or a slow machine (no holder seen: another user's would be unseen, hence the bound): wait on.
    if (io.writing || (!io.heldElsewhere() && Date.now() < patience)) continue;
    deps.warn(`warning: a process outside task ${task.id}'s group still holds its output; no longer reading it`);
    io.stop();
    break;
  }
  // Where this task's output ends in its log (a log the user named may get later runs'), and
  // a sign for `logs -f` that the last of it is written.
  const logSize = await io.done();
  if (logSize !== null) record('the end of its log', () => store.recordLogEnd(task.id, logSize));
  if (io.dropped > 0) {
    const text = `the log is capped at ${formatSize(logMax)}: ${formatSize(io.dropped)} of the oldest output of this run was dropped`;
    record('the log cap', () => store.addMessage(task.id, { type: 'notification', text }, Date.now()));
  }
  for (const s of FORWARDED) process.off(s, dispatch);
  // Another process recorded the end first (a cancel while this launcher was stopped): exit as that end says.
  return exitCodeOf(run, recorded && !recorded.recorded ? recorded.task?.state : undefined);
}

/** Our terminal's input, passed on to the child's stdin (a FIFO: `fd`), while it runs. */
async function feedStdin(fd: number): Promise<{ stop(): void }> {
  const { Socket } = await import('node:net');
  const stdin = new Socket({ fd, readable: false, writable: true });
  stdin.on('error', () => stdin.destroy());
  process.stdin.pipe(stdin, { end: false });
  process.stdin.once('end', () => stdin.end(() => stdin.destroy()));
  return {
    stop() {
      process.stdin.unpipe(stdin).destroy();
      stdin.destroy();
    },
  };
}
