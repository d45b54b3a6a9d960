import { parseFile } from '../../feedback/read-file.js';
import type { Context } from '../context.js';

export async function parse(_opts: object, [file]: string[], ctx: Context): Promise<void> {
  ctx.stdout.write(`${JSON.stringify(parseFile(file!).values)}\n`);
}
