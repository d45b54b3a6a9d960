// When a target is missed: run the command once more under `node --cpu-prof`
// and say where its time went (self time by function, inclusive by file).
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type Cmd } from './lib.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives, coarsely: a tw source file, a package, node itself. */
function origin(url: string, name: string, line: number): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.includes('/dist/')) return bundledModule(url, line);
  return basename(url);
}

/** esbuild marks each bundled module with a `// path` line: maps a bundle's line back to it. */
const bundleMaps = new Map<string, [number, string][]>();
function bundledModule(url: string, line: number): string {
  let map = bundleMaps.get(url);
  if (!map) {
    map = [];
    try {
      const lines = readFileSync(url.startsWith('file://') ? fileURLToPath(url) : url, 'utf8').split('\n');
      lines.forEach((l, i) => {
        const m = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(l);
        if (m) map!.push([i, m[1]!]);
      });
    } catch {
      /* the bundle is gone */
    }
    bundleMaps.set(url, map);
  }
  let found = `tw ${url.slice(url.indexOf('/dist/') + 1)}`;
  for (const [start, mod] of map) {
    if (start > line) break;
    found = mod;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(found);
  return pkg ? pkg[1]! : found;
}

const INTERVAL_US = 200;

/** Runs `cmd` (a node command) under --cpu-prof in `dir` and returns a few lines of summary. */
export function profile(cmd: Cmd, dir: string, top = 6): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = run({ ...cmd, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${INTERVAL_US}`, ...cmd.args] }, { stdio: ['ignore', 'ignore', 'pipe'] });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `  (no profile written; exit ${r.status})`;
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    // Each sample counts one interval: on a busy machine the recorded deltas
    // also hold the time the process waited for a core, charged to whatever
    // ran next, which misleads more than it tells.
    const ms = INTERVAL_US / 1000;
    const leaf = byId.get(p.samples[i]!)!;
    const f = leaf.callFrame;
    const key = f.url ? `${f.functionName || '(anonymous)'} (${origin(f.url, f.functionName, f.lineNumber)})` : f.functionName;
    self.set(key, (self.get(key) ?? 0) + ms);
    // Charged to the nearest frame of tw or a package: node's own work (module
    // loading, streams, fs) is counted for the code that asked for it.
    let o = origin(f.url, f.functionName, f.lineNumber);
    for (let id: number | undefined = leaf.id; id !== undefined && (o === 'node internals' || o === '(native)'); id = parent.get(id)) {
      const cf = byId.get(id)!.callFrame;
      o = origin(cf.url, cf.functionName, cf.lineNumber);
    }
    if (o === '(root)') o = 'node internals';
    incl.set(o, (incl.get(o) ?? 0) + ms);
  }
  const total = (p.samples.length * INTERVAL_US) / 1000;
  const fmt = (m: Map<string, number>): string =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${v.toFixed(0)} ms ${k}`)
      .join('; ');
  return [`  profile of one run (${p.samples.length} samples every ${INTERVAL_US} us = ${total.toFixed(0)} ms; wall ${r.ms.toFixed(0)} ms):`, `    self:      ${fmt(self)}`, `    by origin: ${fmt(incl)}`].join('\n');
}
