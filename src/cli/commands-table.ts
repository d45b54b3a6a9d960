// The table of commands: their flags, help and examples, and how to load each
// one's code (only when it runs). The entry parses with it; `tw completion`
// writes shell completions from it.
import type { CommandSpec, OptionSpec } from './argv.js';
import type { Context } from './context.js';

type Run = (opts: never, args: string[], ctx: Context) => Promise<void>;
export type Load = () => Promise<Run>;

export const GLOBALS: OptionSpec[] = [
  { flags: '--db <path>', description: 'the store (default: $TW_DB, else $XDG_STATE_HOME/tw/tw.db)' },
  { flags: '-V, --version', description: 'print the version' },
];
const info: OptionSpec = { flags: '--info <key=value>', description: 'a key=value pair to record (repeatable)', repeatable: true };
const json: OptionSpec = { flags: '--json', description: 'JSON output' };
const name = (what: string): OptionSpec => ({ flags: '--name <name>', description: what });
// What a launch and a type share: one flag, one text.
const maxRunning: OptionSpec = { flags: '--max-running <k>', description: 'run at most K tasks of this name at once; the others wait their turn' };
const maxWaiting: OptionSpec = { flags: '--max-waiting <m>', description: 'refuse (exit 75) when M tasks of this name already wait; 0: run now or not at all' };
const retries: OptionSpec = { flags: '--retries <n>', description: 'run a failed or timed-out command again, up to N more times' };
const retryDelay: OptionSpec = { flags: '--retry-delay <dur>', description: 'before the first retry (default 10s); doubled after each, at most 1h' };
const ping: OptionSpec = { flags: '--ping <url>', description: 'ping URL/start and URL/EXITCODE (healthchecks.io); default $TW_PING_URL' };
const onEnd: OptionSpec = { flags: '--on-end <cmd>', description: 'run CMD with /bin/sh -c once the task has ended (TW_TASK_ID, TW_STATE, TW_EXIT_CODE, TW_DURATION_MS)' };
const grace: OptionSpec = { flags: '--grace <dur>', description: 'between SIGTERM and SIGKILL', default: '10s' };

const COMMANDS: CommandSpec<Load>[] = [
  {
    name: 'reserve',
    summary: 'reserve a task id and print it',
    options: [{ ...name('the task kind'), default: 'task' }, { flags: '--unique', description: 'refuse when an active task has this name' }, info],
    examples: ['tw reserve --name backup', 'id=$(tw reserve --name nightly --unique --info host=db1) || exit 1'],
    run: async () => (await import('./commands/reserve.js')).reserve,
  },
  {
    name: 'launch',
    summary: 'run a command and supervise it to its end',
    args: ['<command...>'],
    stopAtFirstOperand: true,
    options: [
      { flags: '--id <id>', description: 'run as this reserved task' },
      name("the task kind (default: the command's basename)"),
      { flags: '--unique', description: 'refuse when an active task has this name' },
      { flags: '--timeout <dur>', description: 'kill when no heartbeat for this long (a wall-clock limit without --feedback)' },
      { flags: '--grace <dur>', description: 'between SIGTERM and SIGKILL (default 10s)' },
      { flags: '--feedback [path]', description: 'watch a [key]value feedback file, every change a heartbeat: --feedback=PATH, or alone for a new one in the store\'s folder' },
      info,
      { flags: '--detach', description: 'run in the background; print the id and return at once' },
      { flags: '--log <path>', description: "where to save the child's output (default: beside the store)" },
      maxRunning,
      maxWaiting,
      { flags: '--after <ids>', description: 'wait until these tasks (41,42) have ended; run only if they all succeeded' },
      retries,
      retryDelay,
      { flags: '--log-max <size>', description: 'cap the log (default 100M; 0: no cap), keeping the newest output' },
      ping,
      onEnd,
      { flags: '--rerun-of <id>', description: 'internal: tw rerun', hidden: true },
      { flags: '--on-end-of <id>', description: 'internal: the copy that runs a task\'s on-end command', hidden: true },
      { flags: '--supervise', description: 'internal: the detached copy', hidden: true },
      { flags: '--queued <id>', description: 'internal: the copy that starts a queued task', hidden: true },
      { flags: '--holder <pid:start>', description: 'internal: the tw that reserved the task for the detached copy', hidden: true },
    ],
    examples: [
      'tw launch -- sleep 2',
      'tw launch --name backup --timeout 10m --feedback -- ./backup.sh',
      'tw launch --detach --log /tmp/job.log -- make all',
      'id=$(tw reserve --name etl) && tw launch --id "$id" -- ./etl.sh',
      'tw launch --detach --name encode --max-running 2 -- ffmpeg -i in.mov out.mp4',
      'tw launch --after 41,42 -- ./report.sh',
    ],
    run: async () => (await import('./commands/launch.js')).launch,
  },
  {
    name: 'list',
    summary: 'show active tasks (all with --all)',
    options: [
      { flags: '--all', description: 'every task, ended ones too' },
      { flags: '--state <state>', description: 'only tasks in this state (repeatable)', repeatable: true },
      name('only tasks with this name'),
      { flags: '--json', description: 'a JSON array of tasks' },
    ],
    examples: ['tw list', 'tw list --all --name backup', 'tw list --state running --json | jq ".[].id"'],
    run: async () => (await import('./commands/list.js')).list,
  },
  {
    name: 'describe',
    summary: 'one summary line per task; --block waits for their end',
    args: ['[id...]'],
    options: [
      { flags: '--nc', description: 'only tasks not succeeded' },
      { flags: '--block', description: 'wait until every task is terminal; exit 0 if all succeeded, else 1' },
      { flags: '--show-all', description: 'every message and state change, with stacktraces' },
      { flags: '--json', description: 'a JSON array of tasks with their messages and events' },
    ],
    examples: ['tw describe 42', 'tw describe --nc', 'tw describe --show-all 42', 'tw describe --block 42 43 && echo all succeeded'],
    run: async () => (await import('./commands/describe.js')).describe,
  },
  {
    name: 'cancel',
    summary: 'cancel reserved or running tasks',
    args: ['[id...]'],
    options: [name('every active task with this name'), grace],
    examples: ['tw cancel 42', 'tw cancel --name backup --grace 30s'],
    run: async () => (await import('./commands/cancel.js')).cancel,
  },
  {
    name: 'message',
    summary: 'add a message to a task',
    args: ['[id]', '[text...]'],
    options: [
      { flags: '--type <type>', description: 'notification, debug, error or result', default: 'notification' },
      { flags: '--stacktrace <text>', description: 'a stacktrace for an error' },
    ],
    examples: ['tw message "copied 3 of 8 tables"', 'tw message 42 --type error --stacktrace "$(tail ./err.log)" "load failed"'],
    run: async () => (await import('./commands/message.js')).message,
  },
  {
    name: 'show',
    summary: 'every field of tasks, as an aligned block each',
    args: ['<id...>'],
    options: [{ flags: '--json', description: 'the same objects as describe --json' }],
    examples: ['tw show 42', 'tw show 41 42 --json'],
    run: async () => (await import('./commands/show.js')).show,
  },
  {
    name: 'result',
    summary: "a task's result text alone (its last result message)",
    args: ['<id>'],
    examples: ['r=$(tw result 42)', 'tw message --type result "rows=1200"   # inside the task'],
    run: async () => (await import('./commands/result.js')).result,
  },
  {
    name: 'delete',
    summary: 'delete ended tasks with their messages, events and files',
    args: ['<id...>'],
    examples: ['tw delete 42', 'tw delete 41 42'],
    run: async () => (await import('./commands/delete.js')).deleteTasks,
  },
  {
    name: 'rerun',
    summary: 'launch a task again: same command, folder, name, info and settings',
    args: ['<id>'],
    options: [{ flags: '--detach', description: 'run in the background; print the new id and return at once' }],
    examples: ['tw rerun 42', 'tw rerun --detach 42'],
    run: async () => (await import('./commands/rerun.js')).rerun,
  },
  {
    name: 'events',
    summary: 'every state change and message, in order, with a sequence number (-f follows)',
    args: ['[id...]'],
    options: [
      { flags: '-f, --follow', description: 'go on printing new events as they happen (Ctrl-C ends)' },
      { flags: '--after <seq>', description: 'only events after this sequence number: resume where a reader stopped' },
      { flags: '--since <dur>', description: 'only events within this long' },
      name('only tasks with this name'),
      { flags: '--json', description: 'one JSON object per line' },
    ],
    examples: ['tw events', 'tw events -f --json', 'tw events --after 1200 --json', 'tw events --name backup --since 1d'],
    run: async () => (await import('./commands/events.js')).events,
  },
  {
    name: 'metrics',
    summary: "Prometheus text format for node_exporter's textfile collector",
    options: [{ flags: '--out <file>', description: 'write FILE atomically instead of printing' }],
    examples: ['tw metrics', 'tw metrics --out /var/lib/prometheus/node-exporter/tw.prom'],
    run: async () => (await import('./commands/metrics.js')).metrics,
  },
  {
    name: 'type',
    summary: 'defaults shared by every task of a name: limits, timeout, retries, retention',
    examples: ['tw type set backup --max-running 1 --timeout 2h --retries 2 --keep 30d', 'tw type list', 'tw type show backup', 'tw type rm backup'],
    subcommands: [
      {
        name: 'set',
        summary: 'set defaults of a type (the others stay)',
        args: ['<name>'],
        options: [
          maxRunning,
          maxWaiting,
          { flags: '--timeout <dur>', description: 'kill when no heartbeat for this long (0: no limit)' },
          { flags: '--grace <dur>', description: 'between SIGTERM and SIGKILL' },
          retries,
          retryDelay,
          { flags: '--keep <dur>', description: 'history prune (alone) deletes ended tasks older than this' },
          { flags: '--keep-last <n>', description: 'history prune (alone) keeps only the newest N' },
          ping,
          onEnd,
        ],
        examples: ['tw type set backup --max-running 1 --timeout 2h --retries 2 --keep-last 100'],
        run: async () => (await import('./commands/type.js')).typeSet,
      },
      { name: 'show', summary: "a type's defaults", args: ['<name>'], options: [json], examples: ['tw type show backup'], run: async () => (await import('./commands/type.js')).typeShow },
      { name: 'list', summary: 'every type', options: [json], examples: ['tw type list', 'tw type list --json'], run: async () => (await import('./commands/type.js')).typeList },
      { name: 'rm', summary: 'forget a type (its tasks stay)', args: ['<name>'], examples: ['tw type rm backup'], run: async () => (await import('./commands/type.js')).typeRm },
    ],
  },
  {
    name: 'feedback',
    summary: "a task's current feedback values",
    args: ['<id>'],
    options: [json],
    examples: ['tw feedback 42', 'tw feedback 42 --json'],
    run: async () => (await import('./commands/feedback.js')).feedback,
  },
  {
    name: 'parse',
    summary: 'print the JSON of a feedback file',
    args: ['<file>'],
    options: [{ flags: '--json', description: 'JSON output (the default)' }],
    examples: ['tw parse ./feedback.txt'],
    run: async () => (await import('./commands/parse.js')).parse,
  },
  {
    name: 'logs',
    summary: "a task's saved output",
    args: ['<id>'],
    options: [
      { flags: '-f, --follow', description: 'follow the output until the task ends' },
      { flags: '--tail <n>', description: 'only the last N lines' },
      { flags: '--attempt <n>', description: "only this attempt's output (a task run with --retries)" },
      { flags: '--timestamps', description: 'each line after the time it arrived' },
    ],
    examples: ['tw logs 42', 'tw logs -f 42', 'tw logs --tail 20 42', 'tw logs --attempt 2 42'],
    run: async () => (await import('./commands/logs.js')).logs,
  },
  {
    name: 'history',
    summary: 'ended tasks, newest first (subcommands prune and clear delete them)',
    options: [
      { flags: '--limit <n>', description: 'at most N tasks (0: all)', default: '50' },
      name('only tasks with this name'),
      { flags: '--state <state>', description: 'only tasks that ended in this state (repeatable)', repeatable: true },
      { flags: '--since <dur>', description: 'only tasks ended within this long' },
      { flags: '--json', description: 'a JSON array of tasks' },
    ],
    examples: ['tw history', 'tw history --name backup --state failed --since 7d', 'tw history --limit 0 --json'],
    run: async () => (await import('./commands/history.js')).history,
    subcommands: [
      {
        name: 'prune',
        summary: "delete old history with its messages, events, logs and feedback files; alone: each type's retention",
        options: [
          { flags: '--older-than <dur>', description: 'delete tasks that ended longer ago than this' },
          { flags: '--keep <n>', description: 'keep only the newest N' },
          name('only tasks with this name'),
        ],
        examples: ['tw history prune --older-than 30d', 'tw history prune --keep 100 --name backup', 'tw history prune   # each type\'s --keep / --keep-last (cron)'],
        run: async () => (await import('./commands/history.js')).prune,
      },
      {
        name: 'clear',
        summary: 'delete all history (active tasks are kept)',
        options: [name('only tasks with this name')],
        examples: ['tw history clear', 'tw history clear --name backup'],
        run: async () => (await import('./commands/history.js')).clear,
      },
    ],
  },
  {
    name: 'stats',
    summary: 'per name: runs, ends, median / p95 / max duration, last failure',
    options: [name('only this name'), { flags: '--since <dur>', description: 'only tasks ended within this long' }, { flags: '--json', description: 'a JSON array, one object per name' }],
    examples: ['tw stats', 'tw stats --name backup --since 30d --json'],
    run: async () => (await import('./commands/stats.js')).stats,
  },
  {
    name: 'live',
    summary: 'a live tw list on a terminal, as top is (q quits)',
    examples: ['tw live'],
    run: async () => (await import('./commands/live.js')).live,
  },
  {
    name: 'completion',
    summary: 'print the shell completion script (bash, zsh or fish)',
    args: ['<shell>'],
    examples: [
      'source <(tw completion bash)            # in ~/.bashrc',
      'source <(tw completion zsh)             # in ~/.zshrc',
      'mkdir -p ~/.config/fish/completions && tw completion fish > ~/.config/fish/completions/tw.fish',
    ],
    // Handed the table, so that completion.ts need not import this file back.
    run: async () => {
      const { completion } = await import('./commands/completion.js');
      return (opts: object, args: string[], ctx: Context) => completion(opts, args, ctx, { root: ROOT, globals: GLOBALS });
    },
  },
];

export const ROOT: CommandSpec<Load> = {
  name: 'tw',
  summary: 'Run long jobs from shell scripts and know what they are doing and how they ended.',
  subcommands: COMMANDS,
};

