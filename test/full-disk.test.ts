// A full disk (a small tmpfs under the store): readers still answer, showing
// a task lost that they cannot record, with a warning; `history clear` frees
// room, since it removes a batch's files before its rows (issue 13, 6).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { alive, requireBuild, sandbox, until, type Sandbox } from './helpers.js';
import { launchBg, waitEnded, waitRunning, withDb } from './steer-helpers.js';

before(requireBuild);

test('a full disk: list, describe, history and stats answer and show the lost task; history clear frees room', async (t) => {
  const s = sandbox(t);
  const state = join(s.dir, 'state'); // the folder of s.db
  mkdirSync(state);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', state], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    t.skip(`cannot mount a tmpfs: ${(mounted.stderr || '').trim()}; run as root to try it`);
    return;
  }
  try {
    await fillAndRead(s, state);
  } finally {
    await until(() => spawnSync('umount', [state]).status === 0, { timeoutMs: 2000, everyMs: 100, what: 'umount' }).catch(() => spawnSync('umount', ['-l', state]));
  }
});

async function fillAndRead(s: Sandbox, state: string): Promise<void> {
  // Task 1 leaves a 300 KB log; task 2's launcher and child are killed -9, to be noticed lost.
  const first = await launchBg(s, ['--', 'head', '-c', '300000', '/dev/zero']);
  await waitEnded(s, first);
  const second = await launchBg(s, ['--', 'sleep', '60']);
  const running = await waitRunning(s, second);
  // An empty WAL, so that the next write must grow a file; a tw run makes the WAL and shared-memory
  // files again (the last connection's close removed them), as tw, which never closes, leaves them.
  withDb(s.db, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
  await s.ok(['list']);
  process.kill(running.launcherPid!, 'SIGKILL');
  process.kill(-running.pid!, 'SIGKILL');
  await until(() => !alive(running.pid!) && !alive(running.launcherPid!), { what: 'launcher and child gone' });
  spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler2')}`, 'bs=512'], { stdio: 'ignore' });
  assert.equal(statfsSync(state).bavail, 0, 'the filesystem is full');

  for (const args of [['list', '--json'], ['describe', '--json', String(second)], ['history', '--json'], ['stats', '--json']]) {
    const r = await s.run(args);
    assert.equal(r.code, 0, `tw ${args.join(' ')} on a full disk: ${r.stderr}`);
    assert.match(r.stderr, /^tw: warning: task \d+ is lost, but that cannot be recorded: .*full/, `tw ${args.join(' ')}`);
    if (args[0] === 'list' || args[0] === 'describe') {
      const shown = (JSON.parse(r.stdout) as { id: number; state: string }[]).find((x) => x.id === second);
      assert.equal(shown?.state, 'lost', `tw ${args.join(' ')} shows the task as it is`);
    }
  }
  const cleared = await s.run(['history', 'clear']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.equal(cleared.stdout, 'deleted 1 task\n');
  assert.ok(statfsSync(state).bavail > 0, 'room again');
  const [lost] = await s.json(['list', '--all']);
  assert.equal(lost?.state, 'lost', 'with room, the lost task is recorded');
}
