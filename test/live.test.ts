// `tw live` (issue 17, 5), read from a real terminal through tmux: it shows
// the active tasks and the latest ends, redraws when the store changes, and
// `q` leaves the terminal as it was.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { requireBuild, sandbox } from './helpers.js';
import { HAVE_TMUX, launchBg, Tmux, twInPane, waitRunning } from './steer-helpers.js';

before(requireBuild);

test('tw live: active tasks with progress, a new task within a moment, recent ends; q quits and restores the screen', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
  const s = sandbox(t);
  assert.equal((await s.run(['launch', '--name', 'finished', '--', 'true'])).code, 0);
  const first = await launchBg(s, ['--name', 'stepper', '--max-running', '1', '--timeout', '10m', '--feedback', '--', 'sh', '-c', 'echo "[progress]3/4" > "$TW_FEEDBACK"; exec sleep 300']);
  await waitRunning(s, first);
  const queued = await launchBg(s, ['--name', 'stepper', '--max-running', '1', '--', 'sleep', '300']);
  // 80 columns, as a terminal opens: the heartbeat age and a waiting task's place still fit.
  const pane = new Tmux(`clear; echo before-live; ${twInPane(s, ['live'])}`, s, { columns: 80, rows: 24 });
  t.after(() => pane.kill());
  const screen = await pane.screen(/stepper.*75%/, 'the running task with its progress');
  assert.match(screen, /tw live: 2 active/);
  assert.match(screen, /ID +NAME +STATE +PROGRESS +HEARTBEAT/, screen);
  assert.match(screen, new RegExp(`${first} +stepper +running +\\[#+\\.*\\] 75% +\\d+(ms|s)\\b`), screen);
  assert.match(screen, new RegExp(`${queued} +stepper +waiting #1 \\(1/1 running\\)`), screen);
  assert.match(screen, /recent ends:\nID +NAME +STATE +DURATION +EXIT\n1 +finished +succeeded +\S+ +0\n/, screen);
  const second = await launchBg(s, ['--name', 'newcomer', '--', 'sleep', '300']);
  await pane.screen(/newcomer/, 'a task launched meanwhile', 5000);
  pane.keys('q');
  const after = await pane.screen(/EXIT=\d+/, 'tw live to quit on q', 5000);
  assert.match(after, /EXIT=0/);
  assert.match(after, /before-live/, 'the screen from before is back');
  assert.doesNotMatch(after, /tw live:/, 'nothing of the live view is left');
  assert.equal(pane.cursorVisible(), true);
  await s.ok(['cancel', String(first), String(second), String(queued)]);
});

test('tw live without a terminal says so: exit 2', async (t) => {
  const s = sandbox(t);
  const r = await s.run(['live']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs a terminal/);
});
