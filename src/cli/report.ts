// The one place an error becomes a line on stderr and an exit code.
import { ExitCode, TwError } from '../core/errors.js';
import { ArgvError } from './argv.js';
import { visible } from './escape.js';
import type { Output } from './output.js';

export function report(e: unknown, stderr: Output, launch: boolean): number {
  if (e instanceof ArgvError) {
    stderr.write(`tw: ${visible(e.message)}\n`);
    return launch ? ExitCode.LaunchFailed : ExitCode.Usage;
  }
  if (e instanceof TwError) {
    stderr.write(`tw: ${visible(e.message)}\n`);
    return launch && e.exitCode !== ExitCode.Ok && !e.alsoForLaunch ? ExitCode.LaunchFailed : e.exitCode;
  }
  const err = e as Error;
  stderr.write(`tw: internal error: ${visible(err?.message ?? String(e))} (TW_DEBUG=1 shows more)\n`);
  if (process.env.TW_DEBUG) stderr.write(`${err?.stack ?? ''}\n`);
  return launch ? ExitCode.LaunchFailed : 70;
}
