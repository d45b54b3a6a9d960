// Real pipes for the child's stdio. Node's 'pipe' stdio is a socketpair, on
// which a child cannot open /dev/stdout, /dev/stderr or /dev/stdin (ENXIO:
// nodejs/node#21941), and scripts do `echo x > /dev/stderr`. Node has no
// pipe(2), so: named pipes, made by mkfifo(1), opened, and unlinked at once.
import { execFileSync } from 'node:child_process';
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

/** Pipes in `dir` (private to the store's owner), or null if mkfifo is not to be had. */
export function makePipes(dir: string, tag: string, withStdin: boolean): ChildPipes | null {
  const names = ['out', 'err', ...(withStdin ? ['in'] : [])].map((n) => join(dir, `${tag}.${n}`));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(names[0]!, { force: true });
    rmSync(names[1]!, { force: true });
    if (withStdin) rmSync(names[2]!, { force: true });
    execFileSync('mkfifo', ['-m', '600', ...names], { stdio: 'ignore' });
  } catch {
    return null;
  }
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
