// `tw show ID...`: every field of a task as an aligned block, for a person
// (Pulp's task details). Absent fields are left out.
import { formatInstant } from '../../core/duration.js';
import { taskJson } from '../../core/json.js';
import { durationMs, type Liveness, type Task, type WaitingFor } from '../../core/task.js';
import { depsOf } from '../../launcher/deps.js';
import { asSeen, livenessOf, observe, waitingOf } from '../../tasks/observe.js';
import { waitText } from '../../tasks/queue.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';
import { visible, visibleLines } from '../escape.js';
import { colourOn, duration, infoText, paintState, progressText } from '../format.js';
import { fetchNamed } from '../named-tasks.js';

export async function show(opts: { json?: boolean }, args: string[], ctx: Context): Promise<void> {
  const ids = args.map(parseId);
  const store = await ctx.openStore();
  const now = ctx.now();
  const seen = observe(depsOf(store, ctx));
  const shown = store.snapshot(() =>
    fetchNamed(store, ids).map((stored) => {
      const task = asSeen(stored, seen);
      return { task, live: livenessOf(task, seen, now), waiting: waitingOf(task, seen), story: { messages: store.messages(task.id), events: store.events(task.id) } };
    }),
  );
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(shown.map((s) => taskJson(s.task, s.live, now, s.story, s.waiting)))}\n`);
    return;
  }
  const colour = colourOn(ctx.stdout, ctx.env);
  ctx.stdout.write(`${shown.map((s) => block(s.task, s.live, s.waiting, now, colour).join('\n')).join('\n\n')}\n`);
}

function block(task: Task, live: Liveness | null, waiting: WaitingFor | null, now: number, colour: boolean): string[] {
  const state = task.state === 'running' && live && live !== 'running' ? `running (${live})` : waiting ? `waiting: ${waitText(waiting)}` : task.state;
  const when = (ms: number | null) => (ms === null ? null : formatInstant(ms));
  const fields: [string, string | null][] = [
    ['name', task.name],
    ['state', state],
    ['command', task.command && task.command.map(quoted).join(' ')],
    ['cwd', task.cwd],
    ['host', task.host],
    ['pid', task.pid === null ? null : `${task.pid}${task.launcher ? ` (launcher ${task.launcher.pid})` : ''}`],
    ['reserved', when(task.reservedAt)],
    ['started', when(task.startedAt)],
    ['ended', when(task.endedAt)],
    ['duration', task.startedAt === null ? null : duration(durationMs(task, now))],
    ['exit', task.signal ? `signal ${task.signal}` : task.exitCode === null ? null : `code ${task.exitCode}`],
    ['attempt', task.maxAttempts > 1 ? `${task.attempt} of ${task.maxAttempts}` : null],
    ['timeout', task.timeoutMs === null ? null : duration(task.timeoutMs)],
    ['heartbeat', task.lastHeartbeatAt !== null ? `${when(task.lastHeartbeatAt)} (${duration(now - task.lastHeartbeatAt)} ago)` : null],
    ['progress', task.progress ? progressText(task.progress) : null],
    ['result', task.result],
    ['info', Object.keys(task.info).length ? infoText(task) : null],
    ['feedback', task.feedbackPath],
    ['log', task.logPath],
  ];
  const present = fields.filter((f): f is [string, string] => f[1] !== null);
  const width = Math.max(...present.map(([k]) => k.length)) + 1;
  const lines = [`Task ${task.id}`];
  for (const [key, value] of present) {
    const label = `  ${`${key}:`.padEnd(width)}  `;
    // A result may run over lines, shown as lines; in any other field a newline is shown \n, as every view shows it.
    const [first = '', ...rest] = key === 'result' ? visibleLines(value) : [visible(value)];
    lines.push(`${label}${key === 'state' ? paintState(first, colour) : first}`, ...rest.map((l) => `${' '.repeat(label.length)}${l}`));
    // The feedback values, one key a line, under the file they came from.
    if (key === 'feedback') for (const [k, v] of Object.entries(task.feedback ?? {})) lines.push(`${' '.repeat(label.length + 2)}${visible(k)}: ${visible(v)}`);
  }
  return lines;
}

/** An argument as a shell would need it quoted to be read back as one word. */
const quoted = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
