import { closeSync, fstatSync, readSync, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, noSuchTask, TwError, usageError } from '../../core/errors.js';
import type { Attempt } from '../../store/store.js';
import { timesPath } from '../../store/location.js';
import { readTimes } from '../../launcher/io/log-file.js';
import { formatInstant } from '../../core/duration.js';
import { openToRead } from '../../core/files.js';
import { isTerminal, type Task } from '../../core/task.js';
import { isAlive } from '../../launcher/proc.js';
import { observe } from '../../tasks/observe.js';
import { depsOf } from '../../launcher/deps.js';
import { parseCount, parseId } from '../args.js';
import { once, type Context } from '../context.js';
import type { Output } from '../output.js';

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 500;

export async function logs(opts: { follow?: boolean; tail?: string; attempt?: string; timestamps?: boolean }, [idText]: string[], ctx: Context): Promise<void> {
  const id = parseId(idText!);
  const tail = opts.tail === undefined ? null : parseCount(opts.tail, '--tail');
  const attempt = opts.attempt === undefined ? null : parseCount(opts.attempt, '--attempt', 1);
  if (attempt !== null && opts.follow) throw usageError('--attempt shows one attempt as it was: not with -f');
  if (opts.timestamps && opts.follow) throw usageError('--timestamps shows the log as it is so far: not with -f');
  const store = await ctx.openStore();
  const task = store.get(id);
  if (!task) throw noSuchTask(id);
  const path = task.logPath;
  if (!path && !opts.follow) throw new TwError(`task ${id} has no log (it never ran)`);
  // The task's own part of the log (a log the user named may hold other runs' output), or one attempt's.
  const [from, to] = attempt === null ? [task.logOffset, task.logEnd] : attemptRange(store.attempts(id), attempt, task);
  // The log is read through one descriptor, held open: a prune that deletes it meanwhile loses none of its lines.
  let fd = path ? openToRead(path, 'the log') : null;
  let offset = fd === null ? from : startOffset(fd, tail, from, to);
  try {
    if (!opts.follow) {
      if (fd === null) throw new TwError(`the log of task ${id}, ${path}, is gone (deleted)`);
      if (opts.timestamps) {
        const { marks } = readTimes(timesPath(store.path, id));
        if (!marks.length && offset >= (to ?? fstatSync(fd).size)) return; // no output: no times either
        if (!marks.length) throw new TwError(`task ${id}'s log has no arrival times (tw keeps them for tasks started since it could)`);
        copyStamped(fd, offset, to, ctx.stdout, marks);
        return;
      }
      offset = copyFrom(fd, offset, ctx.stdout, to);
      return;
    }
    // Follow: copy what is appended until the task is terminal, then the rest.
    const warn = once(ctx.warn); // reaped at every turn: say each thing once
    // The caps, from the side file: a cap replaces it whole (a new inode), so it is read again only then.
    const times = timesPath(store.path, id);
    const timesIno = () => statSync(times, { throwIfNoEntry: false })?.ino;
    let seenIno = timesIno();
    let cutsSeen = readTimes(times).cuts.length;
    const drain = (now: Task | null, end: number | null = null): void => {
      const logPath = now?.logPath ?? path;
      if (logPath && fd === null) {
        fd = openToRead(logPath, 'the log');
        // Claimed since (launch --id): its output starts where the claim found the log's end.
        if (now) offset = Math.max(offset, now.logOffset);
      }
      // The log's cap moved what we had not read yet down the file: our place moves with it (what it dropped, we skip).
      const ino = timesIno();
      if (ino !== seenIno) {
        seenIno = ino;
        const { cuts } = readTimes(times);
        for (const [start, shift] of cuts.slice(cutsSeen)) if (offset > start) offset = Math.max(start, offset - shift);
        cutsSeen = cuts.length;
      }
      if (fd !== null) offset = copyFrom(fd, offset, ctx.stdout, end);
    };
    let wake: (() => void) | null = null;
    let watcher: ReturnType<typeof watch> | null = null;
    try {
      if (path) watcher = watch(dirname(path), () => wake?.());
    } catch {
      watcher = null;
    }
    try {
      for (;;) {
        const now = store.get(id);
        drain(now);
        if (!now) throw new TwError(`task ${id} was deleted while followed (history prune or clear); its log ends here`, ExitCode.NoSuchTask);
        // Ended, and the launcher has written the last of the output (it records where it ends), or is gone.
        if (isTerminal(now.state) && (now.logEnd !== null || !isAlive(now.launcher))) {
          drain(now, now.logEnd);
          if (fd === null && now.logPath) throw new TwError(`the log of task ${id}, ${now.logPath}, is gone (deleted)`);
          return;
        }
        observe(depsOf(store, { ...ctx, warn }));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, FOLLOW_POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      watcher?.close();
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Where attempt `n`'s output is in the log: [start, end); a task from before attempts were kept ran once. */
function attemptRange(attempts: Attempt[], n: number, task: Task): [number, number | null] {
  const found = attempts.find((a) => a.attempt === n);
  if (found) return [found.logStart, found.logEnd];
  if (n === 1 && attempts.length === 0) return [task.logOffset, task.logEnd];
  throw new TwError(`task ${task.id} has no attempt ${n} (it has run ${attempts.length} time${attempts.length === 1 ? '' : 's'})`);
}

/** Where to start in [from, to) so that only the last `lines` lines are shown. */
function startOffset(fd: number, lines: number | null, from: number, to: number | null): number {
  if (lines === null) return from;
  const size = Math.min(fstatSync(fd).size, to ?? Infinity);
  if (lines === 0) return size;
  const buf = Buffer.alloc(CHUNK);
  let seen = 0;
  for (let pos = size; pos > from; ) {
    const len = Math.min(CHUNK, pos - from);
    pos -= len;
    readSync(fd, buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      // A final newline ends the last line; it does not start another.
      if (buf[i] === 0x0a && pos + i !== size - 1 && ++seen === lines) return pos + i + 1;
    }
  }
  return from;
}

/** Copies [from, to) of the log with each line after the time it arrived (the last mark at or before its start). */
function copyStamped(fd: number, from: number, to: number | null, out: Output, marks: [number, number][]): void {
  const buf = Buffer.alloc(CHUNK);
  const end = Math.min(to ?? Infinity, fstatSync(fd).size);
  let m = 0;
  let lineStart = true;
  for (let pos = from; pos < end; ) {
    const got = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
    if (got <= 0) return;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < got; ) {
      if (lineStart) {
        while (m + 1 < marks.length && marks[m + 1]![0] <= pos + i) m++;
        parts.push(Buffer.from(`${formatInstant(marks[m]![1])}  `));
        lineStart = false;
      }
      const nl = buf.indexOf(0x0a, i);
      const stop = nl === -1 || nl >= got ? got : nl + 1;
      parts.push(buf.subarray(i, stop)); // copied by the concat below, before buf is read into again
      lineStart = stop === nl + 1;
      i = stop;
    }
    out.write(Buffer.concat(parts));
    pos += got;
  }
}

/** Copies from an open file, from offset to its current end (or to `end`); returns the new offset. */
function copyFrom(fd: number, offset: number, out: Output, end: number | null = null): number {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const want = end === null ? CHUNK : Math.min(CHUNK, end - offset);
    if (want <= 0) return offset;
    const got = readSync(fd, buf, 0, want, offset);
    if (got === 0) return offset;
    out.write(buf.subarray(0, got));
    offset += got;
  }
}
