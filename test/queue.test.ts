// The queue without a daemon (issue 14): slots per name, waiting in order,
// no process per queued task, foreground waiting, a full queue, --after, and
// the races: starters that compete for one slot, launchers killed mid-way.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { alive, barrier, requireBuild, sandbox, until, type Sandbox } from './helpers.js';
import { launchBg, peek, waitEnded, waitRunning, withDb } from './steer-helpers.js';

before(requireBuild);

/** A command that appends `start N` and `end N` to `file`, with a pause between. */
const logged = (file: string, n: number | string, seconds: number, exit = 0): string[] => [
  'sh', '-c', `echo "start ${n}" >> "${file}"; sleep ${seconds}; echo "end ${n}" >> "${file}"; exit ${exit}`,
];
/** A command that runs until `gate` exists (opened by writing it). */
const gated = (gate: string): string[] => ['sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.02; done', gate];
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

/** The tw processes of this sandbox's store alive now (launchers, supervising copies). */
function twProcesses(s: Sandbox): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (argv.some((a) => a.endsWith('tw.cjs')) && (argv.includes(s.db) || environ.includes(`TW_DB=${s.db}\0`))) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/** How many tasks of `name` run now, read straight from the store. */
const runningOf = (s: Sandbox, name: string): number =>
  withDb(s.db, (db) => db.prepare("SELECT count(*) FROM tasks WHERE name = ? AND state = 'running'").pluck().get(name) as number);

describe('queues', { concurrency: true }, () => {
  test('--max-running 1: detached tasks wait with their place, start in order one at a time, and no tw process waits for them', async (t) => {
    const s = sandbox(t);
    const file = join(s.dir, 'order');
    const gate = join(s.dir, 'go');
    const ids = [await launchBg(s, ['--name', 'enc', '--max-running', '1', '--', 'sh', '-c', `echo "start 0" >> "${file}"; while [ ! -e "${gate}" ]; do sleep 0.02; done; echo "end 0" >> "${file}"`])];
    for (let i = 1; i < 4; i++) ids.push(await launchBg(s, ['--name', 'enc', '--max-running', '1', '--', ...logged(file, i, 0.1)]));
    await waitRunning(s, ids[0]!);
    const listed = await s.json(['list']);
    const waiting = listed.filter((task) => task.state === 'waiting');
    assert.equal(waiting.length, 3, JSON.stringify(listed));
    for (const [i, task] of waiting.entries()) {
      assert.deepEqual(task.waitingFor, { slot: { name: 'enc', running: 1, limit: 1, position: i + 1 } });
    }
    // One supervisor for the running task; none for those that wait.
    assert.ok(twProcesses(s).length <= 1, `tw processes: ${twProcesses(s).join(' ')}`);
    const table = await s.ok(['list']);
    assert.match(table, /waiting #1 \(1\/1 running\)/);
    writeFileSync(gate, '');
    for (const id of ids) await waitEnded(s, id, 20_000);
    assert.deepEqual(lines(file), [0, 1, 2, 3].flatMap((i) => [`start ${i}`, `end ${i}`]), 'one at a time, in order');
    const story = await s.task(ids[2]!);
    assert.deepEqual(story.events!.map((e) => e.to), ['reserved', 'waiting', 'running', 'succeeded']);
    assert.match(story.events![1]!.reason, /1 of 1 'enc' running, \d(st|nd|rd|th) in line/);
  });

  test('a foreground launch that must wait says why in one line, then runs as usual: output, exit code', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    const holder = await launchBg(s, ['--name', 'fg', '--max-running', '1', '--', ...gated(gate)]);
    await waitRunning(s, holder);
    const waiter = s.run(['launch', '--name', 'fg', '--max-running', '1', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    await until(() => peek(s, 2)?.state === 'waiting', { what: 'task 2 waiting' });
    writeFileSync(gate, '');
    const r = await waiter;
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^tw: task 2 waits: 1 of 1 'fg' running, 1st in line\nerr\n$/);
    assert.equal((await s.task(holder)).state, 'succeeded');
  });

  test('Ctrl-C while waiting cancels the task, which never runs: exit 125', async (t) => {
    const s = sandbox(t);
    const holder = await launchBg(s, ['--name', 'c', '--max-running', '1', '--', 'sleep', '30']);
    await waitRunning(s, holder);
    const marker = join(s.dir, 'ran');
    const waiter = s.start(['launch', '--name', 'c', '--max-running', '1', '--', 'touch', marker]);
    await until(() => peek(s, 2)?.state === 'waiting', { what: 'task 2 waiting' });
    waiter.kill('SIGINT');
    const end = await waiter.ended;
    assert.equal(end.code, 125, `${end.signal}: ${waiter.output.stderr}`);
    const task = await s.task(2);
    assert.equal(task.state, 'cancelled');
    assert.match(task.events!.at(-1)!.reason, /signal 2 \(SIGINT\).*while the task waited/);
    assert.ok(!existsSync(marker), 'the command ran');
    assert.equal((await s.run(['cancel', String(holder)])).code, 0);
  });

  test('tw cancel of a waiting task ends it at once; the foreground launcher waiting for it exits 125', async (t) => {
    const s = sandbox(t);
    const holder = await launchBg(s, ['--name', 'k', '--max-running', '1', '--', 'sleep', '30']);
    await waitRunning(s, holder);
    const queued = await launchBg(s, ['--name', 'k', '--max-running', '1', '--', 'true']);
    const waiter = s.start(['launch', '--name', 'k', '--max-running', '1', '--', 'true']);
    await until(() => peek(s, 3)?.state === 'waiting', { what: 'task 3 waiting' });
    const r = await s.run(['cancel', String(queued), '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `task ${queued}: cancelled\ntask 3: cancelled\n`);
    assert.equal((await waiter.ended).code, 125, waiter.output.stderr);
    assert.match(waiter.output.stderr, /task 3 did not run: cancelled by tw cancel/);
    assert.equal(runningOf(s, 'k'), 1);
    await s.ok(['cancel', String(holder)]);
  });

  test('--max-waiting: refused with exit 75 and one line when full; 0 means run now or not at all', async (t) => {
    const s = sandbox(t);
    const holder = await launchBg(s, ['--name', 'q', '--max-running', '1', '--', 'sleep', '30']);
    await waitRunning(s, holder);
    const now = await s.run(['launch', '--name', 'q', '--max-running', '1', '--max-waiting', '0', '--', 'true']);
    assert.equal(now.code, 75, now.stderr);
    assert.match(now.stderr, /^tw: queue full: 1 'q' running and 0 waiting \(--max-waiting 0\); not launching another\n$/);
    await launchBg(s, ['--name', 'q', '--max-running', '1', '--max-waiting', '1', '--', 'true']);
    const full = await s.run(['launch', '--detach', '--name', 'q', '--max-running', '1', '--max-waiting', '1', '--', 'true']);
    assert.equal(full.code, 75, full.stderr);
    assert.equal(full.stdout, '');
    assert.match(full.stderr, /queue full: 1 'q' running and 1 waiting/);
    assert.equal((await s.json(['list', '--all'])).length, 2, 'nothing recorded for a refused launch');
    const free = await s.run(['launch', '--name', 'free', '--max-running', '1', '--max-waiting', '0', '--', 'true']);
    assert.equal(free.code, 0, free.stderr);
    await s.ok(['cancel', '--name', 'q']);
  });

  test('--after: runs once every named task has ended, if all succeeded; else ends cancelled unrun (125); an unknown id is exit 4', async (t) => {
    const s = sandbox(t);
    const file = join(s.dir, 'order');
    const gate = join(s.dir, 'go');
    const a = await launchBg(s, ['--', 'sh', '-c', `while [ ! -e "${gate}" ]; do sleep 0.02; done; echo "end a" >> "${file}"`]);
    const b = await launchBg(s, ['--', ...logged(file, 'b', 0, 1)]);
    const afterA = await launchBg(s, ['--after', String(a), '--', ...logged(file, 'after-a', 0)]);
    const [waiting] = await s.json(['describe', String(afterA)]);
    assert.equal(waiting?.state, 'waiting');
    assert.deepEqual(waiting?.waitingFor, { after: [a] });
    await waitEnded(s, b);
    // It waits for every task it runs after, though one has failed already.
    const afterAb = s.run(['launch', '--after', `${a},${b}`, '--', ...logged(file, 'after-ab', 0)]);
    await until(() => peek(s, 4)?.state === 'waiting', { what: 'task 4 waiting' });
    writeFileSync(gate, '');
    const r = await afterAb;
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, new RegExp(`task 4 did not run: task ${b} failed`));
    await waitEnded(s, afterA);
    const order = lines(file);
    assert.ok(order.indexOf('start after-a') > order.indexOf('end a'), order.join(' | '));
    assert.ok(!order.includes('start after-ab'), 'a task after a failed one ran');
    const cancelled = await s.task(4);
    assert.equal(cancelled.state, 'cancelled');
    assert.match(cancelled.events!.at(-1)!.reason, new RegExp(`task ${b} failed`));
    const unknown = await s.run(['launch', '--after', '99', '--', 'true']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.match(unknown.stderr, /^tw: no task 99 to run after \(--after\)\n$/);
  });

  test('--after its own id, or a task that waits after it, is refused: it would wait forever', async (t) => {
    const s = sandbox(t);
    const self = (await s.ok(['reserve', '--name', 's'])).trim();
    const own = await s.run(['launch', '--detach', '--id', self, '--after', self, '--', 'true']);
    assert.equal(own.code, 125, own.stderr);
    assert.match(own.stderr, /would wait forever/);
    const a = (await s.ok(['reserve', '--name', 'a'])).trim();
    const b = await launchBg(s, ['--after', a, '--', 'true']);
    const cycle = await s.run(['launch', '--detach', '--id', a, '--after', String(b), '--', 'true']);
    assert.equal(cycle.code, 125, cycle.stderr);
    await s.ok(['cancel', a, self]);
    await waitEnded(s, b);
  });

  test('a retry waiting out its delay is not in line: --max-waiting 0 still runs now', async (t) => {
    const s = sandbox(t);
    const retrying = s.start(['launch', '--name', 'r', '--max-running', '1', '--retries', '1', '--retry-delay', '1h', '--', 'false']);
    await until(() => peek(s, 1)?.state === 'waiting', { what: 'the retry waiting' });
    const r = await s.run(['launch', '--name', 'r', '--max-running', '1', '--max-waiting', '0', '--', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    await s.ok(['cancel', '1']);
    await retrying.ended;
  });

  test('describe --block waits for waiting tasks too, and tells their story', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    const first = await launchBg(s, ['--name', 'w', '--max-running', '1', '--', ...gated(gate)]);
    await waitRunning(s, first);
    const second = await launchBg(s, ['--name', 'w', '--max-running', '1', '--', 'true']);
    const block = s.run(['describe', '--block', '--show-all', String(second)], { timeoutMs: 15_000 });
    writeFileSync(gate, '');
    const r = await block;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /reserved -> waiting: 1 of 1 'w' running, 1st in line\n[\s\S]*waiting -> running\n[\s\S]*running -> succeeded\n/);
  });

  test('the slot holder\'s launcher killed -9 while tasks wait: once its child is gone, any tw command frees the slot and they all run', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    const holder = s.start(['launch', '--name', 'h', '--max-running', '1', '--', ...gated(gate)]);
    await until(() => peek(s, 1)?.state === 'running', { what: 'the holder running' });
    const queued = [await launchBg(s, ['--name', 'h', '--max-running', '1', '--', 'true']), await launchBg(s, ['--name', 'h', '--max-running', '1', '--', 'true'])];
    holder.kill('SIGKILL');
    await holder.ended;
    writeFileSync(gate, '');
    const r = await s.run(['describe', '--block', ...queued.map(String)], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await s.task(1)).state, 'lost');
  });

  test('a foreground waiter killed -9: its task is noticed lost, and no longer blocks the line', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    const holder = await launchBg(s, ['--name', 'z', '--max-running', '1', '--', ...gated(gate)]);
    await waitRunning(s, holder);
    const waiter = s.start(['launch', '--name', 'z', '--max-running', '1', '--', 'true']);
    await until(() => peek(s, 2)?.state === 'waiting', { what: 'task 2 waiting' });
    const behind = await launchBg(s, ['--name', 'z', '--max-running', '1', '--', 'true']);
    waiter.kill('SIGKILL');
    await waiter.ended;
    writeFileSync(gate, '');
    const r = await s.run(['describe', '--block', String(holder), String(behind)], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lost = await s.task(2);
    assert.equal(lost.state, 'lost');
    assert.match(lost.events!.at(-1)!.reason, /while the task waited/);
  });

  test('starters racing for one free slot: 8 tw commands at once, the waiting task starts exactly once', async (t) => {
    const s = sandbox(t);
    const holder = s.start(['launch', '--name', 'r', '--max-running', '1', '--', 'sleep', '30']);
    const running = await waitRunning(s, 1);
    const file = join(s.dir, 'ran');
    const queued = await launchBg(s, ['--name', 'r', '--max-running', '1', '--', 'sh', '-c', `echo once >> "${file}"`]);
    // The slot frees with nobody looking: the launcher and its child die at once.
    holder.kill('SIGKILL');
    process.kill(-running.pid!, 'SIGKILL');
    await until(() => !alive(running.pid!), { what: 'the child gone' });
    const go = barrier(1500);
    const racers = await Promise.all(Array.from({ length: 8 }, (_, i) => s.run([i % 2 ? 'list' : 'describe'], go)));
    for (const r of racers) assert.equal(r.code, 0, r.stderr);
    const task = await waitEnded(s, queued);
    assert.equal(task.state, 'succeeded');
    assert.deepEqual(lines(file), ['once']);
    assert.equal(task.events!.filter((e) => e.to === 'running').length, 1);
  });

  test('30 waiters, --max-running 3, readers running meanwhile: never more than 3 at once, 3 reached, and all run', async (t) => {
    const s = sandbox(t);
    // Each runs a second: far longer than a handoff, even on a loaded machine, so 3 at once is seen.
    const ids = await Promise.all(Array.from({ length: 30 }, () => launchBg(s, ['--name', 'many', '--max-running', '3', '--', 'sleep', '1'])));
    let most = 0;
    let done = false;
    // A reader looks (and may start a task) each time a task ends, racing the launcher that hands its slot on;
    // not back to back, which starved the other tests.
    const ended = (): number => withDb(s.db, (db) => db.prepare("SELECT count(*) FROM tasks WHERE name = 'many' AND ended_at IS NOT NULL").pluck().get() as number);
    const readers = (async () => {
      while (!done) {
        const seen = ended();
        await until(() => done || ended() > seen, { what: 'a task to end', timeoutMs: 90_000, everyMs: 20 });
        await s.run(['list']);
      }
    })();
    try {
      await until(
        () => {
          const n = runningOf(s, 'many');
          most = Math.max(most, n);
          assert.ok(n <= 3, `${n} running at once`);
          return withDb(s.db, (db) => db.prepare("SELECT count(*) FROM tasks WHERE name = 'many' AND ended_at IS NULL").pluck().get()) === 0;
        },
        { what: 'all 30 ended', timeoutMs: 90_000, everyMs: 10 },
      );
    } finally {
      done = true;
      await readers;
    }
    assert.equal(most, 3);
    const states = (await s.json(['list', '--all'])).map((task) => task.state);
    assert.deepEqual(new Set(states), new Set(['succeeded']));
    assert.equal(states.length, ids.length);
  });
});
