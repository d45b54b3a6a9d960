// Real pipes for the child's stdio. Node's 'pipe' stdio is a socketpair, on
// which a child cannot open /dev/stdout, /dev/stderr or /dev/stdin (ENXIO:
// nodejs/node#21941), and scripts do `echo x > /dev/stderr`. Node has no
// pipe(2), so: named pipes, opened by both ends and unlinked at once.
//
// Node has no mkfifo(3) either: making one forks mkfifo(1), about 4 ms on the
// launch's critical path. So FIFOs are made ahead, a batch at a time, into a
// pool beside the store. A launch takes its own out of the pool by rename
// (atomic: two launchers never get the same one); when the pool runs low, the
// launch refills it once its child has started, off the critical path.
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolders } from '../../core/files.js';
import { processExists } from '../proc.js';
import { spawnProcess } from '../spawn.js';

/** FIFOs made per refill (two launches' worth: no more lie in the store's folder than needed), and the count below which a launch refills. */
const BATCH = 8;
const LOW = 4;
const REFILL_EVERY_MS = 2000;

export interface ChildPipes {
  /** The child's ends, for its descriptors 0 to 3: [stdin or null, stdout, stderr, the gate]. */
  childFds: [number | null, number, number, number];
  /** Our read ends (blocking) of its stdout and stderr; stderr null when it is the stdout pipe too (see openChildIo). */
  stdout: number;
  stderr: number | null;
  /** Our write end of its stdin, when we feed it. */
  stdin: number | null;
  /** Our end of the gate (see start.ts). */
  gate: number;
  /** Closes our copies of the child's ends, once it has them. */
  release(): void;
  /** Closes everything (the child will not run). */
  close(): void;
}

export interface Fifos {
  /** Ours alone: out, gate, then err (unless merged) and in (with stdin). */
  names: string[];
  merged: boolean;
  withStdin: boolean;
  /** The pool is running low: refill it (refillPool) when there is time. */
  low: boolean;
}

/** Takes the FIFOs for this launch from the pool in `runDir`, or makes them; `merged`: no pipe of its own for stderr. Null if mkfifo is not to be had. */
export async function takeFifos(runDir: string, withStdin: boolean, merged: boolean): Promise<Fifos | null> {
  const pool = join(runDir, 'pool');
  const names = ['out', 'gate', ...(merged ? [] : ['err']), ...(withStdin ? ['in'] : [])].map((n) => join(runDir, `${process.pid}.${n}`));
  let entries: string[];
  try {
    entries = readdirSync(pool);
  } catch {
    entries = [];
  }
  let got = 0;
  for (const entry of entries) {
    if (got === names.length) break;
    try {
      renameSync(join(pool, entry), names[got]!); // replaces a stale one of a dead launcher that had our pid
      got++;
    } catch {
      // taken by another launch meanwhile
    }
  }
  if (got === names.length) return { names, merged, withStdin, low: entries.length - got < LOW };
  // Not enough: make the rest and a batch for the pool with one mkfifo.
  const rest = names.slice(got);
  try {
    makeFolders(pool);
    rest.forEach(unlink);
  } catch {
    return null;
  }
  return (await mkfifo([...rest, ...(mayRefill(runDir) ? batch(pool) : [])])) ? { names, merged, withStdin, low: false } : null;
}

/**
 * Whether this launch is the one to refill the pool: a burst of launches that
 * all find it low would each add a batch. One refill per REFILL_EVERY_MS,
 * marked by the time of run/pool.refill (a rare race only adds a batch more).
 */
function mayRefill(runDir: string): boolean {
  const marker = join(runDir, 'pool.refill');
  try {
    closeSync(openSync(marker, 'wx', 0o600));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(marker).mtimeMs < REFILL_EVERY_MS) return false;
      const now = new Date();
      utimesSync(marker, now, now);
    } catch {
      // no marker to be had: refill anyway
    }
    return true;
  }
}

/**
 * Adds a batch of FIFOs to the pool in the background; nothing waits for it.
 * Meanwhile it removes what launchers killed between taking their FIFOs and
 * opening them left behind.
 */
export async function refillPool(runDir: string): Promise<void> {
  if (!mayRefill(runDir)) return;
  const made = await spawnProcess(mkfifoSpec(batch(join(runDir, 'pool'))));
  if ('pid' in made) made.unref();
  try {
    for (const entry of readdirSync(runDir)) {
      const pid = /^(\d+)\.(?:out|err|gate|in)$/.exec(entry)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && !processExists(Number(pid))) unlink(join(runDir, entry));
    }
  } catch {
    // a tidy-up only: another launcher may be at it too
  }
}


/** mkfifo(1) where coreutils puts it, so that a launch under a bare PATH (cron, systemd) finds it; else as PATH says. */
let mkfifoPath: string | undefined;
const mkfifoFile = (): string => (mkfifoPath ??= ['/usr/bin/mkfifo', '/bin/mkfifo'].find((path) => existsSync(path)) ?? 'mkfifo');

const mkfifoSpec = (names: string[]) => ({ file: mkfifoFile(), args: ['-m', '600', ...names], env: process.env, cwd: '/', stdio: ['ignore' as const, 'ignore' as const, 'ignore' as const], detached: true });

const batch = (pool: string): string[] => {
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  return Array.from({ length: BATCH }, (_, i) => join(pool, `${tag}-${i}`));
};

/** Resolves to whether mkfifo made the first of `names` (the pool's batch may fail alone). */
async function mkfifo(names: string[]): Promise<boolean> {
  const made = await spawnProcess(mkfifoSpec(names));
  if (!('pid' in made)) return false;
  return (await made.exited).code === 0 || isFifo(names[0]!);
}

function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/** Removes FIFOs that will not be used (the launch was refused). */
export function discardFifos(fifos: Fifos | null): void {
  fifos?.names.forEach(unlink);
}

/** Removes a path if it is there (rmSync would load node's rimraf for it). */
function unlink(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Opens the FIFOs of takeFifos, and unlinks them at once. */
export function openPipes(fifos: Fifos): ChildPipes | null {
  const [out, gate, ...more] = fifos.names as [string, string, ...string[]];
  const err = fifos.merged ? undefined : more.shift();
  const input = fifos.withStdin ? more.shift() : undefined;
  const opened: number[] = [];
  const uid = process.getuid?.() ?? -1;
  const open = (path: string, flags: number) => {
    const fd = openSync(path, flags | constants.O_NOFOLLOW);
    opened.push(fd);
    // Only a FIFO of ours (the folder is private; this is the second lock on the door).
    const stat = fstatSync(fd);
    if (!stat.isFIFO() || stat.uid !== uid) throw new Error(`${path} is not a FIFO of ours`);
    return fd;
  };
  try {
    // Each pipe: our read end opened first, non-blocking (no writer yet); the child's write end,
    // blocking, as a child expects; then our read end again, blocking now (see pipe-reader.ts).
    const pipe = (path: string): [number, number] => {
      const first = open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const write = open(path, constants.O_WRONLY);
      const read = open(path, constants.O_RDONLY);
      closeSync(opened.splice(opened.indexOf(first), 1)[0]!);
      return [read, write];
    };
    const [outRead, outWrite] = pipe(out);
    // Merged: the child's stderr is its stdout pipe, as `2>&1` makes it.
    const [errRead, errWrite] = err === undefined ? [null, outWrite] : pipe(err);
    // Where the child reads: our end opened read-write (never blocks on Linux), then the child's blocking read end.
    const gateWrite = open(gate, constants.O_RDWR);
    const gateRead = open(gate, constants.O_RDONLY);
    const inWrite = input === undefined ? null : open(input, constants.O_RDWR);
    const inRead = input === undefined ? null : open(input, constants.O_RDONLY);
    const childFds: ChildPipes['childFds'] = [inRead, outWrite, errWrite, gateRead];
    let released = false;
    const release = () => {
      if (!released) new Set(childFds).forEach((fd) => fd !== null && closeSync(fd));
      released = true;
    };
    return {
      childFds,
      stdout: outRead,
      stderr: errRead,
      stdin: inWrite,
      gate: gateWrite,
      release,
      close: () => {
        release();
        [outRead, errRead, inWrite].forEach((fd) => fd !== null && closeSync(fd));
      },
    };
  } catch {
    opened.forEach((fd) => closeSync(fd));
    return null;
  } finally {
    discardFifos(fifos);
  }
}
