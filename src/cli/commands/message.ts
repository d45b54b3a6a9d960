import { noSuchTask, usageError } from '../../core/errors.js';
import { MESSAGE_TYPES, type MessageType } from '../../core/task.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  type: string;
  stacktrace?: string;
}

export async function message(opts: Options, args: string[], ctx: Context): Promise<void> {
  const [first, second, ...rest] = args;
  if (rest.length) throw usageError('too many arguments: quote the message text');
  const idText = second === undefined ? ctx.env.TW_TASK_ID : first;
  const text = second === undefined ? first : second;
  if (text === undefined) throw usageError('no message text');
  if (idText === undefined) throw usageError('no task id: give one or run inside a task (TW_TASK_ID)');
  const id = parseId(idText);
  if (!(MESSAGE_TYPES as readonly string[]).includes(opts.type)) {
    throw usageError(`bad message type '${opts.type}': use one of ${MESSAGE_TYPES.join(', ')}`);
  }
  const store = await ctx.openStore();
  const added = store.addMessage(id, { type: opts.type as MessageType, text, stacktrace: opts.stacktrace ?? null }, ctx.now());
  if (!added) throw noSuchTask(id);
}
