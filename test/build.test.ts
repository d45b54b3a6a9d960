// What `node build.mjs` leaves in dist/ and how bin/tw.cjs runs it: one
// bundle, and V8's code cache made by this very node, which it must accept,
// or every start pays for compiling tw again. Both of bin/tw.cjs's paths are
// run: with the cache, and without one it can use (missing, made from
// another source, made by another node).
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Script } from 'node:vm';
import { exec, NODE, ROOT, sandbox } from './helpers.js';

const DIST = join(ROOT, 'dist');

test('one bundle, and a code cache made from it that this node accepts', () => {
  const source = readFileSync(join(DIST, 'main.cjs'));
  const cache = readFileSync(join(DIST, 'main.cache'));
  // The cache file: the source's length, the source, V8's data (see bin/tw.cjs).
  const length = cache.readUInt32LE(0);
  assert.ok(cache.subarray(4, 4 + length).equals(source), 'the code cache was made from another source');
  const script = new Script(Module.wrap(source.toString('utf8')), { filename: join(DIST, 'main.cjs'), cachedData: cache.subarray(4 + length) });
  assert.equal(script.cachedDataRejected, false, 'V8 rejects the code cache');
});

test('without a cache it can use, tw runs all the same: missing, stale, or garbage', async (t) => {
  const box = sandbox(t);
  const copy = join(box.dir, 'tw');
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(DIST, join(copy, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const tw = (args: string[]) => exec(NODE, [join(copy, 'bin', 'tw.cjs'), ...args], { fullEnv: box.env() });
  const cases: [string, () => void][] = [
    ['missing', () => rmSync(join(copy, 'dist', 'main.cache'))],
    ['made from another source of the same length', () => {
      const main = join(copy, 'dist', 'main.cjs');
      const source = readFileSync(main, 'utf8');
      writeFileSync(main, source.replace('run a command and supervise it to its end', 'run a command and supervise it to ITS end'));
      cpSync(join(DIST, 'main.cache'), join(copy, 'dist', 'main.cache'));
    }],
    ['garbage', () => writeFileSync(join(copy, 'dist', 'main.cache'), Buffer.from('not a cache at all'))],
  ];
  for (const [what, spoil] of cases) {
    cpSync(DIST, join(copy, 'dist'), { recursive: true });
    spoil();
    const version = await tw(['--version']);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/, `${what}: ${version.stderr}`);
    assert.equal((await tw(['launch', '--', 'sh', '-c', 'echo ran'])).stdout, 'ran\n', what);
    if (what.startsWith('made from another source')) {
      assert.match((await tw(['--help'])).stdout, /supervise it to ITS end/, 'the changed source ran, not the cached one');
    }
  }
});

test('a copy that was never built says how to build it, in one line (exit 125)', async (t) => {
  const box = sandbox(t);
  cpSync(join(ROOT, 'bin'), join(box.dir, 'tw', 'bin'), { recursive: true });
  const r = await exec(NODE, [join(box.dir, 'tw', 'bin', 'tw.cjs'), 'list'], { fullEnv: box.env() });
  assert.equal(r.code, 125);
  assert.equal(r.stderr, `tw: not built: run \`npm ci\` (or \`npm run build\`) in ${join(box.dir, 'tw')}\n`);
});

test('npm install -g . is clean: no install script to approve, and the tw it links runs', async (t) => {
  const npm = await exec('npm', ['--version'], { fullEnv: process.env });
  if (npm.code !== 0) return t.skip('no npm on PATH');
  const box = sandbox(t);
  const prefix = join(box.dir, 'global');
  const r = await exec('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, '.'], { cwd: ROOT, fullEnv: process.env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /warn/i, 'nothing to approve or fix');
  const version = await exec(join(prefix, 'bin', 'tw'), ['--version'], { fullEnv: box.env() });
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/, version.stderr);
});
