import { readFileSync } from 'node:fs';
import { TwError } from '../../core/errors.js';
import { parseBuffer } from '../../feedback/parser.js';
import type { Context } from '../context.js';

export async function parse(_opts: object, [file]: string[], ctx: Context): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file!);
  } catch (e) {
    throw new TwError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  ctx.stdout.write(`${JSON.stringify(parseBuffer(bytes).values)}\n`);
}
