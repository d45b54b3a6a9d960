// `npm run stress`: the torture scenarios of test/torture.test.ts at full
// scale, printing their figures. Against a private copy of the build (other
// engineers rebuild dist/ meanwhile).
//   1. load: 200 `tw launch` at once beside 20 processes looping
//      list/describe --json and a `history prune --keep 5` loop;
//   2. faults: 200 launchers killed -9 at random moments of their life, and
//      launchers killed in the window between the child's spawn and its
//      recorded start;
//   3. bad input: the feedback reader fuzzed against the whole-file parse,
//      bad ids, bad --info, bad --feedback paths, broken store files;
//   2b. races: a reader that never reads, cancel and followers against
//      prune, cancel against a natural end, 20 of each (5 when quick);
//   4. long life: a task appending to its feedback file 100 times a second for
//      BENCH_LIFE_S seconds (default 600), the launcher's RSS, CPU and bytes
//      read sampled every STRESS_SAMPLE_S seconds (default 10).
// STRESS_QUICK=1: about a minute (40 launches, 4 readers, 30 kills, 30 s of
// long life sampled every 3 s). Exits 1 if any check failed.
import { mkdtempSync, readFileSync, rmSync, statSync, openSync, readSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openKept } from '../src/store/statements.js';
import fc from 'fast-check';
import { CLK_TCK, cpuTicks, load, memOf, snapshotBuild } from './lib.js';

const QUICK = process.env.STRESS_QUICK === '1';
const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const scale = {
  launches: QUICK ? 40 : 200,
  readers: QUICK ? 4 : 20,
  kills: QUICK ? 30 : 200,
  killConcurrency: QUICK ? 4 : 8,
  windows: QUICK ? 2 : 10,
  races: QUICK ? 5 : 20,
  fuzzRuns: QUICK ? 200 : 2000,
  lifeS: num('BENCH_LIFE_S', QUICK ? 30 : 600),
  sampleS: num('STRESS_SAMPLE_S', QUICK ? 3 : 10),
  rate: 100,
};
const COMMAND = `${QUICK ? 'STRESS_QUICK=1 ' : ''}${process.env.BENCH_LIFE_S ? `BENCH_LIFE_S=${process.env.BENCH_LIFE_S} ` : ''}npm run stress`;

const work = mkdtempSync(join(tmpdir(), 'tw-stress-'));
const built = await snapshotBuild(join(work, 'build'));
process.env.TW_TEST_BIN = join(work, 'build', 'bin', 'tw.cjs');
// Loaded only now: the helpers read TW_TEST_BIN when first imported.
const H = await import('../test/helpers.js');
const T = await import('../test/torture-helpers.js');
const { parseBuffer } = await import('../src/feedback/parser.js');
const { parseProgress } = await import('../src/feedback/progress.js');

const t0 = Date.now();
const failures: string[] = [];
const checks: { what: string; count: string; ok: boolean }[] = [];
const check = (what: string, count: string, violations: string[]): void => {
  checks.push({ what, count, ok: violations.length === 0 });
  for (const v of violations.slice(0, 15)) failures.push(`${what}: ${v}`);
  if (violations.length > 15) failures.push(`${what}: ... and ${violations.length - 15} more`);
};
const say = (text = ''): void => void process.stdout.write(`${text}\n`);
const section = (title: string): void => say(`\n== ${title}`);
const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

say(`tw stress (${COMMAND}): ${built}`);
say(`machine: ${load()}`);
say(`scale: ${JSON.stringify(scale)}`);

// ------------------------------------------------------------------ 1. load
let tasksLaunched = 0;
let faultsInjected = 0;
let inputsTried = 0;
let feedbackAppends = 0;
{
  section(`load: ${scale.launches} launches at once, ${scale.readers} readers looping list/describe --json, a prune --keep 5 loop`);
  const s = new H.Sandbox();
  try {
    const idsDir = join(s.dir, 'ids');
    mkdirSync(idsDir);
    const r = await T.runLoad(s, { launches: scale.launches, readers: scale.readers, pruneKeep: 5, messageEvery: 20, idsDir, node: H.NODE, bin: H.BIN });
    tasksLaunched += r.launched;
    say(`tasks launched ${r.launched} in ${s1(r.wallMs)}; reader calls ${r.readerCalls}, JSON outputs parsed ${r.jsonParsed}; prune runs ${r.pruneRuns}, tasks pruned ${r.pruned}`);
    say(`ends recorded exactly once ${r.endsChecked}/${r.launched}; ids unique ${r.idsUnique}/${r.launched}; violations ${r.violations.length}; torn describe snapshots ${r.torn.length}`);
    check('load: every end recorded exactly once, ids unique, no lock error, every output parses', `${r.endsChecked}/${r.launched} ends, ${r.jsonParsed} JSON outputs`, r.violations);
    check('load: no reader saw half a write (describe --json)', `${r.readerCalls} reader outputs`, r.torn);
  } finally {
    await s.cleanup();
  }
}

// ------------------------------------------------------------------ 2. faults
{
  section(`faults: ${scale.kills} launchers killed -9 at random moments (${scale.killConcurrency} at a time)`);
  const s = new H.Sandbox();
  const tag = `tw-stress-fault-${process.pid}`;
  try {
    const r = await T.runFaults(s, { rounds: scale.kills, concurrency: scale.killConcurrency, tag });
    tasksLaunched += r.rounds;
    faultsInjected += r.killed;
    say(`launches ${r.rounds}, launchers killed -9 ${r.killed} in ${s1(r.wallMs)}; by mode ${JSON.stringify(r.byMode)}`);
    say(`afterwards (one tw list): ${JSON.stringify(r.outcomes)}`);
    say(`unsupervised then cancelled ${r.cancelledUnsupervised}; leftover children killed ${r.leftoversKilled}; violations ${r.violations.length}`);
    check('faults: every task ended, lost (child gone) or unsupervised (child alive)', `${r.rounds - (r.outcomes['killed before its task was recorded'] ?? 0)} tasks`, r.violations);
  } finally {
    T.killChildrenWith(tag);
    await s.cleanup();
  }

  section(`faults: ${scale.windows} launchers killed -9 between their child's spawn and the opening of its gate`);
  const w = new H.Sandbox();
  const wtag = `tw-stress-window-${process.pid}`;
  try {
    const violations: string[] = [];
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < scale.windows; i++) {
      const r = await T.runSpawnWindow(w, `${wtag}-${i}`, i % 2 ? 'gate' : 'spawn');
      tasksLaunched++;
      faultsInjected++;
      const k = `${r.task?.state ?? 'none'}${r.childRuns ? ' (child running)' : ' (child gone)'}`;
      outcomes[k] = (outcomes[k] ?? 0) + 1;
      if (r.violation) violations.push(r.violation);
      T.killChildrenWith(`${wtag}-${i}`);
    }
    say(`outcomes: ${JSON.stringify(outcomes)}; violations ${violations.length}`);
    check('faults: the command never ran untracked; a recorded task ended lost', `${scale.windows} kills between spawn and gate`, violations);
  } finally {
    T.killChildrenWith(wtag);
    await w.cleanup();
  }
}

// ------------------------------------------------------------------ 2b. races (issue 13: 1, 3, 5, 10)
{
  const n = scale.races;
  section(`races: ${n} of each: a reader that never reads, cancel against prune, followers against prune, cancel against a natural end`);
  const s = new H.Sandbox();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const listAll = async () => JSON.parse(await s.ok(['list', '--all', '--json'])) as { id: number; state: string; exitCode: number | null; signal: string | null }[];
  const oneLine = (stderr: string): boolean => H.oneLineError(stderr) === null;
  try {
    // 1. `tw launch --timeout 1s -- yes | sleep 20`: the end is on record while the reader still holds the launcher.
    const stalled: string[] = [];
    const ends: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = (await listAll()).length;
      const pipe = s.startShell('"$0" "$1" launch --timeout 1s --grace 1s -- yes | sleep 20', [H.NODE, H.BIN]);
      const t = Date.now();
      try {
        await H.until(async () => (await listAll()).length > before && (await listAll()).every((x) => x.state !== 'running'), { timeoutMs: 10_000, everyMs: 50, what: 'the end on record' });
        ends.push(Date.now() - t);
      } catch (e) {
        stalled.push((e as Error).message);
      }
      process.kill(-pipe.pid!, 'SIGKILL');
    }
    tasksLaunched += n;
    ends.sort((a, b) => a - b);
    say(`1. stalled reader: end on record in ${ends.length}/${n} runs, median ${ends[Math.floor(ends.length / 2)] ?? '-'} ms after the launch (timeout 1 s)`);
    check('races 1: the end is recorded when the child ends, whatever the reader does', `${ends.length}/${n}`, stalled);

    // 3. cancel of an ended task while a prune deletes it: exit 1 or 4 with one line, never a crash.
    const crashes: string[] = [];
    const codes: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const id = Number((await s.ok(['launch', '--detach', '--', 'true'])).trim());
      await H.until(async () => (await listAll()).find((x) => x.id === id && x.state === 'succeeded'), { what: 'ended' });
      const [cancel] = await Promise.all([s.run(['cancel', String(id)]), sleep(Math.random() * 20).then(() => s.run(['history', 'prune', '--keep', '0']))]);
      codes[String(cancel.code)] = (codes[String(cancel.code)] ?? 0) + 1;
      if (![1, 4].includes(cancel.code ?? -1) || !oneLine(cancel.stderr)) crashes.push(`exit ${cancel.code}: ${cancel.stderr.trim()}`);
    }
    tasksLaunched += n;
    say(`3. cancel against prune: exit codes ${JSON.stringify(codes)}`);
    check('races 3: cancel racing a prune ends with a clear outcome', `${n} races`, crashes);

    // 5. describe --block and logs -f on tasks a prune deletes: they finish, with every line the log had.
    const hung: string[] = [];
    let linesKept = 0;
    for (let i = 0; i < n; i++) {
      const id = Number((await s.ok(['launch', '--detach', '--', 'sh', '-c', 'echo one; sleep 0.3; echo two'])).trim());
      const follow = s.run(['logs', '-f', String(id)], { timeoutMs: 15_000 });
      const block = s.run(['describe', '--block', String(id)], { timeoutMs: 15_000 });
      await H.until(async () => (await listAll()).find((x) => x.id === id && x.state === 'succeeded'), { what: 'ended' });
      await s.run(['history', 'prune', '--keep', '0']);
      try {
        const [f, b] = await Promise.all([follow, block]);
        // A follower that came after the prune finds no task: exit 4, one line, nothing to print.
        const late = f.code === 4 && f.stdout === '' && /^tw: no task \d+$/m.test(f.stderr);
        if (f.stdout === 'one\ntwo\n') linesKept++;
        else if (!late) hung.push(`logs -f printed ${JSON.stringify(f.stdout)}: ${f.stderr.trim()}`);
        if (![0, 4].includes(f.code ?? -1)) hung.push(`logs -f exit ${f.code}: ${f.stderr.trim()}`);
        if (![0, 1].includes(b.code ?? -1)) hung.push(`describe --block exit ${b.code}: ${b.stderr.trim()}`);
      } catch (e) {
        hung.push((e as Error).message);
      }
    }
    tasksLaunched += n;
    say(`5. followers against prune: logs -f printed every line ${linesKept}/${n}; problems ${hung.length}`);
    check('races 5: followers finish when what they follow is pruned', `${n} races`, hung);

    // 10. cancel fired around a natural exit 0: recorded succeeded, or cancelled by a signal, never cancelled with exit 0.
    const wrong: string[] = [];
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const id = Number((await s.ok(['launch', '--detach', '--', 'sleep', '0.5'])).trim());
      await H.until(async () => (await listAll()).find((x) => x.id === id && x.state === 'running'), { what: 'running' });
      await sleep(Math.random() * 700); // before, around or after the natural end
      await s.run(['cancel', '--grace', '1s', String(id)]);
      const task = await H.until(async () => (await listAll()).find((x) => x.id === id && x.state !== 'running'), { what: 'ended' });
      const k = `${task.state} ${task.signal ?? task.exitCode}`;
      outcomes[k] = (outcomes[k] ?? 0) + 1;
      if (task.state === 'cancelled' && task.exitCode === 0) wrong.push(`task ${id}: cancelled with exit code 0`);
    }
    tasksLaunched += n;
    say(`10. cancel around a natural end: ${JSON.stringify(outcomes)}`);
    check('races 10: a cancel never overwrites a natural end that came first', `${n} races`, wrong);
  } finally {
    await s.cleanup();
  }
}

// ------------------------------------------------------------------ 3. bad input
{
  section('bad input');
  const dir = mkdtempSync(join(tmpdir(), 'tw-stress-reader-'));
  try {
    for (const [label, opts] of [
      ['appends, replacements, removals, shrinking rewrites', { rewrites: false, replaces: true }],
      ['in-place rewrites as long as what was read (printf > file)', { rewrites: true, replaces: false }],
    ] as const) {
      const started = Date.now();
      const details = fc.check(fc.property(T.readerOps(opts), (steps) => T.playReader(dir, steps)), { numRuns: scale.fuzzRuns });
      inputsTried += details.numRuns;
      const steps = details.failed ? JSON.stringify(details.counterexample).slice(0, 300) : '';
      say(`reader fuzz, ${label}: ${details.numRuns} sequences, ${details.failed ? `FAILED, counterexample ${steps}` : 'all held the whole-file parse'} (${s1(Date.now() - started)})`);
      check(`bad input: feedback reader vs whole-file parse (${label})`, `${details.numRuns} sequences`, details.failed ? [`counterexample ${steps}: ${String(details.errorInstance ?? '').split('\n')[0]}`] : []);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const s = new H.Sandbox();
  try {
    await s.ok(['reserve']);
    const ids = await T.runBadIds(s, 4);
    const info = await T.runBadInfo(s);
    inputsTried += ids.tried + info.tried;
    say(`bad ids: ${ids.tried} invocations, violations ${ids.violations.length}; --info without '=': ${info.tried}, violations ${info.violations.length}`);
    check('bad input: bad ids exit 2 (launch 125), one line, nothing run', `${ids.tried} invocations`, ids.violations);
    check("bad input: --info without '=' exits 2 (launch 125)", `${info.tried} invocations`, info.violations);
    const fb: string[] = [];
    for (const [what, make] of T.BAD_FEEDBACK_PATHS) {
      fb.push(...(await T.runBadFeedbackPath(s, what, make)));
      inputsTried++;
      tasksLaunched++;
    }
    say(`bad --feedback paths: ${T.BAD_FEEDBACK_PATHS.length} (${T.BAD_FEEDBACK_PATHS.map(([w]) => w).join(', ')}), violations ${fb.length}`);
    check('bad input: a --feedback path that is no file still runs the child and records its end', `${T.BAD_FEEDBACK_PATHS.length} paths`, fb);
  } finally {
    await s.cleanup();
  }

  const st = new H.Sandbox();
  try {
    const good = await T.makeRealStore(st);
    tasksLaunched += 4;
    const r = await T.runStoreVariants(st, good, 3);
    inputsTried += r.tried;
    say(`broken store files: ${T.storeVariants(good).length} kinds, ${r.tried} invocations, violations ${r.violations.length}`);
    for (const n of r.notes) say(`  ${n}`);
    check('bad input: broken store files give one line and exit 3, or work', `${r.tried} invocations`, r.violations);
  } finally {
    await st.cleanup();
  }
}

// ------------------------------------------------------------------ 4. long life
{
  section(`long life: feedback appended ${scale.rate} times a second for ${scale.lifeS} s, sampled every ${scale.sampleS} s`);
  const s = new H.Sandbox();
  try {
    await s.ok(['list']);
    T.installAudit(s.db);
    const file = join(s.dir, 'long-life.feedback');
    const launcher = s.start(['launch', '--name', 'long-life', `--feedback=${file}`, '--timeout', '60', '--', H.NODE, H.fixture('torture-appender.mjs'), String(scale.rate), String(scale.lifeS)]);
    tasksLaunched++;
    const pid = launcher.pid!;
    const row = (): { id: number; state: string; feedback: string | null; progress: string | null; ignored_lines: number } | undefined => {
      const db = openKept(s.db, { readonly: true, timeout: 30_000 });
      try {
        return db.prepare(`SELECT id, state, feedback, progress, ignored_lines FROM tasks WHERE name = 'long-life'`).get() as never;
      } finally {
        db.close();
      }
    };
    await H.until(() => row()?.state === 'running', { what: 'the long-life task to run', timeoutMs: 30_000 });
    const rchar = (): number => Number(/^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
    const lastN = (): number => {
      let fd: number | null = null;
      try {
        fd = openSync(file, 'r');
        const size = statSync(file).size;
        const buf = Buffer.alloc(Math.min(size, 8192));
        readSync(fd, buf, 0, buf.length, size - buf.length);
        const all = [...buf.toString('latin1').matchAll(/\[n\](\d+)\n/g)];
        return all.length ? Number(all[all.length - 1]![1]) : 0;
      } catch {
        return 0;
      } finally {
        if (fd !== null) closeSync(fd);
      }
    };
    const storeN = (): number => Number((JSON.parse(row()?.feedback ?? '{}') as Record<string, string>).n ?? 0);
    interface Sample { at: number; rssKiB: number; anonKiB: number; ticks: number; rchar: number; size: number; fileN: number; storeN: number }
    const take = (): Sample | null => {
      try {
        const mem = memOf(pid);
        return { at: Date.now(), rssKiB: mem.rssKiB ?? NaN, anonKiB: mem.rssAnonKiB ?? NaN, ticks: cpuTicks(pid), rchar: rchar(), size: statSync(file).size, fileN: lastN(), storeN: storeN() };
      } catch {
        return null;
      }
    };
    const samples: Sample[] = [];
    const first = take();
    if (first) samples.push(first);
    const endAt = Date.now() + scale.lifeS * 1000;
    while (Date.now() < endAt - 500 && launcher.exitCode === null) {
      await T.sleep(Math.min(scale.sampleS * 1000, Math.max(0, endAt - 500 - Date.now())));
      const x = launcher.exitCode === null ? take() : null;
      if (x) samples.push(x);
    }
    const end = await launcher.ended;
    const lifeViolations: string[] = [];
    if (end.code !== 0) lifeViolations.push(`the launcher exited ${end.code}: ${launcher.output.stderr.slice(0, 300)}`);

    say('  t(s)   RSS MiB  RssAnon MiB  CPU%   read KiB/s  file MiB  lines behind');
    const rows: { cpu: number; readRate: number; anon: number }[] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1]!;
      const b = samples[i]!;
      const dt = (b.at - a.at) / 1000;
      const cpu = ((b.ticks - a.ticks) / CLK_TCK / dt) * 100;
      const readRate = (b.rchar - a.rchar) / 1024 / dt;
      rows.push({ cpu, readRate, anon: b.anonKiB });
      say(
        `  ${((b.at - samples[0]!.at) / 1000).toFixed(0).padStart(4)}   ${(b.rssKiB / 1024).toFixed(1).padStart(7)}  ${(b.anonKiB / 1024).toFixed(1).padStart(11)}  ${cpu.toFixed(1).padStart(4)}   ${readRate.toFixed(1).padStart(10)}  ${(b.size / 1048576).toFixed(2).padStart(8)}  ${String(b.fileN - b.storeN).padStart(12)}`,
      );
      if (b.fileN - b.storeN > scale.rate * 3) lifeViolations.push(`at ${((b.at - samples[0]!.at) / 1000).toFixed(0)} s the store's feedback was ${b.fileN - b.storeN} appends behind the file`);
    }
    // Flat: the last third against the first third (after the first interval, which includes the start).
    const third = Math.max(1, Math.floor(rows.length / 3));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const early = rows.slice(0, third);
    const late = rows.slice(-third);
    const anonGrowthMiB = (mean(late.map((r) => r.anon)) - mean(early.map((r) => r.anon))) / 1024;
    const cpuEarly = mean(early.map((r) => r.cpu));
    const cpuLate = mean(late.map((r) => r.cpu));
    const readEarly = mean(early.map((r) => r.readRate));
    const readLate = mean(late.map((r) => r.readRate));
    if (rows.length >= 3) {
      if (anonGrowthMiB > 8) lifeViolations.push(`RssAnon grew ${anonGrowthMiB.toFixed(1)} MiB from the first third to the last`);
      if (cpuLate > cpuEarly * 1.5 + 2) lifeViolations.push(`CPU grew from ${cpuEarly.toFixed(1)}% to ${cpuLate.toFixed(1)}%`);
      if (readLate > readEarly * 1.5 + 64) lifeViolations.push(`bytes read per second grew from ${readEarly.toFixed(0)} to ${readLate.toFixed(0)} KiB/s: the reader re-reads what it parsed`);
    } else lifeViolations.push(`only ${rows.length} sampling intervals: give BENCH_LIFE_S at least 3 x STRESS_SAMPLE_S`);

    // The final values: what the launcher parsed, incrementally, is what the whole file parses to.
    const whole = parseBuffer(readFileSync(file));
    const final = row();
    const size = statSync(file).size;
    const readTotal = samples.length ? samples[samples.length - 1]!.rchar - samples[0]!.rchar : NaN;
    const recorded = JSON.parse(final?.feedback ?? 'null') as Record<string, string> | null;
    if (final?.state !== 'succeeded') lifeViolations.push(`the task ended ${final?.state}`);
    if (JSON.stringify(recorded) !== JSON.stringify(whole.values)) lifeViolations.push(`recorded feedback ${JSON.stringify(recorded).slice(0, 200)} != the whole file's ${JSON.stringify(whole.values).slice(0, 200)}`);
    if (final?.ignored_lines !== whole.ignored) lifeViolations.push(`recorded ${final?.ignored_lines} ignored lines, the whole file has ${whole.ignored}`);
    if (JSON.stringify(JSON.parse(final?.progress ?? 'null')) !== JSON.stringify(parseProgress(whole.values.progress ?? ''))) {
      lifeViolations.push(`recorded progress ${final?.progress}, the whole file's ${whole.values.progress}`);
    }
    const fb = JSON.parse(await s.ok(['feedback', String(final?.id), '--json'])) as { values: Record<string, string>; ignoredLines: number };
    if (JSON.stringify(fb.values) !== JSON.stringify(whole.values) || fb.ignoredLines !== whole.ignored) lifeViolations.push(`tw feedback --json says ${JSON.stringify(fb).slice(0, 200)}`);
    const beats = (() => {
      const db = openKept(s.db, { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM torture_beats WHERE task_id = ?').pluck().get(final?.id) as number;
      } finally {
        db.close();
      }
    })();
    if (beats > scale.lifeS * 1.2 + 5) lifeViolations.push(`${beats} heartbeat writes in ${scale.lifeS} s (more than about one a second)`);
    const appends = Number(whole.values.n ?? 0);
    say(`appends ${appends} (${(size / 1048576).toFixed(2)} MiB, ${whole.ignored} ignored lines); heartbeat writes to the store ${beats} in ${scale.lifeS} s`);
    say(`bytes read by the launcher while sampled ${(readTotal / 1048576).toFixed(2)} MiB for ${(size / 1048576).toFixed(2)} MiB appended (${(readTotal / size).toFixed(2)}x, SQLite and /proc reads included)`);
    say(`RssAnon first third ${(mean(early.map((r) => r.anon)) / 1024).toFixed(1)} MiB, last third ${(mean(late.map((r) => r.anon)) / 1024).toFixed(1)} MiB; CPU ${cpuEarly.toFixed(1)}% -> ${cpuLate.toFixed(1)}%; read ${readEarly.toFixed(1)} -> ${readLate.toFixed(1)} KiB/s`);
    say(`final recorded feedback = whole-file parse: ${JSON.stringify(recorded) === JSON.stringify(whole.values)} (n=${recorded?.n}, done=${recorded?.done}); ignored lines ${final?.ignored_lines} = ${whole.ignored}`);
    feedbackAppends += appends;
    check('long life: flat RSS/CPU/read rate, every appended byte parsed once, final values = whole-file parse', `${appends} appends, ${samples.length} samples`, lifeViolations);
  } finally {
    await s.cleanup();
  }
}

// ------------------------------------------------------------------ summary
section(`summary (${COMMAND}, ${s1(Date.now() - t0)})`);
say(`tasks launched: ${tasksLaunched}`);
say(`faults injected (launchers killed -9): ${faultsInjected}`);
say(`inputs tried (reader fuzz sequences, bad command lines, broken stores, bad feedback paths): ${inputsTried}`);
say(`feedback appends parsed in the long-life run: ${feedbackAppends}`);
say('nothing lost:');
for (const c of checks) say(`  [${c.ok ? 'ok' : 'FAIL'}] ${c.what} (${c.count})`);
if (failures.length) {
  say(`\n${failures.length} failure(s):`);
  for (const f of failures) say(`  ${f}`);
}
rmSync(work, { recursive: true, force: true });
process.exitCode = failures.length ? 1 : 0;
