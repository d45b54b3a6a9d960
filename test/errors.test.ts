// Usage errors, exit codes and help: one line `tw: ...` on stderr, never a stack trace.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { oneLineError, requireBuild, sandbox, twError } from './helpers.js';

before(requireBuild);

const PARSER_ERRORS = [['--bogus'], ['list', '--bogus'], ['reserve', '--nme', 'x'], ['frobnicate'], ['describe', '--block', '--frob']];

test('an unknown flag or command: exit 2, tw: on stderr, nothing on stdout', async (t) => {
  const s = sandbox(t);
  for (const args of PARSER_ERRORS) {
    const r = await s.run(args);
    assert.equal(r.code, 2, `tw ${args.join(' ')}: ${r.stderr}`);
    assert.equal(twError(r.stderr), null, `tw ${args.join(' ')}`);
    assert.equal(r.stdout, '');
  }
});

test("the argument parser's errors are one line too (contract: one line `tw: what went wrong`)", async (t) => {
  const s = sandbox(t);
  for (const args of [...PARSER_ERRORS, ['launch'], ['launch', '--bogus', '--', 'true']]) {
    const r = await s.run(args);
    assert.equal(oneLineError(r.stderr), null, `tw ${args.join(' ')}`);
  }
});

test('tw launch with a bad duration exits 125 (tw failed before the child started) and runs nothing', async (t) => {
  const s = sandbox(t);
  for (const args of [['--timeout', '5x'], ['--grace', 'soon'], ['--timeout', '-1']]) {
    const r = await s.run(['launch', ...args, '--', 'sh', '-c', 'echo ran']);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
    assert.equal(r.stdout, '', 'the child must not run');
  }
  assert.deepEqual(await s.json(['list', '--all']), [], 'a refused launch records no task');
});

test('tw launch with an unknown flag, or no command at all, exits 125', async (t) => {
  const s = sandbox(t);
  for (const args of [['launch'], ['launch', '--'], ['launch', '--bogus', '--', 'true'], ['--db', s.db, 'launch']]) {
    const r = await s.run(args);
    assert.equal(r.code, 125, `tw ${args.join(' ')}: ${r.stderr}`);
    assert.equal(twError(r.stderr), null, `tw ${args.join(' ')}`);
  }
});

test('a bad duration elsewhere is a usage error: exit 2', async (t) => {
  const s = sandbox(t);
  const r = await s.run(['history', 'prune', '--older-than', '5x']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(oneLineError(r.stderr), null);
});

test('tw message with a bad id: exit 2; with an unknown id: exit 4', async (t) => {
  const s = sandbox(t);
  for (const id of ['abc', '0', '-3', '1.5']) {
    const r = await s.run(['message', id, 'hello']);
    assert.equal(r.code, 2, `id ${id}: ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
  }
  const bad = await s.run(['message', 'hello'], { env: { TW_TASK_ID: 'nope' } });
  assert.equal(bad.code, 2, `TW_TASK_ID=nope: ${bad.stderr}`);
  const none = await s.run(['message', 'hello']);
  assert.equal(none.code, 2, `no id at all: ${none.stderr}`);
  assert.equal(oneLineError(none.stderr), null);
  const unknown = await s.run(['message', '999', 'hello']);
  assert.equal(unknown.code, 4, unknown.stderr);
  assert.equal(oneLineError(unknown.stderr), null);
});

test('tw describe of an unknown id: exit 4, one line naming it', async (t) => {
  const s = sandbox(t);
  await s.ok(['reserve']);
  for (const args of [['describe', '999'], ['describe', '1', '999'], ['describe', '--json', '999']]) {
    const r = await s.run(args);
    assert.equal(r.code, 4, `tw ${args.join(' ')}: ${r.stderr}`);
    assert.equal(oneLineError(r.stderr), null);
    assert.match(r.stderr, /999/);
  }
  const bad = await s.run(['describe', 'x1']);
  assert.equal(bad.code, 2, bad.stderr);
});

test('--version prints the version and exits 0', async (t) => {
  const s = sandbox(t);
  const r = await s.run(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
  assert.equal(r.stderr, '');
});

const COMMANDS = [
  ['reserve'], ['launch'], ['list'], ['describe'], ['cancel'], ['history'], ['history', 'prune'], ['history', 'clear'],
  ['stats'], ['feedback'], ['parse'], ['message'], ['logs'],
];

test('--help on every command shows examples and exits 0, without touching a store', async (t) => {
  const s = sandbox(t);
  const top = await s.run(['--help']);
  assert.equal(top.code, 0, top.stderr);
  for (const cmd of COMMANDS) assert.match(top.stdout, new RegExp(`^\\s+${cmd[0]}\\b`, 'm'), `tw --help lists ${cmd[0]}`);
  const runs = await Promise.all(COMMANDS.map((cmd) => s.run([...cmd, '--help'])));
  runs.forEach((r, i) => {
    const name = COMMANDS[i]!.join(' ');
    assert.equal(r.code, 0, `tw ${name} --help: exit ${r.code} ${r.stderr}`);
    assert.match(r.stdout, /Examples:/, `tw ${name} --help has examples`);
    assert.match(r.stdout, new RegExp(`\\$ tw ${name}\\b`), `tw ${name} --help shows an example of itself`);
  });
  // `tw help CMD` too.
  const help = await s.run(['help', 'launch']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Examples:/);
});
