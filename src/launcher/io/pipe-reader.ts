// Reading the child's stdout or stderr without node's net module (3-5 ms of
// every launch to load, 2 ms more for its first socket). A read waits on
// libuv's thread pool, with the pipe's blocking descriptor; once it returns,
// whatever else the pipe holds is drained at once through a second,
// non-blocking description of the same pipe, so a burst of output costs one
// round trip to the pool, not one for every 4 KiB the child wrote.
import { closeSync, constants, openSync, read, readSync, writeSync } from 'node:fs';

const FIRST_READ = 64 * 1024;
const DRAIN_UP_TO = 1024 * 1024;
/** A pipe's own size: chunks this small keep a pipeline flowing. */
export const PIPE_CHUNK = 64 * 1024;

/**
 * Each reader holds a thread of libuv's pool while it waits, and the launcher
 * has two: a pool made smaller than the default 4 (UV_THREADPOOL_SIZE, read
 * when the pool starts, at the first read) could leave one pipe unread for good.
 */
function ensurePoolThreads(): void {
  const size = process.env.UV_THREADPOOL_SIZE;
  if (size !== undefined && !(Number(size) >= 4)) process.env.UV_THREADPOOL_SIZE = '4';
}

export class PipeReader {
  /** Reused: a chunk handed to onData is valid until the reader is resumed (or onData returns, unpaused). */
  private readonly buffer = Buffer.allocUnsafe(DRAIN_UP_TO);
  private readonly drainFd: number | null;
  private inFlight = false;
  private paused = false;
  private state: 'open' | 'stopping' | 'closed' = 'open';
  /**
   * How much output one chunk gathers: much by default (fewer trips to the pool, fewer and
   * larger writes); a pipe's worth once what we pass it on to pushes back, so that the child
   * writes into its pipe while we write out of ours, rather than each waiting for the other.
   */
  gatherUpTo = DRAIN_UP_TO;
  private resolveClosed!: () => void;
  /** Resolves at end-of-file (every writer gone) or once stopped. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  private readonly wakeAtExit = () => this.wake();

  /** `fd`: a pipe's read end, blocking; it is ours now, and closed at the end. */
  constructor(
    private readonly fd: number,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    let drain: number | null;
    try {
      drain = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      drain = null;
    }
    this.drainFd = drain;
    ensurePoolThreads();
    // A read still waiting on the pool would keep node from ever exiting.
    process.on('exit', this.wakeAtExit);
    this.next();
  }

  /** No more reads until resume (the chunk given last is still being written). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.next();
  }

  /** Stops reading for good; the child's next write then fails, as in a shell pipeline whose reader left. */
  stop(): void {
    if (this.state !== 'open') return;
    this.state = 'stopping';
    if (this.inFlight) this.wake();
    else this.close();
  }

  private next(): void {
    if (this.inFlight || this.paused || this.state !== 'open') return;
    this.inFlight = true;
    read(this.fd, this.buffer, 0, FIRST_READ, null, (err, n) => {
      this.inFlight = false;
      if (this.state !== 'open') return this.close();
      if (err || n === 0) return this.close();
      let length = n;
      let ended = false;
      while (this.drainFd !== null && length < this.gatherUpTo) {
        let more: number;
        try {
          more = readSync(this.drainFd, this.buffer, length, this.gatherUpTo - length, null);
        } catch {
          break; // EAGAIN: nothing more for now
        }
        if (more === 0) {
          ended = true;
          break;
        }
        length += more;
      }
      this.onData(this.buffer.subarray(0, length));
      if (ended) this.close();
      else this.next();
    });
  }

  /** Gives a read that waits on the pool a byte to return with (ignored: we are stopping). */
  private wake(): void {
    if (!this.inFlight) return;
    try {
      const fd = openSync(`/proc/self/fd/${this.fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(fd, '\n');
      } finally {
        closeSync(fd);
      }
    } catch {
      // the pipe is full: the read returns anyway
    }
  }

  private close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    process.off('exit', this.wakeAtExit);
    for (const fd of [this.fd, this.drainFd]) if (fd !== null) closeSync(fd);
    this.resolveClosed();
  }
}
