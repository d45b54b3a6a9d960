// Torture: the contract's "what must never happen", tried hard. Many
// launchers beside readers and a prune loop; launchers killed -9 at random
// moments; a store on a full filesystem; pids reused by strangers; bad ids,
// bad flags, bad feedback paths, broken store files, and a feedback file
// rewritten under the reader. Scaled to stay under a minute on 2 cores: the
// full scale is `npm run stress` (bench/stress.ts), which shares the
// scenarios in test/torture-helpers.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs, { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { FeedbackReader } from '../src/feedback/reader.js';
import { parseBuffer } from '../src/feedback/parser.js';
import { alive, BIN, fixture, groupMembers, killGroup, NODE, oneLineError, requireBuild, Sandbox, sandbox, until, type Started, type TaskJson } from './helpers.js';
import { startTicks, waitEnded, waitRunning, withDb } from './steer-helpers.js';
import {
  BAD_FEEDBACK_PATHS,
  isTerminalState,
  killChildrenWith,
  makeRealStore,
  playReader,
  readerOps,
  runBadFeedbackPath,
  runBadIds,
  runBadInfo,
  runFaults,
  runLoad,
  runSpawnWindow,
  runStoreVariants,
  snapshotProblems,
  STACK_TRACE,
  type LoadReport,
} from './torture-helpers.js';

before(requireBuild);

/** Every line on stderr is `tw: ...` (a child's own stderr aside) and there is no stack trace. */
function twLinesOnly(stderr: string, childLines: RegExp = /^$/): string | null {
  for (const line of stderr.split('\n').filter(Boolean)) {
    if (childLines.test(line)) continue;
    if (!line.startsWith('tw: ')) return `a stderr line that is not 'tw: ...': ${JSON.stringify(line)}`;
  }
  if (STACK_TRACE.test(stderr)) return `stack trace on stderr: ${JSON.stringify(stderr)}`;
  return null;
}

const report = (violations: string[]): string => `${violations.length} violation(s):\n${violations.slice(0, 40).join('\n')}`;

describe('torture', () => {
  describe('load: 48 launches at once beside 3 processes looping list/describe --json and a prune --keep 5 loop', () => {
    const s = new Sandbox();
    let r: LoadReport;
    before(async () => {
      const idsDir = join(s.dir, 'ids');
      mkdirSync(idsDir);
      r = await runLoad(s, { launches: 48, readers: 3, pruneKeep: 5, messageEvery: 12, idsDir, node: NODE, bin: BIN });
    });
    after(() => s.cleanup());

    test('every launcher exited as its child did, every task ended recorded exactly once, ids unique, no lock error, every JSON output parses', (t) => {
      t.diagnostic(
        `launched ${r.launched}, ends checked ${r.endsChecked}, ids unique ${r.idsUnique}, reader calls ${r.readerCalls} (JSON parsed ${r.jsonParsed}), ` +
          `prune runs ${r.pruneRuns} (pruned ${r.pruned}), ${r.wallMs} ms`,
      );
      assert.deepEqual(r.violations, [], report(r.violations));
      assert.equal(r.endsChecked, 48);
      assert.equal(r.idsUnique, 48);
      assert.ok(r.readerCalls >= 4, `the readers ran ${r.readerCalls} times`);
      assert.ok(r.pruneRuns >= 1);
    });

    test('no reader saw half a write: in describe --json each task\'s state, end time and events agree', (t) => {
      t.diagnostic(`${r.torn.length} torn task snapshot(s) in ${r.readerCalls} reader outputs`);
      assert.deepEqual(r.torn, [], report(r.torn));
    });
  });

  test('no reader sees half a write: describe --json paused after reading the tasks, while a cancel ends one, shows it whole', async (t) => {
    const s = sandbox(t);
    const id = Number((await s.ok(['reserve', '--name', 'torn'])).trim());
    const marker = join(s.dir, 'paused');
    const go = join(s.dir, 'go');
    // A preload pauses describe right after its query of the tasks, before it reads their messages and events.
    const reader = spawn(NODE, ['--require', fixture('torture-pause-reads.cjs'), BIN, 'describe', '--json'], {
      env: s.env({ TW_TORTURE_PAUSE_AT: '1', TW_TORTURE_PAUSE_MARKER: marker, TW_TORTURE_PAUSE_GO: go }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => void reader.kill('SIGKILL'));
    let out = '';
    let err = '';
    reader.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    reader.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const ended = new Promise<number | null>((r) => reader.once('close', (code) => r(code)));
    let exited = false;
    void ended.then(() => (exited = true));
    await until(() => existsSync(marker) || exited, { what: 'describe to pause after reading the tasks' });
    // A hook that no longer finds the query must fail here, not pass by skipping (as it did once the columns were named).
    assert.ok(existsSync(marker), `the preload could not pause describe (no query of the tasks seen; stderr ${JSON.stringify(err)})`);
    const cancel = await s.run(['cancel', String(id)]);
    assert.equal(cancel.code, 0, cancel.stderr);
    writeFileSync(go, '');
    assert.equal(await ended, 0, err);
    const [task] = JSON.parse(out) as TaskJson[];
    t.diagnostic(`paused after ${JSON.stringify(readFileSync(marker, 'utf8'))}; describe showed ${task?.state} with events ${JSON.stringify(task?.events?.map((e) => e.to))}`);
    assert.deepEqual(snapshotProblems('tw describe --json', out), []);
  });

  test('faults: launchers killed -9 at random moments; after one tw list every task is ended, lost or really unsupervised', async (t) => {
    const s = sandbox(t);
    const tag = `tw-torture-fault-${process.pid}`;
    t.after(() => void killChildrenWith(tag));
    const r = await runFaults(s, { rounds: 36, concurrency: 4, tag });
    t.diagnostic(
      `rounds ${r.rounds}, launchers killed ${r.killed}, by mode ${JSON.stringify(r.byMode)}, outcomes ${JSON.stringify(r.outcomes)}, ` +
        `unsupervised then cancelled ${r.cancelledUnsupervised}, leftovers killed ${r.leftoversKilled}, ${r.wallMs} ms`,
    );
    assert.deepEqual(r.violations, [], report(r.violations));
    assert.ok(r.killed >= 18, `only ${r.killed} launchers were killed`);
  });

  test('a launcher killed -9 between its child\'s spawn and the opening of its gate: the command never runs, a recorded task ends lost', async (t) => {
    for (const at of ['spawn', 'gate'] as const) {
      const s = sandbox(t);
      const token = `tw-torture-window-${at}-${process.pid}`;
      t.after(() => void killChildrenWith(token));
      const r = await runSpawnWindow(s, token, at);
      t.diagnostic(`at ${at}: task ${r.task?.id ?? 'none'}: ${r.task?.state ?? '-'}; its child, pid ${r.childPid}, ${r.childRuns ? 'runs' : 'is gone'}`);
      assert.equal(r.violation, null);
    }
  });

  test('a full filesystem: reads and reserve work or exit 3 with one line, launch runs or exits 125, a running task ends with its own code and says what it could not record', async (t) => {
    const s = sandbox(t);
    const state = join(s.dir, 'state'); // the folder of s.db
    mkdirSync(state);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k,mode=0700', 'tmpfs', state], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      t.diagnostic(`SKIPPED the full-filesystem case: cannot mount a 600k tmpfs (${(mounted.stderr || mounted.error?.message || '').trim()}); run as root to try it`);
      t.skip('cannot mount a tmpfs');
      return;
    }
    const token = `tw-torture-full-${process.pid}`;
    const outside = join(s.dir, 'outside');
    mkdirSync(outside);
    let long: Started | undefined;
    try {
      assert.equal((await s.ok(['reserve', '--name', 'before'])).trim(), '1');
      assert.equal((await s.run(['launch', '--', 'true'])).code, 0);
      const go = join(outside, 'go');
      const done = join(outside, 'done');
      const script =
        'i=0; while [ ! -e "$1" ]; do i=$((i+1)); echo "[beat]$i" >> "$TW_FEEDBACK"; echo "tick $i"; sleep 0.05; done; ' +
        'i=0; while [ $i -lt 30 ]; do printf "child-err-%s %2000s\\n" $i x >&2; i=$((i+1)); done; echo done > "$2"; exit 7';
      long = s.start(['launch', '--name', 'filling', `--feedback=${join(outside, 'feedback.txt')}`, '--', 'sh', '-c', script, token, go, done]);
      const running = await waitRunning(s, 3);
      // Empty the WAL so that the next write must grow a file, then fill the disk.
      withDb(s.db, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
      spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      spawnSync('dd', ['if=/dev/zero', `of=${join(state, 'filler2')}`, 'bs=512'], { stdio: 'ignore' });
      assert.equal(statfsSync(state).bavail, 0, 'the filesystem is full');
      // Let the launcher try a heartbeat on the full disk: it either warns or gets one through.
      const filledAt = Date.now();
      await until(
        () =>
          long!.output.stderr.includes('could not record a heartbeat') ||
          withDb(s.db, (db) => (db.prepare('SELECT heartbeat_at FROM tasks WHERE id = ?').pluck().get(running.id) as number) > filledAt),
        { what: 'a heartbeat attempt on the full disk' },
      );

      const seen: string[] = [];
      for (const args of [['list'], ['list', '--json'], ['describe', '--json'], ['history', '--json'], ['stats', '--json'], ['feedback', '3', '--json'], ['reserve']]) {
        const r = await s.run(args);
        seen.push(`${args.join(' ')}: ${r.code}`);
        if (r.code === 0) {
          if (args.includes('--json')) assert.doesNotThrow(() => JSON.parse(r.stdout), `tw ${args.join(' ')} printed ${r.stdout}`);
          assert.equal(twLinesOnly(r.stderr), null, `tw ${args.join(' ')}: ${r.stderr}`);
        } else {
          assert.equal(r.code, 3, `tw ${args.join(' ')} on a full disk: exit ${r.code}: ${r.stderr}`);
          assert.equal(oneLineError(r.stderr), null, `tw ${args.join(' ')}`);
        }
      }
      const ran = join(outside, 'ran');
      const quick = await s.run(['launch', '--name', 'while-full', '--', 'sh', '-c', 'echo ran > "$1"', token, ran]);
      seen.push(`launch: ${quick.code}`);
      assert.ok(quick.code === 0 || quick.code === 125, `launch on a full disk: exit ${quick.code}: ${quick.stderr}`);
      assert.equal(twLinesOnly(quick.stderr), null);
      if (quick.code === 0) assert.ok(existsSync(ran), 'exit 0, so the child ran');
      else assert.match(quick.stderr, /^tw: .*(full|could not|cannot)/m);

      writeFileSync(go, '');
      const end = await long.ended;
      const warnings = long.output.stderr.split('\n').filter((l) => l.startsWith('tw: '));
      seen.push(`the running task: exit ${end.code}, warnings ${JSON.stringify(warnings)}`);
      t.diagnostic(seen.join('; '));
      assert.equal(end.code, 7, `the launcher exits as its child did: ${long.output.stderr.slice(-500)}`);
      assert.ok(existsSync(done), 'the child ran to its end');
      assert.equal(twLinesOnly(long.output.stderr, /^child-err-\d+ /), null);
      for (const w of warnings) assert.match(w, /^tw: warning: /, 'each note is a one-line warning');

      // Room again: the store is whole, and the task's end is either recorded or was announced as not recorded.
      rmSync(join(state, 'filler'));
      rmSync(join(state, 'filler2'));
      const task = await s.task(running.id);
      if (!(task.state === 'failed' && task.exitCode === 7)) {
        assert.ok(
          warnings.some((w) => /could not record the end/.test(w)),
          `task ${task.id} is ${task.state} (exit ${task.exitCode}), and the launcher did not say it could not record the end: ${JSON.stringify(warnings)}`,
        );
        assert.ok(isTerminalState(task.state), `task ${task.id} left ${task.state}`);
      }
      withDb(s.db, (db) => assert.equal(db.pragma('integrity_check', { simple: true }), 'ok'));
      const all = await s.json(['list', '--all']);
      // Task 1 is a plain reservation: it stays reserved.
      for (const task of all.filter((x) => x.id !== 1)) assert.ok(isTerminalState(task.state), `task ${task.id} left ${task.state} once the disk has room`);
    } finally {
      if (long && long.exitCode === null && long.signalCode === null) {
        long.kill('SIGKILL');
        await long.ended;
      }
      killChildrenWith(token);
      // The mount may be busy for a moment after its last user ends; lazily detach it if it stays so.
      await until(() => spawnSync('umount', [state]).status === 0, { timeoutMs: 2000, everyMs: 100, what: 'umount' }).catch(() =>
        spawnSync('umount', ['-l', state]),
      );
    }
  });

  test('pid reuse: strangers holding recorded pids (a group leader with a member, a non-leader, the same pid and start time after a reboot) are never signalled', async (t) => {
    const s = sandbox(t);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const leader = spawn('sh', ['-c', 'sleep 300 & wait'], { detached: true, stdio: 'ignore' });
    const launcherStranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const rebootStranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    // A non-leader: a member of a group whose leader is another process.
    const groupOfTwo = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const strangers = [leader, launcherStranger, rebootStranger, groupOfTwo];
    t.after(() => strangers.forEach((p) => killGroup(p.pid!)));
    const member = Number(await new Promise<string>((r) => groupOfTwo.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))));
    await until(() => strangers.every((p) => alive(p.pid!)) && groupMembers(leader.pid!).length === 2 && alive(member), { what: 'the strangers to start' });
    const leaderMembers = groupMembers(leader.pid!);

    const ids = [1, 2, 3];
    for (const _ of ids) await s.ok(['reserve', '--name', 'forged']);
    withDb(s.db, (db) => {
      const set = db.prepare(
        `UPDATE tasks SET state = 'running', pid = ?, pid_start = ?, launcher_pid = ?, launcher_start = ?, boot_id = ?, started_at = reserved_at WHERE id = ?`,
      );
      // 1: the child's pid is a group leader (with a member), the launcher's another stranger; start times differ.
      set.run(leader.pid, startTicks(leader.pid!) + 4242, launcherStranger.pid, startTicks(launcherStranger.pid!) + 4242, boot, 1);
      // 2: the child's pid is a non-leader; the launcher on record is this very test process, alive.
      set.run(member, startTicks(member) + 4242, process.pid, startTicks(process.pid), boot, 2);
      // 3: after a reboot: same pids, same start times, another boot id.
      set.run(rebootStranger.pid, startTicks(rebootStranger.pid!), rebootStranger.pid, startTicks(rebootStranger.pid!), 'another-boot-id', 3);
    });
    const listed = await s.run(['list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const cancel = await s.run(['cancel', '--grace', '1s', '1', '2', '3'], { timeoutMs: 30_000 });
    assert.ok(cancel.code === 0 || cancel.code === 1, `${cancel.code}: ${cancel.stderr}`);
    assert.equal(twLinesOnly(cancel.stderr), null);
    for (const id of ids) {
      const task = await waitEnded(s, id);
      assert.ok(['lost', 'cancelled'].includes(task.state), `task ${id}: ${task.state}`);
    }
    for (const p of strangers) assert.equal(alive(p.pid!), true, `stranger ${p.pid} was signalled`);
    for (const pid of [...leaderMembers, member]) assert.equal(alive(pid), true, `the stranger group's member ${pid} was signalled`);
  });

  test('bad ids for describe, cancel, logs, feedback, message and launch --id: exit 2 (launch 125), one line, nothing run', async (t) => {
    const s = sandbox(t);
    await s.ok(['reserve']);
    const r = await runBadIds(s, 4);
    t.diagnostic(`${r.tried} bad-id invocations tried`);
    assert.deepEqual(r.violations, []);
    assert.equal((await s.task(1)).state, 'reserved', 'no bad id touched task 1');
  });

  test('--info without =: reserve exits 2, launch 125 and runs nothing', async (t) => {
    const s = sandbox(t);
    const r = await runBadInfo(s);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(await s.json(['list', '--all']), [], 'nothing reserved');
  });

  describe('a --feedback path that cannot be a feedback file is refused: exit 125 with one line, nothing runs or is recorded', { concurrency: true }, () => {
    for (const [what, make] of BAD_FEEDBACK_PATHS) {
      test(what, async (t) => {
        const s = sandbox(t);
        assert.deepEqual(await runBadFeedbackPath(s, what, make), []);
      });
    }
  });

  test('store files: truncated at many offsets, a valid header over garbage, garbage pages, a garbage WAL, one schema newer, a folder: one line and exit 3, or a working store; never a stack trace', async (t) => {
    const s = sandbox(t);
    const good = await makeRealStore(s);
    assert.ok(good.length >= 8 * 4096, `a store of ${good.length} bytes`);
    const r = await runStoreVariants(s, good, 3);
    t.diagnostic(`${r.tried} invocations on broken stores: ${r.notes.join('; ')}`);
    assert.deepEqual(r.violations, []);
  });
});

// ------------------------------------------------------------------ the feedback reader, rewritten under it

const root = fs.mkdtempSync(join(tmpdir(), 'tw-torture-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('the feedback reader, torture', () => {
  test('a file rewritten in place with the same length (`printf ... > $TW_FEEDBACK`) is read anew', () => {
    const file = join(root, 'same-length');
    const reader = new FeedbackReader(file);
    fs.writeFileSync(file, '[progress]10\n');
    reader.poll();
    fs.writeFileSync(file, '[progress]11\n');
    reader.poll();
    assert.deepEqual(reader.values, { progress: '11' }, 'a same-size rewrite left the reader on the old values');
    fs.writeFileSync(file, '[progress]12\n');
    reader.finish();
    assert.deepEqual(reader.values, { progress: '12' }, 'the final read missed the last rewrite');
  });

  test('a file rewritten in place longer than before is read anew', () => {
    const file = join(root, 'longer');
    const reader = new FeedbackReader(file);
    fs.writeFileSync(file, '[progress]9\n');
    reader.poll();
    fs.writeFileSync(file, '[progress]10\n[stage]b\n');
    reader.poll();
    assert.deepEqual({ values: reader.values, ignored: reader.ignored }, parseBuffer(Buffer.from('[progress]10\n[stage]b\n')));
  });

  test('property: big and broken appends between polls (64 KiB lines, 300 KiB reads, cut characters, NUL), files replaced and shrunk: the reader holds what a whole-file parse gives', () => {
    fc.assert(fc.property(readerOps({ rewrites: false, replaces: true }), (steps) => playReader(root, steps)), { numRuns: 80 });
  });

  test('property: in-place rewrites as long as what was read, between appends and polls: the reader holds what a whole-file parse gives', () => {
    fc.assert(fc.property(readerOps({ rewrites: true, replaces: false }), (steps) => playReader(root, steps)), { numRuns: 60 });
  });
});
