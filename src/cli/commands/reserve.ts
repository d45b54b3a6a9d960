import { reserveTask } from '../../tasks/admit.js';
import { depsOf } from '../../launcher/deps.js';
import { parseInfo } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  name: string;
  unique?: boolean;
  info?: string[];
}

export async function reserve(opts: Options, _args: string[], ctx: Context): Promise<void> {
  const info = parseInfo(opts.info);
  const deps = depsOf(await ctx.openStore(), ctx);
  const task = reserveTask(deps, { name: opts.name, info, unique: Boolean(opts.unique) });
  ctx.stdout.write(`${task.id}\n`);
}
