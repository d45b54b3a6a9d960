// `tw history` (newest first, filters, --json), `history prune` and `history
// clear` (with their files on disk, active tasks untouched, ids never reused,
// racing launchers), and `tw stats`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fixture, NODE, oneLineError, requireBuild, sandbox, type Sandbox, type TaskJson } from './helpers.js';
import { launchBg, waitRunning, waitTask, withDb } from './steer-helpers.js';

before(requireBuild);

const DAY = 86_400_000;

/** Sets a task's end (and start, keeping its duration) back in time, behind tw's back. */
function endAt(s: Sandbox, id: number, endedAt: number, durationMs = 100): void {
  withDb(s.db, (db) => db.prepare('UPDATE tasks SET ended_at = ?, started_at = ? WHERE id = ?').run(endedAt, endedAt - durationMs, id));
}

/** Launches in the foreground, one after the other (on a fresh store: ids 1, 2, ...). */
async function runAll(s: Sandbox, runs: { name: string; ok: boolean; feedback?: boolean }[]): Promise<void> {
  for (const r of runs) {
    const res = await s.run([
      'launch', '--name', r.name, ...(r.feedback ? ['--feedback'] : []), '--',
      'sh', '-c', `echo out-${r.name}; ${r.feedback ? 'echo "[progress]1/1" > "$TW_FEEDBACK"; ' : ''}exit ${r.ok ? 0 : 1}`,
    ]);
    assert.equal(res.code, r.ok ? 0 : 1, res.stderr);
  }
}

const logOf = (s: Sandbox, id: number): string => join(`${s.db}.d`, 'logs', `${id}.log`);
const feedbackOf = (s: Sandbox, id: number): string => join(`${s.db}.d`, 'feedback', `${id}.txt`);

/** Rows left behind by a deleted task (messages and events must go with it). */
function orphans(s: Sandbox): number {
  return withDb(s.db, (db) =>
    (db.prepare('SELECT COUNT(*) FROM messages WHERE task_id NOT IN (SELECT id FROM tasks)').pluck().get() as number) +
    (db.prepare('SELECT COUNT(*) FROM events WHERE task_id NOT IN (SELECT id FROM tasks)').pluck().get() as number),
  );
}

describe('tw history, prune, clear, stats', { concurrency: true }, () => {
  test('history: terminal tasks newest first; --limit, --name, --state, --since; --json without messages', async (t) => {
    const s = sandbox(t);
    await runAll(s, [
      { name: 'a', ok: true },
      { name: 'b', ok: false },
      { name: 'a', ok: true },
      { name: 'b', ok: true },
      { name: 'a', ok: false },
    ]);
    assert.deepEqual((await s.json(['list', '--all'])).map((x) => [x.id, x.name]), [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b'], [5, 'a']]);
    const active = Number((await s.ok(['reserve', '--name', 'a'])).trim());
    const now = Date.now();
    endAt(s, 1, now - 3 * DAY);
    endAt(s, 2, now - 2 * DAY);
    const hist = async (args: string[]) => (await s.json(['history', ...args])).map((x) => x.id);
    const all = await s.json<(TaskJson & Record<string, unknown>)[]>(['history']);
    assert.deepEqual(all.map((x) => x.id), [5, 4, 3, 2, 1], 'newest end first; the active task is not history');
    for (const task of all) {
      assert.ok(!('messages' in task) && !('events' in task), 'no messages or events in history --json');
      assert.match(String(task.endedAt), /Z$/);
    }
    assert.deepEqual(all.map((x) => x.state), ['failed', 'succeeded', 'succeeded', 'failed', 'succeeded']);
    assert.ok(!all.some((x) => x.id === active));
    assert.deepEqual(await hist(['--limit', '2']), [5, 4]);
    assert.deepEqual(await hist(['--name', 'a']), [5, 3, 1]);
    assert.deepEqual(await hist(['--state', 'failed']), [5, 2]);
    assert.deepEqual(await hist(['--state', 'failed', '--state', 'succeeded']), [5, 4, 3, 2, 1]);
    assert.deepEqual(await hist(['--since', '1d']), [5, 4, 3]);
    assert.deepEqual(await hist(['--since', '60h']), [5, 4, 3, 2]);
    assert.deepEqual(await hist(['--name', 'a', '--since', '1d', '--limit', '1']), [5]);
    assert.deepEqual(await hist(['--name', 'nobody']), []);
    // The table: the same order.
    const table = (await s.ok(['history'])).trim().split('\n');
    assert.match(table[0]!, /^ID\s+NAME\s+STATE\b/);
    assert.deepEqual(table.slice(1).map((l) => Number(l.split(/\s+/)[0])), [5, 4, 3, 2, 1]);
    for (const bad of [['--state', 'running'], ['--state', 'bogus'], ['--since', 'soon'], ['--limit', 'x']]) {
      const r = await s.run(['history', ...bad]);
      assert.equal(r.code, 2, `history ${bad.join(' ')}: ${r.stderr}`);
      assert.equal(oneLineError(r.stderr), null);
    }
  });

  test('prune --older-than: deletes old tasks with their logs, feedback, messages and events; active tasks untouched', async (t) => {
    const s = sandbox(t);
    await runAll(s, [
      { name: 'x', ok: true, feedback: true },
      { name: 'x', ok: false, feedback: true },
      { name: 'x', ok: true, feedback: true },
    ]);
    const running = await launchBg(s, ['--feedback', '--', NODE, fixture('steer-script.mjs'), 'out:hello', 'fb:[progress]1/2', 'wait:/nonexistent/never']);
    const reserved = Number((await s.ok(['reserve'])).trim());
    await waitTask(s, running, (x) => x.progress !== null, 'feedback recorded');
    for (const id of [1, 2, 3, running]) {
      assert.ok(existsSync(logOf(s, id)), `log of ${id} before`);
      assert.ok(existsSync(feedbackOf(s, id)), `feedback of ${id} before`);
    }
    const now = Date.now();
    endAt(s, 1, now - 40 * DAY);
    endAt(s, 2, now - 31 * DAY);
    const out = await s.ok(['history', 'prune', '--older-than', '30d']);
    assert.match(out, /^deleted 2 tasks?\n$/, out);
    for (const id of [1, 2]) {
      assert.equal(existsSync(logOf(s, id)), false, `log of ${id} deleted`);
      assert.equal(existsSync(feedbackOf(s, id)), false, `feedback of ${id} deleted`);
    }
    for (const id of [3, running]) {
      assert.ok(existsSync(logOf(s, id)), `log of ${id} kept`);
      assert.ok(existsSync(feedbackOf(s, id)), `feedback of ${id} kept`);
    }
    assert.equal(orphans(s), 0, 'messages and events went with their tasks');
    assert.deepEqual((await s.json(['list', '--all'])).map((x) => [x.id, x.state]), [[3, 'succeeded'], [running, 'running'], [reserved, 'reserved']]);
    assert.equal((await s.task(running)).messages!.length > 0, true);
    // Nothing older than 30 days is left.
    assert.match(await s.ok(['history', 'prune', '--older-than', '30d']), /^deleted 0 tasks?\n$/);
    // Alone it is the cron form: each type's retention; with no type that has one, nothing goes.
    assert.match(await s.ok(['history', 'prune']), /^no type has a retention .*nothing deleted\n$/);
    assert.equal((await s.run(['history', 'prune', '--older-than', '1d', '--keep', '3'])).code, 2);
    assert.equal((await s.run(['history', 'prune', '--older-than', 'old'])).code, 2);
  });

  test('prune --keep N keeps the newest N; with --name only that name is pruned', async (t) => {
    const s = sandbox(t);
    await runAll(s, [
      { name: 'a', ok: true, feedback: true },
      { name: 'b', ok: true },
      { name: 'a', ok: false },
      { name: 'b', ok: true },
      { name: 'a', ok: true },
      { name: 'b', ok: false },
    ]);
    const running = await launchBg(s, ['--name', 'a', '--', 'sleep', '300']);
    await waitRunning(s, running);
    assert.ok(existsSync(logOf(s, 1)) && existsSync(feedbackOf(s, 1)));
    assert.match(await s.ok(['history', 'prune', '--keep', '1', '--name', 'a']), /^deleted 2 tasks\n$/);
    const hist = async () => (await s.json(['history'])).map((x) => x.id);
    assert.deepEqual(await hist(), [6, 5, 4, 2], 'the newest a and every b');
    assert.equal(existsSync(logOf(s, 1)), false);
    assert.equal(existsSync(feedbackOf(s, 1)), false);
    assert.equal(existsSync(logOf(s, 3)), false);
    assert.ok(existsSync(logOf(s, 2)) && existsSync(logOf(s, 5)));
    assert.match(await s.ok(['history', 'prune', '--keep', '2']), /^deleted 2 tasks\n$/);
    assert.deepEqual(await hist(), [6, 5]);
    assert.equal(existsSync(logOf(s, 2)), false);
    assert.equal(existsSync(logOf(s, 4)), false);
    assert.match(await s.ok(['history', 'prune', '--keep', '2']), /^deleted 0 tasks\n$/);
    assert.equal(orphans(s), 0);
    assert.equal((await s.task(running)).state, 'running', 'the active task of that name is untouched');
    assert.ok(existsSync(logOf(s, running)));
    assert.equal((await s.run(['history', 'prune', '--keep', 'x'])).code, 2);
  });

  test('a log or feedback file already gone is not an error', async (t) => {
    const s = sandbox(t);
    await runAll(s, [{ name: 'a', ok: true, feedback: true }, { name: 'a', ok: true, feedback: true }]);
    rmSync(logOf(s, 1));
    rmSync(feedbackOf(s, 2));
    const r = await s.run(['history', 'prune', '--keep', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'deleted 2 tasks\n');
    assert.equal(existsSync(logOf(s, 2)), false);
    assert.equal(existsSync(feedbackOf(s, 1)), false);
    assert.deepEqual(await s.json(['history']), []);
  });

  test('a feedback path the task made a folder, and a logs folder swapped for a link: prune deletes the rows, nothing through the link, no crash', async (t) => {
    const s = sandbox(t);
    const made = await s.run(['launch', '--feedback', '--', 'sh', '-c', 'mkdir "$TW_FEEDBACK"; echo one']);
    assert.equal(made.code, 0, made.stderr);
    await runAll(s, [{ name: 'b', ok: true }]);
    // Another hand swaps logs/ for a link to a folder of someone else's files, named as tw's would be.
    const victim = join(s.dir, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, '2.log'), 'keep\n');
    renameSync(join(`${s.db}.d`, 'logs'), join(`${s.db}.d`, 'logs.real'));
    symlinkSync(victim, join(`${s.db}.d`, 'logs'));
    const r = await s.run(['history', 'prune', '--keep', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deleted 2 tasks\n');
    assert.match(r.stderr, /^tw: warning: left \d files? in place/);
    assert.equal(readFileSync(join(victim, '2.log'), 'utf8'), 'keep\n', 'deleted through the link');
    assert.ok(statSync(feedbackOf(s, 1)).isDirectory(), 'a folder tw did not make is left');
    assert.deepEqual(await s.json(['history']), []);
  });

  test('history clear deletes all history, keeps active tasks, and ids are never reused', async (t) => {
    const s = sandbox(t);
    await runAll(s, [{ name: 'a', ok: true }, { name: 'b', ok: false }, { name: 'a', ok: true }]);
    assert.equal(await s.ok(['history', 'clear']), 'deleted 3 tasks\n');
    assert.deepEqual(await s.json(['list', '--all']), []);
    assert.equal(existsSync(logOf(s, 3)), false);
    const next = Number((await s.ok(['reserve'])).trim());
    assert.ok(next > 3, `the next id (${next}) is above every id ever given`);
    assert.equal((await s.run(['launch', '--', 'true'])).code, 0);
    assert.equal(await s.ok(['history', 'clear']), 'deleted 1 task\n');
    assert.deepEqual((await s.json(['list', '--all'])).map((x) => x.id), [next], 'the reserved task stays');
    const after = Number((await s.ok(['reserve'])).trim());
    assert.ok(after > next + 1, `${after} > ${next + 1}`);
  });

  test('race: 10 launchers while prune --keep 0 runs 10 times; every end recorded once, no active task deleted', async (t) => {
    const s = sandbox(t);
    const long = await launchBg(s, ['--name', 'long', '--', 'sleep', '300']);
    const reserved = Number((await s.ok(['reserve', '--name', 'waiting'])).trim());
    await waitRunning(s, long);
    const N = 10;
    const launchers = Array.from({ length: N }, (_, i) =>
      s.run(['launch', '--name', 'racer', '--feedback', '--', 'sh', '-c', `echo "[progress]1/2" > "$TW_FEEDBACK"; sleep 0.${i}; echo "[progress]2/2" >> "$TW_FEEDBACK"`], { timeoutMs: 60_000 }),
    );
    const prunes = (async () => {
      const results = [];
      for (let i = 0; i < N; i++) results.push(await s.run(['history', 'prune', '--keep', '0'], { timeoutMs: 60_000 }));
      return results;
    })();
    const launched = await Promise.all(launchers);
    const pruned = await prunes;
    for (const r of launched) {
      assert.equal(r.code, 0, `a launcher: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /lock|busy/i);
      assert.equal(r.stderr, '');
    }
    for (const r of pruned) {
      assert.equal(r.code, 0, `a prune: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /lock|busy/i);
      assert.match(r.stdout, /^deleted \d+ tasks?\n$/);
    }
    const TERMINAL = `('succeeded', 'failed', 'timed_out', 'cancelled', 'lost')`;
    const rows = withDb(s.db, (db) =>
      db
        .prepare(`SELECT t.id, t.state, (SELECT COUNT(*) FROM events e WHERE e.task_id = t.id AND e.to_state IN ${TERMINAL}) AS ends,
                  (SELECT e.to_state FROM events e WHERE e.task_id = t.id ORDER BY seq DESC LIMIT 1) AS last FROM tasks t ORDER BY t.id`)
        .all() as { id: number; state: string; ends: number; last: string }[],
    );
    for (const row of rows) {
      const active = row.state === 'reserved' || row.state === 'running';
      assert.equal(row.ends, active ? 0 : 1, `task ${row.id} (${row.state}): ${row.ends} terminal events`);
      assert.equal(row.last, row.state, `task ${row.id}: its last event is its state`);
    }
    const states = new Map(rows.map((r) => [r.id, r.state]));
    assert.equal(states.get(long), 'running', 'the long task survives every prune');
    assert.equal(states.get(reserved), 'reserved', 'the reserved task survives every prune');
    for (const row of rows) if (row.id !== long && row.id !== reserved) assert.equal(row.state, 'succeeded', `racer ${row.id}`);
    assert.equal(orphans(s), 0);
    const total = pruned.reduce((n, r) => n + Number(/\d+/.exec(r.stdout)![0]), 0);
    assert.equal(total + rows.length - 2, N, 'every racer was either pruned (once) or is still there');
  });

  test('stats: per name, runs and ends per state, median / p95 / max duration, last failure; --name, --since, --json', async (t) => {
    const s = sandbox(t);
    await runAll(s, [
      { name: 'job', ok: true },
      { name: 'job', ok: true },
      { name: 'job', ok: false },
      { name: 'job', ok: true },
      { name: 'job', ok: true },
    ]);
    const other = Number((await s.ok(['reserve', '--name', 'other'])).trim());
    await s.ok(['cancel', String(other)]);
    const now = Date.now();
    // job: durations 1..4 s and 10 s; task 3 failed, and is the last failure.
    endAt(s, 1, now - 5 * DAY, 1000);
    endAt(s, 2, now - 5000, 2000);
    endAt(s, 3, now - 4000, 10_000);
    endAt(s, 4, now - 3000, 3000);
    endAt(s, 5, now - 2000, 4000);
    type Stat = Record<string, unknown> & { name: string; runs: number; medianMs: number | null; p95Ms: number | null; maxMs: number | null; lastFailure: { id: number; at: string; state: string; exitCode: number | null } | null };
    const stats = await s.json<Stat[]>(['stats']);
    assert.deepEqual(stats.map((x) => x.name).sort(), ['job', 'other']);
    const job = stats.find((x) => x.name === 'job')!;
    for (const key of ['name', 'runs', 'succeeded', 'failed', 'timedOut', 'cancelled', 'lost', 'medianMs', 'p95Ms', 'maxMs', 'lastFailure']) {
      assert.ok(key in job, `stats --json has ${key}: ${JSON.stringify(job)}`);
    }
    assert.equal(job.runs, 5);
    assert.deepEqual([job.succeeded, job.failed, job.timedOut, job.cancelled, job.lost], [4, 1, 0, 0, 0]);
    assert.equal(job.medianMs, 3000);
    assert.ok(job.p95Ms !== null && job.p95Ms >= 4000 && job.p95Ms <= 10_000, `p95 ${job.p95Ms}`);
    assert.equal(job.maxMs, 10_000);
    assert.deepEqual(job.lastFailure, { id: 3, at: new Date(now - 4000).toISOString(), state: 'failed', exitCode: 1, signal: null });
    const o = stats.find((x) => x.name === 'other')!;
    assert.equal(o.runs, 1);
    assert.equal(o.cancelled, 1);
    // --name and --since.
    assert.deepEqual((await s.json<Stat[]>(['stats', '--name', 'job'])).map((x) => x.name), ['job']);
    const recent = (await s.json<Stat[]>(['stats', '--name', 'job', '--since', '1d']))[0]!;
    assert.equal(recent.runs, 4);
    assert.equal(recent.medianMs, 3500, 'the median of 2, 3, 4 and 10 s is the mean of 3 and 4');
    // The table.
    const table = await s.ok(['stats']);
    assert.match(table, /^NAME\s+RUNS\b/);
    assert.match(table, /^job\s+5\s/m);
    assert.match(table, /\b10s\b/);
    assert.deepEqual(await s.json(['stats', '--name', 'nobody']), []);
  });
});
