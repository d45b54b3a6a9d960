// The queue's figures (issue 14): the handoff from a slot's holder to the next
// waiting task, and 1,000 tasks queued behind one running task: the time to
// queue them, the processes and store space they cost, `tw list` with them
// queued, and the time for them all to run through.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtMs, fmtX, measure, median, quantile, runOk, sleep, table, twCmd, until, wallMs } from './lib.js';

type Record = (section: string, figure: string, value: string, target: string, pass: boolean | null) => void;

export interface QueueBench {
  dir: string;
  storeIn(name: string): string;
  record: Record;
  handoffRuns: number;
  queued: number;
  runs: number;
  warmup: number;
}

const nsFile = (file: string): number => Number(BigInt(readFileSync(file, 'utf8').trim())) / 1e6;
const sizeOf = (db: string): number => [db, `${db}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);

/** tw processes alive with this store on their command line or in their environment. */
function twProcesses(db: string): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('tw.cjs')) && (argv.includes(db) || readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`TW_DB=${db}\0`))) n++;
    } catch {
      // gone
    }
  }
  return n;
}

const gated = (gate: string, then = ''): string[] => ['sh', '-c', `while [ ! -e "${gate}" ]; do sleep 0.005; done; ${then}`];

export async function handoff(b: QueueBench): Promise<void> {
  const store = b.storeIn('handoff');
  const samples: number[] = [];
  for (let i = 0; i < b.handoffRuns + 1; i++) {
    const gate = join(b.dir, `handoff-gate-${i}`);
    const ended = join(b.dir, `handoff-end-${i}`);
    const started = join(b.dir, `handoff-start-${i}`);
    // The holder's last act is writing the clock; the next task's first act is the same.
    runOk(twCmd('holder', store, ['launch', '--detach', '--name', 'h', '--max-running', '1', '--', ...gated(gate, `date +%s%N > ${ended}`)]));
    runOk(twCmd('next', store, ['launch', '--detach', '--name', 'h', '--max-running', '1', '--', 'sh', '-c', `date +%s%N > ${started}`]));
    await sleep(300); // the holder's supervisor settled
    writeFileSync(gate, '');
    await until('the next task to start', () => (existsSync(started) && readFileSync(started, 'utf8').trim() ? true : undefined), 15_000, 5);
    if (i > 0) samples.push(nsFile(started) - nsFile(ended));
  }
  const m = median(samples);
  console.log(`slot holder's child exit -> next waiting child's start, ${samples.length} runs: median ${fmtMs(m)}, min ${fmtMs(quantile(samples, 0))}, p90 ${fmtMs(quantile(samples, 0.9))}, max ${fmtMs(quantile(samples, 1))}`);
  b.record('queue', 'handoff latency (median)', fmtMs(m), '< 150 ms', m < 150);
}

export async function thousand(b: QueueBench): Promise<void> {
  const n = b.queued;
  const store = b.storeIn('queued');
  const empty = b.storeIn('queued-empty');
  runOk(twCmd('create', store, ['list']));
  runOk(twCmd('create', empty, ['list']));
  const gate = join(b.dir, 'queued-gate');
  const holder = runOk(twCmd('holder', store, ['launch', '--detach', '--name', 'holder', '--', ...gated(gate)])).stdout.trim();
  await sleep(300);
  const sizeBefore = sizeOf(store);
  const t0 = wallMs();
  for (let i = 0; i < n; i++) runOk(twCmd('queue one', store, ['launch', '--detach', '--name', 'q', '--max-running', '4', '--after', holder, '--', 'true']));
  const queueMs = wallMs() - t0;
  await sleep(300);
  const procs = twProcesses(store);
  const perTask = (sizeOf(store) - sizeBefore) / n;
  console.log(`queued ${n} tasks with launch --detach in ${(queueMs / 1000).toFixed(1)} s (${fmtMs(queueMs / n)} each); tw processes alive: ${procs} (the holder's supervisor); store growth ${(perTask / 1024).toFixed(2)} KiB a task`);
  b.record('queue', `${n} queued: time to queue`, `${(queueMs / 1000).toFixed(1)} s`, 'info', null);
  b.record('queue', `${n} queued: tw processes alive`, String(procs), '= 1', procs === 1);
  b.record('queue', `${n} queued: store space a task`, `${(perTask / 1024).toFixed(2)} KiB`, 'info', null);

  const cmds = [twCmd('tw list (empty store)', empty, ['list']), twCmd(`tw list (${n} queued)`, store, ['list'])];
  const t = measure(cmds, b.runs, b.warmup);
  const ratio = median(t.get(cmds[1]!.label)!) / median(t.get(cmds[0]!.label)!);
  console.log(table(['command', 'median'], cmds.map((c) => [c.label, fmtMs(median(t.get(c.label)!))])));
  b.record('queue', `tw list with ${n} queued / empty`, fmtX(ratio), '<= 2x', ratio <= 2);

  // The run-through: 4 at a time, from the holder's end to the last end.
  writeFileSync(gate, '');
  const t1 = wallMs();
  await until(`all ${n} to run`, () => {
    const left = JSON.parse(runOk(twCmd('list', store, ['list', '--json', '--name', 'q'])).stdout) as unknown[];
    return left.length === 0 ? true : undefined;
  }, 30 * 60_000, 500);
  const throughMs = wallMs() - t1;
  const plainStore = b.storeIn('queued-plain');
  const t2 = wallMs();
  for (let i = 0; i < n; i++) runOk(twCmd('plain', plainStore, ['launch', '--', 'true']));
  const plainMs = wallMs() - t2;
  console.log(`all ${n} run through, --max-running 4: ${(throughMs / 1000).toFixed(1)} s; ${n} plain \`tw launch -- true\` one after another: ${(plainMs / 1000).toFixed(1)} s`);
  b.record('queue', `${n} run through (4 at a time) / ${n} plain launches`, `${fmtX(throughMs / plainMs)} (${(throughMs / 1000).toFixed(1)} s)`, 'info', null);
}
