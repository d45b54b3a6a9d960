// `tw live`: a live `tw list` on a terminal, as top is: redrawn on every
// change of the store and every second, on the terminal's alternate screen,
// with progress bars, heartbeat ages, waiting tasks with their place, and
// the latest ends. `q` or Ctrl-C
// quits and leaves the terminal as it was.
import { usageError } from '../../core/errors.js';
import { ACTIVE_STATES, durationMs, percentOf, type Task } from '../../core/task.js';
import { livenessOf, observe, asSeen, waitingOf } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import { once, type Context } from '../context.js';
import { colourOn, dash, duration, heartbeatAge, renderTable, stateText } from '../format.js';
import { StoreWatch } from '../../store/watch.js';

const EVERY_MS = 1000;
const RECENT = 5;
const BAR = 12;

export async function live(_opts: object, _args: string[], ctx: Context): Promise<void> {
  if (!ctx.stdout.isTTY || !process.stdin.isTTY) throw usageError('tw live needs a terminal; tw list --json is for scripts');
  const store = await ctx.openStore();
  const warn = once(() => {}); // a warning would break the screen: the table shows what reaping saw
  const colour = colourOn(ctx.stdout, ctx.env);
  const quit = new AbortController();
  let redraw = new AbortController();
  const onKey = (key: Buffer) => {
    if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03)) quit.abort(); // q, Q, Ctrl-C
  };
  const onResize = () => redraw.abort();
  process.stdin.setRawMode(true);
  process.stdin.on('data', onKey);
  process.on('SIGWINCH', onResize);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => quit.abort());
  const watch = new StoreWatch(store);
  ctx.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!quit.signal.aborted) {
      const now = ctx.now();
      const seen = observe(depsOf(store, { ...ctx, warn }));
      const active = store.find({ states: ACTIVE_STATES }).map((t) => asSeen(t, seen));
      const ended = store.history({ limit: RECENT });
      const columns = ctx.stdout.columns || 80;
      const rows = Math.max(5, (ctx.stdout.rows || 24) - 1);
      // Two tables, each with the columns that say something of its tasks: the active ones' heartbeats, the ended ones' exits.
      const activeRow = (t: Task) => [
        String(t.id),
        t.name,
        stateText(t, livenessOf(t, seen, now), waitingOf(t, seen)),
        bar(t),
        heartbeatAge(t, now),
        duration(durationMs(t, now)),
      ];
      const endedRow = (t: Task) => [String(t.id), t.name, stateText(t, null), duration(durationMs(t, now)), t.exitCode !== null ? String(t.exitCode) : (t.signal ?? dash)];
      const shorten = { column: 'NAME', cells: 20 };
      const shownActive = active.slice(0, Math.max(1, rows - 5 - Math.min(RECENT, ended.length)));
      const lines = [
        `tw live: ${active.length} active${shownActive.length < active.length ? ` (${shownActive.length} shown)` : ''}; q quits`,
        ...(active.length
          ? table(['ID', 'NAME', 'STATE', 'PROGRESS', 'HEARTBEAT', 'DURATION'], shownActive.map(activeRow), { columns, drop: ['DURATION', 'HEARTBEAT', 'PROGRESS'], shorten }, colour)
          : ['no active tasks']),
        '',
        ...(ended.length ? ['recent ends:', ...table(['ID', 'NAME', 'STATE', 'DURATION', 'EXIT'], ended.map(endedRow), { columns, drop: ['DURATION'], shorten }, colour)] : []),
      ].slice(0, rows);
      ctx.stdout.write(`\x1b[H\x1b[J${lines.join('\n')}`);
      if (redraw.signal.aborted) redraw = new AbortController();
      await watch.next(EVERY_MS, AbortSignal.any([quit.signal, redraw.signal]));
    }
  } finally {
    watch.close();
    ctx.stdout.write('\x1b[?1049l\x1b[?25h');
    process.stdin.setRawMode(false);
    process.stdin.off('data', onKey);
    process.stdin.pause();
    process.off('SIGWINCH', onResize);
  }
}

const table = (head: string[], rows: string[][], fit: Parameters<typeof renderTable>[3], colour: boolean): string[] =>
  renderTable(head, rows, { column: 2, colour }, fit).trimEnd().split('\n');

/** A progress bar with its percent, or a dash. */
function bar(t: Task): string {
  const pct = percentOf(t.progress);
  if (pct === null) return dash;
  const filled = Math.round((BAR * Math.min(100, pct)) / 100);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${Math.floor(pct)}%`;
}
