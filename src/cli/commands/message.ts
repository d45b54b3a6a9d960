import { noSuchTask, usageError } from '../../core/errors.js';
import { MESSAGE_TYPES, type MessageType } from '../../core/task.js';
import { parseId } from '../args.js';
import type { Context } from '../context.js';

interface Options {
  type: string;
  stacktrace?: string;
}

export async function message(opts: Options, args: string[], ctx: Context): Promise<void> {
  // `tw message [ID] TEXT...`: the words are joined, as echo joins them. A first word of digits
  // followed by more is the id; alone, it is the text inside a task (TW_TASK_ID), else an id without text.
  const [first, ...more] = args;
  const idFirst = first !== undefined && /^\d+$/.test(first) && (more.length > 0 || ctx.env.TW_TASK_ID === undefined);
  const idText = idFirst ? first : ctx.env.TW_TASK_ID;
  const text = (idFirst ? more : args).join(' ');
  if (text.trim() === '') throw usageError(idFirst || args.length === 0 ? 'no message text: tw message [ID] TEXT' : 'an empty message; give some text');
  if (idText === undefined) throw usageError('no task id: give one (tw message ID TEXT) or run inside a task (TW_TASK_ID)');
  const id = parseId(idText);
  if (!(MESSAGE_TYPES as readonly string[]).includes(opts.type)) {
    throw usageError(`bad message type '${opts.type}': use one of ${MESSAGE_TYPES.join(', ')}`);
  }
  const store = await ctx.openStore();
  const added = store.addMessage(id, { type: opts.type as MessageType, text, stacktrace: opts.stacktrace ?? null }, ctx.now());
  if (!added) throw noSuchTask(id);
}
