// `tw delete ID...`: ended tasks go, with their messages, events and the files tw made for them.
import { ExitCode, TwError } from '../../core/errors.js';
import { taskFileRemover } from '../../store/own-files.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';

export async function deleteTasks(_opts: unknown, args: string[], ctx: Context): Promise<void> {
  const ids = args.map(parseId);
  const store = await ctx.openStore();
  const files = taskFileRemover(store.path);
  let worst: number = ExitCode.Ok;
  for (const id of ids) {
    const done = store.deleteEnded(id, files.remove);
    if (done === 'deleted') {
      ctx.stdout.write(`task ${id}: deleted\n`);
      continue;
    }
    const refusal = done === 'unknown' ? new TwError(`no task ${id}`, ExitCode.NoSuchTask) : new TwError(`task ${id} is still ${store.get(id)?.state ?? 'active'}; cancel it first (tw cancel ${id})`);
    ctx.warn(refusal.message);
    worst = Math.max(worst, refusal.exitCode);
  }
  files.warnKept(ctx.warn);
  process.exitCode = worst;
}
