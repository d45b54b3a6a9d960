// `tw describe --block`: wait until every named task is terminal; a live view
// with progress bars on a terminal, one plain line per change when piped.
import { ExitCode, TwError } from '../core/errors.js';
import { ACTIVE_STATES, durationMs, isTerminal, percentOf, type Liveness, type Task } from '../core/task.js';
import { asSeen, livenessOf, observe } from '../tasks/observe.js';
import { depsOf } from '../launcher/deps.js';
import type { Store } from '../store/store.js';
import { once, type Context } from './context.js';
import { fetchNamed } from './named-tasks.js';
import { summaryLines } from './describe-lines.js';
import { visible } from './escape.js';
import { cutCells, padCells } from './width.js';
import { colourOn, duration, paintState, stateText } from './format.js';
import { StoreWatch } from '../store/watch.js';

const FALLBACK_MS = 1000;
const BAR = 24;

/** Waits, and returns the ids waited for; the exit code says whether all succeeded. `quiet`: draw nothing. */
export async function block(store: Store, ids: number[], quiet: boolean, ctx: Context): Promise<number[]> {
  const warn = once(ctx.warn); // the loop reaps again and again: say each thing once
  observe(depsOf(store, { ...ctx, warn }));
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
  // A resized terminal is redrawn at once.
  let redraw = new AbortController();
  const onResize = () => redraw.abort();
  process.on('SIGWINCH', onResize);
  const watch = new StoreWatch(store);
  const printed = new Map<number, string>();
  let deleted = 0;
  let last: { task: Task; live: Liveness | null }[] = [];
  // The live view draws on the terminal's alternate screen: no frame is left in the scrollback,
  // only the final screen, printed once the view is gone.
  if (live) ctx.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    for (;;) {
      const now = ctx.now();
      const seen = observe(depsOf(store, { ...ctx, warn }));
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
      last = tasks;
      const done = tasks.every(({ task }) => isTerminal(task.state));
      if (live) {
        const frame = frameLines(tasks, now, colour, ctx.stdout.columns || 80, Math.max(2, (ctx.stdout.rows || 24) - 1));
        ctx.stdout.write(`\x1b[H\x1b[J${frame.join('\n')}`);
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
      if (redraw.signal.aborted) redraw = new AbortController();
      await watch.next(FALLBACK_MS, AbortSignal.any([stop.signal, redraw.signal]));
    }
  } finally {
    watch.close();
    if (live) {
      ctx.stdout.write('\x1b[?1049l\x1b[?25h');
      ctx.stdout.write(`${finalLines(last, ctx.now(), colour, ctx.stdout.columns || 80).join('\n')}\n`);
    }
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    process.off('SIGWINCH', onResize);
  }
}

type Shown = { task: Task; live: Liveness | null };

/** What went wrong first, then what still runs, then the rest: a screen full of running tasks must not hide a failure. */
const CONCERNS = ['not succeeded', 'active', 'succeeded'] as const;
const concern = ({ task }: Shown): (typeof CONCERNS)[number] => (!isTerminal(task.state) ? 'active' : task.state === 'succeeded' ? 'succeeded' : 'not succeeded');

function byConcern(tasks: Shown[]): Shown[] {
  return [...tasks].sort((a, b) => CONCERNS.indexOf(concern(a)) - CONCERNS.indexOf(concern(b)));
}

/** One frame of the live view: never wider or taller than the terminal (`rows` lines at most). */
function frameLines(tasks: Shown[], now: number, colour: boolean, columns: number, rows: number): string[] {
  const ordered = byConcern(tasks);
  const shown = ordered.length > rows ? ordered.slice(0, rows - 1) : ordered;
  const lines = shown.map((t) => liveLine(t.task, t.live, now, colour, columns));
  if (shown.length < ordered.length) {
    const rest = ordered.slice(shown.length);
    const parts = CONCERNS.map((kind) => [rest.filter((t) => concern(t) === kind).length, kind] as const).filter(([n]) => n > 0);
    lines.push(cutCells(`... and ${rest.length} more (${parts.map(([n, kind]) => `${n} ${kind}`).join(', ')})`, columns - 1));
  }
  return lines;
}

/** The final screen: every task that did not succeed, with its state and exit code, and how many did. */
function finalLines(tasks: Shown[], now: number, colour: boolean, columns: number): string[] {
  if (tasks.length === 0) return ['nothing to wait for'];
  const failed = byConcern(tasks).filter((t) => t.task.state !== 'succeeded');
  const active = tasks.filter((t) => !isTerminal(t.task.state)).length;
  const ok = tasks.length - failed.length;
  const how = ({ task }: Shown): string => (task.exitCode !== null ? `exit ${task.exitCode}` : task.signal ? task.signal : '');
  return [
    ...failed.map((t) => `${liveLine(t.task, t.live, now, colour, columns - 10)}  ${how(t)}`.trimEnd()),
    failed.length === 0 ? `all ${tasks.length} succeeded` : `${ok} of ${tasks.length} succeeded${active ? `, ${active} still active` : ''}`,
  ];
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
