#!/usr/bin/env node
// Node 22.1 and later keep V8's compiled code of tw in dist/cache (a folder
// of ours, not one in /tmp that another user could plant); an older node, or
// a dist/ we cannot write, compiles it as usual at each start.
const { enableCompileCache } = require('node:module');
if (typeof enableCompileCache === 'function') enableCompileCache(require('node:path').join(__dirname, '..', 'dist', 'cache'));
require('../dist/main.cjs');
