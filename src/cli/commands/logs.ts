import { closeSync, fstatSync, readSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, noSuchTask, TwError } from '../../core/errors.js';
import { openToRead } from '../../core/files.js';
import { isTerminal } from '../../core/task.js';
import { reap } from '../../launcher/reap.js';
import { parseCount, parseId } from '../args.js';
import { once, type Context } from '../context.js';
import type { Output } from '../output.js';

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 500;

export async function logs(opts: { follow?: boolean; tail?: string }, [idText]: string[], ctx: Context): Promise<void> {
  const id = parseId(idText!);
  const tail = opts.tail === undefined ? null : parseCount(opts.tail, '--tail');
  const store = await ctx.openStore();
  const task = store.get(id);
  if (!task) throw noSuchTask(id);
  const path = task.logPath;
  if (!path && !opts.follow) throw new TwError(`task ${id} has no log (it never ran)`);
  // The log is read through one descriptor, held open: a prune that deletes it meanwhile loses none of its lines.
  let fd = path ? openToRead(path, 'the log') : null;
  let offset = fd === null ? 0 : startOffset(fd, tail);
  try {
    if (!opts.follow) {
      if (fd === null) throw new TwError(`the log of task ${id}, ${path}, is gone (deleted)`);
      offset = copyFrom(fd, offset, ctx.stdout);
      return;
    }
    // Follow: copy what is appended until the task is terminal, then the rest.
    const warn = once(ctx.warn); // reaped at every turn: say each thing once
    const drain = (logPath: string | null): void => {
      if (logPath && fd === null) fd = openToRead(logPath, 'the log');
      if (fd !== null) offset = copyFrom(fd, offset, ctx.stdout);
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
        drain(now?.logPath ?? path);
        if (!now) throw new TwError(`task ${id} was deleted while followed (history prune or clear); its log ends here`, ExitCode.NoSuchTask);
        if (isTerminal(now.state)) {
          drain(now.logPath);
          return;
        }
        reap(store, ctx.now(), warn);
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

/** Where to start so that only the last `lines` lines are shown. */
function startOffset(fd: number, lines: number | null): number {
  if (lines === null) return 0;
  const size = fstatSync(fd).size;
  if (lines === 0) return size;
  const buf = Buffer.alloc(CHUNK);
  let seen = 0;
  for (let pos = size; pos > 0; ) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    readSync(fd, buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      // A final newline ends the last line; it does not start another.
      if (buf[i] === 0x0a && pos + i !== size - 1 && ++seen === lines) return pos + i + 1;
    }
  }
  return 0;
}

/** Copies from an open file, from offset to its current end; returns the new offset. */
function copyFrom(fd: number, offset: number, out: Output): number {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const got = readSync(fd, buf, 0, CHUNK, offset);
    if (got === 0) return offset;
    out.write(buf.subarray(0, got));
    offset += got;
  }
}
