import { userInfo } from 'node:os';
import { parseDuration } from '../../core/duration.js';
import { ExitCode, TwError, usageError } from '../../core/errors.js';
import { ACTIVE_STATES } from '../../core/task.js';
import { cancelTask } from '../../tasks/cancel.js';
import { depsOf } from '../../launcher/deps.js';
import { observe } from '../../tasks/observe.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  name?: string;
  grace: string;
}

export async function cancel(opts: Options, args: string[], ctx: Context): Promise<void> {
  if (args.length && opts.name !== undefined) throw usageError('give ids or --name, not both');
  if (!args.length && opts.name === undefined) throw usageError('nothing to cancel: give task ids or --name N');
  const ids = args.map(parseId);
  const graceMs = parseDuration(opts.grace, '--grace');
  const deps = depsOf(await ctx.openStore(), ctx);
  observe(deps);
  const targets = opts.name !== undefined ? deps.store.find({ name: opts.name, states: ACTIVE_STATES }).map((t) => t.id) : ids;
  if (opts.name !== undefined && targets.length === 0) throw new TwError(`no active task named '${opts.name}'; nothing to cancel`);
  const by = `tw cancel (pid ${process.pid}, user ${safeUser()})`;
  let worst: number = ExitCode.Ok;
  // All at once, so N tasks cost one grace, not N; the results print in the order asked.
  const results = await Promise.allSettled(targets.map((id) => cancelTask(deps, id, graceMs, by)));
  for (const [i, result] of results.entries()) {
    if (result.status === 'fulfilled') {
      ctx.stdout.write(`task ${targets[i]}: ${result.value.state}\n`);
    } else if (result.reason instanceof TwError) {
      ctx.warn(result.reason.message);
      worst = Math.max(worst, result.reason.exitCode);
    } else {
      throw result.reason;
    }
  }
  // A slot this freed goes to the next waiting task now (a live launcher hands its own on too).
  observe(deps);
  process.exitCode = worst;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}
