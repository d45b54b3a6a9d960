// vp-describe-task's summary lines and the story under --show-all.
import { formatInstant } from '../core/duration.js';
import type { Liveness, Message, Task, TaskEvent } from '../core/task.js';
import { visible, visibleLines } from './escape.js';
import { paintState, progressText, stateText } from './format.js';
import { cellWidth, padCells } from './width.js';

const lastUpdated = (t: Task): number => Math.max(t.reservedAt, t.startedAt ?? 0, t.lastHeartbeatAt ?? 0, t.endedAt ?? 0);

/**
 * One line per task, every field padded to the widest value so the columns
 * align. `steady`: lines printed one at a time as tasks change (a piped
 * `describe --block`) are aligned with each other too: the state and progress
 * fields are as wide as the widest state and a progress of steps can be.
 */
export function summaryLines(tasks: { task: Task; live: Liveness | null }[], colour: boolean, steady = false): string[] {
  const cells = tasks.map(({ task, live }) => [
    `Task: ${task.id}`,
    `Name: ${visible(task.name)}`,
    `State: ${stateText(task, live)}`,
    `Num: ${progressText(task.progress)}`,
    `LastUpdated: ${formatInstant(lastUpdated(task))}`,
    ...(task.maxAttempts > 1 ? [`attempt ${task.attempt}/${task.maxAttempts}`] : []),
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => cellWidth(c[i]!))));
  if (steady) {
    // As wide as the widest state, and as progress in steps of up to three digits, can be.
    widths[2] = Math.max(widths[2]!, 'State: unsupervised'.length);
    widths[3] = Math.max(widths[3]!, 'Num: 100/100 (100%)'.length);
  }
  return cells.map((c, row) =>
    c
      .map((cell, i) => {
        const padded = i < widths.length ? padCells(cell, widths[i]!) : cell;
        if (i !== 2) return padded;
        const state = stateText(tasks[row]!.task, tasks[row]!.live);
        return `State: ${paintState(state, colour)}${padded.slice(`State: ${state}`.length)}`;
      })
      .join('  '),
  );
}

const title = (type: string): string => type[0]!.toUpperCase() + type.slice(1);

/**
 * Every message and state event, in time order (events first on a tie: they cause the
 * messages). An event whose reason a message of the same instant says already is the bare
 * transition, so that no line is said twice; other reasons follow a colon, never nested in
 * parentheses.
 */
export function storyLines(messages: Message[], events: TaskEvent[]): string[] {
  const said = new Set(messages.map((m) => `${m.at} ${m.text}`));
  const eventLine = (e: TaskEvent): string => {
    const why = said.has(`${e.at} ${e.reason}`) ? '' : `: ${visible(e.reason)}`;
    return `  Event - ${formatInstant(e.at)}: ${e.from ?? 'new'} -> ${e.to}${why}`;
  };
  const entries = [
    ...events.map((e, i) => ({ at: e.at, order: 0, i, lines: [eventLine(e)] })),
    ...messages.map((m, i) => ({
      at: m.at,
      order: 1,
      i,
      lines: [
        // A multi-line message keeps its lines, each indented under the first.
        ...visibleLines(m.text).map((line, n) => (n === 0 ? `  ${title(m.type)} - ${formatInstant(m.at)}: ${line}` : `      ${line}`)),
        ...(m.stacktrace ? ['    Stacktrace:', ...visibleLines(m.stacktrace).map((l) => `      ${l}`)] : []),
      ],
    })),
  ];
  entries.sort((a, b) => a.at - b.at || a.order - b.order || a.i - b.i);
  return entries.flatMap((e) => e.lines);
}
