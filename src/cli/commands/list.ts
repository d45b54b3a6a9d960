import { taskJson } from '../../core/json.js';
import { ACTIVE_STATES, durationMs, overdue } from '../../core/task.js';
import { asSeen, livenessOf, observe, waitingOf } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import { groupUsage } from '../../launcher/usage.js';
import { parseStates } from '../args.js';
import type { Context } from '../context.js';
import { bytes, colourOn, dash, duration, heartbeatAge, infoText, instant, progressText, renderTable, stateText } from '../format.js';

interface Options {
  all?: boolean;
  state?: string[];
  name?: string;
  json?: boolean;
}

export async function list(opts: Options, _args: string[], ctx: Context): Promise<void> {
  const states = parseStates(opts.state);
  const store = await ctx.openStore();
  const now = ctx.now();
  const seen = observe(depsOf(store, ctx));
  const tasks = store.find({ states: states.length ? states : opts.all ? undefined : ACTIVE_STATES, name: opts.name }).map((t) => asSeen(t, seen));
  const usageOf = () => groupUsage(new Set(tasks.filter((t) => t.state === 'running' && t.pid !== null).map((t) => t.pid!)));
  if (opts.json) {
    // A running task's CPU and memory too, as the table shows them (its whole process group).
    const usage = usageOf();
    const withUsage = tasks.map((t) => {
      const use = t.state === 'running' && t.pid !== null ? usage.get(t.pid) : undefined;
      return { ...taskJson(t, livenessOf(t, seen, now), now, undefined, waitingOf(t, seen)), cpuPercent: use ? Number(use.cpuPercent.toFixed(1)) : null, memoryBytes: use ? use.rssBytes : null };
    });
    ctx.stdout.write(`${JSON.stringify(withUsage)}\n`);
    return;
  }
  if (tasks.length === 0) {
    ctx.stderr.write(opts.all || states.length ? 'no tasks\n' : 'no active tasks (tw list --all shows every task)\n');
    return;
  }
  const usage = usageOf();
  const colour = colourOn(ctx.stdout, ctx.env);
  const rows = tasks.map((t) => {
    const use = t.state === 'running' && t.pid !== null ? usage.get(t.pid) : undefined;
    return [
      String(t.id),
      t.name,
      stateText(t, livenessOf(t, seen, now), waitingOf(t, seen)),
      t.pid === null ? dash : String(t.pid),
      use ? use.cpuPercent.toFixed(1) : dash,
      use ? bytes(use.rssBytes) : dash,
      instant(t.startedAt),
      duration(durationMs(t, now)),
      progressText(t.progress),
      heartbeatAge(t, now),
      // Its launcher gone, nobody enforces the timeout: say so (tw cancel stops it).
      seen.unsupervised.has(t.id) && overdue(t, now) ? `${duration(t.timeoutMs)} OVERDUE` : duration(t.timeoutMs),
      infoText(t),
    ];
  });
  // On a terminal, the table fits its width: the least useful columns go first. Piped, all of them.
  const columns = ctx.stdout.isTTY ? ctx.stdout.columns : undefined;
  const fit = columns ? { columns, drop: ['INFO', 'STARTED', 'CPU%', 'MEM', 'TIMEOUT', 'PID', 'HEARTBEAT', 'DURATION', 'PROGRESS'], shorten: { column: 'NAME', cells: 24 } } : undefined;
  ctx.stdout.write(renderTable(['ID', 'NAME', 'STATE', 'PID', 'CPU%', 'MEM', 'STARTED', 'DURATION', 'PROGRESS', 'HEARTBEAT', 'TIMEOUT', 'INFO'], rows, { column: 2, colour }, fit));
}
