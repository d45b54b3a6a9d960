// `tw describe`: vp-describe-task's aligned summary lines, --nc, the whole
// story under --show-all, --json with messages and events, and its exit codes.
import assert from 'node:assert/strict';
import { describe, before, test } from 'node:test';
import { fixture, NODE, oneLineError, requireBuild, sandbox } from './helpers.js';
import { HUMAN_UTC, ISO_UTC, launchBg, waitEnded, waitRunning, waitTask } from './steer-helpers.js';

before(requireBuild);

const SUMMARY = new RegExp(
  `^Task: (\\d+) +Name: (\\S+) +State: (\\S+) +Num: (.+?) +LastUpdated: (${HUMAN_UTC.source})$`,
);

/** `2026/11/22 20:51:07 UTC` as milliseconds. */
const humanTime = (text: string): number => Date.parse(text.replace(/\//g, '-').replace(' UTC', 'Z').replace(' ', 'T'));

describe('tw describe', { concurrency: true }, () => {
  test('one summary line per task, in the contract form, columns aligned across lines', async (t) => {
    const s = sandbox(t);
    // Ids 1..9 reserved, so that ids of one and two digits are both shown.
    // The first alone: it creates the store (racing first users are the store tests' business).
    await s.ok(['reserve', '--name', 'x']);
    await Promise.all(Array.from({ length: 8 }, () => s.ok(['reserve', '--name', 'x'])));
    const id = await launchBg(s, ['--name', 'a-much-longer-name', '--feedback', '--', NODE, fixture('steer-script.mjs'), 'fb:[progress]3/8', 'wait:/nonexistent/never']);
    assert.equal(id, 10);
    await waitTask(s, id, (x) => x.progress !== null, 'progress recorded');
    const before = Date.now();
    const out = await s.ok(['describe']);
    const lines = out.split('\n').filter(Boolean);
    assert.equal(lines.length, 10, out);
    for (const line of lines) assert.match(line, SUMMARY, `summary line: ${JSON.stringify(line)}`);
    const last = lines[9]!;
    assert.match(last, /^Task: 10 +Name: a-much-longer-name +State: running +Num: 3\/8 \( 37%\) +LastUpdated: /, last);
    const updated = humanTime(SUMMARY.exec(last)![5]!);
    assert.ok(Math.abs(updated - before) < 15_000, `LastUpdated ${SUMMARY.exec(last)![5]} is about now (UTC)`);
    assert.match(lines[0]!, /^Task: 1 +Name: x +State: reserved +Num: /);
    for (const field of ['Name:', 'State:', 'Num:', 'LastUpdated:']) {
      const offsets = new Set(lines.map((l) => l.indexOf(field)));
      assert.equal(offsets.size, 1, `'${field}' starts at the same offset on every line:\n${out}`);
    }
    // Named ids: only those, in the order asked.
    const two = (await s.ok(['describe', '10', '3'])).split('\n').filter(Boolean);
    assert.deepEqual(two.map((l) => SUMMARY.exec(l)?.[1]), ['10', '3']);
    assert.equal(two[0]!.indexOf('State:'), two[1]!.indexOf('State:'));
  });

  test('--nc leaves out succeeded tasks', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--name', 'good', '--', 'true'])).code, 0);
    assert.equal((await s.run(['launch', '--name', 'bad', '--', 'false'])).code, 1);
    await s.ok(['reserve', '--name', 'waiting']);
    const all = (await s.ok(['describe'])).split('\n').filter(Boolean);
    assert.equal(all.length, 3);
    const nc = (await s.ok(['describe', '--nc'])).split('\n').filter(Boolean);
    assert.deepEqual(nc.map((l) => SUMMARY.exec(l)?.[3]), ['failed', 'reserved'], nc.join('\n'));
    const ncJson = await s.json(['describe', '--nc']);
    assert.deepEqual(ncJson.map((x) => x.state), ['failed', 'reserved']);
    assert.deepEqual(await s.json(['describe', '--nc', '1']), [], 'a named succeeded task is hidden too');
  });

  test('--show-all: the start notification, the events, and a failure with its stderr as an indented stacktrace', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--name', 'boomer', '--', 'sh', '-c', 'echo boom >&2; exit 3']);
    assert.equal(r.code, 3);
    const [task] = await s.json(['describe', '1']);
    await s.ok(['message', '1', '--type', 'result', 'all told']);
    const out = await s.ok(['describe', '--show-all', '1']);
    const lines = out.split('\n').filter(Boolean);
    assert.match(lines[0]!, /^Task: 1 +Name: boomer +State: failed +Num: /);
    const story = lines.slice(1);
    const T = HUMAN_UTC.source;
    const started = story.findIndex((l) => new RegExp(`^\\s+Notification - ${T}: started with pid ${task!.pid}$`).test(l));
    assert.ok(started >= 0, `a start notification naming pid ${task!.pid}:\n${out}`);
    const error = story.findIndex((l) => new RegExp(`^\\s+Error - ${T}: .*\\b3\\b`).test(l));
    assert.ok(error > started, `an Error message naming the exit code, after the start:\n${out}`);
    const errorIndent = story[error]!.search(/\S/);
    assert.match(story[error + 1]!, /^\s+Stacktrace:$/, out);
    const traceIndent = story[error + 1]!.search(/\S/);
    assert.ok(traceIndent > errorIndent, `Stacktrace: indented under its message:\n${out}`);
    assert.match(story[error + 2]!, /^\s+boom$/, out);
    assert.ok(story[error + 2]!.search(/\S/) > traceIndent, `the stderr line indented under Stacktrace:\n${out}`);
    assert.ok(story.some((l) => new RegExp(`^\\s+Result - ${T}: all told$`).test(l)), `the task's own message:\n${out}`);
    // State events (reserved, running, failed): the dated lines that are not messages, in time order with them.
    const dated = story.filter((l) => new RegExp(T).test(l));
    const events = dated.filter((l) => !/^\s+(Notification|Debug|Error|Result) - /.test(l));
    assert.equal(events.length, 3, `three state events:\n${out}`);
    assert.match(events[0]!, /reserved/);
    assert.match(events[1]!, /running/);
    assert.match(events[2]!, /failed/);
    const times = story.map((l) => new RegExp(`- (${T}):`).exec(l)?.[1]).filter((x): x is string => Boolean(x)).map(humanTime);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), `the story is in time order:\n${out}`);
    // Without --show-all: the summary line alone.
    assert.equal((await s.ok(['describe', '1'])).split('\n').filter(Boolean).length, 1);
  });

  test('--show-all of a running task shows its start', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    const task = await waitRunning(s, id);
    const out = await s.ok(['describe', '--show-all', String(id)]);
    assert.match(out, new RegExp(`^\\s+Notification - ${HUMAN_UTC.source}: started with pid ${task.pid}$`, 'm'), out);
    assert.match(out, /State: running/);
  });

  test('--json: an array with messages (at, type, text, stacktrace) and events (at, from, to, reason)', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--name', 'boomer', '--', 'sh', '-c', 'echo boom >&2; exit 3'])).code, 3);
    await s.ok(['reserve', '--name', 'r']);
    const tasks = await s.json(['describe']);
    assert.ok(Array.isArray(tasks));
    assert.deepEqual(tasks.map((x) => x.id), [1, 2]);
    const [failed, reserved] = tasks;
    for (const m of failed!.messages!) {
      assert.deepEqual(Object.keys(m).sort(), ['at', 'stacktrace', 'text', 'type']);
      assert.match(m.at, ISO_UTC);
    }
    for (const e of failed!.events!) {
      assert.deepEqual(Object.keys(e).sort(), ['at', 'from', 'reason', 'to']);
      assert.match(e.at, ISO_UTC);
      assert.equal(typeof e.reason, 'string');
    }
    assert.deepEqual(failed!.events!.map((e) => [e.from, e.to]), [[null, 'reserved'], ['reserved', 'running'], ['running', 'failed']]);
    const start = failed!.messages!.find((m) => m.text === `started with pid ${failed!.pid}`);
    assert.ok(start, JSON.stringify(failed!.messages));
    assert.equal(start.type, 'notification');
    assert.equal(start.stacktrace, null);
    const error = failed!.messages!.find((m) => m.type === 'error');
    assert.ok(error, JSON.stringify(failed!.messages));
    assert.match(error.text, /\b3\b/);
    assert.match(error.stacktrace ?? '', /^boom$/m);
    assert.equal(failed!.exitCode, 3);
    assert.equal(failed!.state, 'failed');
    assert.deepEqual(reserved!.messages, []);
    assert.deepEqual(reserved!.events!.map((e) => [e.from, e.to]), [[null, 'reserved']]);
    // A named id: an array of one.
    const one = await s.json(['describe', '2']);
    assert.deepEqual(one.map((x) => x.id), [2]);
  });

  test('the end of a cancelled task is in its story', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    await waitRunning(s, id);
    await s.ok(['cancel', String(id)]);
    const ended = await waitEnded(s, id);
    assert.equal(ended.state, 'cancelled');
    assert.equal(ended.events!.at(-1)!.to, 'cancelled');
    const story = await s.ok(['describe', '--show-all', String(id)]);
    const change = story.split('\n').filter((l) => !/^\s*(Notification|Debug|Error|Result) - /.test(l) && /\brunning\b.*\bcancelled\b/.test(l));
    assert.equal(change.length, 1, `the state change to cancelled:\n${story}`);
    assert.match(story, /tw cancel/, `who cancelled it:\n${story}`);
  });

  test('an unknown id exits 4, a bad id exits 2, each with one line on stderr', async (t) => {
    const s = sandbox(t);
    await s.ok(['reserve']);
    for (const args of [['describe', '99'], ['describe', '1', '99'], ['describe', '--show-all', '99'], ['describe', '--json', '99']]) {
      const r = await s.run(args);
      assert.equal(r.code, 4, `tw ${args.join(' ')}: ${r.stderr}`);
      assert.equal(oneLineError(r.stderr), null);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.match(r.stderr, /\b99\b/);
      assert.equal(r.stdout, '');
    }
    for (const bad of ['abc', '0', '1.5', '12x']) {
      const r = await s.run(['describe', bad]);
      assert.equal(r.code, 2, `tw describe ${bad}: ${r.stderr}`);
      assert.equal(oneLineError(r.stderr), null);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
});
