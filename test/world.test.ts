// Telling the world (issue 16): the event stream with its store-wide sequence,
// Prometheus metrics checked by promtool, healthchecks.io-style pings to a
// real HTTP server on 127.0.0.1, and the on-end command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pingServer, requireBuild, sandbox, until, type Sandbox } from './helpers.js';
import { launchBg, peek, waitEnded, waitRunning } from './steer-helpers.js';

before(requireBuild);

interface Event {
  seq: number;
  at: string;
  taskId: number;
  name: string;
  host: string;
  kind: 'state' | 'message';
  from: string | null;
  to: string | null;
  reason: string | null;
  type: string | null;
  text: string | null;
}
const parseLines = (out: string): Event[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
const events = async (s: Sandbox, args: string[] = []): Promise<Event[]> => parseLines(await s.ok(['events', '--json', ...args]));

const promtool = spawnSync('promtool', ['--version']).status === 0;

describe('events, metrics, pings', { concurrency: true }, () => {
  test('events: every state change and message in commit order, with a sequence that a clear never reuses', async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--name', 'a', '--', 'true']);
    await s.run(['launch', '--name', 'b', '--', 'sh', '-c', 'exit 3']);
    const all = await events(s);
    assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => i + 1), 'numbered 1, 2, 3... in order');
    const b = all.filter((e) => e.taskId === 2);
    assert.deepEqual(b.filter((e) => e.kind === 'state').map((e) => e.to), ['reserved', 'running', 'failed']);
    assert.ok(b.some((e) => e.kind === 'message' && e.type === 'error' && /code 3/.test(e.text ?? '')));
    for (const e of all) {
      assert.deepEqual(Object.keys(e).sort(), ['at', 'from', 'host', 'kind', 'name', 'reason', 'seq', 'taskId', 'text', 'to', 'type'].sort());
    }
    assert.deepEqual((await events(s, ['--name', 'a'])).map((e) => e.taskId), all.filter((e) => e.taskId === 1).map(() => 1));
    assert.deepEqual((await events(s, ['--after', '3'])).map((e) => e.seq), all.filter((e) => e.seq > 3).map((e) => e.seq));
    assert.deepEqual((await events(s, ['2'])).map((e) => e.seq), b.map((e) => e.seq));
    const last = all.at(-1)!.seq;
    await s.ok(['history', 'clear']);
    assert.deepEqual(await events(s), [], "a pruned task's events go with it");
    await s.ok(['launch', '--', 'true']);
    const next = await events(s);
    assert.ok(next[0]!.seq > last, `${next[0]!.seq} after ${last}: never reused`);
    const human = await s.ok(['events']);
    assert.match(human, /^ +\d+ {2}\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC +\d+ {2}true +new -> reserved: launched$/m);
  });

  test('events --after resumes exactly while tasks commit concurrently: nothing missed, nothing twice', async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--', 'true']);
    const seen: number[] = [];
    let after = 0;
    let done = false;
    const writers = Promise.all(Array.from({ length: 8 }, (_, i) => s.run(['launch', '--name', `w${i}`, '--', 'sh', '-c', 'echo x'])));
    void writers.then(() => (done = true));
    while (!done) {
      const got = await events(s, ['--after', String(after)]);
      seen.push(...got.map((e) => e.seq));
      if (got.length) after = got.at(-1)!.seq;
    }
    seen.push(...(await events(s, ['--after', String(after)])).map((e) => e.seq));
    const all = (await events(s)).map((e) => e.seq);
    assert.deepEqual(seen, all);
  });

  test('events -f notices a new event at once and follows until Ctrl-C (exit 0)', async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--', 'true']);
    const follower = s.start(['events', '-f', '--json']);
    await until(() => follower.output.stdout.includes('"to":"succeeded"'), { what: 'the history printed' });
    const id = await launchBg(s, ['--name', 'followed', '--', 'true']);
    await until(() => parseLines(follower.output.stdout).some((e) => e.taskId === id && e.to === 'succeeded'), { what: 'the new task followed' });
    follower.kill('SIGINT');
    assert.equal((await follower.ended).code, 0, follower.output.stderr);
    const seqs = parseLines(follower.output.stdout).map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length);
  });

  test('metrics: promtool accepts them; counters that a clear never lowers; the last end and success per name', { skip: promtool ? false : 'promtool not installed (Debian: apt-get install prometheus)' }, async (t) => {
    const s = sandbox(t);
    await s.ok(['launch', '--name', 'backup', '--', 'true']);
    await s.ok(['launch', '--name', 'backup', '--', 'true']);
    await s.run(['launch', '--name', 'we"ird\\name', '--', 'false']);
    const gate = join(s.dir, 'go');
    const running = await launchBg(s, ['--name', 'backup', '--', 'sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.02; done', gate]);
    await waitRunning(s, running);
    const check = (text: string) => {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}\n${text}`);
    };
    const text = await s.ok(['metrics']);
    check(text);
    assert.match(text, /^tw_task_ends_total\{name="backup",state="succeeded"\} 2$/m);
    assert.match(text, /^tw_tasks\{name="backup",state="running"\} 1$/m);
    assert.match(text, /^tw_task_ends_total\{name="we\\"ird\\\\name",state="failed"\} 1$/m);
    assert.match(text, /^tw_task_last_success_timestamp_seconds\{name="backup"\} \d+(\.\d+)?$/m);
    assert.match(text, /^# HELP tw_task_last_duration_seconds /m);
    await s.ok(['history', 'clear']);
    const out = join(s.dir, 'tw.prom');
    await s.ok(['metrics', '--out', out]);
    const after = readFileSync(out, 'utf8');
    check(after);
    assert.match(after, /^tw_task_ends_total\{name="backup",state="succeeded"\} 2$/m, 'a clear does not lower a counter');
    assert.deepEqual(readdirSync(s.dir).filter((f) => f.includes('.tmp')), [], 'no temp file left');
    const bad = await s.run(['metrics', '--out', join(s.dir, 'no', 'such', 'dir', 'x.prom')]);
    assert.equal(bad.code, 1, bad.stderr);
    await s.ok(['cancel', String(running)]);
  });

  test('pings: start and exit code with one rid, the last output as the body; a retry pings anew; timeout 124, cancel 143', async (t) => {
    const s = sandbox(t);
    const { url, hits } = await pingServer(t);
    const r = await s.run(['launch', '--ping', url, '--', 'sh', '-c', 'echo out-line; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(hits.map((h) => h.path), ['/check/start', '/check/3']);
    assert.ok(hits[0]!.rid && hits[0]!.rid === hits[1]!.rid, JSON.stringify(hits));
    assert.equal(hits[0]!.port, hits[1]!.port, 'start and end over one kept-alive connection');
    assert.equal(hits[1]!.method, 'POST');
    assert.match(hits[1]!.body, /out-line\n$/);
    hits.length = 0;
    assert.equal((await s.run(['launch', '--ping', url, '--retries', '1', '--retry-delay', '10ms', '--', 'false'])).code, 1);
    assert.deepEqual(hits.map((h) => h.path), ['/check/start', '/check/1', '/check/start', '/check/1']);
    assert.notEqual(hits[0]!.rid, hits[2]!.rid, 'each attempt is a run of its own');
    hits.length = 0;
    assert.equal((await s.run(['launch', '--ping', url, '--timeout', '300ms', '--', 'sleep', '10'])).code, 124);
    assert.deepEqual(hits.map((h) => h.path), ['/check/start', '/check/124']);
    hits.length = 0;
    const id = await launchBg(s, ['--ping', url, '--', 'sleep', '30']);
    await waitRunning(s, id);
    await s.ok(['cancel', String(id)]);
    await until(() => hits.some((h) => h.path === '/check/143'), { what: 'the cancel ping' });
    // TW_PING_URL for every launch.
    hits.length = 0;
    await s.ok(['launch', '--', 'true'], { env: { TW_PING_URL: url } });
    assert.deepEqual(hits.map((h) => h.path), ['/check/start', '/check/0']);
  });

  test('a ping that fails is an error message; the state and exit code stay; credentials never shown', async (t) => {
    const s = sandbox(t);
    const url = 'http://user:s3cret@127.0.0.1:9/nothing';
    const r = await s.run(['launch', '--ping', url, '--', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.ok(task.messages!.some((m) => m.type === 'error' && /ping failed/.test(m.text)), JSON.stringify(task.messages));
    for (const args of [['describe', '--show-all', '1'], ['describe', '--json', '1'], ['list', '--all', '--json'], ['show', '1'], ['events', '--json']]) {
      assert.doesNotMatch(await s.ok(args), /s3cret/, args.join(' '));
    }
    assert.equal((await s.run(['launch', '--ping', 'ftp://x', '--', 'true'])).code, 125);
  });

  test('a server that trickles its answer cannot hold the launcher: each try has a hard deadline', async (t) => {
    const s = sandbox(t);
    const server = createServer((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write('.'), 200);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    const r = await s.run(['launch', '--ping', url, '--', 'true'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.ok(task.messages!.some((m) => /ping failed: start .* no answer in 2\.5s/.test(m.text)), JSON.stringify(task.messages));
  });

  test('--on-end runs once the task has ended, with its id, state, exit code and duration; its failure is a message', async (t) => {
    const s = sandbox(t);
    const file = join(s.dir, 'ended');
    const r = await s.run(['launch', '--on-end', `echo "$TW_TASK_ID $TW_STATE $TW_EXIT_CODE $TW_DURATION_MS" > ${file}`, '--', 'sh', '-c', 'exit 4']);
    assert.equal(r.code, 4);
    const line = String(await until(() => existsSync(file) && readFileSync(file, 'utf8'), { what: 'the on-end command' }));
    assert.match(line, /^1 failed 4 \d+\n$/);
    await s.ok(['launch', '--on-end', 'exit 7', '--', 'true']);
    await until(async () => (await s.task(2)).messages!.some((m) => /on-end command exited with code 7/.test(m.text)), { what: 'the on-end failure noted' });
    assert.equal(peek(s, 2)?.state, 'succeeded');
    await waitEnded(s, 2);
  });
});
