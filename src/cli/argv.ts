// The command line, parsed from a declarative table of commands. Our own, not
// commander: loading and configuring commander cost 10-15 ms of every tw
// start (a third of the whole), and tw runs in shell loops. Pure: no I/O.
export interface OptionSpec {
  /** `--name <value>` (required value), `--feedback [path]` (optional value), `-f, --follow` (a switch). */
  flags: string;
  description: string;
  default?: string;
  repeatable?: boolean;
  hidden?: boolean;
}

export interface CommandSpec<R = unknown> {
  name: string;
  summary: string;
  /** `<id>`, `[id]`, `[id...]`, `<command...>`. */
  args?: string[];
  options?: OptionSpec[];
  examples?: string[];
  subcommands?: CommandSpec<R>[];
  /** Every token after the first operand is an operand (`tw launch sleep --x`). */
  stopAtFirstOperand?: boolean;
  run?: R;
}

export type Values = Record<string, string | string[] | boolean | undefined>;

export type Parsed<R> =
  | { kind: 'run'; path: CommandSpec<R>[]; opts: Values; args: string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' };

interface Flag {
  spec: OptionSpec;
  long: string;
  short: string | null;
  key: string;
  value: 'none' | 'required' | 'optional';
}

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function flagOf(spec: OptionSpec): Flag {
  const m = /^(?:-(\w), )?--([\w-]+)(?: ([<[])[^>\]]*[>\]])?$/.exec(spec.flags);
  if (!m) throw new Error(`bad option spec ${spec.flags}`);
  return { spec, short: m[1] ?? null, long: m[2]!, key: camel(m[2]!), value: m[3] === '<' ? 'required' : m[3] === '[' ? 'optional' : 'none' };
}

export const HELP: OptionSpec = { flags: '-h, --help', description: 'show this help' };

/** A usage error that knows which command it was parsing (launch exits 125, the rest 2). */
export class ArgvError extends Error {
  constructor(
    message: string,
    readonly path: string[],
  ) {
    super(message);
  }
}

export function parseArgv<R>(tokens: string[], root: CommandSpec<R>, globals: OptionSpec[]): Parsed<R> {
  const path: CommandSpec<R>[] = [root];
  const opts: Values = {};
  const args: string[] = [];
  const fail = (message: string): never => {
    throw new ArgvError(`${message} (see ${path.map((c) => c.name).join(' ')} --help)`, path.map((c) => c.name));
  };
  const flags = (): Flag[] => [...globals, ...(path[path.length - 1]!.options ?? []), HELP].map(flagOf);
  let operandsOnly = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const current = path[path.length - 1]!;
    if (!operandsOnly && path.length === 1 && token === 'help') return { kind: 'help', text: helpOf(lookup(root, tokens.slice(i + 1)), globals) };
    if (operandsOnly || token === '-' || !token.startsWith('-')) {
      const sub = !operandsOnly && args.length === 0 ? current.subcommands?.find((c) => c.name === token) : undefined;
      if (sub) {
        path.push(sub);
        continue;
      }
      if (!operandsOnly && args.length === 0 && current.subcommands && !current.run) fail(`unknown command '${token}'${suggest(token, current.subcommands.map((c) => c.name))}`);
      args.push(token);
      if (current.stopAtFirstOperand) operandsOnly = true;
      continue;
    }
    if (token === '--') {
      operandsOnly = true;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    const all = flags();
    const flag = all.find((f) => (name.startsWith('--') ? `--${f.long}` === name : f.short !== null && `-${f.short}` === name));
    if (!flag) {
      fail(`unknown option '${name}'${suggest(name, all.filter((f) => !f.spec.hidden).map((f) => `--${f.long}`))}`);
      continue;
    }
    if (flag.key === 'help') return { kind: 'help', text: helpOf(path, globals) };
    if (flag.key === 'version') return { kind: 'version' };
    let value: string | boolean = true;
    if (eq > 0) {
      if (flag.value === 'none') fail(`option '--${flag.long}' takes no value`);
      value = token.slice(eq + 1);
    } else if (flag.value === 'required') {
      const next = tokens[i + 1];
      if (next === undefined || next === '--') fail(`option '${flag.spec.flags.replace(/^-\w, /, '')}' needs a value`);
      value = next!;
      i++;
    }
    // An optional value is attached with '=' only, as GNU tools do: `--feedback sleep 1` runs `sleep 1`.
    if (flag.spec.repeatable) opts[flag.key] = [...((opts[flag.key] as string[] | undefined) ?? []), String(value)];
    else opts[flag.key] = value;
  }
  const command = path[path.length - 1]!;
  if (!command.run) return { kind: 'help', text: helpOf(path, globals) };
  checkOperands(command, args, fail);
  for (const f of flags()) if (f.spec.default !== undefined && opts[f.key] === undefined) opts[f.key] = f.spec.default;
  return { kind: 'run', path, opts, args };
}

/** `tw help history prune`: the command those words name; an unknown one is a usage error. */
function lookup<R>(root: CommandSpec<R>, words: string[]): CommandSpec<R>[] {
  const path = [root];
  for (const word of words) {
    const here = path[path.length - 1]!;
    const sub = here.subcommands?.find((c) => c.name === word);
    if (!sub) {
      const names = (here.subcommands ?? []).map((c) => c.name);
      throw new ArgvError(`unknown command '${[...path.slice(1).map((c) => c.name), word].join(' ')}'${suggest(word, names)} (see tw --help)`, path.map((c) => c.name));
    }
    path.push(sub);
  }
  return path;
}

function checkOperands(command: CommandSpec<unknown>, args: string[], fail: (m: string) => never): void {
  const specs = command.args ?? [];
  const required = specs.filter((a) => a.startsWith('<')).length;
  const variadic = specs.some((a) => a.endsWith('...>') || a.endsWith('...]'));
  if (args.length < required) fail(`missing ${specs[args.length]}`);
  if (!variadic && args.length > specs.length) fail(`too many arguments: ${specs.length ? `expected ${specs.join(' ')}` : 'none expected'}`);
}

/** The closest candidate, if it is close: a third of the word's letters may differ (`--folow`, not `--id` for `--db`). */
function suggest(word: string, candidates: string[]): string {
  const bare = (w: string): string => w.replace(/^-+/, '');
  const allowed = Math.max(1, Math.floor(bare(word).length / 3));
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const c of candidates) {
    const d = distance(bare(word), bare(c));
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

function helpOf(path: CommandSpec<unknown>[], globals: OptionSpec[]): string {
  const command = path[path.length - 1]!;
  const name = path.map((c) => c.name).join(' ');
  const usage = [name, '[options]', ...(command.subcommands ? ['[command]'] : []), ...(command.args ?? [])].join(' ');
  const options = [...(path.length === 1 ? globals : []), ...(command.options ?? []), HELP].filter((o) => !o.hidden);
  const rows = (pairs: [string, string][]) => {
    const width = Math.max(...pairs.map(([left]) => left.length));
    return pairs.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
  };
  const sections = [`Usage: ${usage}`, command.summary];
  sections.push(`Options:\n${rows(options.map((o) => [o.flags, o.description + (o.default === undefined ? '' : ` (default: ${o.default})`)]))}`);
  if (command.subcommands) {
    const list: [string, string][] = command.subcommands.map((c) => [c.name, c.summary]);
    if (path.length === 1) list.push(['help [command]', 'show the help of a command']);
    sections.push(`Commands:\n${rows(list)}`);
  }
  if (command.examples?.length) sections.push(`Examples:\n${command.examples.map((e) => `  $ ${e}`).join('\n')}`);
  return `${sections.join('\n\n')}\n`;
}
