// Making folders and opening files without hanging or spinning on what is
// found there: node's recursive mkdirSync spins for good under /proc, and
// opening a FIFO for writing waits for a reader that may never come.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoText, TwError } from './errors.js';

/** Makes `dir` and whatever of its parents is missing, each 0700, one level at a time. */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const stat = statSync(d, { throwIfNoEntry: false });
    if (stat) {
      if (!stat.isDirectory()) throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Opens a log for appending, made 0600 if new: a regular file only (a FIFO, a
 * device, a folder or a symbolic link is refused at once, in words), in a
 * folder that exists.
 */
export function openLog(path: string): number {
  let fd: number;
  try {
    // O_NOFOLLOW: a link planted where the log goes must not send the output (root's, say) elsewhere.
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    // ENXIO: a FIFO without a reader (O_NONBLOCK), which would otherwise have waited for one.
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENXIO' ? 'a FIFO, not a regular file' : code === 'ELOOP' ? 'a symbolic link; name the file itself' : errnoText(e);
    throw new TwError(`cannot write the log ${path}: ${why}`);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new TwError(`cannot write the log ${path}: ${stat.isFIFO() ? 'a FIFO' : stat.isDirectory() ? 'a directory' : 'a device or socket'}, not a regular file`);
  }
  return fd;
}

/**
 * Opens a file to read: null if there is none; a regular file only (a FIFO
 * planted in its place would hang the read, a device never end). `what` names
 * it in the error.
 */
export function openToRead(path: string, what: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new TwError(`cannot read ${what} ${path}: ${code === 'ELOOP' ? 'a symbolic link, not a file tw wrote' : errnoText(e)}`);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new TwError(`cannot read ${what} ${path}: ${stat.isFIFO() ? 'a FIFO' : stat.isDirectory() ? 'a directory' : 'a device or socket'}, not a regular file`);
  }
  return fd;
}

/**
 * Replaces the file at `path` with `text`: a temp file in the same folder, flushed, then renamed
 * over it, so a reader sees the old file or the new, never half. Throws what the file system says.
 */
export function replaceFile(path: string, text: string, mode: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // not made
    }
    throw e;
  }
}
