// `tw list`: the table, colour rules, --json field by field against the
// contract's task table, the filters, and liveness (running, silent, stalled,
// unsupervised) for real launched tasks.
import assert from 'node:assert/strict';
import { realpathSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { before, describe, test } from 'node:test';
import { alive, fixture, NODE, oneLineError, requireBuild, sandbox, until, type TaskJson } from './helpers.js';
import { ESC, HAVE_TMUX, HUMAN_UTC, ISO_UTC, launchBg, launchFg, Tmux, twInPane, waitEnded, waitRunning, waitTask } from './steer-helpers.js';

before(requireBuild);

const CONTRACT_FIELDS = ['id', 'name', 'info', 'state', 'liveness', 'command', 'cwd', 'host', 'pid', 'launcherPid', 'reservedAt', 'startedAt',
  'endedAt', 'lastHeartbeatAt', 'exitCode', 'signal', 'timeoutMs', 'durationMs', 'progress', 'feedback'];
const COLUMNS = ['ID', 'NAME', 'STATE', 'PID', 'CPU%', 'MEM', 'STARTED', 'DURATION', 'PROGRESS', 'HEARTBEAT', 'TIMEOUT', 'INFO'];

/** The table's header and rows; each column's cell starts where its heading does. */
function parseTable(text: string): { header: string; rows: Map<number, string[]> } {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines[0] ?? '';
  let from = 0;
  const starts = COLUMNS.map((c) => (from = header.indexOf(c, from)));
  const rows = new Map<number, string[]>();
  for (const line of lines.slice(1)) {
    const cells = starts.map((start, i) => {
      assert.ok(start === 0 || line[start - 1] === ' ', `column ${COLUMNS[i]} starts at ${start} in the header but not in ${JSON.stringify(line)}`);
      return line.slice(start, starts[i + 1] ?? line.length).trim();
    });
    rows.set(Number(cells[0]), cells);
  }
  return { header, rows };
}

describe('tw list', { concurrency: true }, () => {
  test('the table has every column, aligned, with the running task in it', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--name', 'tabled', '--timeout', '1m', '--info', 'host=db1', '--info', 'k=v', '--', 'sleep', '300']);
    const task = await waitRunning(s, id);
    const out = await s.ok(['list']);
    const { header, rows } = parseTable(out);
    assert.deepEqual(header.split(/\s+/), COLUMNS, `header: ${header}`);
    const row = rows.get(id);
    assert.ok(row, `a row for task ${id} in:\n${out}`);
    const [rid, name, state, pid, cpu, mem, started, dur, progress, beat, timeout, info] = row;
    assert.equal(rid, String(id));
    assert.equal(name, 'tabled');
    assert.equal(state, 'running');
    assert.equal(pid, String(task.pid));
    assert.match(cpu!, /^\d+(\.\d+)?$/, `cpu% of a live task: ${cpu}`);
    assert.match(mem!, /^\d+(\.\d+)?(B|KiB|MiB|GiB)$/, `memory of a live task: ${mem}`);
    assert.match(started!, new RegExp(`^${HUMAN_UTC.source}$`));
    assert.match(dur!, /^(\d+ms|\d+(\.\d)?s|\d+m\d\ds)$/, `duration like 2m13s: ${dur}`);
    assert.equal(progress, '-');
    assert.equal(beat, '-', 'no feedback file, no heartbeat to show');
    const [json] = await s.json(['list']);
    const usage = json as unknown as { cpuPercent: number | null; memoryBytes: number | null; lastHeartbeatAt: string | null };
    assert.equal(usage.lastHeartbeatAt, null, 'no feedback file, no heartbeat in the JSON either');
    assert.ok(typeof usage.cpuPercent === 'number' && typeof usage.memoryBytes === 'number' && usage.memoryBytes > 0, JSON.stringify(usage));
    assert.equal(timeout, '1m00s');
    assert.equal(info, 'host=db1 k=v');
  });

  test('no escape sequences when piped, whatever the states', async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    await waitRunning(s, id);
    await s.run(['launch', '--', 'false']);
    await s.run(['launch', '--', 'true']);
    for (const args of [['list'], ['list', '--all'], ['list', '--all', '--json']]) {
      for (const env of [{}, { NO_COLOR: '1' }, { FORCE_COLOR: '1', TERM: 'xterm-256color' }]) {
        const out = await s.ok(args, { env });
        assert.ok(out.length > 0);
        assert.doesNotMatch(out, ESC, `tw ${args.join(' ')} ${JSON.stringify(env)} piped: ${JSON.stringify(out)}`);
      }
    }
  });

  test('on a terminal: colour for states, none with NO_COLOR', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--', 'sleep', '300']);
    await waitRunning(s, id);
    await s.run(['launch', '--', 'false']);
    const coloured = new Tmux(twInPane(s, ['list', '--all']), s);
    t.after(() => coloured.kill());
    await coloured.screen(/EXIT=0/, 'tw list --all to finish on a terminal');
    if (!/\x1b\[[\d;]*m/.test(coloured.capture(true))) {
      t.skip('tw shows no colour on a terminal: nothing for NO_COLOR to turn off');
      return;
    }
    const plain = new Tmux(twInPane(s, ['list', '--all'], { NO_COLOR: '1' }), s);
    t.after(() => plain.kill());
    const screen = await plain.screen(/EXIT=0/, 'NO_COLOR=1 tw list --all to finish on a terminal');
    assert.match(screen, /running/);
    assert.match(screen, /failed/);
    assert.doesNotMatch(plain.capture(true), /\x1b\[[\d;]*m/, `NO_COLOR: no colour on a terminal:\n${plain.capture(true)}`);
  });

  test('on an 80-column terminal the table fits: least useful columns dropped, a long name cut with an ellipsis', { skip: !HAVE_TMUX && 'no tmux' }, async (t) => {
    const s = sandbox(t);
    const id = await launchBg(s, ['--name', 'a-very-long-task-name-that-goes-on-and-on', '--timeout', '1h', '--info', 'host=db1', '--', 'sleep', '300']);
    await waitRunning(s, id);
    const pane = new Tmux(twInPane(s, ['list']), s, { columns: 80, rows: 20 });
    t.after(() => pane.kill());
    const screen = await pane.screen(/EXIT=0/, 'tw list on an 80-column terminal');
    const lines = screen.split('\n').filter((l) => l.trim() !== '');
    const header = lines.find((l) => l.startsWith('ID'))!;
    assert.match(header, /^ID\s+NAME\s+STATE\b/, screen);
    assert.doesNotMatch(header, /INFO/, 'the least useful column went first');
    const row = lines[lines.indexOf(header) + 1]!;
    assert.match(row, new RegExp(`^${id}\\s+a-very-long-task-name-t…\\s+running\\b`), `one row, not wrapped:\n${screen}`);
    assert.ok(lines.every((l) => l.length <= 80), screen);
    const piped = await s.ok(['list']);
    assert.match(piped, /INFO/, 'piped output keeps every column');
  });

  test('--json: the contract fields of a running task, then of the ended task; no messages or events', async (t) => {
    const s = sandbox(t);
    const go = `${s.dir}/go`;
    const before = Date.now();
    const { launcher, id } = await launchFg(s, [
      '--name', 'jsoned', '--info', 'a=1', '--info', 'b=x y', '--timeout', '30s', '--feedback', '--',
      NODE, fixture('steer-script.mjs'), 'fb:[k]v', 'fb:[progress]3/8', `wait:${go}`,
    ]);
    // Heartbeats reach the store about once a second: wait for the feedback to land.
    await waitTask(s, id, (x) => x.progress !== null, 'feedback recorded');
    const [task] = (await s.json(['list'])) as (TaskJson & Record<string, unknown>)[];
    const now = Date.now();
    assert.ok(task);
    for (const field of CONTRACT_FIELDS) assert.ok(field in task, `list --json carries ${field}: ${JSON.stringify(task)}`);
    assert.ok(!('messages' in task) && !('events' in task), 'no messages or events in list --json');
    assert.equal(task.id, id);
    assert.equal(task.name, 'jsoned');
    assert.deepEqual(task.info, { a: '1', b: 'x y' });
    assert.equal(task.state, 'running');
    assert.equal(task.liveness, 'running');
    assert.deepEqual(task.command, [NODE, fixture('steer-script.mjs'), 'fb:[k]v', 'fb:[progress]3/8', `wait:${go}`]);
    assert.equal(realpathSync(task.cwd as string), realpathSync(process.cwd()));
    assert.equal(task.host, hostname());
    assert.equal(typeof task.pid, 'number');
    assert.ok(alive(task.pid!), 'pid is the live child');
    assert.equal(task.launcherPid, launcher.pid);
    for (const k of ['reservedAt', 'startedAt', 'lastHeartbeatAt'] as const) {
      assert.match(String(task[k]), ISO_UTC, `${k}: ${String(task[k])}`);
    }
    const reservedAt = Date.parse(task.reservedAt as string);
    const startedAt = Date.parse(task.startedAt as string);
    const beatAt = Date.parse(task.lastHeartbeatAt as string);
    assert.ok(before - 5 <= reservedAt && reservedAt <= startedAt && startedAt <= beatAt && beatAt <= now + 5, `${reservedAt} ${startedAt} ${beatAt}`);
    assert.equal(task.endedAt, null);
    assert.equal(task.exitCode, null);
    assert.equal(task.signal, null);
    assert.equal(task.timeoutMs, 30_000);
    assert.equal(typeof task.durationMs, 'number');
    assert.ok((task.durationMs as number) >= 0 && (task.durationMs as number) <= now - startedAt + 50, `durationMs ${task.durationMs}`);
    assert.deepEqual(task.progress, { done: 3, total: 8 });
    assert.deepEqual(task.feedback, { k: 'v', progress: '3/8' });

    writeFileSync(go, '');
    assert.equal((await launcher.ended).code, 0, launcher.output.stderr);
    const [ended] = (await s.json(['list', '--all'])) as (TaskJson & Record<string, unknown>)[];
    assert.ok(ended);
    assert.equal(ended.state, 'succeeded');
    assert.equal(ended.liveness, null);
    assert.match(String(ended.endedAt), ISO_UTC);
    assert.equal(ended.exitCode, 0);
    assert.equal(ended.signal, null);
    assert.equal(ended.durationMs, Date.parse(ended.endedAt as string) - Date.parse(ended.startedAt as string));
    assert.deepEqual(ended.progress, { done: 3, total: 8 });
    assert.deepEqual(ended.feedback, { k: 'v', progress: '3/8' });
    assert.ok(!('messages' in ended) && !('events' in ended));
    assert.deepEqual(await s.json(['list']), [], 'an ended task is not listed without --all');
  });

  test('--json for a reserved task: nothing started yet', async (t) => {
    const s = sandbox(t);
    const id = Number((await s.ok(['reserve', '--name', 'later'])).trim());
    const [task] = (await s.json(['list'])) as (TaskJson & Record<string, unknown>)[];
    assert.ok(task);
    assert.equal(task.id, id);
    assert.equal(task.state, 'reserved');
    assert.equal(task.liveness, null);
    assert.equal(task.pid, null);
    assert.equal(task.launcherPid, null);
    assert.match(String(task.reservedAt), ISO_UTC);
    assert.equal(task.startedAt, null);
    assert.equal(task.endedAt, null);
    assert.equal(task.durationMs, null);
    assert.equal(task.progress, null);
  });

  test('--all, --state (repeatable) and --name select tasks', async (t) => {
    const s = sandbox(t);
    const reserved = Number((await s.ok(['reserve', '--name', 'a'])).trim());
    const running = await launchBg(s, ['--name', 'b', '--', 'sleep', '300']);
    assert.equal((await s.run(['launch', '--name', 'a', '--', 'true'])).code, 0);
    assert.equal((await s.run(['launch', '--name', 'b', '--', 'false'])).code, 1);
    const all = await s.json(['list', '--all']);
    const succeeded = all.find((x) => x.state === 'succeeded')!.id;
    const failed = all.find((x) => x.state === 'failed')!.id;
    await waitRunning(s, running);
    const ids = async (args: string[]) => (await s.json(['list', ...args])).map((x) => x.id);
    assert.deepEqual(await ids([]), [reserved, running], 'active tasks only');
    assert.deepEqual(await ids(['--all']), [reserved, running, succeeded, failed]);
    assert.deepEqual(await ids(['--state', 'failed']), [failed]);
    assert.deepEqual(await ids(['--state', 'reserved', '--state', 'failed']), [reserved, failed]);
    assert.deepEqual(await ids(['--state', 'running']), [running]);
    assert.deepEqual(await ids(['--name', 'a']), [reserved]);
    assert.deepEqual(await ids(['--name', 'a', '--all']), [reserved, succeeded]);
    assert.deepEqual(await ids(['--name', 'b', '--state', 'failed']), [failed]);
    assert.deepEqual(await ids(['--name', 'nobody', '--all']), []);
    // The table filters the same way.
    const table = await s.ok(['list', '--name', 'a', '--all']);
    assert.deepEqual(table.trim().split('\n').slice(1).map((l) => Number(l.split(/\s+/)[0])), [reserved, succeeded]);
    const bad = await s.run(['list', '--state', 'bogus']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(oneLineError(bad.stderr), null);
  });

  test('liveness with --feedback --timeout: running, then silent, then stalled once the file stops changing', async (t) => {
    const s = sandbox(t);
    // 6 s rather than 4 s: each stage then lasts 1.5 s, long enough to be seen by a poll on a loaded machine.
    const TIMEOUT = 6000;
    const id = await launchBg(s, ['--name', 'quiet', '--feedback', '--timeout', `${TIMEOUT / 1000}s`, '--', NODE, fixture('steer-script.mjs'), 'fb:[step]1', 'wait:/nonexistent/never']);
    const seen: string[] = [];
    await until(
      async () => {
        const [task] = (await s.json(['list'])) as (TaskJson & { startedAt: string | null; lastHeartbeatAt: string | null; durationMs: number | null })[];
        if (!task || task.state !== 'running') return task ? task.state !== 'reserved' : false;
        // The rule, at the instant tw looked (startedAt + durationMs), from the last heartbeat it recorded.
        const now = Date.parse(task.startedAt!) + task.durationMs!;
        const share = (now - Date.parse(task.lastHeartbeatAt!)) / TIMEOUT;
        const want = share < 0.25 ? 'running' : share < 0.5 ? 'silent' : 'stalled';
        assert.equal(task.liveness, want, `${share * 100}% of the timeout since the last heartbeat`);
        if (seen.at(-1) !== task.liveness) seen.push(task.liveness!);
        return task.liveness === 'stalled';
      },
      { what: 'liveness stalled', everyMs: 20, timeoutMs: 15_000 },
    );
    const order = ['running', 'silent', 'stalled'];
    assert.deepEqual(seen, order.slice(order.indexOf(seen[0]!)), `liveness only moves forward: ${seen.join(' -> ')}`);
    assert.deepEqual(seen.slice(-2), ['silent', 'stalled'], `seen: ${seen.join(' -> ')}`);
    // Just stalled: about half the timeout is left before the kill, so the table shows it too.
    assert.match(await s.ok(['list']), new RegExp(`^${id}\\s+quiet\\s+stalled\\s`, 'm'));
    // At 100% of the timeout the launcher kills it.
    const ended = await waitEnded(s, id);
    assert.equal(ended.state, 'timed_out');
  });

  test('a task whose launcher was killed -9 while its child runs is `unsupervised`', async (t) => {
    const s = sandbox(t);
    const { launcher, id } = await launchFg(s, ['--name', 'orphan', '--', 'sleep', '300']);
    const task = await waitRunning(s, id);
    launcher.kill('SIGKILL');
    await launcher.ended;
    assert.ok(alive(task.pid!), 'the child outlives its launcher (own process group)');
    const [seen] = await s.json(['list']);
    assert.equal(seen?.state, 'running');
    assert.equal(seen?.liveness, 'unsupervised');
    assert.match(await s.ok(['list']), /\bunsupervised\b/);
    // Once the child is gone too, the task is lost.
    process.kill(task.pid!, 'SIGKILL');
    await until(() => !alive(task.pid!), { what: 'the child to die' });
    const [lost] = await s.json(['list', '--all']);
    assert.equal(lost?.state, 'lost');
  });
});
