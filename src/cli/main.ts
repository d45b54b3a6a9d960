// The entry: declares the commands and loads each one's code only when it runs,
// so `tw --version` and `tw list` pay for little more than node itself.
import { Command, Option } from 'commander';
import { collect } from './args.js';
import { makeContext, type Context } from './context.js';
import { report } from './report.js';

declare const TW_VERSION: string;

const program = new Command('tw')
  .description('Run long jobs from shell scripts and know what they are doing and how they ended.')
  .version(TW_VERSION, '-V, --version')
  .option('--db <path>', 'the store (default: $TW_DB, else $XDG_STATE_HOME/tw/tw.db)')
  .exitOverride()
  // One line, whatever commander has to say (its suggestions come on a line of their own).
  .configureOutput({ outputError: (text, write) => write(`${text.trim().replace(/^error: /, 'tw: ').replace(/\s*\n\s*/g, ' ')} (see tw --help)\n`) });

type Run<O> = (opts: O, args: string[], ctx: Context) => Promise<void>;

/** Declares a subcommand whose code is imported only when it runs. */
function command<O>(name: string, summary: string, examples: string[], load: () => Promise<Run<O>>, parent: Command = program): Command {
  const cmd = parent.command(name).description(summary);
  cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  cmd.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    const run = await load();
    // With globals: `history prune --name` is declared on history too, and commander gives it to the parent.
    await run(self.optsWithGlobals<O & object>(), self.args, makeContext(program.opts<{ db?: string }>().db));
  });
  return cmd;
}

command('reserve', 'reserve a task id and print it', [
  'tw reserve --name backup',
  'id=$(tw reserve --name nightly --unique --info host=db1) || exit 1',
], async () => (await import('./commands/reserve.js')).reserve)
  .option('--name <name>', 'the task kind', 'task')
  .option('--unique', 'refuse when an active task has this name')
  .option('--info <key=value>', 'a key=value pair to record (repeatable)', collect);

command('launch', 'run a command and supervise it to its end', [
  'tw launch -- sleep 2',
  'tw launch --name backup --timeout 10m --feedback -- ./backup.sh',
  'tw launch --detach --log /tmp/job.log -- make all',
  'id=$(tw reserve --name etl) && tw launch --id "$id" -- ./etl.sh',
], async () => (await import('./commands/launch.js')).launch)
  .option('--id <id>', 'run as this reserved task')
  .option('--name <name>', "the task kind (default: the command's basename)")
  .option('--unique', 'refuse when an active task has this name')
  .option('--timeout <dur>', 'kill when no heartbeat for this long (a wall-clock limit without --feedback)')
  .option('--grace <dur>', 'between SIGTERM and SIGKILL', '10s')
  .option('--feedback [path]', 'watch a [key]value feedback file; every change is a heartbeat')
  .option('--info <key=value>', 'a key=value pair to record (repeatable)', collect)
  .option('--detach', 'run in the background; print the id and return at once')
  .option('--log <path>', "where to save the child's output (default: beside the store)")
  .addOption(new Option('--supervise', 'internal: the detached copy').hideHelp())
  .argument('<command...>', 'the command and its arguments, after --');

command('list', 'show active tasks (all with --all)', [
  'tw list',
  'tw list --all --name backup',
  'tw list --state running --json | jq ".[].id"',
], async () => (await import('./commands/list.js')).list)
  .option('--all', 'every task, ended ones too')
  .option('--state <state>', 'only tasks in this state (repeatable)', collect)
  .option('--name <name>', 'only tasks with this name')
  .option('--json', 'a JSON array of tasks');

command('describe', 'one summary line per task; --block waits for their end', [
  'tw describe 42',
  'tw describe --nc',
  'tw describe --show-all 42',
  'tw describe --block 42 43 && echo all succeeded',
], async () => (await import('./commands/describe.js')).describe)
  .argument('[id...]', 'tasks to describe (default: all; with --block, all active)')
  .option('--nc', 'only tasks not succeeded')
  .option('--block', 'wait until every task is terminal; exit 0 if all succeeded, else 1')
  .option('--show-all', 'every message and state change, with stacktraces')
  .option('--json', 'a JSON array of tasks with their messages and events');

command('message', 'add a message to a task', [
  'tw message "copied 3 of 8 tables"',
  'tw message 42 --type error --stacktrace "$(tail ./err.log)" "load failed"',
], async () => (await import('./commands/message.js')).message)
  .argument('[id]', 'the task (default: $TW_TASK_ID)')
  .argument('[text]', 'the message')
  .option('--type <type>', 'notification, debug, error or result', 'notification')
  .option('--stacktrace <text>', 'a stacktrace for an error');

command('parse', 'print the JSON of a feedback file', ['tw parse ./feedback.txt'],
  async () => (await import('./commands/parse.js')).parse)
  .argument('<file>', 'a [key]value feedback file')
  .option('--json', 'JSON output (the default)');

command('cancel', 'cancel reserved or running tasks', [
  'tw cancel 42',
  'tw cancel --name backup --grace 30s',
], async () => (await import('./commands/cancel.js')).cancel)
  .argument('[id...]', 'tasks to cancel')
  .option('--name <name>', 'every active task with this name')
  .option('--grace <dur>', 'between SIGTERM and SIGKILL', '10s');

command('feedback', "a task's current feedback values", ['tw feedback 42', 'tw feedback 42 --json'],
  async () => (await import('./commands/feedback.js')).feedback)
  .argument('<id>', 'the task')
  .option('--json', 'JSON output');

command('logs', "a task's saved output", ['tw logs 42', 'tw logs -f 42', 'tw logs --tail 20 42'],
  async () => (await import('./commands/logs.js')).logs)
  .argument('<id>', 'the task')
  .option('-f, --follow', 'follow the output until the task ends')
  .option('--tail <n>', 'only the last N lines');

const history = command('history', 'ended tasks, newest first (subcommands prune and clear delete them)', [
  'tw history',
  'tw history --name backup --state failed --since 7d',
  'tw history --limit 0 --json',
], async () => (await import('./commands/history.js')).history)
  .option('--limit <n>', 'at most N tasks (0: all)', '50')
  .option('--name <name>', 'only tasks with this name')
  .option('--state <state>', 'only tasks that ended in this state (repeatable)', collect)
  .option('--since <dur>', 'only tasks ended within this long')
  .option('--json', 'a JSON array of tasks');
command('prune', 'delete old history with its messages, events, logs and feedback files', [
  'tw history prune --older-than 30d',
  'tw history prune --keep 100 --name backup',
], async () => (await import('./commands/history.js')).prune, history)
  .option('--older-than <dur>', 'delete tasks that ended longer ago than this')
  .option('--keep <n>', 'keep only the newest N')
  .option('--name <name>', 'only tasks with this name');
command('clear', 'delete all history (active tasks are kept)', ['tw history clear', 'tw history clear --name backup'],
  async () => (await import('./commands/history.js')).clear, history)
  .option('--name <name>', 'only tasks with this name');

command('stats', 'per name: runs, ends, median / p95 / max duration, last failure', [
  'tw stats',
  'tw stats --name backup --since 30d --json',
], async () => (await import('./commands/stats.js')).stats)
  .option('--name <name>', 'only this name')
  .option('--since <dur>', 'only tasks ended within this long')
  .option('--json', 'a JSON array, one object per name');

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = report(e, process.stderr, isLaunch(argv));
  }
  // Leave without closing the store: the last connection to close would
  // checkpoint and delete the WAL (two fsyncs), and the next writer would
  // create it again (another). The WAL is the store's normal state; what was
  // committed is in it. Our output is flushed first.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
}

const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));

/** `tw launch` exits 125 for its own failures, as timeout(1) does. */
function isLaunch(argv: string[]): boolean {
  const first = argv.slice(2).find((a, i, all) => !a.startsWith('-') && all[i - 1] !== '--db');
  return first === 'launch';
}

void main(process.argv);
