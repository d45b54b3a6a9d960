// Human output: aligned tables, the contract's time and duration forms,
// colour only on a terminal without NO_COLOR.
import { formatDuration, formatInstant } from '../core/duration.js';
import { visible } from './escape.js';
import { cellWidth, cutCells } from './width.js';
import type { Output } from './output.js';
import { percentOf, type Liveness, type Progress, type Task, type WaitingFor } from '../core/task.js';

export function colourOn(stream: Output, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

const CODES: Record<string, number> = { succeeded: 32, running: 36, failed: 31, timed_out: 31, lost: 35, cancelled: 33, silent: 33, stalled: 31, unsupervised: 35 };

export function paintState(text: string, colour: boolean): string {
  const code = CODES[text];
  return colour && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/**
 * An aligned, borderless table, columns two spaces apart, every cell made
 * visible (escape.ts): a row never breaks, nothing reaches the terminal raw.
 * `states`: the column of states, painted when `colour`. Our own: cli-table3
 * spent ~1.3 ms a row (270 ms for 200 tasks) where this costs microseconds.
 */
export function renderTable(head: string[], rows: string[][], states?: { column: number; colour: boolean }, fit?: Fit): string {
  let clean = rows.map((row) => row.map(visible));
  if (fit) [head, clean, states] = fitted(head, clean, states, fit);
  const widths = head.map((h, i) => Math.max(h.length, ...clean.map((row) => cellWidth(row[i] ?? ''))));
  const line = (cells: string[], painted: boolean) =>
    cells
      .map((cell, i) => {
        const pad = i === cells.length - 1 ? '' : ' '.repeat(widths[i]! - cellWidth(cell));
        return (painted && i === states?.column ? paintState(cell, states.colour) : cell) + pad;
      })
      .join('  ')
      .trimEnd();
  return `${[line(head, false), ...clean.map((row) => line(row, true))].join('\n')}\n`;
}

/**
 * A table on a terminal `columns` wide: a long `shorten` cell is cut with an
 * ellipsis, then the columns in `drop` go, first first, until the rows fit.
 */
export interface Fit {
  columns: number;
  drop: string[];
  shorten?: { column: string; cells: number };
}

function fitted(head: string[], rows: string[][], states: { column: number; colour: boolean } | undefined, fit: Fit): [string[], string[][], typeof states] {
  const short = fit.shorten ? head.indexOf(fit.shorten.column) : -1;
  if (short !== -1) {
    const max = fit.shorten!.cells;
    rows = rows.map((row) => row.map((cell, i) => (i === short && cellWidth(cell) > max ? `${cutCells(cell, max - 1)}…` : cell)));
  }
  const width = (h: string[], r: string[][]): number => h.reduce((sum, title, i) => sum + Math.max(title.length, ...r.map((row) => cellWidth(row[i] ?? ''))), 0) + 2 * (h.length - 1);
  const stateTitle = states ? head[states.column] : undefined;
  for (const title of fit.drop) {
    if (width(head, rows) <= fit.columns) break;
    const at = head.indexOf(title);
    if (at === -1) continue;
    head = head.filter((_, i) => i !== at);
    rows = rows.map((row) => row.filter((_, i) => i !== at));
  }
  return [head, rows, states && { ...states, column: head.indexOf(stateTitle!) }];
}

export const dash = '-';
export const instant = (ms: number | null): string => (ms === null ? dash : formatInstant(ms));
export const duration = (ms: number | null): string => (ms === null ? dash : formatDuration(ms));

/** How long since a running task's last heartbeat; a dash if it is not running or beats not (no feedback file). */
export const heartbeatAge = (t: Task, now: number): string => (t.state === 'running' && t.lastHeartbeatAt !== null ? duration(now - t.lastHeartbeatAt) : dash);

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
export const stateText = (task: Task, live: Liveness | null, waiting: WaitingFor | null = null): string =>
  task.state === 'running' && live ? live : task.state === 'waiting' && waiting ? `waiting ${waitShort(waiting)}` : task.state;

/** Why a task waits, in a table's cell: `#2 (2/2 running)`, `after 41,42`. */
function waitShort(why: WaitingFor): string {
  if ('slot' in why) return `#${why.slot.position} (${why.slot.running}/${why.slot.limit} running)`;
  if ('after' in why) return why.after.length ? `after ${why.after.join(',')}` : '';
  return `retry at ${formatInstant(Date.parse(why.retryAt)).slice(11, 19)}`;
}
