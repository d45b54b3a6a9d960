// The argument parser alone: pure, no processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgvError, parseArgv, type CommandSpec, type OptionSpec } from '../src/cli/argv.js';

const GLOBALS: OptionSpec[] = [{ flags: '--db <path>', description: 'store' }, { flags: '-V, --version', description: 'version' }];
const ROOT: CommandSpec<string> = {
  name: 'tw',
  summary: 'root',
  subcommands: [
    {
      name: 'launch',
      summary: 'launch',
      args: ['<command...>'],
      stopAtFirstOperand: true,
      options: [{ flags: '--feedback [path]', description: 'f' }, { flags: '--grace <dur>', description: 'g', default: '10s' }, { flags: '--info <kv>', description: 'i', repeatable: true }],
      examples: ['tw launch -- true'],
      run: 'launch',
    },
    { name: 'logs', summary: 'logs', args: ['<id>'], options: [{ flags: '-f, --follow', description: 'f' }], run: 'logs' },
    {
      name: 'history',
      summary: 'history',
      options: [{ flags: '--limit <n>', description: 'l', default: '50' }],
      run: 'history',
      subcommands: [{ name: 'prune', summary: 'prune', options: [{ flags: '--keep <n>', description: 'k' }], run: 'prune' }],
    },
  ],
};

const parse = (...tokens: string[]) => parseArgv(tokens, ROOT, GLOBALS);
const run = (...tokens: string[]) => {
  const p = parse(...tokens);
  assert.equal(p.kind, 'run');
  return p as Extract<ReturnType<typeof parse>, { kind: 'run' }>;
};
const usage = (pattern: RegExp, ...tokens: string[]) => assert.throws(() => parse(...tokens), (e: unknown) => e instanceof ArgvError && pattern.test(e.message));

test('options, defaults, repeatable values, = form, and -- ', () => {
  const p = run('--db', 'x.db', 'launch', '--info', 'a=1', '--info=b=2', '--feedback', '--', 'sleep', '--grace', '5');
  assert.equal(p.path.at(-1)!.run, 'launch');
  assert.deepEqual(p.opts, { db: 'x.db', info: ['a=1', 'b=2'], feedback: true, grace: '10s' });
  assert.deepEqual(p.args, ['sleep', '--grace', '5']);
});

test('an optional value is taken when it does not look like an option', () => {
  // An optional value is attached with '=' only: the next word is the command.
  const bare = run('launch', '--feedback', 'echo', 'hi');
  assert.equal(bare.opts.feedback, true);
  assert.deepEqual(bare.args, ['echo', 'hi']);
  assert.equal(run('launch', '--feedback=fb.txt', 'true').opts.feedback, 'fb.txt');
});

test('launch stops at its first operand: the rest is the command', () => {
  assert.deepEqual(run('launch', 'ls', '-la', '--db', 'y').args, ['ls', '-la', '--db', 'y']);
});

test('global options anywhere before the operands; short flags', () => {
  const p = run('logs', '-f', '42', '--db', 'z');
  assert.deepEqual(p.opts, { follow: true, db: 'z' });
  assert.deepEqual(p.args, ['42']);
});

test('subcommands, and a parent command with its own options', () => {
  assert.equal(run('history', 'prune', '--keep', '3').path.at(-1)!.run, 'prune');
  assert.equal(run('history', '--limit', '3').opts.limit, '3');
  usage(/too many arguments/, 'history', 'bogus');
});

test('usage errors name the problem and the help to read', () => {
  usage(/unknown command 'lgs' \(did you mean logs\?\)/, 'lgs');
  usage(/unknown option '--folow' \(did you mean --follow\?\).*tw logs --help/, 'logs', '--folow', '1');
  usage(/option '--grace <dur>' needs a value/, 'launch', '--grace');
  usage(/missing <id>/, 'logs');
  usage(/takes no value/, 'logs', '--follow=yes', '1');
  assert.throws(() => parse('launch', '--bogus'), (e: unknown) => e instanceof ArgvError && e.path[1] === 'launch');
});

test('help and version', () => {
  assert.equal(parse('--version').kind, 'version');
  const help = parse('launch', '--help');
  assert.ok(help.kind === 'help' && /Usage: tw launch \[options\] <command\.\.\.>/.test(help.text) && /\$ tw launch -- true/.test(help.text));
  const sub = parse('help', 'history', 'prune');
  assert.ok(sub.kind === 'help' && sub.text.startsWith('Usage: tw history prune'));
  const top = parse();
  assert.ok(top.kind === 'help' && /Commands:/.test(top.text));
});
