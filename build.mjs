// Bundles the CLI with esbuild: one entry chunk plus one lazily imported chunk per
// command, so that `tw --version` parses almost nothing. better-sqlite3 stays
// external (native addon); the rest is bundled to save module resolution time.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  external: ['better-sqlite3', 'pidusage', 'cli-table3'],
  banner: { js: "import { createRequire as __twCreateRequire } from 'node:module'; const require = __twCreateRequire(import.meta.url);" },
  define: { TW_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
