// Watches a task's feedback file: every change is a heartbeat. Event-driven
// (fs.watch on the folder, since the file may not exist yet or be replaced),
// with a slow stat poll as the fallback for filesystems without events.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { FeedbackReader } from '../feedback/reader.js';

const COALESCE_MS = 50;

export class FeedbackWatch {
  readonly reader: FeedbackReader;
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout;
  private pending: NodeJS.Timeout | null = null;
  private lastCheck = 0;
  private slicing: NodeJS.Immediate | null = null;
  private closed = false;

  /** `reader`: made (and past what the file held before the start) before the child ran. */
  constructor(
    reader: FeedbackReader,
    pollMs: number,
    private readonly onBeat: (at: number) => void,
  ) {
    this.reader = reader;
    const path = reader.path;
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.check();
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = null; // the folder is missing or unwatchable: the poll still works
    }
    this.poller = setInterval(() => this.check(), pollMs);
    this.poller.unref();
    this.check();
  }

  /** Coalesces bursts of events (a task may rewrite its file 1000 times a second) into one read per slice. */
  private check(): void {
    if (this.pending) return;
    const wait = this.lastCheck + COALESCE_MS - Date.now();
    if (wait > 0) {
      this.pending = setTimeout(() => {
        this.pending = null;
        this.check();
      }, wait);
      return;
    }
    this.lastCheck = Date.now();
    this.read();
  }

  /** One slice of the file; the next, if the file holds more, once the loop has had a turn. */
  private read(): void {
    const result = this.reader.poll();
    if (result.changed) this.onBeat(Date.now());
    if (result.more && !this.closed) this.slicing ??= setImmediate(() => {
      this.slicing = null;
      this.read();
    });
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** A last read, taking the unterminated last line too. */
  close(): void {
    this.stopWatching();
    this.closed = true;
    clearInterval(this.poller);
    if (this.pending) clearTimeout(this.pending);
    if (this.slicing) clearImmediate(this.slicing);
    this.reader.finish();
  }
}
