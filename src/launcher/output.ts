// The child's stdout and stderr: passed through unchanged (bytes, with
// back-pressure from every destination) and saved to the task's log.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const STDERR_TAIL_BYTES = 16 * 1024;

export class OutputTee {
  private readonly log: WriteStream;
  private open = 2;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(logPath: string) {
    mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
    this.log = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.log.on('error', () => undefined); // a full disk must not stop the supervision
    this.log.on('close', () => this.resolveDone());
  }

  /** Connects one of the child's streams; `through` is the terminal copy, if any. */
  attach(source: Readable, through: Writable | null, keepTail: boolean): void {
    source.pipe(this.log, { end: false });
    if (through) {
      source.pipe(through, { end: false });
      // Like a shell pipeline: when our reader goes away, the child's writes fail too.
      through.on('error', () => {
        source.unpipe(through);
        source.destroy();
      });
    }
    if (keepTail) source.on('data', (chunk: Buffer) => this.remember(chunk));
    source.on('close', () => {
      if (--this.open === 0) this.log.end();
    });
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
