// Bundles the CLI with esbuild into CommonJS (node loads it faster than ESM):
// dist/main.cjs holds the entry and the argument parser, dist/store.cjs the store; each command is its own bundle
// in dist/commands/, required only when that command runs, so `tw --version`
// parses almost nothing. better-sqlite3's addon is loaded by path at run time.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logOverride: { 'empty-import-meta': 'silent' },
  // import() of a command's bundle becomes require(): no ESM loader, no CJS lexer.
  supported: { 'dynamic-import': false },
  define: { TW_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
};

/**
 * Leaves `import('./commands/x.js')` as a run-time require of the command's own bundle, and
 * `import('../store/open.js')` as one of dist/store.cjs (the store and better-sqlite3's code,
 * which `tw --version` and `tw help` do without).
 */
const lazyBundles = {
  name: 'lazy-bundles',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => ({ path: args.path.replace(/\.js$/, '.cjs'), external: true }));
    b.onResolve({ filter: /^\.\.\/store\/open\.js$/ }, () => ({ path: './store.cjs', external: true }));
  },
};

// Each build goes to a folder of its own; dist is a symbolic link to the current one, swapped by
// one rename. A tw starting meanwhile finds the old build or the new one, whole; one running
// goes on with the build it started with (node resolves the link: its bundles load from there).
const out = `dist-${Date.now().toString(36)}-${process.pid}`;
await Promise.all([
  build({ ...common, entryPoints: ['src/cli/boot.ts'], outfile: `${out}/boot.cjs` }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: `${out}/main.cjs`, plugins: [lazyBundles] }),
  build({ ...common, entryPoints: ['src/store/open.ts'], outfile: `${out}/store.cjs` }),
  build({
    ...common,
    entryPoints: readdirSync('src/cli/commands').map((f) => `src/cli/commands/${f}`),
    outdir: `${out}/commands`,
    outExtension: { '.js': '.cjs' },
  }),
]);
makeCodeCache(out);
const previous = currentBuild();
const link = `dist.link-${process.pid}`;
symlinkSync(out, link);
if (previous === null) rmSync('dist', { recursive: true, force: true }); // a folder from before builds had their own
renameSync(link, 'dist');
// Builds older than the one just replaced are no longer in use by any tw that matters.
for (const name of readdirSync('.')) if (/^dist-/.test(name) && name !== out && name !== previous) rmSync(name, { recursive: true, force: true });

/** The build dist links to, or null if dist is no link. */
function currentBuild() {
  try {
    return lstatSync('dist').isSymbolicLink() ? readlinkSync('dist') : null;
  } catch {
    return null;
  }
}

/**
 * Runs the new build once per command, in a store of its own, so that
 * boot.cjs writes V8's code cache for each bundle (see src/cli/boot.ts).
 * `launch` runs last: main.cjs keeps the cache of that run, the one whose
 * start-up matters most. A run that fails leaves its bundle without a cache.
 */
function makeCodeCache(dir) {
  const tmp = mkdtempSync(join(tmpdir(), 'tw-build-'));
  const env = { ...process.env, TW_BUILD_CODE_CACHE: '1', TW_DB: join(tmp, 'tw.db') };
  delete env.NODE_OPTIONS;
  const feedback = join(tmp, 'feedback.txt');
  writeFileSync(feedback, '[progress]1/2\n');
  const runs = [
    ['reserve'],
    ['message', '1', 'x'],
    ['feedback', '1'],
    ['describe', '1'],
    ['cancel', '1'],
    ['list'],
    ['history'],
    ['stats'],
    ['logs', '1'],
    ['parse', feedback],
    ['launch', '--', 'true'],
  ];
  try {
    for (const args of runs) spawnSync(process.execPath, [resolve(dir, 'boot.cjs'), ...args], { env, stdio: 'ignore', cwd: tmp });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
