// `npm run bench`: tw's performance targets (issues 3-6), measured in one run
// against baselines measured in the same run, with a PASS/MISS summary.
//
// Environment:
//   BENCH_QUICK=1      fewer runs and a shorter idle window
//   BENCH_RUNS=N       timed runs per command (default 30, quick 10), after BENCH_WARMUP (3, quick 2)
//   BENCH_IDLE_S=S     idle-measurement window in seconds (default 15, quick 5)
//   BENCH_LATENCY_RUNS=N  describe --block latency samples (default 20, quick 8)
//   BENCH_RUNNING=N    running tasks for the busy `tw list` (default 200)
//   BENCH_HISTORY=N    terminal tasks for the history store (default 1000000)
//   BENCH_QUEUE=N      tasks queued behind one running task (default 1000, quick 200)
//   BENCH_ONLY=a,b     only these sections: startup, launch, idle, throughput, latency, busylist, history, parse, queue, world
//   BENCH_KEEP=1       keep the temporary folder
//   BENCH_SUMMARY_JSON=FILE  also write the summary rows there (bench/versions.sh does)
//
// Under another node: scripts/with-node 24 npm run bench; every version in one
// table: npm run bench:versions (bench/versions.sh).
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alive,
  childEnv,
  wallMs,
  CLK_TCK,
  cmdline,
  cpuMsPerRun,
  cpuTicks,
  load,
  fmtBytes,
  fmtMiB,
  fmtMs,
  fmtX,
  measure,
  median,
  memOf,
  NODE,
  nodeCmd,
  plainCmd,
  quantile,
  REMOVED_ENV,
  ROOT,
  run,
  snapshotBuild,
  runOk,
  sleep,
  start,
  table,
  timingCells,
  TW,
  twCmd,
  until,
  within,
  type Cmd,
  type Mem,
} from './lib.js';
import { profile } from './profile.js';
import { handoff, thousand } from './queue.js';
import { eventsLatency, metricsOnHistory, pingOverhead } from './world.js';
import { NAMES, seedHistory, storeShape } from './seed.js';

const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) && n > 0 ? n : dflt;
};
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = num('BENCH_RUNS', QUICK ? 10 : 30);
const WARMUP = num('BENCH_WARMUP', QUICK ? 2 : 3);
const IDLE_S = num('BENCH_IDLE_S', QUICK ? 5 : 15);
const LATENCY_RUNS = num('BENCH_LATENCY_RUNS', QUICK ? 8 : 20);
const RUNNING = num('BENCH_RUNNING', 200);
const HISTORY = num('BENCH_HISTORY', 1_000_000);
const STARTUP_HISTORY = 100_000;
const QUEUED = num('BENCH_QUEUE', QUICK ? 200 : 1000);
const THROUGHPUT_BYTES = 100_000_000;
const THROUGHPUT_RUNS = QUICK ? 3 : 5;
const PARSE_BYTES = 100_000_000;
const SIGNAL_RUNS = QUICK ? 3 : 7;
/** tw's relay against C tee doing the same work: at least round 1's low figure. */
const TEE_TARGET = 0.4;
const ONLY = new Set((process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const want = (section: string): boolean => ONLY.size === 0 || ONLY.has(section);
const PROFILE = process.env.BENCH_PROFILE !== '0';

const DIR = mkdtempSync(join(tmpdir(), 'tw-bench-'));
const storeIn = (name: string): string => {
  mkdirSync(join(DIR, name), { recursive: true });
  return join(DIR, name, 'tw.db');
};

// ---------------------------------------------------------------- summary

interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  pass: boolean | null;
}
const summary: Row[] = [];
const record = (section: string, figure: string, value: string, target: string, pass: boolean | null): void => {
  summary.push({ section, figure, value, target, pass });
};
const verdict = (p: boolean | null): string => (p === null ? 'info' : p ? 'PASS' : 'MISS');

/** For a missed target: where one run of the command spends its time. */
function explain(cmd: Cmd): void {
  if (!PROFILE) return;
  console.log(`why ${cmd.label}? (BENCH_PROFILE=0 skips this)`);
  console.log(profile(cmd, join(DIR, 'profile')));
}

function heading(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 74 - title.length))}`);
}

/** Processes the bench started that must not outlive it (pids, checked by command line before any signal). */
const spawned = new Map<number, string>();
function cleanupProcesses(): void {
  for (const [pid, what] of spawned) {
    const cl = cmdline(pid);
    if (cl && cl.includes(what)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  spawned.clear();
}

// ---------------------------------------------------------------- 1. start-up (issue 3)

/** The empty store every "vs empty list" ratio uses; made by `tw list` itself. */
let emptyStore = '';
function ensureEmptyStore(): string {
  if (!emptyStore) {
    emptyStore = storeIn('empty');
    runOk(twCmd('create empty store', emptyStore, ['list']));
  }
  return emptyStore;
}

function startup(): void {
  heading('1. Start-up (issue 3)');
  const empty = ensureEmptyStore();
  const reserveStore = storeIn('reserve');
  runOk(twCmd('create reserve store', reserveStore, ['reserve']));
  const hist = storeIn('history-100k');
  runOk(twCmd('create 100k store', hist, ['list']));
  const seeded = seedHistory(hist, STARTUP_HISTORY);
  console.log(`seeded ${seeded.rows.toLocaleString('en')} terminal tasks in ${(seeded.ms / 1000).toFixed(1)} s`);

  const cmds: Cmd[] = [
    nodeCmd("node -e ''", ['-e', '']),
    twCmd('tw --version', null, ['--version']),
    twCmd('tw reserve', reserveStore, ['reserve']),
    twCmd('tw message', reserveStore, ['message', '1', 'copied 3 of 8 tables']),
    twCmd('tw list (empty store)', empty, ['list']),
    twCmd(`tw list (${STARTUP_HISTORY / 1000}k history)`, hist, ['list']),
  ];
  const t = measure(cmds, RUNS, WARMUP);
  const base = median(t.get("node -e ''")!);
  const targets: Record<string, number> = {
    'tw --version': 1.5,
    'tw reserve': 1.5,
    'tw message': 1.5,
    'tw list (empty store)': 1.5,
    [`tw list (${STARTUP_HISTORY / 1000}k history)`]: 2,
  };
  const rows = cmds.map((c) => {
    const xs = t.get(c.label)!;
    const ratio = median(xs) / base;
    const target = targets[c.label];
    const cpuRatio = cpuMsPerRun(c.label) / cpuMsPerRun("node -e ''");
    if (target !== undefined) record('start-up', `${c.label} / node`, `${fmtX(ratio)} (cpu ${fmtX(cpuRatio)})`, `<= ${target}x`, ratio <= target);
    return [c.label, ...timingCells(xs, c.label), fmtX(ratio), fmtX(cpuRatio), target === undefined ? 'baseline' : `<= ${target}x`];
  });
  console.log(table(['command', 'median', 'min', 'p90', 'n', 'cpu/run', 'vs node', 'cpu vs node', 'target'], rows));
  for (const c of cmds) {
    const target = targets[c.label];
    if (target !== undefined && median(t.get(c.label)!) / base > target) explain(c);
  }
}

// ---------------------------------------------------------------- 2. launch overhead (issue 4)

/** Median `tw launch -- true` of section 2, to separate throughput from start-up. */
let launchTrueMs: number | null = null;

function launchOverhead(): void {
  heading('2. Launch overhead (issue 4)');
  const store = storeIn('launch');
  runOk(twCmd('create launch store', store, ['list']));
  const cmds: Cmd[] = [
    plainCmd('true', 'true', []),
    plainCmd('timeout 10 true', 'timeout', ['10', 'true']),
    nodeCmd("node -e ''", ['-e', '']),
    twCmd('tw launch -- true', store, ['launch', '--', 'true']),
  ];
  const t = measure(cmds, RUNS, WARMUP);
  const m = (l: string): number => median(t.get(l)!);
  const overhead = m('tw launch -- true') - m('true');
  const ratio = overhead / m("node -e ''");
  console.log(table(['command', 'median', 'min', 'p90', 'n', 'cpu/run'], cmds.map((c) => [c.label, ...timingCells(t.get(c.label)!, c.label)])));
  console.log(`launch overhead = median(tw launch -- true) - median(true) = ${fmtMs(overhead)}`);
  console.log(`timeout(1) overhead = ${fmtMs(m('timeout 10 true') - m('true'))}; overhead / bare node = ${fmtX(ratio)} (target <= 1.8x)`);
  launchTrueMs = m('tw launch -- true');
  if (ratio > 1.8) explain(cmds[3]!);
  record('launch', 'launch overhead / node start', `${fmtX(ratio)} (${fmtMs(overhead)})`, '<= 1.8x', ratio <= 1.8);
}

// ---------------------------------------------------------------- 3 + 7. idle costs (issues 4 and 5)

interface IdleSample {
  cpuPct: number;
  memStart: Mem;
  memEnd: Mem;
}

/** CPU % of one core over `seconds` and memory at both ends, of a live pid. */
async function sampleIdle(pid: number, seconds: number): Promise<IdleSample> {
  const memStart = memOf(pid);
  const c0 = cpuTicks(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c1 = cpuTicks(pid);
  const elapsed = (performance.now() - t0) / 1000;
  const memEnd = memOf(pid);
  return { cpuPct: ((c1 - c0) / CLK_TCK / elapsed) * 100, memStart, memEnd };
}

const memText = (m: Mem): string => `Pss ${fmtMiB(m.pssKiB)}, RssAnon ${fmtMiB(m.rssAnonKiB)}, VmRSS ${fmtMiB(m.rssKiB)}`;

/** The launcher of a `sleep` whose feedback file the bench appends to once a second. */
async function idleLauncher(): Promise<IdleSample & { lines: number; heartbeats: number }> {
  const store = storeIn('idle-launch');
  const feedback = join(DIR, 'idle-launch', 'feedback.txt');
  writeFileSync(feedback, '');
  const sleepS = IDLE_S + 30;
  const launcher = start(twCmd('idle launcher', store, ['launch', '--name', 'idle', `--feedback=${feedback}`, '--', 'sleep', String(sleepS)]), 'ignore');
  const pid = launcher.child.pid!;
  spawned.set(pid, TW);
  let lines = 0;
  const writer = setInterval(() => appendFileSync(feedback, `[progress]${++lines}/1000\n[note]line ${lines}\n`), 1000);
  try {
    // Running, and past its start-up, before the window opens.
    await until('the idle task to run', () => {
      const r = run(twCmd('list', store, ['list', '--json']));
      const tasks = JSON.parse(r.stdout || '[]') as { state: string }[];
      return tasks.some((t) => t.state === 'running') ? true : undefined;
    }, 20_000);
    await sleep(1500);
    const hb0 = heartbeatOf(store);
    const s = await sampleIdle(pid, IDLE_S);
    const hb1 = heartbeatOf(store);
    return { ...s, lines, heartbeats: hb0 !== hb1 ? 1 : 0 };
  } finally {
    clearInterval(writer);
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    const end = await within(launcher.done, 20_000);
    if (end === null) throw new Error('the idle launcher did not end after SIGTERM');
    spawned.delete(pid);
  }
}

function heartbeatOf(store: string): string {
  const r = run(twCmd('list', store, ['list', '--json']));
  const tasks = JSON.parse(r.stdout || '[]') as { lastHeartbeatAt: string | null }[];
  return tasks[0]?.lastHeartbeatAt ?? '';
}

/** A `tw describe --block` waiting on a sleeping task. */
async function idleBlock(): Promise<IdleSample> {
  const store = storeIn('idle-block');
  const id = runOk(twCmd('detach', store, ['launch', '--detach', '--name', 'idle', '--', 'sleep', String(IDLE_S + 30)])).stdout.trim();
  const blocker = start(twCmd('block', store, ['describe', '--block', id]));
  const pid = blocker.child.pid!;
  spawned.set(pid, TW);
  try {
    await sleep(1500);
    if (!alive(pid)) throw new Error(`describe --block ended early: ${JSON.stringify(await blocker.done)}`);
    return await sampleIdle(pid, IDLE_S);
  } finally {
    runOk({ ...twCmd('cancel', store, ['cancel', '--grace', '2', id]), ok: [0, 1] });
    const end = await within(blocker.done, 20_000);
    if (end === null) process.kill(pid, 'SIGKILL');
    spawned.delete(pid);
  }
}

async function idle(): Promise<void> {
  heading(`3 + 7. Idle costs over ${IDLE_S} s (issues 4, 5), measured side by side on separate stores`);
  const [l, b] = await Promise.all([idleLauncher(), idleBlock()]);
  console.log(`CPU % is (utime+stime) from /proc/PID/stat over the window / wall time; ${CLK_TCK} ticks/s, so 1 tick = ${(100 / CLK_TCK / IDLE_S).toFixed(3)} % here.`);
  console.log(
    table(
      ['process', 'CPU % of a core', 'memory at start', 'memory at end'],
      [
        [`tw launch --feedback -- sleep (${l.lines} feedback writes, 1/s)`, l.cpuPct.toFixed(2), memText(l.memStart), memText(l.memEnd)],
        ['tw describe --block ID (on a sleep)', b.cpuPct.toFixed(2), memText(b.memStart), memText(b.memEnd)],
      ],
    ),
  );
  if (!l.heartbeats) console.log('note: the task\'s lastHeartbeatAt did not move during the window (feedback not picked up?)');
  // RssAnon is the process's own memory; Pss also moves when other processes
  // sharing node's pages start or end, which says nothing about this one.
  const g = l.memStart.rssAnonKiB !== null && l.memEnd.rssAnonKiB !== null ? l.memEnd.rssAnonKiB - l.memStart.rssAnonKiB : null;
  record('idle', `launcher CPU, sleep + feedback 1/s, ${IDLE_S} s`, `${l.cpuPct.toFixed(2)} %`, '< 1 %', l.cpuPct < 1);
  record('idle', 'launcher memory start -> end (RssAnon)', `${fmtMiB(l.memStart.rssAnonKiB)} -> ${fmtMiB(l.memEnd.rssAnonKiB)} (Pss ${fmtMiB(l.memStart.pssKiB)} -> ${fmtMiB(l.memEnd.pssKiB)})`, 'flat (< +1 MiB)', g === null ? null : g < 1024);
  record('idle', `describe --block CPU, ${IDLE_S} s`, `${b.cpuPct.toFixed(2)} %`, '< 1 %', b.cpuPct < 1);
}

// ---------------------------------------------------------------- 4. throughput (issue 4)

async function throughput(): Promise<void> {
  heading(`4. Throughput: ${THROUGHPUT_BYTES / 1e6} MB to stdout (issue 4)`);
  const store = storeIn('throughput');
  runOk(twCmd('create', store, ['list']));
  const logs = join(DIR, 'throughput', 'logs');
  const devnull = openSync('/dev/null', 'w');
  const n = String(THROUGHPUT_BYTES);
  const tw = twCmd('tw launch -- head', store, ['launch', '--', 'head', '-c', n, '/dev/zero']);
  const cat = plainCmd('head | cat', 'sh', ['-c', `head -c ${n} /dev/zero | cat > /dev/null`]);
  // For reference: the same work as tw's (pass through and save a copy) done by tee(1).
  const teeLog = join(DIR, 'throughput', 'tee.log');
  const tee = plainCmd('head | tee', 'sh', ['-c', `head -c ${n} /dev/zero | tee ${teeLog} > /dev/null`]);
  // The same work in the plainest node can do it: one blocking read, write, write loop, no event loop.
  const relay = `const fs=require('fs');const b=Buffer.allocUnsafe(1<<20);const log=fs.openSync(process.argv[1],'w');` +
    `for(;;){const n=fs.readSync(0,b,0,b.length,null);if(!n)break;fs.writeSync(log,b,0,n);fs.writeSync(1,b,0,n)}`;
  const nodeLoop: Cmd = { label: 'head | node loop', file: 'sh', args: ['-c', `head -c ${n} /dev/zero | "$0" -e "$1" ${teeLog} > /dev/null`, NODE, relay], env: tw.env };
  // And the log's own share: the bytes written to a new file by C, nothing passed on.
  const logOnly = plainCmd('head > file', 'sh', ['-c', `head -c ${n} /dev/zero | dd bs=64k of=${teeLog} status=none`]);
  // Through a shell pipe to a reader, as `tw launch ... | grep` is used.
  const twPiped: Cmd = { label: 'tw | cat', file: 'sh', args: ['-c', `"$0" "$1" launch -- head -c ${n} /dev/zero | cat > /dev/null`, NODE, TW], env: tw.env };
  const teePiped = plainCmd('head | tee | cat', 'sh', ['-c', `head -c ${n} /dev/zero | tee ${teeLog} | cat > /dev/null`]);
  const cmds = { tw, cat, tee, nodeLoop, logOnly, twPiped, teePiped };
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, [] as number[]])) as Record<keyof typeof cmds, number[]>;
  try {
    for (let i = 0; i < THROUGHPUT_RUNS + 1; i++) {
      for (const [k, cmd] of Object.entries(cmds)) {
        const r = runOk(cmd, { stdio: ['ignore', devnull, 'pipe'] });
        if (i > 0) times[k as keyof typeof cmds].push(r.ms);
        rmSync(logs, { recursive: true, force: true });
        rmSync(teeLog, { force: true });
      }
    }
  } finally {
    closeSync(devnull);
  }
  // One more run, sampled every 20 ms, for the launcher's peak memory.
  const r = start(tw, ['ignore', 'ignore', 'pipe']);
  let peakAnon = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      const m = memOf(r.child.pid!);
      peakAnon = Math.max(peakAnon, m.rssAnonKiB ?? 0);
      peakRss = Math.max(peakRss, m.rssKiB ?? 0);
    } catch {
      /* ended */
    }
  }, 20);
  const end = await r.done;
  clearInterval(sampler);
  rmSync(logs, { recursive: true, force: true });
  if (end.code !== 0) throw new Error(`tw launch -- head: exit ${end.code}: ${end.stderr}`);

  const mbps = (ms: number): number => THROUGHPUT_BYTES / 1e6 / (ms / 1000);
  const twMs = median(times.tw);
  const catMs = median(times.cat);
  const ratio = mbps(twMs) / mbps(catMs);
  const row = (what: string, k: keyof typeof cmds): string[] => [what, fmtMs(median(times[k])), mbps(median(times[k])).toFixed(0), fmtX(mbps(median(times[k])) / mbps(catMs)), String(times[k].length)];
  console.log(
    table(
      ['pipeline (the last stdout to /dev/null)', 'median wall', 'MB/s', 'vs cat', 'n'],
      [
        row('tw launch -- head -c 1e8 /dev/zero  (also saved to the task log)', 'tw'),
        row('sh -c "head -c 1e8 /dev/zero | cat"  (info: no log kept)', 'cat'),
        row('sh -c "head -c 1e8 /dev/zero | tee LOG"  (the baseline: the same work in C)', 'tee'),
        row('sh -c "head -c 1e8 /dev/zero | node -e LOOP LOG"  (info: the same work, node at its plainest)', 'nodeLoop'),
        row('sh -c "head -c 1e8 /dev/zero | dd bs=64k of=LOG"  (info: the log alone)', 'logOnly'),
        row('sh -c "tw launch -- head -c 1e8 /dev/zero | cat"  (info: to a reader)', 'twPiped'),
        row('sh -c "head -c 1e8 /dev/zero | tee LOG | cat"  (info: the same in C)', 'teePiped'),
      ],
    ),
  );
  const teeRatio = mbps(twMs) / mbps(median(times.tee));
  console.log(`tw / tee LOG throughput = ${fmtX(teeRatio)} (target >= ${TEE_TARGET}x, round 1's 0.42-0.61x kept); wall times include tw's start-up; launcher peak RssAnon ${fmtMiB(peakAnon)}, VmRSS ${fmtMiB(peakRss)}`);
  if (launchTrueMs !== null) {
    const net = twMs - launchTrueMs;
    console.log(`without tw's fixed cost (this run's median \`tw launch -- true\`, ${fmtMs(launchTrueMs)}): ${fmtMs(net)}, ${mbps(net).toFixed(0)} MB/s, ${fmtX(mbps(net) / mbps(catMs))} of cat, ${fmtX(mbps(net) / mbps(median(times.tee)))} of tee (info)`);
  }
  if (teeRatio < TEE_TARGET) {
    explain(tw);
    rmSync(logs, { recursive: true, force: true });
  }
  record('throughput', 'tw launch vs tee LOG (C, the same work), 100 MB', `${fmtX(teeRatio)} (${mbps(twMs).toFixed(0)} vs ${mbps(median(times.tee)).toFixed(0)} MB/s)`, `>= ${TEE_TARGET}x`, teeRatio >= TEE_TARGET);
  record('throughput', 'tw launch vs cat (no log), 100 MB', fmtX(ratio), 'info', null);
  record('throughput', 'tee LOG (C) vs cat, 100 MB', fmtX(mbps(median(times.tee)) / mbps(catMs)), 'info', null);
  record('throughput', 'a bare node read/write/write loop vs cat, 100 MB', fmtX(mbps(median(times.nodeLoop)) / mbps(catMs)), 'info', null);
  record('throughput', 'launcher peak RssAnon while piping', fmtMiB(peakAnon), 'bounded', null);
}

// ---------------------------------------------------------------- 8. feedback parsing (issue 13)

/** 100 MB of short feedback lines, made once. */
function bigFeedback(): string {
  const path = join(DIR, 'parse', 'big.txt');
  mkdirSync(join(DIR, 'parse'), { recursive: true });
  const fd = openSync(path, 'w');
  const block: string[] = [];
  for (let i = 0; i < 20_000; i++) block.push(i % 2 ? `[progress]${i % 100}/100\n` : `[step]copying table ${i}\n`);
  const chunk = Buffer.from(block.join(''));
  for (let written = 0; written < PARSE_BYTES; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  return path;
}

async function parsing(): Promise<void> {
  heading(`8. Feedback parsing: ${PARSE_BYTES / 1e6} MB of short lines (issue 13)`);
  const file = bigFeedback();
  const size = statSync(file).size;
  const cmds: Cmd[] = [plainCmd('wc -l FILE', 'wc', ['-l', file]), twCmd('tw parse FILE', null, ['parse', file])];
  const t = measure(cmds, Math.min(RUNS, 7), 1);
  const mbps = (label: string): number => size / 1e6 / (median(t.get(label)!) / 1000);
  console.log(table(['command', 'median', 'min', 'p90', 'n', 'cpu/run', 'MB/s'], cmds.map((c) => [c.label, ...timingCells(t.get(c.label)!, c.label), mbps(c.label).toFixed(0)])));
  record('parse', 'tw parse, 100 MB of short lines', `${mbps('tw parse FILE').toFixed(0)} MB/s (wc -l: ${mbps('wc -l FILE').toFixed(0)} MB/s)`, '>= 100 MB/s', mbps('tw parse FILE') >= 100);

  // A launcher whose child has just appended 100 MB to its feedback file: SIGINT, while it reads them.
  const store = storeIn('parse-signal');
  runOk(twCmd('create', store, ['list']));
  const samples: { kill: number; exit: number }[] = [];
  for (let i = 0; i < SIGNAL_RUNS; i++) {
    const done = join(DIR, 'parse', `appended-${i}`);
    const fb = join(DIR, 'parse', `fb-${i}.txt`);
    const launcher = start(twCmd('launch', store, ['launch', `--feedback=${fb}`, '--', 'sh', '-c', `cat "$0" >> "$TW_FEEDBACK"; echo $$ > "$1"; exec sleep 60`, file, done]), 'ignore');
    spawned.set(launcher.child.pid!, TW);
    const childPid = await until('the append done', () => {
      try {
        return Number(readFileSync(done, 'utf8')) || undefined;
      } catch {
        return undefined;
      }
    }, 30_000, 5);
    const t0 = performance.now();
    const t0Wall = wallMs();
    process.kill(launcher.child.pid!, 'SIGINT');
    await until('the child gone', () => (alive(childPid) ? undefined : true), 10_000, 1);
    const kill = performance.now() - t0;
    const end = await within(launcher.done, 30_000);
    if (end === null) throw new Error('the launcher did not end after SIGINT');
    samples.push({ kill, exit: end.endedAt - t0Wall });
    spawned.delete(launcher.child.pid!);
    rmSync(fb, { force: true });
  }
  const kills = samples.map((x) => x.kill);
  const exits = samples.map((x) => x.exit);
  console.log(`SIGINT -> child stopped, while the launcher reads the 100 MB it just appended: median ${fmtMs(median(kills))}, max ${fmtMs(quantile(kills, 1))} (${SIGNAL_RUNS} runs)`);
  console.log(`SIGINT -> launcher exit (after its last read of the whole file, for the final values): median ${fmtMs(median(exits))}`);
  record('parse', 'SIGINT to the launcher -> child stopped, reading 100 MB of feedback', fmtMs(median(kills)), '< 100 ms', median(kills) < 100);
  record('parse', 'SIGINT -> launcher exit, after the last read', fmtMs(median(exits)), 'info', null);
}

// ---------------------------------------------------------------- 5. describe --block latency (issue 5)

async function latency(): Promise<void> {
  heading(`5. describe --block notice latency, ${LATENCY_RUNS} runs (issue 5)`);
  const store = storeIn('latency');
  runOk(twCmd('create', store, ['list']));
  const samples: number[] = [];
  const lead: number[] = [];
  for (let i = 0; i < LATENCY_RUNS + 1; i++) {
    const marker = join(DIR, 'latency', `end-${i}`);
    // The child's last act is writing the wall clock in ns; its exit follows at once.
    const id = runOk(twCmd('detach', store, ['launch', '--detach', '--name', 'lat', '--', 'sh', '-c', `sleep 1; date +%s%N > ${marker}`])).stdout.trim();
    const blocker = start(twCmd('block', store, ['describe', '--block', id]));
    const end = await within(blocker.done, 15_000);
    if (end === null) throw new Error(`describe --block ${id} did not end`);
    if (end.code !== 0) throw new Error(`describe --block ${id}: exit ${end.code}: ${end.stderr}`);
    const childEnd = Number(BigInt(readFileSync(marker, 'utf8').trim())) / 1e6;
    if (i === 0) continue; // warm-up
    samples.push(end.endedAt - childEnd);
    lead.push(childEnd - end.startedAt);
  }
  const m = median(samples);
  console.log(`child exit -> describe --block exit: median ${fmtMs(m)}, min ${fmtMs(quantile(samples, 0))}, p90 ${fmtMs(quantile(samples, 0.9))}, max ${fmtMs(quantile(samples, 1))}`);
  console.log(`(the blocking command had been started ${fmtMs(quantile(lead, 0))} or more before the child's exit; the child's end is its own \`date +%s%N\`, the block's exit the bench's wall clock at 'exit')`);
  record('latency', 'describe --block notice latency (median)', fmtMs(m), '< 150 ms', m < 150);
}

// ---------------------------------------------------------------- 6. list with running tasks (issue 5)

interface ListedTask {
  id: number;
  state: string;
  pid: number | null;
  launcherPid: number | null;
}
const listJson = (store: string, args: string[] = []): ListedTask[] => JSON.parse(runOk(twCmd('list', store, ['list', '--json', ...args])).stdout || '[]') as ListedTask[];

async function busyList(): Promise<void> {
  heading(`6. tw list with ${RUNNING} running tasks (issue 5)`);
  const empty = ensureEmptyStore();
  const store = storeIn('busy');
  runOk(twCmd('create', store, ['list']));
  const t0 = performance.now();
  const BATCH = 8;
  let launched = 0;
  const launchedPids: number[] = [];
  try {
    while (launched < RUNNING) {
      const batch = Math.min(BATCH, RUNNING - launched);
      const ends = await Promise.all(
        Array.from({ length: batch }, () => start(twCmd('detach', store, ['launch', '--detach', '--name', 'busy', '--', 'sleep', '600'])).done),
      );
      for (const e of ends) if (e.code !== 0) throw new Error(`launch --detach: exit ${e.code}: ${e.stderr}`);
      launched += batch;
      // Let the detached launchers get going before piling on more (2 cores).
      if (launched % 40 === 0) {
        await until(`${launched} tasks running`, () => (listJson(store, ['--state', 'running']).length >= launched - BATCH ? true : undefined), 120_000, 250);
      }
    }
    const tasks = await until(`${RUNNING} tasks running`, () => {
      const t = listJson(store, ['--state', 'running']);
      return t.length >= RUNNING && t.every((x) => x.pid !== null) ? t : undefined;
    }, 180_000, 500);
    for (const t of tasks) if (t.launcherPid) spawned.set(t.launcherPid, TW);
    for (const t of tasks) if (t.launcherPid) launchedPids.push(t.launcherPid);
    console.log(`launched ${RUNNING} detached \`sleep 600\` tasks and saw them all running in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(1000);

    // --json (info) skips the table: it tells the table's cost from the /proc reads and the store's.
    const cmds = [
      twCmd('tw list (empty store)', empty, ['list']),
      twCmd(`tw list (${RUNNING} running)`, store, ['list']),
      twCmd(`tw list --json (${RUNNING} running)`, store, ['list', '--json']),
    ];
    const t = measure(cmds, RUNS, WARMUP);
    const base = median(t.get(cmds[0]!.label)!);
    const busy = median(t.get(cmds[1]!.label)!);
    console.log(
      table(
        ['command', 'median', 'min', 'p90', 'n', 'cpu/run', 'vs empty list', 'cpu vs empty'],
        cmds.map((c) => [c.label, ...timingCells(t.get(c.label)!, c.label), fmtX(median(t.get(c.label)!) / base), fmtX(cpuMsPerRun(c.label) / cpuMsPerRun(cmds[0]!.label))]),
      ),
    );
    const rows = runOk(cmds[1]!).stdout.trim().split('\n').length - 1;
    console.log(`(the busy list printed ${rows} task rows; the --json row is for information, no target)`);
    const cpu = cpuMsPerRun(cmds[1]!.label) / cpuMsPerRun(cmds[0]!.label);
    if (busy / base >= 3) explain(cmds[1]!);
    record('busy list', `tw list, ${RUNNING} running / empty list`, `${fmtX(busy / base)} (cpu ${fmtX(cpu)})`, '< 3x', busy / base < 3);
  } finally {
    // Cancel everything, in chunks; then make sure no launcher or sleep is left.
    const t1 = performance.now();
    const active = listJson(store);
    const ids = active.map((x) => String(x.id));
    const pids = active.flatMap((x) => [x.pid, x.launcherPid]).filter((p): p is number => p !== null);
    for (let i = 0; i < ids.length; i += 50) {
      run({ ...twCmd('cancel', store, ['cancel', '--grace', '2', ...ids.slice(i, i + 50)]), ok: [0, 1] });
    }
    await until('every busy task to end', () => (pids.every((p) => !alive(p) || !/sleep|tw\.cjs/.test(cmdline(p))) ? true : undefined), 60_000, 250).catch(() => {
      for (const p of pids) if (alive(p) && /sleep 600|tw\.cjs/.test(cmdline(p))) process.kill(p, 'SIGKILL');
    });
    for (const p of launchedPids) spawned.delete(p);
    console.log(`cancelled ${ids.length} tasks in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
}

// ---------------------------------------------------------------- 8. history (issue 6)

function sizeOf(db: string): { main: number; wal: number } {
  const size = (p: string): number => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return { main: size(db), wal: size(`${db}-wal`) };
}

async function history(): Promise<void> {
  heading(`8. History with ${HISTORY.toLocaleString('en')} terminal tasks (issue 6)`);
  const empty = ensureEmptyStore();
  const store = storeIn('history');
  runOk(twCmd('create', store, ['list']));
  const seeded = seedHistory(store, HISTORY);
  const X = NAMES[0];
  console.log(`seeded ${seeded.rows.toLocaleString('en')} tasks over ${NAMES.length} names (${X}: ${seeded.perName[X]!.toLocaleString('en')}) in ${(seeded.ms / 1000).toFixed(1)} s`);

  const cmds: Cmd[] = [
    twCmd('tw list (empty store)', empty, ['list']),
    twCmd('tw history --limit 20', store, ['history', '--limit', '20']),
    twCmd(`tw history --name ${X} --limit 20`, store, ['history', '--name', X, '--limit', '20']),
    twCmd(`tw stats --name ${X}`, store, ['stats', '--name', X]),
    twCmd('tw list (1M history)', store, ['list']),
  ];
  const runs = Math.max(5, Math.round(RUNS / 2));
  const t = measure(cmds, runs, WARMUP);
  const base = median(t.get(cmds[0]!.label)!);
  console.log(
    table(
      ['command', 'median', 'min', 'p90', 'n', 'cpu/run', 'vs empty list', 'cpu vs empty', 'target'],
      cmds.map((c, i) => {
        const r = median(t.get(c.label)!) / base;
        const target = i === 0 ? 'baseline' : i === 4 ? 'info' : '< 3x';
        const cpu = cpuMsPerRun(c.label) / cpuMsPerRun(cmds[0]!.label);
        if (i > 0 && i < 4) record('history', `${c.label} / empty list`, `${fmtX(r)} (cpu ${fmtX(cpu)})`, '< 3x', r < 3);
        return [c.label, ...timingCells(t.get(c.label)!, c.label), fmtX(r), fmtX(cpu), target];
      }),
    ),
  );

  cmds.forEach((c, i) => {
    if (i > 0 && i < 4 && median(t.get(c.label)!) / base >= 3) explain(c);
  });

  // Prune, with 20 launches racing it.
  const before = sizeOf(store);
  const shapeBefore = storeShape(store);
  const prune = start(twCmd('prune', store, ['history', 'prune', '--keep', '1000']));
  await sleep(150);
  const launches = Array.from({ length: 20 }, () => start(twCmd('racing launch', store, ['launch', '--name', 'racer', '--', 'true'])).done);
  const pruned = await within(prune.done, 300_000);
  const ends = await Promise.all(launches);
  if (pruned === null) throw new Error('prune did not end within 5 minutes');
  const pruneMs = pruned.endedAt - pruned.startedAt;
  const failed = ends.filter((e) => e.code !== 0);
  const lockish = ends.filter((e) => /lock|busy/i.test(e.stderr));
  const overlapped = ends.filter((e) => e.startedAt < pruned.endedAt).length;
  const launchMs = ends.map((e) => e.endedAt - e.startedAt);
  const after = sizeOf(store);
  const shapeAfter = storeShape(store, 'racer');
  runOk(twCmd('launch after prune', store, ['launch', '--name', 'after', '--', 'true']));
  const later = sizeOf(store);
  const shapeLater = storeShape(store);
  console.log(`tw history prune --keep 1000: exit ${pruned.code}, "${pruned.stdout.trim()}"${pruned.stderr.trim() ? `, stderr: ${pruned.stderr.trim()}` : ''}, ${fmtMs(pruneMs)}`);
  console.log(
    `20 racing \`tw launch -- true\`: ${20 - failed.length}/20 exit 0, ${lockish.length} with lock/busy on stderr, ${overlapped}/20 started before the prune ended; ` +
      `their wall time median ${fmtMs(median(launchMs))}, max ${fmtMs(quantile(launchMs, 1))}`,
  );
  console.log(`racing launches recorded as succeeded in the store after the prune: ${shapeAfter.named}/20 (they ended last, so --keep 1000 keeps them)`);
  for (const e of failed.slice(0, 3)) console.log(`  failed launch: exit ${e.code}: ${e.stderr.trim().slice(0, 300)}`);
  const shape = (s: ReturnType<typeof storeShape>, z: { main: number; wal: number }): string =>
    `file ${fmtBytes(z.main)} + wal ${fmtBytes(z.wal)}; ${s.tasks.toLocaleString('en')} tasks (${s.terminal.toLocaleString('en')} terminal); ${s.pages.toLocaleString('en')} pages, ${s.freePages.toLocaleString('en')} free`;
  console.log(table(['store', 'size'], [['before prune', shape(shapeBefore, before)], ['after prune', shape(shapeAfter, after)], ['after one more launch', shape(shapeLater, later)]]));
  record('history', 'history prune --keep 1000 (1M tasks)', fmtMs(pruneMs), 'time only', null);
  record('history', 'store size before -> after prune', `${fmtBytes(before.main + before.wal)} -> ${fmtBytes(after.main + after.wal)}`, 'shrinks', after.main + after.wal < before.main + before.wal);
  record(
    'history',
    '20 launches racing prune: exit 0, no lock/busy',
    `${20 - failed.length}/20 ok, ${lockish.length} lock msgs, ${overlapped}/20 overlapped`,
    '20/20, 0',
    failed.length === 0 && lockish.length === 0 && pruned.code === 0,
  );
}

// ---------------------------------------------------------------- 10. the queue (issue 14)

async function queue(): Promise<void> {
  heading(`10. The queue: handoff, ${QUEUED} tasks queued (issue 14)`);
  const b = { dir: DIR, storeIn, record, handoffRuns: LATENCY_RUNS, queued: QUEUED, runs: RUNS, warmup: WARMUP };
  await handoff(b);
  await thousand(b);
}

// ---------------------------------------------------------------- 11. telling the world (issue 16)

async function world(): Promise<void> {
  heading('11. Telling the world: events -f, metrics, pings (issue 16)');
  const b = { storeIn, record, latencyRuns: LATENCY_RUNS, history: HISTORY, runs: RUNS, warmup: WARMUP };
  await eventsLatency(b);
  metricsOnHistory(b);
  await pingOverhead(b);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`tw benchmark  (${QUICK ? 'quick' : 'full'} mode)  node ${process.version}  ${new Date().toISOString()}`);
  console.log(`runs ${RUNS} after ${WARMUP} warm-ups per timed command (interleaved); idle window ${IDLE_S} s; temp folder ${DIR}`);
  console.log(`${load()} at the start: wall times are only as quiet as the machine; cpu/run (user+sys of the child) barely depends on other load.`);
  const git = (args: string[]): string => String(spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout ?? '').trim();
  const dirty = git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length;
  console.log(`${await snapshotBuild(join(DIR, 'app'))}; git ${git(['rev-parse', '--short', 'HEAD']) || '?'}${dirty ? ` with ${dirty} changed file(s) in src/` : ''}`);
  console.log(`tw is run as \`${process.execPath} ${TW} ...\`, the same node as the baseline; stdout/stderr are pipes.`);
  for (const [k, why] of Object.entries(REMOVED_ENV)) {
    console.log(`${k} ${process.env[k] === undefined ? 'not set' : `was set (${process.env[k]})`}: removed from every timed child's environment (${why}).`);
  }
  if (childEnv().NODE_EXTRA_CA_CERTS !== undefined) throw new Error('NODE_EXTRA_CA_CERTS still set in children');

  const sections: [string, () => void | Promise<void>][] = [
    ['startup', startup],
    ['launch', launchOverhead],
    ['idle', idle],
    ['throughput', throughput],
    ['latency', latency],
    ['busylist', busyList],
    ['history', history],
    ['parse', parsing],
    ['queue', queue],
    ['world', world],
  ];
  let failures = 0;
  for (const [name, fn] of sections) {
    if (!want(name)) continue;
    try {
      await fn();
    } catch (e) {
      failures++;
      console.log(`!! section ${name} failed: ${(e as Error).stack ?? String(e)}`);
      record(name, 'section', 'ERROR', '-', false);
    }
  }

  heading('Summary');
  console.log(table(['section', 'figure', 'value', 'target', 'result'], summary.map((r) => [r.section, r.figure, r.value, r.target, verdict(r.pass)])));
  const misses = summary.filter((r) => r.pass === false).length;
  if (process.env.BENCH_SUMMARY_JSON) writeFileSync(process.env.BENCH_SUMMARY_JSON, JSON.stringify({ node: process.version, rows: summary }));
  console.log(`\n${load()} at the end.`);
  if (failures) process.exitCode = 1; // a broken bench, not a missed target
  console.log(`${summary.filter((r) => r.pass === true).length} PASS, ${misses} MISS${failures ? `, ${failures} section(s) failed` : ''}; total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const cleanupDir = (): void => {
  if (process.env.BENCH_KEEP === '1') console.log(`kept ${DIR}`);
  else rmSync(DIR, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanupProcesses();
  cleanupDir();
  process.exit(130);
});
try {
  await main();
} finally {
  cleanupProcesses();
  cleanupDir();
}
