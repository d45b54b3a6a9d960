// The entry: one table of commands; each command's code is loaded only when
// it runs, so `tw --version` and `tw list` pay for little more than node itself.
import { ArgvError, parseArgv } from './argv.js';
import { GLOBALS, ROOT } from './commands-table.js';
import { makeContext, type Context } from './context.js';
import { fdOutput } from './output.js';
import { report } from './report.js';

declare const TW_VERSION: string;

export async function main(argv: string[]): Promise<void> {
  let command: string | undefined;
  try {
    const parsed = parseArgv(argv.slice(2), ROOT, GLOBALS);
    if (parsed.kind === 'version') fdOutput(1).write(`${TW_VERSION}\n`);
    else if (parsed.kind === 'help') fdOutput(1).write(parsed.text);
    else {
      command = parsed.path[1]?.name;
      const run = await parsed.path[parsed.path.length - 1]!.run!();
      await (run as (opts: unknown, args: string[], ctx: Context) => Promise<void>)(parsed.opts, parsed.args, makeContext(parsed.opts.db as string | undefined));
    }
  } catch (e) {
    // `tw launch` (and `rerun`, a launch) exits 125 for its own failures, as timeout(1) does.
    const which = e instanceof ArgvError ? e.path[1] : command;
    process.exitCode = report(e, fdOutput(2), which === 'launch' || which === 'rerun');
  }
  // Leave without closing the store: the last connection to close would
  // checkpoint and delete the WAL (two fsyncs), and the next writer would
  // create it again (another). The WAL is the store's normal state; what was
  // committed is in it. Our own output is written synchronously, so it is out.
  process.exit();
}

void main(process.argv);
