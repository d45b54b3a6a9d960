// The child's I/O behind one interface. Its stdio are real pipes, named pipes
// taken from a pool (fifos.ts); our readers of them run on libuv's thread pool
// (pipe-reader.ts); what they carry goes to the task's log and, in the
// foreground, on to our own stdout and stderr (tee.ts). The launcher sees
// only this: open before the spawn, spawned after it, attach once the task is
// recorded, then closed, stop and done at the end.
import { refillPool, openPipes, takeFifos, type ChildPipes } from './fifos.js';
import { pipeHeldElsewhere } from './holders.js';
import { OutputTee, throughs } from './tee.js';
import type { LogOptions } from './log-file.js';

export { outputsShared } from './tee.js';

export interface ChildIo {
  /** The child's descriptors 0 to 3: stdin (ours, 'ignore' or our own 0), stdout, stderr, and the read end of its gate. */
  readonly childFds: [number | 'ignore', number, number, number];
  /** Our end of the gate (see ../start.ts), which the gate's owner closes. */
  readonly gate: number;
  /** Our write end of the child's stdin, when we feed it from our terminal. */
  readonly stdin: number | null;
  /** The child has its ends: close our copies of them. */
  spawned(): void;
  /** Starts reading: into the log at `logPath` (throws if it cannot be opened) and, with `through`, on to our stdout and stderr. */
  attach(logPath: string, through: boolean, warn: (message: string) => void, log?: LogOptions): void;
  /** Bytes of the oldest output the log's cap dropped. */
  readonly dropped: number;
  /** Resolves once the child's pipes are all closed (every writer gone, or reading stopped) and what they held is passed on. */
  readonly closed: Promise<void>;
  /** Output is waiting for our own reader to make room. */
  readonly writing: boolean;
  /** Stops reading: a process outside the task's group holds its output. */
  stop(): void;
  /** Some process other than this one still has the child's output pipes open for writing (or reading). */
  heldElsewhere(): boolean;
  /** Drops what our own reader has not taken yet, and stops reading. */
  abandon(): void;
  /** Resolves once everything read is written and the log is closed: to the log's size then, or null if it stopped early. */
  done(): Promise<number | null>;
  /** The last lines the child wrote to stderr; merged, to either. */
  stderrTail(lines: number): string;
  /** Never attached (the launch was refused): closes everything. */
  close(): void;
  /** The FIFO pool runs low: refill it, off the critical path. */
  refillLater(): void;
}

/**
 * Makes the child's pipes in `runDir`; null if they cannot be made (no mkfifo, say).
 * `merged`: its stdout and stderr are one pipe, as `2>&1` makes them, so that the log
 * keeps their lines in the order the child wrote them (two pipes read apart cannot).
 * For output that goes one place anyway: the log alone, or our stdout and stderr when
 * they are one file (see outputsShared).
 */
export async function openChildIo(runDir: string, stdin: 'inherit' | 'ignore' | 'pipe', merged: boolean): Promise<ChildIo | null> {
  const fifos = await takeFifos(runDir, stdin === 'pipe', merged);
  const pipes = fifos && openPipes(fifos);
  if (!pipes) return null;
  return new PipedIo(pipes, stdin, fifos.low ? runDir : null);
}

class PipedIo implements ChildIo {
  private tee: OutputTee | null = null;
  readonly childFds: ChildIo['childFds'];

  constructor(
    private readonly pipes: ChildPipes,
    stdin: 'inherit' | 'ignore' | 'pipe',
    private readonly lowPool: string | null,
  ) {
    const [input, stdout, stderr, gate] = pipes.childFds;
    this.childFds = [input ?? (stdin === 'ignore' ? 'ignore' : 0), stdout, stderr, gate];
  }

  get gate(): number {
    return this.pipes.gate;
  }

  get stdin(): number | null {
    return this.pipes.stdin;
  }

  spawned(): void {
    this.pipes.release();
  }

  attach(logPath: string, through: boolean, warn: (message: string) => void, log?: LogOptions): void {
    const tee = new OutputTee(logPath, warn, log);
    this.tee = tee;
    const [out, err] = through ? throughs() : [null, null];
    const { stdout, stderr } = this.pipes;
    if (stderr === null) return tee.attach(stdout, out, true);
    tee.attach(stdout, out, false);
    tee.attach(stderr, err, true);
  }

  get closed(): Promise<void> {
    return this.tee?.closed ?? Promise.resolve();
  }

  get dropped(): number {
    return this.tee?.dropped ?? 0;
  }

  get writing(): boolean {
    return this.tee?.writing ?? false;
  }

  stop(): void {
    this.tee?.stopReading();
  }

  heldElsewhere(): boolean {
    const { stdout, stderr } = this.pipes;
    return pipeHeldElsewhere(stderr === null ? [stdout] : [stdout, stderr]);
  }

  abandon(): void {
    this.tee?.abandon();
  }

  async done(): Promise<number | null> {
    return (await this.tee?.done()) ?? null;
  }

  stderrTail(lines: number): string {
    return this.tee?.stderrTail(lines) ?? '';
  }

  close(): void {
    this.pipes.close();
  }

  refillLater(): void {
    if (this.lowPool !== null) void refillPool(this.lowPool);
  }
}
