// The heartbeat and the timeout of one running task: heartbeats are kept in
// memory at once and written to the store at most once a second; one timer
// stands for the next deadline and is re-armed only when it fires early.
import { formatDuration } from '../core/duration.js';
import type { Heartbeat } from '../store/store.js';
import { FeedbackWatch } from './feedback-watch.js';
import type { FeedbackReader } from '../feedback/reader.js';

const HEARTBEAT_WRITE_MS = 1000;
/** setTimeout's limit (about 24.8 days); a later deadline is reached by re-arming. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchdogOptions {
  feedback: FeedbackReader | null;
  timeoutMs: number | null;
  startedAt: number;
  writeHeartbeat(beat: Heartbeat): void;
  /** Called once, with the reason, when the deadline passes. */
  onTimeout(text: string): void;
}

export class Watchdog {
  private lastBeat: number;
  private lastWrite = 0;
  private writeTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private readonly watch: FeedbackWatch | null;

  constructor(private readonly o: WatchdogOptions) {
    this.lastBeat = o.startedAt;
    const pollMs = Math.min(1000, Math.max(50, (o.timeoutMs ?? 10_000) / 10));
    this.watch = o.feedback ? new FeedbackWatch(o.feedback, pollMs, (at) => this.beat(at)) : null;
    if (o.timeoutMs) this.arm(o.timeoutMs);
  }

  private beat(at: number): void {
    this.lastBeat = at;
    this.writeTimer ??= setTimeout(() => this.write(), Math.max(0, this.lastWrite + HEARTBEAT_WRITE_MS - Date.now()));
  }

  private write(): void {
    this.writeTimer = null;
    this.lastWrite = Date.now();
    const reader = this.watch!.reader;
    this.o.writeHeartbeat({ at: this.lastBeat, progress: reader.progress, feedback: reader.values, ignoredLines: reader.ignored });
  }

  private arm(timeoutMs: number): void {
    // With a feedback file the deadline moves with each heartbeat; without, it is a wall-clock limit.
    const deadline = () => (this.watch ? this.lastBeat : this.o.startedAt) + timeoutMs;
    this.deadlineTimer = setTimeout(() => {
      if (Date.now() < deadline()) return this.arm(timeoutMs);
      this.o.onTimeout(
        this.watch
          ? `killed after ${formatDuration(Date.now() - this.lastBeat)} without heartbeat (timeout ${formatDuration(timeoutMs)})`
          : `killed after its time limit of ${formatDuration(timeoutMs)}`,
      );
    }, Math.min(MAX_TIMER_MS, Math.max(0, deadline() - Date.now())));
  }

  /** At the child's exit: no more deadlines or heartbeat writes. */
  stop(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.writeTimer) clearTimeout(this.writeTimer);
  }

  /** Reads the feedback file one last time; returns its reader, if any. */
  close(): FeedbackReader | null {
    this.stop();
    this.watch?.close();
    return this.watch?.reader ?? null;
  }
}
