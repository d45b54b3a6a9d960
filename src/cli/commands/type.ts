// `tw type set|show|list|rm`: what every task of a name shares.
import { parseDuration } from '../../core/duration.js';
import { TwError, usageError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import type { TaskType } from '../../core/task.js';
import { checkPingUrl, parseCount } from '../args.js';
import type { Context } from '../context.js';
import { visible } from '../escape.js';
import { dash, duration, renderTable } from '../format.js';

interface SetOptions {
  maxRunning?: string;
  maxWaiting?: string;
  timeout?: string;
  grace?: string;
  retries?: string;
  retryDelay?: string;
  keep?: string;
  keepLast?: string;
  ping?: string;
  onEnd?: string;
}

const blank = (name: string): TaskType => ({
  name, maxRunning: null, maxWaiting: null, timeoutMs: null, graceMs: null, retries: null, retryDelayMs: null, keepMs: null, keepLast: null, ping: null, onEnd: null,
});

/** Sets the given defaults of a type (made if new); the others stay as they were. */
export async function typeSet(opts: SetOptions, [name]: string[], ctx: Context): Promise<void> {
  if (!name) throw usageError('name the type: tw type set NAME [--max-running K] ...');
  const given: Partial<TaskType> = {
    ...(opts.maxRunning !== undefined && { maxRunning: parseCount(opts.maxRunning, '--max-running', 1) }),
    ...(opts.maxWaiting !== undefined && { maxWaiting: parseCount(opts.maxWaiting, '--max-waiting', 0) }),
    // 0 is kept: no limit, even where a launch would otherwise have one.
    ...(opts.timeout !== undefined && { timeoutMs: parseDuration(opts.timeout, '--timeout') }),
    ...(opts.grace !== undefined && { graceMs: parseDuration(opts.grace, '--grace') }),
    ...(opts.retries !== undefined && { retries: parseCount(opts.retries, '--retries', 0) }),
    ...(opts.retryDelay !== undefined && { retryDelayMs: parseDuration(opts.retryDelay, '--retry-delay') }),
    ...(opts.keep !== undefined && { keepMs: parseDuration(opts.keep, '--keep') }),
    ...(opts.keepLast !== undefined && { keepLast: parseCount(opts.keepLast, '--keep-last', 0) }),
    ...(opts.ping !== undefined && { ping: checkPingUrl(opts.ping, '--ping') }),
    ...(opts.onEnd !== undefined && { onEnd: opts.onEnd }),
  };
  if (Object.keys(given).length === 0) throw usageError('nothing to set: give at least one of --max-running, --timeout, --retries, --keep ...');
  const store = await ctx.openStore();
  store.setType({ ...(store.type(name) ?? blank(name)), ...given, name });
}

export async function typeShow(opts: { json?: boolean }, [name]: string[], ctx: Context): Promise<void> {
  const store = await ctx.openStore();
  const type = store.type(name!);
  if (!type) throw new TwError(`no type '${name}' (tw type list shows them)`);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(typeJson(type))}\n`);
    return;
  }
  const rows = fields(type).filter(([, v]) => v !== dash);
  const width = Math.max(...rows.map(([k]) => k.length));
  ctx.stdout.write(`Type ${visible(type.name)}\n${rows.map(([k, v]) => `  ${`${k}:`.padEnd(width + 1)}  ${visible(v)}`).join('\n')}\n`);
}

export async function typeList(opts: { json?: boolean }, _args: string[], ctx: Context): Promise<void> {
  const types = (await ctx.openStore()).types();
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(types.map(typeJson))}\n`);
    return;
  }
  if (types.length === 0) {
    if (ctx.stdout.isTTY) ctx.stderr.write('no types (tw type set NAME ... makes one)\n');
    return;
  }
  const head = ['NAME', ...fields(types[0]!).map(([k]) => k.toUpperCase().replace(/ /g, '-'))];
  ctx.stdout.write(renderTable(head, types.map((t) => [t.name, ...fields(t).map(([, v]) => v)])));
}

export async function typeRm(_opts: unknown, [name]: string[], ctx: Context): Promise<void> {
  if (!(await ctx.openStore()).removeType(name!)) throw new TwError(`no type '${name}'; nothing to remove`);
}

const count = (n: number | null): string => (n === null ? dash : String(n));
const limit = (ms: number | null): string => (ms === null ? dash : ms === 0 ? 'none' : duration(ms));

function fields(t: TaskType): [string, string][] {
  return [
    ['max running', count(t.maxRunning)],
    ['max waiting', count(t.maxWaiting)],
    ['timeout', limit(t.timeoutMs)],
    ['grace', t.graceMs === null ? dash : duration(t.graceMs)],
    ['retries', count(t.retries)],
    ['retry delay', t.retryDelayMs === null ? dash : duration(t.retryDelayMs)],
    ['keep', t.keepMs === null ? dash : duration(t.keepMs)],
    ['keep last', count(t.keepLast)],
    ['ping', t.ping === null ? dash : redactUrl(t.ping)],
    ['on end', t.onEnd ?? dash],
  ];
}

/** A type as JSON: its credentials never shown. */
const typeJson = (t: TaskType) => ({ ...t, ping: t.ping === null ? null : redactUrl(t.ping) });
