// Waiting on the spot, for the short waits where yielding to the event loop
// is not wanted (a full pipe about to drain, a lock about to free).
const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` milliseconds (fractions too). */
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
