// Human output: aligned tables, the contract's time and duration forms,
// colour only on a terminal without NO_COLOR.
import { formatDuration, formatInstant } from '../core/duration.js';
import { percentOf, type Liveness, type Progress, type Task } from '../core/task.js';

export function colourOn(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

const CODES: Record<string, number> = { succeeded: 32, running: 36, failed: 31, timed_out: 31, lost: 35, cancelled: 33, silent: 33, stalled: 31, unsupervised: 35 };

export function paintState(text: string, colour: boolean): string {
  const code = CODES[text];
  return colour && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** An aligned, borderless table; cli-table3 is loaded only when there is something to show. */
export async function renderTable(head: string[], rows: string[][]): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows);
  return `${table.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
}

export const dash = '-';
export const instant = (ms: number | null): string => (ms === null ? dash : formatInstant(ms));
export const duration = (ms: number | null): string => (ms === null ? dash : formatDuration(ms));

export function progressText(progress: Progress | null): string {
  if (!progress) return dash;
  const pct = percentOf(progress);
  const percent = pct === null ? '' : `${Math.floor(pct).toString().padStart(3)}%`;
  return 'done' in progress ? `${progress.done}/${progress.total} (${percent})` : percent.trim();
}

export function bytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)}${units[unit]}`;
}

export const infoText = (task: Task): string =>
  Object.entries(task.info).map(([k, v]) => `${k}=${v}`).join(' ') || dash;

/** What the state column shows: a running task's liveness, else its state. */
export const stateText = (task: Task, live: Liveness | null): string => (task.state === 'running' && live ? live : task.state);
