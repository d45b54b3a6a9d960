// `tw events`: every state change and message, in commit order, each with its
// store-wide sequence number; -f follows, --after resumes exactly.
import { formatInstant, parseDuration } from '../../core/duration.js';
import type { FeedEntry } from '../../store/store.js';
import { StoreWatch } from '../../store/watch.js';
import { parseCount, parseId } from '../args.js';
import type { Context } from '../context.js';
import { visible } from '../escape.js';
import { cutCells, padCells } from '../width.js';

interface Options {
  follow?: boolean;
  after?: string;
  since?: string;
  name?: string;
  json?: boolean;
}

const FALLBACK_MS = 1000;
const BATCH = 10_000;

export async function events(opts: Options, args: string[], ctx: Context): Promise<void> {
  const ids = args.map(parseId);
  let after = opts.after === undefined ? 0 : parseCount(opts.after, '--after');
  const since = opts.since === undefined ? undefined : ctx.now() - parseDuration(opts.since, '--since');
  // Following ends on Ctrl-C with 0, from the first moment: the handler comes before the store is even opened.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  if (opts.follow) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
  const store = await ctx.openStore();
  const print = (entries: FeedEntry[]): void => {
    if (entries.length) ctx.stdout.write(`${entries.map((e) => (opts.json ? JSON.stringify(entryJson(e)) : line(e))).join('\n')}\n`);
  };
  // In batches, so a long history never sits in memory at once.
  const drain = (): void => {
    for (;;) {
      const entries = store.feed({ after, since, name: opts.name, ids, limit: BATCH });
      print(entries);
      if (entries.length) after = entries[entries.length - 1]!.seq;
      if (entries.length < BATCH) return;
    }
  };
  if (!opts.follow) {
    drain();
    if (after === 0 && !opts.json && ctx.stdout.isTTY) ctx.stderr.write('no events\n');
    return;
  }
  const watch = new StoreWatch(store);
  try {
    while (!stop.signal.aborted) {
      drain();
      await watch.next(FALLBACK_MS, stop.signal);
    }
  } finally {
    watch.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const entryJson = (e: FeedEntry) => ({
  seq: e.seq,
  at: new Date(e.at).toISOString(),
  taskId: e.taskId,
  name: e.name,
  host: e.host,
  kind: e.kind,
  from: e.from,
  to: e.to,
  reason: e.reason,
  type: e.type,
  text: e.text,
});

/** One aligned line: sequence, time, task, name, then what happened. */
function line(e: FeedEntry): string {
  const what = e.kind === 'state' ? `${e.from ?? 'new'} -> ${e.to}: ${e.reason ?? ''}` : `${e.type}: ${e.text ?? ''}`;
  return `${String(e.seq).padStart(7)}  ${formatInstant(e.at)}  ${String(e.taskId).padStart(6)}  ${padCells(cutCells(visible(e.name), 20), 20)}  ${visible(what.replace(/\n/g, ' '))}`;
}
