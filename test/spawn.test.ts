// How the launcher starts a process (src/launcher/spawn.ts): child_process
// with descriptors of ours. Real processes, real descriptors, real signals.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { spawnProcess, type SpawnResult, type SpawnSpec } from '../src/launcher/spawn.js';
import { readStat } from '../src/launcher/proc.js';


const sh = (script: string, stdio: SpawnSpec['stdio'] = ['ignore', 'ignore', 'ignore'], extra: Partial<SpawnSpec> = {}): SpawnSpec => ({
  file: '/bin/sh',
  args: ['-c', script, 'tw-spawn-test'],
  env: { PATH: process.env.PATH, TW_SPAWN_TEST: 'yes' },
  cwd: tmpdir(),
  stdio,
  detached: true,
  ...extra,
});

const started = (r: SpawnResult) => {
  assert.ok('pid' in r, 'error' in r ? r.error : 'no pid');
  return r;
};

{
  const spawn = spawnProcess;
  describe('spawn', () => {
    test('the exit code, and a signal as a signal', async () => {
      assert.deepEqual(await started(await spawn(sh('exit 7'))).exited, { code: 7, signal: null });
      assert.deepEqual(await started(await spawn(sh('kill -TERM $$'))).exited, { code: null, signal: 'SIGTERM' });
    });

    test('descriptors of ours as its 0 to 3, its env and cwd exactly as given, a session of its own', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tw-spawn-'));
      try {
        const out = openSync(join(dir, 'out'), 'w');
        const three = openSync(join(dir, 'three'), 'w');
        const child = started(await spawn(sh('echo "$TW_SPAWN_TEST $HOME $(pwd)"; echo three >&3; cut -d" " -f6 /proc/$$/stat', ['ignore', out, 'ignore', three], { cwd: dir })));
        const pid = child.pid;
        assert.equal(readStat(pid)?.pgrp ?? pid, pid, 'its own process group');
        assert.deepEqual(await child.exited, { code: 0, signal: null });
        closeSync(out);
        closeSync(three);
        const [line, sid] = readFileSync(join(dir, 'out'), 'utf8').trim().split('\n');
        assert.equal(line, `yes  ${dir}`, 'TW_SPAWN_TEST set, HOME not inherited, cwd as given');
        assert.equal(Number(sid), pid, 'its own session');
        assert.equal(readFileSync(join(dir, 'three'), 'utf8'), 'three\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a file that cannot be run is an error naming it, not a crash', async () => {
      const r = await spawn(sh('exit 0', undefined, { file: '/nonexistent/tw-spawn-test' }));
      assert.ok('error' in r, 'it started');
      assert.match(r.error, /nonexistent.*ENOENT|ENOENT.*nonexistent/);
    });
  });
}
