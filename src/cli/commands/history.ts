import { lstatSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDuration } from '../../core/duration.js';
import { usageError } from '../../core/errors.js';
import { taskJson } from '../../core/json.js';
import { durationMs, TERMINAL_STATES, type TerminalState } from '../../core/task.js';
import { observe } from '../../tasks/observe.js';
import { depsOf } from '../../tasks/deps.js';
import { ownFileOf } from '../../store/location.js';
import type { PruneRule } from '../../store/store.js';
import { parseCount, parseStates } from '../args.js';
import type { Context } from '../context.js';
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
    if (ctx.stdout.isTTY) ctx.stderr.write('no history\n');
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
  if ((opts.olderThan === undefined) === (opts.keep === undefined)) throw usageError('give one of --older-than DUR or --keep N');
  const rule: PruneRule =
    opts.keep !== undefined ? { keep: parseCount(opts.keep, '--keep') } : { olderThan: ctx.now() - parseDuration(opts.olderThan!, '--older-than') };
  await removeHistory(rule, opts.name, ctx);
}

export async function clear(opts: { name?: string }, _args: string[], ctx: Context): Promise<void> {
  await removeHistory({ keep: 0 }, opts.name, ctx);
}

async function removeHistory(rule: PruneRule, name: string | undefined, ctx: Context): Promise<void> {
  const store = await ctx.openStore();
  // Only files tw made beside the store; a path the user named is theirs to keep. Each batch's
  // files go before its rows: that frees room, and SQLite needs room to delete (a full disk).
  const home = dirname(store.path);
  let kept = 0;
  const removeFiles = (files: { id: number; path: string }[]): void => {
    for (const file of files) {
      const rel = ownFileOf(store.path, file.path, file.id);
      if (rel !== null && !removeOwnFile(home, rel)) kept++;
    }
  };
  const { deleted } = store.prune(rule, name, removeFiles);
  ctx.stdout.write(`deleted ${deleted} task${deleted === 1 ? '' : 's'}\n`);
  if (kept) ctx.warn(`warning: left ${kept} file${kept === 1 ? '' : 's'} in place that tw did not make as they are now (a folder, a link, another owner's)`);
}

/**
 * Removes `home/rel` only if it is what tw made there: a plain file of ours in
 * a real folder of ours (never through a link, never a folder). Says whether
 * it is gone.
 */
function removeOwnFile(home: string, rel: string): boolean {
  const uid = process.getuid?.() ?? -1;
  try {
    const folder = lstatSync(join(home, dirname(rel)));
    if (!folder.isDirectory() || folder.uid !== uid) return false;
    const file = lstatSync(join(home, rel), { throwIfNoEntry: false });
    if (!file) return true;
    if (!file.isFile() || file.uid !== uid) return false;
    unlinkSync(join(home, rel));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
