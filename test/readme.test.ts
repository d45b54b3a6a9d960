// The README's examples, run as written: every ```sh block is taken from
// README.md and run with bash in a sandbox (a fresh HOME and default store
// location, `tw` on PATH as the built binary, and small stand-ins for the
// programs the examples name: ./backup.sh, make, ffmpeg...). A block of `$ `
// lines is a transcript: each command's output must match what follows it.
// Only the set-up block is left out (it is npm ci and npm test themselves).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { BIN, exec, NODE, pingServer, ROOT, sandbox, requireBuild, type Sandbox } from './helpers.js';

before(requireBuild);

interface Block {
  heading: string;
  lines: string[];
}

/** The ```sh blocks of the README, each with the heading it is under. */
function shBlocks(): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  let open: Block | null = null;
  for (const line of readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')) {
    if (open) {
      if (line.startsWith('```')) open = null;
      else open.lines.push(line);
    } else if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    else if (line === '```sh') blocks.push((open = { heading, lines: [] }));
  }
  return blocks;
}

const blocks = shBlocks();
const blockUnder = (heading: string): Block => {
  const found = blocks.filter((b) => b.heading === heading);
  assert.equal(found.length, 1, `one sh block under "${heading}"`);
  return found[0]!;
};

/**
 * Stand-ins for the world the examples name but a test cannot have: a path
 * under /var/lib, a file in /tmp that other runs would share, the
 * healthchecks.io server. Each is replaced in the example's text.
 */
function standIns(box: string, pingUrl: string): [string, string][] {
  return [
    ['/var/lib/prometheus/node-exporter/', `${box}/prom/`],
    ['/tmp/etl.log', `${box}/etl.log`],
    ['https://hc-ping.com/UUID', pingUrl],
  ];
}

/** The programs the examples run: they print who they are; encode.sh takes its time (the queue's example). */
function makeWorld(s: Sandbox): { box: string; work: string; env: NodeJS.ProcessEnv } {
  const box = s.dir;
  const work = join(box, 'work');
  const bin = join(box, 'bin');
  for (const dir of [work, bin, join(box, 'prom'), join(box, 'home')]) mkdirSync(dir, { recursive: true });
  const script = (path: string, body: string) => {
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };
  script(join(bin, 'tw'), `exec "${NODE}" "${BIN}" "$@"`);
  for (const name of ['make', 'ffmpeg']) script(join(bin, name), `echo "${name} $*"`);
  script(join(bin, 'notify-send'), `echo "$*" >> "${box}/notified"`);
  for (const name of ['backup', 'etl', 'import', 'nightly', 'report', 'flaky', 'chatty']) script(join(work, `${name}.sh`), `echo "${name} $*"`);
  script(join(work, 'encode.sh'), 'echo "encoding $1"; sleep 2');
  writeFileSync(join(work, 'err.log'), 'Traceback (most recent call last):\nValueError: bad row 7\n');
  writeFileSync(join(work, 'feedback.txt'), '[progress]3/8\n[table]orders\n');
  const env = s.env({ TW_DB: undefined, XDG_STATE_HOME: join(box, 'state'), PATH: `${bin}:${process.env.PATH}` });
  return { box, work, env };
}

/** bash -c SCRIPT, to its end (never spawnSync: the ping server answers from this process). */
const bash = (script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000) => exec('bash', ['-c', script], { cwd, fullEnv: env, timeoutMs });

/** `tw ARGS` in the sandbox's world, to its end; its stdout. */
async function tw(world: ReturnType<typeof makeWorld>, args: string): Promise<string> {
  const r = await bash(`tw ${args}`, world.work, world.env);
  assert.equal(r.code, 0, `tw ${args}: ${r.stderr}`);
  return r.stdout;
}

describe('the README, as written', { concurrency: true }, () => {
  test('every command of "Commands", one after another, exits as the contract says', async (t) => {
    const s = sandbox(t);
    const world = makeWorld(s);
    const { url, hits } = await pingServer(t);
    // The examples speak of tasks 41, 42 and 43: 40 cancelled reservations, then three that ran.
    await tw(world, 'reserve >/dev/null; for i in $(seq 2 40); do tw reserve >/dev/null; done; tw cancel $(seq 1 40) >/dev/null');
    await tw(world, 'launch -- true');
    await tw(world, `launch --name backup --feedback -- sh -c 'echo "[progress]3/8" >> "$TW_FEEDBACK"; tw message --type result "3 of 8 tables"'`);
    await tw(world, 'launch -- true');

    // Lines that do not exit 0 by design, and why.
    const expected: [RegExp, number][] = [
      [/^tw cancel 42 /, 1], // 42 has ended by then: "nothing to cancel", non-zero
      [/^tw cancel --name backup$/, 1], // no backup is running by then
      [/^tw live /, 2], // needs a terminal (live.test.ts drives it in tmux); piped, it says so
    ];
    const lines = blockUnder('Commands').lines;
    let script = 'exec 3>"$STATUS"\n';
    lines.forEach((raw, i) => {
      let line = raw;
      for (const [from, to] of standIns(world.box, url)) line = line.split(from).join(to);
      if (!line.trim() || line.trim().startsWith('#')) return;
      // `-f` follows until Ctrl-C: given one once it has printed, it must end with 0.
      if (/^tw events -f /.test(line)) {
        const command = line.replace(/\s+#.*$/, '');
        line = `${command} > "$FOLLOWED" & follow=$!; for i in $(seq 400); do [ -s "$FOLLOWED" ] && break; sleep 0.05; done; kill -INT $follow; wait $follow`;
      }
      script += `${line}\necho "${i} $?" >&3\n`;
    });
    const status = join(world.box, 'status');
    const followed = join(world.box, 'followed');
    const r = await bash(script, world.work, { ...world.env, STATUS: status, FOLLOWED: followed, TW_TASK_ID: '42' }, 180_000);
    assert.equal(r.code, 0, `the block ran to its end: ${r.stderr}`);
    const codes = new Map(readFileSync(status, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]));
    const commands = lines.map((l, i) => [l.trim(), i] as const).filter(([l]) => l && !l.startsWith('#'));
    for (const [line, i] of commands) {
      const want = expected.find(([re]) => re.test(line))?.[1] ?? 0;
      assert.equal(codes.get(i), want, `README line "${line}" exited ${codes.get(i)}, not ${want}\n${r.stderr}`);
    }
    assert.equal(codes.size, commands.length, 'every line ran');
    // And did what its comment says.
    assert.match(r.stdout, /all succeeded/, 'describe --block 42 43 && echo all succeeded');
    for (const l of readFileSync(followed, 'utf8').trim().split('\n')) assert.equal(typeof (JSON.parse(l) as { seq: number }).seq, 'number', 'events -f --json: a JSON object a line');
    assert.ok(existsSync(join(world.box, 'prom', 'tw.prom')), 'metrics --out wrote its file');
    assert.match(readFileSync(join(world.box, 'notified'), 'utf8'), /^tw: \d+ succeeded$/m, 'on-end ran notify-send with TW_TASK_ID and TW_STATE');
    assert.deepEqual(hits.map((h) => h.path), ['/check/start', '/check/0'], 'the ping: start, then exit code 0');
    assert.ok(existsSync(join(world.box, 'etl.log')), 'the detached etl wrote its named log');
  });

  test('"Completion": the lines install scripts that bash sources and that complete tw', async (t) => {
    const s = sandbox(t);
    const world = makeWorld(s);
    const r = await bash(blockUnder('Completion').lines.join('\n'), world.work, world.env);
    assert.equal(r.code, 0, r.stderr);
    const home = world.env.HOME!;
    assert.ok(existsSync(join(home, '.config', 'fish', 'completions', 'tw.fish')));
    const sourced = await bash('source ~/.bashrc && complete -p tw', world.work, world.env);
    assert.equal(sourced.code, 0, sourced.stderr);
    assert.match(sourced.stdout, /complete .* tw$/m);
    assert.match(readFileSync(join(home, '.zshrc'), 'utf8'), /tw completion zsh/);
  });

  test('"The feedback file": the example runs, and its progress ends at 8/8', async (t) => {
    const s = sandbox(t);
    const world = makeWorld(s);
    const r = await bash(blockUnder('The feedback file').lines.join('\n'), world.work, world.env);
    assert.equal(r.code, 0, r.stderr);
    const [task] = JSON.parse(await tw(world, 'history --json')) as { name: string; state: string; progress: unknown }[];
    assert.deepEqual([task!.name, task!.state, task!.progress], ['import', 'succeeded', { done: 8, total: 8 }]);
  });

  test('"Queues, with no daemon": the transcript, command by command', async (t) => {
    const s = sandbox(t);
    const world = makeWorld(s);
    const transcript = blockUnder('Queues, with no daemon').lines;
    // Its ids start at 7: six tasks before it.
    await tw(world, 'launch -- true; for i in 2 3 4 5 6; do tw launch -- true; done');
    const steps: { command: string; output: string[] }[] = [];
    for (const line of transcript) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
      else steps.at(-1)!.output.push(line);
    }
    for (const { command, output } of steps) {
      const r = await bash(`${command} 2>&1`, world.work, world.env);
      const got = r.stdout.trimEnd().split('\n');
      output.forEach((want, i) => {
        if (want.startsWith('...')) return; // prose: what follows is described, not shown
        const norm = (text: string) => text.replace(/\s+/g, ' ').trim();
        const prefix = norm(want.replace(/\.\.\.$/, ''));
        assert.ok(norm(got[i] ?? '').startsWith(prefix), `$ ${command}\nline ${i + 1}: want "${want}"\ngot:\n${r.stdout}`);
      });
      if (!output.some((l) => l.startsWith('...'))) assert.equal(got.length, output.length, `$ ${command}: no more lines than shown\n${r.stdout}`);
      assert.equal(r.code, 0, `$ ${command}: ${r.stdout}`);
    }
  });

  test('every sh block of the README is run by a test here, but the set-up', () => {
    const run = ['Commands', 'Completion', 'The feedback file', 'Queues, with no daemon'];
    assert.deepEqual(
      blocks.map((b) => b.heading).filter((h) => !run.includes(h)),
      ['Set-up'],
      'a new sh block needs a test in readme.test.ts',
    );
  });
});
