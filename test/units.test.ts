// Pure rules, no processes: durations, instants, and the state rules of src/core/task.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatInstant, parseDuration } from '../src/core/duration.js';
import { TwError } from '../src/core/errors.js';
import { endState, launchExitCode, liveness, percentOf, type ChildEnd, type Task } from '../src/core/task.js';

test('parseDuration reads the contract forms into milliseconds', () => {
  const cases: [string, number][] = [
    ['30', 30_000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5m', 90_000],
    ['0.5s', 500],
    ['0', 0],
    ['1.5', 1500],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['1d12h', 129_600_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration refuses bad durations with a usage error (exit 2) naming the value', () => {
  for (const bad of ['5x', '', '-1', 'abc', 's', '1.5.2m', '5 m x', '1e3', 'Infinity', 'ms', '1h30', '30m1']) {
    assert.throws(
      () => parseDuration(bad, '--timeout'),
      (e: unknown) => e instanceof TwError && e.exitCode === 2 && e.message.includes(`'${bad}'`) && e.message.includes('--timeout'),
      JSON.stringify(bad),
    );
  }
});

test('formatDuration gives the contract forms', () => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [450, '450ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [12_345, '12s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [133_000, '2m13s'],
    [3_600_000, '1h00m'],
    [3 * 3_600_000 + 5 * 60_000 + 59_000, '3h05m'],
    [2 * 86_400_000 + 4 * 3_600_000, '2d04h'],
    [-5, '0ms'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('formatInstant prints UTC like 2026/11/22 20:51:07 UTC', () => {
  assert.equal(formatInstant(Date.UTC(2026, 10, 22, 20, 51, 7, 999)), '2026/11/22 20:51:07 UTC');
  assert.equal(formatInstant(Date.UTC(2027, 0, 2, 3, 4, 5)), '2027/01/02 03:04:05 UTC');
  assert.equal(formatInstant(0), '1970/01/01 00:00:00 UTC');
});

const end = (over: Partial<ChildEnd>): ChildEnd => ({ exitCode: 0, signal: null, timedOut: false, cancelled: false, ...over });

test('endState: timeout wins over cancel, which wins over the exit code', () => {
  assert.equal(endState(end({})), 'succeeded');
  assert.equal(endState(end({ exitCode: 7 })), 'failed');
  assert.equal(endState(end({ exitCode: null, signal: 'SIGKILL' })), 'failed');
  assert.equal(endState(end({ exitCode: 127 })), 'failed');
  assert.equal(endState(end({ exitCode: null, signal: 'SIGTERM', cancelled: true })), 'cancelled');
  assert.equal(endState(end({ exitCode: 0, cancelled: true })), 'cancelled');
  assert.equal(endState(end({ exitCode: null, signal: 'SIGTERM', timedOut: true })), 'timed_out');
  assert.equal(endState(end({ timedOut: true, cancelled: true })), 'timed_out');
});

test('launchExitCode: 124 on timeout, 128+N for a signal, else the exit code', () => {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  const num = (name: string) => numbers[name] ?? 0;
  assert.equal(launchExitCode(end({ exitCode: 0 }), num), 0);
  assert.equal(launchExitCode(end({ exitCode: 7 }), num), 7);
  assert.equal(launchExitCode(end({ exitCode: null, signal: 'SIGKILL' }), num), 137);
  assert.equal(launchExitCode(end({ exitCode: null, signal: 'SIGTERM', cancelled: true }), num), 143);
  assert.equal(launchExitCode(end({ exitCode: null, signal: 'SIGHUP', cancelled: true }), num), 129);
  assert.equal(launchExitCode(end({ exitCode: null, signal: 'SIGTERM', timedOut: true }), num), 124);
  assert.equal(launchExitCode(end({ exitCode: 0, timedOut: true }), num), 124);
});

test('percentOf reads both progress forms', () => {
  assert.equal(percentOf(null), null);
  assert.equal(percentOf({ percent: 37 }), 37);
  assert.equal(percentOf({ done: 3, total: 8 }), 37.5);
  assert.equal(percentOf({ done: 8, total: 8 }), 100);
  assert.equal(percentOf({ done: 0, total: 0 }), null);
});

function task(over: Partial<Task>): Task {
  return {
    id: 1, name: 'n', info: {}, state: 'running', command: ['x'], cwd: '/', host: 'h', pid: 10, child: null, launcher: null,
    reservedAt: 0, startedAt: 0, endedAt: null, lastHeartbeatAt: 0, exitCode: null, signal: null, timeoutMs: null, graceMs: null,
    progress: null, feedback: null, ignoredLines: 0, logPath: null, logOffset: 0, logEnd: null, feedbackPath: null, cancelRequestedAt: null, queue: null, ...over,
  } as Task;
}

test('liveness follows the 25% / 50% rule since the last heartbeat', () => {
  const fed = { feedbackPath: '/f', timeoutMs: 1000, lastHeartbeatAt: 10_000 };
  assert.equal(liveness(task(fed), 10_000), 'running');
  assert.equal(liveness(task(fed), 10_249), 'running');
  assert.equal(liveness(task(fed), 10_250), 'silent');
  assert.equal(liveness(task(fed), 10_499), 'silent');
  assert.equal(liveness(task(fed), 10_500), 'stalled');
  assert.equal(liveness(task(fed), 20_000), 'stalled');
  // No heartbeat yet: counted from the start.
  assert.equal(liveness(task({ ...fed, lastHeartbeatAt: null, startedAt: 10_000 }), 10_300), 'silent');
});

test('liveness without a feedback file or a timeout is plain running; not running: none', () => {
  assert.equal(liveness(task({ timeoutMs: 1000, lastHeartbeatAt: 0 }), 999_999), 'running');
  assert.equal(liveness(task({ feedbackPath: '/f', lastHeartbeatAt: 0 }), 999_999), 'running');
  for (const state of ['reserved', 'succeeded', 'failed', 'timed_out', 'cancelled', 'lost'] as const) {
    assert.equal(liveness(task({ state, feedbackPath: '/f', timeoutMs: 1000 }), 999_999), null, state);
  }
});

test('stats median: the middle value, or the mean of the two middle ones for an even count', async () => {
  const { median } = await import('../src/cli/commands/stats.js');
  assert.equal(median([]), null);
  assert.equal(median([5]), 5);
  assert.equal(median([1000, 3000]), 2000);
  assert.equal(median([1, 2, 3, 10]), 3);
  assert.equal(median([1, 2, 3]), 2);
});
