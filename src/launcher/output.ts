// The child's stdout and stderr: passed through unchanged (bytes) and saved
// to the task's log. Both writes are direct writeSync calls (no thread-pool
// round trip per chunk); a reader of ours that stalls holds the child back
// (back-pressure), memory stays flat however much it prints, and the
// launcher's timers and signals keep working meanwhile.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

const STDERR_TAIL_BYTES = 16 * 1024;
/** How soon a write our reader had no room for is tried again, doubling up to the maximum. */
const RETRY_FIRST_MS = 2;
const RETRY_MAX_MS = 100;

export class OutputTee {
  private logFd: number | null;
  private readonly sources: Readable[] = [];
  private readonly sourcesClosed: Promise<unknown>[] = [];
  /** Chunks waiting for our own reader to make room, one per stream at most (the stream is paused meanwhile). */
  private readonly waiting = new Set<() => void>();
  private abandoned = false;
  private tail: Buffer[] = [];
  private tailBytes = 0;

  /** `warn` hears once if the log cannot be written (a full disk): the run goes on without it. */
  constructor(
    logPath: string,
    private readonly warn: (message: string) => void,
  ) {
    mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
    this.logFd = openSync(logPath, 'a', 0o600);
  }

  /** Connects one of the child's streams; `through` is our own stdout or stderr, if the output passes through. */
  attach(source: Readable, through: number | null, keepTail: boolean): void {
    this.sources.push(source);
    source.on('data', (chunk: Buffer) => {
      if (this.logFd !== null) this.writeLog(chunk);
      if (keepTail) this.remember(chunk);
      if (through !== null) this.pass(source, through, chunk, 0, RETRY_FIRST_MS);
    });
    this.sourcesClosed.push(new Promise((resolve) => source.on('close', resolve)));
  }

  /**
   * Writes to our stdout or stderr without ever blocking the launcher: node
   * makes a pipe's descriptor non-blocking, so a reader that stops reading
   * gives EAGAIN; then the child's stream waits (back-pressure on the child)
   * and the write is tried again later, while timers and signals go on.
   */
  /** Returns whether the chunk is dealt with (written, or the stream dropped); false: a retry is pending. */
  private pass(source: Readable, fd: number, chunk: Buffer, offset: number, retryMs: number): boolean {
    try {
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        source.destroy(); // like a shell pipeline: when our reader goes away, the child's writes fail too
        return true;
      }
      source.pause();
      const retry = () => {
        this.waiting.delete(retry);
        if (!this.abandoned && this.pass(source, fd, chunk, offset, Math.min(RETRY_MAX_MS, retryMs * 2))) source.resume();
      };
      this.waiting.add(retry);
      setTimeout(retry, retryMs);
      return false;
    }
  }

  /** A chunk is waiting for our own reader to make room. */
  get writing(): boolean {
    return this.waiting.size > 0;
  }

  /** The child's streams are all closed (every writer gone, or we stopped reading). */
  get closed(): Promise<void> {
    return Promise.all(this.sourcesClosed).then(() => undefined);
  }

  /** Everything read is written: our stdout and stderr took it all (or were abandoned), the log is closed. */
  async done(): Promise<void> {
    await this.closed;
    while (this.waiting.size && !this.abandoned) await new Promise((resolve) => setTimeout(resolve, RETRY_MAX_MS));
    if (this.logFd !== null) closeSync(this.logFd);
    this.logFd = null;
  }

  /** Stops reading: for output held open by a process outside the task's group. */
  stopReading(): void {
    for (const source of this.sources) source.destroy();
  }

  /** Drops what our own reader has not taken yet (a signal while it stalls). */
  abandon(): void {
    this.abandoned = true;
    this.waiting.clear();
    this.stopReading();
  }

  private writeLog(chunk: Buffer): void {
    try {
      writeAll(this.logFd!, chunk);
    } catch (e) {
      this.warn(`warning: the log stops here: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      closeSync(this.logFd!);
      this.logFd = null;
    }
  }

  private remember(chunk: Buffer): void {
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0]!.length >= STDERR_TAIL_BYTES) this.tailBytes -= this.tail.shift()!.length;
  }

  /** The last lines the child wrote to stderr, for a failure's stacktrace. */
  stderrTail(lines: number): string {
    const text = Buffer.concat(this.tail).toString('utf8').replace(/\n$/, '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

/** writeSync may write less than asked: finish the job. */
function writeAll(fd: number, chunk: Buffer): void {
  for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
}
