// `tw result ID`: the task's result text alone, for `r=$(tw result 42)`.
import { noSuchTask, TwError } from '../../core/errors.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';
import { visible } from '../escape.js';

export async function result(_opts: unknown, [idText]: string[], ctx: Context): Promise<void> {
  const id = parseId(idText!);
  const task = (await ctx.openStore()).get(id);
  if (!task) throw noSuchTask(id);
  if (task.result === null) throw new TwError(`task ${id} has no result (tw message ${id} --type result TEXT gives it one)`);
  // As it was for a script; escaped on a terminal, where task text never arrives raw.
  ctx.stdout.write(`${ctx.stdout.isTTY ? visible(task.result) : task.result}\n`);
}
