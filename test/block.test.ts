// `tw describe --block`: waits for the named tasks (or every task active when
// it started), exits 0 if all succeeded, 1 otherwise, 4 for an unknown id;
// plain lines when piped, a live view with progress bars on a terminal (tmux).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { alive, fixture, NODE, oneLineError, requireBuild, sandbox, until } from './helpers.js';
import { ESC, HAVE_TMUX, launchBg, Tmux, twInPane, waitRunning, waitTask } from './steer-helpers.js';

before(requireBuild);

/** Generous: the contract's "a fraction of a second" is measured by the benchmarks; this only catches a blocker that misses the end. */
const NOTICE_MS = 3000;

describe('tw describe --block', { concurrency: true }, () => {
  test('piped: waits for a running task, exits 0 once it succeeded, printing plain lines', async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    // Ends 1 s after the go-ahead, so the blocker is surely waiting when it ends.
    const id = await launchBg(s, ['--name', 'nap', '--feedback', '--', 'sh', '-c', `while [ ! -e ${go} ]; do sleep 0.05; done; echo '[progress]3/8' >> "$TW_FEEDBACK"; sleep 1`]);
    await waitRunning(s, id);
    const blocker = s.start(['describe', '--block', String(id)]);
    await until(() => /State: running/.test(blocker.output.stdout), { what: 'the blocker to show the running task' });
    writeFileSync(go, '');
    const { code } = await blocker.ended;
    const exitedAt = Date.now();
    const { stdout, stderr } = blocker.output;
    assert.equal(code, 0, stderr);
    const [task] = await s.json(['describe', String(id)]);
    assert.equal(task!.state, 'succeeded', 'the blocker returned only once the task had ended');
    const endedAt = Date.parse(task!.endedAt!);
    assert.ok(exitedAt - endedAt < NOTICE_MS, `noticed the end ${exitedAt - endedAt} ms after it`);
    assert.doesNotMatch(stdout, ESC, `no escape sequences when piped: ${JSON.stringify(stdout)}`);
    const lines = stdout.split('\n').filter(Boolean);
    assert.match(lines[0]!, new RegExp(`^Task: ${id} +Name: nap +State: running\\b`), stdout);
    assert.match(lines.at(-1)!, new RegExp(`^Task: ${id} +Name: nap +State: succeeded\\b`), stdout);
    // One line per change, not one per poll.
    assert.ok(lines.length <= 3, `a line per change only:\n${stdout}`);
    // Aligned with each other, though the state and the progress changed between them.
    assert.match(lines.at(-1)!, /Num: 3\/8 \( 37%\)/, stdout);
    for (const field of ['Num:', 'LastUpdated:']) assert.equal(new Set(lines.map((l) => l.indexOf(field))).size, 1, `${field} aligned:\n${stdout}`);
  });

  test('exits 1 when a task did not succeed, after waiting for all of them', async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const failing = await launchBg(s, ['--', NODE, fixture('steer-script.mjs'), `wait:${go}`, 'exit:3']);
    const fine = await launchBg(s, ['--', NODE, fixture('steer-script.mjs'), `wait:${go}`]);
    await waitRunning(s, failing);
    await waitRunning(s, fine);
    const blocker = s.start(['describe', '--block', String(failing), String(fine)]);
    await until(() => blocker.output.stdout.split('\n').filter(Boolean).length >= 2, { what: 'the blocker to show both tasks' });
    assert.equal(blocker.exitCode, null, 'still waiting while both run');
    writeFileSync(go, '');
    const { code } = await blocker.ended;
    assert.equal(code, 1, blocker.output.stderr);
    assert.match(blocker.output.stdout, /State: failed/);
    assert.match(blocker.output.stdout, /State: succeeded/);
    // Already ended: no waiting at all, same verdicts.
    assert.equal((await s.run(['describe', '--block', String(fine)])).code, 0);
    assert.equal((await s.run(['describe', '--block', String(failing)])).code, 1);
  });

  test('an unknown id exits 4 at once, with one line on stderr', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    for (const args of [['99'], [String(id), '99']]) {
      const r = await s.run(['describe', '--block', ...args], { timeoutMs: 5000 });
      assert.equal(r.code, 4, `tw describe --block ${args.join(' ')}: ${r.stderr}`);
      assert.equal(oneLineError(r.stderr), null);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });

  test('no ids: waits for every task active when it started, not for tasks launched later', async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const first = await launchBg(s, ['--', 'sleep', '0.5']);
    const second = await launchBg(s, ['--', NODE, fixture('steer-script.mjs'), `wait:${go}`]);
    await waitRunning(s, second);
    const blocker = s.start(['describe', '--block']);
    await until(() => /State: running/.test(blocker.output.stdout), { what: 'the blocker to start' });
    const later = await launchBg(s, ['--', 'sleep', '300']);
    await waitRunning(s, later);
    await waitTask(s, first, (x) => x.state === 'succeeded', 'the first to end');
    assert.equal(blocker.exitCode, null, `still waiting for task ${second}: ${blocker.output.stdout}`);
    writeFileSync(go, '');
    const { code } = await blocker.ended;
    assert.equal(code, 0, blocker.output.stderr);
    assert.doesNotMatch(blocker.output.stdout, new RegExp(`^Task: ${later}\\b`, 'm'), 'the task launched later is not waited for');
    const [still] = await s.json(['describe', String(later)]);
    assert.equal(still!.state, 'running');
  });

  test('no ids and nothing active: exits 0 at once', async (t) => {
    const s = sandbox(t);
    assert.equal((await s.run(['launch', '--', 'false'])).code, 1);
    const r = await s.run(['describe', '--block'], { timeoutMs: 5000 });
    assert.doesNotMatch(r.stdout, /^Task: 1\b/m, 'the failed task was not active: not waited for, not reported');
    assert.equal(r.code, 0, `every one of no active tasks succeeded: ${r.stdout}${r.stderr}`);
  });

  test('notices an end promptly, whoever ends the task (a cancel here)', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    await waitRunning(s, id);
    const blocker = s.start(['describe', '--block', String(id)]);
    await until(() => /State: running/.test(blocker.output.stdout), { what: 'the blocker to start' });
    await s.ok(['cancel', String(id)]);
    const { code } = await blocker.ended;
    const exitedAt = Date.now();
    assert.equal(code, 1, blocker.output.stderr);
    const [task] = await s.json(['describe', String(id)]);
    assert.equal(task!.state, 'cancelled');
    assert.ok(exitedAt - Date.parse(task!.endedAt!) < NOTICE_MS, `noticed ${exitedAt - Date.parse(task!.endedAt!)} ms after the end`);
  });

  test('on a terminal: a live progress bar, then the final screen shows succeeded; the cursor is left visible', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const id = await launchBg(s, ['--name', 'stepper', '--feedback', '--', NODE, fixture('steer-script.mjs'), 'fb:[progress]3/8', `wait:${go}`, 'fb:[progress]8/8']);
    await waitRunning(s, id);
    const pane = new Tmux(twInPane(s, ['describe', '--block', String(id)]), s);
    t.after(() => pane.kill());
    // 3/8: 37%, a bar about 3/8 full.
    const screen = await pane.screen(/\[(#+)(\.+)\]\s*37%/, 'a progress bar at 37%');
    const [, done, todo] = /\[(#+)(\.+)\]\s*37%/.exec(screen)!;
    const share = done!.length / (done!.length + todo!.length);
    assert.ok(share > 0.3 && share < 0.45, `the bar is about 37% full: ${done}${todo}`);
    assert.match(screen, /stepper/);
    assert.doesNotMatch(screen, /EXIT=/, 'still blocking');
    writeFileSync(go, '');
    const final = await pane.screen(/EXIT=\d+/, 'the blocker to exit');
    assert.match(final, /EXIT=0\b/, final);
    assert.match(final, /succeeded/, final);
    assert.equal(pane.cursorVisible(), true, 'the cursor is visible again');
  });

  test('on a 20-row terminal, 40 tasks: the view fits, the failure stays in sight, the final screen sums up, no stale frames', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const ids: number[] = [];
    // job17 fails while the other 39 still run: more than the screen holds.
    for (let i = 0; i < 40; i++) {
      const exit = i === 17 ? 3 : 0;
      ids.push(await launchBg(s, ['--name', `job${i}`, '--', 'sh', '-c', `while [ ! -e "$0" ]; do sleep 0.05; done; exit ${exit}`, i === 17 ? `${go}17` : go]));
    }
    for (const id of ids) await waitRunning(s, id);
    const pane = new Tmux(twInPane(s, ['describe', '--block', ...ids.map(String)]), s, { columns: 100, rows: 20 });
    t.after(() => pane.kill());
    const view = await pane.screen(/\.\.\. and \d+ more/, 'the live view');
    assert.ok(view.trimEnd().split('\n').length <= 20, view);
    writeFileSync(`${go}17`, '');
    const failing = await pane.screen(/job17\s.*failed[^]*\.\.\. and \d+ more \(\d+ active\)/, 'the failure in sight while 39 run');
    assert.ok(failing.trimEnd().split('\n').length <= 20, failing);
    // Made smaller (SIGWINCH): redrawn to fit at once, the failure still first.
    pane.resize(60, 12);
    // (tmux cuts what does not fit: the last line, '... and N more', is seen only in a frame made for 12 rows.)
    const small = await pane.screen(/job17\s.*failed[^]*\.\.\. and \d+ more/, 'the view redrawn for 60x12');
    assert.match(small.split('\n')[0]!, /job17\s.*failed/, small);
    writeFileSync(go, '');
    const final = await pane.screen(/EXIT=\d+/, 'the blocker to exit', 20_000);
    assert.match(final, /EXIT=1\b/);
    assert.match(final, /job17\s.*failed\s+exit 3/, final);
    assert.match(final, /39 of 40 succeeded/, final);
    const history = execFileSync('tmux', ['-S', pane.socket, 'capture-pane', '-p', '-S', '-', '-t', pane.session], { encoding: 'utf8' });
    assert.doesNotMatch(history, /\.\.\. and \d+ more/, `a live frame was left in the scrollback:\n${history}`);
  });

  test('on a terminal: Ctrl-C ends the blocker, leaves the tasks running and the cursor visible', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
    const s = sandbox(t);
    const a = await launchBg(s, ['--name', 'first', '--', 'sleep', '300']);
    const b = await launchBg(s, ['--name', 'second', '--', 'sleep', '300']);
    const pids = [(await waitRunning(s, a)).pid!, (await waitRunning(s, b)).pid!];
    // The shell traps INT so that it survives to print the blocker's exit code.
    const pane = new Tmux(`trap 'echo' INT; ${twInPane(s, ['describe', '--block'])}`, s);
    t.after(() => pane.kill());
    await pane.screen(/first[\s\S]*second/, 'the live view of both tasks');
    pane.keys('C-c');
    const screen = await pane.screen(/EXIT=\d+/, 'the blocker to exit on Ctrl-C', 5000);
    const code = Number(/EXIT=(\d+)/.exec(screen)![1]);
    assert.notEqual(code, 0, 'interrupted is not all succeeded');
    assert.doesNotMatch(screen, /internal error|\n\s+at /, screen);
    assert.equal(pane.cursorVisible(), true, 'the cursor is visible again');
    const tasks = await s.json(['list']);
    assert.deepEqual(tasks.map((x) => [x.id, x.state]), [[a, 'running'], [b, 'running']], 'the tasks go on');
    for (const pid of pids) assert.ok(alive(pid));
  });
});
