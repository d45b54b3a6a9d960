// `tw feedback` (from the file while it is there, else from the store),
// `tw parse` on the contract's example, and `tw logs` (whole, --tail, -f).
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fixture, NODE, oneLineError, requireBuild, sandbox, until } from './helpers.js';
import { launchBg, launchFg, waitEnded, waitRunning, waitTask } from './steer-helpers.js';

before(requireBuild);

interface FeedbackJson {
  id: number;
  values: Record<string, string>;
  progress: { done: number; total: number } | { percent: number } | null;
  ignoredLines: number;
}

/** The contract's example feedback file (PRODUCT.md, "The feedback file"). */
const CONTRACT_EXAMPLE = readFileSync(new URL('./fixtures/contract-example.txt', import.meta.url), 'utf8');

describe('tw feedback, tw parse, tw logs', { concurrency: true }, () => {
  test('tw feedback: values, progress and ignored lines while running, after the end, and once the file is gone', async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const id = await launchBg(s, [
      '--feedback', '--',
      NODE, fixture('steer-script.mjs'),
      'fb:[progress]3/8', 'fb:[stage]copy', 'fb:this is junk', 'fb:[1st]starts with a digit', 'fb:# a comment', `wait:${go}`,
      'fb:[stage]done', 'fb:[progress]8/8',
    ]);
    const { feedbackPath } = await waitRunning(s, id);
    // Once the script has written its lines (read in-process: polling with a tw per look would load the machine).
    await until(() => existsSync(feedbackPath!) && readFileSync(feedbackPath!, 'utf8').includes('# a comment\n'), { what: 'the feedback lines' });
    const running = await s.json<FeedbackJson>(['feedback', String(id)]);
    assert.equal(running.id, id);
    assert.deepEqual(running.values, { progress: '3/8', stage: 'copy' });
    assert.deepEqual(running.progress, { done: 3, total: 8 });
    assert.equal(running.ignoredLines, 2, 'the junk line and the key starting with a digit (not the comment)');
    const human = await s.ok(['feedback', String(id)]);
    assert.match(human, /^stage\s+copy$/m, human);
    assert.match(human, /^progress\s+3\/8$/m, human);
    assert.match(human, /\b2\b.*ignored/, human);

    writeFileSync(go, '');
    const ended = await waitEnded(s, id);
    assert.equal(ended.state, 'succeeded');
    // The end read the file one last time: the store keeps the final values.
    assert.deepEqual(ended.feedback, { progress: '8/8', stage: 'done' });
    assert.deepEqual(ended.progress, { done: 8, total: 8 });
    const after = await s.json<FeedbackJson>(['feedback', String(id)]);
    assert.deepEqual(after.values, { progress: '8/8', stage: 'done' });
    // While the file is there, it is re-read.
    appendFileSync(ended.feedbackPath!, '[stage]edited later\n');
    const reread = await s.json<FeedbackJson>(['feedback', String(id)]);
    assert.equal(reread.values.stage, 'edited later');
    // Once it is gone, the store's values stand.
    rmSync(ended.feedbackPath!);
    const stored = await s.json<FeedbackJson>(['feedback', String(id)]);
    assert.deepEqual(stored.values, { progress: '8/8', stage: 'done' });
    assert.deepEqual(stored.progress, { done: 8, total: 8 });
    assert.equal(stored.ignoredLines, 2);
  });

  test('tw feedback: a task without a feedback file, an unknown id, a bad id', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'true'])).code, 0);
    const none = await s.json<FeedbackJson>(['feedback', '1']);
    assert.deepEqual(none.values, {});
    assert.equal(none.progress, null);
    const unknown = await s.run(['feedback', '99']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal(oneLineError(unknown.stderr), null);
    assert.doesNotMatch(unknown.stderr, /internal error/);
    const bad = await s.run(['feedback', 'x']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.doesNotMatch(bad.stderr, /internal error/);
  });

  test("tw parse FILE on the contract's example prints exactly the contract's JSON", async (t) => {
    const s = sandbox(t);
    const file = `${s.dir}/example.txt`;
    writeFileSync(file, CONTRACT_EXAMPLE);
    const out = await s.ok(['parse', file]);
    assert.equal(out, '{"playbook":"myPlaybook","testcase_id":"002","testcase_name":"Setting up topology","progress":"10"}\n');
    const missing = await s.run(['parse', `${s.dir}/nope.txt`]);
    assert.notEqual(missing.code, 0);
    assert.equal(oneLineError(missing.stderr), null);
  });

  test('tw logs ID prints the saved output; --tail 3 the last three lines', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6; do echo line$i; done']);
    assert.equal(r.code, 0);
    const lines = ['line1', 'line2', 'line3', 'line4', 'line5', 'line6'];
    assert.equal(await s.ok(['logs', '1']), `${lines.join('\n')}\n`);
    assert.equal(await s.ok(['logs', '--tail', '3', '1']), `${lines.slice(3).join('\n')}\n`);
    assert.equal(await s.ok(['logs', '1', '--tail', '100']), `${lines.join('\n')}\n`);
    const bad = await s.run(['logs', '--tail', 'x', '1']);
    assert.equal(bad.code, 2, bad.stderr);
    const unknown = await s.run(['logs', '99']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal(oneLineError(unknown.stderr), null);
  });

  test("tw logs holds stderr too, and a detached task's output", async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sh', '-c', 'echo to-out; echo to-err >&2']);
    await waitEnded(s, id);
    const out = await s.ok(['logs', String(id)]);
    assert.match(out, /^to-out$/m);
    assert.match(out, /^to-err$/m);
  });

  test('tw logs -f follows a task printing a line every 200 ms and exits when it ends, with every line', async (t) => {
    const s = sandbox(t);
    const COUNT = 12;
    const go = `${s.dir}/go`;
    const { launcher, id } = await launchFg(s, ['--', NODE, fixture('steer-ticker.mjs'), String(COUNT), '200', go]);
    await waitRunning(s, id);
    const follower = s.start(['logs', '-f', String(id)]);
    writeFileSync(go, '');
    // It shows lines as they come, before the task ends.
    await until(() => /^tick 2$/m.test(follower.output.stdout), { what: 'the follower to show tick 2' });
    assert.equal((await s.task(id)).state, 'running', 'following while it runs');
    assert.equal(follower.exitCode, null);
    assert.equal((await launcher.ended).code, 0);
    const ended = await waitEnded(s, id);
    const { code } = await follower.ended;
    const exitedAt = Date.now();
    assert.equal(code, 0, follower.output.stderr);
    assert.ok(exitedAt - Date.parse(ended.endedAt!) < 3000, 'exits soon after the end');
    const want = Array.from({ length: COUNT }, (_, i) => `tick ${i + 1}`).join('\n');
    assert.equal(follower.output.stdout, `${want}\n`);
  });

  test('tw logs -f on an ended task prints the log and exits', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'echo', 'done'])).code, 0);
    const r = await s.run(['logs', '-f', '1'], { timeoutMs: 5000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
  });

  test('tw logs of a log deleted under tw: exit 1 with one line, with and without -f', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'echo', 'done'])).code, 0);
    rmSync((await s.task(1)).logPath!);
    for (const args of [['logs', '1'], ['logs', '-f', '1']]) {
      const r = await s.run(args, { timeoutMs: 5000 });
      assert.equal(r.code, 1, `tw ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^tw: the log of task 1, .*, is gone \(deleted\)\n$/);
    }
  });

  test('tw feedback reads a progress percent too', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--feedback', '--', NODE, fixture('steer-script.mjs'), 'fb:[progress]37%', 'wait:/nonexistent/never']);
    await waitTask(s, id, (x) => x.progress !== null, 'progress recorded');
    const f = await s.json<FeedbackJson>(['feedback', String(id)]);
    assert.deepEqual(f.progress, { percent: 37 });
  });
});
