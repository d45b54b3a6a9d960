// Telling the world's figures (issue 16): how soon `tw events -f` prints a
// commit, `tw metrics` on a store of 1,000,000 ended tasks across 100 names,
// and what a ping adds to `tw launch -- true` with a local HTTP server.
import { spawn } from 'node:child_process';
import { fmtMs, fmtX, measure, median, nodeCmd, quantile, runOk, sleep, start, table, twCmd, until, wallMs, type Cmd } from './lib.js';
import { seedHistory } from './seed.js';

type Record = (section: string, figure: string, value: string, target: string, pass: boolean | null) => void;

export interface WorldBench {
  storeIn(name: string): string;
  record: Record;
  latencyRuns: number;
  history: number;
  runs: number;
  warmup: number;
}

export async function eventsLatency(b: WorldBench): Promise<void> {
  const store = b.storeIn('events');
  const id = runOk(twCmd('reserve', store, ['reserve'])).stdout.trim();
  const follower = start(twCmd('events -f', store, ['events', '-f', '--json']));
  // Each line as it arrives, against the instant its event was recorded (taken just before the commit).
  const samples: number[] = [];
  let lines = 0;
  let partial = '';
  follower.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const now = wallMs();
    const text = partial + chunk;
    const whole = text.split('\n');
    partial = whole.pop()!;
    for (const line of whole) {
      const e = JSON.parse(line) as { at: string; text: string | null };
      if (e.text?.startsWith('event ') && e.text !== 'event 0') samples.push(now - Date.parse(e.at));
      lines++;
    }
  });
  await until('the follower', () => (lines ? true : undefined), 10_000, 20);
  for (let i = 0; i < b.latencyRuns + 1; i++) {
    const before = lines;
    await start(twCmd('message', store, ['message', id, `event ${i}`])).done;
    await until('the line', () => (lines > before ? true : undefined), 10_000, 2);
    await sleep(50);
  }
  follower.child.kill('SIGINT');
  await follower.done;
  const m = median(samples);
  console.log(`a message's commit (its recorded instant) -> tw events -f prints it, ${samples.length} runs: median ${fmtMs(m)}, p90 ${fmtMs(quantile(samples, 0.9))}, max ${fmtMs(quantile(samples, 1))}`);
  b.record('world', 'events -f notice latency (median)', fmtMs(m), '< 150 ms', m < 150);
}

export function metricsOnHistory(b: WorldBench): void {
  const store = b.storeIn('metrics-1m');
  const empty = b.storeIn('metrics-empty');
  runOk(twCmd('create', store, ['list']));
  runOk(twCmd('create', empty, ['list']));
  const names = Array.from({ length: 100 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
  const seeded = seedHistory(store, b.history, 365, names);
  console.log(`seeded ${seeded.rows.toLocaleString('en')} ended tasks across ${names.length} names in ${(seeded.ms / 1000).toFixed(1)} s`);
  const cmds: Cmd[] = [twCmd('tw list (empty store)', empty, ['list']), twCmd(`tw metrics (${b.history / 1e6}M tasks, 100 names)`, store, ['metrics'])];
  const t = measure(cmds, b.runs, b.warmup);
  const ratio = median(t.get(cmds[1]!.label)!) / median(t.get(cmds[0]!.label)!);
  console.log(table(['command', 'median'], cmds.map((c) => [c.label, fmtMs(median(t.get(c.label)!))])));
  b.record('world', `tw metrics (${b.history / 1e6}M tasks) / empty list`, fmtX(ratio), '<= 3x', ratio <= 3);
}

export async function pingOverhead(b: WorldBench): Promise<void> {
  const store = b.storeIn('ping');
  runOk(twCmd('create', store, ['list']));
  // The server is a process of its own: the timed runs block this one.
  const server = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end('OK'))}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  try {
    const cmds: Cmd[] = [
      nodeCmd("node -e ''", ['-e', '']),
      twCmd('tw launch -- true', store, ['launch', '--', 'true']),
      twCmd('tw launch --ping URL -- true', store, ['launch', '--ping', `http://127.0.0.1:${port}/check`, '--', 'true']),
    ];
    const t = measure(cmds, b.runs, b.warmup);
    const added = median(t.get(cmds[2]!.label)!) - median(t.get(cmds[1]!.label)!);
    console.log(table(['command', 'median'], cmds.map((c) => [c.label, fmtMs(median(t.get(c.label)!))])));
    b.record('world', 'ping overhead on tw launch -- true', fmtMs(added), '< 10 ms', added < 10);
  } finally {
    server.kill();
  }
}
