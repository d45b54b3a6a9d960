// `tw rerun ID [--detach]`: a new task with the same command, folder, name,
// info and settings as an earlier one (pueue's restart); it exits as `tw
// launch` would, and its first event says which task it reran.
import { ExitCode, noSuchTask, TwError } from '../../core/errors.js';
import { defaultFeedbackPath, defaultLogPath } from '../../store/location.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';
import { launch, type Options } from './launch.js';

export async function rerun(opts: { detach?: boolean }, [idText]: string[], ctx: Context): Promise<void> {
  const id = parseId(idText!);
  const task = (await ctx.openStore()).get(id);
  // Exit 4 as any command, though rerun otherwise exits as tw launch does.
  if (!task) throw new TwError(noSuchTask(id).message, ExitCode.NoSuchTask, true);
  if (!task.command || !task.cwd) throw new TwError(`task ${id} never had a command (a plain tw reserve); nothing to rerun`);
  try {
    process.chdir(task.cwd);
  } catch {
    throw new TwError(`cannot rerun task ${id} in ${task.cwd}: that folder is gone`);
  }
  const ms = (n: number) => `${n}ms`;
  const launchOpts: Options = {
    name: task.name,
    info: Object.entries(task.info).map(([k, v]) => `${k}=${v}`),
    // Its own settings; what it left unset, its type gives (as it did then).
    timeout: task.timeoutMs === null ? undefined : ms(task.timeoutMs),
    grace: task.graceMs === null ? undefined : ms(task.graceMs),
    retries: task.maxAttempts > 1 ? String(task.maxAttempts - 1) : undefined,
    retryDelay: task.retryDelayMs === null ? undefined : ms(task.retryDelayMs),
    feedback: task.feedbackPath === null ? undefined : task.feedbackPath === defaultFeedbackPath(ctx.storePath, id) ? true : task.feedbackPath,
    log: task.logPath === null || task.logPath === defaultLogPath(ctx.storePath, id) ? undefined : task.logPath,
    logMax: task.logMax === null ? undefined : String(task.logMax),
    detach: opts.detach,
    rerunOf: String(id),
  };
  await launch(launchOpts, task.command, ctx);
}
