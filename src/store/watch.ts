// Waking up when another process commits to the store, without a busy loop:
// fs.watch on the store's folder (the -wal file changes on every commit),
// then a few looks at the store's change counter, since the event can arrive
// before the commit is visible; a slow timer is the fallback.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Store } from './store.js';

// Up to a third of a second: a writer descheduled between its WAL write (the event) and its commit (an mmap write, no event) is still seen.
const RECHECK_MS = [0, 2, 5, 10, 20, 40, 80, 160, 320];

export class StoreWatch {
  private watcher: FSWatcher | null = null;
  private seen: number;
  private wake: (() => void) | null = null;
  private rechecks: NodeJS.Timeout[] = [];

  constructor(private readonly store: Store) {
    this.seen = store.changeCounter();
    try {
      this.watcher = watch(dirname(store.path), () => this.recheck());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = null; // the timer alone still works
    }
  }

  private recheck(): void {
    if (!this.wake || this.rechecks.length) return;
    this.rechecks = RECHECK_MS.map((ms) => setTimeout(() => this.look(), ms));
  }

  private look(): void {
    const counter = this.store.changeCounter();
    if (counter !== this.seen) this.fire();
  }

  private fire(): void {
    this.seen = this.store.changeCounter();
    for (const t of this.rechecks) clearTimeout(t);
    this.rechecks = [];
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Resolves on the next commit by another process, after `maxMs`, or when `stop` fires. */
  next(maxMs: number, stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fire(), maxMs);
      const onStop = () => this.fire();
      stop.addEventListener('abort', onStop, { once: true });
      this.wake = () => {
        clearTimeout(timer);
        stop.removeEventListener('abort', onStop);
        resolve();
      };
      this.look();
    });
  }

  close(): void {
    this.watcher?.close();
    for (const t of this.rechecks) clearTimeout(t);
  }
}
