// `tw launch` end to end: exit codes, states, output, environment, feedback,
// timeouts, signals, lost launchers, --detach, messages and events.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { alive, BIN, exec, fixture, groupMembers, NODE, requireBuild, sandbox, twError, until, type Sandbox, type TaskJson } from './helpers.js';

before(requireBuild);

const signalNumber = (name: string | null): number => (name ? (constants.signals as Record<string, number>)[name] ?? -1 : -1);

/** Polls `tw list --all --json` until task `id` satisfies `ok`. */
function untilTask(s: Sandbox, id: number, ok: (t: TaskJson) => boolean, what: string, timeoutMs = 10_000): Promise<TaskJson> {
  return until(async () => (await s.json(['list', '--all'])).find((t) => t.id === id && ok(t)), { timeoutMs, what: `task ${id} ${what}` });
}

const transitions = (task: TaskJson): string[] => task.events!.map((e) => `${e.from ?? 'new'}>${e.to}`);

// Each test has its own store and waits mostly on children and clocks: run a few at once.
describe('tw launch', { concurrency: 4 }, () => {
  test("the child's own exit code: 7 is exit 7, state failed, stderr's last lines kept as the stacktrace", async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', 'echo boom >&2; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    const task = await s.task(1);
    assert.equal(task.state, 'failed');
    assert.equal(task.exitCode, 7);
    assert.equal(task.signal, null);
    const error = task.messages!.find((m) => m.type === 'error');
    assert.ok(error, `an error message: ${JSON.stringify(task.messages)}`);
    assert.match(error.text, /7/);
    assert.match(error.stacktrace ?? '', /boom/);
    assert.deepEqual(transitions(task), ['new>reserved', 'reserved>running', 'running>failed']);
  });

  test('success: exit 0, state succeeded, every state change an event, in order, with its time', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--name', 'ok-job', '--info', 'k=v', '--', 'true']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.equal(task.exitCode, 0);
    assert.equal(task.name, 'ok-job');
    assert.deepEqual(task.info, { k: 'v' });
    assert.deepEqual(task.command, ['true']);
    assert.ok(task.endedAt);
    assert.deepEqual(transitions(task), ['new>reserved', 'reserved>running', 'running>succeeded']);
    const times = task.events!.map((e) => Date.parse(e.at));
    assert.ok(times.every((at, i) => Number.isFinite(at) && (i === 0 || at >= times[i - 1]!)), `event times in order: ${times}`);
    assert.match(task.messages!.map((m) => m.text).join('\n'), /started with pid \d+/);
    // list and history leave the story out.
    const [listed] = await s.json(['list', '--all']);
    assert.equal(listed!.events, undefined);
    assert.equal(listed!.messages, undefined);
  });

  test('the default name is the command basename', async (t) => {
    const s = sandbox(t);
    await s.run(['launch', '--', '/bin/true']);
    assert.equal((await s.task(1)).name, 'true');
  });

  test('a missing command: exit 127, state failed, one tw: line', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', join(s.dir, 'no-such-program')]);
    assert.equal(r.code, 127, r.stderr);
    assert.equal(twError(r.stderr), null);
    const task = await s.task(1);
    assert.equal(task.state, 'failed');
    assert.deepEqual(transitions(task), ['new>reserved', 'reserved>failed']);
    assert.ok(task.messages!.some((m) => m.type === 'error'), 'an error message says why');
    const bare = await s.run(['launch', '--', 'tw-no-such-command-on-path']);
    assert.equal(bare.code, 127, bare.stderr);
  });

  test('a file that is not executable: exit 126, state failed', async (t) => {
    const s = sandbox(t);
    const script = join(s.dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho ran\n');
    chmodSync(script, 0o644);
    const r = await s.run(['launch', '--', script]);
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(twError(r.stderr), null);
    assert.equal((await s.task(1)).state, 'failed');
  });

  test('--id runs a reserved task as that id; any other id or state is refused with 125, running nothing', async (t) => {
    const s = sandbox(t);
    assert.equal(await s.ok(['reserve', '--name', 'etl', '--info', 'a=1']), '1\n');
    assert.equal((await s.run(['launch', '--id', '1', '--', 'true'])).code, 0);
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.equal(task.name, 'etl');
    assert.deepEqual(task.info, { a: '1' });
    assert.deepEqual(transitions(task), ['new>reserved', 'reserved>running', 'running>succeeded']);

    const marker = join(s.dir, 'ran');
    for (const id of ['1', '999', 'abc']) {
      const r = await s.run(['launch', '--id', id, '--', 'touch', marker]);
      assert.equal(r.code, 125, `--id ${id}: ${r.stderr}`);
      assert.equal(twError(r.stderr), null);
      assert.ok(!existsSync(marker), `--id ${id} ran the command`);
    }
    assert.equal((await s.task(1)).state, 'succeeded', 'a refused launch leaves the task alone');
    assert.equal((await s.json(['list', '--all'])).length, 1, 'a refused launch records no task');
  });

  test('--timeout: exit 124, state timed_out, a message saying it was killed after its limit', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--timeout', '1s', '--', 'sleep', '30']);
    assert.equal(r.code, 124, r.stderr);
    const task = await s.task(1);
    assert.ok(task.durationMs! >= 1000 && task.durationMs! < 5000, `killed near its limit, after ${task.durationMs} ms`);
    assert.equal(task.state, 'timed_out');
    assert.equal(task.timeoutMs, 1000);
    assert.ok(task.messages!.some((m) => /killed after/.test(m.text)), JSON.stringify(task.messages));
    assert.ok(!alive(task.pid!), 'the child is gone');
  });

  test('a child killed by a signal: 128+N (kill -9 of itself is 137), signal recorded', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', 'kill -9 $$']);
    assert.equal(r.code, 137, r.stderr);
    const task = await s.task(1);
    assert.equal(task.state, 'failed');
    assert.equal(task.signal, 'SIGKILL');
    assert.equal(task.exitCode, null);
  });

  test('stdout and stderr pass through and are saved to the log', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'to-out\nmore-out\n');
    assert.equal(r.stderr, 'to-err\n');
    const task = await s.task(1);
    assert.ok(task.logPath, 'a log path');
    assert.equal(dirname(dirname(task.logPath)), `${s.db}.d`, 'the default log lives in the store\'s own folder');
    const log = readFileSync(task.logPath, 'utf8');
    for (const line of ['to-out', 'to-err', 'more-out']) assert.ok(log.includes(`${line}\n`), `log has ${line}: ${JSON.stringify(log)}`);
    assert.equal(statSync(task.logPath).mode & 0o777, 0o600, 'the log is private');
    assert.equal(statSync(dirname(task.logPath)).mode & 0o777, 0o700, 'the logs folder is private');
  });

  test('--log PATH: the output is saved there', async (t) => {
    const s = sandbox(t);
    mkdirSync(join(s.dir, 'named'));
    const logPath = join(s.dir, 'named', 'job.log');
    assert.equal((await s.run(['launch', '--log', logPath, '--', 'echo', 'hello'])).code, 0);
    assert.equal(readFileSync(logPath, 'utf8'), 'hello\n');
    assert.equal((await s.task(1)).logPath, logPath);
  });

  test('stdin that is a file or a pipe reaches the child', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'cat'], { input: 'line one\nline two\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line one\nline two\n');
  });

  test('the child can open /dev/stdout, /dev/stderr and /dev/stdin (real pipes, not sockets)', async (t) => {
    const s = sandbox(t);
    // A shell pipe for stdin: the test runner's own 'pipe' would be a socket before tw is involved.
    const script = `printf 'in\\n' | "$0" "$1" launch -- sh -c 'echo out > /dev/stdout; echo err > /dev/stderr; cat /dev/stdin'`;
    const r = await exec('sh', ['-c', script, NODE, BIN], { fullEnv: s.env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out\nin\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('--unique: a second launch of an active name is refused with 75 (try later) and runs nothing', async (t) => {
    const s = sandbox(t);
    assert.equal(await s.ok(['reserve', '--name', 'nightly']), '1\n');
    const marker = join(s.dir, 'ran');
    const r = await s.run(['launch', '--name', 'nightly', '--unique', '--', 'touch', marker]);
    assert.equal(r.code, 75, r.stderr);
    assert.equal(twError(r.stderr), null);
    assert.match(r.stderr, /\b1\b/, `names the active task: ${r.stderr}`);
    assert.ok(!existsSync(marker), 'the command ran');
    const detached = await s.run(['launch', '--detach', '--name', 'nightly', '--unique', '--', 'touch', marker]);
    assert.equal(detached.code, 75, detached.stderr);
    assert.equal(detached.stdout, '');
    assert.deepEqual((await s.json(['list', '--all'])).map((task) => task.id), [1]);
  });

  test('5 MB of binary output: byte-identical in the passthrough and in the log', async (t) => {
    const s = sandbox(t);
    const data = randomBytes(5 * 1024 * 1024);
    const file = join(s.dir, 'blob');
    writeFileSync(file, data);
    const r = await s.run(['launch', '--', 'cat', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdoutBytes.length, data.length);
    assert.ok(r.stdoutBytes.equals(data), 'passthrough bytes differ');
    const log = readFileSync((await s.task(1)).logPath!);
    assert.equal(log.length, data.length);
    assert.ok(log.equals(data), 'log bytes differ');
  });

  test('the child gets TW_TASK_ID, TW_DB and, with --feedback, TW_FEEDBACK', async (t) => {
    const s = sandbox(t);
    const show = ['sh', '-c', 'echo "id=$TW_TASK_ID db=$TW_DB fb=$TW_FEEDBACK"'];
    const plain = await s.run(['launch', '--', ...show], { env: { TW_FEEDBACK: '/inherited/bogus' } });
    assert.equal(plain.stdout, `id=1 db=${s.db} fb=\n`, 'no TW_FEEDBACK without --feedback, even when the caller has one');
    const fed = await s.run(['launch', '--feedback', '--', ...show]);
    const task = await s.task(2);
    assert.ok(task.feedbackPath, 'a feedback path');
    assert.equal(fed.stdout, `id=2 db=${s.db} fb=${task.feedbackPath}\n`);
    assert.equal(dirname(dirname(task.feedbackPath)), `${s.db}.d`, 'the generated feedback file lives in the store\'s own folder');
    assert.equal(statSync(dirname(task.feedbackPath)).mode & 0o777, 0o700, 'the feedback folder is private');
    // A relative --db reaches the child as an absolute path.
    const rel = await s.run(['--db', 'rel/tw.db', 'launch', '--', ...show], { cwd: s.dir });
    assert.equal(rel.stdout, `id=1 db=${join(s.dir, 'rel', 'tw.db')} fb=\n`);
  });

  test('--feedback: the final values and progress are kept after the end', async (t) => {
    const s = sandbox(t);
    const lines = ['[progress]1/8', '[step]copy', '[junk]x', '[progress]3/8', '[junk]', 'not a feedback line'];
    const r = await s.run(['launch', '--feedback', '--', NODE, fixture('feedback-loop.mjs'), '0', '0', ...lines]);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.deepEqual(task.feedback, { progress: '3/8', step: 'copy' });
    assert.deepEqual(task.progress, { done: 3, total: 8 });
  });

  test('--feedback PATH: that file is watched; a percent progress', async (t) => {
    const s = sandbox(t);
    mkdirSync(join(s.dir, 'mine')); // its folder must exist: tw makes none at a path the user named
    const path = join(s.dir, 'mine', 'feedback.txt');
    const r = await s.run(['launch', `--feedback=${path}`, '--', NODE, fixture('feedback-loop.mjs'), '0', '0', '[progress]37%', '[phase]load']);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(1);
    assert.equal(task.feedbackPath, path);
    assert.deepEqual(task.feedback, { progress: '37%', phase: 'load' });
    assert.deepEqual(task.progress, { percent: 37 });
  });

  test('--feedback=PATH of a file that already holds values: those are not the task\'s, what it appends is', async (t) => {
    const s = sandbox(t);
    const path = join(s.dir, 'old-feedback.txt');
    writeFileSync(path, '[progress]99%\n[stale]yes\n'.repeat(1000));
    const r = await s.run(['launch', `--feedback=${path}`, '--', 'sh', '-c', 'echo "[progress]1/4" >> "$TW_FEEDBACK"']);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(1);
    assert.deepEqual(task.feedback, { progress: '1/4' });
    assert.deepEqual(task.progress, { done: 1, total: 4 });
  });

  test('a timeout with feedback counts from the last heartbeat: a writer outlives it, a silent child does not', async (t) => {
    const s = sandbox(t);
    const loop = (everyMs: number, forMs: number) => ['launch', '--feedback', '--timeout', '1s', '--grace', '1s', '--', NODE, fixture('feedback-loop.mjs'), String(everyMs), String(forMs), '[progress]1/2'];
    const [writer, silent] = await Promise.all([s.run(loop(200, 3000)), s.run(loop(0, 6000))]);
    const tasks = await s.json(['describe']);
    const story = JSON.stringify(tasks.map((task) => ({ ...task, command: undefined })));
    assert.equal(writer.code, 0, `the writer must survive: ${writer.stderr} ${story}`);
    assert.equal(silent.code, 124, `${silent.stderr} ${story}`);
    const byState = Object.fromEntries(tasks.map((task) => [task.state, task]));
    assert.ok(byState.succeeded && byState.timed_out, story);
    const ended = await s.task(byState.timed_out.id);
    assert.ok(ended.messages!.some((m) => /killed after/.test(m.text) && /heartbeat/.test(m.text)), JSON.stringify(ended.messages));
    assert.ok(ended.durationMs! < 4000, `the silent child was killed well before its own end (after ${ended.durationMs} ms)`);
    assert.ok(byState.succeeded.durationMs! >= 2900, `the writer ran to its end (${byState.succeeded.durationMs} ms)`);
    assert.ok(Number(byState.succeeded.feedback?.beat ?? 0) >= 5, `the writer's beats were read: ${JSON.stringify(byState.succeeded.feedback)}`);
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`${signal} to a foreground launcher: task cancelled, its whole process group gone, exit as the child did`, async (t) => {
      const s = sandbox(t);
      const launcher = s.start(['launch', '--grace', '1s', '--', 'sh', '-c', 'sleep 300 & sleep 300']);
      const running = await untilTask(s, 1, (task) => task.state === 'running' && task.pid !== null, 'running');
      const pgid = running.pid!;
      await until(() => groupMembers(pgid).length >= 2, { what: 'the child and its background sleep' });
      launcher.kill(signal);
      const { code } = await launcher.ended;
      const task = await s.task(1);
      assert.equal(task.state, 'cancelled', launcher.output.stderr);
      assert.deepEqual(groupMembers(pgid), [], 'no process of the task group may outlive its end');
      assert.ok(task.signal, `the child was killed by a signal: ${JSON.stringify(task)}`);
      assert.equal(code, 128 + signalNumber(task.signal), `launcher exits as its child did (${task.signal})`);
      assert.ok(task.messages!.some((m) => /cancel/i.test(m.text)), JSON.stringify(task.messages));
      assert.deepEqual(transitions(task), ['new>reserved', 'reserved>running', 'running>cancelled']);
    });
  }

  test('a child that ignores SIGTERM gets SIGKILL after the grace', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--timeout', '1s', '--grace', '1s', '--', NODE, fixture('ignore-term.mjs')]);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stdout, /ignoring SIGTERM/, 'SIGTERM came first');
    const task = await s.task(1);
    assert.equal(task.state, 'timed_out');
    assert.equal(task.signal, 'SIGKILL');
    assert.ok(task.durationMs! >= 1950, `not killed before timeout + grace (after ${task.durationMs} ms)`);
    assert.ok(!alive(task.pid!));
  });

  test('a grandchild left behind when the child exits is stopped before the end is recorded', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--grace', '1s', '--', NODE, fixture('grandchild.mjs')]);
    assert.equal(r.code, 0, r.stderr);
    const grandchild = Number(r.stdout.trim());
    assert.ok(grandchild > 0, r.stdout);
    assert.equal(alive(grandchild), false, 'the grandchild outlived its task');
    const task = await s.task(1);
    assert.equal(task.state, 'succeeded');
    assert.deepEqual(groupMembers(task.pid!), []);
  });

  test('a launcher killed with -9: unsupervised while the child runs, then lost once it is gone', async (t) => {
    const s = sandbox(t);
    const launcher = s.start(['launch', '--', 'sleep', '300']);
    const running = await untilTask(s, 1, (task) => task.state === 'running' && task.pid !== null, 'running');
    // Past its gate: the command itself runs (see src/launcher/start.ts).
    await until(() => readFileSync(`/proc/${running.pid}/cmdline`, 'utf8').startsWith('sleep\0'), { what: 'the command to run' });
    // While the store is open, SQLite's side files are as private as the store.
    for (const name of readdirSync(dirname(s.db)).filter((n) => n.startsWith('tw.db'))) {
      assert.equal(statSync(join(dirname(s.db), name)).mode & 0o777, name === 'tw.db.d' ? 0o700 : 0o600, `${name} mode`);
    }
    launcher.kill('SIGKILL');
    await launcher.ended;
    const [shown] = await s.json(['list']);
    assert.equal(shown?.state, 'running');
    assert.equal(shown?.liveness, 'unsupervised');
    assert.ok(alive(running.pid!), 'the child still runs');

    process.kill(running.pid!, 'SIGKILL');
    await until(() => !alive(running.pid!), { what: 'the child to die' });
    const [lost] = await s.json(['list', '--all']);
    assert.equal(lost?.state, 'lost');
    assert.ok(lost?.endedAt, 'lost records when it was noticed');
    assert.deepEqual(await s.json(['list']), [], 'a lost task is no longer active');
    const story = await s.ok(['describe', '--show-all', '1']);
    assert.match(story, /lost/);
    assert.match(story, /Error.*launcher/i, story);
    const task = await s.task(1);
    assert.deepEqual(transitions(task), ['new>reserved', 'reserved>running', 'running>lost']);
  });

  test('--detach prints the id alone and returns at once; the task runs on, its output only in the log', async (t) => {
    const s = sandbox(t);
    const go = join(s.dir, 'go');
    const script = `echo out; echo err >&2; while [ ! -e '${go}' ]; do sleep 0.05; done; echo done`;
    const r = await s.run(['launch', '--detach', '--name', 'bg', '--', 'sh', '-c', script], { timeoutMs: 5000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n');
    assert.equal(r.stderr, '');
    const running = await untilTask(s, 1, (task) => task.state === 'running', 'running');
    assert.equal(running.name, 'bg');
    writeFileSync(go, '');
    const done = await untilTask(s, 1, (task) => task.state === 'succeeded', 'succeeded');
    assert.equal(done.exitCode, 0);
    const log = readFileSync(done.logPath!, 'utf8');
    for (const line of ['out', 'err', 'done']) assert.ok(log.includes(`${line}\n`), `log has ${line}: ${JSON.stringify(log)}`);
    assert.notEqual(done.launcherPid, null);
    await until(() => !alive(done.launcherPid!), { what: 'the detached launcher to exit', timeoutMs: 5000 });
  });

  test('tw message from inside a task (TW_TASK_ID) and from outside, in order, with types', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', NODE, BIN, 'message', 'hello from inside']);
    assert.equal(r.code, 0, r.stderr);
    await s.ok(['message', '1', '--type', 'error', '--stacktrace', 'line 1\nline 2', 'it broke']);
    await s.ok(['message', '1', '--type', 'result', 'rows=42']);
    const task = await s.task(1);
    const mine = task.messages!.filter((m) => ['hello from inside', 'it broke', 'rows=42'].includes(m.text));
    assert.deepEqual(mine.map((m) => [m.type, m.text, m.stacktrace]), [
      ['notification', 'hello from inside', null],
      ['error', 'it broke', 'line 1\nline 2'],
      ['result', 'rows=42', null],
    ]);
    const bad = await s.run(['message', '1', '--type', 'shout', 'x']);
    assert.equal(bad.code, 2, bad.stderr);
  });
});
