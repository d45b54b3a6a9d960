// `tw cancel`: reserved tasks at once, running ones by SIGTERM to their group
// then SIGKILL after the grace, unsupervised ones too, terminal ones refused;
// and never a signal to a process whose start time does not match (pid reuse).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { alive, fixture, groupMembers, killGroup, NODE, oneLineError, requireBuild, sandbox, until, type TaskJson } from './helpers.js';
import { launchBg, launchFg, startTicks, waitEnded, waitRunning, withDb } from './steer-helpers.js';

before(requireBuild);

const cancelledBy = (task: TaskJson): boolean => task.messages!.some((m) => /tw cancel/.test(m.text)) || task.events!.some((e) => /tw cancel/.test(e.reason));

describe('tw cancel', { concurrency: true }, () => {
  test('a reserved task is cancelled at once (exit 0), and can no longer be launched', async (t) => {
    const s = sandbox(t);
    const id = (await s.ok(['reserve', '--name', 'r'])).trim();
    const started = Date.now();
    const r = await s.run(['cancel', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 5000, 'no grace to wait for');
    const task = await s.task(id);
    assert.equal(task.state, 'cancelled');
    assert.match(task.endedAt ?? '', /Z$/);
    assert.deepEqual(task.events!.map((e) => [e.from, e.to]), [[null, 'reserved'], ['reserved', 'cancelled']]);
    assert.ok(cancelledBy(task), JSON.stringify(task.messages));
    const launch = await s.run(['launch', '--id', id, '--', 'true']);
    assert.notEqual(launch.code, 0, 'a cancelled id is not launched');
  });

  test('a running task: SIGTERM to its child, the task ends cancelled, with a message naming tw cancel', async (t) => {
    const s = sandbox(t);
    const { launcher, id } = await launchFg(s, ['--name', 'long', '--', 'sleep', '300']);
    const { pid } = await waitRunning(s, id);
    const r = await s.run(['cancel', String(id)]);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(id);
    assert.equal(task.state, 'cancelled', 'recorded by the time tw cancel returns');
    assert.equal(alive(pid!), false, 'the child is gone');
    assert.deepEqual(groupMembers(pid!), []);
    assert.ok(cancelledBy(task), `a message naming tw cancel: ${JSON.stringify(task.messages)}`);
    assert.equal(task.events!.filter((e) => e.to === 'cancelled').length, 1);
    const ended = await launcher.ended;
    assert.notEqual(ended.code, 0, 'the launcher exits as its killed child did');
  });

  test('a child that ignores SIGTERM is killed after --grace, and the task ends cancelled', async (t) => {
    const s = sandbox(t);
    const { launcher, id } = await launchFg(s, ['--name', 'stubborn', '--', NODE, fixture('ignore-term.mjs')]);
    const { pid } = await waitRunning(s, id);
    await until(() => launcher.output.stdout.includes('ready'), { what: 'the child to ignore SIGTERM' });
    const started = Date.now();
    const r = await s.run(['cancel', '--grace', '1s', String(id)]);
    const took = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took >= 900, `waited the grace before SIGKILL (${took} ms)`);
    assert.ok(took < 8000, `not the default grace of 10 s (${took} ms)`);
    const task = await s.task(id);
    assert.equal(task.state, 'cancelled');
    assert.equal(task.signal, 'SIGKILL');
    assert.equal(alive(pid!), false);
    assert.match(launcher.output.stdout, /ignoring SIGTERM/, 'SIGTERM came first');
  });

  test('a child with a background grandchild: nothing is left in its process group', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sh', '-c', 'sleep 300 & sleep 300']);
    const { pid } = await waitRunning(s, id);
    await until(() => groupMembers(pid!).length >= 3, { what: `sh and its two sleeps in group ${pid}` });
    const r = await s.run(['cancel', String(id)]);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(id);
    assert.equal(task.state, 'cancelled');
    assert.deepEqual(groupMembers(pid!), [], 'no process of the group outlives the recorded end');
  });

  test('an ended task: exit 1 with a message saying so; an unknown id: exit 4', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'true'])).code, 0);
    const r = await s.run(['cancel', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(oneLineError(r.stderr), null);
    assert.match(r.stderr, /succeeded/, 'says the task already ended and how');
    assert.equal((await s.task(1)).state, 'succeeded', 'a terminal state never changes');
    const unknown = await s.run(['cancel', '99']);
    assert.equal(unknown.code, 4, unknown.stderr);
    assert.equal(oneLineError(unknown.stderr), null);
    assert.match(unknown.stderr, /\b99\b/);
    const usage = await s.run(['cancel']);
    assert.equal(usage.code, 2, usage.stderr);
    const bad = await s.run(['cancel', 'abc']);
    assert.equal(bad.code, 2, bad.stderr);
  });

  test('--name N cancels every active task with that name, and no other', async (t) => {
    const s = sandbox(t);
    const a = await launchBg(s, ['--name', 'grp', '--', 'sleep', '300']);
    const b = await launchBg(s, ['--name', 'grp', '--', 'sleep', '300']);
    const reserved = Number((await s.ok(['reserve', '--name', 'grp'])).trim());
    const other = await launchBg(s, ['--name', 'other', '--', 'sleep', '300']);
    const pids = [(await waitRunning(s, a)).pid!, (await waitRunning(s, b)).pid!];
    await waitRunning(s, other);
    const r = await s.run(['cancel', '--name', 'grp']);
    assert.equal(r.code, 0, r.stderr);
    const states = new Map((await s.json(['list', '--all'])).map((x) => [x.id, x.state]));
    assert.equal(states.get(a), 'cancelled');
    assert.equal(states.get(b), 'cancelled');
    assert.equal(states.get(reserved), 'cancelled');
    assert.equal(states.get(other), 'running');
    for (const pid of pids) assert.equal(alive(pid), false);
    const none = await s.run(['cancel', '--name', 'grp']);
    assert.notEqual(none.code, 0, 'nothing active left by that name');
    assert.equal(oneLineError(none.stderr), null);
  });

  test('an unsupervised task (launcher killed -9, child alive) is killed and recorded cancelled', async (t) => {
    const s = sandbox(t);
    const { launcher, id } = await launchFg(s, ['--', 'sleep', '300']);
    const { pid } = await waitRunning(s, id);
    launcher.kill('SIGKILL');
    await launcher.ended;
    assert.ok(alive(pid!));
    assert.equal((await s.task(id)).liveness, 'unsupervised');
    const r = await s.run(['cancel', String(id)]);
    assert.equal(r.code, 0, r.stderr);
    const task = await s.task(id);
    assert.equal(task.state, 'cancelled');
    assert.equal(alive(pid!), false, 'the child is killed');
    assert.ok(cancelledBy(task), JSON.stringify(task.messages));
  });

  test('pid reuse: a recorded pid whose start time does not match is never signalled', async (t) => {
    const s = sandbox(t);
    const { launcher, id } = await launchFg(s, ['--', 'sleep', '300']);
    const { pid } = await waitRunning(s, id);
    launcher.kill('SIGKILL');
    killGroup(pid!);
    await launcher.ended;
    await until(() => !alive(pid!), { what: 'the child to die' });
    // A stranger leading its own process group, as a reused pid would.
    const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    t.after(() => killGroup(stranger.pid!));
    await until(() => alive(stranger.pid!), { what: 'the stranger to start' });
    withDb(s.db, (db) =>
      db.prepare(`UPDATE tasks SET state = 'running', pid = ?, pid_start = ?, ended_at = NULL WHERE id = ?`).run(stranger.pid, startTicks(stranger.pid!) + 4242, id),
    );
    const r = await s.run(['cancel', '--grace', '1s', String(id)]);
    assert.ok(r.code === 0 || r.code === 1, `${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/);
    const task = await waitEnded(s, id).catch((e: Error) => {
      throw new Error(`${e.message}\ntw cancel said: ${r.code} ${r.stdout} ${r.stderr}`);
    });
    assert.ok(['lost', 'cancelled'].includes(task.state), task.state);
    assert.equal(alive(stranger.pid!), true, 'the stranger survives');
  });

  test('pid reuse with a live launcher on record: cancel still signals no stranger', async (t) => {
    const s = sandbox(t);
    const id = Number((await s.ok(['reserve'])).trim());
    const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    t.after(() => killGroup(stranger.pid!));
    await until(() => alive(stranger.pid!), { what: 'the stranger to start' });
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    // The test process plays a live launcher; the child's pid is the stranger's, with another start time.
    withDb(s.db, (db) =>
      db
        .prepare(
          `UPDATE tasks SET state = 'running', pid = ?, pid_start = ?, launcher_pid = ?, launcher_start = ?, boot_id = ?, started_at = reserved_at WHERE id = ?`,
        )
        .run(stranger.pid, startTicks(stranger.pid!) + 4242, process.pid, startTicks(process.pid), bootId, id),
    );
    assert.equal((await s.task(id)).state, 'running', 'the forged task looks supervised and running');
    const r = await s.run(['cancel', '--grace', '1s', String(id)]);
    assert.ok(r.code === 0 || r.code === 1, `${r.code}: ${r.stderr}`);
    assert.equal(alive(stranger.pid!), true, 'the stranger survives');
    const task = await waitEnded(s, id).catch((e: Error) => {
      throw new Error(`${e.message}\ntw cancel said: ${r.code} ${r.stdout} ${r.stderr}`);
    });
    assert.ok(['lost', 'cancelled'].includes(task.state), task.state);
  });
});
