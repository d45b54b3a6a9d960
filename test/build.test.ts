// What `node build.mjs` leaves in dist/: a bundle per command, and V8's code
// cache for each (see src/cli/boot.ts), which this very node must accept, or
// every start pays for compiling tw again.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Script } from 'node:vm';

const DIST = join(import.meta.dirname, '..', 'dist');

test('every bundle has a code cache that this node accepts', () => {
  const bundles = ['main.cjs', 'store.cjs', ...readdirSync(join(DIST, 'commands')).map((f) => `commands/${f}`)];
  assert.ok(bundles.length > 5, bundles.join(' '));
  for (const name of bundles) {
    const cache = join(DIST, 'cache', `${name.replace(/\//g, '-')}.v8`);
    assert.ok(existsSync(cache), `no code cache for ${name}`);
    // The cache file: the source's length, the source, V8's data (see src/cli/boot.ts).
    const data = readFileSync(cache);
    const source = readFileSync(join(DIST, name));
    const length = data.readUInt32LE(0);
    assert.ok(data.subarray(4, 4 + length).equals(source), `the code cache of ${name} was made from another source`);
    const script = new Script(Module.wrap(source.toString('utf8')), { filename: join(DIST, name), cachedData: data.subarray(4 + length) });
    assert.equal(script.cachedDataRejected, false, `V8 rejects the code cache of ${name}`);
  }
});
