// A task deleted (pruned, cleared) while a command works on it: every
// follower finishes with a clear outcome, no hang, no exit 70 (issue 13, 3-5).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BIN, NODE, oneLineError, requireBuild, sandbox, until } from './helpers.js';
import { launchBg, peek, waitEnded, waitRunning, withDb } from './steer-helpers.js';

before(requireBuild);

/** Deletes a task's rows behind tw's back, as a prune or `tw delete` from another shell would. */
const deleteRow = (db: string, id: number): void =>
  void withDb(db, (d) => {
    d.pragma('foreign_keys = ON');
    d.prepare('DELETE FROM tasks WHERE id = ?').run(id);
  });

describe('a task that vanishes mid-way', { concurrency: true }, () => {
  test('describe --block 1 2: task 1 pruned while 2 runs; the wait goes on for 2, says so of 1, and exits 1', async (t) => {
    const s = sandbox(t);
    const first = await launchBg(s, ['--', 'true']);
    await waitEnded(s, first);
    const second = await launchBg(s, ['--', 'sleep', '30']);
    await waitRunning(s, second);
    const blocker = s.start(['describe', '--block', String(first), String(second)]);
    await until(() => blocker.output.stdout.includes('running'), { what: 'the first lines of --block' });
    assert.equal((await s.run(['history', 'prune', '--keep', '0'])).stdout, 'deleted 1 task\n');
    await until(() => blocker.output.stderr.includes(`task ${first} was deleted`), { what: 'the word on the deleted task' });
    assert.equal(blocker.exitCode, null, 'it still waits for the running task');
    await s.ok(['cancel', '--grace', '1', String(second)]);
    const end = await blocker.ended;
    assert.equal(end.code, 1);
    assert.equal(oneLineError(blocker.output.stderr), null);
  });

  test('logs -f: the task deleted while followed; every line written is printed, then exit 4 with one line', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sh', '-c', 'echo first; echo second; exec sleep 30']);
    const task = await waitRunning(s, id);
    const follower = s.start(['logs', '-f', String(id)]);
    await until(() => follower.output.stdout === 'first\nsecond\n', { what: 'the lines so far' });
    deleteRow(s.db, id);
    const end = await follower.ended;
    assert.equal(end.code, 4);
    assert.equal(follower.output.stdout, 'first\nsecond\n');
    assert.match(follower.output.stderr, /^tw: task \d+ was deleted while followed/);
    assert.equal(oneLineError(follower.output.stderr), null);
    process.kill(-task.pid!, 'SIGKILL');
  });

  test('cancel of a task deleted while it waits for the end: exit 4 with one line, never a crash', async (t) => {
    const s = sandbox(t);
    // A child that ignores SIGTERM keeps cancel waiting through its grace: delete the task meanwhile.
    const id = await launchBg(s, ['--', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']);
    const task = await waitRunning(s, id);
    const canceller = s.start(['cancel', '--grace', '30', String(id)]);
    await until(() => withDb(s.db, (d) => d.prepare('SELECT cancel_requested_at FROM tasks WHERE id = ?').pluck().get(id)), { what: 'the cancel request' });
    process.kill(-task.launcherPid!, 'SIGKILL'); // its launcher gone: no one records the end but cancel
    deleteRow(s.db, id);
    process.kill(-task.pid!, 'SIGKILL');
    const end = await canceller.ended;
    assert.equal(end.code, 4, canceller.output.stderr);
    assert.equal(oneLineError(canceller.output.stderr), null);
  });
});

test('logs -f of a task whose launcher still passes output to a slow reader: it waits for the last of it', async (t) => {
  const s = sandbox(t);
  const child = `head -c 70000 /dev/zero | tr '\\\\0' x; sleep 0.3; head -c 60000 /dev/zero | tr '\\\\0' y; echo LAST`;
  const pipeline = s.startShell(`"$0" "$1" launch -- sh -c "$2" | (sleep 3; cat > /dev/null)`, [NODE, BIN, child]);
  await until(() => peek(s, 1)?.state === 'running', { what: 'the task running' });
  const follower = await s.run(['logs', '-f', '1'], { timeoutMs: 20_000 });
  assert.equal(follower.code, 0, follower.stderr);
  assert.equal(follower.stdout.length, 130_005, 'every byte, up to LAST');
  assert.ok(follower.stdout.endsWith('LAST\n'));
  await pipeline.ended;
});
