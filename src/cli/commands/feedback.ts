import { noSuchTask } from '../../core/errors.js';
import { parseProgress } from '../../feedback/parser.js';
import { parseFile } from '../../feedback/read-file.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';
import { visible } from '../escape.js';
import { progressText, renderTable } from '../format.js';

export async function feedback(opts: { json?: boolean }, [idText]: string[], ctx: Context): Promise<void> {
  const id = parseId(idText!);
  const store = await ctx.openStore();
  const task = store.get(id);
  if (!task) throw noSuchTask(id);
  // The file, while it is there, is fresher than the store (written at most once a second).
  let current = { values: task.feedback ?? {}, ignored: task.ignoredLines, source: 'store' as 'store' | 'file' };
  if (task.feedbackPath) {
    try {
      current = { ...parseFile(task.feedbackPath), source: 'file' };
    } catch {
      // gone or unreadable: the last values recorded stand
    }
  }
  const progress = current.values.progress === undefined ? null : parseProgress(current.values.progress);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({ id, values: current.values, progress, ignoredLines: current.ignored, source: current.source, path: task.feedbackPath })}\n`);
    return;
  }
  const entries = Object.entries(current.values);
  if (entries.length) ctx.stdout.write(renderTable(['KEY', 'VALUE'], entries));
  if (progress) ctx.stdout.write(`progress: ${progressText(progress)}\n`);
  if (current.ignored) ctx.stdout.write(`${current.ignored} line(s) ignored\n`);
  if (!entries.length && ctx.stdout.isTTY) ctx.stderr.write(task.feedbackPath ? `no feedback values yet (${visible(task.feedbackPath)})\n` : `task ${id} has no feedback file\n`);
}
