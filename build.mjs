// Bundles the CLI with esbuild into CommonJS (node loads it faster than ESM):
// dist/main.cjs holds the entry and the argument parser; each command is its own bundle
// in dist/commands/, required only when that command runs, so `tw --version`
// parses almost nothing. better-sqlite3's addon is loaded by path at run time.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';

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

/** Leaves `import('./commands/x.js')` as a run-time require of the command's own bundle. */
const lazyCommands = {
  name: 'lazy-commands',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => ({ path: args.path.replace(/\.js$/, '.cjs'), external: true }));
  },
};

// Build beside dist/ and swap it in, so a tw running meanwhile never finds dist/ half gone.
const out = `dist.tmp-${process.pid}`;
rmSync(out, { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: `${out}/main.cjs`, plugins: [lazyCommands] }),
  build({
    ...common,
    entryPoints: readdirSync('src/cli/commands').map((f) => `src/cli/commands/${f}`),
    outdir: `${out}/commands`,
    outExtension: { '.js': '.cjs' },
  }),
]);
const old = `dist.old-${process.pid}`;
if (existsSync('dist')) renameSync('dist', old);
renameSync(out, 'dist');
rmSync(old, { recursive: true, force: true });
