// `tw completion bash|zsh|fish` (issue 17, 19): scripts written from the
// table of commands; bash's is run here, completing commands, flags, task
// ids (active ones for cancel) and names from a real store.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { BIN, NODE, requireBuild, sandbox, type Sandbox } from './helpers.js';
import { launchBg, waitRunning } from './steer-helpers.js';

before(requireBuild);

/** Runs `script` in bash with `tw` on PATH as this sandbox's tw. */
function bashWithTw(s: Sandbox, script: string): { status: number | null; stdout: string; stderr: string } {
  const bin = join(s.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tw'), `#!/bin/sh\nexec "${NODE}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'tw'), 0o755);
  return spawnSync('bash', ['-c', script], { env: { ...s.env(), PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
}

test('bash completion: commands, flags, active ids for cancel, every id for describe, names for --name', async (t) => {
  const s = sandbox(t);
  const running = await launchBg(s, ['--name', 'backup', '--', 'sleep', '30']);
  await waitRunning(s, running);
  assert.equal((await s.run(['launch', '--name', 'etl', '--', 'true'])).code, 0);
  const script = `
    source <(tw completion bash)
    t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); COMPREPLY=(); _tw; echo "\${COMPREPLY[*]}"; }
    t tw ca; t tw cancel ""; t tw describe ""; t tw launch --ti; t tw list --name ""; t tw completion ""
    t tw list --state w; t tw history --limit 5 p; t tw launch --max-running 2 --log-max 1M --af`;
  const r = bashWithTw(s, script);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n'), ['cancel', String(running), `${running} 2`, '--timeout', 'backup etl', 'bash zsh fish', 'waiting', 'prune', '--after']);
  for (const shell of ['zsh', 'fish']) assert.match(await s.ok(['completion', shell]), /waiting/, `${shell}: --state offers waiting`);
  await s.ok(['cancel', String(running)]);
  for (const shell of ['zsh', 'fish']) assert.match(await s.ok(['completion', shell]), /tw/);
  assert.equal((await s.run(['completion', 'tcsh'])).code, 2);
});

test('bash completion never runs what a task name holds', async (t) => {
  const s = sandbox(t);
  const pwned = join(s.dir, 'pwned');
  assert.equal((await s.run(['launch', '--name', `$(touch ${pwned})`, '--', 'true'])).code, 0);
  const script = `source <(tw completion bash); COMP_WORDS=(tw list --name ""); COMP_CWORD=3; _tw; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = bashWithTw(s, script);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `$(touch ${pwned})\n`, 'the name offered as it is');
  assert.equal(existsSync(pwned), false, 'the name was run');
});
