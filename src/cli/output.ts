// Writing to our stdout and stderr without node's process.stdout: building
// that stream loads the tty and net modules, 4-5 ms of every command's start.
// Writes are synchronous, as node's own are on Linux for files, pipes and
// terminals.
import { readlinkSync, writeSync } from 'node:fs';
import { sleepSync } from '../core/sleep.js';

export interface Output {
  write(data: string | Uint8Array): void;
  readonly isTTY: boolean;
  /** The terminal's size, when it is one. */
  readonly columns: number | undefined;
  readonly rows: number | undefined;
}

/** isatty without node's tty module: a terminal is a /dev/pts, /dev/tty or the console. */
export function isTty(fd: number): boolean {
  try {
    return /^\/dev\/(pts\/\d+|tty\w*|console)$/.test(readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return false;
  }
}

export function fdOutput(fd: 1 | 2): Output {
  let closed = false;
  let tty: boolean | undefined;
  const stream = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);
  return {
    write(data) {
      if (closed) return;
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let done = 0; done < bytes.length; ) {
        try {
          done += writeSync(fd, bytes, done);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // A non-blocking descriptor (someone else's choice) that is full: wait a moment.
          if (code === 'EAGAIN') sleepSync(1);
          // Our reader has gone (`tw logs 1 | head`): nothing more to say, as cat would.
          else if (code === 'EPIPE') return void (closed = true);
          else throw e;
        }
      }
    },
    get isTTY() {
      return (tty ??= isTty(fd));
    },
    get columns() {
      return this.isTTY ? stream().columns : undefined;
    },
    get rows() {
      return this.isTTY ? stream().rows : undefined;
    },
  };
}
