// `tw describe --block`: wait until every named task is terminal; a live view
// with progress bars on a terminal, one plain line per change when piped.
import { ExitCode, TwError } from '../core/errors.js';
import { ACTIVE_STATES, durationMs, isTerminal, percentOf, type Liveness, type Task } from '../core/task.js';
import { asSeen, livenessOf, reap } from '../launcher/reap.js';
import type { Store } from '../store/store.js';
import { once, type Context } from './context.js';
import { fetchNamed } from './named-tasks.js';
import { summaryLines } from './describe-lines.js';
import { visible } from './escape.js';
import { cutCells, padCells } from './width.js';
import { colourOn, duration, paintState, stateText } from './format.js';
import { StoreWatch } from './store-watch.js';

const FALLBACK_MS = 1000;
const BAR = 24;

/** Waits, and returns the ids waited for; the exit code says whether all succeeded. `quiet`: draw nothing. */
export async function block(store: Store, ids: number[], quiet: boolean, ctx: Context): Promise<number[]> {
  const warn = once(ctx.warn); // the loop reaps again and again: say each thing once
  reap(store, ctx.now(), warn);
  // No ids: every active task, but a plain `tw reserve` that waits for a `launch --id` nobody may ever run.
  let targets = ids.length
    ? fetchNamed(store, ids).map((t) => t.id)
    : store.find({ states: ACTIVE_STATES }).filter((t) => t.state !== 'reserved' || t.launcher).map((t) => t.id);
  const live = !quiet && Boolean(ctx.stdout.isTTY);
  const colour = colourOn(ctx.stdout, ctx.env);
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const watch = new StoreWatch(store);
  const printed = new Map<number, string>();
  let drawn = 0;
  let deleted = 0;
  if (live) ctx.stdout.write('\x1b[?25l');
  try {
    for (;;) {
      const now = ctx.now();
      const seen = reap(store, now, warn);
      // A task deleted meanwhile (prune, clear) ends the wait for it, with a word; it cannot count as succeeded.
      const found = new Map(targets.length ? store.find({ ids: targets }).map((t) => [t.id, t]) : []);
      for (const id of targets.filter((t) => !found.has(t))) {
        ctx.warn(`task ${id} was deleted while waited on; how it ended is not known`);
        deleted++;
      }
      const tasks = targets.flatMap((id) => {
        const stored = found.get(id);
        const task = stored && asSeen(stored, seen);
        return task ? [{ task, live: livenessOf(task, seen, now) }] : [];
      });
      targets = tasks.map(({ task }) => task.id);
      const done = tasks.every(({ task }) => isTerminal(task.state));
      if (live) {
        // Never wider or taller than the terminal: a wrapped line would break the redraw.
        const columns = ctx.stdout.columns || 80;
        const room = Math.max(1, (ctx.stdout.rows || 24) - 1);
        const shown = tasks.length > room ? tasks.filter((t) => !isTerminal(t.task.state)).slice(0, room - 1) : tasks;
        const lines = shown.map((t) => liveLine(t.task, t.live, now, colour, columns));
        if (shown.length < tasks.length) lines.push(`... and ${tasks.length - shown.length} more (${tasks.filter((t) => isTerminal(t.task.state)).length} ended)`.slice(0, columns - 1));
        ctx.stdout.write(`${drawn ? `\x1b[${drawn}A\r\x1b[J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else if (!quiet) {
        const lines = summaryLines(tasks, false, true);
        tasks.forEach(({ task, live: l }, i) => {
          const key = `${stateText(task, l)} ${JSON.stringify(task.progress)}`;
          if (printed.get(task.id) !== key) ctx.stdout.write(`${lines[i]}\n`);
          printed.set(task.id, key);
        });
      }
      if (done) {
        process.exitCode = deleted === 0 && tasks.every(({ task }) => task.state === 'succeeded') ? ExitCode.Ok : ExitCode.Refused;
        return targets;
      }
      if (stop.signal.aborted) throw new TwError('interrupted; the tasks go on', 130);
      await watch.next(FALLBACK_MS, stop.signal);
    }
  } finally {
    watch.close();
    if (live) ctx.stdout.write('\x1b[?25h');
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

function liveLine(task: Task, live: Liveness | null, now: number, colour: boolean, columns: number): string {
  const pct = percentOf(task.progress);
  const filled = pct === null ? 0 : Math.round((BAR * Math.min(100, pct)) / 100);
  const bar = pct === null ? ' '.repeat(BAR) : '#'.repeat(filled) + '.'.repeat(BAR - filled);
  const state = stateText(task, live);
  const elapsed = duration(durationMs(task, now));
  const pctText = pct === null ? '    ' : `${Math.floor(pct).toString().padStart(3)}%`;
  const head = `${String(task.id).padStart(6)}  ${padCells(cutCells(visible(task.name), 20), 20)}  [${bar}] ${pctText}  ${elapsed.padStart(7)}  `;
  return `${cutCells(head, Math.max(0, columns - 1 - state.length))}${paintState(state, colour)}`;
}
