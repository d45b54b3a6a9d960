import { TwError } from '../../core/errors.js';
import { reap } from '../../launcher/reap.js';
import { parseInfo } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  name: string;
  unique?: boolean;
  info?: string[];
}

export async function reserve(opts: Options, _args: string[], ctx: Context): Promise<void> {
  const info = parseInfo(opts.info);
  const store = await ctx.openStore();
  // A task whose launcher died must not hold its name: notice it first.
  if (opts.unique) reap(store, ctx.now());
  const result = store.reserve({ name: opts.name, info, unique: Boolean(opts.unique) }, ctx.now());
  if (!result.ok) {
    throw new TwError(`task ${result.conflict.id} named '${opts.name}' is already ${result.conflict.state}; not reserving another`);
  }
  ctx.stdout.write(`${result.task.id}\n`);
}
