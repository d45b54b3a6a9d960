// `tw completion bash|zsh|fish`: completion scripts written from the table of
// commands, so they never fall behind it. Commands, their subcommands and
// flags; task ids (active ones for cancel and logs, all for the rest) and
// names come from `tw list --json` when completing.
import { usageError } from '../../core/errors.js';
import { STATES as ALL_STATES } from '../../core/task.js';
import type { CommandSpec, OptionSpec } from '../argv.js';
import type { Context } from '../context.js';

/** The table of commands (commands-table.ts), handed in by it. */
export interface Table {
  root: CommandSpec<unknown>;
  globals: OptionSpec[];
}

const ACTIVE_IDS = ['cancel', 'logs'];
const ANY_IDS = ['describe', 'feedback', 'message'];
const STATES = ALL_STATES.join(' ');

const longFlags = (options: OptionSpec[] = []): string[] =>
  options.filter((o) => !o.hidden).map((o) => /--[\w-]+/.exec(o.flags)![0]);
const commands = (t: Table): CommandSpec<unknown>[] => t.root.subcommands ?? [];
/** Every flag that takes the next word as its value (`--limit 5`; not `--feedback[=PATH]`), as one bash pattern. */
const valueFlags = (t: Table): string => {
  const all = [...t.globals, ...commands(t).flatMap((c) => [...(c.options ?? []), ...(c.subcommands ?? []).flatMap((s) => s.options ?? [])])];
  return [...new Set(all.filter((o) => o.flags.includes('<')).map((o) => longFlags([{ ...o, hidden: false }])[0]!.slice(2)))].sort().join('|');
};

export async function completion(_opts: object, [shell]: string[], ctx: Context, table: Table): Promise<void> {
  const zsh = () => `(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }\nautoload -U +X bashcompinit && bashcompinit\n${bash(table)}`;
  const scripts: Record<string, () => string> = { bash: () => bash(table), zsh, fish: () => fish(table) };
  const make = scripts[shell!];
  if (!make) throw usageError(`no completion for '${shell}': use bash, zsh or fish`);
  ctx.stdout.write(make());
}

function bash(t: Table): string {
  const globals = longFlags(t.globals).join(' ');
  const cases = commands(t)
    .map((c) => {
      const subs = (c.subcommands ?? []).map((s) => `    ${c.name}/${s.name}) opts="${longFlags(s.options).join(' ')}" ;;`);
      return [...subs, `    ${c.name}/*) opts="${[...longFlags(c.options), ...(c.subcommands ?? []).map((s) => s.name)].join(' ')}" ;;`].join('\n');
    })
    .join('\n');
  return `# tw completion for bash (tw completion bash)
_tw_ids() { tw list $1 --json 2>/dev/null | grep -o '"id":[0-9]*' | cut -d: -f2; }
_tw_names() { tw list --all --json 2>/dev/null | grep -o '"name":"[^"]*"' | cut -d'"' -f4 | sort -u; }
# Task data is never given to compgen -W, which would expand $(...) in a name: each line is matched as it is.
_tw_lines() { local line; COMPREPLY=(); while IFS= read -r line; do [[ $line == "$cur"* ]] && COMPREPLY+=("$line"); done; }
_tw() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" sub="" i w opts=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -- ]] && return 0
    [[ $w == -* || \${COMP_WORDS[i-1]} == --@(${valueFlags(t)}) ]] && continue
    if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi
  done
  case "$prev" in
    --db|--log) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    --name) _tw_lines < <(_tw_names); return 0 ;;
    --state) COMPREPLY=($(compgen -W "${STATES}" -- "$cur")); return 0 ;;
    --id) _tw_lines < <(_tw_ids); return 0 ;;
  esac
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "${commands(t).map((c) => c.name).join(' ')} help ${globals}" -- "$cur")); return 0
  fi
  case "$cmd/$sub" in
${cases}
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts ${globals} --help" -- "$cur")); return 0; fi
  case "$cmd" in
    ${ACTIVE_IDS.join('|')}) _tw_lines < <(_tw_ids) ;;
    ${ANY_IDS.join('|')}) _tw_lines < <(_tw_ids --all) ;;
    history) [[ -z $sub ]] && COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "${commands(t).map((c) => c.name).join(' ')}" -- "$cur")) ;;
  esac
}
complete -F _tw tw
`;
}

function fish(t: Table): string {
  const lines = [
    '# tw completion for fish (tw completion fish > ~/.config/fish/completions/tw.fish)',
    'function __tw_ids; tw list $argv --json 2>/dev/null | string match -r -a \'"id":\\d+\' | string replace \'"id":\' \'\'; end',
    'function __tw_names; tw list --all --json 2>/dev/null | string match -r -a \'"name":"[^"]*"\' | string replace -r \'"name":"(.*)"\' \'$1\' | sort -u; end',
    'complete -c tw -f',
  ];
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  for (const c of commands(t)) lines.push(`complete -c tw -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary)}`);
  for (const o of t.globals) lines.push(`complete -c tw -l ${longFlags([o])[0]!.slice(2)} -d ${quote(o.description)}`);
  for (const c of commands(t)) {
    const when = `'__fish_seen_subcommand_from ${c.name}'`;
    for (const s of c.subcommands ?? []) lines.push(`complete -c tw -n ${when} -a ${s.name} -d ${quote(s.summary)}`);
    for (const o of [...(c.options ?? []), ...(c.subcommands ?? []).flatMap((s) => s.options ?? [])].filter((x) => !x.hidden)) {
      const value = /[<[]/.test(o.flags) ? ' -r' : '';
      lines.push(`complete -c tw -n ${when} -l ${longFlags([o])[0]!.slice(2)}${value} -d ${quote(o.description)}`);
    }
  }
  lines.push(`complete -c tw -n '__fish_seen_subcommand_from ${ACTIVE_IDS.join(' ')}' -a '(__tw_ids)'`);
  lines.push(`complete -c tw -n '__fish_seen_subcommand_from ${ANY_IDS.join(' ')}' -a '(__tw_ids --all)'`);
  lines.push(`complete -c tw -l name -x -a '(__tw_names)'`);
  lines.push(`complete -c tw -l state -x -a '${STATES}'`);
  lines.push(`complete -c tw -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  return `${lines.join('\n')}\n`;
}
