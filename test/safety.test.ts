// Files that are ours and nobody else's (issue 12): a store folder another
// user can write to, files and links planted there by another user (made here
// with chown to nobody, as root runs the suite; runuser where the planting
// must be done as that user), two stores in one folder, a log file reused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { refused, requireBuild, sandbox, type Sandbox } from './helpers.js';
import { withDb } from './steer-helpers.js';

before(requireBuild);

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** A folder others can write to, as /tmp is (sticky) or not. */
function sharedFolder(s: Sandbox, name: string, mode: number): string {
  chmodSync(s.dir, 0o711); // another user may pass through the sandbox to reach it
  const dir = join(s.dir, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}


describe('files that are ours and nobody else\'s', { concurrency: true, skip: isRoot ? false : 'needs root to plant files as another user' }, () => {
  test('a store folder others can write to is refused (exit 3, launch 125), with the fix; a sticky one like /tmp is fine', async (t) => {
    const s = sandbox(t);
    const loose = sharedFolder(s, 'loose', 0o777);
    await refused(s, ['--db', join(loose, 'tw.db'), 'list'], 3, /others can write to it \(mode 777\); run chmod go-w/);
    await refused(s, ['--db', join(loose, 'tw.db'), 'launch', '--', 'true'], 125, /others can write to it/);
    const theirs = sharedFolder(s, 'theirs', 0o755);
    chownSync(theirs, NOBODY, NOBODY);
    await refused(s, ['--db', join(theirs, 'tw.db'), 'list'], 3, /belongs to uid 65534, not to you/);
    // A store folder that is a link to another's folder is that folder: refused the same.
    const via = join(s.dir, 'via-link');
    symlinkSync(theirs, via);
    await refused(s, ['--db', join(via, 'tw.db'), 'list'], 3, /belongs to uid 65534, not to you/);
    const foreignSticky = sharedFolder(s, 'their-sticky', 0o1777);
    chownSync(foreignSticky, NOBODY, NOBODY);
    await refused(s, ['--db', join(foreignSticky, 'tw.db'), 'list'], 3, /belongs to uid 65534/);
    const sticky = sharedFolder(s, 'sticky', 0o1777);
    assert.equal((await s.run(['--db', join(sticky, 'tw.db'), 'launch', '--', 'true'])).code, 0);
    assert.ok(existsSync(join(sticky, 'tw.db.d', 'logs', '1.log')));
  });

  test('a store planted by another user (0666, theirs), a link to one, a hard link: refused, never adopted', async (t) => {
    const s = sandbox(t);
    const dir = sharedFolder(s, 'tmp', 0o1777);
    const planted = join(dir, 'tw.db');
    spawnSync('runuser', ['-u', 'nobody', '--', 'sh', '-c', `umask 0; : > ${planted}`]);
    assert.ok(existsSync(planted), 'nobody planted the store');
    await refused(s, ['--db', planted, 'launch', '--info', 'password=hunter2', '--', 'true'], 125, /belongs to uid 65534/);
    assert.equal(readFileSync(planted, 'utf8'), '', 'nothing was written to it');
    const mine = join(s.dir, 'mine.db');
    await s.ok(['--db', mine, 'reserve']);
    const link = join(dir, 'link.db');
    spawnSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', mine, link]);
    await refused(s, ['--db', link, 'list'], 3, /belongs to uid 65534/);
    const hard = join(s.dir, 'hard.db');
    linkSync(mine, hard);
    await refused(s, ['--db', hard, 'list'], 3, /2 hard links/);
    rmSync(hard);
    chmodSync(mine, 0o644);
    await refused(s, ['--db', mine, 'list'], 3, /others can read or write it \(mode 644\); run chmod 600/);
  });

  test('the store\'s own folder planted by another user, or as a link: refused before anything is written', async (t) => {
    const s = sandbox(t);
    const dir = sharedFolder(s, 'tmp', 0o1777);
    spawnSync('runuser', ['-u', 'nobody', '--', 'sh', '-c', `mkdir -m 777 ${dir}/tw.db.d && mkdir -m 777 ${dir}/tw.db.d/logs && ln -s /etc/passwd-victim ${dir}/tw.db.d/logs/1.log`]);
    await refused(s, ['--db', join(dir, 'tw.db'), 'launch', '--', 'echo', 'INJECTED'], 125, /tw\.db\.d: it belongs to uid 65534/);
    const dir2 = sharedFolder(s, 'tmp2', 0o1777);
    const victim = join(s.dir, 'victim');
    mkdirSync(victim);
    spawnSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', victim, join(dir2, 'tw.db.d')]);
    await refused(s, ['--db', join(dir2, 'tw.db'), 'launch', '--', 'echo', 'INJECTED'], 125, /not a folder of tw's/);
    assert.equal(existsSync(join(victim, 'logs')), false);
  });

  test('two stores in one folder never share a file; a user\'s logs/ beside them is left alone', async (t) => {
    const s = sandbox(t);
    const dir = join(s.dir, 'shared');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'logs', '2.log'), 'keep\n');
    const [a, b] = [join(dir, 'a.db'), join(dir, 'b.db')];
    assert.equal((await s.run(['--db', a, 'launch', '--', 'echo', 'A'])).code, 0);
    assert.equal((await s.run(['--db', b, 'launch', '--', 'echo', 'B'])).code, 0);
    assert.equal((await s.run(['--db', a, 'launch', '--', 'echo', 'two'])).code, 0);
    assert.equal(await s.ok(['--db', a, 'logs', '1']), 'A\n');
    assert.equal(await s.ok(['--db', b, 'logs', '1']), 'B\n');
    assert.equal((await s.ok(['--db', b, 'history', 'clear'])).trim(), 'deleted 1 task');
    assert.equal(await s.ok(['--db', a, 'logs', '1']), 'A\n', 'b\'s clear left a\'s log');
    assert.equal((await s.ok(['--db', a, 'history', 'prune', '--keep', '0'])).trim(), 'deleted 2 tasks');
    assert.equal(readFileSync(join(dir, 'logs', '2.log'), 'utf8'), 'keep\n', 'a file tw did not make is untouched');
    // A log the user named where round 1 kept tw's own is the user's, and stays.
    writeFileSync(join(dir, 'logs', 'build.log'), 'precious\n');
    assert.equal((await s.run(['--db', a, 'launch', '--log', join(dir, 'logs', 'build.log'), '--', 'echo', 'built'])).code, 0);
    assert.equal((await s.ok(['--db', a, 'history', 'clear'])).trim(), 'deleted 1 task');
    assert.equal(readFileSync(join(dir, 'logs', 'build.log'), 'utf8'), 'precious\nbuilt\n');
  });

  test('a store of round 1\'s layout (logs/ beside the store) keeps working: its logs are read and pruned where they are', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'echo', 'old'])).code, 0);
    const legacy = join(s.dir, 'state', 'logs', '1.log');
    mkdirSync(join(s.dir, 'state', 'logs'), { mode: 0o700 });
    renameSync(join(`${s.db}.d`, 'logs', '1.log'), legacy);
    withDb(s.db, (db) => db.prepare('UPDATE tasks SET log_path = ? WHERE id = 1').run(legacy));
    assert.equal(await s.ok(['logs', '1']), 'old\n');
    assert.equal((await s.ok(['history', 'clear'])).trim(), 'deleted 1 task');
    assert.equal(existsSync(legacy), false);
  });

  test('a --log file used again: each task\'s logs show its own run only', async (t) => {
    const s = sandbox(t);
    const log = join(s.dir, 'etl.log');
    writeFileSync(log, 'from before tw\n');
    for (const word of ['first', 'second', 'third']) assert.equal((await s.run(['launch', '--log', log, '--', 'echo', word])).code, 0);
    assert.equal(await s.ok(['logs', '1']), 'first\n');
    assert.equal(await s.ok(['logs', '2']), 'second\n');
    assert.equal(await s.ok(['logs', '--tail', '5', '3']), 'third\n');
    assert.equal(readFileSync(log, 'utf8'), 'from before tw\nfirst\nsecond\nthird\n');
  });
});
