// Real pipes for the child's stdio. Node's 'pipe' stdio is a socketpair, on
// which a child cannot open /dev/stdout, /dev/stderr or /dev/stdin (ENXIO:
// nodejs/node#21941), and scripts do `echo x > /dev/stderr`. Node has no
// pipe(2), so: named pipes, made by mkfifo(1), opened, and unlinked at once.
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

export interface ChildPipes {
  /** The child's ends, for spawn's stdio: [stdin or null, stdout, stderr]. */
  childFds: [number | null, number, number];
  stdout: Socket;
  stderr: Socket;
  stdin: Socket | null;
  /** Closes our copies of the child's ends, once it has them. */
  release(): void;
}

/**
 * Makes the named pipes in `dir` (private to the store's owner) with one
 * mkfifo, in the background: the caller opens the store meanwhile. Resolves to
 * their paths, or null if mkfifo is not to be had.
 */
export function makeFifos(dir: string, tag: string, withStdin: boolean): Promise<string[] | null> {
  const names = ['out', 'err', ...(withStdin ? ['in'] : [])].map((n) => join(dir, `${tag}.${n}`));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of names) rmSync(name, { force: true });
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const mkfifo = spawn('mkfifo', ['-m', '600', ...names], { stdio: 'ignore' });
    mkfifo.on('error', () => resolve(null));
    mkfifo.on('exit', (code) => resolve(code === 0 ? names : null));
  });
}

/** Removes pipes that will not be used (the launch was refused). */
export async function discardFifos(fifos: Promise<string[] | null>): Promise<void> {
  for (const name of (await fifos) ?? []) rmSync(name, { force: true });
}

/** Opens the pipes made by makeFifos, and unlinks them at once. */
export function openPipes(names: string[]): ChildPipes | null {
  const withStdin = names.length === 3;
  const opened: number[] = [];
  const open = (path: string, flags: number) => {
    const fd = openSync(path, flags);
    opened.push(fd);
    return fd;
  };
  try {
    // Our read end first, non-blocking (no writer yet); then the child's write end, blocking, as a child expects.
    const outRead = open(names[0]!, constants.O_RDONLY | constants.O_NONBLOCK);
    const outWrite = open(names[0]!, constants.O_WRONLY);
    const errRead = open(names[1]!, constants.O_RDONLY | constants.O_NONBLOCK);
    const errWrite = open(names[1]!, constants.O_WRONLY);
    // stdin: our end opened read-write (never blocks on Linux), then the child's blocking read end.
    const inWrite = withStdin ? open(names[2]!, constants.O_RDWR) : null;
    const inRead = withStdin ? open(names[2]!, constants.O_RDONLY) : null;
    return {
      childFds: [inRead, outWrite, errWrite],
      stdout: new Socket({ fd: outRead, readable: true, writable: false }),
      stderr: new Socket({ fd: errRead, readable: true, writable: false }),
      stdin: inWrite === null ? null : new Socket({ fd: inWrite, readable: false, writable: true }),
      release: () => [outWrite, errWrite, ...(inRead === null ? [] : [inRead])].forEach((fd) => closeSync(fd)),
    };
  } catch {
    opened.forEach((fd) => closeSync(fd));
    return null;
  } finally {
    for (const name of names) rmSync(name, { force: true });
  }
}
