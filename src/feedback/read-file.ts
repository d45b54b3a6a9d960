// Reading a feedback file named by a user or a task (`tw parse`, `tw
// feedback`), within bounds: a regular file only (a FIFO would hang the
// read, /dev/zero never end, a /proc file lie about its size), read in
// chunks through the incremental parser up to the size it had when opened,
// so memory stays flat and a file that keeps growing cannot keep tw reading.
import { closeSync, constants, fstatSync, openSync, readSync, statfsSync } from 'node:fs';
import { errnoText, TwError } from '../core/errors.js';
import type { Feedback } from '../core/task.js';
import { feed, finish, newParser, valuesOf } from './parser.js';

const CHUNK = 1024 * 1024;
/** statfs magic numbers of file systems whose files are not data: procfs, sysfs. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572]);

export function parseFile(path: string): { values: Feedback; ignored: number } {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal is not taken over.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new TwError(`cannot read ${path}: ${errnoText(e)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new TwError(`cannot read ${path}: ${kindOf(stat)}, not a regular file`);
    if (PSEUDO_FS.has(statfsSync(path).type)) throw new TwError(`cannot read ${path}: a file of the kernel's (/proc, /sys), not a regular file`);
    const state = newParser();
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let offset = 0; offset < stat.size; ) {
      const got = readSync(fd, buffer, 0, Math.min(CHUNK, stat.size - offset), offset);
      if (got === 0) break; // cut short meanwhile
      feed(state, buffer.subarray(0, got));
      offset += got;
    }
    finish(state);
    return { values: valuesOf(state), ignored: state.ignored };
  } catch (e) {
    if (e instanceof TwError) throw e;
    throw new TwError(`cannot read ${path}: ${errnoText(e)}`);
  } finally {
    closeSync(fd);
  }
}

function kindOf(stat: { isFIFO(): boolean; isDirectory(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'something else';
}
