// tw's entry (bin/tw.cjs requires this bundle): loads the other bundles with
// V8's code cache, which `node build.mjs` makes beside them by running tw once
// per command with TW_BUILD_CODE_CACHE set. Compiling the bundles is a few ms
// of every start; with the cache V8 skips it. A cache that V8 rejects (another
// node, another build) costs nothing but that saving: the bundle is compiled
// as usual. The cache is written only by the build, beside the code it is
// for, so it is trusted as far as the code is.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const DIST = __dirname;
const producing = process.env.TW_BUILD_CODE_CACHE === '1';
const loaded: { script: Script; source: Buffer; cache: string }[] = [];

/** Runs dist/`name` as node would run a CommonJS file, and returns its exports. */
function load(name: string): unknown {
  const file = join(DIST, name);
  const cache = join(DIST, 'cache', `${name.replace(/\//g, '-')}.v8`);
  const source = readFileSync(file);
  const cachedData = producing ? undefined : cacheFor(cache, source);
  const script = new Script(Module.wrap(source.toString('utf8')), { filename: file, cachedData });
  if (producing) loaded.push({ script, source, cache });
  const module = { exports: {} as unknown };
  const requireNode = createRequire(file);
  // A bundle requires node's own modules; main.cjs requires the store's bundle and each command's.
  const requireHere = (id: string): unknown => (id.startsWith('./') ? load(id.slice(2)) : requireNode(id));
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, requireHere, module, file, dirname(file));
  return module.exports;
}

/**
 * A cache file holds the source it was made from (its length, then its bytes)
 * before V8's data: V8 itself checks only the source's length, so a bundle
 * changed in place would otherwise run as it was.
 */
function cacheFor(path: string, source: Buffer): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    return undefined; // no cache: compiled as usual
  }
  if (data.length < 4) return undefined;
  const length = data.readUInt32LE(0);
  return length === source.length && data.subarray(4, 4 + length).equals(source) ? data.subarray(4 + length) : undefined;
}

if (producing) {
  // After the run, so that the cache holds every function the run compiled, not only the top level.
  process.on('exit', () => {
    for (const { script, source, cache } of loaded) {
      mkdirSync(dirname(cache), { recursive: true });
      const length = Buffer.alloc(4);
      length.writeUInt32LE(source.length);
      writeFileSync(`${cache}.tmp`, Buffer.concat([length, source, script.createCachedData()]));
      renameSync(`${cache}.tmp`, cache);
    }
  });
}

load('main.cjs');
