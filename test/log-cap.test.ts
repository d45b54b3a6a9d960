// The log's cap (--log-max keeps the newest output and says what it dropped),
// the arrival time of each line (tw logs --timestamps), and the order of
// stdout and stderr lines in it.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { requireBuild, sandbox } from './helpers.js';
import { HUMAN_UTC } from './steer-helpers.js';

before(requireBuild);

const logsDir = (db: string): string => join(`${db}.d`, 'logs');

describe('log cap and arrival times', { concurrency: true }, () => {
  test('--log-max 10K: the log never passes the cap, keeps the newest output from a whole line, and the task says what was dropped', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--log-max', '10K', '--', 'sh', '-c', 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "line $i"; done']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 3000, 'the passthrough is not capped');
    const size = statSync(join(logsDir(s.db), '1.log')).size;
    assert.ok(size <= 10 * 1024, `${size} bytes`);
    const lines = (await s.ok(['logs', '1'])).trimEnd().split('\n');
    assert.equal(lines.at(-1), 'line 3000');
    assert.match(lines[0]!, /^line \d+$/);
    assert.deepEqual(lines.map((l) => Number(l.split(' ')[1])), lines.map((_, i) => Number(lines[0]!.split(' ')[1]) + i), 'the newest lines, in order, none missing');
    const task = await s.task(1);
    assert.ok(task.messages!.some((m) => /log is capped at 10 KiB: .* dropped/.test(m.text)), JSON.stringify(task.messages));
    assert.equal((await s.run(['launch', '--log-max', 'lots', '--', 'true'])).code, 125);
  });

  test('logs -f across caps: the follower goes on to the last line', async (t) => {
    const s = sandbox(t);
    const id = (await s.ok(['launch', '--detach', '--log-max', '1K', '--', 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line $i"; sleep 0.005; done'])).trim();
    const r = await s.run(['logs', '-f', id], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').at(-1), 'line 300');
  });

  test('logs --timestamps: each line after the time it arrived; the times go with the task', async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--', 'sh', '-c', 'echo first; sleep 1.2; echo second']);
    const out = await s.ok(['logs', '--timestamps', '1']);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 2, out);
    const stamp = new RegExp(`^(${HUMAN_UTC.source})  (first|second)$`);
    const [a, b] = lines.map((l) => stamp.exec(l));
    assert.ok(a && b, out);
    assert.ok(Date.parse(b![1]!.replace(' UTC', 'Z').replace(/\//g, '-').replace(' ', 'T')) > Date.parse(a![1]!.replace(' UTC', 'Z').replace(/\//g, '-').replace(' ', 'T')), out);
    assert.equal((await s.run(['logs', '--timestamps', '-f', '1'])).code, 2);
    assert.ok(existsSync(join(logsDir(s.db), '1.times')));
    await s.ok(['delete', '1']);
    assert.ok(!existsSync(join(logsDir(s.db), '1.times')), 'deleted with its task');
  });

  test('logs --timestamps after caps: every kept line still has the time it arrived', async (t) => {
    const s = sandbox(t);
    const script = 'i=0; while [ $i -lt 80 ]; do i=$((i+1)); echo "line $i, padded to be long enough to fill a small cap"; [ $i = 40 ] && sleep 1.1; done; true';
    await s.ok(['launch', '--log-max', '2K', '--', 'sh', '-c', script]);
    const kept = (await s.ok(['logs', '1'])).trimEnd().split('\n');
    assert.equal(kept.at(-1), 'line 80, padded to be long enough to fill a small cap');
    const stamped = (await s.ok(['logs', '--timestamps', '1'])).trimEnd().split('\n');
    assert.deepEqual(stamped.map((l) => l.replace(new RegExp(`^${HUMAN_UTC.source}  `), '')), kept, 'each kept line, after its time');
  });

  // Written back to back, faster than any reader wakes: two pipes read apart would give all of one stream first.
  const INTERLEAVED = 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "line $i"; echo "err $i" >&2; done; echo "boom" >&2; exit 3';
  const inOrder = Array.from({ length: 200 }, (_, i) => [`line ${i + 1}`, `err ${i + 1}`]).flat().concat('boom');

  test('stdout and stderr keep the order the child wrote them: detached, and in the foreground to one file (2>&1); the stacktrace is the last lines', async (t) => {
    const s = sandbox(t);
    const id = (await s.ok(['launch', '--detach', '--', 'sh', '-c', INTERLEAVED])).trim();
    assert.equal((await s.run(['describe', '--block', id], { timeoutMs: 30_000 })).code, 1);
    assert.deepEqual((await s.ok(['logs', id])).trimEnd().split('\n'), inOrder, 'detached: the log in the order written');
    const failure = (await s.task(id)).messages!.find((m) => m.type === 'error');
    assert.match(failure?.stacktrace ?? '', /err 200\nboom$/, 'the stacktrace: the last lines, both streams');

    const out = join(s.dir, 'both.txt');
    const fd = openSync(out, 'w');
    const fg = s.start(['launch', '--', 'sh', '-c', INTERLEAVED], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    assert.equal((await fg.ended).code, 3);
    assert.deepEqual(readFileSync(out, 'utf8').trimEnd().split('\n'), inOrder, 'what passed through, in order');
    assert.deepEqual((await s.ok(['logs', '2'])).trimEnd().split('\n'), inOrder, 'the log, in order');
  });

  test('stdout and stderr sent apart still go apart, each whole and in its own order', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', INTERLEAVED]);
    assert.equal(r.code, 3);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), inOrder.filter((l) => l.startsWith('line')));
    assert.deepEqual(r.stderr.trimEnd().split('\n'), inOrder.filter((l) => !l.startsWith('line')));
    const log = (await s.ok(['logs', '1'])).trimEnd().split('\n');
    assert.deepEqual([...log].sort(), [...inOrder].sort(), 'every line in the log');
    const failure = (await s.task(1)).messages!.find((m) => m.type === 'error');
    assert.match(failure?.stacktrace ?? '', /(^|\n)err 199\nerr 200\nboom$/, "the stacktrace: stderr's last lines alone");
    assert.doesNotMatch(failure?.stacktrace ?? '', /line/);
  });
});
