// How a run's end is recorded: the state, the reason, the launcher's own
// messages, and the exit code `tw launch` gives for it. Pure but for the record.
import { formatDuration, formatInstant } from '../core/duration.js';
import { TwError } from '../core/errors.js';
import { endState, launchExitCode, type ChildEnd, type Feedback, type LaunchedTask, type Progress, type State } from '../core/task.js';
import { signalNumber } from '../core/signals.js';
import type { End, EndResult, NewMessage } from '../store/store.js';
import type { Deps } from './deps.js';

/** How the supervised run ended, as the supervisor saw it. */
export interface RunEnd extends ChildEnd {
  at: number;
  /** Why the launcher stopped it (the timeout's or the signal's words), if it did. */
  stopText: string | null;
  /** The child's stderr's last lines: a failure's stacktrace. */
  stderrTail: string;
  /** The feedback file as read one last time. */
  feedback: { values: Feedback; progress: Progress | null; ignored: number } | null;
}

/** The end to record for a run. */
export function endOf(run: RunEnd): End {
  const state = endState(run);
  const how = run.signal ? `killed by signal ${signalNumber(run.signal)} (${run.signal})` : `exited with code ${run.exitCode}`;
  const stopped = run.stopText ?? 'cancelled by tw cancel';
  const messages: NewMessage[] = [];
  if (state === 'timed_out') messages.push({ type: 'error', text: stopped });
  if (state === 'cancelled') messages.push({ type: 'notification', text: stopped });
  messages.push(state === 'failed' ? { type: 'error', text: how, stacktrace: run.stderrTail || null } : { type: 'notification', text: how });
  return {
    state,
    at: run.at,
    reason: state === 'timed_out' || state === 'cancelled' ? stopped : how,
    exitCode: run.exitCode,
    signal: run.signal,
    feedback: run.feedback?.values ?? null,
    progress: run.feedback?.progress ?? null,
    ignoredLines: run.feedback?.ignored,
    messages,
  };
}

const RETRY_DELAY_MS = 10_000;
const RETRY_DELAY_MAX_MS = 3_600_000;

/** The delay before attempt `next` (2 or later): the first delay, doubled after each attempt, at most an hour. */
export const retryDelay = (firstMs: number | null, next: number): number => Math.min((firstMs ?? RETRY_DELAY_MS) * 2 ** (next - 2), RETRY_DELAY_MAX_MS);

/**
 * Records how the run ended: the task's end; or, when it failed or timed out with runs left
 * (never a cancel), the attempt's end, and the task waits for its next attempt.
 */
export function finishRun(deps: Deps, task: LaunchedTask & { startedAt: number | null }, run: RunEnd): EndResult {
  const end = endOf(run);
  const took = formatDuration(run.at - (task.startedAt ?? run.at));
  const how = run.signal ? `killed by signal ${signalNumber(run.signal)} (${run.signal})` : `exited with code ${run.exitCode}`;
  const several = task.maxAttempts > 1;
  if ((end.state === 'failed' || end.state === 'timed_out') && task.attempt < task.maxAttempts) {
    const next = task.attempt + 1;
    const retryAt = run.at + retryDelay(task.retryDelayMs, next);
    const what = end.state === 'timed_out' ? `timed out (${run.stopText ?? how})` : how;
    const text = `attempt ${task.attempt} of ${task.maxAttempts} ${what} after ${took}; attempt ${next} at ${formatInstant(retryAt)}`;
    return deps.store.recordRetry(task.id, {
      at: run.at,
      reason: text,
      retryAt,
      exitCode: run.exitCode,
      signal: run.signal,
      messages: [{ type: 'error', text, stacktrace: run.stderrTail || null }],
    });
  }
  // With several attempts, the last one's message says which it was and how long it took.
  if (several) end.messages = end.messages?.map((m) => (m.text === how ? { ...m, text: `attempt ${task.attempt} of ${task.maxAttempts} ${how} after ${took}` } : m));
  return deps.store.recordEnd(task.id, end);
}

/** `tw launch`'s exit code: as the run ended, or, if another process recorded the end first, as that end says. */
export function exitCodeOf(run: RunEnd, recordedByOther: State | undefined): number {
  return launchExitCode(recordedByOther === undefined ? run : { ...run, timedOut: recordedByOther === 'timed_out' }, signalNumber);
}

/** The child could not be started: the taken task ends failed, with the exit code a launch gives for it. */
export function failToStart(deps: Deps, task: LaunchedTask, exitCode: number, why: string): number {
  deps.warn(`${task.command[0]}: ${why}`);
  try {
    deps.store.recordEnd(task.id, {
      state: 'failed',
      at: deps.now(),
      reason: `could not start: ${why}`,
      exitCode,
      messages: [{ type: 'error', text: `could not start ${task.command[0]}: ${why}` }],
    });
  } catch (e) {
    if (!(e instanceof TwError)) throw e;
    deps.warn(`warning: could not record the failure of task ${task.id}: ${e.message}`);
  }
  return exitCode;
}

/** An error message on the task about what went wrong around it (a ping, its on-end command); never fails the caller. */
export function noteError(deps: Deps, id: number, text: string): void {
  try {
    deps.store.addMessage(id, { type: 'error', text }, deps.now());
  } catch (e) {
    if (!(e instanceof TwError)) throw e;
    deps.warn(`warning: ${text}`);
  }
}
