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
  const bundles = ['main.cjs', ...readdirSync(join(DIST, 'commands')).map((f) => `commands/${f}`)];
  assert.ok(bundles.length > 5, bundles.join(' '));
  for (const name of bundles) {
    const cache = join(DIST, 'cache', `${name.replace(/\//g, '-')}.v8`);
    assert.ok(existsSync(cache), `no code cache for ${name}`);
    const script = new Script(Module.wrap(readFileSync(join(DIST, name), 'utf8')), { filename: join(DIST, name), cachedData: readFileSync(cache) });
    assert.equal(script.cachedDataRejected, false, `V8 rejects the code cache of ${name}`);
  }
});
