// Any path tw reads or writes is checked before it is used: a FIFO, a device,
// a /proc path or a missing folder gets one line at once, never a hang, a
// spin or unbounded memory (issue 13, 8).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { refused, requireBuild, sandbox, type Sandbox } from './helpers.js';

before(requireBuild);

const fifo = (s: Sandbox, name: string): string => {
  const path = join(s.dir, name);
  execFileSync('mkfifo', [path]);
  return path;
};


describe('paths that are not what they should be', { concurrency: true }, () => {
  test('tw parse: a FIFO, /dev/zero, a link to it, a /proc file, a folder, nothing: exit 1 with one line each', async (t) => {
    const s = sandbox(t);
    const zero = join(s.dir, 'zero-link');
    symlinkSync('/dev/zero', zero);
    await refused(s, ['parse', fifo(s, 'fb.fifo')], 1, /a FIFO, not a regular file/);
    await refused(s, ['parse', '/dev/zero'], 1, /a device, not a regular file/);
    await refused(s, ['parse', zero], 1, /a device, not a regular file/);
    await refused(s, ['parse', '/proc/self/status'], 1, /\/proc, \/sys/);
    await refused(s, ['parse', s.dir], 1, /a directory, not a regular file/);
    await refused(s, ['parse', join(s.dir, 'none.txt')], 1, /cannot read .*none\.txt: no such file$/m);
  });

  test('tw feedback of a task whose feedback path became a FIFO answers from the store at once', async (t) => {
    const s = sandbox(t);
    const path = join(s.dir, 'fb.txt');
    assert.equal((await s.run(['launch', `--feedback=${path}`, '--', 'sh', '-c', 'echo "[progress]2/4" > "$TW_FEEDBACK"'])).code, 0);
    rmSync(path);
    execFileSync('mkfifo', [path]);
    const r = await s.run(['feedback', '1', '--json'], { timeoutMs: 5000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).values, { progress: '2/4' });
  });

  test('--db: a FIFO, a device, a path under /proc: exit 3 with one line, at once', async (t) => {
    const s = sandbox(t);
    await refused(s, ['--db', fifo(s, 'db.fifo'), 'list'], 3, /not a tw store \(not a regular file\)/);
    await refused(s, ['--db', '/dev/zero', 'list'], 3, /not a tw store/);
    await refused(s, ['--db', '/proc/1/x/tw.db', 'list'], 3, /cannot create the store/);
  });

  test('--log: a FIFO, a folder, a path whose folder does not exist: exit 125 with one line, nothing made', async (t) => {
    const s = sandbox(t);
    mkdirSync(join(s.dir, 'logs-here'));
    await refused(s, ['launch', '--log', fifo(s, 'log.fifo'), '--', 'true'], 125, /a FIFO, not a regular file/);
    await refused(s, ['launch', '--log', join(s.dir, 'logs-here'), '--', 'true'], 125, /is a directory/);
    await refused(s, ['launch', '--log', join(s.dir, 'no', 'such', 'x.log'), '--', 'true'], 125, /no such file/);
    assert.deepEqual(await s.json(['list', '--all']), []);
  });

  test('--feedback=PATH: a folder, a FIFO, a path whose folder does not exist or is a file, an empty path: exit 125 with one line, nothing made', async (t) => {
    const s = sandbox(t);
    mkdirSync(join(s.dir, 'fb-here'));
    writeFileSync(join(s.dir, 'plain'), '');
    await refused(s, ['launch', `--feedback=${join(s.dir, 'fb-here')}`, '--', 'true'], 125, /feedback file .*: is a directory/);
    await refused(s, ['launch', `--feedback=${fifo(s, 'fb.fifo')}`, '--', 'true'], 125, /a FIFO, not a regular file/);
    await refused(s, ['launch', `--feedback=${join(s.dir, 'no', 'such', 'fb.txt')}`, '--', 'true'], 125, /its folder .* does not exist/);
    await refused(s, ['launch', `--feedback=${join(s.dir, 'plain', 'fb.txt')}`, '--', 'true'], 125, /plain is not a directory/);
    await refused(s, ['launch', '--feedback=', '--', 'true'], 125, /--feedback=PATH needs a path/);
    assert.ok(!existsSync(join(s.dir, 'no')), 'no folder made');
    assert.deepEqual(await s.json(['list', '--all']), []);
    // A file that does not exist yet, in a folder that does: the task's to write.
    await s.ok(['launch', `--feedback=${join(s.dir, 'fb-here', 'new.txt')}`, '--', 'sh', '-c', 'echo "[progress]2/4" >> "$TW_FEEDBACK"']);
    assert.deepEqual((await s.task(1)).progress, { done: 2, total: 4 });
  });
});

test('--log that is a symbolic link (planted where the log goes) is refused: exit 125, nothing written through it', async (t) => {
  const s = sandbox(t);
  const victim = join(s.dir, 'victim.txt');
  const { writeFileSync, readFileSync } = await import('node:fs');
  writeFileSync(victim, 'mine\n', { mode: 0o600 });
  symlinkSync(victim, join(s.dir, 'job.log'));
  await refused(s, ['launch', '--log', join(s.dir, 'job.log'), '--', 'echo', 'INJECTED'], 125, /a symbolic link; name the file itself/);
  assert.equal(readFileSync(victim, 'utf8'), 'mine\n');
});
