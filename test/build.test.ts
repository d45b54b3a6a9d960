// What `node build.mjs` leaves in dist/ and how bin/tw.cjs loads it: one
// bundle, and node's compile cache where this node has one
// (module.enableCompileCache, 22.1 and later). Both paths are run here, on
// every node: the cache, and a node without the API (a preload removes it).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, sandbox } from './helpers.js';

const DIST = join(ROOT, 'dist');
const hasCompileCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

test('one bundle; the compile cache is in dist/cache where this node has one', () => {
  assert.ok(existsSync(join(DIST, 'main.cjs')));
  const cache = join(DIST, 'cache');
  if (!hasCompileCache) return assert.equal(existsSync(cache), false, 'a cache made without the API');
  const files = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(files.length > 0, 'the build warmed no cache');
});

test('without enableCompileCache (node 20), tw runs all the same', async (t) => {
  const box = sandbox(t);
  const preload = join(box.dir, 'no-compile-cache.cjs');
  writeFileSync(preload, "delete require('node:module').enableCompileCache;\n");
  const nodeArgs = ['--require', preload];
  assert.match(await box.ok(['--version'], { nodeArgs }), /^\d+\.\d+\.\d+\n$/);
  assert.equal((await box.run(['launch', '--', 'sh', '-c', 'echo ran'], { nodeArgs })).stdout, 'ran\n');
  assert.equal((await box.json(['list', '--all'], { nodeArgs })).length, 1);
});
