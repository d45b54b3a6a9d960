// The task's log as the tee writes it: the bytes, when they arrived (a side
// file of `offset ms` lines in the store's folder, one a second at most, for
// `tw logs --timestamps`), and a cap (`--log-max`) that keeps the newest
// output: past the cap, the oldest half of this run's output is dropped in
// place (copied down over it, then the file cut), so that the log never grows
// past the cap and its reader sees the newest output.
import { appendFileSync, closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolders, openLog, replaceFile } from '../../core/files.js';

const COPY_CHUNK = 1024 * 1024;
/** Arrival times are kept to the second: one line of the side file a second at most. */
const TIME_STEP_MS = 1000;

export interface LogOptions {
  /** At most this many bytes of this run's output (0: no cap). */
  max: number;
  /** Where the arrival times go (null: not kept). */
  timesPath: string | null;
}

export class LogFile {
  private fd: number | null;
  /** Where this run's output starts (earlier runs' before it stay) and where the file ends. */
  private readonly start: number;
  private end: number;
  private lastMark = -Infinity;
  /** Each cap as `cut START SHIFT`: bytes past START moved down by SHIFT (a follower's offset moves with them). */
  private cuts: string[] = [];
  /** Bytes of the oldest output dropped for the cap. */
  dropped = 0;

  constructor(
    path: string,
    private readonly opts: LogOptions,
  ) {
    makeFolders(dirname(path));
    this.fd = openLog(path);
    this.start = this.end = fstatSync(this.fd).size;
    if (opts.timesPath) makeFolders(dirname(opts.timesPath));
  }

  get open(): boolean {
    return this.fd !== null;
  }

  /** Appends a chunk (throws what the write throws: the tee stops the log). */
  write(chunk: Buffer, at = Date.now()): void {
    const fd = this.fd!;
    if (at - this.lastMark >= TIME_STEP_MS) this.mark(this.end, at);
    for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
    this.end += chunk.length;
    if (this.opts.max > 0 && this.end - this.start > this.opts.max) this.cap();
  }

  private mark(offset: number, at: number): void {
    this.lastMark = at;
    // On disk only: a task that prints for weeks would otherwise hold every mark in memory.
    if (this.opts.timesPath) appendFileSync(this.opts.timesPath, `${offset} ${at}\n`, { mode: 0o600 });
  }

  /** Keeps the newest half of the cap: copied down to where this run's output starts, the rest cut off. */
  private cap(): void {
    const fd = this.fd!;
    // Our descriptor appends; another, on the same file through /proc, reads and writes at offsets.
    const rw = openSync(`/proc/self/fd/${fd}`, constants.O_RDWR); // our own descriptor's link: followed on purpose
    let from = this.end - Math.floor(this.opts.max / 2);
    let keep = this.end - from;
    try {
      // The kept part starts with a whole line, if one starts in its first 64 KiB.
      const head = Buffer.alloc(Math.min(64 * 1024, keep));
      const nl = head.subarray(0, readSync(rw, head, 0, head.length, from)).indexOf(0x0a);
      if (nl >= 0 && nl + 1 < keep) {
        from += nl + 1;
        keep -= nl + 1;
      }
      const buf = Buffer.alloc(Math.min(COPY_CHUNK, keep));
      for (let done = 0; done < keep; ) {
        const got = readSync(rw, buf, 0, Math.min(buf.length, keep - done), from + done);
        if (got <= 0) break;
        for (let w = 0; w < got; ) w += writeSync(rw, buf, w, got - w, this.start + done + w);
        done += got;
      }
      ftruncateSync(rw, this.start + keep);
    } finally {
      closeSync(rw);
    }
    const shift = from - this.start;
    this.dropped += shift;
    this.cuts.push(`cut ${this.start} ${shift}`);
    this.end = this.start + keep;
    if (this.opts.timesPath) this.rewriteTimes(from, shift);
  }

  // The side file's lines: marks are `OFFSET MS`; a cap is `cut START SHIFT`.

  /** After a cap that dropped [start, from): this run's marks move down with their bytes (`shift`); the rest stays. */
  private rewriteTimes(from: number, shift: number): void {
    const path = this.opts.timesPath!;
    const { marks, cuts } = readTimes(path);
    // What earlier runs left (their marks and cuts) stays as it was; this run's is written anew.
    const earlier = (list: [number, number][]) => list.filter(([o]) => o < this.start);
    const ours = marks.filter(([o]) => o >= this.start);
    // One mark for the new start keeps its time known.
    const before = ours.filter(([o]) => o <= from).at(-1);
    const kept = [...(before ? [[this.start, before[1]]] : []), ...ours.filter(([o]) => o > from).map(([o, t]) => [o - shift, t])];
    const lines = [...earlier(cuts).map(([o, n]) => `cut ${o} ${n}`), ...this.cuts, ...[...earlier(marks), ...kept].map(([o, t]) => `${o} ${t}`)];
    // Replaced whole, so a follower reading the cuts never sees it half made.
    replaceFile(path, lines.map((l) => `${l}\n`).join(''), 0o600);
  }

  /** Closes it; its size then. */
  close(): number | null {
    if (this.fd === null) return null;
    const size = fstatSync(this.fd).size;
    closeSync(this.fd);
    this.fd = null;
    return size;
  }

  /** Gives up on it (a write failed). */
  abandon(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * A log's side file: its arrival marks, [offset, ms], ordered by offset, and its caps so far,
 * [start, shift], in the order they were made; both empty if none were kept.
 */
export function readTimes(path: string): { marks: [number, number][]; cuts: [number, number][] } {
  const marks: [number, number][] = [];
  const cuts: [number, number][] = [];
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // none kept
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const cut = line.startsWith('cut ');
    const [a, b] = (cut ? line.slice(4) : line).split(' ').map(Number) as [number, number];
    (cut ? cuts : marks).push([a, b]);
  }
  marks.sort((x, y) => x[0] - y[0]);
  return { marks, cuts };
}
