// Who holds a reserved task: `launch --detach` reserves it for the copy of tw
// that will start it, and a copy that dies first leaves it lost, not reserved
// for good (issue 13, 2). A plain `tw reserve` holds nothing and blocks no wait.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { alive, fixture, requireBuild, sandbox, until } from './helpers.js';

before(requireBuild);

describe('reserved tasks and their holders', { concurrency: true }, () => {
  test('launch --detach: the copy killed -9 before it claims the task; the task ends lost, frees its name, blocks no wait', async (t) => {
    const s = sandbox(t);
    const marker = join(s.dir, 'copy.pid');
    const r = await s.run(['launch', '--detach', '--name', 'job', '--unique', '--', 'sleep', '30'], {
      nodeArgs: ['--require', fixture('freeze-supervise.cjs')],
      env: { TW_TEST_FREEZE_MARKER: marker },
    });
    assert.equal(r.code, 0, r.stderr);
    const id = Number(r.stdout.trim());
    const copy = Number(await until(() => existsSync(marker) && readFileSync(marker, 'utf8'), { what: 'the frozen copy' }));
    const [held] = await s.json(['list']);
    assert.equal(held?.state, 'reserved');
    assert.equal(held?.launcherPid, copy, 'the copy holds the reservation');
    process.kill(copy, 'SIGKILL');
    await until(() => !alive(copy), { what: 'the copy gone' });
    const task = await s.task(id);
    assert.equal(task.state, 'lost');
    assert.match(task.events!.at(-1)!.reason, /before its child started/);
    assert.equal((await s.run(['describe', '--block'], { timeoutMs: 5000 })).code, 0);
    assert.equal((await s.run(['launch', '--name', 'job', '--unique', '--', 'true'])).code, 0, 'the name is free again');
  });

  test('a plain tw reserve is not waited for by describe --block without ids, and launch --id takes it later', async (t) => {
    const s = sandbox(t);
    const id = (await s.ok(['reserve', '--name', 'later'])).trim();
    const block = await s.run(['describe', '--block'], { timeoutMs: 5000 });
    assert.equal(block.code, 0, block.stderr);
    assert.equal((await s.json(['list']))[0]?.state, 'reserved', 'still reserved: nothing will notice it lost');
    const detached = (await s.ok(['launch', '--detach', '--id', id, '--', 'true'])).trim();
    assert.equal(detached, id);
    const ended = await until(async () => {
      const task = await s.task(id);
      return task.state === 'succeeded' ? task : null;
    }, { what: `task ${id} succeeded` });
    assert.equal(ended.exitCode, 0);
  });
});
