// How a run's end is recorded: the state, the reason, the launcher's own
// messages, and the exit code `tw launch` gives for it. Pure but for the record.
import { TwError } from '../core/errors.js';
import { endState, launchExitCode, type ChildEnd, type Feedback, type LaunchedTask, type Progress, type State } from '../core/task.js';
import { signalNumber } from '../launcher/proc.js';
import type { End, NewMessage } from '../store/store.js';
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
