// Watches a task's feedback file: every change is a heartbeat. Event-driven
// (fs.watch on the folder, since the file may not exist yet or be replaced),
// with a slow stat poll as the fallback for filesystems without events.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { FeedbackReader } from '../feedback/reader.js';

export class FeedbackWatch {
  readonly reader: FeedbackReader;
  private watcher: FSWatcher | null = null;
  private poller: NodeJS.Timeout;

  constructor(
    path: string,
    pollMs: number,
    private readonly onBeat: (at: number) => void,
  ) {
    this.reader = new FeedbackReader(path);
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

  private check(): void {
    if (this.reader.poll().changed) this.onBeat(Date.now());
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /** A last read, taking the unterminated last line too. */
  close(): void {
    this.stopWatching();
    clearInterval(this.poller);
    this.reader.finish();
  }
}
