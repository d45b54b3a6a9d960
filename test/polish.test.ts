// Daily use (issue 17): input accepted as a person types it, or refused
// clearly. Each case with the command a person would type.
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { oneLineError, requireBuild, sandbox, until } from './helpers.js';

before(requireBuild);

describe('input as a person types it', { concurrency: true }, () => {
  test('empty results: a short line for a person on stderr, nothing on stdout; [] with --json', async (t) => {
    const s = sandbox(t);
    const cases: [string[], string][] = [
      [['list'], 'no active tasks (tw list --all shows every task)'],
      [['list', '--all'], 'no tasks'],
      [['history'], 'no history'],
      [['stats'], 'no history'],
      [['describe'], 'no tasks'],
    ];
    for (const [args, note] of cases) {
      const r = await s.run(args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', `${note}\n`], `tw ${args.join(' ')}`);
      const json = await s.run([...args, '--json']);
      assert.deepEqual([json.code, json.stdout, json.stderr], [0, '[]\n', ''], `tw ${args.join(' ')} --json`);
    }
    await s.ok(['launch', '--', 'true']);
    assert.deepEqual((await s.run(['describe', '--nc'])).stderr, 'every task succeeded\n');
  });

  test('stats --json: a death by a signal is the last failure with its signal', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--name', 'sig', '--', 'sh', '-c', 'kill -USR1 $$'])).code, 128 + 10);
    const [stat] = await s.json<{ failed: number; lastFailure: { state: string; exitCode: number | null; signal: string | null } }[]>(['stats']);
    assert.equal(stat!.failed, 1);
    assert.deepEqual([stat!.lastFailure.state, stat!.lastFailure.exitCode, stat!.lastFailure.signal], ['failed', null, 'SIGUSR1']);
  });

  test('clutter: beside the store, only its own folder; in it, few named pipes once launches are done', async (t) => {
    const s = sandbox(t);
    for (let i = 0; i < 6; i++) await s.ok(['launch', '--', 'true']);
    await s.ok(['launch', '--detach', '--feedback', '--', 'true']).then((id) => s.ok(['describe', '--block', id.trim()]));
    const folder = dirname(s.db);
    assert.deepEqual(readdirSync(folder).filter((f) => !f.startsWith('tw.db-')).sort(), ['tw.db', 'tw.db.d'], 'the store, its WAL files and its own folder');
    const fifos = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? fifos(join(dir, e.name)) : e.isFIFO() ? [join(dir, e.name)] : []));
    const left = fifos(join(`${s.db}.d`));
    // The pool is refilled a batch of 8 at a time, when fewer than 4 are left; a refill may still be under way.
    assert.ok(left.length <= 12, `${left.length} FIFOs left:\n${left.join('\n')}`);
    assert.ok(left.every((f) => f.includes('/run/pool/')), `only the pool's:\n${left.join('\n')}`);
  });

  test('--feedback takes a value only with "=": tw launch --feedback echo hi runs echo hi', async (t) => {
    const s = sandbox(t);
    const r = await s.run(['launch', '--feedback', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.ok((await s.task(1)).feedbackPath, 'a feedback file of its own');
  });

  test('durations: 500ms, 1h30m, 1.5 shown as 1.5s; --timeout 0 is no limit', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--timeout', '0', '--', 'true'])).code, 0);
    assert.equal((await s.task(1)).timeoutMs, null);
    assert.equal((await s.run(['launch', '--timeout', '1h30m', '--grace', '500ms', '--', 'true'])).code, 0);
    assert.equal((await s.task(2)).timeoutMs, 5_400_000);
    assert.equal((await s.run(['launch', '--timeout', '1.5', '--', 'true'])).code, 0);
    assert.match(await s.ok(['list', '--all']), /\b1\.5s\b/);
  });

  test('tw message joins its words; without text it says the text is missing; an empty one is refused', async (t) => {
    const s = sandbox(t);
    await s.ok(['reserve']);
    await s.ok(['message', '1', 'hello', 'world']);
    assert.equal((await s.task(1)).messages!.at(-1)!.text, 'hello world');
    const none = await s.run(['message', '1']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no message text/);
    assert.equal(oneLineError(none.stderr), null);
    assert.equal((await s.run(['message', '1', ''])).code, 2);
  });

  test('--info with --id is merged into the reserved task\'s info', async (t) => {
    const s = sandbox(t);
    await s.ok(['reserve', '--info', 'a=1']);
    assert.equal((await s.run(['launch', '--id', '1', '--info', 'b=2', '--', 'true'])).code, 0);
    assert.deepEqual((await s.task(1)).info, { a: '1', b: '2' });
  });

  test('launch --detach of a missing or not executable command: 127 or 126 at once, recorded failed, no id printed', async (t) => {
    const s = sandbox(t);
    const missing = await s.run(['launch', '--detach', '--', 'no-such-command-tw']);
    assert.equal(missing.code, 127);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^tw: no-such-command-tw: command not found$/m);
    const file = join(s.dir, 'not-executable');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    assert.equal((await s.run(['launch', '--detach', '--', file])).code, 126);
    assert.deepEqual((await s.json(['list', '--all'])).map((x) => [x.state, x.exitCode]), [['failed', 127], ['failed', 126]]);
  });

  test('help: an unknown command exits 2 naming it; a mistyped option suggests only what is close', async (t) => {
    const s = sandbox(t);
    const help = await s.run(['help', 'nosuch']);
    assert.equal(help.code, 2);
    assert.match(help.stderr, /unknown command 'nosuch'/);
    const prune = await s.run(['history', 'prune', '--id', '3']);
    assert.equal(prune.code, 2);
    assert.doesNotMatch(prune.stderr, /did you mean/);
  });
});

test('piped describe --block prints lines that align with each other as states change', async (t) => {
  const s = sandbox(t);
  const gate = join(s.dir, 'go');
  const id = (await s.ok(['launch', '--detach', '--', 'sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.02; done', gate])).trim();
  const block = s.start(['describe', '--block', id]);
  await until(() => block.output.stdout.includes('running'), { what: 'the running line' });
  writeFileSync(gate, '');
  assert.equal((await block.ended).code, 0, block.output.stderr);
  const out = block.output.stdout;
  const lines = out.trimEnd().split('\n');
  assert.ok(lines.length >= 2, `a line per change: ${out}`);
  const at = new Set(lines.map((l) => l.indexOf('Num:')));
  assert.equal(at.size, 1, `Num: at different columns:\n${out}`);
});
