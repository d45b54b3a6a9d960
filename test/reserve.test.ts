// `tw reserve`: the id alone on stdout, info recorded, --unique atomic under a race.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { openKept } from '../src/store/statements.js';
import { alive, barrier, oneLineError, openFiles, requireBuild, sandbox, until, wchan } from './helpers.js';

before(requireBuild);

test('prints the new id alone, and ids increase', async (t) => {
  const s = sandbox(t);
  const first = await s.run(['reserve']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, '1\n');
  assert.equal(first.stderr, '');
  assert.equal(await s.ok(['reserve', '--name', 'other']), '2\n');
  assert.equal(await s.ok(['reserve']), '3\n');
  const tasks = await s.json(['list']);
  assert.deepEqual(tasks.map((task) => [task.id, task.state]), [[1, 'reserved'], [2, 'reserved'], [3, 'reserved']]);
  assert.equal(tasks[1]!.name, 'other');
});

test('--info key=value pairs are recorded, repeatable, values may hold = and spaces', async (t) => {
  const s = sandbox(t);
  const id = (await s.ok(['reserve', '--name', 'backup', '--info', 'host=db1', '--info', 'query=a=b c', '--info', 'empty='])).trim();
  const [task] = await s.json(['list']);
  assert.equal(String(task!.id), id);
  assert.equal(task!.name, 'backup');
  assert.deepEqual(task!.info, { host: 'db1', query: 'a=b c', empty: '' });
});

test('--info without a value, or without a key, is a usage error (exit 2) and reserves nothing', async (t) => {
  const s = sandbox(t);
  for (const bad of ['novalue', '=v']) {
    const r = await s.run(['reserve', '--info', bad]);
    assert.equal(r.code, 2, `--info ${bad}: ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
    assert.equal(r.stdout, '');
  }
  assert.equal(await s.ok(['reserve']), '1\n', 'a refused reserve must not use up an id');
});

test('--unique refuses (exit 1) while a task of that name is active, naming it; other names are free', async (t) => {
  const s = sandbox(t);
  assert.equal(await s.ok(['reserve', '--name', 'nightly', '--unique']), '1\n');
  const r = await s.run(['reserve', '--name', 'nightly', '--unique']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(oneLineError(r.stderr), null);
  assert.match(r.stderr, /\b1\b/, `the message names the active task: ${r.stderr}`);
  assert.equal(await s.ok(['reserve', '--name', 'other', '--unique']), '2\n');
  // Without --unique, the same name is fine.
  assert.equal(await s.ok(['reserve', '--name', 'nightly']), '3\n');
});

test('--unique is free again once the task of that name has ended', async (t) => {
  const s = sandbox(t);
  assert.equal(await s.ok(['launch', '--name', 'job', '--unique', '--', 'true']), '');
  assert.equal(await s.ok(['reserve', '--name', 'job', '--unique']), '2\n');
});

const RACERS = 50;
/** About how long 50 nodes take to start on 2 busy cores: the barrier opens then. */
const START_MS = 1500;

test(`${RACERS} racing reserve --unique: exactly one wins, the others name it, none sees a busy store`, async (t) => {
  const s = sandbox(t);
  assert.equal(await s.ok(['reserve', '--name', 'other']), '1\n');
  // Hold the write lock while the racers start, so that they all wait on it and
  // all go at once when it is released: a reserve that reads before it takes the
  // lock (a deferred transaction) then fails or lets two through, every time.
  const holder = openKept(s.db, { timeout: 10_000 });
  t.after(() => holder.close());
  holder.exec('BEGIN IMMEDIATE');
  const pids: number[] = [];
  const together = barrier(START_MS);
  const racing = Promise.all(
    Array.from({ length: RACERS }, () =>
      s.run(['reserve', '--unique', '--name', 'x'], { timeoutMs: 60_000, ...together, onSpawn: (c) => pids.push(c.pid!) }),
    ),
  );
  const waiting = (pid: number) => !alive(pid) || openFiles(pid).includes(`${s.db}-wal`);
  await until(() => pids.length === RACERS && pids.every(waiting), { timeoutMs: 30_000, what: 'every racer to open the store' });
  // Best effort: until each is asleep in SQLite's busy wait (a tw that waits another way still passes).
  await until(() => pids.every((pid) => !alive(pid) || wchan(pid).includes('nanosleep')), { timeoutMs: 1500 }).catch(() => undefined);
  holder.exec('COMMIT');
  const results = await racing;

  const winners = results.filter((r) => r.code === 0);
  const odd = results.filter((r) => r.code !== 0 && r.code !== 1);
  assert.deepEqual(odd.map((r) => [r.code, r.stderr]), [], 'every racer exits 0 or 1');
  assert.equal(winners.length, 1, `winners: ${winners.map((r) => r.stdout.trim()).join(', ')}`);
  assert.equal(results.filter((r) => r.code === 1).length, RACERS - 1);
  const winner = winners[0]!.stdout.trim();
  assert.match(winner, /^\d+$/);
  for (const r of results) {
    assert.doesNotMatch(r.stderr, /locked|busy/i);
    if (r.code === 1) {
      assert.equal(oneLineError(r.stderr), null);
      assert.match(r.stderr, new RegExp(`\\b${winner}\\b`), `a loser's message names the winner ${winner}: ${r.stderr}`);
    }
  }
  const tasks = await s.json(['list', '--all', '--name', 'x']);
  assert.deepEqual(tasks.map((task) => String(task.id)), [winner], 'exactly one task was stored');
});

test(`${RACERS} racing plain reserves on a fresh store: ${RACERS} distinct ids, all stored`, async (t) => {
  const s = sandbox(t);
  const together = barrier(START_MS);
  const results = await Promise.all(Array.from({ length: RACERS }, () => s.run(['reserve', '--name', 'x'], { timeoutMs: 60_000, ...together })));
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^\d+\n$/);
  }
  const ids = results.map((r) => Number(r.stdout));
  assert.equal(new Set(ids).size, RACERS, `duplicate ids: ${ids.sort((a, b) => a - b).join(' ')}`);
  const stored = (await s.json(['list', '--all'])).map((task) => task.id);
  assert.deepEqual(stored, [...ids].sort((a, b) => a - b));
});
