// The launcher's one event loop: the child's exit, the feedback watcher, one
// timer for the next deadline, and the signals sent to the launcher.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, isTwError } from '../core/errors.js';
import { endState, launchExitCode, type ChildEnd, type ProcessRef, type Task } from '../core/task.js';
import type { NewMessage, Store } from '../store/store.js';
import { Watchdog } from './watchdog.js';
import { openPipes } from './fifo.js';
import { OutputTee } from './output.js';
import { startGated } from './start.js';
import { processRef, signalGroup, signalNumber } from './proc.js';
import { terminateGroup } from './terminate.js';

const STACKTRACE_LINES = 20;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const LEFTOVER_OUTPUT_MS = 500;
const delay = (ms: number): Promise<false> => new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());

export interface SuperviseOptions {
  /** Pass the child's output through to ours (foreground), or only to the log (detached). */
  tee: boolean;
  stdin: 'inherit' | 'ignore' | 'pipe';
  /** The named pipes for the child's stdio, being made meanwhile (null: use node's socketpairs). */
  fifos: Promise<string[] | null>;
  env: NodeJS.ProcessEnv;
  warn(message: string): void;
}

/** Runs the claimed task's command to its end and records it; resolves to the launcher's exit code. */
export async function supervise(store: Store, task: Task, opts: SuperviseOptions): Promise<number> {
  const argv = task.command!;
  const graceMs = task.graceMs ?? 10_000;
  const warned = new Set<string>();
  // A store that fails mid-run (disk full) must not stop the child: warn once per kind and go on.
  const record = <T>(what: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (!isTwError(e) || e.exitCode !== ExitCode.Store) throw e;
      if (!warned.has(what)) opts.warn(`warning: could not record ${what} of task ${task.id}: ${e.message}`);
      warned.add(what);
      return undefined;
    }
  };

  // Signals that arrive before the child exists are kept and acted on once it does.
  let early: NodeJS.Signals | null = null;
  let onSignal = (signal: NodeJS.Signals): void => void (early ??= signal);
  const dispatch = (signal: NodeJS.Signals) => onSignal(signal);
  for (const s of FORWARDED) process.on(s, dispatch);

  const tee = new OutputTee(task.logPath!, opts.warn);
  if (task.feedbackPath) {
    try {
      mkdirSync(dirname(task.feedbackPath), { recursive: true, mode: 0o700 });
    } catch (e) {
      opts.warn(`warning: cannot make the folder of the feedback file ${task.feedbackPath} (${(e as NodeJS.ErrnoException).code}); no heartbeat can arrive`);
    }
  }
  const fifos = await opts.fifos;
  const pipes = fifos && openPipes(fifos);
  const stdio: [number | 'inherit' | 'ignore' | 'pipe', number | 'pipe', number | 'pipe'] = pipes
    ? [pipes.childFds[0] ?? opts.stdin, pipes.childFds[1], pipes.childFds[2]]
    : [opts.stdin, 'pipe', 'pipe'];
  const gated = startGated(argv, stdio, opts.env, task.cwd ?? process.cwd());
  pipes?.release();
  const failed = (exitCode: number, why: string): number => {
    for (const s of FORWARDED) process.off(s, dispatch);
    for (const stream of [pipes?.stdout, pipes?.stderr, pipes?.stdin]) stream?.destroy();
    return recordSpawnFailure(store, task, exitCode, why, opts);
  };
  if (!('child' in gated)) return failed(gated.exitCode, gated.why);
  const child = gated.child;
  const stdout = pipes?.stdout ?? child.stdout!;
  const stderr = pipes?.stderr ?? child.stderr!;
  const stdin = pipes ? pipes.stdin : child.stdin;

  const started = await new Promise<ProcessRef | NodeJS.ErrnoException>((resolve) => {
    child.once('spawn', () => resolve(processRef(child.pid!) ?? { pid: child.pid!, startTicks: -1, bootId: '' }));
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e));
  });
  if (started instanceof Error) return failed(ExitCode.LaunchFailed, started.message);

  const ref = started;
  const startedAt = Date.now();
  tee.attach(stdout, opts.tee ? 1 : null, false);
  tee.attach(stderr, opts.tee ? 2 : null, true);
  if (stdin) {
    stdin.on('error', () => stdin.destroy());
    process.stdin.pipe(stdin, { end: false });
    process.stdin.once('end', () => stdin.end(() => stdin.destroy()));
  }

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  type Stop = { why: 'timeout' | 'signal'; text: string };
  let stop = null as Stop | null;
  let termination: Promise<unknown> | null = null;
  const terminate = (why: 'timeout' | 'signal', text: string, first: NodeJS.Signals = 'SIGTERM'): void => {
    stop ??= { why, text };
    termination ??= terminateGroup(ref, graceMs, first);
  };

  let recordedStart: boolean;
  try {
    recordedStart = store.recordStart(task.id, ref, startedAt);
  } catch (e) {
    // Without a recorded start nothing could ever record the end: do not run untracked.
    await terminateGroup(ref, 0);
    throw e;
  }
  // Cancelled between claim and start: this run must not go on (its gate stays shut).
  if (recordedStart) gated.open();
  else terminate('signal', 'cancelled before it started');
  // While the child starts: opening node's stdout and stderr streams makes a pipe's descriptor
  // non-blocking, so the pass-through gets EAGAIN from a reader that stalls instead of blocking.
  if (opts.tee) void [process.stdout, process.stderr];

  const watchdog = new Watchdog({
    feedbackPath: task.feedbackPath,
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
  onSignal = () => tee.abandon();
  watchdog.stop();
  if (stdin) {
    process.stdin.unpipe(stdin).destroy();
    stdin.destroy();
  }
  // The leader is gone; leave none of its group behind.
  await (termination ?? terminateGroup(ref, graceMs));
  // A process outside the group (setsid) may still hold the output open: read it only a moment
  // longer. A slow reader of ours is waited for, as any pipeline would.
  while (!(await Promise.race([tee.closed.then(() => true), delay(LEFTOVER_OUTPUT_MS)]))) {
    if (tee.writing) continue;
    opts.warn(`warning: a process outside task ${task.id}'s group still holds its output; no longer reading it`);
    tee.stopReading();
    break;
  }
  await tee.done();
  const reader = watchdog.close();
  for (const s of FORWARDED) process.off(s, dispatch);

  const cancelRequested = record('the end', () => store.get(task.id)?.cancelRequestedAt != null) ?? false;
  const end: ChildEnd = {
    exitCode: code,
    signal,
    timedOut: stop?.why === 'timeout',
    cancelled: stop?.why === 'signal' || cancelRequested,
  };
  const state = endState(end);
  const how = signal ? `killed by signal ${signalNumber(signal)} (${signal})` : `exited with code ${code}`;
  const messages: NewMessage[] = [];
  if (state === 'timed_out') messages.push({ type: 'error', text: stop!.text });
  if (state === 'cancelled') messages.push({ type: 'notification', text: stop?.text ?? 'cancelled by tw cancel' });
  messages.push(
    state === 'failed'
      ? { type: 'error', text: how, stacktrace: tee.stderrTail(STACKTRACE_LINES) || null }
      : { type: 'notification', text: how },
  );
  record('the end', () =>
    store.recordEnd(task.id, {
      state,
      at: endedAt,
      reason: state === 'timed_out' || state === 'cancelled' ? (stop?.text ?? 'cancelled by tw cancel') : how,
      exitCode: code,
      signal,
      feedback: reader?.values ?? null,
      progress: reader?.progress ?? null,
      ignoredLines: reader?.ignored,
      messages,
    }),
  );
  return launchExitCode(end, signalNumber);
}

function recordSpawnFailure(store: Store, task: Task, exitCode: number, why: string, opts: SuperviseOptions): number {
  opts.warn(`${task.command![0]}: ${why}`);
  try {
    store.recordEnd(task.id, {
      state: 'failed',
      at: Date.now(),
      reason: `could not start: ${why}`,
      exitCode,
      messages: [{ type: 'error', text: `could not start ${task.command![0]}: ${why}` }],
    });
  } catch (e) {
    if (!isTwError(e)) throw e;
    opts.warn(`warning: could not record the failure of task ${task.id}: ${e.message}`);
  }
  return exitCode;
}
