// The child's stdout and stderr: passed through unchanged (bytes) and saved
// to the task's log. Both writes are synchronous: a regular file, and our
// stdout, which node writes synchronously on Linux for files, pipes and
// terminals. So a slow reader blocks us, the child's pipe fills and the child
// waits: memory stays flat however much it prints, with no thread-pool round
// trip per chunk.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

const STDERR_TAIL_BYTES = 16 * 1024;

export class OutputTee {
  private logFd: number | null;
  private open = 2;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  /** `warn` hears once if the log cannot be written (a full disk): the run goes on without it. */
  constructor(
    logPath: string,
    private readonly warn: (message: string) => void,
  ) {
    mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
    this.logFd = openSync(logPath, 'a', 0o600);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Connects one of the child's streams; `through` is our own stdout or stderr, if the output passes through. */
  attach(source: Readable, through: number | null, keepTail: boolean): void {
    source.on('data', (chunk: Buffer) => {
      if (this.logFd !== null) this.writeLog(chunk);
      if (through !== null) this.pass(source, through, chunk);
      if (keepTail) this.remember(chunk);
    });
    source.on('close', () => {
      if (--this.open > 0) return;
      if (this.logFd !== null) closeSync(this.logFd);
      this.logFd = null;
      this.resolveDone();
    });
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

  private pass(source: Readable, fd: number, chunk: Buffer): void {
    try {
      writeAll(fd, chunk);
    } catch {
      // Like a shell pipeline: when our reader goes away, the child's writes fail too.
      source.destroy();
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

/** writeSync may write less than asked, and a non-blocking fd may say EAGAIN: finish the job. */
function writeAll(fd: number, chunk: Buffer): void {
  for (let done = 0; done < chunk.length; ) {
    try {
      done += writeSync(fd, chunk, done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
