import { parseDuration } from '../../core/duration.js';
import { usageError } from '../../core/errors.js';
import { taskJson } from '../../core/json.js';
import { durationMs, TERMINAL_STATES, type TerminalState } from '../../core/task.js';
import { observe } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import { taskFileRemover } from '../../store/own-files.js';
import type { PruneRule } from '../../store/store.js';
import { parseCount, parseStates } from '../args.js';
import type { Context } from '../context.js';
import { visible } from '../escape.js';
import { colourOn, duration, infoText, instant, renderTable } from '../format.js';

interface ListOptions {
  limit: string;
  name?: string;
  state?: string[];
  since?: string;
  json?: boolean;
}

export async function history(opts: ListOptions, _args: string[], ctx: Context): Promise<void> {
  const limit = parseCount(opts.limit, '--limit');
  const states = parseStates(opts.state);
  const bad = states.find((s) => !(TERMINAL_STATES as readonly string[]).includes(s));
  if (bad) throw usageError(`'${bad}' is not a terminal state; history holds ${TERMINAL_STATES.join(', ')}`);
  const now = ctx.now();
  const endedSince = opts.since === undefined ? undefined : now - parseDuration(opts.since, '--since');
  const store = await ctx.openStore();
  observe(depsOf(store, ctx));
  const tasks = store.history({ name: opts.name, states: states as TerminalState[], endedSince, limit: limit || undefined });
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(tasks.map((t) => taskJson(t, null, now)))}\n`);
    return;
  }
  if (tasks.length === 0) {
    ctx.stderr.write('no history\n');
    return;
  }
  const colour = colourOn(ctx.stdout, ctx.env);
  const rows = tasks.map((t) => [
    String(t.id),
    t.name,
    t.state,
    t.exitCode === null ? (t.signal ?? '-') : String(t.exitCode),
    instant(t.startedAt),
    instant(t.endedAt),
    duration(durationMs(t, now)),
    infoText(t),
  ]);
  ctx.stdout.write(renderTable(['ID', 'NAME', 'STATE', 'EXIT', 'STARTED', 'ENDED', 'DURATION', 'INFO'], rows, { column: 2, colour }));
}

export async function prune(opts: { olderThan?: string; keep?: string; name?: string }, _args: string[], ctx: Context): Promise<void> {
  if (opts.olderThan !== undefined && opts.keep !== undefined) throw usageError('give one of --older-than DUR or --keep N, not both');
  if (opts.olderThan === undefined && opts.keep === undefined) {
    if (opts.name !== undefined) throw usageError('give --older-than DUR or --keep N with --name');
    return pruneByTypes(ctx);
  }
  const rule: PruneRule =
    opts.keep !== undefined ? { keep: parseCount(opts.keep, '--keep') } : { olderThan: ctx.now() - parseDuration(opts.olderThan!, '--older-than') };
  await removeHistory(rule, opts.name, ctx);
}

export async function clear(opts: { name?: string }, _args: string[], ctx: Context): Promise<void> {
  await removeHistory({ keep: 0 }, opts.name, ctx);
}

/** The cron form: each type's retention (`--keep DUR`, `--keep-last N`); names without one are kept. */
async function pruneByTypes(ctx: Context): Promise<void> {
  const store = await ctx.openStore();
  const types = store.types().filter((t) => t.keepMs !== null || t.keepLast !== null);
  if (types.length === 0) {
    ctx.stdout.write('no type has a retention (tw type set NAME --keep DUR | --keep-last N); nothing deleted\n');
    return;
  }
  const files = taskFileRemover(store.path);
  const now = ctx.now();
  let total = 0;
  for (const t of types) {
    let deleted = 0;
    if (t.keepMs !== null) deleted += store.prune({ olderThan: now - t.keepMs }, t.name, files.remove).deleted;
    if (t.keepLast !== null) deleted += store.prune({ keep: t.keepLast }, t.name, files.remove).deleted;
    ctx.stdout.write(`${visible(t.name)}: deleted ${deleted} task${deleted === 1 ? '' : 's'}\n`);
    total += deleted;
  }
  if (types.length > 1) ctx.stdout.write(`deleted ${total} task${total === 1 ? '' : 's'} in all\n`);
  files.warnKept(ctx.warn);
}

async function removeHistory(rule: PruneRule, name: string | undefined, ctx: Context): Promise<void> {
  const store = await ctx.openStore();
  const files = taskFileRemover(store.path);
  const { deleted } = store.prune(rule, name, files.remove);
  ctx.stdout.write(`deleted ${deleted} task${deleted === 1 ? '' : 's'}\n`);
  files.warnKept(ctx.warn);
}
