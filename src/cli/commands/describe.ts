import { taskJson } from '../../core/json.js';
import { asSeen, livenessOf, observe, waitingOf } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import type { Store } from '../../store/store.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';
import { storyLines, summaryLines } from '../describe-lines.js';
import { colourOn } from '../format.js';
import { fetchNamed } from '../named-tasks.js';

export interface Options {
  nc?: boolean;
  block?: boolean;
  showAll?: boolean;
  json?: boolean;
}

export async function describe(opts: Options, args: string[], ctx: Context): Promise<void> {
  const ids = args.map(parseId);
  const store = await ctx.openStore();
  if (opts.block) {
    const { block } = await import('../block.js');
    // With --json the wait is silent and the JSON follows; --nc and --show-all describe the ends.
    const targets = await block(store, ids, Boolean(opts.json), ctx);
    if (opts.json && !targets.length) ctx.stdout.write('[]\n');
    if ((opts.json || opts.showAll || opts.nc) && targets.length) render(store, targets, opts, ctx);
    return;
  }
  render(store, ids, opts, ctx);
}

function render(store: Store, ids: number[], opts: Options, ctx: Context): void {
  const now = ctx.now();
  const seen = observe(depsOf(store, ctx));
  // Tasks, messages and events from one snapshot: never a task whose story has moved on without it.
  const shown = store.snapshot(() => {
    const tasks = fetchNamed(store, ids).map((t) => asSeen(t, seen)).filter((t) => !opts.nc || t.state !== 'succeeded');
    const story = opts.json || opts.showAll;
    return tasks.map((task) => ({ task, live: livenessOf(task, seen, now), waitingFor: waitingOf(task, seen), story: story ? { messages: store.messages(task.id), events: store.events(task.id) } : undefined }));
  });
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(shown.map((s) => taskJson(s.task, s.live, now, s.story, s.waitingFor)))}\n`);
    return;
  }
  if (shown.length === 0 && !opts.json) {
    ctx.stderr.write(opts.nc ? 'every task succeeded\n' : 'no tasks\n');
    return;
  }
  const lines = summaryLines(shown, colourOn(ctx.stdout, ctx.env));
  const out = opts.showAll ? lines.flatMap((line, i) => [line, ...storyLines(shown[i]!.story!.messages, shown[i]!.story!.events)]) : lines;
  if (out.length) ctx.stdout.write(`${out.join('\n')}\n`);
}
