// Joins the summaries of bench/versions.sh into one table: a row per figure, a column per node.
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
runs.sort((a, b) => Number(a.node.slice(1).split('.')[0]) - Number(b.node.slice(1).split('.')[0]));
const figures = [];
for (const run of runs) for (const r of run.rows) if (!figures.some((f) => f.figure === r.figure)) figures.push(r);
const cell = (run, figure) => {
  const r = run.rows.find((x) => x.figure === figure);
  return r ? `${r.value}${r.pass === null ? '' : r.pass ? ' PASS' : ' MISS'}` : '-';
};
const rows = [['figure', 'target', ...runs.map((r) => `node ${r.node}`)], ...figures.map((f) => [f.figure, f.target, ...runs.map((run) => cell(run, f.figure))])];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
