// Follows one feedback file across polls, reading only what was appended.
// Sync fs on purpose: a poll is a few syscalls run from the launcher's event
// loop on watcher events, and must leave the reader consistent before it
// returns.
import fs from 'node:fs';
import type { Feedback, Progress } from '../core/task.js';
import { feed, finish, newParser, valuesOf, type ParserState } from './parser.js';
import { parseProgress } from './progress.js';

const CHUNK_BYTES = 256 * 1024;
/**
 * The most one poll reads: parsing runs at 100 MB/s or more, so a slice holds
 * the launcher's loop (its timers, signals, output) for about 10 ms at
 * most; a poll that stops short says so (`more`) and is called again.
 */
const SLICE_BYTES = 1024 * 1024;
const SEAM_BYTES = 64;
const EMPTY = Buffer.alloc(0);

export interface PollResult {
  /** Size, mtime or identity differ from the last poll: the task is alive. */
  changed: boolean;
  /** A regular file is at the path. */
  exists: boolean;
  /** Why the file could not be read (values are then left as they were). */
  error: string | null;
  /** Bytes wait past this poll's slice: poll again soon. */
  more: boolean;
}

export class FeedbackReader {
  /** dev, inode and birth time: an inode number alone is reused after unlink. */
  private identity: string | null = null;
  private signature: string | null = null;
  private offset = 0;
  /** The last bytes read (up to SEAM_BYTES), ending at the offset. */
  private seam: Buffer = EMPTY;
  private parser: ParserState = newParser();
  private finished = false;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(readonly path: string) {}

  /** Never throws: a missing, odd or unreadable file is reported, not raised. */
  poll(): PollResult {
    if (this.finished) return { changed: false, exists: this.signature !== null, error: null, more: false };
    return this.read(false);
  }

  /**
   * What the file holds now is not the task's (it was there before the start): begin after
   * it. A file replaced or cut short later is read from its start, as always.
   */
  skipExisting(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch {
      return; // not there yet: all it will hold is the task's
    }
    try {
      const stat = fs.fstatSync(fd, { bigint: true });
      if (!stat.isFile()) return;
      this.identity = identityOf(stat);
      this.signature = `${this.identity}:${stat.size}:${stat.mtimeNs}`;
      this.offset = Number(stat.size);
      const seam = Math.min(SEAM_BYTES, this.offset);
      const tail = Buffer.alloc(seam);
      this.seam = tail.subarray(0, fs.readSync(fd, tail, 0, seam, this.offset - seam));
    } catch {
      // unreadable: polls will say why
    } finally {
      closeQuietly(fd);
    }
  }

  /**
   * Reads one last time, to the end of the file, and takes an unterminated
   * last line as a line. Later polls do nothing: the values are final.
   */
  finish(): PollResult {
    if (this.finished) return { changed: false, exists: this.signature !== null, error: null, more: false };
    const result = this.read(true);
    finish(this.parser);
    this.finished = true;
    return result;
  }

  get values(): Feedback {
    return valuesOf(this.parser);
  }

  get ignored(): number {
    return this.parser.ignored;
  }

  get progress(): Progress | null {
    const value = this.parser.values.get('progress');
    return value === undefined ? null : parseProgress(value);
  }

  private read(toEnd: boolean): PollResult {
    let stat: fs.BigIntStats | undefined;
    try {
      stat = fs.statSync(this.path, { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      return this.gone(describe(e));
    }
    if (stat === undefined) return this.gone(null);
    if (!stat.isFile()) return this.gone(`${this.path} is not a regular file`);
    const signature = `${identityOf(stat)}:${stat.size}:${stat.mtimeNs}`;
    const changed = signature !== this.signature;
    this.signature = signature;
    const read = this.readAppended(toEnd);
    return { changed, exists: true, error: typeof read === 'string' ? read : null, more: read === true };
  }

  private gone(error: string | null): PollResult {
    const changed = this.signature !== null;
    this.signature = null;
    return { changed, exists: false, error, more: false };
  }

  /**
   * A file rewritten in place (`printf ... > file`) to the same length or
   * longer keeps its identity and does not shrink: the bytes just before the
   * offset, read again, tell whether what was parsed is still there.
   */
  private rewritten(fd: number): boolean {
    if (this.seam.length === 0) return false;
    const again = Buffer.alloc(this.seam.length);
    const got = fs.readSync(fd, again, 0, again.length, this.offset - this.seam.length);
    return got !== again.length || !again.equals(this.seam);
  }

  /** Returns an error message, or whether bytes are left past this slice. */
  private readAppended(toEnd: boolean): string | boolean {
    let fd: number;
    try {
      // O_NONBLOCK: should a FIFO replace the file after the stat, open must not hang.
      fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      return describe(e);
    }
    try {
      // The descriptor's own stat, so identity and size match the bytes read.
      const stat = fs.fstatSync(fd, { bigint: true });
      if (!stat.isFile()) return `${this.path} is not a regular file`;
      const identity = identityOf(stat);
      if (identity !== this.identity || stat.size < BigInt(this.offset) || this.rewritten(fd)) {
        this.identity = identity;
        this.offset = 0;
        this.parser = newParser();
        this.seam = EMPTY;
      }
      // A poll stops at the size it saw, so a fast writer cannot keep it
      // reading forever; later bytes bring their own watcher event.
      const size = toEnd ? Number.MAX_SAFE_INTEGER : Number(stat.size);
      const limit = toEnd ? size : Math.min(size, this.offset + SLICE_BYTES);
      while (this.offset < limit) {
        const want = Math.min(CHUNK_BYTES, limit - this.offset);
        const got = fs.readSync(fd, this.buffer, 0, want, this.offset);
        if (got === 0) break;
        const chunk = this.buffer.subarray(0, got);
        feed(this.parser, chunk);
        this.offset += got;
        this.seam = Buffer.from(got >= SEAM_BYTES ? chunk.subarray(got - SEAM_BYTES) : Buffer.concat([this.seam, chunk]).subarray(-SEAM_BYTES));
      }
      return this.offset < size;
    } catch (e) {
      return describe(e);
    } finally {
      closeQuietly(fd);
    }
  }
}

function identityOf(stat: fs.BigIntStats): string {
  return `${stat.dev}:${stat.ino}:${stat.birthtimeNs}`;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing was written through it; a failed close loses nothing.
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
