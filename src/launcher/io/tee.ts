// The child's stdout and stderr: passed through unchanged (bytes) and saved
// to the task's log. Writes are direct writeSync calls, non-blocking; when our
// own reader has no room (EAGAIN), the chunk waits and the child's pipe is not
// read meanwhile: back-pressure holds the child back, memory stays flat however
// much it prints, and the launcher's timers and signals keep working.
import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { sleepSync } from '../../core/sleep.js';
import { LogFile, type LogOptions } from './log-file.js';
import { PIPE_CHUNK, PipeReader } from './pipe-reader.js';

const STDERR_TAIL_BYTES = 16 * 1024;
/**
 * A write our reader had no room for is tried again after naps of NAP_MS for
 * NAPPING_MS (the launcher's loop waits meanwhile), then after 2, 4 ... ms.
 */
const NAP_MS = 0.02;
const NAPPING_MS = 2;
const RETRY_MAX_MS = 100;

export class OutputTee {
  private readonly log: LogFile;
  private readonly sources: PipeReader[] = [];
  private readonly ends: Promise<unknown>[] = [];
  private readonly throughs: Through[] = [];
  private tail: Buffer[] = [];
  private tailBytes = 0;

  /** `warn` hears once if the log cannot be written (a full disk): the run goes on without it. */
  constructor(
    logPath: string,
    private readonly warn: (message: string) => void,
    logOptions: LogOptions = { max: 0, timesPath: null },
  ) {
    this.log = new LogFile(logPath, logOptions);
  }

  /** Bytes of the oldest output the log's cap dropped. */
  get dropped(): number {
    return this.log.dropped;
  }

  /** Reads one of the child's pipes (`fd`, ours now); `through` is where the output passes on to, if it does. */
  attach(fd: number, through: Through | null, keepTail: boolean): void {
    if (through) this.throughs.push(through);
    const pass = (data: Buffer): void => {
      const passed = through!.write(data, () => source.resume());
      if (through!.pushedBack) source.gatherUpTo = PIPE_CHUNK;
      if (passed === 'queued') source.pause();
      else if (passed === 'gone') source.stop(); // like a shell pipeline: when our reader goes away, the child's writes fail too
    };
    const source: PipeReader = new PipeReader(fd, (chunk) => {
      if (this.log.open) this.writeLog(chunk);
      if (keepTail) this.remember(Buffer.from(chunk)); // a copy: the reader reuses its buffer
      if (through) pass(chunk);
    });
    this.sources.push(source);
    this.ends.push(source.closed);
  }

  /** Output is waiting for our own reader to make room. */
  get writing(): boolean {
    return this.throughs.some((t) => t.pending);
  }

  /** The child's pipes are all closed (every writer gone, or we stopped reading), and what they held is passed on. */
  get closed(): Promise<void> {
    return Promise.all(this.ends).then(() => undefined);
  }

  /**
   * Everything read is written: our stdout and stderr took it all (or were abandoned), the log is
   * closed. Resolves to the log's size then (from its descriptor: whatever the path has become), or
   * null if the log stopped early.
   */
  async done(): Promise<number | null> {
    await this.closed;
    await Promise.all(this.throughs.map((t) => t.drained()));
    return this.log.close();
  }

  /** Stops reading: for output held open by a process outside the task's group. */
  stopReading(): void {
    for (const source of this.sources) source.stop();
  }

  /** Drops what our own reader has not taken yet (a signal while it stalls). */
  abandon(): void {
    for (const through of this.throughs) through.drop();
    this.stopReading();
  }

  private writeLog(chunk: Buffer): void {
    try {
      this.log.write(chunk);
    } catch (e) {
      this.warn(`warning: the log stops here: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      this.log.abandon();
    }
  }

  private remember(chunk: Buffer): void {
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0]!.length >= STDERR_TAIL_BYTES) this.tailBytes -= this.tail.shift()!.length;
  }

  /** The last lines the child wrote to stderr (to either, when they are one pipe), for a failure's stacktrace. */
  stderrTail(lines: number): string {
    const text = Buffer.concat(this.tail).toString('utf8').replace(/\n$/, '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

/** Our stdout or stderr, as the child's output passes on to it. */
export class Through {
  private gone = false;
  /** Chunks waiting for our reader to make room, in order; the pipe of each is paused meanwhile. */
  private readonly queue: { chunk: Buffer; offset: number; resume: () => void }[] = [];
  private delayMs = 1;
  private idle: (() => void)[] = [];
  /** Our reader has once had no room for a write. */
  pushedBack = false;

  constructor(private readonly fd: number) {}

  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Passes `chunk` on at once ('written'), or keeps it and calls `resume` once it is out ('queued'). */
  write(chunk: Buffer, resume: () => void): 'written' | 'queued' | 'gone' {
    if (this.gone) return 'gone';
    if (this.queue.length) {
      this.queue.push({ chunk, offset: 0, resume }); // behind what already waits
      return 'queued';
    }
    let done = this.attempt(chunk, 0);
    if (typeof done === 'number') this.pushedBack = true;
    // Our reader has no room. One that is only slower than the child makes room within
    // microseconds: wait for it in short naps, holding the launcher's loop a moment at most.
    const until = performance.now() + NAPPING_MS;
    while (typeof done === 'number' && performance.now() < until) {
      sleepSync(NAP_MS);
      done = this.attempt(chunk, done);
    }
    if (typeof done === 'string') return done;
    // One that stalls: try again less and less often, the loop free meanwhile.
    this.queue.push({ chunk, offset: done, resume });
    this.delayMs = 1;
    setTimeout(this.flush, this.delayMs);
    return 'queued';
  }

  private readonly flush = (): void => {
    for (let head = this.queue[0]; head; head = this.queue[0]) {
      const done = this.attempt(head.chunk, head.offset);
      if (done === 'gone') return; // drop() has let everyone go
      if (typeof done === 'number') {
        head.offset = done;
        this.delayMs = Math.min(RETRY_MAX_MS, this.delayMs * 2);
        setTimeout(this.flush, this.delayMs);
        return;
      }
      this.queue.shift();
      head.resume();
    }
    this.idle.splice(0).forEach((fn) => fn());
  };

  /** Writes what it can of chunk from offset: the whole of it, or where EAGAIN stopped it. */
  private attempt(chunk: Buffer, offset: number): 'written' | 'gone' | number {
    if (this.gone) return 'gone';
    try {
      while (offset < chunk.length) offset += writeSync(this.fd, chunk, offset);
      return 'written';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? offset : this.drop();
    }
  }

  /** Resolves once nothing waits. */
  drained(): Promise<void> {
    return this.queue.length ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }

  /** Our reader is gone, or we give up on it: nothing more is passed on; paused pipes go on, to learn it. */
  drop(): 'gone' {
    this.gone = true;
    for (const { resume } of this.queue.splice(0)) resume();
    this.idle.splice(0).forEach((fn) => fn());
    return 'gone';
  }
}

/**
 * Where our stdout and stderr take the child's output. A pipe or terminal is
 * opened anew, non-blocking, through /proc/self/fd (an open file of our own,
 * so nobody sharing ours is affected); a file is written through the
 * descriptor itself (its offset is shared with the shell). If neither can be
 * done (a socket), node's own stream makes the descriptor non-blocking.
 */
export function throughs(): [Through, Through] {
  const out = throughFor(1);
  return [out, outputsShared() ? out : throughFor(2)];
}

/** Our stdout and stderr are one file (a terminal, `>f 2>&1`): the child's two can be one pipe. */
export const outputsShared = (): boolean => sameFile(1, 2);

function sameFile(a: number, b: number): boolean {
  try {
    const [x, y] = [fstatSync(a), fstatSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function throughFor(fd: 1 | 2): Through {
  try {
    if (fstatSync(fd).isFile()) return new Through(fd);
    return new Through(openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY));
  } catch {
    void (fd === 1 ? process.stdout : process.stderr);
    return new Through(fd);
  }
}
