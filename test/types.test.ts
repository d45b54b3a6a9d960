// Types, retries and the whole record of a task: --retries / --retry-delay
// (each attempt recorded, waiting in between, logs --attempt, stats), a wait
// between attempts cancelled or orphaned, tw type set|show|list|rm and the
// defaults it gives a launch, history prune by each type's retention, and
// tw show, result, delete and rerun.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { oneLineError, requireBuild, sandbox, until, type TaskJson } from './helpers.js';
import { ISO_UTC, launchBg, peek, waitEnded, waitRunning, waitTask, withDb } from './steer-helpers.js';

before(requireBuild);

/** A command that runs until `gate` exists (opened by writing it). */
const gated = (gate: string): string[] => ['sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.02; done', gate];
const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
/** A command that appends a line to `counter`, prints `attempt N out`, and exits 3 until its `okFrom`th run. */
const counted = (counter: string, okFrom: number, code = 3): string[] => [
  'sh', '-c', `echo x >> "$0"; n=$(wc -l < "$0"); echo "attempt $n out"; [ "$n" -ge ${okFrom} ] || exit ${code}`, counter,
];
/** The task JSON and the fields that tell time, which two reads of one task may see differently. */
const timeless = (t: Record<string, unknown>): Record<string, unknown> => {
  const { durationMs: _, ...rest } = t;
  return rest;
};
type Full = TaskJson & { attempt: number; maxAttempts: number; result: string | null; cwd: string };

describe('types, retries, show, result, delete, rerun', { concurrency: true }, () => {
  test('--retries 2: fails twice, succeeds the third time; every attempt recorded, logged apart and counted', async (t) => {
    const s = sandbox(t);
    const counter = join(s.dir, 'count');
    const r = await s.run(['launch', '--name', 'flaky', '--retries', '2', '--retry-delay', '100ms', '--', ...counted(counter, 3)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'attempt 1 out\nattempt 2 out\nattempt 3 out\n');
    assert.deepEqual(lines(counter), ['x', 'x', 'x']);
    const task = (await s.task(1)) as Full;
    assert.equal(task.state, 'succeeded');
    assert.equal(task.attempt, 3);
    assert.equal(task.maxAttempts, 3);
    assert.equal(task.exitCode, 0);
    assert.deepEqual(task.events!.map((e) => e.to), ['reserved', 'running', 'waiting', 'running', 'waiting', 'running', 'succeeded']);
    const waits = task.events!.filter((e) => e.to === 'waiting');
    assert.match(waits[0]!.reason, /^attempt 1 of 3 exited with code 3 after .*; attempt 2 at /);
    assert.match(waits[1]!.reason, /^attempt 2 of 3 exited with code 3 after .*; attempt 3 at /);

    assert.equal(await s.ok(['logs', '1']), 'attempt 1 out\nattempt 2 out\nattempt 3 out\n');
    assert.equal(await s.ok(['logs', '--attempt', '2', '1']), 'attempt 2 out\n');
    assert.equal(await s.ok(['logs', '--attempt', '1', '1']), 'attempt 1 out\n');
    const none = await s.run(['logs', '--attempt', '4', '1']);
    assert.equal(none.code, 1, none.stderr);
    assert.equal(none.stdout, '');
    assert.equal(oneLineError(none.stderr), null);

    assert.match(await s.ok(['describe', '1']), /attempt 3\/3/);
    const stats = await s.json<{ name: string; runs: number; retries: number }[]>(['stats']);
    const flaky = stats.find((x) => x.name === 'flaky');
    assert.equal(flaky?.retries, 2, JSON.stringify(stats));
    assert.equal(flaky?.runs, 1, JSON.stringify(stats));
  });

  test('a command that always fails, --retries 1: launch exits with its code after the second attempt; the task failed', async (t) => {
    const s = sandbox(t);
    const counter = join(s.dir, 'count');
    const r = await s.run(['launch', '--retries', '1', '--retry-delay', '50ms', '--', ...counted(counter, 99, 5)]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /task 1: attempt 1 of 2 exited with code 5/);
    assert.deepEqual(lines(counter), ['x', 'x']);
    const task = (await s.task(1)) as Full;
    assert.equal(task.state, 'failed');
    assert.equal(task.exitCode, 5);
    assert.equal(task.attempt, 2);
    assert.equal(task.maxAttempts, 2);
    assert.deepEqual(task.events!.map((e) => e.to), ['reserved', 'running', 'waiting', 'running', 'failed']);
    // A task without --retries reads as before: no attempt in its summary line.
    await s.run(['launch', '--', 'false']);
    assert.doesNotMatch(await s.ok(['describe', '2']), /attempt/);
    assert.match(await s.ok(['describe', '1']), /attempt 2\/2/);
  });

  test('waiting between attempts: waitingFor.retryAt; tw cancel ends it at once, the launcher exits with the failed attempt\'s code, no rerun', async (t) => {
    const s = sandbox(t);
    const counter = join(s.dir, 'count');
    const launcher = s.start(['launch', '--retries', '2', '--retry-delay', '30s', '--', ...counted(counter, 99)]);
    await until(
      () => {
        if (launcher.exitCode !== null) throw new Error(`launcher exited ${launcher.exitCode}: ${launcher.output.stderr}`);
        return peek(s, 1)?.state === 'waiting';
      },
      { what: 'task 1 waiting for its retry' },
    );
    const before = Date.now();
    const [listed] = (await s.json(['list'])) as Full[];
    assert.equal(listed?.state, 'waiting', JSON.stringify(listed));
    const retryAt = listed?.waitingFor?.retryAt;
    assert.ok(typeof retryAt === 'string' && ISO_UTC.test(retryAt), JSON.stringify(listed?.waitingFor));
    assert.deepEqual(Object.keys(listed!.waitingFor!), ['retryAt']);
    const wait = Date.parse(retryAt!) - before;
    assert.ok(wait > 20_000 && wait <= 30_000, `retry in ${wait} ms`);
    assert.equal(listed?.pid, null);
    assert.equal(lines(counter).length, 1);

    const r = await s.run(['cancel', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'task 1: cancelled\n');
    assert.equal(peek(s, 1)?.state, 'cancelled', 'cancelled at once, not at the retry time');
    const end = await Promise.race([
      launcher.ended,
      new Promise<null>((res) => setTimeout(() => res(null), 10_000).unref()),
    ]);
    assert.ok(end, `the launcher still runs 10 s after the cancel: ${launcher.output.stderr}`);
    assert.equal(end.code, 3, `${end.signal}: ${launcher.output.stderr}`);
    assert.match(launcher.output.stderr, /task 1 did not run again: cancelled by tw cancel/);
    assert.deepEqual(lines(counter), ['x'], 'the command ran again');
    const task = await s.task(1);
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(task.events!.map((e) => e.to), ['reserved', 'running', 'waiting', 'cancelled']);
    assert.equal((task as unknown as { attempt: number }).attempt, 1, 'the attempt it waited to make never ran');
  });

  test('the launcher killed -9 during the retry delay: the next tw list notices the task lost, while it waited', async (t) => {
    const s = sandbox(t);
    const counter = join(s.dir, 'count');
    const launcher = s.start(['launch', '--retries', '2', '--retry-delay', '30s', '--', ...counted(counter, 99)]);
    await until(() => peek(s, 1)?.state === 'waiting', { what: 'task 1 waiting for its retry' });
    launcher.kill('SIGKILL');
    await launcher.ended;
    assert.equal(peek(s, 1)?.state, 'waiting', 'nothing has looked yet');
    assert.equal((await s.run(['list'])).code, 0);
    assert.equal(peek(s, 1)?.state, 'lost', 'tw list did not notice the launcher gone');
    const task = await s.task(1);
    assert.equal(task.state, 'lost');
    assert.match(task.events!.at(-1)!.reason, /while the task waited/);
    assert.deepEqual(lines(counter), ['x']);
  });

  test('a type\'s timeout and retries apply to a plain launch of its name; a launch\'s own flags win', async (t) => {
    const s = sandbox(t);
    await s.ok(['type', 'set', 'job', '--max-running', '1', '--timeout', '1s', '--retries', '1', '--retry-delay', '50ms']);
    const r = await s.run(['launch', '--name', 'job', '--', 'sleep', '5']);
    assert.equal(r.code, 124, r.stderr);
    const timed = (await s.task(1)) as Full;
    assert.equal(timed.state, 'timed_out');
    assert.equal(timed.timeoutMs, 1000);
    assert.equal(timed.attempt, 2);
    assert.equal(timed.maxAttempts, 2);
    assert.deepEqual(timed.events!.map((e) => e.to), ['reserved', 'running', 'waiting', 'running', 'timed_out']);
    assert.match(timed.events![2]!.reason, /^attempt 1 of 2 timed out/);

    const own = await s.run(['launch', '--name', 'job', '--timeout', '0', '--retries', '0', '--', 'true']);
    assert.equal(own.code, 0, own.stderr);
    const plain = (await s.task(2)) as Full;
    assert.equal(plain.state, 'succeeded');
    assert.equal(plain.maxAttempts, 1);
    assert.equal(plain.timeoutMs, null);
  });

  test('a type\'s --max-running applies: with one task of the name running, the next waits for the slot', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    await s.ok(['type', 'set', 'job', '--max-running', '1']);
    const first = await launchBg(s, ['--name', 'job', '--', ...gated(gate)]);
    await waitRunning(s, first);
    const second = await launchBg(s, ['--name', 'job', '--', 'true']);
    const waiting = await s.task(second);
    assert.equal(waiting.state, 'waiting');
    assert.deepEqual(waiting.waitingFor, { slot: { name: 'job', running: 1, limit: 1, position: 1 } });
    // Another name is not held back.
    const other = await launchBg(s, ['--name', 'other', '--', 'true']);
    assert.equal((await waitEnded(s, other)).state, 'succeeded');
    writeFileSync(gate, '');
    assert.equal((await waitEnded(s, second)).state, 'succeeded');
    assert.equal((await s.task(first)).state, 'succeeded');
  });

  test('tw type list, show, rm; set with nothing to set is a usage error; a ping URL\'s credentials are never shown', async (t) => {
    const s = sandbox(t);
    await s.ok(['type', 'set', 'job', '--max-running', '1', '--timeout', '1s', '--retries', '1', '--retry-delay', '50ms']);
    const listed = await s.json<Record<string, unknown>[]>(['type', 'list']);
    assert.equal(listed.length, 1);
    assert.deepEqual(
      { name: listed[0]!.name, maxRunning: listed[0]!.maxRunning, timeoutMs: listed[0]!.timeoutMs, retries: listed[0]!.retries, retryDelayMs: listed[0]!.retryDelayMs },
      { name: 'job', maxRunning: 1, timeoutMs: 1000, retries: 1, retryDelayMs: 50 },
    );
    const shown = await s.ok(['type', 'show', 'job']);
    assert.match(shown, /^Type job\n/);
    assert.match(shown, /max running:\s+1\n/);
    assert.match(shown, /timeout:\s+1s\n/);
    // Set again: the others stay.
    await s.ok(['type', 'set', 'job', '--retries', '3']);
    const again = await s.json<Record<string, unknown>>(['type', 'show', 'job']);
    assert.equal(again.retries, 3);
    assert.equal(again.maxRunning, 1);

    await s.ok(['type', 'rm', 'job']);
    const gone = await s.run(['type', 'show', 'job']);
    assert.equal(gone.code, 1, gone.stderr);
    assert.equal(oneLineError(gone.stderr), null);
    assert.deepEqual(await s.json(['type', 'list']), []);

    const empty = await s.run(['type', 'set', 'x']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.equal(oneLineError(empty.stderr), null);

    await s.ok(['type', 'set', 'x', '--ping', 'https://user:secret@example.com/p']);
    const table = await s.run(['type', 'list']);
    const json = await s.run(['type', 'list', '--json']);
    const one = await s.run(['type', 'show', 'x']);
    for (const out of [table, json, one]) {
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stdout + out.stderr, /secret/);
    }
    assert.match(table.stdout, /example\.com\/p/);
    assert.equal((JSON.parse(json.stdout) as { name: string }[])[0]?.name, 'x');
  });

  test('a plain history prune applies each type\'s retention, name by name, and leaves names without a type alone', async (t) => {
    const s = sandbox(t);
    await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        for (let i = 0; i < 3; i++) await s.ok(['launch', '--name', name, '--', 'true']);
      }),
    );
    const all = await s.json(['history', '--limit', '0']);
    const ids: Record<string, number[]> = {};
    for (const name of ['a', 'b', 'c']) ids[name] = all.filter((x) => x.name === name).map((x) => x.id);
    assert.deepEqual(Object.values(ids).map((x) => x.length), [3, 3, 3], JSON.stringify(all));
    await s.ok(['type', 'set', 'a', '--keep-last', '1']);
    await s.ok(['type', 'set', 'b', '--keep', '1h']);
    const aged = withDb(s.db, (db) => db.prepare("UPDATE tasks SET ended_at = ended_at - 7200000 WHERE name = 'b'").run().changes);
    assert.equal(aged, 3);
    const out = await s.ok(['history', 'prune']);
    assert.match(out, /^a: deleted 2 tasks$/m);
    assert.match(out, /^b: deleted 3 tasks$/m);
    assert.doesNotMatch(out, /^c:/m);
    const left = await s.json(['history', '--limit', '0']);
    const of = (name: string) => left.filter((x) => x.name === name).map((x) => x.id).sort((x, y) => x - y);
    assert.deepEqual(of('a'), [Math.max(...ids.a!)], 'a keeps its newest task only');
    assert.deepEqual(of('b'), []);
    assert.deepEqual(of('c'), [...ids.c!].sort((x, y) => x - y));
    // The deleted tasks' logs went with them.
    for (const id of [...ids.a!.filter((id) => id !== Math.max(...ids.a!)), ...ids.b!]) {
      assert.ok(!existsSync(join(`${s.db}.d`, 'logs', `${id}.log`)), `log of task ${id} kept`);
    }
  });

  test('tw show: every field as an aligned block, escape sequences shown as \\e, never raw; absent fields left out; --json is describe --json', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    const fb = join(s.dir, 'fb');
    const cwd = join(s.dir, 'dir\x1b[7m');
    mkdirSync(cwd);
    const script = `printf '[st\\033[1mep]va\\033[31ml\\n' > "${fb}"; while [ ! -e "$0" ]; do sleep 0.02; done`;
    const out = await s.ok(
      ['launch', '--detach', '--name', 'evil\x1b[31mname\nx', '--info', 'k=v\x1b[1m', `--feedback=${fb}`, '--', 'sh', '-c', script, `${gate}\x1b[2J`],
      { cwd },
    );
    const id = Number(out.trim());
    const escGate = `${gate}\x1b[2J`;
    await waitTask(s, id, (x) => x.state === 'running' && x.feedback !== null, 'running with its feedback');
    await s.ok(['message', String(id), '--type', 'result', 'res\x1b[32mult']);

    const shown = await s.run(['show', String(id)]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(!shown.stdoutBytes.includes(0x1b), `raw ESC in ${JSON.stringify(shown.stdout)}`);
    assert.ok(!shown.stderr.includes('\x1b'), `raw ESC on stderr: ${JSON.stringify(shown.stderr)}`);
    assert.match(shown.stdout, new RegExp(`^Task ${id}\n`));
    assert.match(shown.stdout, /\n {2}name: +evil\\e\[31mname\\nx\n/, 'a newline in a name is shown \\n, on its line');
    assert.match(shown.stdout, /\n {2}info: +k=v\\e\[1m\n/);
    assert.match(shown.stdout, /\n {2}result: +res\\e\[32mult\n/);
    assert.match(shown.stdout, /\n {2}command: +sh -c .*\\e\[2J/);
    assert.match(shown.stdout, /\n {2}cwd: +.*dir\\e\[7m\n/);
    assert.match(shown.stdout, /\n +st\\e\[1mep: va\\e\[31ml\n/);
    assert.match(shown.stdout, /\n {2}state: +running/);
    for (const absent of ['ended', 'exit']) assert.doesNotMatch(shown.stdout, new RegExp(`^ {2}${absent}:`, 'm'), `${absent}: shown for a running task`);
    // Aligned: every value starts in one column.
    const columns = new Set(shown.stdout.split('\n').filter((l) => /^ {2}\w[\w ]*: /.test(l)).map((l) => l.search(/(?<=: +)\S/)));
    assert.equal(columns.size, 1, shown.stdout);

    const [viaShow] = await s.json<Record<string, unknown>[]>(['show', String(id)]);
    const [viaDescribe] = await s.json<Record<string, unknown>[]>(['describe', String(id)]);
    assert.deepEqual(timeless(viaShow!), timeless(viaDescribe!));
    assert.equal(viaShow!.name, 'evil\x1b[31mname\nx', 'JSON holds the name as it is');

    // Ended, with no result: ended and exit shown, result left out.
    writeFileSync(escGate, '');
    await waitEnded(s, id);
    const plain = await launchBg(s, ['--', 'true']);
    await waitEnded(s, plain);
    const ended = await s.ok(['show', String(plain)]);
    assert.match(ended, /\n {2}ended: +\d{4}\/\d\d\/\d\d /);
    assert.match(ended, /\n {2}exit: +code 0\n/);
    for (const absent of ['result', 'info', 'feedback', 'attempt', 'timeout', 'progress']) {
      assert.doesNotMatch(ended, new RegExp(`^ {2}${absent}:`, 'm'), `${absent}: shown though absent`);
    }
    const [showEnded] = await s.json<Record<string, unknown>[]>(['show', String(plain)]);
    const [describeEnded] = await s.json<Record<string, unknown>[]>(['describe', String(plain)]);
    assert.deepEqual(showEnded, describeEnded);
    // Two tasks: two blocks, in the order asked.
    const both = await s.ok(['show', String(plain), String(id)]);
    assert.match(both, new RegExp(`^Task ${plain}\n[\\s\\S]*\n\nTask ${id}\n`));
  });

  test('tw result: the last result message alone; exit 1 in one line without one; exit 4 for an unknown id; result in the task JSON', async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--', 'true']);
    await s.ok(['launch', '--', 'true']);
    await s.ok(['message', '1', '--type', 'result', 'rows=1']);
    await s.ok(['message', '1', '--type', 'notification', 'not a result']);
    await s.ok(['message', '1', '--type', 'result', 'rows=1200']);
    const r = await s.run(['result', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'rows=1200\n');
    const none = await s.run(['result', '2']);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.equal(oneLineError(none.stderr), null);
    const unknown = await s.run(['result', '99']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal(oneLineError(unknown.stderr), null);
    const all = (await s.json(['list', '--all'])) as Full[];
    assert.equal(all.find((x) => x.id === 1)?.result, 'rows=1200');
    assert.equal(all.find((x) => x.id === 2)?.result, null);
    assert.ok('result' in all.find((x) => x.id === 2)!, 'result missing from the JSON');
  });

  test('tw delete: an ended task goes with its log; a running one is refused (exit 1, cancel it first); an unknown id is exit 4; ids are never reused', async (t) => {
    const s = sandbox(t);
    const gate = join(s.dir, 'go');
    await s.ok(['launch', '--', 'sh', '-c', 'echo one']);
    const running = await launchBg(s, ['--', ...gated(gate)]);
    await waitRunning(s, running);
    await s.ok(['launch', '--', 'sh', '-c', 'echo three']);
    const log = (id: number) => join(`${s.db}.d`, 'logs', `${id}.log`);
    assert.ok(existsSync(log(1)) && existsSync(log(3)), 'no logs to delete');

    const r = await s.run(['delete', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'task 1: deleted\n');
    assert.ok(!existsSync(log(1)), 'the log of task 1 is still there');
    const described = await s.run(['describe', '1']);
    assert.equal(described.code, 4, described.stderr);

    const refused = await s.run(['delete', String(running)]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(oneLineError(refused.stderr), null);
    assert.match(refused.stderr, /cancel it first/);
    assert.equal(peek(s, running)?.state, 'running');
    assert.ok(existsSync(log(running)), 'a refused delete removed the log');

    const unknown = await s.run(['delete', '99']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal(oneLineError(unknown.stderr), null);

    // The highest id deleted: the next task still gets a new one.
    await s.ok(['delete', '3']);
    assert.ok(!existsSync(log(3)));
    await s.ok(['launch', '--', 'true']);
    const ids = (await s.json(['list', '--all'])).map((x) => x.id).sort((x, y) => x - y);
    assert.deepEqual(ids, [running, 4]);
    writeFileSync(gate, '');
    await waitEnded(s, running);
  });

  test('tw rerun: the same argv, folder, name and info, from anywhere; exits as the command does; --detach prints the new id', async (t) => {
    const s = sandbox(t);
    const home = join(s.dir, 'orig');
    const elsewhere = join(s.dir, 'elsewhere');
    mkdirSync(home);
    mkdirSync(elsewhere);
    const first = await s.run(['launch', '--name', 'again', '--info', 'k=v', '--', 'sh', '-c', 'pwd > where; echo ran >> runs; exit 3'], { cwd: home });
    assert.equal(first.code, 3, first.stderr);
    rmSync(join(home, 'where'));
    const original = (await s.task(1)) as Full;

    const r = await s.run(['rerun', '1'], { cwd: elsewhere });
    assert.equal(r.code, 3, r.stderr);
    assert.ok(existsSync(join(home, 'where')), 'the rerun did not write in the original folder');
    assert.equal(readFileSync(join(home, 'where'), 'utf8').trim(), realpathSync(home));
    assert.ok(!existsSync(join(elsewhere, 'where')), 'the rerun ran in the folder tw rerun ran in');
    assert.deepEqual(lines(join(home, 'runs')), ['ran', 'ran']);
    const again = (await s.task(2)) as Full;
    assert.equal(again.state, 'failed');
    assert.equal(again.exitCode, 3);
    assert.deepEqual(again.command, original.command);
    assert.equal(again.cwd, original.cwd);
    assert.equal(again.name, 'again');
    assert.deepEqual(again.info, { k: 'v' });
    assert.match(again.events![0]!.reason, /rerun of task 1\b/);

    const detached = await s.run(['rerun', '--detach', '1'], { cwd: elsewhere });
    assert.equal(detached.code, 0, detached.stderr);
    assert.match(detached.stdout, /^\d+\n$/);
    const id = Number(detached.stdout.trim());
    assert.ok(id > 2, `rerun --detach printed ${id}`);
    const third = await waitEnded(s, id);
    assert.equal(third.state, 'failed');
    assert.equal(third.name, 'again');
    assert.match(third.events![0]!.reason, /rerun of task 1\b/);
    assert.deepEqual(lines(join(home, 'runs')), ['ran', 'ran', 'ran']);
  });

  test('tw rerun of an unknown id: exit 4, one line', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['rerun', '999']);
    assert.equal(oneLineError(r.stderr), null);
    assert.match(r.stderr, /no task 999/);
    assert.equal(r.code, 4, r.stderr);
  });
});
