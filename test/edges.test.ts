// Edges found in review: a stalled reader, output held by a stranger, relative
// stores, dead launchers holding a --unique name, groups that outlive their leader.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { alive, BIN, exec, groupMembers, NODE, requireBuild, sandbox, until, type Sandbox, type TaskJson } from './helpers.js';

before(requireBuild);

const task = async (s: Sandbox, id: number): Promise<TaskJson | undefined> => (await s.json(['list', '--all'])).find((t) => t.id === id);

describe('edges', { concurrency: 3 }, () => {
  test('a reader that stops reading holds the child back but not the timeout', async (t) => {
    const s = sandbox(t);
    // `sleep` never reads: the pipe fills, and the launcher must still kill at 1 s.
    const r = await exec('sh', ['-c', '"$0" "$1" launch --timeout 1s --grace 1s -- yes | sleep 4', NODE, BIN], { fullEnv: s.env() });
    assert.equal(r.code, 0, r.stderr);
    const ended = await task(s, 1);
    assert.equal(ended?.state, 'timed_out');
    assert.ok(ended!.durationMs! < 3000, `killed after ${ended!.durationMs} ms, not when the reader left`);
  });

  test('the end is on record when the child ends, while a reader that never reads still holds the launcher', async (t) => {
    const s = sandbox(t);
    const pipeline = s.startShell('"$0" "$1" launch --timeout 1s --grace 1s -- yes | sleep 30', [NODE, BIN]);
    const ended = await until(async () => {
      const found = await task(s, 1);
      return found && found.state !== 'running' ? found : null;
    }, { what: 'the end on record', timeoutMs: 8000 });
    assert.equal(ended.state, 'timed_out');
    assert.equal(ended.signal, 'SIGTERM');
    assert.equal(pipeline.exitCode, null, 'the pipeline is still held by its reader');
    process.kill(-pipeline.pid!, 'SIGKILL');
  });

  test('descendants that left the group (setsid, set -m) are stopped before the end is recorded; a stranger with the same name is not', async (t) => {
    const s = sandbox(t);
    const marker = join(s.dir, 'pids');
    // A look-alike outside any task: same command, no cookie.
    const stranger = s.startShell('exec sleep 47', []);
    const viaSetsid = await s.run(['launch', '--', 'sh', '-c', 'setsid sleep 47 & echo $! >> "$0"', marker]);
    const viaSetM = await s.run(['launch', '--', 'bash', '-c', 'set -m; sleep 47 >/dev/null 2>&1 & echo $! >> "$0"', marker]);
    assert.equal(viaSetsid.code, 0, viaSetsid.stderr);
    assert.equal(viaSetM.code, 0, viaSetM.stderr);
    const pids = readFileSync(marker, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) await until(() => !alive(pid), { what: `escaped pid ${pid} stopped`, timeoutMs: 3000 });
    assert.ok(alive(stranger.pid!), 'a process that is not the task\'s was touched');
    assert.deepEqual((await s.json(['list', '--all'])).map((task) => task.state), ['succeeded', 'succeeded']);
  });

  test('an unsupervised task past its timeout is shown OVERDUE in tw list (nobody enforces it); tw cancel stops it', async (t) => {
    const s = sandbox(t);
    const out = await s.ok(['launch', '--detach', '--timeout', '1s', '--', 'sleep', '30']);
    const running = await until(async () => (await task(s, Number(out)))?.pid ? await task(s, Number(out)) : null, { what: 'running' });
    process.kill(running.launcherPid!, 'SIGKILL');
    const line = await until(async () => (await s.ok(['list'])).split('\n').find((l) => /unsupervised.*OVERDUE/.test(l)), { what: 'OVERDUE shown', timeoutMs: 20_000 });
    assert.match(line, /1s OVERDUE/);
    assert.equal((await s.run(['cancel', '--grace', '1s', String(running.id)])).code, 0);
    assert.equal(alive(running.pid!), false);
  });

  test('a launcher stopped (SIGSTOP) while tw cancel ends its task: resumed, it exits as the recorded cancel says, not 124', async (t) => {
    const s = sandbox(t);
    const launcher = s.start(['launch', '--timeout', '2s', '--', 'sleep', '30']);
    const running = await until(async () => (await task(s, 1))?.pid, { what: 'the child running' });
    process.kill(launcher.pid!, 'SIGSTOP');
    const cancel = await s.run(['cancel', '--grace', '1s', '1']);
    assert.equal(cancel.stdout, 'task 1: cancelled\n', cancel.stderr);
    assert.equal(alive(running), false);
    // The launcher's own 2 s timeout falls due while it is stopped (counted from the recorded start).
    const started = Date.parse((await s.task(1)).startedAt!);
    await until(() => Date.now() > started + 2200, { what: 'the launcher\'s timeout due', timeoutMs: 5000 });
    process.kill(launcher.pid!, 'SIGCONT');
    const end = await launcher.ended;
    assert.equal(end.code, 143, launcher.output.stderr);
    assert.equal((await task(s, 1))?.state, 'cancelled');
  });

  test('through a shell pipe to a fast reader and to one that keeps stalling: every byte, in order, in both and in the log', async (t) => {
    const s = sandbox(t);
    const data = randomBytes(3 * 1024 * 1024);
    const blob = join(s.dir, 'blob');
    writeFileSync(blob, data);
    // The slow reader takes 16 KiB at a time and naps between reads: our writes keep meeting a full pipe.
    const slow = `const fs=require('fs');const b=Buffer.alloc(16384);const out=fs.openSync(process.argv[1],'w');` +
      `for(;;){let n;try{n=fs.readSync(0,b)}catch(e){if(e.code==='EAGAIN')continue;throw e}if(!n)break;fs.writeSync(out,b,0,n);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,2)}`;
    const readers = [
      ['fast', `cat > "$4"`],
      ['slow', `"$0" -e "$5" "$4"`],
    ];
    for (const [i, [what, reader]] of readers.entries()) {
      const out = join(s.dir, `out-${what}`);
      const r = await exec('sh', ['-c', `"$0" "$1" launch -- cat "$3" | ${reader}`, NODE, BIN, '', blob, out, slow], { fullEnv: s.env() });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(out).equals(data), `${what}: the bytes that came through differ`);
      assert.ok(readFileSync((await task(s, i + 1))!.logPath!).equals(data), `${what}: the log differs`);
    }
  });

  test('2>&1 into a pipe: lines written whole by the child come out whole, to a fast reader and to one that keeps stalling', async (t) => {
    const s = sandbox(t);
    // 2 x 20,000 lines of 90 bytes, each one write(2), alternately to stdout and stderr.
    const gen = `const fs=require('fs');const x='x'.repeat(80);for(let i=0;i<20000;i++){fs.writeSync(1,'out '+i+' '+x+'\\n');fs.writeSync(2,'err '+i+' '+x+'\\n')}`;
    const slow = `const fs=require('fs');const b=Buffer.alloc(16384);const out=fs.openSync(process.argv[1],'w');` +
      `for(;;){let n;try{n=fs.readSync(0,b)}catch(e){if(e.code==='EAGAIN')continue;throw e}if(!n)break;fs.writeSync(out,b,0,n);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,1)}`;
    const cases: [string, string, number][] = [
      ['fast', 'cat > "$4"', 0],
      // A line held back while our reader is slow goes on once it has waited long enough; rarely, that cuts one.
      ['stalling', '"$0" -e "$5" "$4"', 10],
    ];
    for (const [what, reader, tolerated] of cases) {
      const out = join(s.dir, `lines-${what}`);
      const r = await exec('sh', ['-c', `"$0" "$1" launch -- "$0" -e "$3" 2>&1 | ${reader}`, NODE, BIN, '', gen, out, slow], { fullEnv: s.env(), timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      const lines = readFileSync(out, 'utf8').split('\n').slice(0, -1);
      // A cut line comes out as two: the count may exceed 40,000 by the cuts tolerated, no more.
      assert.ok(lines.length >= 40_000 && lines.length <= 40_000 + tolerated, `${what}: ${lines.length} lines`);
      const bytes = Array.from({ length: 20_000 }, (_, i) => 2 * (`out ${i} `.length + 81)).reduce((a, b) => a + b, 0);
      assert.equal(readFileSync(out).length, bytes, `${what}: every byte`);
      const cut = lines.filter((line) => !/^(out|err) \d+ x{80}$/.test(line));
      assert.ok(cut.length <= tolerated, `${what}: ${cut.length} lines cut, e.g. ${JSON.stringify(cut.slice(0, 2))}`);
    }
  });

  test('a thread pool made small (UV_THREADPOOL_SIZE=1) still reads both pipes: a child that fills stderr ends', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--', 'sh', '-c', 'head -c 300000 /dev/zero >&2; echo done'], { env: { UV_THREADPOOL_SIZE: '1' }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr.slice(0, 200));
    assert.equal(r.stdout, 'done\n');
  });

  test('under a PATH without mkfifo (cron, systemd) the launch still makes its pipes', async (t) => {
    const s = sandbox(t);
    const r = await exec(NODE, [BIN, 'launch', '--', '/bin/echo', 'hi'], { fullEnv: { ...s.env(), PATH: join(s.dir, 'empty') } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  test('a process outside the group, without the task\'s cookie, holding the output does not keep the task open', async (t) => {
    const s = sandbox(t);
    const started = Date.now();
    // `env -i`: it drops TW_TASK_ID and TW_DB, so tw cannot know it for the task's and leaves it be.
    // (The child waits until `env -i` has run: before that, the cookie is still there, and tw rightly stops it.)
    const r = await s.run(['launch', '--', 'sh', '-c', 'setsid env -i sleep 5 & while grep -q TW_TASK_ID /proc/$!/environ 2>/dev/null; do sleep 0.01; done; echo started']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /still holds its output/);
    assert.ok(Date.now() - started < 4000, 'the launcher waited for the stranger');
    assert.equal((await task(s, 1))?.state, 'succeeded');
  });

  test('a relative --db: logs and feedback paths are absolute, the child can use TW_FEEDBACK from anywhere', async (t) => {
    const s = sandbox(t);
    const dir = join(s.dir, 'work');
    mkdirSync(dir);
    const script = 'cd / && echo "[step]far" >> "$TW_FEEDBACK" && echo out';
    const r = await s.run(['--db', 'rel.db', 'launch', '--feedback', '--', 'sh', '-c', script], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const [shown] = await s.json(['--db', join(dir, 'rel.db'), 'describe', '--json', '1'], { cwd: '/' });
    assert.ok(shown?.logPath?.startsWith('/') && shown.feedbackPath?.startsWith('/'), JSON.stringify(shown));
    assert.deepEqual(shown?.feedback, { step: 'far' });
    assert.equal(await s.ok(['--db', join(dir, 'rel.db'), 'logs', '1'], { cwd: '/' }), 'out\n');
  });

  test('a --unique name held by a task whose launcher died is free again', async (t) => {
    const s = sandbox(t);
    const launcher = s.start(['launch', '--name', 'nightly', '--', 'sleep', '30']);
    const running = await until(async () => { const t = await task(s, 1); return t?.state === 'running' ? t : undefined; }, { what: 'running' });
    launcher.kill('SIGKILL');
    await launcher.ended;
    process.kill(running.pid!, 'SIGKILL');
    await until(() => !alive(running.pid!), { what: 'the child to end' });
    const r = await s.run(['reserve', '--name', 'nightly', '--unique']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await task(s, 1))?.state, 'lost');
  });

  test('a task whose leader is gone but whose group still runs is unsupervised and cancellable, not lost', async (t) => {
    const s = sandbox(t);
    // The leader ends once the gate file exists: after the launcher is gone, however slow the machine.
    const gate = join(s.dir, 'go');
    const launcher = s.start(['launch', '--', 'sh', '-c', 'sleep 300 & while [ ! -e "$0" ]; do sleep 0.02; done', gate]);
    const running = await until(async () => { const t = await task(s, 1); return t?.state === 'running' ? t : undefined; }, { what: 'running' });
    launcher.kill('SIGKILL');
    await launcher.ended;
    writeFileSync(gate, '');
    await until(() => !alive(running.pid!), { what: 'the leader to end' });
    assert.ok(groupMembers(running.pid!).length > 0, 'the background sleep runs on');
    assert.equal((await task(s, 1))?.liveness, 'unsupervised');
    const r = await s.run(['cancel', '--grace', '1s', '1']);
    assert.equal(r.code, 0, r.stderr);
    await until(() => groupMembers(running.pid!).length === 0, { what: 'the group to be gone' });
    assert.equal((await task(s, 1))?.state, 'cancelled');
  });

  test('counts too large to be exact are usage errors', async (t) => {
    const s = sandbox(t);
    for (const args of [['history', '--limit', '1000000000000000000000'], ['history', 'prune', '--keep', '99999999999999999999999']]) {
      const r = await s.run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
