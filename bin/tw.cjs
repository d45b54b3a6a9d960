#!/usr/bin/env node
// tw's entry: runs dist/main.cjs with V8's code cache, dist/main.cache, which
// `node build.mjs` makes by running a launch once (TW_BUILD_CODE_CACHE=1).
// Compiling tw is a good part of a start, and a cache made after a run holds
// the functions the run compiled too: measured, it beats node's own compile
// cache (module.enableCompileCache, top level only, from 22.1 on) by 5-15% of
// a launch on every node. vm.Script's cachedData is public API on all of them.
// The cache holds the source it was made from and is used for that very
// source only (V8 itself checks just its length). One that V8 rejects (made
// by another node: tw built with one and run with another) is made again at
// the end of this run, where dist/ can be written, so only one run pays.
'use strict';
const { accessSync, constants, readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const file = join(dist, 'main.cjs');
const cacheFile = join(dist, 'main.cache');
let source;
try {
  source = readFileSync(file);
} catch {
  // A clone that npm ci never built (its `dependencies` script builds it).
  process.stderr.write(`tw: not built: run \`npm ci\` (or \`npm run build\`) in ${join(__dirname, '..')}\n`);
  process.exit(125);
}
const making = process.env.TW_BUILD_CODE_CACHE === '1';

/** V8's data, if the cache file was made from this very source. */
function cachedDataFor(source) {
  let data;
  try {
    data = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  if (data.length < 4) return undefined;
  const length = data.readUInt32LE(0);
  return length === source.length && data.subarray(4, 4 + length).equals(source) ? data.subarray(4 + length) : undefined;
}

const cachedData = making ? undefined : cachedDataFor(source);
const script = new Script(Module.wrap(source.toString('utf8')), { filename: file, cachedData });
if (making || ((cachedData === undefined || script.cachedDataRejected) && writable(dist))) {
  // At exit, so that the cache holds every function the run compiled.
  process.on('exit', () => {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(source.length);
    try {
      writeFileSync(`${cacheFile}.${process.pid}`, Buffer.concat([length, source, script.createCachedData()]), { mode: 0o644 });
      renameSync(`${cacheFile}.${process.pid}`, cacheFile);
    } catch {
      // dist/ is not ours to write (an install of another user's): compiled as usual next time too
    }
  });
}
function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false; // an install of another user's: compiled as usual, nothing tried at exit
  }
}

const main = { exports: {} };
script.runInThisContext()(main.exports, Module.createRequire(file), main, file, dist);
